"""labkit.sharing.vgpu: the C-series catalog (ref k8s_vgpu §1.2) and the placement rules (§1.3)."""

from __future__ import annotations

import pytest

from labkit.mig.catalog import get_profile
from labkit.sharing.vgpu import (
    BOARDS,
    PROFILES,
    VgpuPlacementError,
    board_profiles,
    check_packing,
    get_vgpu_profile,
)
from tests.sharing.packing_reference import pack_vms


@pytest.mark.parametrize(
    ("name", "mig", "fb", "equal", "mixed", "gi"),
    [
        pytest.param("A100-7-40C", True, 40960, 1, 1, "7g.40gb", id="A100-7-40C"),
        pytest.param("A100-1-5C", True, 5120, 7, 7, "1g.5gb", id="A100-1-5C"),
        pytest.param("A100-1-5CME", True, 5120, 1, 1, "1g.5gb+me", id="A100-1-5CME"),
        pytest.param("A100-8C", False, 8192, 5, 4, None, id="A100-8C-equal-5-mixed-4"),
        pytest.param("A100-4C", False, 4096, 10, 8, None, id="A100-4C-equal-10-mixed-8"),
        pytest.param("A100X-2-10C", True, 10240, 3, 3, "2g.10gb", id="A100X-hgx-same-numbers"),
        pytest.param("A100D-16C", False, 16384, 5, 4, None, id="A100D-16C-allows-5"),
        pytest.param("A100D-4C", False, 4096, 20, 16, None, id="A100D-4C"),
        pytest.param("A100DX-1-10C", True, 10240, 7, 7, "1g.10gb", id="A100DX-1-10C"),
        pytest.param("H100-16C", False, 16384, 5, 4, None,
                     id="H100-16C-printed-6-but-the-frame-buffer-holds-5"),
        pytest.param("H100-5C", False, 5120, 16, 16, None, id="H100-has-5C"),
        pytest.param("H100-80C", False, 81920, 1, 1, None, id="H100-80C-typo-fixed"),
        pytest.param("H100XM-3-40C", True, 40960, 2, 2, "3g.40gb", id="H100XM-3-40C"),
        pytest.param("H200-1-18CME", True, 18432, 1, 1, "1g.18gb+me", id="H200-1-18CME"),
        pytest.param("H200-4C", False, 4096, 32, 32, None, id="H200-4C"),
    ],
)
def test_catalog_rows(name, mig, fb, equal, mixed, gi):
    p = get_vgpu_profile(name)
    assert (p.mig_backed, p.framebuffer_mb, p.max_equal, p.max_mixed, p.gi_profile) == (
        mig, fb, equal, mixed, gi)


def test_a100_80gb_has_no_5c_profile():
    assert "A100D-5C" not in PROFILES and "H100-5C" in PROFILES


@pytest.mark.parametrize("board", list(BOARDS))
def test_mig_backed_rows_follow_the_mig_catalog(board):
    """A MIG-backed vGPU's max per GPU is its GPU instance profile's max count (labkit.mig)."""
    for p in board_profiles(board):
        if p.mig_backed:
            gi = get_profile(p.model, p.gi_profile)
            assert p.max_equal == gi.max_count, p.name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("A100-3C", "'A100-3C' is not a C-series vGPU profile (valid: A100-7-40C",
                     id="unknown-size"),
        pytest.param("B200-10C", "(valid: A100, A100X", id="unknown-board"),
    ],
)
def test_unknown_profiles(name, message):
    with pytest.raises(VgpuPlacementError, match=message.replace("(", r"\(")):
        get_vgpu_profile(name)


def test_grid_prefix_as_nvidia_smi_prints_it_in_the_guest():
    assert get_vgpu_profile("GRID A100X-2-10C").name == "A100X-2-10C"


@pytest.mark.parametrize(
    ("requests", "assignment", "gpus", "mode", "problems"),
    [
        pytest.param(["A100-20C", "A100-10C"], {"vm-0": 0, "vm-1": 0}, 1, "equal-size",
                     ["GPU 0 mixes A100-10C, A100-20C: in equal-size mode every time-sliced vGPU "
                      "on a GPU has the same profile"], id="equal-size-one-profile-per-gpu"),
        pytest.param(["A100-20C"] * 3, {"vm-0": 0, "vm-1": 0, "vm-2": 0}, 1, "equal-size",
                     ["GPU 0 holds 3 x A100-20C: at most 2 per GPU in equal-size mode"],
                     id="over-the-max"),
        pytest.param(["A100-8C"] * 5, {f"vm-{i}": 0 for i in range(5)}, 1, "mixed-size",
                     ["GPU 0 holds 5 x A100-8C: at most 4 per GPU in mixed-size mode"],
                     id="mixed-size-max-is-lower"),
        pytest.param(["A100-20C", "A100-10C", "A100-10C", "A100-4C"],
                     {"vm-0": 0, "vm-1": 0, "vm-2": 0, "vm-3": 0}, 1, "mixed-size",
                     ["GPU 0 holds 45056 MB of frame buffer, more than the GPU's 40960 MB"],
                     id="mixed-size-frame-buffer-cap"),
        pytest.param(["A100-3-20C", "A100-10C"], {"vm-0": 0, "vm-1": 0}, 1, "equal-size",
                     ["GPU 0 mixes MIG-backed and time-sliced vGPUs: a GPU is either in MIG "
                      "mode or not"], id="mig-and-time-sliced"),
        pytest.param(["A100-20C", "H100-20C"], {"vm-0": 0, "vm-1": 0}, 1, "equal-size",
                     ["GPU 0 holds vGPUs of several boards (A100, H100)"], id="two-boards"),
        pytest.param(["A100-20C"], {}, 1, "equal-size", ["VM 'vm-0' is not placed"],
                     id="vm-left-out"),
        pytest.param(["A100-20C"], {"vm-0": 3}, 2, "equal-size",
                     ["VM 'vm-0' is on GPU 3, not one of 0..1"], id="gpu-out-of-range"),
        pytest.param(["A100-3-20C", "A100-4-20C"], {"vm-0": 0, "vm-1": 0}, 1, "equal-size", [],
                     id="mig-4g-plus-3g-fits"),
        pytest.param(["A100-20C", "A100-10C", "A100-8C"], {"vm-0": 0, "vm-1": 0, "vm-2": 0}, 1,
                     "mixed-size", [], id="mixed-size-allows-different-sizes"),
    ],
)
def test_check_packing(requests, assignment, gpus, mode, problems):
    assert check_packing(requests, assignment, gpus, mode) == problems


def test_check_packing_explains_a_mig_layout_that_does_not_fit():
    problems = check_packing(["A100-3-20C", "A100-3-20C", "A100-1-5C"],
                             {"vm-0": 0, "vm-1": 0, "vm-2": 0}, 1)
    assert len(problems) == 1
    assert problems[0].startswith("GPU 0: the GPU instances of A100-1-5C, A100-3-20C, "
                                  "A100-3-20C do not fit one GPU")


@pytest.mark.parametrize(
    ("requests", "gpus", "mode"),
    [
        pytest.param(["A100-20C", "A100-20C", "A100-10C"], 2, "equal-size", id="two-gpus"),
        pytest.param({"web": "A100-3-20C", "etl": "A100-3-20C", "ci": "A100-1-5C",
                      "train": "A100-40C"}, 3, "equal-size", id="mig-and-time-sliced-gpus"),
        pytest.param(["A100-4-20C", "A100-2-10C", "A100-1-5C"], 1, "equal-size",
                     id="documented-mixed-mig-set"),
        pytest.param(["H100-16C"] * 5, 1, "equal-size", id="h100-16c-five-per-gpu"),
        pytest.param(["A100-20C", "A100-10C", "A100-8C"], 1, "mixed-size", id="mixed-size"),
        # the inputs Lab 03's hidden test of Exercise 4 expects to fit
        pytest.param({f"vm{i}": "A100-4C" for i in range(10)} | {"big": "A100-40C"}, 2,
                     "equal-size", id="lab03-hidden-a100-4c"),
        pytest.param({f"vm{i}": "A100D-8C" for i in range(10)}, 1, "equal-size",
                     id="lab03-hidden-a100d-8c"),
        pytest.param({"x": "H100-80C", "y": "H100-80C", "z": "H100-5C"}, 3, "equal-size",
                     id="lab03-hidden-h100"),
    ],
)
def test_pack_vms_finds_a_valid_packing(requests, gpus, mode):
    packing = pack_vms(requests, gpus, mode)
    assert check_packing(requests, packing.assignment(), gpus, mode) == []


@pytest.mark.parametrize(
    ("requests", "gpus", "message"),
    [
        pytest.param(["A100-20C"] * 3 + ["A100-10C"], 2,
                     "the 4 VM request(s) do not fit 2 GPU(s) in equal-size mode: they need at "
                     "least 3 GPUs: A100-10C x 1: 1 GPU(s) (at most 4 per GPU); A100-20C x 3: 2 "
                     "GPU(s) (at most 2 per GPU)", id="time-sliced-needs-three"),
        pytest.param(["A100-4-20C", "A100-4-20C", "A100-7-40C"], 2,
                     "the 3 VM request(s) do not fit 2 GPU(s) in equal-size mode: they need at "
                     "least 3 GPUs: MIG-backed A100-4-20C x 2, A100-7-40C x 1: 3 GPU(s) for "
                     "their GPU instances", id="mig-backed-needs-three"),
        pytest.param(["H100-16C"] * 6, 1, "H100-16C x 6: 2 GPU(s) (at most 5 per GPU)",
                     id="six-h100-16c"),
    ],
)
def test_pack_vms_explains_why_not(requests, gpus, message):
    with pytest.raises(VgpuPlacementError) as info:
        pack_vms(requests, gpus)
    assert message in str(info.value)


def test_pack_vms_keeps_request_order_per_gpu():
    packing = pack_vms({"a": "A100-10C", "b": "A100-20C", "c": "A100-10C"}, 2)
    assert packing.assignment() == {"a": 1, "b": 0, "c": 1}
    assert [vm for vm, _ in packing.gpus[1].vms] == ["a", "c"]


def test_h100_16c_keeps_nvidia_printed_figure_beside_the_frame_buffer_bound():
    """[V1] prints 6 x H100-16C per GPU; 6 x 16384 MB exceed the 81920 MB card, so 5."""
    p = get_vgpu_profile("H100-16C")
    assert (p.max_equal, p.printed_max_equal) == (5, 6)
    assert get_vgpu_profile("H100XM-16C").printed_max_equal == 6
    corrected = [q.name for q in PROFILES.values() if q.printed_max_equal]
    assert corrected == ["H100-16C", "H100XM-16C"]
    for q in PROFILES.values():
        if not q.mig_backed:
            full = max(r.framebuffer_mb for r in board_profiles(q.board))
            assert q.max_equal * q.framebuffer_mb <= full, q.name
