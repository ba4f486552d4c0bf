"""``python -m labkit.k8s check PATH...``: schema validation and GPU lint for the scripts.

scripts/k8s/apply-manifests.sh and scripts/mig/4-deploy-test-pod.sh run it before they apply
anything, with or without a cluster. It prints one line per problem and exits 7 when any
is an error (warnings alone exit 0), so a script can stop before ``kubectl apply``.
"""

from __future__ import annotations

import argparse
import sys

from labkit.k8s import KUBERNETES_VERSION, LintContext, check

EXIT_INVALID = 7


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.k8s")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate and lint manifest files or folders")
    p.add_argument("paths", nargs="+")
    p.add_argument("--model", default=None, help="GPU model the cluster has (MIG names)")
    p.add_argument("--strategy", default=None, choices=["none", "single", "mixed"],
                   help="the device plugin's MIG strategy")
    args = parser.parse_args(argv)
    try:
        found = check(args.paths, LintContext(gpu_model=args.model, mig_strategy=args.strategy))
    except (OSError, ValueError) as exc:  # unreadable file, YAML syntax
        print(f"{exc}", file=sys.stderr)
        return EXIT_INVALID
    errors = [f for f in found if getattr(f, "severity", "error") == "error"]
    for f in found:
        print(f"{'error' if f in errors else 'warning'}: {f}", file=sys.stderr)
    print(f"{len(errors)} error(s), {len(found) - len(errors)} warning(s) "
          f"(Kubernetes {KUBERNETES_VERSION} schemas, GPU lint)")
    return EXIT_INVALID if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
