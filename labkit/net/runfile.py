"""The JSON file that ``python -m labkit.net.runner`` writes, and the reader that checks it.

A runner file holds what was run (``argv``, ``op``, ``nprocs``, ``sizes``, the ``backend``
chosen), the run itself (``run_id``, the runner's ``pid``, ``started`` and ``finished`` times)
and one row per size (`CollectiveResult.to_dict`). ``digest`` seals all of that: it is a
SHA-256 over the rest of the file, so a file edited or written by hand does not read back.
`read_runner_file` checks each of those and says, in a ValueError, the first that fails;
Lab 06's checks and its later cells read the file through it, so they agree on what is valid.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

__all__ = ["TOOL", "read_runner_file", "seal"]

TOOL = "labkit.net.runner"
_ROW_FIELDS = ("op", "size", "nranks", "backend", "iters", "time_s", "busbw", "algbw_GBps",
               "busbw_GBps")


def _digest(data: dict) -> str:
    body = {k: v for k, v in data.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{TOOL}/1\n{text}".encode()).hexdigest()


def seal(data: dict) -> dict:
    """``data`` with its ``digest`` (the runner calls this just before writing)."""
    return {**data, "digest": _digest(data)}


def read_runner_file(path: str | os.PathLike) -> dict:
    """The runner's file at ``path``, checked: a ValueError names the first thing that a real
    run of ``python -m labkit.net.runner`` would have written otherwise."""
    from .collectives import size_sweep
    from .formulas import _busbw
    from .runner import _parser, parse_bytes

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path.name} does not exist: the runner writes it only when its "
                         "sweep succeeds") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        raise ValueError(f"{path.name} was not written by {TOOL} (no 'tool': '{TOOL}')")
    missing = [k for k in ("argv", "op", "nprocs", "backend", "sizes", "rows", "run_id", "pid",
                           "started", "finished", "digest") if k not in data]
    if missing:
        raise ValueError(f"{path.name} lacks {', '.join(missing)}: the runner writes them all")
    if data["digest"] != _digest(data):
        raise ValueError(f"{path.name} does not match its digest: it was edited or written by "
                         "hand, not by the runner")
    try:
        args = _parser().parse_args([str(a) for a in data["argv"]])
        sizes = size_sweep(parse_bytes(args.minbytes), parse_bytes(args.maxbytes),
                           args.stepfactor)
    except (SystemExit, ValueError, TypeError) as exc:
        raise ValueError(f"{path.name}'s argv is not a runner command line ({exc})") from None
    if (args.op, sizes, args.nprocs) != (data["op"], data["sizes"], data["nprocs"]):
        raise ValueError(f"{path.name}'s op, sizes and nprocs are not those of its argv")
    if data["backend"] not in ("gloo", "nccl") or args.backend not in ("auto", data["backend"]):
        raise ValueError(f"{path.name}'s backend {data['backend']!r} is not one the runner "
                         "uses for its argv")
    if not (isinstance(data["pid"], int) and data["pid"] > 0 and data["pid"] != os.getpid()):
        raise ValueError(f"{path.name}'s pid is not that of a runner process")
    rows = data["rows"]
    if [r.get("size") for r in rows] != sizes:
        raise ValueError(f"{path.name} holds rows for sizes {[r.get('size') for r in rows]}, "
                         f"not one per size of its sweep {sizes}")
    spent = 0.0
    for r in rows:
        if any(k not in r for k in _ROW_FIELDS):
            raise ValueError(f"{path.name}: the row for {r['size']} B lacks a field of "
                             f"{', '.join(_ROW_FIELDS)}")
        if (r["op"], r["nranks"], r["backend"]) != (data["op"], data["nprocs"], data["backend"]):
            raise ValueError(f"{path.name}: the row for {r['size']} B is not of this run")
        if not (r["iters"] >= 1 and r["time_s"] > 0):
            raise ValueError(f"{path.name}: the row for {r['size']} B has no measured time")
        busbw = _busbw(r["size"], r["time_s"], r["op"], r["nranks"])
        if not (math.isclose(r["algbw_GBps"], r["size"] / r["time_s"] / 1e9, rel_tol=1e-6)
                and math.isclose(r["busbw"], busbw, rel_tol=1e-6)
                and math.isclose(r["busbw_GBps"], busbw / 1e9, rel_tol=1e-6)):
            raise ValueError(f"{path.name}: the row for {r['size']} B has bandwidths that do "
                             "not follow from its size and time")
        spent += r["iters"] * r["time_s"]
    if not data["finished"] - data["started"] >= 0.5 * spent:
        raise ValueError(f"{path.name}: started {data['started']} and finished "
                         f"{data['finished']} are too close for the iterations it timed")
    return data
