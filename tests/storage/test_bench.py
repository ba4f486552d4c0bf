"""``make bench storage`` runs end to end (slow: it writes and reads ~130 MB)."""

from __future__ import annotations

import pytest

from labkit.bench import BenchResult
from labkit.storage.bench import run_bench

pytestmark = pytest.mark.slow


def test_quick_bench_reports_every_target(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_BENCH_DIR", str(tmp_path))
    results = run_bench(quick=True)
    assert all(isinstance(r, BenchResult) and r.suite == "storage" for r in results)
    names = [r.name for r in results]
    assert any("fio" in n for n in names) and any("tuned" in n for n in names)
    ratio = next(r for r in results if "shard loader" in r.name)
    assert ratio.value > 0 and ratio.goal_met is not None
    assert list(tmp_path.iterdir()) == []  # the temporary datasets are gone
