"""Accelerator utilisation (AU), DLIO-style: compute emulated by sleeping, loading for real.

Lab 05: "accelerator utilisation". MLPerf Storage runs DLIO, which replaces each training
step's GPU compute by ``sleep(computation_time)`` and reports
``AU = total compute time / total time``, the first step excluded; a run passes when
AU >= 0.90 (ResNet-50, 3D U-Net) or >= 0.70 (CosmoFlow)
(https://github.com/argonne-lcf/dlio_benchmark, statscounter.py and config.py; ref §3.1).

`WORKLOADS` holds the closed-division configs' numbers, each citing its file in
https://github.com/mlcommons/storage/tree/main/configs/dlio/workload (read at
ac0424fa/be18c3e5/7e73663b/c25079c2/e3ffed05). `emulate_training` sleeps for
``batch samples x computation_time / batch_size``: the named GPU's time per sample.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import torch

__all__ = ["Workload", "WORKLOADS", "get_workload", "AUResult", "emulate_training"]


@dataclass(frozen=True)
class Workload:
    """One MLPerf Storage workload on one accelerator: step time (s) for ``batch_size``
    samples of ``record_bytes`` each, and its AU pass threshold."""

    model: str
    accelerator: str
    batch_size: int
    computation_time_s: float
    record_bytes: float
    au_threshold: float
    source: str

    @property
    def seconds_per_sample(self) -> float:
        return self.computation_time_s / self.batch_size

    @property
    def _read_bytes_per_s(self) -> float:
        """Read bandwidth one accelerator needs at 100 % AU (bytes/s); private, for the
        course's own tests."""
        return self.batch_size * self.record_bytes / self.computation_time_s


_CFG = "mlcommons/storage configs/dlio/workload/"
WORKLOADS: dict[tuple[str, str], Workload] = {(w.model, w.accelerator): w for w in (
    Workload("resnet50", "h100", 400, 0.224, 114660.07, 0.90, _CFG + "resnet50_h100.yaml"),
    Workload("resnet50", "a100", 400, 0.435, 114660.07, 0.90, _CFG + "resnet50_a100.yaml"),
    Workload("unet3d", "h100", 7, 0.323, 146600628, 0.90, _CFG + "unet3d_h100.yaml"),
    Workload("unet3d", "a100", 7, 0.636, 146600628, 0.90, _CFG + "unet3d_a100.yaml"),
    Workload("cosmoflow", "h100", 1, 0.00350, 2828486, 0.70, _CFG + "cosmoflow_h100.yaml"),
    Workload("cosmoflow", "a100", 1, 0.00551, 2828486, 0.70, _CFG + "cosmoflow_a100.yaml"),
)}


def get_workload(model: str, accelerator: str) -> Workload:
    """``get_workload("resnet50", "h100")``; accelerator names as in the config file names."""
    key = (model.lower(), accelerator.lower())
    if key not in WORKLOADS:
        valid = ", ".join(f"{m}/{a}" for m, a in WORKLOADS)
        raise KeyError(f"no MLPerf Storage workload '{model}' on '{accelerator}' "
                       f"(valid: {valid})")
    return WORKLOADS[key]


@dataclass(frozen=True)
class AUResult:
    """A DLIO-style run: AU over the steps after the first, and where the time went."""

    steps: int
    samples: int
    compute_s: float
    wall_s: float
    threshold: float
    first_step_s: float
    max_wait_s: float

    @property
    def au(self) -> float:
        return self.compute_s / self.wall_s if self.wall_s else 0.0

    @property
    def passed(self) -> bool:
        return self.au >= self.threshold

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.wall_s if self.wall_s else 0.0

    def to_dict(self) -> dict:
        return {**self.__dict__, "au": self.au, "passed": self.passed,
                "samples_per_s": self.samples_per_s}


def _batch_len(batch) -> int:
    first = batch[0] if isinstance(batch, (list, tuple)) else batch
    return len(first)


def emulate_training(loader: Iterable, seconds_per_sample: float, *, epochs: int = 1,
                     exclude_first: int = 1, threshold: float = 0.90,
                     device: str | None = None) -> AUResult:
    """Iterate ``loader`` for ``epochs`` epochs, sleeping ``len(batch) x seconds_per_sample``
    per step as the emulated accelerator's compute, and measure AU as DLIO does.

    Each step's wall time runs from the end of the previous step to the end of this one, so
    waiting for a batch (and starting workers at an epoch boundary) counts against AU. With
    ``device`` (e.g. ``"cuda"``) each batch is copied there first (``non_blocking=True``).
    """
    compute = wall = first_step = max_wait = 0.0
    steps = samples = 0
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        t_prev = time.perf_counter()
        for _ in range(epochs):
            for batch in loader:
                t_got = time.perf_counter()
                if device:
                    batch = [t.to(device, non_blocking=True) if torch.is_tensor(t) else t
                             for t in batch]
                n = _batch_len(batch)
                t_compute = time.perf_counter()
                time.sleep(n * seconds_per_sample)
                t_end = time.perf_counter()
                steps += 1
                if steps <= exclude_first:
                    first_step += t_end - t_prev
                else:
                    compute += t_end - t_compute
                    wall += t_end - t_prev
                    samples += n
                    max_wait = max(max_wait, t_got - t_prev)
                t_prev = t_end
    return AUResult(steps=max(0, steps - exclude_first), samples=samples, compute_s=compute,
                    wall_s=wall, threshold=threshold, first_step_s=first_step,
                    max_wait_s=max_wait)
