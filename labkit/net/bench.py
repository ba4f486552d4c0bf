"""``make bench network``: gloo all-reduce busbw at the largest size against memcpy bandwidth.

Lab 06's target, measured on this machine (``python -m labkit.bench network [--quick]``):
a 2-process all-reduce sweep over 127.0.0.1 (quick: 4 B to 64 MiB; full: 16 B to 256 MiB, and
4 processes too), its alpha-beta fit, and busbw at the largest size as a fraction of the
single-thread memcpy bandwidth, the ceiling for loopback traffic. No goal: it is context.
"""

from __future__ import annotations

from labkit.bench import BenchResult

from .collectives import run_collectives, size_sweep
from .hostnet import memcpy_bandwidth
from .models import fit_alpha_beta

__all__ = ["run_bench"]

SUITE = "network"


def run_bench(quick: bool = False) -> list[BenchResult]:
    top = (64 if quick else 256) * 1024**2
    memcpy = memcpy_bandwidth()
    results = [BenchResult(SUITE, "memcpy bandwidth (1 thread, 256 MiB)", memcpy / 1e9, "GB/s")]
    for nprocs in (2,) if quick else (2, 4):
        rows = run_collectives(size_sweep(4, top, 8) if quick else size_sweep(16, top, 4),
                               ("all_reduce",),
                               nprocs=nprocs, target_s=0.1 if quick else 0.3)
        largest = rows[-1]
        fit = fit_alpha_beta([r.size for r in rows], [r.time_s for r in rows])
        results += [
            BenchResult(SUITE, f"{largest.backend} all_reduce busbw, {nprocs} ranks, "
                        f"{largest.size / 2**20:.0f} MiB", largest.busbw / 1e9, "GB/s",
                        details=largest.to_dict()),
            BenchResult(SUITE, f"{largest.backend} all_reduce busbw / memcpy, {nprocs} ranks",
                        largest.busbw / memcpy, "x",
                        details={"sweep": [r.to_dict() for r in rows]}),
            BenchResult(SUITE, f"alpha (latency) of the fit, {nprocs} ranks", fit.alpha * 1e6,
                        "us", details={"bandwidth_GBps": fit.bandwidth / 1e9,
                                       "max_rel_error": fit.max_rel_error}),
        ]
    return results
