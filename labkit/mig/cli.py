"""``python -m labkit.mig.cli``: the MIG engine as small commands for the Lab 02 scripts.

The bash scripts in scripts/mig/ check a layout *before* they change anything, and compare
what ``nvidia-smi mig -lgi`` shows with what they were asked for (idempotence). These
commands do that work with the same engine the simulator and the notebooks use, and print
one machine-readable answer on stdout; problems go to stderr with exit code 7.

    plan --model M --profiles P[,P...]          -> the -cgi argument ("2g.10gb:0,3g.20gb:4")
    parted --file F --config NAME --model M --gpu N
                                                -> "enabled P,P..." | "disabled"
    layout                                       stdin: nvidia-smi mig -lgi; -> sorted profiles
    compute-instances                            stdin: -lgi then -lci text; -> one line per
                                                 GPU instance lacking its default compute
                                                 instance: "missing ID" (no CI at all) or
                                                 "other ID" (only smaller CIs); empty when
                                                 every GI has its default CI
    device-plugin-values FILE                    validate Helm values (migStrategy, sharing)
    pod-resources FILE --strategy S --model M    MIG resources a pod requests, checked
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from . import partedconfig
from .catalog import get_model
from .formats import parse_lci, parse_lgi
from .planner import plan_layout

__all__ = ["main", "mig_resource_names"]

EXIT_INVALID = 7
STRATEGIES = ("none", "single", "mixed")


class _Invalid(Exception):
    """A user error to report on stderr with exit code 7."""


def _profiles(text: str) -> list[str]:
    return [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]


def cmd_plan(args) -> str:
    layout = plan_layout(args.model, _profiles(args.profiles))
    return layout.cgi_argument()


def cmd_parted(args) -> str:
    cfg = partedconfig.load(Path(args.file))
    entries = [e for e in partedconfig.select(cfg, args.config)
               if partedconfig.matches(e, args.gpu, args.model)]
    if not entries:
        raise _Invalid(f"config '{args.config}' in {args.file} has no entry for GPU "
                       f"{args.gpu} ({args.model}); check its 'devices' and 'device-filter'")
    entry = entries[-1]  # mig-parted applies entries in order: the last match wins
    if not entry.mig_enabled:
        return "disabled"
    actions = partedconfig.to_actions(args.model, entry)
    ordered = sorted(actions, key=lambda a: a.start)
    return "enabled " + ",".join(f"{a.profile}:{a.start}" for a in ordered)


def cmd_layout(args) -> str:
    return ",".join(sorted(r.name.removeprefix("MIG ") for r in parse_lgi(sys.stdin.read())))


def cmd_compute_instances(args) -> str:
    """GPU instances without their default compute instance (the one ``-cgi ... -C`` makes).

    The default compute instance spans the whole GPU instance, so ``-lci`` names it with the
    GPU-instance profile (``MIG 3g.20gb``); smaller ones carry a ``1c.``-style prefix.
    """
    text = sys.stdin.read()
    cis: dict[int, set[str]] = {}
    for ci in parse_lci(text):
        cis.setdefault(ci.gi_id, set()).add(ci.name)
    out = []
    for gi in sorted(parse_lgi(text), key=lambda r: r.gi_id):
        profile = gi.name.removeprefix("MIG ")
        if gi.gi_id not in cis:
            out.append(f"missing {gi.gi_id}")
        elif profile not in cis[gi.gi_id]:
            out.append(f"other {gi.gi_id}")
    return "\n".join(out)


def mig_resource_names(model: str, strategy: str) -> set[str]:
    """Extended resources the device plugin advertises for a MIG GPU (ref mig.md §4.1)."""
    if strategy not in STRATEGIES:
        raise _Invalid(f"unknown MIG strategy: {strategy} (valid: {', '.join(STRATEGIES)})")
    if strategy in ("none", "single"):
        return {"nvidia.com/gpu"}
    return {"nvidia.com/mig-" + p.name.replace("+", ".") for p in get_model(model).gi_profiles}


def cmd_device_plugin_values(args) -> str:
    values = yaml.safe_load(Path(args.file).read_text()) or {}
    strategy = values.get("migStrategy", "none")
    if strategy not in STRATEGIES:
        raise _Invalid(f"{args.file}: migStrategy '{strategy}' is not valid "
                       f"(valid: {', '.join(STRATEGIES)})")
    return f"migStrategy={strategy}"


def _containers(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    spec = spec.get("template", {}).get("spec", spec)
    return list(spec.get("containers", [])) + list(spec.get("initContainers", []))


def cmd_pod_resources(args) -> str:
    docs = [d for d in yaml.safe_load_all(Path(args.file).read_text()) if d]
    allowed = mig_resource_names(args.model, args.strategy)
    asked: list[str] = []
    for doc in docs:
        name = doc.get("metadata", {}).get("name", "?")
        for c in _containers(doc):
            limits = c.get("resources", {}).get("limits", {})
            requests = c.get("resources", {}).get("requests", {})
            for res, qty in limits.items():
                if not res.startswith("nvidia.com/"):
                    continue
                if res not in allowed:
                    raise _Invalid(
                        f"{args.file}: {doc.get('kind')} '{name}' container '{c.get('name')}' "
                        f"requests '{res}', which the device plugin does not advertise for "
                        f"{args.model} with migStrategy={args.strategy} "
                        f"(advertised: {', '.join(sorted(allowed))})")
                if res in requests and str(requests[res]) != str(qty):
                    raise _Invalid(f"{args.file}: '{res}' requests ({requests[res]}) must equal "
                                   f"limits ({qty}) for an extended resource")
                asked.append(f"{res}={qty}")
    if not asked:
        raise _Invalid(f"{args.file}: no container sets a limit on an nvidia.com/ resource")
    return " ".join(asked)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m labkit.mig.cli",
                                     description="MIG checks for the Lab 02 scripts")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan")
    p.add_argument("--model", required=True)
    p.add_argument("--profiles", required=True)
    p.set_defaults(func=cmd_plan)
    p = sub.add_parser("parted")
    p.add_argument("--file", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--gpu", type=int, required=True)
    p.set_defaults(func=cmd_parted)
    sub.add_parser("layout").set_defaults(func=cmd_layout)
    sub.add_parser("compute-instances").set_defaults(func=cmd_compute_instances)
    p = sub.add_parser("device-plugin-values")
    p.add_argument("file")
    p.set_defaults(func=cmd_device_plugin_values)
    p = sub.add_parser("pod-resources")
    p.add_argument("file")
    p.add_argument("--strategy", required=True)
    p.add_argument("--model", required=True)
    p.set_defaults(func=cmd_pod_resources)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(args.func(args))
    except (ValueError, _Invalid, OSError, yaml.YAMLError) as exc:
        # ValueError covers the catalog's, the planner's and mig-parted's own messages.
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
