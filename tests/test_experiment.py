import time

import pytest

from labkit.experiment import (
    CONTRADICTS,
    INCONCLUSIVE,
    SUPPORTS,
    busy,
    interleaved,
    spread,
    verdict,
)


def test_interleaved_rotates_which_arm_goes_first():
    order = []
    values = interleaved({"a": lambda: order.append("a") or 1.0,
                          "b": lambda: order.append("b") or 2.0}, rounds=3)
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert values == {"a": [1.0, 1.0, 1.0], "b": [2.0, 2.0, 2.0]}


def test_interleaved_needs_a_round():
    with pytest.raises(ValueError, match="rounds must be at least 1"):
        interleaved({"a": lambda: 1.0}, rounds=0)


def test_spread_reports_median_range_and_relative_spread():
    s = spread([4.0, 1.0, 2.0])
    assert (s.median, s.low, s.high, s.n) == (2.0, 1.0, 4.0, 3)
    assert s.relative == pytest.approx(1.5)


@pytest.mark.parametrize(("better", "worse", "higher", "outcome"), [
    ([10, 11, 12], [5, 6, 7], True, SUPPORTS),
    ([5, 6, 7], [10, 11, 12], True, CONTRADICTS),
    ([1.0, 1.1, 0.9], [2.0, 2.1, 1.9], False, SUPPORTS),  # latency: lower is better
    ([10, 10.3, 9.9], [10.1, 10, 10.2], True, INCONCLUSIVE),  # under 10 %
    ([20, 5, 20], [10, 10, 10], True, SUPPORTS),  # two rounds of three are enough
], ids=["supports", "contradicts", "lower-is-better", "too-small", "two-of-three-rounds"])
def test_verdict_follows_the_medians_and_the_rounds(better, worse, higher, outcome):
    v = verdict("claim", better, worse, higher_is_better=higher)
    assert v.outcome == outcome
    assert v.outcome.upper() in v.line() and "load average" in v.line()


def test_verdict_is_inconclusive_when_rounds_split():
    v = verdict("claim", [20, 5, 20, 5], [10, 10, 10, 10], higher_is_better=True)
    assert v.outcome == INCONCLUSIVE and "disagree" in v.reason


def test_verdict_refuses_unpaired_rounds():
    with pytest.raises(ValueError, match="same number"):
        verdict("claim", [1, 2], [1], higher_is_better=True)


@pytest.mark.slow
def test_busy_loads_a_core_and_stops():
    with busy(cores=1, seconds=10):
        start = time.process_time()
        time.sleep(0.5)
    assert time.process_time() - start < 0.5  # the load ran in another process
