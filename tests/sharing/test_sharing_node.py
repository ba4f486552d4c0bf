"""labkit.sharing.GpuNode: the simulated node of Lab 03's operated exercise."""

from __future__ import annotations

import pytest

from labkit.sharing import GpuNode, SharingConfigError

SHARED_3G = """
version: v1
flags: {migStrategy: mixed}
sharing:
  timeSlicing:
    renameByDefault: true
    failRequestsGreaterThanOne: true
    resources:
    - name: nvidia.com/mig-3g.20gb
      replicas: 3
"""


@pytest.fixture
def node(tmp_path):
    return GpuNode("gpu-node-1", "A100-SXM4-40GB", 2, ("4g.20gb", "3g.20gb"), tmp_path / "node")


def test_reset_advertises_mig_devices_whole(node):
    node.reset()
    assert node.state()["capacity"] == {"nvidia.com/mig-4g.20gb": 2,
                                        "nvidia.com/mig-3g.20gb": 2}
    assert node.config().strategy == "none"


def test_apply_shares_and_renames_and_refuses_two(node):
    node.apply(SHARED_3G)
    state = node.state()
    assert state["capacity"] == {"nvidia.com/mig-4g.20gb": 2, "nvidia.com/mig-3g.20gb": 0,
                                 "nvidia.com/mig-3g.20gb.shared": 6}
    assert (node.state_dir / "config.yaml").read_text() == SHARED_3G
    assert node.admit("nvidia.com/mig-3g.20gb.shared", 1) is None
    assert "maximum request size for shared resources is 1" in node.admit(
        "nvidia.com/mig-3g.20gb.shared", 2)
    assert "Insufficient nvidia.com/mig-3g.20gb" in node.admit("nvidia.com/mig-3g.20gb", 1)
    assert "nvidia.com/mig-3g.20gb.shared: 6" in node.describe()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("sharing: [", "not valid YAML", id="bad-yaml"),
        pytest.param(SHARED_3G.replace("timeSlicing", "mps"),
                     "the only supported resource available for MPS", id="mps-on-mig"),
        pytest.param(SHARED_3G.replace("replicas: 3", "replicas: 1"),
                     "number of replicas must be >= 2", id="one-replica"),
    ],
)
def test_an_invalid_config_is_refused_and_the_node_keeps_its_state(node, text, message):
    node.apply(SHARED_3G)
    with pytest.raises(SharingConfigError, match=message):
        node.apply(text)
    assert node.state()["capacity"]["nvidia.com/mig-3g.20gb.shared"] == 6
