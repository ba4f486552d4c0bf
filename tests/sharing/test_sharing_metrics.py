"""labkit.sharing.metrics: percentiles, Jain's fairness index, per-tenant stats, interference."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.sharing.metrics import (
    TenantStats,
    interference,
    percentile,
    summarize,
)
from labkit.sharing.metrics import _jain_index as jain_index
from labkit.sharing.metrics import _meets_slo as meets_slo


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([5, 5, 5, 5], 1.0, id="equal-shares-are-perfectly-fair"),
        pytest.param([1, 0, 0, 0], 0.25, id="one-of-four-takes-all-is-1-over-n"),
        pytest.param([1, 2], 0.9, id="one-twice-the-other"),
        pytest.param([3, 1], 0.8, id="three-to-one"),
        pytest.param([7.5], 1.0, id="a-single-tenant"),
        pytest.param([2, 2, 0], 2 / 3, id="two-of-three-share-equally"),
    ],
)
def test_jain_index(values, expected):
    assert jain_index(values) == pytest.approx(expected)


def test_jain_index_is_scale_invariant():
    assert jain_index([1, 2, 3]) == pytest.approx(jain_index([100, 200, 300]))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param([], "no tenants", id="empty"),
        pytest.param([0, 0], "undefined when every tenant got 0", id="all-zero"),
        pytest.param([1, -1], "allocations >= 0", id="negative"),
    ],
)
def test_jain_index_rejects(values, message):
    with pytest.raises(ValueError, match=message):
        jain_index(values)


@pytest.mark.parametrize("q", [0, 50, 90, 99, 100])
def test_percentile_is_numpys_linear_definition(q):
    data = np.random.default_rng(0).exponential(2.0, size=257)
    assert percentile(data, q) == pytest.approx(np.percentile(data, q))


@pytest.mark.parametrize(
    ("values", "q", "message"),
    [
        pytest.param([], 50, "completed no request", id="no-values"),
        pytest.param([1.0], 101, "outside 0-100", id="q-too-large"),
    ],
)
def test_percentile_rejects(values, q, message):
    with pytest.raises(ValueError, match=message):
        percentile(values, q)


def test_summarize_counts_requests_over_the_window():
    stats = summarize("tenant-0", [1.0, 2.0, 3.0, 4.0], duration_s=2.0)
    assert stats.requests == 4
    assert stats.throughput_rps == pytest.approx(2.0)
    assert stats.p50_ms == pytest.approx(2.5)
    assert stats.p99_ms == pytest.approx(np.percentile([1, 2, 3, 4], 99))
    assert stats.mean_ms == pytest.approx(2.5)
    assert stats.max_ms == 4.0


def test_summarize_rejects_an_empty_window():
    with pytest.raises(ValueError, match="must be > 0 s"):
        summarize("t", [1.0], 0)


def _stats(p50, p99, rps, name="t"):
    return TenantStats(name, 10, 1.0, rps, p50, p99, p50, p99)


def test_interference_ratios():
    got = interference(_stats(1.0, 2.0, 100), _stats(2.0, 10.0, 50))
    assert got == pytest.approx({"p99_ratio": 5.0, "p50_ratio": 2.0, "throughput_ratio": 0.5})


@pytest.mark.parametrize(
    ("p99s", "slo", "expected"),
    [
        pytest.param([4.0, 5.0], 5.0, True, id="tail-exactly-at-the-slo-meets-it"),
        pytest.param([4.0, 5.1], 5.0, False, id="one-tenant-over-fails-the-scheme"),
        pytest.param([], 1.0, True, id="no-tenant-vacuously-meets"),
    ],
)
def test_meets_slo(p99s, slo, expected):
    stats = {f"t{i}": _stats(1.0, v, 1.0) for i, v in enumerate(p99s)}
    assert meets_slo(stats, slo) is expected
    assert meets_slo(list(stats.values()), slo) is expected
