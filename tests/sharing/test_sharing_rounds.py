"""labkit.sharing.contention in rounds: the verdict agrees with the numbers, even under load."""

from __future__ import annotations

import os
import re
import statistics

import pytest

from labkit.experiment import busy
from labkit.sharing.contention import CLAIM, CPU_SCHEMES, ContentionResult, Participant
from labkit.sharing.metrics import summarize


def _rounds(tenant_p99s: dict[str, list[float]], tenants: int = 1, noisy: bool = True,
            rps: dict[str, float] | None = None) -> ContentionResult:
    """A result with one round per value: tenant-0 at the given p99 in each scheme."""
    people = [Participant(f"tenant-{i}", "tenant", 1) for i in range(tenants)]
    people += [Participant("noisy", "noisy", 2)] if noisy else []
    result = ContentionResult("cpu", True, [0, 1], 1.0, people, dict(CPU_SCHEMES))
    n = len(next(iter(tenant_p99s.values())))
    for r in range(n):
        entry = {}
        for scheme, p99s in tenant_p99s.items():
            entry[scheme] = {p.name: summarize(p.name, [p99s[r]] * 100, 1.0)
                             for p in people}
        result.rounds.append(entry)
    for scheme in tenant_p99s:
        result.runs[scheme] = {
            p.name: summarize(p.name, [1.0] * int((rps or {}).get(p.name, 100)), 1.0)
            for p in people}
        result.alone[scheme] = dict(result.runs[scheme])
    return result


@pytest.mark.parametrize(
    ("shared", "partitioned", "outcome"),
    [
        pytest.param([20.0, 22.0, 19.0], [5.0, 6.0, 5.5], "supports", id="partition-helps"),
        pytest.param([14.0, 13.0, 21.0], [21.0, 19.0, 23.0], "contradicts",
                     id="partition-hurts-as-on-a-busy-2-core-machine"),
        pytest.param([10.0, 10.0, 10.0], [9.8, 10.1, 10.0], "inconclusive", id="no-difference"),
        pytest.param([30.0, 30.0, 30.0, 10.0, 10.0], [10.0, 10.0, 25.0, 20.0, 20.0],
                     "inconclusive", id="rounds-disagree"),
    ],
)
def test_verdict_follows_the_rounds(shared, partitioned, outcome):
    result = _rounds({"shared": shared, "partitioned": partitioned})
    v = result.verdict()
    assert v.outcome == outcome
    assert v.claim == CLAIM
    assert result.per_round("shared") == pytest.approx(shared)


def test_no_verdict_without_a_noisy_neighbour_or_a_partition():
    assert _rounds({"shared": [1.0, 2.0, 3.0], "partitioned": [1.0, 2.0, 3.0]},
                   tenants=2, noisy=False).verdict() is None
    assert _rounds({"shared": [1.0, 2.0, 3.0]}).verdict() is None


def test_identical_tenants_that_differ_are_flagged_unreliable():
    result = _rounds({"shared": [1.0] * 3, "partitioned": [1.0] * 3}, tenants=2, noisy=False,
                     rps={"tenant-0": 1070, "tenant-1": 520})
    flags = result.unreliable()
    assert len(flags) == 3  # alone, shared, partitioned
    assert "tenant-0 1070 req/s and tenant-1 520 req/s differ 2.06x" in flags[0]
    same = _rounds({"shared": [1.0] * 3}, tenants=2, noisy=False,
                   rps={"tenant-0": 1000, "tenant-1": 900})
    assert same.unreliable() == []


def _printed_numbers(line: str) -> tuple[str, float]:
    match = re.match(r"verdict: (\w+): .* median advantage ([\d.]+)x", line)
    return match.group(1).lower(), float(match.group(2))


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="partitioning needs 2 cores")
def test_contention_verdict_agrees_with_its_numbers_under_load():
    """Quick size beside a busy loop: never 'supports' when the medians say otherwise."""
    from labkit.sharing.contention import run_experiment

    with busy(cores=1, seconds=180):
        result = run_experiment(tenants=1, noisy=True, schemes=["shared", "partitioned"],
                                duration_s=1.0, rounds=3, progress=False)
    assert len(result.rounds) == 3
    assert all(sorted(order) == sorted(result.order[0]) for order in result.order)
    assert result.order[0] != result.order[1]  # the order rotates
    v = result.verdict()
    outcome, ratio = _printed_numbers(v.line())
    shared = statistics.median(result.per_round("shared"))
    partitioned = statistics.median(result.per_round("partitioned"))
    assert ratio == pytest.approx(shared / partitioned, abs=0.006)
    assert outcome == v.outcome
    if outcome == "supports":
        assert shared / partitioned >= 1.1
    if outcome == "contradicts":
        assert partitioned / shared >= 1.1
    if shared <= partitioned:
        assert outcome != "supports"
    assert result.background_load() >= 0
    data = result.to_dict()
    assert data["verdict"]["outcome"] == outcome
    assert len(data["rounds"]) == 3
