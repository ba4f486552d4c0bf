"""Collective sweeps: sizes, ports, backends, and real 2-process gloo runs on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import time

import pytest

from labkit.net.collectives import (
    CollectiveError,
    CollectiveResult,
    free_port,
    loopback_interface,
    pick_backend,
    run_collectives,
    size_sweep,
)


@pytest.mark.parametrize(("args", "sizes"), [
    ((8, 64, 2), [8, 16, 32, 64]),
    ((4, 64 * 2**20, 8), [4 * 8**k for k in range(9)]),
    ((1024, 1024, 2), [1024]),
    ((8, 100, 4), [8, 32]),
], ids=["doubling", "quick-sweep", "one-size", "max-not-hit"])
def test_size_sweep(args, sizes):
    assert size_sweep(*args) == sizes


def test_size_sweep_rejects_nonsense():
    with pytest.raises(ValueError, match="-b 64 -e 8 -f 2 is not valid"):
        size_sweep(64, 8, 2)


def test_free_port_is_bindable_on_loopback():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_backend_choice_without_gpus():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert pick_backend(2) == "gloo"
    with pytest.raises(CollectiveError, match="backend 'nccl' needs 2 CUDA GPUs"):
        pick_backend(2, "nccl")
    with pytest.raises(ValueError, match="backend 'mpi' is not one of"):
        pick_backend(2, "mpi")


def test_result_bandwidths():
    r = CollectiveResult("all_gather", 8_000_000, 4, "gloo", 10, 0.004, 1.5e9)
    assert r.algbw == 2e9 and r.busbw == 1.5e9
    assert r.to_dict()["busbw_GBps"] == pytest.approx(1.5)


def test_a_result_stores_busbw_and_does_not_compute_it():
    # busbw is measured data, not a formula over arbitrary inputs (Lab 06 Exercise 2)
    with pytest.raises(TypeError):
        CollectiveResult("all_reduce", 1, 8, "gloo", 1, 0.01)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ops": ("alltoall",)}, "not measured here"), ({"nprocs": 1}, "nprocs 1 must be >= 2"),
], ids=["unsupported-op", "one-rank"])
def test_bad_requests(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_collectives([8], **kwargs)


def test_two_process_gloo_sweep():
    sizes = [8, 4096, 1 << 20]
    rows = run_collectives(sizes, ("all_reduce", "all_gather", "broadcast"), nprocs=2,
                           target_s=0.02, max_iters=10, timeout_s=120)
    assert [(r.op, r.size) for r in rows] == [
        (op, size) for op in ("all_reduce", "all_gather", "broadcast") for size in sizes]
    assert all(r.backend == "gloo" and r.nranks == 2 and r.time_s > 0 for r in rows)
    assert all(r.iters == 10 for r in rows)  # min_iters 10 (the default) = max_iters
    # every iteration is timed: the median lies between the 10th and 90th percentiles
    assert all(0 < r.time_p10_s <= r.time_s <= r.time_p90_s for r in rows)
    assert all(r.time_p10_s <= r.time_mean_s for r in rows)
    big = rows[2]
    assert big.busbw == pytest.approx(big.algbw)  # 2 ranks: 2(n-1)/n = 1
    gather = rows[5]
    assert gather.busbw == pytest.approx(gather.algbw / 2)  # (n-1)/n


def _children():
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmd = fh.read()
            except OSError:
                continue
            if b"labkit.net._worker" in cmd:
                pids.append(int(entry))
    return pids


def test_a_sweep_past_its_deadline_is_stopped_and_leaves_no_process():
    start = time.monotonic()
    with pytest.raises(CollectiveError, match="ran past 4 s and was stopped"):
        run_collectives([256 << 20] * 20, nprocs=2, timeout_s=4, min_iters=50, max_iters=50)
    assert time.monotonic() - start < 30
    assert _children() == []


def test_loopback_interface_exists():
    import socket

    assert loopback_interface() in [name for _, name in socket.if_nameindex()]
