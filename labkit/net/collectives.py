"""Collective sweeps over N local processes with torch.distributed, reported like nccl-tests.

Lab 06: "measured". `run_collectives` starts ``nprocs`` Python processes on this machine (gloo
on CPU; NCCL when there is a GPU per process), all on 127.0.0.1 with a free port, and times
all_reduce, all_gather and broadcast for each message size. Every result carries nccl-tests'
``algbw`` and ``busbw`` (`labkit.net.formulas`). The command-line equivalent on GPUs::

    ./build/all_reduce_perf -b MINBYTES -e MAXBYTES -f FACTOR -g NGPUS
    ./build/all_reduce_perf -b 8 -e 256M -f 2 -g 8

Processes always end: each sweep has a deadline; past it, or when one rank fails, every rank's
process group is killed and `CollectiveError` says what happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from labkit.ports import free_port

from .formulas import _busbw, algbw

__all__ = ["CollectiveResult", "CollectiveError", "run_collectives", "free_port",
           "pick_backend", "size_sweep", "loopback_interface", "MEASURED_OPS"]

MEASURED_OPS = ("all_reduce", "all_gather", "broadcast")


class CollectiveError(RuntimeError):
    """A sweep failed or ran out of time; the message has the failing rank's last words."""


@dataclass(frozen=True)
class CollectiveResult:
    """One (collective, size) measurement, in seconds per operation.

    Each iteration is timed on every rank and averaged over ranks (nccl-tests' default
    ``-a 1``). ``time_s`` is the *median* of those iterations, which one descheduled rank on
    a shared machine cannot drag up; ``time_mean_s`` is their mean, which is what nccl-tests
    prints; ``time_p10_s`` and ``time_p90_s`` bound the middle 80 % of the iterations (each
    None when not recorded). ``busbw`` (bytes/s) is nccl-tests' bus bandwidth of this
    measurement, stored when it is made (`run_collectives` computes it from the median time).
    """

    op: str
    size: int  # bytes, nccl-tests' S
    nranks: int
    backend: str
    iters: int
    time_s: float
    busbw: float  # bytes/s, from time_s
    time_mean_s: float | None = None
    time_p10_s: float | None = None
    time_p90_s: float | None = None

    @property
    def algbw(self) -> float:
        return algbw(self.size, self.time_s)

    def to_dict(self) -> dict:
        return {**asdict(self), "algbw_GBps": self.algbw / 1e9, "busbw_GBps": self.busbw / 1e9}


def size_sweep(min_bytes: int, max_bytes: int, factor: int = 2) -> list[int]:
    """nccl-tests' ``-b MIN -e MAX -f FACTOR`` sizes, in bytes."""
    if min_bytes < 1 or max_bytes < min_bytes or factor < 2:
        raise ValueError(f"sweep -b {min_bytes} -e {max_bytes} -f {factor} is not valid "
                         "(need 1 <= min <= max and factor >= 2)")
    sizes, size = [], min_bytes
    while size <= max_bytes:
        sizes.append(size)
        size *= factor
    return sizes



def loopback_interface() -> str:
    """The loopback interface's name (``lo`` on Linux, ``lo0`` on macOS) for gloo and NCCL."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return "lo"
    return next((n for n in names if n == "lo"), next((n for n in names if n.startswith("lo")),
                                                        "lo"))


def pick_backend(nprocs: int, backend: str = "auto") -> str:
    """``nccl`` when torch sees a CUDA GPU for every process and NCCL is built in, else
    ``gloo``; an explicit ``backend`` is checked and returned."""
    import torch
    import torch.distributed as dist

    enough_gpus = torch.cuda.is_available() and torch.cuda.device_count() >= nprocs
    if backend == "auto":
        return "nccl" if enough_gpus and dist.is_nccl_available() else "gloo"
    if backend == "nccl" and not enough_gpus:
        raise CollectiveError(f"backend 'nccl' needs {nprocs} CUDA GPUs; torch sees "
                              f"{torch.cuda.device_count() if torch.cuda.is_available() else 0}"
                              " (use backend='gloo' on CPU)")
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend '{backend}' is not one of auto, gloo, nccl")
    return backend


def _kill(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    for proc in procs:
        proc.wait(timeout=10)


def _launch(cfg: dict, workdir: Path, progress) -> list[dict]:
    config = workdir / "config.json"
    config.write_text(json.dumps(cfg))
    lo = loopback_interface()
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": lo,
           "NCCL_SOCKET_IFNAME": lo, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    procs, errs = [], []
    for rank in range(cfg["world"]):
        err = open(workdir / f"rank{rank}.err", "w+")  # noqa: SIM115 - closed below
        errs.append(err)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "labkit.net._worker", str(config), str(rank)],
            stdout=subprocess.PIPE if rank == 0 else subprocess.DEVNULL, stderr=err,
            env=env, text=True, start_new_session=True))
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in procs[0].stdout],
                              daemon=True)
    reader.start()
    rows, deadline = [], time.monotonic() + cfg["timeout_s"]
    try:
        while True:
            try:
                line = lines.get(timeout=0.2)
                if line.startswith("RESULT "):
                    rows.append(json.loads(line[7:]))
                    if progress is not None:
                        progress.update(1)
                continue
            except queue.Empty:
                pass
            codes = [p.poll() for p in procs]
            if any(c not in (None, 0) for c in codes):
                rank = next(r for r, c in enumerate(codes) if c not in (None, 0))
                errs[rank].seek(0)
                tail = errs[rank].read()[-800:]
                raise CollectiveError(f"rank {rank} exited {codes[rank]}: {tail.strip()}")
            if all(c == 0 for c in codes) and not reader.is_alive() and lines.empty():
                return rows
            if time.monotonic() > deadline:
                raise CollectiveError(f"the sweep ran past {cfg['timeout_s']:g} s and was "
                                      f"stopped after {len(rows)} measurement(s); use fewer "
                                      "or smaller sizes, or a larger timeout_s")
    finally:
        _kill(procs)
        for err in errs:
            err.close()


def run_collectives(sizes: list[int], ops: tuple[str, ...] = ("all_reduce",), *,
                    nprocs: int = 2, backend: str = "auto", timeout_s: float = 300,
                    target_s: float = 0.1, min_iters: int = 10, max_iters: int = 200,
                    warmup: int = 5, progress: bool = False) -> list[CollectiveResult]:
    """Measure each op at each size over ``nprocs`` local ranks.

    Each measurement runs about ``target_s`` seconds (between ``min_iters`` and
    ``max_iters`` iterations, each timed on its own) after ``warmup`` iterations;
    ``progress`` shows a tqdm bar. See `CollectiveResult` for the statistics kept.
    """
    unknown = [op for op in ops if op not in MEASURED_OPS]
    if unknown:
        raise ValueError(f"collective(s) {unknown} not measured here "
                         f"(valid: {', '.join(MEASURED_OPS)})")
    if nprocs < 2:
        raise ValueError(f"nprocs {nprocs} must be >= 2 (a collective needs two ranks)")
    chosen = pick_backend(nprocs, backend)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(ops) * len(sizes), desc=f"{chosen} x{nprocs}", unit="size")
    cfg = {"world": nprocs, "backend": chosen, "ops": list(ops), "sizes": list(sizes),
           "timeout_s": timeout_s, "target_s": target_s, "min_iters": min_iters,
           "max_iters": max_iters, "warmup": warmup}
    try:
        for attempt in range(2):  # a port taken between free_port() and bind: try once more
            cfg["port"] = free_port()
            with tempfile.TemporaryDirectory(prefix="labkit-net-") as tmp:
                try:
                    rows = _launch(cfg, Path(tmp), bar)
                    break
                except CollectiveError as exc:
                    if attempt or "Address already in use" not in str(exc):
                        raise
    finally:
        if bar is not None:
            bar.close()
    return [CollectiveResult(r["op"], r["size"], nprocs, chosen, r["iters"], r["time_s"],
                             _busbw(r["size"], r["time_s"], r["op"], nprocs),
                             r.get("time_mean_s"), r.get("time_p10_s"), r.get("time_p90_s"))
            for r in rows]
