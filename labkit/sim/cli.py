"""``labkit sim``: reset, status, bin, hold, release, reboot, log (Lab 00, Lab 02).

``labkit.cli`` calls `register()`; each command returns an exit code and reports errors as
one ``ERROR:`` line (``labkit.cli.main`` prints them).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from pathlib import Path

from . import node as sim_node
from .state import read_node, reset_node, state_path

__all__ = ["bin_dir", "register"]

_WRAPPER = """\
#!/bin/sh
# The simulated nvidia-smi of labkit (Lab 02), written by 'labkit sim bin'.
# Every run prints one '[labkit sim]' line on stderr; drop this folder from PATH for the real one.
if [ -z "${{LABKIT_SIM_STATE:-}}" ]; then LABKIT_SIM_STATE={state}; fi
export LABKIT_SIM_STATE
exec {python} -m labkit.sim.nvidia_smi "$@"
"""


def bin_dir() -> Path:
    """The folder whose ``nvidia-smi`` runs the simulator: ``<state file>.bin/``.

    One folder per state file (``sim-node.json`` -> ``sim-node.json.bin/``), so two state
    files in one folder each get their own wrapper. The wrapper calls this virtual
    environment's python by its absolute path, so ``PATH="$(labkit sim bin):$PATH"`` works
    from any shell. Rewritten only when it changes.
    """
    state = state_path()
    folder = state.with_name(state.name + ".bin")
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "nvidia-smi"
    text = _WRAPPER.format(state=shlex.quote(str(state)),
                           python=shlex.quote(sys.executable))
    if not script.is_file() or script.read_text() != text:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".nvidia-smi.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, script)
    elif not os.access(script, os.X_OK):
        os.chmod(script, 0o755)
    return folder


def _reset(args) -> int:
    node = reset_node(",".join(args.gpu) if args.gpu else None, source="--gpu")
    print(f"simulated node reset: {node['spec']} ({state_path()})")
    return 0


def _status(args) -> int:
    from labkit.hw import detect
    from labkit.hw.mig import mig_view

    env = detect("sim")
    view = mig_view(env)
    held = {rec["index"]: rec.get("processes", []) for rec in read_node()["gpus"]}
    if args.json:
        print(json.dumps({**env.to_dict(), "mig": view.to_dict()}, indent=2))
        return 0
    print(env.banner())
    for g, m in zip(env.gpus, view.gpus, strict=True):
        print(f"  GPU {g.index}: {g.name} {g.memory_total_mib} MiB, MIG {g.mig_mode} "
              f"(pending {g.mig_pending}), {g.uuid}")
        for gi in m.gpu_instances:
            cis = ", ".join(f"CI {ci.ci_id} {ci.profile}" for ci in m.compute_instances
                            if ci.gi_id == gi.gi_id) or "no compute instance"
            print(f"    GI {gi.gi_id} {gi.profile} at {gi.start}:{gi.size}: {cis}")
        for p in held.get(g.index, []):
            where = f" on GI {p['gi']} CI {p['ci']}" if p.get("gi") is not None else ""
            print(f"    process {p['pid']} {p['name']} {p['used_memory_mib']} MiB{where}")
    print(f"state: {env.source}")
    return 0


def _bin(args) -> int:
    print(bin_dir())
    return 0


def _hold(args) -> int:
    proc = sim_node.hold(args.gpu, name=args.name, memory_mib=args.memory, gi=args.gi,
                         ci=args.ci)
    print(f"GPU {args.gpu}: simulated process {proc['pid']} ({proc['name']}, "
          f"{proc['used_memory_mib']} MiB) holds it; 'labkit sim release --gpu {args.gpu}' "
          "ends it")
    return 0


def _release(args) -> int:
    gone = sim_node.release(args.gpu)
    print(f"GPU {args.gpu}: " + (f"ended {len(gone)} simulated process(es) "
                                 f"({', '.join(str(p['pid']) for p in gone)})" if gone
                                 else "no simulated process held it: nothing to do"))
    return 0


def _reboot(args) -> int:
    node = sim_node.reboot()
    print(f"simulated node rebooted (boot {node['boots']}): GPU and compute instances are gone")
    for rec in node["gpus"]:
        mode = "Enabled" if rec["mig_current"] else "Disabled"
        print(f"  GPU {rec['index']} {rec['model']}: MIG {mode}")
    return 0


def _log(args) -> int:
    node = read_node()
    entries = node.get("history", [])[-args.last:] if args.last else node.get("history", [])
    print("# the simulated node's command log: a grading aid of this course "
          "(a real nvidia-smi keeps none)")
    for entry in entries:
        print(f"{entry['seq']:>5}  exit {entry['exit']:<3} {entry['command']}")
    return 0


def register(subparsers) -> None:
    """Add ``labkit sim ...`` to the ``labkit`` parser's subcommands."""
    sim = subparsers.add_parser("sim", help="the simulated GPU node").add_subparsers(
        dest="sim_command", required=True)
    p = sim.add_parser("reset", help="boot a fresh simulated node",
                       description="Boot a fresh simulated node. While LABKIT_SIM_GPUS is "
                                   "set it decides the node's GPUs (every command rebuilds "
                                   "the node from it), so --gpu must agree with it: change "
                                   "or unset the variable to pick other GPUs.")
    p.add_argument("--gpu", action="append", metavar="MODEL[:COUNT]",
                   help="GPUs of the node, e.g. A100-SXM4-40GB:2 (repeatable; "
                        "default LABKIT_SIM_GPUS or one A100-SXM4-40GB; refused when "
                        "LABKIT_SIM_GPUS is set to other GPUs)")
    p.set_defaults(func=_reset)
    p = sim.add_parser("status", help="show the simulated node")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)
    p = sim.add_parser("bin", help="print a folder whose nvidia-smi is the simulator "
                                   '(use: PATH="$(labkit sim bin):$PATH")')
    p.set_defaults(func=_bin)
    p = sim.add_parser("hold", help="start a simulated process on a GPU "
                                    "(teaches 'In use by another client')")
    p.add_argument("--gpu", type=int, required=True, metavar="N")
    p.add_argument("--name", default="sim-cuda-app", help="process name nvidia-smi shows")
    p.add_argument("--memory", type=int, default=512, metavar="MIB",
                   help="GPU memory it uses, MiB (default 512)")
    p.add_argument("--gi", type=int, default=None, help="run it on this GPU instance ...")
    p.add_argument("--ci", type=int, default=None, help="... and this compute instance")
    p.set_defaults(func=_hold)
    p = sim.add_parser("release", help="end the simulated processes on a GPU")
    p.add_argument("--gpu", type=int, required=True, metavar="N")
    p.set_defaults(func=_release)
    p = sim.add_parser("reboot", help="reboot the simulated node (instances vanish; MIG "
                                      "mode persists on Ampere, not on Hopper)")
    p.set_defaults(func=_reboot)
    p = sim.add_parser("log", help="list the commands that changed the simulated node "
                                   "(the course's grading aid; a real nvidia-smi keeps no log)")
    p.add_argument("--last", type=int, default=20, metavar="N",
                   help="only the last N entries (default 20; 0 for all)")
    p.set_defaults(func=_log)
