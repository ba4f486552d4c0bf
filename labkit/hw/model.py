"""The one environment model that real (NVML) and simulated backends both return.

Lab 00: mode detection and the GPU inventory. The CLI equivalent is
``nvidia-smi --query-gpu=index,name,uuid,memory.total,mig.mode.current --format=csv``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

__all__ = ["Gpu", "Environment", "HardwareError", "MODES"]

MODES = ("auto", "real", "sim")


class HardwareError(RuntimeError):
    """The real hardware path cannot run; the message says why and what to do."""


@dataclass(frozen=True)
class Gpu:
    """One physical GPU. Memory is in MiB, as nvidia-smi reports it."""

    index: int
    name: str
    uuid: str
    memory_total_mib: int
    memory_used_mib: int
    mig_capable: bool
    mig_mode: str = "N/A"  # "Enabled" | "Disabled" | "N/A" (not MIG capable)
    mig_pending: str = "N/A"
    utilization_gpu: int | None = None  # percent; None where unavailable (MIG on, sim)
    simulated: bool = False
    bus_id: str = ""  # PCI bus id as nvidia-smi prints it, e.g. 00000000:10:00.0

    @property
    def memory_free_mib(self) -> int:
        return self.memory_total_mib - self.memory_used_mib


@dataclass(frozen=True)
class Environment:
    """What `labkit.hw.detect()` found: the mode, the GPUs and the software under them."""

    mode: str  # "real" | "sim"
    gpus: tuple[Gpu, ...]
    driver_version: str | None
    cuda_version: str | None
    cpu_count: int = field(default_factory=lambda: os.cpu_count() or 1)
    source: str = ""  # where the answer came from: "NVML" or the simulator's state file

    @property
    def simulated(self) -> bool:
        return self.mode == "sim"

    def banner(self) -> str:
        """One line for the top of a notebook or a CLI run."""
        names = ", ".join(f"{g.index}: {g.name}" for g in self.gpus) or "no GPU"
        if self.simulated:
            return (f"SIMULATED GPU node ({names}); driver {self.driver_version} "
                    f"[simulated]; {self.cpu_count} CPU cores are real")
        return (f"REAL hardware ({names}); driver {self.driver_version}, "
                f"CUDA {self.cuda_version}; {self.cpu_count} CPU cores")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["gpus"] = [asdict(g) for g in self.gpus]
        return d
