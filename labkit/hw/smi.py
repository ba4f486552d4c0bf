"""``nvidia-smi --query-gpu`` answers, from the real tool or rendered from the simulated node.

Lab 00 parses this output. In real mode the real nvidia-smi runs; in sim mode the same CSV
is rendered from `labkit.hw.detect("sim")` in nvidia-smi's format: ``, `` separators, a
header with units in brackets (kept with ``nounits``), values with units unless
``nounits``, and ``[N/A]`` where a value does not exist (MIG fields of a non-MIG GPU,
utilisation with MIG enabled); shared/reference/mig.md §2.1.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence

from .model import Environment, Gpu, HardwareError

__all__ = ["QUERY_FIELDS", "query_gpu", "render_query_gpu"]

_NA = "[N/A]"


def _na(value):
    return _NA if value in (None, "N/A") else value


# field -> (unit shown in header and values, getter)
QUERY_FIELDS: dict[str, tuple[str, Callable[[Gpu, Environment], object]]] = {
    "count": ("", lambda g, e: len(e.gpus)),
    "index": ("", lambda g, e: g.index),
    "name": ("", lambda g, e: g.name),
    "uuid": ("", lambda g, e: g.uuid),
    "pci.bus_id": ("", lambda g, e: g.bus_id),
    "driver_version": ("", lambda g, e: e.driver_version),
    "memory.total": ("MiB", lambda g, e: g.memory_total_mib),
    "memory.used": ("MiB", lambda g, e: g.memory_used_mib),
    "memory.free": ("MiB", lambda g, e: g.memory_free_mib),
    "utilization.gpu": ("%", lambda g, e: g.utilization_gpu),
    "mig.mode.current": ("", lambda g, e: _na(g.mig_mode)),
    "mig.mode.pending": ("", lambda g, e: _na(g.mig_pending)),
}


def _parse_format(fmt: str) -> tuple[bool, bool]:
    opts = [o.strip() for o in fmt.split(",")]
    if not opts or opts[0] != "csv" or not set(opts[1:]) <= {"noheader", "nounits"}:
        raise ValueError(f"format '{fmt}' is not supported (use csv[,noheader][,nounits])")
    return "noheader" in opts, "nounits" in opts


def render_query_gpu(env: Environment, fields: list[str], fmt: str = "csv",
                     index: int | None = None, indices: Sequence[int] | None = None) -> str:
    """The text ``nvidia-smi --query-gpu=FIELDS --format=FMT [-i INDEX[,INDEX...]]`` prints.

    ``indices`` selects several GPUs in that order (the simulated ``-i 0,1``); ``count`` is
    the number of GPUs of the node either way.
    """
    noheader, nounits = _parse_format(fmt)
    unknown = [f for f in fields if f not in QUERY_FIELDS]
    if unknown:
        raise ValueError(f'field "{unknown[0]}" is not a valid field to query '
                         f"(supported here: {', '.join(QUERY_FIELDS)})")
    lines = []
    if not noheader:
        lines.append(", ".join(f"{f} [{QUERY_FIELDS[f][0]}]" if QUERY_FIELDS[f][0] else f
                               for f in fields))
    if indices is not None:
        gpus = [g for i in indices for g in env.gpus if g.index == i]
    else:
        gpus = [g for g in env.gpus if index is None or g.index == index]
    if index is not None and not gpus:
        raise ValueError(f"no GPU with index {index} (the node has "
                         f"{len(env.gpus)} GPU(s))")
    for gpu in gpus:
        values = []
        for field in fields:
            unit, get = QUERY_FIELDS[field]
            value = _na(get(gpu, env))
            values.append(f"{value} {unit}" if unit and not nounits and value != _NA
                          else str(value))
        lines.append(", ".join(values))
    return "\n".join(lines) + "\n"


def query_gpu(env: Environment, fields: list[str], fmt: str = "csv") -> str:
    """Real mode: run nvidia-smi. Sim mode: render the same text from the simulated node."""
    if env.simulated:
        return render_query_gpu(env, fields, fmt)
    exe = shutil.which("nvidia-smi")
    if exe is None:
        raise HardwareError("nvidia-smi is not on PATH (install the NVIDIA driver utilities)")
    proc = subprocess.run([exe, f"--query-gpu={','.join(fields)}", f"--format={fmt}"],
                          capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise HardwareError(f"nvidia-smi failed (exit {proc.returncode}): "
                            f"{(proc.stdout + proc.stderr).strip()}")
    return proc.stdout
