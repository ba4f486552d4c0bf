"""``python -m labkit.k8s check PATH...``: schema validation and GPU lint for the scripts.

scripts/k8s/apply-manifests.sh and scripts/mig/4-deploy-test-pod.sh run it before they apply
anything, with or without a cluster. It prints one line per problem (file, document, line
where YAML gives one, object, field, what is wrong, what to do) and exits 7 when any is an
error (warnings alone exit 0), so a script can stop before ``kubectl apply``. A file that is
not YAML, is empty, or holds a list or a string instead of an object is such an error.

``python -m labkit.k8s files PATH...`` (after ``check``) prints ``manifest<TAB>FILE`` for the
files ``kubectl apply`` takes and ``helm-values<TAB>FILE`` for the NVIDIA device plugin's Helm
values files (documents without ``kind``), which go to ``helm upgrade -f`` instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labkit.k8s import KUBERNETES_VERSION, LintContext, check, load_documents
from labkit.mig.catalog import UnknownGpuModelError, get_model

EXIT_INVALID = 7


def file_kinds(paths: list[str]) -> list[tuple[str, str]]:
    """``(manifest|helm-values, file)`` for every file of ``paths`` that holds a document."""
    files: dict[str, str] = {}
    for doc in load_documents(paths, errors=[]):
        kind = "manifest" if isinstance(doc.obj, dict) and "kind" in doc.obj else "helm-values"
        if files.get(doc.source) != "manifest":
            files[doc.source] = kind
    return [(kind, str(Path(f))) for f, kind in files.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.k8s")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate and lint manifest files or folders")
    p.add_argument("paths", nargs="+")
    p.add_argument("--model", default=None, help="GPU model the cluster has (MIG names)")
    p.add_argument("--strategy", default=None, choices=["none", "single", "mixed"],
                   help="the device plugin's MIG strategy")
    f = sub.add_parser("files", help="which files are manifests and which are Helm values")
    f.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "files":
        for kind, path in file_kinds(args.paths):
            print(f"{kind}\t{path}")
        return 0
    if args.model is not None:
        try:  # a wrong --model is bad usage (exit 2, the valid models named), not a traceback
            get_model(args.model)
        except UnknownGpuModelError as exc:
            p.error(f"--model: {exc}")
    found = check(args.paths, LintContext(gpu_model=args.model, mig_strategy=args.strategy))
    errors = [f for f in found if getattr(f, "severity", "error") == "error"]
    for f in found:
        print(f"{'error' if f in errors else 'warning'}: {f}", file=sys.stderr)
    print(f"{len(errors)} error(s), {len(found) - len(errors)} warning(s) "
          f"(Kubernetes {KUBERNETES_VERSION} schemas, GPU lint)")
    return EXIT_INVALID if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
