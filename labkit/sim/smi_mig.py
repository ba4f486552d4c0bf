"""The simulated ``nvidia-smi mig``: -lgip, -lgipp, -cgi, -lgi, -lcip, -cci, -lci, -dci, -dgi.

Lab 02. The text and the placement rules are labkit.mig's (formats, placement, compute); this
module picks the GPUs and instances that ``-i``/``-gi``/``-ci`` select, applies the simulator's
rules (MIG on or off, held GPUs), and collects stdout lines and the exit code.
Choices without a capture in shared/reference/mig.md are marked DERIVED.
"""

from __future__ import annotations

from collections.abc import Callable

from labkit.mig import compute, formats, placement
from labkit.mig.catalog import get_model
from labkit.mig.state import InUseError, MigError, MigState

from .node import mig_state, store_mig
from .smi_common import (
    EXIT_NOT_FOUND,
    NO_MIG_ENABLED,
    Option,
    SmiExit,
    exit_code_of,
    invalid_combination,
    parse_options,
    select_gpus,
)

__all__ = ["ACTIONS", "MIG_HELP", "MUTATING", "parse_mig", "run_mig"]

SPEC = (
    Option("help", ("-h", "--help")),
    Option("id", ("-i", "--id"), 1),
    Option("gi", ("-gi", "--gpu-instance-id"), 1),
    Option("ci", ("-ci", "--compute-instance-id"), 1),
    Option("lgip", ("-lgip", "--list-gpu-instance-profiles")),
    Option("lgipp", ("-lgipp", "--list-gpu-instance-possible-placements")),
    Option("C", ("-C", "--default-compute-instance")),
    Option("cgi", ("-cgi", "--create-gpu-instance"), 1),
    Option("dgi", ("-dgi", "--destroy-gpu-instance")),
    Option("lgi", ("-lgi", "--list-gpu-instances")),
    Option("lcip", ("-lcip", "--list-compute-instance-profiles")),
    Option("cci", ("-cci", "--create-compute-instance"), 2),
    Option("dci", ("-dci", "--destroy-compute-instance")),
    Option("lci", ("-lci", "--list-compute-instances")),
)
ACTIONS = ("lgip", "lgipp", "cgi", "dgi", "lgi", "lcip", "cci", "dci", "lci")
MUTATING = frozenset({"cgi", "dgi", "cci", "dci"})

# `nvidia-smi mig -h`, R450-era wording as captured (ref §2.11 [S17], 4-space indent kept).
MIG_HELP = """\
    mig -- Multi Instance GPU management.

    Usage: nvidia-smi mig [options]

    Options include:
    [-h | --help]: Display help information.
    [-i | --id]: Enumeration index, PCI bus ID or UUID.
                 Provide comma separated values for more than one device.
    [-gi | --gpu-instance-id]: GPU instance ID.
                               Provide comma separated values for more than one GPU instance.
    [-ci | --compute-instance-id]: Compute instance ID.
                                   Provide comma separated values for more than one compute
                                   instance.
    [-lgip | --list-gpu-instance-profiles]: List supported GPU instance profiles.
                                            Option -i can be used to restrict the command to
                                            run on a specific GPU.
    [-lgipp | --list-gpu-instance-possible-placements]: List possible GPU instance placements
                                                        in the following format, {Start}:Size.
                                                        Option -i can be used to restrict the
                                                        command to run on a specific GPU.
    [-C | --default-compute-instance]: Create compute instance with the default profile when used
                                       with the option to create a GPU instance (-cgi).
    [-cgi | --create-gpu-instance]: Create GPU instance for the given profile names or IDs.
                                    Provide comma separated values for more than one profile.
                                    Option -i can be used to restrict the command to run on
                                    a specific GPU.
    [-dgi | --destroy-gpu-instance]: Destroy GPU instances.
                                     Options -i and -gi can be used individually or combined
                                     to restrict the command to run on a specific GPU or GPU
                                     instance.
    [-lgi | --list-gpu-instances]: List GPU instances.
                                   Option -i can be used to restrict the command to run on a
                                   specific GPU.
    [-lcip | --list-compute-instance-profiles]: List supported compute instance profiles.
                                                Options -i and -gi can be used individually or
                                                combined to restrict the command to run on a
                                                specific GPU or GPU instance.
    [-cci | --create-compute-instance]: Create compute instance for the given profile name or IDs.
                                        Provide comma separated values for more than one profile.
                                        If no profile name or ID is given, then the default*
                                        compute instance profile ID will be used. Options -i and
                                        -gi can be used individually or combined to restrict the
                                        command to run on a specific GPU or GPU instance.
    [-dci | --destroy-compute-instance]: Destroy compute instances.
                                         Options -i, -gi and -ci can be used individually or
                                         combined to restrict the command to run on a specific
                                         GPU or GPU instance or compute instance.
    [-lci | --list-compute-instances]: List compute instances.
                                       Options -i and -gi can be used individually or combined
                                       to restrict the command to run on a specific GPU or GPU
                                       instance."""


def parse_mig(argv: list[str]) -> dict:
    """Options of ``nvidia-smi mig ...``; the action is ``opts["action"]`` (None: help)."""
    opts = parse_options(argv, SPEC)
    actions = [a for a in ACTIONS if a in opts]
    if len(actions) > 1 or ("C" in opts and actions != ["cgi"]):
        raise invalid_combination()
    for key in ("gi", "ci"):
        if key in opts:
            parts = str(opts[key]).split(",")
            if not all(p.strip().isdigit() for p in parts):
                raise invalid_combination()
            opts[key] = [int(p) for p in parts]
    opts["action"] = None if "help" in opts or not actions else actions[0]
    return opts


def _merge(tables: list[str]) -> str:
    """Several GPUs' tables as one: the first header, then every GPU's rows (DERIVED)."""
    head, rows = [], []
    for text in tables:
        lines = text.split("\n")
        cut = next(i for i, line in enumerate(lines) if line.startswith("|="))
        head = head or lines[: cut + 1]
        rows += lines[cut + 1:]
    return "\n".join(head + rows)


def _mig_gpus(node: dict, opts: dict, *, need_enabled: bool) -> list[tuple[dict, MigState]]:
    """Selected MIG GPUs with their state; the reference's messages when there are none."""
    recs = select_gpus(node, opts.get("id"))
    capable = [r for r in recs if get_model(r["model"]).mig_capable]
    if not capable:
        raise SmiExit([formats.NO_MIG_SUPPORTED], EXIT_NOT_FOUND)  # §2.1(g): exit 6
    if not need_enabled:  # -lgip/-lgipp answer with MIG off on R580 (DERIVED from §2.1(g) [S6])
        return [(r, mig_state(r) or MigState(r["model"])) for r in capable]
    enabled = [(r, mig_state(r)) for r in capable if r["mig_current"]]
    if not enabled:
        raise SmiExit([NO_MIG_ENABLED], EXIT_NOT_FOUND)  # exit code DERIVED for -cgi/-cci/...
    return enabled


def _listed_mig_gpus(node: dict, opts: dict) -> list[tuple[dict, MigState]]:
    """``_mig_gpus`` for the list actions. With MIG off, real -lgi and -lcip print the same
    line but exit 0 (our H200 capture, driver 580.159.04, in
    tests/sim/data/h200_r580_159_capture/); -lci is DERIVED to do the same."""
    try:
        return _mig_gpus(node, opts, need_enabled=True)
    except SmiExit as exc:
        if exc.lines == [NO_MIG_ENABLED]:
            raise SmiExit(exc.lines, 0) from None
        raise


def _gi_ids(state: MigState, opts: dict) -> list[int]:
    return list(opts["gi"]) if "gi" in opts else sorted(g.gi_id for g in state.gpu_instances)


def _listing(gpus, render: Callable[[int, MigState, int | None], str], empty: str,
             opts: dict) -> tuple[list[str], int]:
    tables = []
    for rec, state in gpus:
        for gi in opts.get("gi") or [None]:
            text = render(rec["index"], state, gi)
            if text not in (formats.NO_GPU_INSTANCES, formats.NO_COMPUTE_INSTANCES):
                tables.append(text)
    # DERIVED: an empty listing prints NVML's "Not Found" line and exits 0 (no capture of
    # the code; the course scripts read -lgi's output in pipelines).
    return ([_merge(tables)] if tables else [empty]), 0


def _cgi(gpus, opts: dict, out: list[str]) -> int:
    specs = [s.strip() for s in str(opts["cgi"]).split(",")]
    for rec, state in gpus:
        index = rec["index"]
        try:
            if rec.get("processes"):
                # A process on the GPU blocks GI creation (ref §2.5(h): Xorg held the GPU).
                raise InUseError([
                    f"Unable to create a GPU instance on GPU {index:2d} using profile "
                    f"{specs[0]}: {InUseError.reason}",
                    f"Failed to create GPU instances: {InUseError.reason}"])
            made = placement.create_gis(state, specs, default_ci="C" in opts, gpu_index=index)
            out += formats.cgi_transcript(index, state.model, made)
        except MigError as err:
            out += formats.cgi_transcript(index, state.model, err.done) + list(err.lines)
            return exit_code_of(err)
        finally:
            store_mig(rec, state)
    return 0


def _cci(gpus, opts: dict, out: list[str]) -> int:
    profiles = [None] if opts["cci"] is True else [p.strip() for p in opts["cci"].split(",")]
    for rec, state in gpus:
        index = rec["index"]
        ids = _gi_ids(state, opts)
        if not ids:
            out.append(formats.NO_GPU_INSTANCES)
            return EXIT_NOT_FOUND  # DERIVED
        try:
            for gi_id in ids:
                for profile in profiles:
                    ci = compute.create_ci(state, gi_id, profile, gpu_index=index)
                    out.append(formats.cci_message(index, state.model, state.find_gi(gi_id), ci))
        except MigError as err:
            out += err.lines
            return exit_code_of(err)
        finally:
            store_mig(rec, state)
    return 0


def _dci(gpus, opts: dict, out: list[str]) -> int:
    done = 0
    for rec, state in gpus:
        index = rec["index"]
        held = {(p.get("gi"), p.get("ci")) for p in rec.get("processes", [])}
        try:
            for gi_id in _gi_ids(state, opts):
                gi = state.find_gi(gi_id)
                existing = sorted(c.ci_id for c in gi.compute_instances) if gi else [0]
                for ci_id in opts.get("ci", existing):
                    if (gi_id, ci_id) in held:
                        # NVML refuses while a process runs there; lines DERIVED (-dgi pattern)
                        raise InUseError([
                            f"Unable to destroy compute instance ID {ci_id:2d} from GPU "
                            f"{index:2d} GPU instance ID {gi_id:2d}: {InUseError.reason}",
                            f"Failed to destroy compute instances: {InUseError.reason}"])
                    compute.destroy_ci(state, gi_id, ci_id, gpu_index=index)
                    out.append(formats.dci_message(index, gi_id, ci_id))
                    done += 1
        except MigError as err:
            out += err.lines
            return exit_code_of(err)
        finally:
            store_mig(rec, state)
    if not done:  # nothing to destroy: DERIVED, like -lci's line, exit 6
        out.append(formats.NO_COMPUTE_INSTANCES)
        return EXIT_NOT_FOUND
    return 0


def _dgi(gpus, opts: dict, out: list[str]) -> int:
    done = 0
    for rec, state in gpus:
        index = rec["index"]
        try:
            gis = placement.destroy_gis(state, _gi_ids(state, opts), gpu_index=index)
            out += [formats.dgi_message(index, gi.gi_id) for gi in gis]
            done += len(gis)
        except MigError as err:
            out += [formats.dgi_message(index, gi.gi_id) for gi in err.done] + list(err.lines)
            return exit_code_of(err)
        finally:
            store_mig(rec, state)
    if not done:  # nothing to destroy: DERIVED, like -lgi's line, exit 6
        out.append(formats.NO_GPU_INSTANCES)
        return EXIT_NOT_FOUND
    return 0


def run_mig(opts: dict, node: dict) -> tuple[list[str], int]:
    """Run one parsed ``nvidia-smi mig`` action on ``node`` (changed in place)."""
    action = opts["action"]
    if action is None:
        return MIG_HELP.split("\n"), 0
    if action in ("lgip", "lgipp"):
        gpus = _mig_gpus(node, opts, need_enabled=False)
        if action == "lgipp":
            return [formats.format_lgipp(r["index"], r["model"]) for r, _ in gpus], 0
        return [_merge([formats.format_lgip(r["index"], r["model"], s) for r, s in gpus])], 0
    if action in ("lgi", "lcip", "lci"):
        gpus = _listed_mig_gpus(node, opts)
    else:
        gpus = _mig_gpus(node, opts, need_enabled=True)
    if action == "lgi":
        return _listing(gpus, lambda i, s, _gi: formats.format_lgi(i, s),
                        formats.NO_GPU_INSTANCES, {})
    if action == "lcip":
        return _listing(gpus, formats.format_lcip, formats.NO_GPU_INSTANCES, opts)
    if action == "lci":
        return _listing(gpus, formats.format_lci, formats.NO_COMPUTE_INSTANCES, opts)
    out: list[str] = []
    code = {"cgi": _cgi, "cci": _cci, "dci": _dci, "dgi": _dgi}[action](gpus, opts, out)
    return out, code
