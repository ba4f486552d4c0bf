"""``make bench verdicts``: do the labs' headline experiments hold on a busy laptop?

Each lab with a headline experiment exposes ``bench_verdicts(runs, quick)``: it runs the
experiment ``runs`` times on an idle machine and ``runs`` times beside a busy-loop process
(labkit.experiment.busy) and returns one dict per run (``loaded``, ``outcome`` and the
numbers behind it). This suite counts the outcomes per condition, so the course can say how
often each lesson is supported, contradicted or left inconclusive (shared/DESIGN.md,
"Experiments").
"""

from __future__ import annotations

import importlib
from collections import Counter

from .bench import BenchResult
from .experiment import CONTRADICTS, INCONCLUSIVE, SUPPORTS

__all__ = ["EXPERIMENTS", "run_bench"]

# label -> module exposing bench_verdicts(runs: int, quick: bool) -> list[dict]
EXPERIMENTS = {
    "Lab 03 contention (partitioned vs shared p99)": "labkit.sharing",
    "Lab 05 loader accelerator utilisation": "labkit.storage",
    "Lab 07-4 instances on one device": "labkit.pipeline",
}


def run_bench(quick: bool = False) -> list[BenchResult]:
    runs = 3 if quick else 5
    results = []
    for label, module in EXPERIMENTS.items():
        rows = importlib.import_module(module).bench_verdicts(runs=runs, quick=True)
        for loaded in (False, True):
            mine = [r for r in rows if bool(r["loaded"]) == loaded]
            counts = Counter(r["outcome"] for r in mine)
            results.append(BenchResult(
                "verdicts", f"{label}, {'busy (1 core looping)' if loaded else 'idle'}",
                float(counts[SUPPORTS]), f"of {len(mine)} runs support",
                details={"supports": counts[SUPPORTS], "contradicts": counts[CONTRADICTS],
                         "inconclusive": counts[INCONCLUSIVE], "runs": mine}))
    return results
