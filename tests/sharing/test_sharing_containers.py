"""labkit.sharing.containers: --gpus, NVIDIA_VISIBLE_DEVICES, CUDA_VISIBLE_DEVICES."""

from __future__ import annotations

import re

import pytest

from labkit.sharing.containers import container_gpus, cuda_devices

HOST = ["GPU-aaaa1111", "GPU-bbbb2222", "GPU-cccc3333", "GPU-aaaa4444"]


@pytest.mark.parametrize(
    ("kwargs", "devices", "driver"),
    [
        pytest.param({"gpus": "all"}, HOST, True, id="gpus-all"),
        pytest.param({"gpus": 2}, HOST[:2], True, id="gpus-count-takes-the-first-n"),
        pytest.param({"gpus": '"device=2,0"'}, [HOST[2], HOST[0]], True,
                     id="gpus-device-list-in-given-order"),
        pytest.param({"gpus": "device=GPU-bbbb2222"}, [HOST[1]], True, id="gpus-device-uuid"),
        pytest.param({"nvidia_visible_devices": "all"}, HOST, True, id="nvd-all"),
        pytest.param({"nvidia_visible_devices": "1,3"}, [HOST[1], HOST[3]], True,
                     id="nvd-indices"),
        pytest.param({"nvidia_visible_devices": "none"}, [], True,
                     id="nvd-none-keeps-the-driver"),
        pytest.param({"nvidia_visible_devices": "void"}, [], False, id="nvd-void-is-runc"),
        pytest.param({"nvidia_visible_devices": ""}, [], False, id="nvd-empty-is-runc"),
        pytest.param({}, [], False, id="nvd-unset-is-runc"),
    ],
)
def test_container_gpus(kwargs, devices, driver):
    view = container_gpus(HOST, **kwargs)
    assert list(view.devices) == devices
    assert view.driver is driver


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"gpus": 5}, "--gpus 5: the host has only 4 GPU(s)", id="too-many"),
        pytest.param({"gpus": "device=7"}, "--gpus device: '7' is not a GPU of this host",
                     id="unknown-index"),
        pytest.param({"nvidia_visible_devices": "GPU-zzz"}, "NVIDIA_VISIBLE_DEVICES: 'GPU-zzz'",
                     id="unknown-uuid"),
        pytest.param({"gpus": "some"}, "expected all, a count, or device=<ids>", id="bad-flag"),
    ],
)
def test_container_gpus_errors(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        container_gpus(HOST, **kwargs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, HOST, id="unset-all-visible"),
        pytest.param("", [], id="empty-none-visible"),
        pytest.param("2,1", [HOST[2], HOST[1]], id="cuda-guide-2-1-reorders"),
        pytest.param("0,2,-1,1", [HOST[0], HOST[2]], id="cuda-guide-stops-at-invalid"),
        pytest.param("GPU-bbbb", [HOST[1]], id="abbreviated-uuid"),
        pytest.param("GPU-aaaa,0", [], id="ambiguous-uuid-prefix-stops-the-list"),
        pytest.param("1,9,0", [HOST[1]], id="index-out-of-range-stops"),
    ],
)
def test_cuda_devices(value, expected):
    assert cuda_devices(HOST, value) == expected


def test_cuda_visible_devices_counts_inside_the_container():
    """Indices in CUDA_VISIBLE_DEVICES are the container's, after --gpus renumbered them."""
    view = container_gpus(HOST, gpus='"device=2,3"')
    assert cuda_devices(view.devices, "1") == [HOST[3]]
