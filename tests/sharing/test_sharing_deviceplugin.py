"""labkit.sharing.deviceplugin: config rules and what a node advertises (ref mig.md §4)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from labkit.sharing.deviceplugin import (
    SharingConfigError,
    advertise,
    allocate_error,
    check_config,
    load_helm_values,
    mig_resource_name,
    parse_config,
    product_label,
)

ROOT = Path(__file__).resolve().parents[2]


def ts(replicas=4, name="nvidia.com/gpu", **extra) -> dict:
    block = {"resources": [{"name": name, "replicas": replicas}], **extra}
    return {"version": "v1", "sharing": {"timeSlicing": block}}


def mps(replicas=4, name="nvidia.com/gpu", strategy="none") -> dict:
    return {"version": "v1", "flags": {"migStrategy": strategy},
            "sharing": {"mps": {"resources": [{"name": name, "replicas": replicas}]}}}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        pytest.param(ts(replicas=1), "sharing.timeSlicing.resources[0]: number of replicas must "
                     "be >= 2", id="one-replica-is-not-sharing"),
        pytest.param({"version": "v1", "sharing": {"timeSlicing": {"resources": [
            {"name": "nvidia.com/gpu"}]}}}, "sharing.timeSlicing.resources[0]: no replicas "
                     "specified", id="replicas-missing"),
        pytest.param({"version": "v1", "sharing": {"timeSlicing": {"resources": [
            {"replicas": 2}]}}}, "sharing.timeSlicing.resources[0]: no resource name specified",
                     id="name-missing"),
        pytest.param({"version": "v1", "sharing": {"timeSlicing": {"resources": []}}},
                     "sharing.timeSlicing: no resources specified", id="no-resources"),
        pytest.param(ts(replicas="4"), "sharing.timeSlicing.resources[0].replicas: '4' is not an "
                     "integer", id="replicas-as-string"),
        pytest.param({**ts(), "flags": {"migStrategy": "double"}}, "unknown MIG strategy: double",
                     id="unknown-mig-strategy"),
        pytest.param({"version": "v1", "sharing": {**ts()["sharing"], **mps()["sharing"]}},
                     "sharing: timeSlicing and mps are both set; \"Time-slicing and MPS are "
                     "mutually exclusive.\" (device plugin README)", id="both-sharing-methods"),
        pytest.param(mps(strategy="mixed"), "using --mig-strategy=mixed is not supported with MPS",
                     id="mps-with-mixed-strategy"),
        pytest.param(mps(name="nvidia.com/mig-1g.5gb"), "sharing.mps.resources[0].name: "
                     "'nvidia.com/mig-1g.5gb': \"the only supported resource available for MPS "
                     "are nvidia.com/gpu resources and only with full GPUs\" (README)",
                     id="mps-on-a-mig-device"),
        pytest.param(ts(name="nvidia.com/mig-1g.5gb"), "sharing.timeSlicing.resources[0].name: "
                     "'nvidia.com/mig-1g.5gb' exists only with flags.migStrategy: mixed (this "
                     "config has 'none'), so nothing would be shared", id="mig-name-without-mixed"),
        pytest.param(ts(name="nvidia.com/gpus"), "sharing.timeSlicing.resources[0].name: "
                     "'nvidia.com/gpus' is not a device-plugin resource (nvidia.com/gpu or "
                     "nvidia.com/mig-<G>g.<GB>gb)", id="misspelt-resource"),
        pytest.param(ts(renamByDefault=True), "unknown field 'sharing.timeSlicing.renamByDefault' "
                     "(valid: failRequestsGreaterThanOne, renameByDefault, resources)",
                     id="misspelt-renameByDefault"),
        pytest.param({**ts(), "version": "v2"}, "version: got 'v2', expected 'v1'",
                     id="wrong-version"),
    ],
)
def test_check_config_errors(config, error):
    errors, _ = check_config(config)
    assert error in errors


def test_parse_config_raises_with_every_problem():
    with pytest.raises(SharingConfigError) as info:
        parse_config({"version": "v1", "flags": {"migStrategy": "x"},
                      "sharing": {"timeSlicing": {"resources": [{"replicas": 1}]}}})
    assert len(info.value.problems) == 3
    assert "unknown MIG strategy: x" in str(info.value)


def test_custom_rename_is_a_warning_not_an_error():
    errors, warnings = check_config(ts() | {"sharing": {"timeSlicing": {"resources": [
        {"name": "nvidia.com/gpu", "replicas": 2, "rename": "x"}]}}})
    assert errors == []
    assert warnings == ["sharing.timeSlicing.resources[0]: a custom 'rename' or 'devices' is "
                        "ignored by the plugin (with a warning)"]


@pytest.mark.parametrize(
    ("model", "gpus", "config", "capacity", "labels"),
    [
        pytest.param("T4", 4, ts(4), {"nvidia.com/gpu": 16},
                     {"nvidia.com/gpu.count": "4", "nvidia.com/gpu.product": "Tesla-T4-SHARED",
                      "nvidia.com/gpu.replicas": "4",
                      "nvidia.com/gpu.sharing-strategy": "time-slicing"},
                     id="gpu-operator-doc-t4x4-replicas4"),
        pytest.param("T4", 4, ts(4, renameByDefault=True),
                     {"nvidia.com/gpu": 0, "nvidia.com/gpu.shared": 16},
                     {"nvidia.com/gpu.count": "4", "nvidia.com/gpu.product": "Tesla-T4",
                      "nvidia.com/gpu.replicas": "4"}, id="gpu-operator-doc-renamed"),
        pytest.param("A100-SXM4-40GB", 8, ts(10), {"nvidia.com/gpu": 80},
                     {"nvidia.com/gpu.count": "8"}, id="readme-8-gpus-replicas-10"),
        pytest.param("A100-SXM4-40GB", 8, ts(10, renameByDefault=True),
                     {"nvidia.com/gpu": 0, "nvidia.com/gpu.shared": 80}, {},
                     id="readme-renamed-80-shared"),
        pytest.param("A100-SXM4-40GB", 1, mps(2), {"nvidia.com/gpu": 2},
                     {"nvidia.com/gpu.sharing-strategy": "mps", "nvidia.com/mps.capable": "true",
                      "nvidia.com/gpu.replicas": "2", "nvidia.com/gpu.count": "1"},
                     id="mps-replicas-2-resource-test"),
        pytest.param("A100-SXM4-40GB", 2, None, {"nvidia.com/gpu": 2},
                     {"nvidia.com/gpu.sharing-strategy": "none", "nvidia.com/gpu.replicas": "1",
                      "nvidia.com/mps.capable": "false",
                      "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB"}, id="no-sharing"),
    ],
)
def test_advertise_sharing(model, gpus, config, capacity, labels):
    node = advertise(model, gpus, sharing=parse_config(config) if config else None)
    assert node.capacity == capacity
    assert labels.items() <= node.labels.items()


@pytest.mark.parametrize(
    ("model", "strategy", "layout", "capacity", "labels"),
    [
        pytest.param("H100-SXM5-80GB", "mixed", ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"],
                     {"nvidia.com/mig-1g.10gb": 2, "nvidia.com/mig-2g.20gb": 1,
                      "nvidia.com/mig-3g.40gb": 1},
                     {"nvidia.com/gpu.count": "1", "nvidia.com/gpu.replicas": "0",
                      "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
                      "nvidia.com/mig.strategy": "mixed", "nvidia.com/mig-1g.10gb.count": "2",
                      "nvidia.com/gpu.memory": "81559"}, id="gpu-operator-h100-all-balanced"),
        pytest.param("H100-SXM5-80GB", "single", ["1g.10gb"] * 7, {"nvidia.com/gpu": 7},
                     {"nvidia.com/gpu.count": "7",
                      "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3-MIG-1g.10gb",
                      "nvidia.com/mig.strategy": "single"}, id="gpu-operator-h100-all-1g.10gb"),
        pytest.param("H100-SXM5-80GB", "single", ["3g.40gb"] * 2, {"nvidia.com/gpu": 2},
                     {"nvidia.com/gpu.count": "2", "nvidia.com/gpu.replicas": "1",
                      "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3-MIG-3g.40gb"},
                     id="gpu-operator-h100-all-3g.40gb"),
        pytest.param("A100-SXM4-40GB", "single", ["3g.20gb", "2g.10gb"], {"nvidia.com/gpu": 0},
                     {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB-MIG-INVALID"},
                     id="single-with-mixed-profiles-is-invalid"),
        pytest.param("A100-SXM4-40GB", "mixed", ["1g.5gb+me", "1g.5gb"],
                     {"nvidia.com/mig-1g.5gb.me": 1, "nvidia.com/mig-1g.5gb": 1}, {},
                     id="plus-me-becomes-dot-me"),
        pytest.param("A100-SXM4-40GB", "none", ["3g.20gb"], {"nvidia.com/gpu": 1}, {},
                     id="strategy-none-advertises-whole-gpus"),
    ],
)
def test_advertise_mig(model, strategy, layout, capacity, labels):
    node = advertise(model, 1, mig_strategy=strategy, mig_layout=layout)
    assert node.capacity == capacity
    assert labels.items() <= node.labels.items()


def test_advertise_time_sliced_single_strategy_product_label():
    config = parse_config(ts(2) | {"flags": {"migStrategy": "single"}})
    node = advertise("A100-SXM4-40GB", 1, mig_strategy="single", mig_layout=["1g.5gb"] * 7,
                     sharing=config)
    assert node.capacity == {"nvidia.com/gpu": 14}
    assert node.labels["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb-SHARED"


def test_advertise_checks_the_layout_with_the_mig_catalog():
    with pytest.raises(ValueError, match="not a MIG profile of A100-SXM4-40GB"):
        advertise("A100-SXM4-40GB", 1, mig_strategy="mixed", mig_layout=["1g.10gb", "3g.25gb"])
    with pytest.raises(ValueError, match="allows at most 1 4g.20gb instance"):
        advertise("A100-SXM4-40GB", 1, mig_strategy="mixed", mig_layout=["4g.20gb", "4g.20gb"])


def test_mig_resource_name_and_product_label():
    assert mig_resource_name("1g.10gb+me") == "nvidia.com/mig-1g.10gb.me"
    assert product_label("H100-SXM5-80GB") == "NVIDIA-H100-80GB-HBM3"


def test_allocate_error_is_the_readme_event_text():
    config = parse_config(ts(4, failRequestsGreaterThanOne=True))
    assert allocate_error(config, "nvidia.com/gpu", 2) == (
        "Allocate failed due to rpc error: code = Unknown desc = request for 'nvidia.com/gpu: 2' "
        "too large: maximum request size for shared resources is 1, which is unexpected")
    assert allocate_error(config, "nvidia.com/gpu", 1) is None
    assert allocate_error(parse_config(ts(4)), "nvidia.com/gpu", 2) is None


@pytest.mark.parametrize(
    ("name", "default", "strategies"),
    [
        pytest.param("device-plugin-time-slicing-values.yaml", "whole-gpus",
                     {"whole-gpus": "none", "time-sliced-4": "time-slicing",
                      "mig-mixed-time-sliced": "time-slicing"}, id="time-slicing-values"),
        pytest.param("device-plugin-mps-values.yaml", "mps-4", {"mps-4": "mps"},
                     id="mps-values"),
    ],
)
def test_course_helm_values_load(name, default, strategies):
    configs, chosen = load_helm_values(ROOT / "manifests" / "k8s" / name)
    assert chosen == default
    assert {k: c.strategy for k, c in configs.items()} == strategies


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        pytest.param({"config": {"map": {}}}, "config.map: no named config (set config.map.<name>)",
                     id="empty-map"),
        pytest.param({"config": {"default": "x", "map": {"y": yaml.safe_dump(ts())}}},
                     "config.default: 'x' is not a key of config.map (y)", id="default-missing"),
        pytest.param({"config": {"map": {"bad": yaml.safe_dump(ts(1))}}},
                     "config.map.bad: sharing.timeSlicing.resources[0]: number of replicas must "
                     "be >= 2", id="invalid-named-config"),
    ],
)
def test_helm_values_errors(values, problem):
    with pytest.raises(SharingConfigError) as info:
        load_helm_values(yaml.safe_dump(values))
    assert problem in info.value.problems


@pytest.mark.parametrize(("rename", "product"), [(True, "NVIDIA-A100-SXM4-40GB-MIG-3g.20gb"),
                                                 (False, "NVIDIA-A100-SXM4-40GB-MIG-3g.20gb-SHARED")])
def test_mixed_time_slicing_labels_each_mig_type(rename, product):
    """GFD labels each MIG type under mixed: .replicas/.sharing-strategy follow the config."""
    config = parse_config({"version": "v1", "flags": {"migStrategy": "mixed"}, "sharing": {
        "timeSlicing": {"renameByDefault": rename,
                        "resources": [{"name": "nvidia.com/mig-3g.20gb", "replicas": 3}]}}})
    node = advertise("A100-SXM4-40GB", 2, mig_strategy="mixed",
                     mig_layout=["4g.20gb", "3g.20gb"], sharing=config)
    labels = node.labels
    assert labels["nvidia.com/mig-3g.20gb.count"] == "2"
    assert labels["nvidia.com/mig-3g.20gb.replicas"] == "3"
    assert labels["nvidia.com/mig-3g.20gb.sharing-strategy"] == "time-slicing"
    assert labels["nvidia.com/mig-3g.20gb.product"] == product
    assert labels["nvidia.com/mig-4g.20gb.replicas"] == "1"
    assert labels["nvidia.com/mig-4g.20gb.sharing-strategy"] == "none"
    # no nvidia.com/gpu resource under mixed: the whole-GPU labels say so, as on a real node
    assert labels["nvidia.com/gpu.replicas"] == "0"
    assert labels["nvidia.com/gpu.sharing-strategy"] == "none"
