"""Hardware detection with one code path for real GPUs and the simulated node.

Lab 00: ``detect()`` answers "what am I running on?". ``LABKIT_MODE`` (auto | real | sim)
or the ``mode`` argument chooses; ``auto`` picks real when NVML reports a GPU, else sim.
"""

from __future__ import annotations

import os

from .mig import (
    ComputeInstance,
    GpuInstance,
    GpuMig,
    MigDevice,
    MigView,
    compute_instances,
    gpu_instances,
    mig_devices,
    mig_view,
)
from .model import MODES, Environment, Gpu, HardwareError
from .nvml import nvml_environment

__all__ = [
    "MODES",
    "ComputeInstance",
    "Environment",
    "Gpu",
    "GpuInstance",
    "GpuMig",
    "HardwareError",
    "MigDevice",
    "MigView",
    "compute_instances",
    "detect",
    "gpu_instances",
    "mig_devices",
    "mig_view",
    "resolve_mode",
]


def resolve_mode(mode: str | None = None) -> str:
    """The requested mode: the argument, else ``LABKIT_MODE``, else ``auto``."""
    value = (mode or os.environ.get("LABKIT_MODE") or "auto").strip().lower()
    if value not in MODES:
        raise ValueError(f"mode '{value}' is not a labkit mode (valid: {', '.join(MODES)})")
    return value


def detect(mode: str | None = None) -> Environment:
    """Detect the environment. ``mode="real"`` raises `HardwareError` if no GPU can be read."""
    from .sim import sim_environment  # imported late: sim pulls in the MIG catalog

    wanted = resolve_mode(mode)
    if wanted == "sim":
        return sim_environment()
    try:
        return nvml_environment()
    except HardwareError:
        if wanted == "real":
            raise
        return sim_environment()
