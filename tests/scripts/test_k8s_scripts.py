"""scripts/k8s/apply-manifests.sh: offline plan, refusal of bad manifests, idempotent apply.

No Kubernetes cluster can run here, so the online path is driven by a stand-in kubectl that
records its calls and answers `diff` as a cluster would (0: nothing differs, 1: differs).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "k8s" / "apply-manifests.sh"


def run(*args, path: str, extra: dict | None = None):
    env = {**os.environ, "PATH": path, "LABKIT_PYTHON": sys.executable, "KUBECTL_TIMEOUT": "1s",
           **(extra or {})}
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.fixture
def stand_in_kubectl(tmp_path):
    """A kubectl that 'reaches' a cluster; DIFF_EXIT sets what `kubectl diff` answers."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "kubectl.log"
    (bindir / "kubectl").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'case "$1" in diff) exit "${DIFF_EXIT:-1}" ;; config) echo test-cluster ;; esac\n'
        "exit 0\n")
    (bindir / "kubectl").chmod(0o755)
    return f"{bindir}:/usr/bin:/bin", log


def test_offline_validates_every_manifest_and_prints_the_plan():
    proc = run(path="/usr/bin:/bin")
    assert proc.returncode == 0, proc.stderr
    assert "0 error(s)" in proc.stdout and "working OFFLINE" in proc.stdout
    assert f"kubectl apply -f {ROOT}/manifests/k8s/gpu-pod.yaml" in proc.stdout
    assert "values.yaml" not in proc.stdout, "Helm values files are not kubectl manifests"


def test_a_broken_manifest_stops_before_anything_is_applied(tmp_path, stand_in_kubectl):
    path, log = stand_in_kubectl
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n"
                   "  - name: c\n    image: busybox:1.36\n    resources:\n      limits:\n"
                   "        nvidia.com/gpu: 1\n      requests:\n        nvidia.com/gpu: 2\n")
    proc = run(str(bad), "--yes", path=path)
    assert proc.returncode == 7
    assert "manifests rejected" in proc.stderr and "nvidia.com/gpu" in proc.stderr
    assert not log.exists() or "apply" not in log.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--bogus"], "unknown option '--bogus'"),
    (["no/such/file.yaml"], "'no/such/file.yaml' does not exist"),
], ids=["unknown-option", "missing-path"])
def test_usage_errors(args, message):
    proc = run(*args, path="/usr/bin:/bin")
    assert proc.returncode == 1 and message in proc.stderr


def test_applies_what_differs_then_a_second_run_changes_nothing(stand_in_kubectl):
    path, log = stand_in_kubectl
    gpu_pod = str(ROOT / "manifests/k8s/gpu-pod.yaml")
    first = run(gpu_pod, "--yes", path=path, extra={"DIFF_EXIT": "1"})
    assert first.returncode == 0, first.stderr
    assert f"+ kubectl apply -f {gpu_pod}" in first.stdout
    second = run(gpu_pod, "--yes", path=path, extra={"DIFF_EXIT": "0"})
    assert second.returncode == 0
    assert "already applied as it is: nothing to do" in second.stdout
    assert [line.split()[0] for line in log.read_text().splitlines()].count("apply") == 1
