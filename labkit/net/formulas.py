"""nccl-tests' bandwidth formulas: algorithm bandwidth and bus bandwidth.

Lab 06: "measured". From NVIDIA/nccl-tests doc/PERFORMANCE.md
(https://github.com/NVIDIA/nccl-tests/blob/master/doc/PERFORMANCE.md; ref §4.1):
``algbw = S / t`` and ``busbw = algbw x factor``, where the factor makes results comparable
with the hardware's peak, whatever the number of ranks ``n``:

==============  =============  =========================================
collective      factor         S, the size in bytes
==============  =============  =========================================
all_reduce      2(n-1)/n       the buffer each rank holds
all_gather      (n-1)/n        the *total* output (count x sizeof x n)
reduce_scatter  (n-1)/n        the *total* input (count x sizeof x n)
alltoall        (n-1)/n        the total buffer
broadcast       1              the buffer
reduce          1              the buffer
==============  =============  =========================================

nccl-tests prints GB/s with 1 GB = 1e9 bytes (``bwUnit = 1.0E9`` in its common.cu);
so do these functions' callers. Here everything is bytes, seconds and bytes/s.
"""

from __future__ import annotations

__all__ = ["COLLECTIVES", "algbw"]

# The busbw factor is a Lab 06 exercise: it stays private (shared/DESIGN.md, "Exercises and
# checks"); run_collectives stores each measurement's busbw with it.

COLLECTIVES = ("all_reduce", "all_gather", "reduce_scatter", "alltoall", "broadcast", "reduce")


def _bus_factor(op: str, n: int) -> float:
    """nccl-tests' busbw/algbw factor for collective ``op`` over ``n`` ranks."""
    if op not in COLLECTIVES:
        raise ValueError(f"collective '{op}' is not one of {', '.join(COLLECTIVES)}")
    if n < 1:
        raise ValueError(f"rank count {n} must be >= 1")
    if op == "all_reduce":
        return 2 * (n - 1) / n
    if op in ("all_gather", "reduce_scatter", "alltoall"):
        return (n - 1) / n
    return 1.0


def algbw(size_bytes: float, seconds: float) -> float:
    """Algorithm bandwidth ``S / t`` in bytes/s."""
    if seconds <= 0:
        raise ValueError(f"time {seconds} s must be > 0")
    return size_bytes / seconds


def _busbw(size_bytes: float, seconds: float, op: str, n: int) -> float:
    """Bus bandwidth in bytes/s: ``algbw x _bus_factor(op, n)``."""
    return algbw(size_bytes, seconds) * _bus_factor(op, n)
