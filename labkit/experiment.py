"""Experiments that hold on a busy laptop: interleaved rounds, median and spread, a verdict.

Every headline experiment of the course (Labs 03, 05, 07 and the labs after them) runs its
arms in interleaved rounds, so that background load falls on every arm alike; reports each
arm's median and spread; and prints a verdict drawn from the data: the run **supports** the
lesson, **contradicts** it, or is **inconclusive** (with the load average and the CPU count,
so a student can tell a busy machine from a wrong idea). The notebook's text explains both
outcomes and never asserts one that its run did not show (shared/DESIGN.md, "Experiments").

``busy()`` is the artificial load that the tests and ``make bench`` use: busy-loop processes,
bounded in time, stopped on exit.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Spread", "Verdict", "interleaved", "spread", "verdict", "machine_load", "busy",
           "SUPPORTS", "CONTRADICTS", "INCONCLUSIVE"]

SUPPORTS, CONTRADICTS, INCONCLUSIVE = "supports", "contradicts", "inconclusive"


def interleaved(arms: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run every arm once per round, rotating which goes first; ``{arm: [value per round]}``.

    Rotation spreads warm-up and slow drifts in background load over every arm.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    names = list(arms)
    values: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            values[name].append(float(arms[name]()))
    return values


@dataclass(frozen=True)
class Spread:
    """Median, extremes and relative spread ((max - min) / median) of repeated values."""

    median: float
    low: float
    high: float
    n: int

    @property
    def relative(self) -> float:
        return (self.high - self.low) / abs(self.median) if self.median else math.inf

    def __str__(self) -> str:
        return f"{self.median:.3g} (range {self.low:.3g}-{self.high:.3g}, n={self.n})"


def spread(values: Sequence[float]) -> Spread:
    """`Spread` of ``values`` (at least one)."""
    if not values:
        raise ValueError("no values to summarise")
    return Spread(statistics.median(values), min(values), max(values), len(values))


def machine_load() -> tuple[float, int]:
    """(1-minute load average, CPU count): how busy the machine was during a run."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not every platform has one
        load = math.nan
    return load, os.cpu_count() or 1


@dataclass(frozen=True)
class Verdict:
    """What the data say about a claim "``better`` beats ``worse``"."""

    outcome: str
    claim: str
    better: Spread
    worse: Spread
    ratio: float  # median advantage of `better`, > 1 when it wins (either direction of metric)
    wins: int  # rounds in which `better` beat `worse` by at least the minimum effect
    losses: int  # rounds in which `worse` beat `better` by at least the minimum effect
    reason: str
    load: float
    cpus: int

    @property
    def rounds(self) -> int:
        return self.better.n

    def line(self) -> str:
        """One printable line: outcome, claim, the numbers behind it, and the machine load."""
        return (f"verdict: {self.outcome.upper()}: {self.claim} - {self.reason}; median "
                f"advantage {self.ratio:.2f}x, {self.wins} of {self.rounds} rounds for, "
                f"{self.losses} against (load average {self.load:.1f} on {self.cpus} CPUs)")

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "claim": self.claim, "ratio": self.ratio,
                "wins": self.wins, "losses": self.losses, "rounds": self.rounds,
                "reason": self.reason, "load": self.load, "cpus": self.cpus,
                "better_median": self.better.median, "worse_median": self.worse.median}


def verdict(claim: str, better: Sequence[float], worse: Sequence[float], *,
            higher_is_better: bool, min_effect: float = 1.1) -> Verdict:
    """Judge the claim that arm ``better`` beats arm ``worse``, round by round.

    The two lists hold one value per interleaved round, paired by index. The claim is
    **supported** when the median advantage is at least ``min_effect`` (1.1 = 10 %) and at
    least two thirds of the rounds agree; **contradicted** when the same holds the other way;
    otherwise **inconclusive**, with the reason.
    """
    if len(better) != len(worse) or not better:
        raise ValueError(f"need the same number (>0) of rounds per arm, got {len(better)} "
                         f"and {len(worse)}")
    if min_effect < 1:
        raise ValueError(f"min_effect is a ratio of at least 1, got {min_effect}")

    def advantage(b: float, w: float) -> float:
        num, den = (b, w) if higher_is_better else (w, b)
        if den <= 0:
            return math.inf if num > 0 else 1.0
        return num / den

    per_round = [advantage(b, w) for b, w in zip(better, worse, strict=True)]
    ratio = advantage(statistics.median(better), statistics.median(worse))
    wins = sum(a >= min_effect for a in per_round)
    losses = sum(a <= 1 / min_effect for a in per_round)
    need = math.ceil(2 * len(per_round) / 3)
    if ratio >= min_effect and wins >= need:
        outcome, reason = SUPPORTS, "the rounds agree"
    elif ratio <= 1 / min_effect and losses >= need:
        outcome, reason = CONTRADICTS, "the rounds agree on the opposite"
    elif max(ratio, 1 / ratio if ratio else math.inf) < min_effect:
        outcome, reason = INCONCLUSIVE, f"the difference is under {min_effect - 1:.0%}"
    else:
        outcome, reason = INCONCLUSIVE, "the rounds disagree (too much spread to tell)"
    load, cpus = machine_load()
    return Verdict(outcome, claim, spread(better), spread(worse), ratio, wins, losses, reason,
                   load, cpus)


def _spin(deadline: float) -> None:
    while time.monotonic() < deadline:
        pass


@contextmanager
def busy(cores: int = 1, seconds: float = 120.0) -> Iterator[None]:
    """Keep ``cores`` CPU cores busy for the block (at most ``seconds``): a loaded laptop."""
    ctx = mp.get_context("spawn")
    deadline = time.monotonic() + seconds
    procs = [ctx.Process(target=_spin, args=(deadline,), daemon=True) for _ in range(cores)]
    for proc in procs:
        proc.start()
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(timeout=5)
