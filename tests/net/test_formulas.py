"""nccl-tests' busbw factors (doc/PERFORMANCE.md), table-driven."""

from __future__ import annotations

import pytest

from labkit.net.formulas import COLLECTIVES, _bus_factor, _busbw, algbw


@pytest.mark.parametrize(("op", "n", "factor"), [
    ("all_reduce", 2, 1.0), ("all_reduce", 4, 1.5), ("all_reduce", 8, 1.75),
    ("all_reduce", 1, 0.0),
    ("all_gather", 2, 0.5), ("all_gather", 8, 0.875),
    ("reduce_scatter", 4, 0.75), ("alltoall", 8, 0.875),
    ("broadcast", 8, 1.0), ("reduce", 4, 1.0),
], ids=lambda v: str(v))
def test_bus_factor(op, n, factor):
    assert _bus_factor(op, n) == pytest.approx(factor)


def test_busbw_is_algbw_times_the_factor():
    # 1 GB in 10 ms over 8 ranks: algbw 100 GB/s, busbw 175 GB/s
    assert algbw(1e9, 0.01) == pytest.approx(100e9)
    assert _busbw(1e9, 0.01, "all_reduce", 8) == pytest.approx(175e9)
    assert _busbw(1e9, 0.01, "broadcast", 8) == pytest.approx(100e9)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: _bus_factor("allreduce", 2), "collective 'allreduce' is not one of"),
    (lambda: _bus_factor("all_reduce", 0), "rank count 0 must be >= 1"),
    (lambda: algbw(8, 0), "time 0 s must be > 0"),
], ids=["typo", "no-ranks", "zero-time"])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_every_collective_has_a_factor():
    assert all(0 < _bus_factor(op, 4) <= 2 for op in COLLECTIVES)
