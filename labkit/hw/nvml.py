"""Real-mode backend: reads the GPUs through NVML (nvidia-ml-py, module ``pynvml``).

Every NVML failure becomes a `HardwareError` that says what is wrong and what to do,
because a student seeing ``NVMLError_LibraryNotFound`` learns nothing from it.
"""

from __future__ import annotations

import contextlib

from .model import Environment, Gpu, HardwareError

__all__ = ["nvml_environment", "nvml_available"]


def _pynvml():
    try:
        import pynvml
    except ImportError as exc:  # the package itself is missing
        raise HardwareError(
            "the nvidia-ml-py package is not installed (module pynvml); run 'make setup'"
        ) from exc
    return pynvml


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _init(pynvml) -> None:
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound as exc:
        raise HardwareError(
            "NVML library not found: no NVIDIA driver is installed on this machine. "
            "Use LABKIT_MODE=sim, or install the NVIDIA driver"
        ) from exc
    except pynvml.NVMLError_DriverNotLoaded as exc:
        raise HardwareError(
            "the NVIDIA driver is installed but not loaded (try 'sudo modprobe nvidia', "
            "or reboot after a driver update)"
        ) from exc
    except pynvml.NVMLError as exc:
        raise HardwareError(f"NVML failed to initialise: {exc}") from exc


def _mig(pynvml, handle) -> tuple[bool, str, str]:
    try:
        current, pending = pynvml.nvmlDeviceGetMigMode(handle)
    except pynvml.NVMLError_NotSupported:
        return False, "N/A", "N/A"
    except pynvml.NVMLError:
        return False, "N/A", "N/A"
    name = {pynvml.NVML_DEVICE_MIG_ENABLE: "Enabled"}
    return True, name.get(current, "Disabled"), name.get(pending, "Disabled")


def _gpu(pynvml, index: int) -> Gpu:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
    capable, mode, pending = _mig(pynvml, handle)
    try:
        util = int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except pynvml.NVMLError:  # not supported with MIG enabled, for example
        util = None
    return Gpu(
        index=index,
        name=_text(pynvml.nvmlDeviceGetName(handle)),
        uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
        memory_total_mib=int(mem.total // 2**20),
        memory_used_mib=int(mem.used // 2**20),
        mig_capable=capable,
        mig_mode=mode,
        mig_pending=pending,
        utilization_gpu=util,
        bus_id=_text(pynvml.nvmlDeviceGetPciInfo(handle).busId),
    )


def nvml_environment() -> Environment:
    """Read every GPU through NVML. Raises `HardwareError` when none can be read."""
    pynvml = _pynvml()
    _init(pynvml)
    try:
        count = pynvml.nvmlDeviceGetCount()
        if count == 0:
            raise HardwareError("NVML found no GPU on this machine; use LABKIT_MODE=sim")
        gpus = tuple(_gpu(pynvml, i) for i in range(count))
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cuda = pynvml.nvmlSystemGetCudaDriverVersion_v2()
        cuda_version = f"{cuda // 1000}.{cuda % 1000 // 10}"
    except pynvml.NVMLError as exc:
        raise HardwareError(f"NVML error while reading the GPUs: {exc}") from exc
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()
    return Environment(mode="real", gpus=gpus, driver_version=driver,
                       cuda_version=cuda_version, source="NVML")


def nvml_available() -> bool:
    """True when NVML initialises and reports at least one GPU."""
    try:
        nvml_environment()
    except HardwareError:
        return False
    return True
