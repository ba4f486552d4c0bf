"""Run ``scripts/k8s/apply-manifests.sh`` offline and read what it reports (Lab 04).

The lab's operated exercise writes manifests to a folder; `apply_plan` hands that folder to
the course's own script, the one a student runs against a real cluster, with kubectl pointed
at no cluster, so the script validates (Kubernetes schemas, GPU lint) and prints its plan
instead of applying. `Plan` keeps the script's exit code, its ``error:``/``warning:`` lines,
and the files its plan would ``kubectl apply -f``: the state the tool reports, which the
exercise's checks read. Command-line equivalent::

    KUBECONFIG=/dev/null scripts/k8s/apply-manifests.sh --dry-run --yes [--model M] FOLDER
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from labkit.course.layout import CourseLayout

__all__ = ["Plan", "apply_plan", "SCRIPT"]

SCRIPT = Path("k8s") / "apply-manifests.sh"  # under the course's scripts/
_APPLY = re.compile(r"^\s*kubectl apply -f (\S+)\s*$")
_HELM = re.compile(r"^\s*helm upgrade --install .* -f (\S+)\s*$")
_FINDING = re.compile(r"^(error|warning): (.*)$")
_CACHE: dict[str, Plan] = {}


@dataclass
class Plan:
    """What apply-manifests.sh reported for one offline run."""

    command: list[str]
    returncode: int
    output: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    applies: list[str] = field(default_factory=list)  # absolute paths
    helm_values: list[str] = field(default_factory=list)  # absolute paths

    @property
    def accepted(self) -> bool:
        """The script validated every file and planned without an error (exit 0)."""
        return self.returncode == 0

    def applied_names(self) -> list[str]:
        """Base names of the files the plan would ``kubectl apply -f``, sorted."""
        return sorted(Path(f).name for f in self.applies)

    def describe(self) -> str:
        return f"$ {' '.join(self.command)}  (exit {self.returncode})\n{self.output.rstrip()}"


def _fingerprint(paths: list[Path], args: list[str]) -> str:
    h = hashlib.sha256("\0".join(args).encode())
    for p in paths:
        files = sorted(p.rglob("*")) if p.is_dir() else [p]
        for f in files:
            if f.is_file():
                h.update(str(f).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def apply_plan(*paths, model: str | None = None, strategy: str | None = None,
               timeout: float = 120) -> Plan:
    """Run apply-manifests.sh offline on ``paths`` and parse its report.

    Lab 04, exercise 5. ``model`` and ``strategy`` are the script's ``--model`` (a GPU model
    of the MIG catalog, for MIG resource names) and ``--strategy`` (none, single, mixed). The
    same files and options give the cached answer of the first run (the script takes seconds).
    """
    root = CourseLayout.find().root.resolve()
    targets = [Path(p).resolve() for p in paths]
    shown = [t.relative_to(root) if t.is_relative_to(root) else t for t in targets]
    args = []
    if model:
        args += ["--model", model]
    if strategy:
        args += ["--strategy", strategy]
    key = _fingerprint(targets, args)
    if key in _CACHE:
        return _CACHE[key]
    command = [str(Path("scripts") / SCRIPT), "--dry-run", "--yes", *args, *map(str, shown)]
    env = dict(os.environ, KUBECONFIG=os.devnull, LABKIT_PYTHON=sys.executable)
    done = subprocess.run(["bash", *command], capture_output=True, text=True, env=env,
                          cwd=root, timeout=timeout, check=False)
    output = done.stdout + done.stderr
    plan = Plan(command, done.returncode, output)
    for line in output.splitlines():
        if m := _FINDING.match(line.strip()):
            (plan.errors if m[1] == "error" else plan.warnings).append(m[2])
        elif m := _APPLY.match(line):
            plan.applies.append(str(root / m[1]))
        elif m := _HELM.match(line):
            plan.helm_values.append(str(root / m[1]))
    _CACHE[key] = plan
    return plan
