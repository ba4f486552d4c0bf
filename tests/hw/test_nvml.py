"""labkit.hw.nvml through the real pynvml module with NVML's entry points replaced.

The answers come from our capture on an H200 (tests/sim/data/h200_r580_159_capture/nvml.json),
so the real-mode reading is checked against what a real driver returned.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pynvml
import pytest

from labkit.hw.model import HardwareError
from labkit.hw.nvml import nvml_environment
from labkit.mig.catalog import get_model

CAPTURE = json.loads((Path(__file__).parents[1] / "sim" / "data" / "h200_r580_159_capture"
                      / "nvml.json").read_text())


@pytest.fixture
def nvml(monkeypatch):
    """An NVML that answers as the captured H200 did; tests override single calls."""
    calls = {
        "nvmlInit": lambda: None,
        "nvmlShutdown": lambda: None,
        "nvmlDeviceGetCount": lambda: 1,
        "nvmlDeviceGetHandleByIndex": lambda i: f"handle-{i}",
        "nvmlDeviceGetName": lambda h: CAPTURE["name"],
        "nvmlDeviceGetUUID": lambda h: "GPU-4933b369-0b59-6742-c3cb-7c5fde4c7d6c",
        "nvmlDeviceGetMemoryInfo": lambda h: SimpleNamespace(
            total=CAPTURE["memory_total_mib"] * 2**20, used=0),
        "nvmlDeviceGetMigMode": lambda h: tuple(CAPTURE["mig_mode"]),
        "nvmlDeviceGetUtilizationRates": lambda h: SimpleNamespace(gpu=0),
        "nvmlDeviceGetPciInfo": lambda h: SimpleNamespace(busId=b"00000000:00:06.0"),
        "nvmlSystemGetDriverVersion": lambda: CAPTURE["driver"],
        "nvmlSystemGetCudaDriverVersion_v2": lambda: CAPTURE["cuda_driver"],
    }
    for name, fn in calls.items():
        monkeypatch.setattr(pynvml, name, fn)
    return monkeypatch


def test_the_captured_h200_reads_as_one_gpu_with_mig_off(nvml):
    env = nvml_environment()
    (gpu,) = env.gpus
    assert (env.mode, env.driver_version, env.cuda_version) == ("real", "580.159.04", "13.0")
    assert (gpu.name, gpu.memory_total_mib, gpu.mig_capable, gpu.mig_mode, gpu.mig_pending) == (
        "NVIDIA H200", 143771, True, "Disabled", "Disabled")
    assert get_model(gpu.name).name == "H200-141GB"


@pytest.mark.parametrize(("code", "message"), [
    (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "installed but not loaded"),
    (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver is installed"),
    (pynvml.NVML_ERROR_UNKNOWN, "NVML failed to initialise"),
], ids=["driver-not-loaded", "no-library", "other"])
def test_init_failures_say_what_to_do(nvml, code, message):
    def fail():
        raise pynvml.NVMLError(code)
    nvml.setattr(pynvml, "nvmlInit", fail)
    with pytest.raises(HardwareError, match=message):
        nvml_environment()


def test_no_gpu_points_to_the_simulator(nvml):
    nvml.setattr(pynvml, "nvmlDeviceGetCount", lambda: 0)
    with pytest.raises(HardwareError, match="NVML found no GPU on this machine; use "
                                            "LABKIT_MODE=sim"):
        nvml_environment()


def test_a_gpu_without_mig_reads_na(nvml):
    def not_supported(handle):
        raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
    nvml.setattr(pynvml, "nvmlDeviceGetMigMode", not_supported)
    (gpu,) = nvml_environment().gpus
    assert (gpu.mig_capable, gpu.mig_mode) == (False, "N/A")
