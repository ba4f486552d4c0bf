"""Lab 07 part 4: the serving configurations the load test compares, and the choice.

``SWEEP_CONFIGS`` are four classifier variants of the same ONNX file: dynamic batching off
or on (queue delay 100 us), one or two instances. On the embedded CPU server each runs
with the *accelerator analogue* (``EMULATED_BATCH_US``): every execution takes at least
that long whatever the batch size, the way a GPU's does for a small model; ``CPU_CONFIGS``
is the batching pair without it. On the NGC target the same variants run on the GPU
itself. ``choose_configuration`` picks the highest throughput that meets a p99 objective,
the rule Model Analyzer applies with ``--latency-budget`` (perf.md §1.3). Command-line
equivalent of the sweep::

    python -m labkit.pipeline sweep            # embedded server, labkit's load generator
    docker compose --profile perf run --rm perf-analyzer    # GPU host, real perf_analyzer
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .workflow import Profile

__all__ = ["EMULATED_BATCH_US", "SweepConfig", "SWEEP_CONFIGS", "CPU_CONFIGS",
           "build_sweep_repository", "run_sweep", "batching_gain", "choose_configuration",
           "sweep_rows"]

# The accelerator analogue's time per execution (backends/onnx_classifier.py): the Part 2
# tutorial's A100 compute-infer time for a batch-2 request without batching, 2,040 us
# (shared/reference/perf.md §1.1).
EMULATED_BATCH_US = 2040


@dataclass(frozen=True)
class SweepConfig:
    """One classifier variant in the load test (``name`` is its Triton model name)."""

    name: str
    label: str
    batching: bool
    instances: int
    emulated_batch_us: int = EMULATED_BATCH_US


SWEEP_CONFIGS = (
    SweepConfig("nobatch_1", "no batching, 1 instance", False, 1),
    SweepConfig("batch_1", "dynamic batching, 1 instance", True, 1),
    SweepConfig("nobatch_2", "no batching, 2 instances", False, 2),
    SweepConfig("batch_2", "dynamic batching, 2 instances", True, 2),
)
# The same pair without the analogue: what this CPU does with batching, for comparison.
CPU_CONFIGS = (
    SweepConfig("cpu_nobatch_1", "CPU: no batching, 1 instance", False, 1, 0),
    SweepConfig("cpu_batch_1", "CPU: dynamic batching, 1 instance", True, 1, 0),
)


def build_sweep_repository(root: str | Path, onnx_path: str | Path, profile: Profile,
                           configs=SWEEP_CONFIGS + CPU_CONFIGS, *, target: str = "embedded",
                           classes: list[str] | None = None, clean: bool = True) -> Path:
    """One classifier per ``SweepConfig`` in ``root``, all serving ``onnx_path``.

    ``clean`` empties ``root`` first (a folder of its own); False adds the variants beside
    other models (the NGC repository). On the NGC target the analogue is off.
    """
    from .dataset import CLASSES
    from .repository import DynamicBatching, add_classifier

    root = Path(root)
    if clean and root.exists():
        shutil.rmtree(root)
    for c in configs:
        add_classifier(root, onnx_path, classes=list(classes or CLASSES), name=c.name,
                       target=target, size=profile.size,
                       max_batch_size=profile.max_batch_size,
                       dynamic_batching=DynamicBatching(100) if c.batching else None,
                       instances=c.instances,
                       emulated_batch_us=c.emulated_batch_us if target == "embedded" else 0)
    return root


def run_sweep(url: str, profile: Profile, configs=SWEEP_CONFIGS, *,
              concurrencies: tuple[int, ...] | None = None, protocol: str = "grpc",
              progress: bool = True) -> dict[str, list]:
    """``{config name: [LoadPoint per concurrency]}`` against a running sweep server."""
    from . import loadtest

    inputs = loadtest.random_tensor_inputs((1, 3, profile.size, profile.size))
    return {c.name: loadtest.sweep(url, c.name, inputs, outputs=["logits"],
                                   concurrencies=list(concurrencies or profile.concurrencies),
                                   protocol=protocol, window_s=profile.window_s,
                                   progress=progress, label=c.label)
            for c in configs}


def batching_gain(results: dict[str, list], without: str, with_: str,
                  concurrency: int = 16) -> dict:
    """Throughput with dynamic batching over without (infer/s ratio) at one concurrency."""
    def at(name):
        return next(p for p in results[name] if p.concurrency == concurrency)

    off, on = at(without), at(with_)
    return {"concurrency": concurrency, "without_infer_s": off.infer_per_s,
            "with_infer_s": on.infer_per_s, "ratio": on.infer_per_s / off.infer_per_s,
            "without_p99_ms": off.p99_us / 1e3, "with_p99_ms": on.p99_us / 1e3}


def choose_configuration(rows: list[dict], slo_p99_ms: float) -> dict | None:
    """The row with the highest infer/s whose p99 latency (ms) meets the SLO, or None.

    ``rows`` are dicts with ``config``, ``concurrency``, ``infer_per_s``, ``p99_ms``.
    Ties go to the lower p99.
    """
    ok = [r for r in rows if r["p99_ms"] <= slo_p99_ms]
    return max(ok, key=lambda r: (r["infer_per_s"], -r["p99_ms"])) if ok else None


def sweep_rows(results: dict[str, list]) -> list[dict]:
    """One flat dict per measured point: config, label, concurrency, infer_per_s, p99_ms..."""
    return [{"config": name, "label": p.label, "concurrency": p.concurrency,
             "infer_per_s": p.infer_per_s, "p50_ms": p.p50_us / 1e3,
             "p99_ms": p.p99_us / 1e3, "avg_batch": p.avg_batch, "stable": p.stable,
             "errors": p.errors}
            for name, points in results.items() for p in points]
