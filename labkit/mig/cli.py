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

Argument checks, which the scripts run before any hardware preflight; a wrong value exits 1
(the scripts' usage error) with the valid values named:

    model NAME                                   -> the catalog's name of a GPU model
    configs --file F [--check NAME]              -> the config names of a mig-parted file
    profiles LIST                                -> LIST, when every profile name in it is a
                                                 MIG profile of some GPU in the catalog
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from . import partedconfig
from .catalog import MODELS, UnknownProfileError, get_model, get_profile
from .formats import parse_lci, parse_lgi
from .planner import as_request, plan_layout

__all__ = ["main", "mig_resource_names"]

EXIT_USAGE = 1
EXIT_INVALID = 7
STRATEGIES = ("none", "single", "mixed")


class _Invalid(Exception):
    """A user error to report on stderr with exit code 7."""


class _Usage(Exception):
    """A wrong argument value, to report on stderr with exit code 1 (the scripts' E_USAGE)."""


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


def cmd_model(args) -> str:
    """The catalog's name for ``args.name`` (an alias or nvidia-smi's product name)."""
    try:
        return get_model(args.name).name
    except ValueError as exc:  # the catalog's message names every valid model
        raise _Usage(str(exc)) from None


def cmd_configs(args) -> str:
    """The configs of a mig-parted file, one per line; ``--check NAME`` must be one of them."""
    names = list(partedconfig.load(Path(args.file)).mig_configs)
    if args.check is not None and args.check not in names:
        raise _Usage(f"config '{args.check}' is not in {args.file} "
                     f"(valid: {', '.join(names) or 'none: the file defines no config'})")
    return "\n".join(names)


def cmd_profiles(args) -> str:
    """``args.profiles`` when every profile name in it exists on some MIG GPU of the catalog.

    Which profiles fit is a question for ``plan`` once the GPU is known; this only catches a
    name no GPU has (a typo) before the scripts touch the hardware. Memory sizes (``20gb``)
    and SM counts (``28 SMs``) pass, as ``plan`` reads them.
    """
    names = _profiles(args.profiles)
    if not names:
        raise _Usage(f"no profile in '{args.profiles}' (give names such as 3g.20gb,1g.5gb)")
    capable = [m for m in MODELS.values() if m.mig_capable]
    for text in names:
        if as_request(text).profile and not any(_offers(m, text) for m in capable):
            by_list: dict[tuple[str, ...], list[str]] = {}  # GPUs with the same profiles
            for m in capable:
                by_list.setdefault(tuple(m.profile_names()), []).append(m.name)
            valid = "; ".join(f"{', '.join(names)} on {', '.join(models)}"
                              for names, models in by_list.items())
            raise _Usage(f"profile '{text}' is not a MIG profile of any GPU in the catalog "
                         f"(valid: {valid})")
    return ",".join(names)


def _offers(model, name: str) -> bool:
    try:
        get_profile(model, name)
    except UnknownProfileError:
        return False
    return True


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
    p = sub.add_parser("model")
    p.add_argument("name")
    p.set_defaults(func=cmd_model)
    p = sub.add_parser("configs")
    p.add_argument("--file", required=True)
    p.add_argument("--check", default=None, metavar="NAME")
    p.set_defaults(func=cmd_configs)
    p = sub.add_parser("profiles")
    p.add_argument("profiles")
    p.set_defaults(func=cmd_profiles)
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
    except _Usage as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, _Invalid, OSError, yaml.YAMLError) as exc:
        # ValueError covers the catalog's, the planner's and mig-parted's own messages.
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
