"""The collective sweep from a shell, written to a JSON file (Lab 06's operated exercise).

nccl-tests' ``all_reduce_perf`` takes ``-b MINBYTES -e MAXBYTES -f FACTOR -g NGPUS``; this runner
takes the same sweep for local processes (gloo over 127.0.0.1 without GPUs, NCCL with one GPU
per rank) and writes every measurement to ``--out``, so a check or a later cell can read what
was run and what it measured::

    python -m labkit.net.runner --op all_reduce -b 1M -e 16M -f 2 --nprocs 2 --out ar.json

Sizes accept nccl-tests' suffixes (K, M, G: powers of 1024). The file holds the command line,
the backend, the rank count, a run id, the runner's pid, start and finish times, a digest that
seals the file (`labkit.net.runfile`, whose `read_runner_file` checks it), and one row per
size (`CollectiveResult.to_dict`: median time in s, algbw and busbw in GB/s, 1 GB = 1e9 bytes;
the printed table shows ms and GB/s, as Lab 06 does). Exit codes: 0 done, 1 usage error (the
valid values are named), 3 the sweep failed (the failing rank's last words on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from .collectives import MEASURED_OPS, CollectiveError, run_collectives, size_sweep
from .runfile import TOOL, seal

__all__ = ["main", "parse_bytes"]

_SUFFIX = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}


def parse_bytes(text: str) -> int:
    """``"8"``, ``"64K"``, ``"16M"``, ``"1G"`` -> bytes (nccl-tests' -b/-e suffixes)."""
    value = str(text).strip().upper().removesuffix("B")
    unit = value[-1:] if value[-1:] in _SUFFIX and value[-1:] else ""
    number = value[: len(value) - len(unit)]
    if not number.isdigit() or int(number) < 1:
        raise ValueError(f"size '{text}' is not a positive whole number of bytes with an "
                         "optional K, M or G suffix (e.g. 8, 64K, 16M)")
    return int(number) * _SUFFIX[unit]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 1, as the course's scripts do
        self.print_usage(sys.stderr)
        print(f"ERROR: {message}", file=sys.stderr)
        raise SystemExit(1)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m labkit.net.runner",
                description="Time a collective over local ranks and write the rows to JSON.")
    p.add_argument("--op", default="all_reduce", choices=MEASURED_OPS,
                   help="collective to time (default all_reduce)")
    p.add_argument("-b", "--minbytes", default="8", help="smallest size (default 8)")
    p.add_argument("-e", "--maxbytes", default="64M", help="largest size (default 64M)")
    p.add_argument("-f", "--stepfactor", type=int, default=2, help="size factor (default 2)")
    p.add_argument("--nprocs", type=int, default=2, help="local ranks (default 2)")
    p.add_argument("--backend", default="auto", choices=("auto", "gloo", "nccl"))
    p.add_argument("--target-s", type=float, default=0.1,
                   help="seconds of timed iterations per size (default 0.1)")
    p.add_argument("--out", required=True, help="JSON file to write")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        sizes = size_sweep(parse_bytes(args.minbytes), parse_bytes(args.maxbytes),
                           args.stepfactor)
        if args.nprocs < 2:
            raise ValueError(f"--nprocs {args.nprocs} must be >= 2 (a collective needs two "
                             "ranks)")
    except ValueError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    started = time.time()
    try:
        rows = run_collectives(sizes, (args.op,), nprocs=args.nprocs, backend=args.backend,
                               target_s=args.target_s)
    except CollectiveError as exc:
        print(f"ERROR: the sweep failed: {exc}", file=sys.stderr)
        return 3
    print(f"# {args.op}, {args.nprocs} ranks, backend {rows[0].backend}")
    print(f"{'size (B)':>11} {'iters':>5} {'time (ms)':>10} {'algbw GB/s':>11} "
          f"{'busbw GB/s':>11}")
    for r in rows:
        print(f"{r.size:>11} {r.iters:>5} {r.time_s * 1e3:>10.3f} {r.algbw / 1e9:>11.3f} "
              f"{r.busbw / 1e9:>11.3f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(seal({
        "tool": TOOL, "argv": list(sys.argv[1:] if argv is None else argv),
        "op": args.op, "nprocs": args.nprocs, "backend": rows[0].backend,
        "sizes": sizes, "run_id": uuid.uuid4().hex, "pid": os.getpid(),
        "started": started, "finished": time.time(),
        "rows": [r.to_dict() for r in rows]}), indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
