"""Lab 05's headline experiments: stability labels, and verdicts that agree with their numbers."""

from __future__ import annotations

import re

import pytest

from labkit.experiment import busy, verdict
from labkit.storage.datasets import encode_jpegs, synthetic_images, write_jpeg_files
from labkit.storage.headline import (
    NAIVE,
    STABLE_FAIL,
    STABLE_PASS,
    TUNED,
    UNSTABLE,
    bench_verdicts,
    run_au_sweep,
    stability,
)
from labkit.storage.loader import LoaderConfig


@pytest.mark.parametrize(("rounds", "label"), [
    ([0.95, 0.91, 0.90], STABLE_PASS),
    ([0.55, 0.89, 0.8999], STABLE_FAIL),
    ([0.97, 0.96, 0.85], UNSTABLE),
], ids=["every-round-passes", "none-passes", "crosses-the-line"])
def test_stability(rounds, label):
    assert stability(rounds, 0.90) == label


def test_sweep_needs_the_headline_arms(tmp_path):
    with pytest.raises(ValueError, match="configs must include workers=2 prefetch=4 persistent"):
        run_au_sweep(None, None, [NAIVE], rounds=1)


ROW = re.compile(r"^(?P<label>workers=\S+(?: \S+)*?)\s+(?P<median>[\d.]+)%\s+.*"
                 r"\[(?P<rounds>[^\]]+)\]\s+(?P<stability>.+)$")
PCT = re.compile(r"([\d.]+)%")


@pytest.mark.slow
def test_printed_verdict_agrees_with_printed_numbers_under_load(tmp_path, capsys):
    """Quick size (1024 images, 3 rounds) beside a busy-loop core: whatever the outcome, the
    verdict line must be the one the printed rounds give, and the labels must match them."""
    from labkit.storage.au import get_workload

    images, labels = synthetic_images(1024, 96, seed=0)
    files = write_jpeg_files(encode_jpegs(images), labels, tmp_path / "jpeg-files", 96)
    configs = [NAIVE, LoaderConfig(1, 2, batch_size=NAIVE.batch_size), TUNED]
    with busy(cores=1, seconds=300):
        sweep = run_au_sweep(files, get_workload("resnet50", "h100"), configs, rounds=3)
    print("\n".join(sweep.lines()))
    lines = capsys.readouterr().out.splitlines()

    rows = {}
    for line in lines:
        m = ROW.match(line)
        if m:
            rounds = [float(x) / 100 for x in PCT.findall(m["rounds"])]
            rows[m["label"].strip()] = (float(m["median"]) / 100, rounds, m["stability"].strip())
    assert set(rows) == {c.label for c in configs}, lines
    for label, (median, rounds, printed) in rows.items():
        assert len(rounds) == 3
        assert median == pytest.approx(sorted(rounds)[1], abs=1e-4), label
        assert printed == stability(rounds, 0.90), label

    verdict_line = next(line for line in lines if line.startswith("verdict: "))
    outcome = verdict_line.split(":")[1].strip().lower()
    again = verdict("tuned beats naive", rows[TUNED.label][1], rows[NAIVE.label][1],
                    higher_is_better=True)
    assert outcome == again.outcome, (verdict_line, rows)
    naive, tuned = rows[NAIVE.label][0], rows[TUNED.label][0]
    if outcome == "supports":
        assert tuned >= 1.1 * naive - 1e-4
    elif outcome == "contradicts":
        assert naive >= 1.1 * tuned - 1e-4

    best_line = next(line for line in lines if line.startswith("highest median AU: "))
    best_label = max(rows, key=lambda k: rows[k][0])
    assert best_line.startswith(f"highest median AU: {best_label} (")
    assert ("UNSTABLE" in best_line) == (rows[best_label][2] == UNSTABLE)


@pytest.mark.slow
def test_bench_verdicts_rows():
    rows = bench_verdicts(runs=1, quick=True)
    assert [r["loaded"] for r in rows] == [False, True]
    for r in rows:
        assert r["outcome"] in ("supports", "contradicts", "inconclusive")
        assert 0 < r["naive_median"] <= 1 and 0 < r["tuned_median"] <= 1
        assert r["rounds"] == 3 and r["line"].startswith(f"verdict: {r['outcome'].upper()}")


def _row(workers, prefetch, rounds, label=""):
    return {"num_workers": workers, "prefetch_factor": prefetch, "label": label,
            "au_rounds": list(rounds)}


def test_course_pick_is_the_cheapest_row_that_passed_every_round():
    from labkit.storage.headline import _cheapest_stable
    rows = [_row(0, None, [0.5, 0.6, 0.55]), _row(1, 2, [0.93, 0.85, 0.92]),
            _row(2, 4, [0.97, 0.96, 0.99]), _row(2, 2, [0.91, 0.95, 0.90]),
            _row(2, 2, [0.99, 0.99, 0.99])]
    assert _cheapest_stable(rows, 0.90) is rows[3]
    assert _cheapest_stable(rows[:2], 0.90) is None
    assert _cheapest_stable([], 0.90) is None
    assert _cheapest_stable([_row(1, None, [0.9] * 3), _row(1, 2, [0.99] * 3)], 0.9)["num_workers"] == 1


@pytest.mark.parametrize(("latency", "per_sample", "sample", "link", "need"), [
    (0.002, 0.00056, 4096, 48 * 2**20, 4),
    (0.0, 0.00056, 4096, 48 * 2**20, 1),
    (0.010, 0.001, 4096, 10 * 2**20, 10),
    (0.002, 0.00056, 114660.07, 48 * 2**20, None),
])
def test_course_depth_follows_littles_law(latency, per_sample, sample, link, need):
    from labkit.storage.headline import _depth_to_hide
    assert _depth_to_hide(latency, per_sample, sample, link) == need
