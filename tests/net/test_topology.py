"""nvidia-smi topo -m matrices in the tool's format, and the course's reference reading of them."""

from __future__ import annotations

import pytest

from labkit.net.topology import (
    LEGEND,
    NEAREST_FIRST,
    TOPO_HGX,
    TOPO_PCIE,
    _gdr_nic,
    _path_between,
    _render_topo,
    course_gdr_plan,
    gdr_plan,
)


@pytest.mark.parametrize("text", [TOPO_HGX, TOPO_PCIE], ids=["hgx", "pcie"])
def test_format_is_nvidia_smis(text):
    header, first = text.splitlines()[:2]
    assert header.startswith("\tGPU0\t")
    assert header.endswith("\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID")
    assert first.startswith("GPU0\t X \t")
    assert first.endswith("\t0\t\tN/A")
    assert LEGEND in text and "\nNIC Legend:\n\n  NIC0: mlx5_" in text


@pytest.mark.parametrize("text", [TOPO_HGX, TOPO_PCIE], ids=["hgx", "pcie"])
def test_matrix_is_symmetric_with_known_labels(text):
    names = [n for n in text.splitlines()[0].split("\t") if n.startswith(("GPU", "NIC")) and " " not in n]
    for a in names:
        for b in names:
            label = _path_between(text, a, b)
            assert label == _path_between(text, b, a)
            assert ("NV#" if label.startswith("NV") else label) in NEAREST_FIRST
            assert (label == "X") == (a == b)


@pytest.mark.parametrize(("text", "a", "b", "expected"), [
    (TOPO_HGX, "GPU0", "GPU5", "NV18"),
    (TOPO_HGX, "GPU0", "NIC0", "PIX"),
    (TOPO_HGX, "NIC0", "GPU1", "PXB"),
    (TOPO_HGX, "GPU2", "NIC0", "NODE"),
    (TOPO_HGX, "GPU4", "NIC3", "SYS"),
    (TOPO_HGX, "mlx5_8", "mlx5_9", "PIX"),
    (TOPO_HGX, "GPU6", "mlx5_7", "PXB"),
    (TOPO_PCIE, "GPU0", "GPU1", "PIX"),
    (TOPO_PCIE, "GPU1", "GPU2", "SYS"),
    (TOPO_PCIE, "GPU0", "NIC0", "NODE"),
    (TOPO_PCIE, "mlx5_bond_0", "GPU3", "SYS"),
])
def test_path_between(text, a, b, expected):
    assert _path_between(text, a, b) == expected


@pytest.mark.parametrize("device", ["GPU8", "NIC10", "mlx5_10", "gpu0", "", "CPU Affinity"])
def test_unknown_device_is_named(device):
    with pytest.raises(ValueError, match="is not in the matrix"):
        _path_between(TOPO_HGX, "GPU0", device)


def test_gdr_nic_nearest_pix_or_pxb():
    assert [_gdr_nic(TOPO_HGX, f"GPU{i}") for i in range(8)] == [f"NIC{i}" for i in range(8)]
    assert [_gdr_nic(TOPO_PCIE, f"GPU{i}") for i in range(4)] == [None] * 4


def test_gdr_nic_pxb_counts_and_ties_go_to_the_first():
    names = ["GPU0", "NIC0", "NIC1"]
    cells = [["X", "PXB", "PXB"], ["PXB", "X", "PIX"], ["PXB", "PIX", "X"]]
    text = _render_topo(names, cells, {"GPU0": ("0-7", "0")}, {"NIC0": "mlx5_0", "NIC1": "mlx5_1"})
    assert _gdr_nic(text, "GPU0") == "NIC0"
    phb = text.replace("PXB", "PHB")
    assert _gdr_nic(phb, "GPU0") is None


def test_no_nic_means_no_gdr():
    text = _render_topo(["GPU0", "GPU1"], [["X", "NV4"], ["NV4", "X"]],
                        {"GPU0": ("0-7", "0"), "GPU1": ("0-7", "0")}, {})
    assert "NIC Legend" not in text
    assert _gdr_nic(text, "GPU1") is None
    assert _path_between(text, "GPU1", "GPU0") == "NV4"


def test_the_course_plan_is_gdr_plan_of_the_two_matrices():
    plan = course_gdr_plan()
    assert list(plan) == ["TOPO_HGX", "TOPO_PCIE"] and len(plan["TOPO_HGX"]) == 8
    assert plan["TOPO_HGX"][0].startswith("  GPU0 -> NIC0 (PIX): GPUDirect RDMA")
    assert plan["TOPO_PCIE"][2].startswith("  GPU2 -> no NIC within PXB (NIC0 SYS)")
    assert plan["TOPO_PCIE"] == gdr_plan(TOPO_PCIE, _path_between, _gdr_nic)
    # gdr_plan only formats what the readers it is given return
    assert gdr_plan(TOPO_PCIE, lambda t, a, b: "PIX", lambda t, g: "NIC0")[0] == (
        "  GPU0 -> NIC0 (PIX): GPUDirect RDMA, NIC to GPU memory directly")
