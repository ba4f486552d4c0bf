"""``make bench``: the course's speed and size targets, measured, written as JSON + Markdown.

Targets live here and never in unit tests. Each topic package exposes
``run_bench(quick: bool) -> list[BenchResult]`` (``labkit.storage.bench``, ...); this module
runs the suites asked for and writes ``build/bench/<suite>.json`` and ``build/bench/README.md``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["BenchResult", "SUITES", "run_suites", "write_report", "main"]

# suite name -> module exposing run_bench(quick) -> list[BenchResult]
SUITES = {
    "storage": "labkit.storage.bench",
    "network": "labkit.net.bench",
    "pipeline": "labkit.pipeline.bench",
    "verdicts": "labkit.bench_verdicts",
}


@dataclass(frozen=True)
class BenchResult:
    """One measured number and the goal it is held against.

    ``goal_met`` is None when the measurement has no goal (context numbers).
    """

    suite: str
    name: str
    value: float
    unit: str
    goal: str = ""
    goal_met: bool | None = None
    details: dict = field(default_factory=dict)


def run_suites(names: list[str], quick: bool = False) -> list[BenchResult]:
    results: list[BenchResult] = []
    for name in names:
        if name not in SUITES:
            raise ValueError(f"unknown bench suite '{name}' (valid: {', '.join(SUITES)})")
        module = importlib.import_module(SUITES[name])
        results += module.run_bench(quick=quick)
    return results


def _markdown(results: list[BenchResult]) -> str:
    lines = ["| suite | measurement | value | goal | met |", "|---|---|---|---|---|"]
    for r in results:
        met = {True: "yes", False: "**no**", None: ""}[r.goal_met]
        lines.append(f"| {r.suite} | {r.name} | {r.value:.4g} {r.unit} | {r.goal} | {met} |")
    return "\n".join(lines) + "\n"


def write_report(results: list[BenchResult], out_dir: Path) -> Path:
    """Write one JSON per suite run now, and a Markdown table of every suite's latest JSON
    in ``out_dir`` (``make bench storage`` then ``make bench network`` keeps both); return
    the table's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    machine = {"platform": platform.platform(), "python": platform.python_version(),
               "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
    for suite in sorted({r.suite for r in results}):
        rows = [asdict(r) for r in results if r.suite == suite]
        (out_dir / f"{suite}.json").write_text(json.dumps({"machine": machine, "results": rows},
                                                          indent=2))
    sections = []
    for path in sorted(out_dir.glob("*.json")):
        stored = json.loads(path.read_text())
        run = stored["machine"]
        sections.append(f"## {path.stem}\n\n{run['platform']}, {run['cpus']} CPUs, "
                        f"{run['when']}\n\n"
                        + _markdown([BenchResult(**r) for r in stored["results"]]))
    table = out_dir / "README.md"
    table.write_text("# Benchmarks\n\n" + "\n".join(sections))
    return table


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit bench")
    parser.add_argument("suites", nargs="*", default=None,
                        help=f"suites to run (default: all of {', '.join(SUITES)})")
    parser.add_argument("--quick", action="store_true", help="smaller, faster measurements")
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites or [] if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)} (valid: {', '.join(SUITES)})")
    names = args.suites or [s for s in SUITES if _available(SUITES[s])]
    results = run_suites(names, quick=args.quick)
    table = write_report(results, args.out)
    print(table.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
