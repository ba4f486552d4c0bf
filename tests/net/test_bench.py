"""``make bench network`` runs end to end (slow: a 2-process sweep up to 64 MiB)."""

from __future__ import annotations

import pytest

from labkit.net.bench import run_bench

pytestmark = pytest.mark.slow


def test_quick_bench():
    results = run_bench(quick=True)
    assert {r.suite for r in results} == {"network"}
    ratio = next(r for r in results if "/ memcpy" in r.name)
    assert 0 < ratio.value < 5 and ratio.goal_met is None
    largest = next(r for r in results if "all_reduce busbw, 2 ranks" in r.name)
    assert largest.details["size"] == 64 * 2**20
