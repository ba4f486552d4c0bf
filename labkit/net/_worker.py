"""One rank of a collective sweep (started by `labkit.net.collectives.run_collectives`).

``python -m labkit.net._worker CONFIG.json RANK``. Every rank joins a torch.distributed process
group on 127.0.0.1, then for each (collective, size): checks the result once, warms up, agrees
with the others on an iteration count, times every iteration, and averages each iteration's
time with the other ranks' (nccl-tests' default ``-a 1``). Rank 0 prints one ``RESULT {json}``
line per measurement, as soon as it has it: the median iteration (``time_s``), the mean (what
nccl-tests prints) and the 10th and 90th percentiles, all in seconds. On a machine whose cores
are shared, a rank that loses its core waits for a scheduler time slice; the median is not
dragged up by those iterations, the mean is.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

ELEMENT = 4  # float32


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _buffers(op: str, size: int, world: int, device: torch.device):
    """(input, output) for one op; S is the buffer for all_reduce/broadcast and the total
    output for all_gather, as in nccl-tests."""
    if op == "all_gather":
        count = max(1, size // ELEMENT // world)
        inp = torch.zeros(count, device=device)
        return inp, torch.zeros(count * world, device=device), count * world * ELEMENT
    count = max(1, size // ELEMENT)
    return torch.zeros(count, device=device), None, count * ELEMENT


def _run(op: str, inp: torch.Tensor, out: torch.Tensor | None) -> None:
    if op == "all_reduce":
        dist.all_reduce(inp)
    elif op == "broadcast":
        dist.broadcast(inp, src=0)
    elif op == "all_gather":
        gather = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
        gather(out, inp)
    else:
        raise ValueError(f"collective '{op}' is not measured here (all_reduce, all_gather, "
                         "broadcast)")


def _check(op: str, size: int, rank: int, world: int, device: torch.device) -> None:
    """One correctness check per size, like nccl-tests' ``-c 1``."""
    inp, out, _ = _buffers(op, size, world, device)
    inp.fill_(rank + 1)
    _run(op, inp, out)
    _sync(device)
    if op == "all_reduce":
        ok = bool((inp == world * (world + 1) / 2).all())
    elif op == "broadcast":
        ok = bool((inp == 1).all())
    else:
        parts = out.view(world, -1)
        ok = all(bool((parts[r] == r + 1).all()) for r in range(world))
    if not ok:
        raise RuntimeError(f"{op} of {size} B returned wrong values on rank {rank}")


def main(argv: list[str]) -> int:
    cfg = json.loads(Path(argv[0]).read_text())
    rank, world = int(argv[1]), cfg["world"]
    torch.set_num_threads(1)
    if cfg["backend"] == "nccl":
        device = torch.device("cuda", rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    dist.init_process_group(cfg["backend"], init_method=f"tcp://127.0.0.1:{cfg['port']}",
                            rank=rank, world_size=world,
                            timeout=timedelta(seconds=cfg["timeout_s"]))
    try:
        for op in cfg["ops"]:
            for size in cfg["sizes"]:
                _check(op, size, rank, world, device)
                inp, out, nbytes = _buffers(op, size, world, device)
                _run(op, inp, out)  # the first call may set up buffers: not timed
                _sync(device)
                per_op = float("inf")
                for _ in range(max(1, cfg["warmup"])):
                    t0 = time.perf_counter()
                    _run(op, inp, out)
                    _sync(device)
                    per_op = min(per_op, time.perf_counter() - t0)
                # the fastest warm-up iteration sets the count: one descheduled iteration
                # must not cut the sample short
                estimate = torch.tensor([per_op], dtype=torch.float64, device=device)
                dist.all_reduce(estimate, op=dist.ReduceOp.MAX)  # every rank: same count
                iters = int(min(cfg["max_iters"], max(cfg["min_iters"],
                                                      cfg["target_s"] / estimate.item())))
                dist.barrier()
                times = [0.0] * iters
                for i in range(iters):
                    t0 = time.perf_counter()
                    _run(op, inp, out)
                    _sync(device)
                    times[i] = time.perf_counter() - t0
                per_iter = torch.tensor(times, dtype=torch.float64, device=device)
                dist.all_reduce(per_iter)  # sum over ranks, then the ranks' average
                per_iter = (per_iter / world).cpu()
                if rank == 0:
                    row = {"op": op, "size": nbytes, "iters": iters,
                           "time_s": float(per_iter.quantile(0.5)),
                           "time_mean_s": float(per_iter.mean()),
                           "time_p10_s": float(per_iter.quantile(0.1)),
                           "time_p90_s": float(per_iter.quantile(0.9))}
                    print("RESULT " + json.dumps(row), flush=True)
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":  # the launcher sets GLOO_SOCKET_IFNAME to the loopback interface
    raise SystemExit(main(sys.argv[1:]))
