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
    assert "kubectl apply -f " + str(ROOT / "manifests/k8s/device-plugin") not in proc.stdout, \
        "Helm values files are not kubectl manifests"
    for name in ("device-plugin-mps-values.yaml", "device-plugin-time-slicing-values.yaml"):
        assert (HELM + f"-f {ROOT}/manifests/k8s/{name}") in proc.stdout


HELM = ("helm upgrade --install nvdp nvdp/nvidia-device-plugin --version 0.17.0 "
        "--namespace nvidia-device-plugin --create-namespace ")


def test_online_run_prints_the_helm_step_and_never_runs_helm(tmp_path, stand_in_kubectl):
    path, log = stand_in_kubectl
    (tmp_path / "bin" / "helm").write_text(f"#!/bin/sh\necho helm >> {log}\n")
    (tmp_path / "bin" / "helm").chmod(0o755)
    values = str(ROOT / "manifests/k8s/device-plugin-time-slicing-values.yaml")
    gpu_pod = str(ROOT / "manifests/k8s/gpu-pod.yaml")
    proc = run(gpu_pod, values, "--yes", path=path, extra={"DIFF_EXIT": "1"})
    assert proc.returncode == 0, proc.stderr
    assert f"+ kubectl apply -f {gpu_pod}" in proc.stdout
    assert HELM + f"-f {values}" in proc.stdout
    assert "helm" not in log.read_text().split()


@pytest.mark.parametrize(("text", "message"), [
    ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: [\n",
     "bad.yaml, line 5: YAML syntax error: mapping values are not allowed here"),
    ("- apiVersion: v1\n  kind: Pod\n", "bad.yaml: document 0: <root>: the document is a list"),
    ("just text\n", "bad.yaml: document 0: <root>: the document is a string"),
    ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: 5\n",
     "bad.yaml: Pod/p: spec.containers: 5 is not of type 'array'"),
    ("", "bad.yaml: holds no YAML document (empty, or only comments)"),
], ids=["yaml-syntax", "list-document", "string-document", "wrong-field-type", "empty-file"])
def test_a_malformed_file_is_rejected_with_its_name(tmp_path, stand_in_kubectl, text, message):
    path, log = stand_in_kubectl
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    proc = run(str(bad), "--yes", path=path)
    assert proc.returncode == 7, proc.stderr
    assert "manifests rejected" in proc.stderr and f"{bad.parent}/{message}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not log.exists() or "apply" not in log.read_text()


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
