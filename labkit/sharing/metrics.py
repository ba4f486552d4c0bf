"""Metrics of a shared accelerator: per-tenant latency and throughput, fairness, interference.

Lab 03: GPU sharing and isolation. Latencies are in milliseconds, throughputs in requests per
second. Percentiles use numpy's default (linear interpolation between closest ranks), the same
definition `np.percentile(latencies, 99)` gives, so a student's answer and labkit's agree.

Jain's fairness index (R. Jain, D. Chiu, W. Hawe, "A Quantitative Measure of Fairness and
Discrimination for Resource Allocation in Shared Computer Systems", DEC-TR-301, 1984):
``J(x) = (sum x)^2 / (n * sum x^2)``; 1 when every tenant gets the same, 1/n when one gets all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "TenantStats",
    "interference",
    "percentile",
    "summarize",
]


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, numpy's linear definition."""
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        raise ValueError("percentile of no values: the tenant completed no request "
                         "(run longer, or check that its process started)")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q={q} is outside 0-100")
    return float(np.percentile(data, q))


def _jain_index(values: Iterable[float]) -> float:
    """Jain's fairness index of per-tenant allocations (throughputs, shares): 1/n .. 1."""
    data = np.asarray(list(values), dtype=float)
    if data.size == 0:
        raise ValueError("Jain's index of no tenants: pass one value per tenant")
    if np.any(data < 0):
        raise ValueError(f"Jain's index needs allocations >= 0, got {data.tolist()}")
    square_sum = float(np.sum(data**2))
    if square_sum == 0:
        raise ValueError("Jain's index is undefined when every tenant got 0")
    return float(np.sum(data) ** 2 / (data.size * square_sum))


@dataclass(frozen=True)
class TenantStats:
    """One tenant's run: requests completed in ``duration_s``, latency percentiles in ms."""

    name: str
    requests: int
    duration_s: float
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(name: str, latencies_ms: Sequence[float], duration_s: float) -> TenantStats:
    """Per-tenant statistics from request latencies (ms) measured over ``duration_s`` seconds."""
    if duration_s <= 0:
        raise ValueError(f"duration_s={duration_s}: the measuring window must be > 0 s")
    data = np.asarray(latencies_ms, dtype=float)
    return TenantStats(
        name=name,
        requests=int(data.size),
        duration_s=float(duration_s),
        throughput_rps=data.size / duration_s,
        p50_ms=percentile(data, 50),
        p99_ms=percentile(data, 99),
        mean_ms=float(data.mean()),
        max_ms=float(data.max()),
    )


def interference(alone: TenantStats, shared: TenantStats) -> dict[str, float]:
    """How much sharing hurt one tenant: p99 and p50 ratios (>1 is worse), throughput ratio.

    ``alone`` is the tenant running by itself (its baseline), ``shared`` the same tenant
    under a sharing scheme.
    """
    return {
        "p99_ratio": shared.p99_ms / alone.p99_ms,
        "p50_ratio": shared.p50_ms / alone.p50_ms,
        "throughput_ratio": shared.throughput_rps / alone.throughput_rps,
    }


def _meets_slo(stats: Iterable[TenantStats] | Mapping[str, TenantStats], p99_ms: float) -> bool:
    """True when every tenant's p99 latency is at most ``p99_ms`` (an SLO on the tail)."""
    items = stats.values() if isinstance(stats, Mapping) else stats
    return all(s.p99_ms <= p99_ms for s in items)
