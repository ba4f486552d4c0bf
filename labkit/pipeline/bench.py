"""``make bench pipeline``: Lab 07's goals, measured by running the pipeline once.

One ``python -m labkit.pipeline all`` in a fresh workspace (a subprocess, exactly what
``make pipeline`` runs) gives all three numbers from the same run:

- ETL images/s, DALI CPU vs the PIL DataLoader baseline with as many threads as workers
  (goal >= 1.5x);
- Triton throughput at concurrency 16 with dynamic batching vs without, same model, same
  server (goal >= 3x; the tutorial's A100 result is 3.3x, shared/reference/perf.md §1.1).
  The goal is held against the accelerator analogue (2,040 us per execution whatever the
  batch, labelled as such); the CPU's own ratio is reported beside it without a goal,
  because CPU compute grows with the batch and a GPU's barely does;
- ``make pipeline`` wall time (goal < 5 min on 2 cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..bench import BenchResult

__all__ = ["run_bench", "results_from_report"]

SUITE = "pipeline"


def results_from_report(report: dict, wall_s: float) -> list[BenchResult]:
    """BenchResults from a ``report.json`` and the measured wall time of its run."""
    etl, gain = report["etl"], report["batching_gain"]
    profile = report.get("profile", "")
    return [
        BenchResult(SUITE, "ETL DALI vs PIL DataLoader", etl["ratio"], "x", ">= 1.5x",
                    etl["ratio"] >= 1.5,
                    {"dali_img_s": etl["dali_img_s"], "baseline_img_s": etl["baseline_img_s"],
                     "threads": etl["threads"], "images": etl["images"]}),
        BenchResult(SUITE, "Triton batching gain c16 (accelerator analogue)",
                    gain["analogue"]["ratio"], "x", ">= 3x", gain["analogue"]["ratio"] >= 3,
                    gain["analogue"]),
        BenchResult(SUITE, "Triton batching gain c16 (CPU compute)", gain["cpu"]["ratio"], "x",
                    details=gain["cpu"]),
        BenchResult(SUITE, "training val accuracy", report["train"]["val_accuracy"], "",
                    ">= 0.95", report["train"]["val_accuracy"] >= 0.95),
        BenchResult(SUITE, f"make pipeline wall time ({profile} profile)", wall_s, "s",
                    "< 300 s", wall_s < 300, {"stages_s": report.get("stages_s", {})}),
    ]


def run_bench(quick: bool = False) -> list[BenchResult]:
    """Run the whole pipeline in a temporary workspace and return the measurements."""
    with tempfile.TemporaryDirectory(prefix="labkit-pipeline-bench-") as tmp:
        command = [sys.executable, "-m", "labkit.pipeline", "all", "--out", tmp, "--quiet"]
        if quick:
            command.append("--quick")
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True,
                              env=dict(os.environ, MPLBACKEND="Agg"))
        wall_s = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"'{' '.join(command)}' failed ({done.returncode}):\n"
                               f"{done.stderr[-2000:]}")
        report = json.loads((Path(tmp) / "report.json").read_text())
    return results_from_report(report, wall_s)
