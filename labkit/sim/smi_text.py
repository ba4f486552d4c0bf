"""The text of ``nvidia-smi`` (the default tables) and ``nvidia-smi -L``, driver 580's layout.

Lab 00 and Lab 02: reading nvidia-smi. Pure renderers over small row records, so that the
simulator fills them from its node and the tests fill them with a real capture's values.
Column positions are taken from real driver-580 captures (shared/reference/mig.md §2.2 and
§2.10(a) [S12]; the Processes row and the timestamp line from public captures, cited below).
Memory is in MiB, power in W, temperature in degrees C.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "GpuRow",
    "MigDeviceRow",
    "ProcessRow",
    "format_default",
    "format_gpu_table",
    "format_list",
    "format_mig_devices",
    "format_processes",
    "timestamp_line",
]

_WIDE = "+" + "-" * 89 + "+"  # 91 columns: every driver-580 table (§2.2, §2.10(a))
_GPU_BORDER = "+" + "-" * 41 + "+" + "-" * 24 + "+" + "-" * 22 + "+"
_MIG_BORDER = "+" + "-" * 18 + "+" + "-" * 34 + "+" + "-" * 11 + "+" + "-" * 23 + "+"
_GPU_HEAD = (
    "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
    "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
    "|                                         |                        |               MIG M. |",
    "|=========================================+========================+======================|",
)
_MIG_HEAD = (
    f"{'| MIG devices:':<90}|",
    _MIG_BORDER,
    "| GPU  GI  CI  MIG |              Shared Memory-Usage |        Vol|        Shared         |",
    "|      ID  ID  Dev |                Shared BAR1-Usage | SM     Unc| CE ENC  DEC  OFA  JPG |",
    "|                  |                                  |        ECC|                       |",
    "|==================+==================================+===========+=======================|",
)
_PROC_HEAD = (
    f"{'| Processes:':<90}|",
    "|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |",
    "|        ID   ID                                                               Usage      |",
    "|" + "=" * 89 + "|",
)


@dataclass(frozen=True)
class GpuRow:
    """One GPU of the default table, as printed (strings where nvidia-smi may print N/A)."""

    index: int
    name: str
    bus_id: str
    memory_used_mib: int
    memory_total_mib: int
    mig_mode: str  # "Enabled" | "Disabled" | "N/A"
    persistence: str = "On"
    display_active: str = "Off"
    ecc: str = "0"  # "Volatile Uncorr. ECC"; every MIG-enabled capture shows "On" (§2.2)
    fan: str = "N/A"
    temperature_c: int = 40
    perf: str = "P0"
    power_w: int = 43
    power_cap_w: int = 400
    utilization: str = "0%"  # "N/A" with MIG enabled (§2.2, §2.10)
    compute_mode: str = "Default"


@dataclass(frozen=True)
class MigDeviceRow:
    """One MIG device (a compute instance) of the MIG devices table (§2.10(a))."""

    gpu: int
    gi_id: int
    ci_id: int
    device: int
    memory_used_mib: int
    memory_total_mib: int
    bar1_used_mib: int
    bar1_total_mib: int
    sm_count: int
    ce: int
    enc: int
    dec: int
    ofa: int
    jpg: int
    ecc: int = 0


@dataclass(frozen=True)
class ProcessRow:
    """One process of the Processes table; ``gi_id``/``ci_id`` None print ``N/A``."""

    gpu: int
    pid: int
    name: str
    used_memory_mib: int
    type: str = "C"
    gi_id: int | None = None
    ci_id: int | None = None


def timestamp_line(now: float | None = None) -> str:
    """The first line: C ``asctime`` (day padded with a space) and 7 trailing spaces, as in
    real captures (e.g. ``Fri May  9 12:58:28 2025       ``, public index id 14068455997)."""
    return time.asctime(time.localtime(now)) + " " * 7


def _name(name: str, width: int) -> str:
    # Long names are cut with "...": "NVIDIA RTX PRO 6000 Blac..." in a driver-580 capture
    # (public index id 71623324811); the cut length is DERIVED from that one capture.
    return name if len(name) <= width - 4 else name[: width - 7] + "..."


def _gpu_lines(row: GpuRow) -> list[str]:
    return [
        f"|{row.index:>4}  {_name(row.name, 31):<31}{row.persistence:<4}"
        f"|   {row.bus_id} {row.display_active:<4}|{row.ecc:>21} |",
        f"|{row.fan:>4}   {row.temperature_c}C    {row.perf}{f'{row.power_w}W':>16} / "
        f"{f'{row.power_cap_w}W':>5} |{f'{row.memory_used_mib}MiB':>11} / "
        f"{f'{row.memory_total_mib}MiB':>9} |{row.utilization:>8}{row.compute_mode:>13} |",
        f"|{'':41}|{'':24}|{row.mig_mode:>21} |",
    ]


def format_gpu_table(rows: Sequence[GpuRow], driver: str, cuda: str,
                     now: float | None = None) -> str:
    """The timestamp, the version banner and the GPU table (§2.2's layout)."""
    lines = [timestamp_line(now), _WIDE,
             f"| NVIDIA-SMI {driver:<23}Driver Version: {driver:<15}CUDA Version: {cuda:<9}|",
             _GPU_BORDER, *_GPU_HEAD]
    for i, row in enumerate(rows):
        if i:
            lines.append(_GPU_BORDER)
        lines += _gpu_lines(row)
    lines.append(_GPU_BORDER)
    return "\n".join(lines)


def format_mig_devices(rows: Sequence[MigDeviceRow]) -> str:
    """The MIG devices table (§2.10(a)); one row pair per compute instance.

    With MIG on and no compute instance, the line ``No MIG devices found`` (older layout,
    §2.8(c) [S10]; its driver-580 form is DERIVED: the same line at this table's width).
    """
    lines = [_WIDE, *_MIG_HEAD]
    if not rows:
        return "\n".join([*lines, f"{'|  No MIG devices found':<90}|", _WIDE])
    for r in rows:
        lines += [
            f"|{r.gpu:>3}{r.gi_id:>5}{r.ci_id:>4}{r.device:>4}  |{f'{r.memory_used_mib}MiB':>19}"
            f" / {f'{r.memory_total_mib}MiB':>8}    | {r.sm_count:<3}{r.ecc:>6} |"
            f"{r.ce:>3}{r.enc:>4}{r.dec:>5}{r.ofa:>5}{r.jpg:>5} |",
            f"|{'':18}|{f'{r.bar1_used_mib}MiB':>19} / {f'{r.bar1_total_mib}MiB':>8}    |"
            f"{'':11}|{'':23}|",
            _MIG_BORDER,
        ]
    return "\n".join(lines)


def format_processes(rows: Sequence[ProcessRow]) -> str:
    """The Processes table. Row layout from real driver-580 captures, e.g.
    ``|    0   N/A  N/A            1480      C   /root/.venv/bin/python   ...  13020MiB |``
    (public index ids 53971116536 [580.126.20] and 60045471146); GI/CI IDs of processes on
    MIG devices are right-aligned in the same columns (DERIVED)."""
    lines = [_WIDE, *_PROC_HEAD]
    if not rows:
        lines.append(f"{'|  No running processes found':<90}|")
    for r in rows:
        gi = "N/A" if r.gi_id is None else str(r.gi_id)
        ci = "N/A" if r.ci_id is None else str(r.ci_id)
        name = r.name if len(r.name) <= 36 else "..." + r.name[-33:]  # DERIVED cut
        lines.append(f"|{r.gpu:>5}{gi:>6}{ci:>5}{r.pid:>16}{r.type:>7}   {name:<36}"
                     f"{f'{r.used_memory_mib}MiB':>10} |")
    lines.append(_WIDE)
    return "\n".join(lines)


def format_default(gpus: Sequence[GpuRow], mig_rows: Sequence[MigDeviceRow] | None,
                   processes: Sequence[ProcessRow], driver: str, cuda: str,
                   now: float | None = None) -> str:
    """``nvidia-smi``: GPU table, MIG devices table (None: no GPU has MIG on), Processes;
    the tables are separated by one empty line (§2.10(a))."""
    parts = [format_gpu_table(gpus, driver, cuda, now)]
    if mig_rows is not None:
        parts.append(format_mig_devices(mig_rows))
    parts.append(format_processes(processes))
    return "\n\n".join(parts)


def format_list(gpus: Sequence[tuple[int, str, str, Sequence[tuple[str, str]]]]) -> str:
    """``nvidia-smi -L``: ``(index, name, uuid, [(mig profile, mig uuid), ...])`` per GPU.

    Layout of current drivers (§2.9(c) [S6, S12]): no leading space before ``GPU``, two before
    ``MIG``, the profile padded to 11, the device index right-aligned in width 2.
    """
    lines = []
    for index, name, gpu_uuid, devices in gpus:
        lines.append(f"GPU {index}: {name} (UUID: {gpu_uuid})")
        lines += [f"  MIG {profile:<11} Device {i:>2}: (UUID: {mig})"
                  for i, (profile, mig) in enumerate(devices)]
    return "\n".join(lines)
