"""nvidia-smi MIG text, rendered from the catalog and a ``MigState``, and parsed back.

Lab 02: reading ``nvidia-smi mig`` output. The layout is driver 580's (ref §1.1(b), §2.3(d),
§2.6(f), §2.7(c) [S12]); column positions are DERIVED from those captures. Renderers return the
text without a trailing newline; memory is in GiB with two decimals, as nvidia-smi prints it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from labkit.mig.catalog import GpuModel, get_ci_profile, get_model, get_profile
from labkit.mig.compute import ci_free_count
from labkit.mig.placement import availability
from labkit.mig.state import CiInstance, GiInstance, MigState

__all__ = [
    "NO_COMPUTE_INSTANCES",
    "NO_GPU_INSTANCES",
    "NO_MIG_SUPPORTED",
    "LciRecord",
    "LgiRecord",
    "LgipRecord",
    "cci_message",
    "cgi_message",
    "cgi_transcript",
    "dci_message",
    "dgi_message",
    "format_lci",
    "format_lcip",
    "format_lgi",
    "format_lgip",
    "format_lgipp",
    "parse_lci",
    "parse_lgi",
    "parse_lgip",
    "parse_lgipp",
]

NO_GPU_INSTANCES = "No GPU instances found: Not Found"  # ref §2.6(h)
NO_MIG_SUPPORTED = "No MIG-supported devices found."  # -lgip on a non-MIG GPU, exit 6 (ref §2.1(g))
NO_COMPUTE_INSTANCES = "No compute instances found: Not Found"  # ref §2.7(e)

_LGIP_HEAD = (
    "| GPU instance profiles:",
    "| GPU   Name               ID    Instances   Memory     P2P    SM    DEC   ENC  |",
    "|                                Free/Total   GiB              CE    JPEG  OFA  |",
)
_LGI_HEAD = (
    "| GPU instances:",
    "| GPU   Name               Profile  Instance   Placement  |",
    "|                            ID       ID       Start:Size |",
)
_LCIP_HEAD = (
    "| Compute instance profiles:",
    "| GPU     GPU       Name             Profile  Instances   Exclusive       Shared       |",
    "|       Instance                       ID     Free/Total     SM       DEC   ENC   OFA  |",
    "|         ID                                                          CE    JPEG       |",
)
_LCI_HEAD = (
    "| Compute instances:",
    "| GPU     GPU       Name             Profile   Instance   Placement  |",
    "|       Instance                       ID        ID       Start:Size |",
    "|         ID                                                         |",
)


def _table(head: tuple[str, ...], rows: Iterable[list[str]]) -> str:
    width = len(head[1])
    border = "+" + "-" * (width - 2) + "+"
    lines = [border, head[0].ljust(width - 1) + "|", *head[1:], "|" + "=" * (width - 2) + "|"]
    for row in rows:
        lines += [*row, border]
    return "\n".join(lines)


def _gi_order(state: MigState) -> list[GiInstance]:
    # Profile ID descending, then GI ID: the order of every captured -lgi (ref §2.6, DERIVED rule).
    pid = {p.name: p.profile_id for p in state.gpu_model.gi_profiles}
    return sorted(state.gpu_instances, key=lambda gi: (-pid[gi.profile], gi.gi_id))


def format_lgip(gpu_index: int, model: str | GpuModel, state: MigState | None = None) -> str:
    """``nvidia-smi mig -i <gpu> -lgip``: profiles with ``Free/Total`` for the current state.

    ``state`` None means no GPU instances yet; a non-MIG model prints ``NO_MIG_SUPPORTED``.
    """
    model = get_model(model)
    if not model.mig_capable:
        return NO_MIG_SUPPORTED
    if state is not None and state.model != model.name:
        raise ValueError(f"state is for {state.model}, not {model.name}")
    state = state or MigState(model.name)
    rows = []
    for p, free, total in availability(state):
        rows.append(
            [
                f"|{gpu_index:>4}  {'MIG ' + p.name:<20}{p.profile_id:>2}     "
                f"{f'{free}/{total}':<11}{p.memory_gib:<11.2f}{'Yes' if p.p2p else 'No':<7}"
                f"{p.sm_count:<7}{p.dec:<6}{p.enc:<4}|",
                f"|{'':62}{p.ce:>2}     {p.jpg:<6}{p.ofa:<4}|",
            ]
        )
    return _table(_LGIP_HEAD, rows)


def format_lgipp(gpu_index: int, model: str | GpuModel) -> str:
    """``nvidia-smi mig -i <gpu> -lgipp``: every placement, ``{starts}:size`` (static, ref §2.4)."""
    model = get_model(model)
    if not model.mig_capable:
        return NO_MIG_SUPPORTED
    lines = []
    for p in model.gi_profiles:
        label = "Placements:" if len(p.starts) > 1 else "Placement :"
        starts = ",".join(str(s) for s in p.starts)
        lines.append(
            f"GPU {gpu_index:2d} Profile ID {p.profile_id:2d} {label} "
            f"{{{starts}}}:{p.memory_slices}"
        )
    return "\n".join(lines)


def format_lgi(gpu_index: int, state: MigState) -> str:
    """``nvidia-smi mig -i <gpu> -lgi``; ``NO_GPU_INSTANCES`` when there are none."""
    if not state.gpu_instances:
        return NO_GPU_INSTANCES
    rows = []
    for gi in _gi_order(state):
        pid = get_profile(state.model, gi.profile).profile_id
        rows.append(
            [
                f"|{gpu_index:>4}  {'MIG ' + gi.profile:<22}{pid:>2}{gi.gi_id:>9}"
                f"{f'{gi.start}:{gi.size}':>13}     |"
            ]
        )
    return _table(_LGI_HEAD, rows)


def _selected(state: MigState, gi_id: int | None) -> list[GiInstance]:
    return [gi for gi in _gi_order(state) if gi_id is None or gi.gi_id == gi_id]


def format_lcip(gpu_index: int, state: MigState, gi_id: int | None = None) -> str:
    """``nvidia-smi mig -i <gpu> [-gi <id>] -lcip``: CI profiles per GI with ``Free/Total``.

    The engine columns are the GI's shared engines; ``*`` marks the default profile.
    """
    gis = _selected(state, gi_id)
    if not gis:
        return NO_GPU_INSTANCES
    rows = []
    for gi in gis:
        gp = get_profile(state.model, gi.profile)
        for cp in gp.ci_profiles:
            pid = f"{cp.profile_id}{'*' if cp.is_default else ''}"
            free = f"{ci_free_count(state, gi.gi_id, cp)}/{cp.max_count}"
            rows.append(
                [
                    f"|{gpu_index:>4}{gi.gi_id:>7}       {'MIG ' + cp.name:<21}{pid:<7}{free:<14}"
                    f"{cp.sm_count:<10}{gp.dec:<6}{gp.enc:<6}{gp.ofa:<4}|",
                    f"|{'':70}{gp.ce:<6}{gp.jpg:<10}|",
                ]
            )
    return _table(_LCIP_HEAD, rows)


def format_lci(gpu_index: int, state: MigState, gi_id: int | None = None) -> str:
    """``nvidia-smi mig -i <gpu> [-gi <id>] -lci``; ``NO_COMPUTE_INSTANCES`` when there are none."""
    rows = []
    for gi in _selected(state, gi_id):
        for ci in sorted(gi.compute_instances, key=lambda c: c.ci_id):
            pid = get_ci_profile(state.model, gi.profile, ci.profile).profile_id
            place = f"{ci.start}:{ci.size}"
            name = f"MIG {ci.profile}"
            rows.append(
                [f"|{gpu_index:>4}{gi.gi_id:>7}       {name:<21}{pid:<10}{ci.ci_id:<11}{place:<8}|"]
            )
    return _table(_LCI_HEAD, rows) if rows else NO_COMPUTE_INSTANCES


def cgi_message(gpu_index: int, model: str | GpuModel, gi: GiInstance) -> str:
    """The success line of ``-cgi`` (ref §2.5); IDs right-aligned in width 2."""
    pid = get_profile(model, gi.profile).profile_id
    return (
        f"Successfully created GPU instance ID {gi.gi_id:2d} on GPU {gpu_index:2d} "
        f"using profile MIG {gi.profile} (ID {pid:2d})"
    )


def cci_message(gpu_index: int, model: str | GpuModel, gi: GiInstance, ci: CiInstance) -> str:
    """The success line of ``-cci`` (driver 580 form with the CI ID, ref §2.7(c))."""
    pid = get_ci_profile(model, gi.profile, ci.profile).profile_id
    return (
        f"Successfully created compute instance ID {ci.ci_id:2d} on GPU {gpu_index:2d} "
        f"GPU instance ID {gi.gi_id:2d} using profile MIG {ci.profile} (ID {pid:2d})"
    )


def dci_message(gpu_index: int, gi_id: int, ci_id: int) -> str:
    """The success line of ``-dci`` (ref §2.8(a))."""
    return (
        f"Successfully destroyed compute instance ID {ci_id:2d} from GPU {gpu_index:2d} "
        f"GPU instance ID {gi_id:2d}"
    )


def dgi_message(gpu_index: int, gi_id: int) -> str:
    """The success line of ``-dgi`` (ref §2.8(a))."""
    return f"Successfully destroyed GPU instance ID {gi_id:2d} from GPU {gpu_index:2d}"


def cgi_transcript(gpu_index: int, model: str | GpuModel, gis: Iterable[GiInstance]) -> list[str]:
    """Lines ``-cgi [-C]`` prints for GIs just created: each GI, then its CIs (ref §2.5(a))."""
    lines = []
    for gi in gis:
        lines.append(cgi_message(gpu_index, model, gi))
        lines += [cci_message(gpu_index, model, gi, ci) for ci in gi.compute_instances]
    return lines


@dataclass(frozen=True)
class LgipRecord:
    """One ``-lgip`` row; ``ce``/``jpg``/``ofa`` are None where a capture lacks the second row."""

    gpu: int
    name: str
    profile_id: int
    free: int
    total: int
    memory_gib: float
    p2p: bool
    sm_count: int
    dec: int
    enc: int
    ce: int | None = None
    jpg: int | None = None
    ofa: int | None = None


@dataclass(frozen=True)
class LgiRecord:
    """One ``-lgi`` row: placement in memory slices."""

    gpu: int
    name: str
    profile_id: int
    gi_id: int
    start: int
    size: int


@dataclass(frozen=True)
class LciRecord:
    """One ``-lci`` row: the compute instance ``ci_id`` inside GPU instance ``gi_id``."""

    gpu: int
    gi_id: int
    name: str  # "3g.20gb" for a GI's default (full) CI, "1c.3g.20gb" for a smaller one
    profile_id: int
    ci_id: int
    start: int
    size: int


_LGIP_ROW = re.compile(
    r"^\|\s*(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)/(\d+)\s+([\d.]+)\s+(Yes|No)\s+(\d+)\s+(\d+)\s+(\d+)\s*\|$"
)
_LGIP_ROW2 = re.compile(r"^\|\s+(\d+)\s+(\d+)\s+(\d+)\s*\|$")
_LGI_ROW = re.compile(r"^\|\s*(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+):(\d+)\s*\|$")
# GPU, GI ID, name, profile ID, CI ID, start:size (ref §2.7). An -lgi row has one number
# before "MIG", so it never matches.
_LCI_ROW = re.compile(r"^\|\s*(\d+)\s+(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+):(\d+)\s*\|$")
_LGIPP_ROW = re.compile(r"^GPU\s+(\d+) Profile ID\s+(\d+) Placements?\s*:\s*\{([\d,]*)\}:(\d+)$")


def parse_lgip(text: str) -> list[LgipRecord]:
    """Records from ``-lgip`` text of any driver era (widths vary, ref §2.3)."""
    records: list[LgipRecord] = []
    for line in text.splitlines():
        line = line.strip()
        if m := _LGIP_ROW.match(line):
            g, name, pid, free, total, mem, p2p, sm, dec, enc = m.groups()
            numbers = (int(free), int(total), float(mem), p2p == "Yes", int(sm), int(dec), int(enc))
            records.append(LgipRecord(int(g), name, int(pid), *numbers))
        elif (m := _LGIP_ROW2.match(line)) and records and records[-1].ce is None:
            ce, jpg, ofa = (int(x) for x in m.groups())
            records[-1] = replace(records[-1], ce=ce, jpg=jpg, ofa=ofa)
    return records


def parse_lgi(text: str) -> list[LgiRecord]:
    """Records from ``-lgi`` text (old and driver-580 widths, ref §2.6)."""
    return [
        LgiRecord(int(g), name, int(pid), int(gi), int(start), int(size))
        for g, name, pid, gi, start, size in (
            m.groups() for m in map(_LGI_ROW.match, text.splitlines()) if m
        )
    ]


def parse_lci(text: str) -> list[LciRecord]:
    """Records from ``-lci`` text (ref §2.7)."""
    return [
        LciRecord(int(g), int(gi), name, int(pid), int(ci), int(start), int(size))
        for g, gi, name, pid, ci, start, size in (
            m.groups() for m in map(_LCI_ROW.match, map(str.strip, text.splitlines())) if m
        )
    ]


def parse_lgipp(text: str) -> dict[tuple[int, int], tuple[tuple[int, ...], int]]:
    """``{(gpu, profile_id): (starts, size)}`` from ``-lgipp`` text (ref §2.4)."""
    out = {}
    for line in text.splitlines():
        if m := _LGIPP_ROW.match(line.strip()):
            g, pid, starts, size = m.groups()
            out[(int(g), int(pid))] = (tuple(int(s) for s in starts.split(",") if s), int(size))
    return out
