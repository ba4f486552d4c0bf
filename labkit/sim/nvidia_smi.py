"""The simulated ``nvidia-smi``: driver 580's output, answered from the simulated node.

Lab 00 and Lab 02. ``labkit sim bin`` puts a ``nvidia-smi`` that runs this module first on
PATH, so the course scripts run unchanged. Every run writes exactly one line to stderr that
says it is simulated (and names the state file); stdout keeps the real tool's format and the
exit code follows the real tool's (`labkit.sim.smi_common`). Supported::

    nvidia-smi [-i ID[,ID]]                        default tables (GPUs, MIG devices, processes)
    nvidia-smi -L [-i ...]                         GPUs and MIG devices with their UUIDs
    nvidia-smi --query-gpu=F,... --format=csv[,noheader][,nounits] [-i ...]
    nvidia-smi --query-compute-apps=F,... --format=csv[...] [-i ...]
    nvidia-smi [-i ...] -mig 0|1                    MIG mode, pending while a process holds it
    nvidia-smi mig -lgip|-lgipp|-cgi L [-C]|-lgi|-lcip|-cci [L]|-lci|-dci|-dgi [-i/-gi/-ci]

Run it as ``python -m labkit.sim.nvidia_smi ARGS``.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

from labkit.hw.sim import environment_from_node
from labkit.hw.smi import QUERY_FIELDS, render_query_gpu
from labkit.mig.catalog import get_ci_profile, get_model, get_profile

from . import history, smi_mig, smi_text
from .node import bar1_total_mib, gi_used_mib, memory_used_mib, mig_device_list, mig_state
from .node import set_mig_mode as change_mig_mode
from .smi_common import (
    EXIT_INVALID,
    EXIT_OTHER,
    Option,
    SmiExit,
    invalid_combination,
    parse_options,
    select_gpus,
)
from .state import read_node, state_path, transaction

__all__ = ["main", "run"]

SPEC = (
    Option("help", ("-h", "--help")),
    Option("list", ("-L", "--list-gpus")),
    Option("id", ("-i", "--id"), 1),
    Option("query_gpu", ("--query-gpu",), 1),
    Option("query_apps", ("--query-compute-apps",), 1),
    Option("format", ("--format",), 1),
    Option("mig", ("-mig", "--multi-instance-gpu"), 1),
)
# Real options the simulator does not answer: an empty stdout, exit 2, and a stderr note.
UNSIMULATED = frozenset({
    "-q", "--query", "-x", "--xml-format", "-d", "--display", "-l", "--loop", "-lms",
    "--loop-ms", "-f", "--filename", "-u", "--unit", "-pm", "--persistence-mode", "-r",
    "--gpu-reset", "-c", "--compute-mode", "-e", "--ecc-config", "-pl", "--power-limit",
    "-ac", "--applications-clocks", "-rac", "-lgc", "-rgc", "--version", "-B", "-s",
    "--query-supported-clocks", "--query-accounted-apps", "--query-retired-pages",
    "--query-remapped-rows", "topo", "dmon", "pmon", "nvlink", "clocks", "vgpu", "drain",
    "conf-compute", "boost-slider", "power-hint",
})
HELP = """\
NVIDIA System Management Interface -- simulated by labkit (Lab 00, Lab 02).

    nvidia-smi [-i ID]                 GPUs, MIG devices and processes
    nvidia-smi -L                      GPUs and MIG devices with their UUIDs
    nvidia-smi --query-gpu=FIELDS --format=csv[,noheader][,nounits]
    nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv
    nvidia-smi -i ID -mig 0|1          disable or enable MIG mode
    nvidia-smi mig -h                  MIG management"""
# --query-compute-apps fields: the header prints the canonical name ("used_memory" prints
# "used_gpu_memory [MiB]", public index ids 65762605414, 61518583953); no row when idle.
_APP_FIELDS = {
    "pid": ("pid", "", lambda p, g: p["pid"]),
    "process_name": ("process_name", "", lambda p, g: p["name"]),
    "name": ("process_name", "", lambda p, g: p["name"]),
    "used_memory": ("used_gpu_memory", "MiB", lambda p, g: p["used_memory_mib"]),
    "used_gpu_memory": ("used_gpu_memory", "MiB", lambda p, g: p["used_memory_mib"]),
    "gpu_uuid": ("gpu_uuid", "", lambda p, g: g["uuid"]),
    "gpu_bus_id": ("gpu_bus_id", "", lambda p, g: g["bus_id"]),
    "gpu_name": ("gpu_name", "", lambda p, g: get_model(g["model"]).product_name),
}


def _csv_format(opts: dict) -> tuple[bool, bool]:
    parts = [p.strip() for p in str(opts.get("format", "")).split(",")]
    if parts[0] != "csv" or not set(parts[1:]) <= {"noheader", "nounits"}:
        raise invalid_combination()  # DERIVED: no capture of a bad --format
    return "noheader" in parts, "nounits" in parts


def _bad_field(name: str) -> SmiExit:
    # Verbatim pattern of real runs, on stdout, then an empty line (public index ids
    # 54053560940, 67139308037); exit code DERIVED (2, an invalid argument).
    return SmiExit([f'Field "{name}" is not a valid field to query.', ""], EXIT_INVALID)


# Real --query-gpu fields (see `nvidia-smi --help-query-gpu`) that the simulator does not
# answer: rather than call them invalid, it prints nothing and says so on the stderr line.
_REAL_FIELD_PREFIXES = ("temperature.", "power.", "clocks.", "clocks_event_reasons.",
                        "clocks_throttle_reasons.", "fan.", "ecc.", "pcie.", "pci.", "encoder.",
                        "inforom.", "retired_pages.", "enforced.", "accounting.", "mig.")
_REAL_FIELDS = frozenset({"timestamp", "serial", "vbios_version", "pstate", "persistence_mode",
                          "compute_mode", "display_mode", "display_active", "gpu_name",
                          "gpu_uuid", "gpu_bus_id", "gpu_serial", "memory.reserved",
                          "utilization.memory", "compute_cap", "vgpu_driver_capability"})


def _query_gpu(node: dict, opts: dict) -> list[str]:
    _csv_format(opts)
    fields = [f.strip() for f in str(opts["query_gpu"]).split(",")]
    for f in fields:
        if f not in QUERY_FIELDS:
            if f in _REAL_FIELDS or f.startswith(_REAL_FIELD_PREFIXES):
                raise SmiExit([], EXIT_INVALID, note=f"field {f} is not simulated")
            raise _bad_field(f)
    indices = [g["index"] for g in select_gpus(node, opts.get("id"))]
    text = render_query_gpu(environment_from_node(node, str(state_path())), fields,
                            str(opts["format"]).replace(" ", ""), indices=indices)
    return text.rstrip("\n").split("\n")


def _query_apps(node: dict, opts: dict) -> list[str]:
    noheader, nounits = _csv_format(opts)
    fields = [f.strip() for f in str(opts["query_apps"]).split(",")]
    for f in fields:
        if f not in _APP_FIELDS:
            raise _bad_field(f)
    lines = [] if noheader else [", ".join(
        f"{_APP_FIELDS[f][0]} [{_APP_FIELDS[f][1]}]" if _APP_FIELDS[f][1] else _APP_FIELDS[f][0]
        for f in fields)]
    for gpu in select_gpus(node, opts.get("id")):
        for proc in gpu.get("processes", []):
            values = []
            for f in fields:
                _, unit, get = _APP_FIELDS[f]
                value = get(proc, gpu)
                values.append(f"{value} {unit}" if unit and not nounits else str(value))
            lines.append(", ".join(values))
    return lines


def _mig_mode(node: dict, opts: dict) -> tuple[list[str], int]:
    """``-mig 0|1`` per selected GPU; texts verbatim from ref §2.1(a)/(d)/(e)/(f)."""
    if opts["mig"] not in ("0", "1"):
        raise invalid_combination()  # DERIVED
    enable = opts["mig"] == "1"
    verb = "enable" if enable else "disable"
    out: list[str] = []
    for rec in select_gpus(node, opts.get("id")):
        change = change_mig_mode(rec, enable)
        bus = change.bus_id
        if change.outcome == "done":
            out.append(f"{'Enabled' if enable else 'Disabled'} MIG Mode for GPU {bus}")
        elif change.outcome == "pending":
            out += [f"Warning: MIG mode is in pending enable state for GPU {bus}:"
                    "In use by another client",
                    f"{bus} is currently being used by one or more other processes (e.g. CUDA "
                    "application or a monitoring application such as another instance of "
                    "nvidia-smi). Please first kill all processes using the device and retry "
                    "the command or reboot the system to make MIG mode effective."]
        elif change.outcome == "not_supported":
            # Verbatim for enable on driver 580.65.06 (public index id 65875275510); the
            # disable wording is DERIVED from it. "All done." follows: a warning, exit 0.
            out += [f"Unable to {verb} MIG Mode for GPU {bus}: Not Supported",
                    "Treating as warning and moving on."]
        else:  # busy: §2.1(f); exit code DERIVED (255, "Other error")
            return out + [f"Unable to disable MIG Mode for GPU {bus}: In use by another client",
                          "Terminating early due to previous errors."], EXIT_OTHER
    return out + ["All done."], 0


def _list(node: dict, opts: dict) -> list[str]:
    recs = select_gpus(node, opts.get("id"))
    return smi_text.format_list([
        (r["index"], get_model(r["model"]).product_name, r["uuid"],
         [(profile, uid) for _, _, profile, uid in mig_device_list(r)]) for r in recs
    ]).split("\n")


# Power cap per model (W): the A100-SXM4-40GB's 400 W is in the §2.2 capture; the others are
# the maximum board power of NVIDIA's product datasheets. Idle draw is DERIVED as §2.2's
# 43 W / 400 W of the cap; fan, temperature and P-state are §2.2's (N/A, 40C, P0).
_POWER_CAP_W = {"A100-SXM4-40GB": 400, "A100-SXM4-80GB": 400, "H100-SXM5-80GB": 700,
                "H100-PCIE-80GB": 350, "H100-NVL-94GB": 400, "H200-141GB": 700,
                "V100-SXM2-32GB": 300, "T4": 70, "L4": 72, "RTX-3090": 350}


def _gpu_row(rec: dict) -> smi_text.GpuRow:
    model = get_model(rec["model"])
    cap = _POWER_CAP_W.get(model.name, 400)
    geforce = "GeForce" in model.product_name
    mig_on = bool(rec["mig_current"])
    return smi_text.GpuRow(
        index=rec["index"], name=model.product_name, bus_id=rec["bus_id"],
        memory_used_mib=memory_used_mib(rec), memory_total_mib=model.memory_mib,
        mig_mode=("Enabled" if mig_on else "Disabled") if model.mig_capable else "N/A",
        ecc="On" if mig_on else ("N/A" if geforce else "0"),  # §2.2 note
        fan="0%" if geforce else "N/A", power_w=round(cap * 43 / 400), power_cap_w=cap,
        utilization="N/A" if mig_on else "0%")


def _mig_rows(rec: dict) -> list[smi_text.MigDeviceRow]:
    state = mig_state(rec)
    rows = []
    for dev, (gi_id, ci_id, profile, _) in enumerate(mig_device_list(rec)):
        gi = state.find_gi(gi_id)
        gp = get_profile(state.model, gi.profile)
        cp = get_ci_profile(state.model, gp, profile)
        rows.append(smi_text.MigDeviceRow(
            gpu=rec["index"], gi_id=gi_id, ci_id=ci_id, device=dev,
            memory_used_mib=gi_used_mib(rec, gi_id), memory_total_mib=gp.memory_mib,
            bar1_used_mib=0, bar1_total_mib=bar1_total_mib(state.model, gi.size),
            sm_count=cp.sm_count, ce=gp.ce, enc=gp.enc, dec=gp.dec, ofa=gp.ofa, jpg=gp.jpg))
    return rows


def _default(node: dict, opts: dict, now: float | None) -> list[str]:
    recs = select_gpus(node, opts.get("id"))
    mig = [rec for rec in recs if rec["mig_current"]]
    procs = [smi_text.ProcessRow(r["index"], p["pid"], p["name"], p["used_memory_mib"],
                                 p.get("type", "C"), p.get("gi"), p.get("ci"))
             for r in recs for p in r.get("processes", [])]
    text = smi_text.format_default(
        [_gpu_row(r) for r in recs], [row for r in mig for row in _mig_rows(r)] if mig else None,
        procs, node["driver_version"], node["cuda_version"], now)
    return text.split("\n")


def run(argv: Sequence[str], now: float | None = None) -> tuple[list[str], int, str]:
    """Run one command line: ``(stdout lines, exit code, note for the stderr line)``."""
    argv = list(argv)
    try:
        if argv[:1] == ["mig"]:
            opts = smi_mig.parse_mig(argv[1:])
            if opts["action"] in smi_mig.MUTATING:
                with transaction() as node:
                    before = history.layout_digest(node)
                    lines, code = smi_mig.run_mig(opts, node)
                    history.record(node, shlex.join(["nvidia-smi", *argv]), before, code)
                return lines, code, ""
            lines, code = smi_mig.run_mig(opts, read_node())
            return lines, code, ""
        opts = parse_options(argv, SPEC, UNSIMULATED)
        actions = [k for k in ("list", "query_gpu", "query_apps", "mig") if k in opts]
        if len(actions) > 1 or ("format" in opts) != bool(
                {"query_gpu", "query_apps"} & set(actions)):
            raise invalid_combination()
        if "help" in opts:
            return HELP.split("\n"), 0, ""
        if "mig" in opts:
            with transaction() as node:
                before = history.layout_digest(node)
                lines, code = _mig_mode(node, opts)
                history.record(node, shlex.join(["nvidia-smi", *argv]), before, code)
            return lines, code, ""
        node = read_node()
        if "list" in opts:
            return _list(node, opts), 0, ""
        if "query_gpu" in opts:
            return _query_gpu(node, opts), 0, ""
        if "query_apps" in opts:
            return _query_apps(node, opts), 0, ""
        return _default(node, opts, now), 0, ""
    except SmiExit as stop:
        return stop.lines, stop.code, stop.note


def main(argv: Sequence[str] | None = None) -> int:
    """The ``nvidia-smi`` command line; returns its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        lines, code, note = run(argv)
    except Exception as exc:  # a broken state file etc.: say so on the one stderr line
        lines, code, note = [], EXIT_OTHER, f"ERROR: {exc}"
    print(f"[labkit sim] simulated nvidia-smi, state {state_path()}"
          + (f": {note}" if note else ""), file=sys.stderr, flush=True)
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
