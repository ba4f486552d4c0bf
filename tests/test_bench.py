"""labkit.bench: the report keeps every suite's latest run; unknown suites are refused."""

from __future__ import annotations

import json

import pytest

from labkit.bench import BenchResult, main, write_report


def result(suite: str, value: float) -> BenchResult:
    return BenchResult(suite=suite, name=f"{suite} number", value=value, unit="x",
                       goal=">= 1", goal_met=value >= 1)


def test_a_later_run_of_another_suite_keeps_the_first_in_the_table(tmp_path):
    write_report([result("storage", 1.5)], tmp_path)
    table = write_report([result("network", 0.5)], tmp_path).read_text()
    assert "| storage | storage number | 1.5 x | >= 1 | yes |" in table
    assert "| network | network number | 0.5 x | >= 1 | **no** |" in table
    assert json.loads((tmp_path / "storage.json").read_text())["results"][0]["value"] == 1.5


def test_a_rerun_replaces_that_suite_only(tmp_path):
    write_report([result("storage", 1.5), result("network", 0.5)], tmp_path)
    table = write_report([result("storage", 2.0)], tmp_path).read_text()
    assert "2 x" in table and "1.5 x" not in table and "0.5 x" in table


def test_an_unknown_suite_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["storag"])
    assert stop.value.code == 2
    assert "unknown suite(s) storag (valid: storage, network, pipeline, verdicts)" in capsys.readouterr().err


def test_the_verdicts_suite_counts_outcomes_per_condition(monkeypatch):
    import sys
    import types

    from labkit import bench_verdicts

    rows = [{"loaded": False, "outcome": "supports"}, {"loaded": False, "outcome": "supports"},
            {"loaded": True, "outcome": "inconclusive"}, {"loaded": True, "outcome": "supports"}]
    fake = types.ModuleType("fake_lab")
    fake.bench_verdicts = lambda runs, quick: rows
    monkeypatch.setitem(sys.modules, "fake_lab", fake)
    monkeypatch.setattr(bench_verdicts, "EXPERIMENTS", {"lab X": "fake_lab"})
    idle, loaded = bench_verdicts.run_bench(quick=True)
    assert (idle.value, idle.unit, idle.details["inconclusive"]) == (2.0, "of 2 runs support", 0)
    assert (loaded.value, loaded.details["inconclusive"]) == (1.0, 1)
    assert "busy" in loaded.name and "idle" in idle.name
