"""scripts/mig/3-*.sh and 4-*.sh with a (stub) cluster: every documented exit path.

kubectl and helm are small bash stubs written into tmp_path: they log each call to a file
and answer as configured (cluster reachable or not, helm failing, the pod timing out), so the
scripts' real branches run without a cluster. nvidia-smi is the simulator's.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

KUBECTL = """#!/bin/bash
echo "kubectl $*" >>"$STUB_LOG"
case $1 in
  version) [[ $STUB_CLUSTER == 1 ]] || { echo "The connection to the server localhost:8080 was refused" >&2; exit 1; } ;;
  apply) [[ $STUB_APPLY == ok ]] || { echo 'Error from server (Forbidden): pods "mig-test" is forbidden' >&2; exit 1; } ;;
  wait) [[ $STUB_POD == ok ]] || { echo "error: timed out waiting for the condition on pods/mig-test" >&2; exit 1; } ;;
  logs) echo "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-stub)" ;;
  describe) printf 'Name: mig-test\\nEvents:\\n  Warning  FailedScheduling  0/1 nodes are available: 1 Insufficient nvidia.com/mig-1g.5gb.\\n' ;;
  get) echo "NODE   ALLOCATABLE" ;;
esac
exit 0
"""

HELM = """#!/bin/bash
echo "helm $*" >>"$STUB_LOG"
case $1 in
  list) if [[ -f $STUB_DIR/values.yaml ]]; then echo '[{"name":"nvdp","chart":"nvidia-device-plugin-0.17.0"}]'; else echo '[]'; fi ;;
  get) cat "$STUB_DIR/values.yaml" ;;
  upgrade)
    [[ $STUB_HELM == ok ]] || { echo "Error: INSTALLATION FAILED: context deadline exceeded" >&2; exit 1; }
    while (($#)); do [[ $1 == -f ]] && cp "$2" "$STUB_DIR/values.yaml"; shift; done ;;
esac
exit 0
"""


class Cluster:
    """The node fixture's environment with stub kubectl/helm first on PATH."""

    def __init__(self, node, folder: Path, tools: tuple[str, ...]):
        self.node = node
        self.folder = folder
        self.log = folder / "calls.log"
        bindir = folder / "bin"
        bindir.mkdir()
        for name, text in (("kubectl", KUBECTL), ("helm", HELM)):
            if name in tools:
                (bindir / name).write_text(text)
                (bindir / name).chmod(0o755)
        smi = shutil.which("nvidia-smi", path=node.env["PATH"])
        (bindir / "nvidia-smi").symlink_to(smi)
        node.env.update(PATH=f"{bindir}:/usr/bin:/bin", STUB_LOG=str(self.log),
                        STUB_DIR=str(folder), STUB_CLUSTER="1", STUB_APPLY="ok",
                        STUB_POD="ok", STUB_HELM="ok", KUBECTL_TIMEOUT="1s", POD_TIMEOUT="3")

    def run(self, script: str, *args: str, **stub: str) -> subprocess.CompletedProcess:
        return self.node.script(script, *args, extra_env=stub)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def cluster(node, tmp_path):
    return Cluster(node, tmp_path, ("kubectl", "helm"))


@pytest.fixture
def kubectl_only(node, tmp_path):
    return Cluster(node, tmp_path, ("kubectl",))


def changing(calls: list[str]) -> list[str]:
    """The calls that would change a cluster."""
    return [c for c in calls if c.split()[1] in ("apply", "delete", "upgrade", "repo")]


# --- kubectl present, no cluster answers: both scripts work offline ----------------------

@pytest.mark.parametrize(("script", "args"), [
    ("3-deploy-device-plugin.sh", ["--yes"]),
    ("4-deploy-test-pod.sh", ["--strategy", "mixed"]),
], ids=["device-plugin", "test-pod"])
def test_unreachable_cluster_means_offline(cluster, script, args):
    proc = cluster.run(script, *args, STUB_CLUSTER="0")
    assert proc.returncode == 0, proc.stderr
    assert "no Kubernetes cluster reachable (kubectl version failed): working OFFLINE" in proc.stdout
    assert "OFFLINE: nothing applied" in proc.stdout
    assert changing(cluster.calls()) == [] and cluster.calls()[0].startswith("kubectl version")


# --- 3-deploy-device-plugin.sh -----------------------------------------------------------

def test_device_plugin_needs_helm_when_a_cluster_answers(kubectl_only):
    proc = kubectl_only.run("3-deploy-device-plugin.sh", "--yes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "ERROR: helm not found on PATH: install Helm 3" in proc.stderr
    assert changing(kubectl_only.calls()) == []


def test_device_plugin_deploys_then_second_run_changes_nothing(cluster):
    first = cluster.run("3-deploy-device-plugin.sh", "--strategy", "single", "--yes")
    assert first.returncode == 0, first.stderr
    values = ROOT / "manifests/device-plugin/values-single.yaml"
    assert f"+ helm upgrade --install nvdp nvdp/nvidia-device-plugin --version 0.17.0 " \
           f"--namespace nvidia-device-plugin --create-namespace -f {values} --wait" in first.stdout
    assert [c.split()[1] for c in changing(cluster.calls())] == ["repo", "upgrade"]
    before = len(cluster.calls())
    second = cluster.run("3-deploy-device-plugin.sh", "--strategy", "single", "--yes")
    assert second.returncode == 0, second.stderr
    assert ("device plugin 0.17.0 with migStrategy=single already deployed: nothing to do"
            in second.stdout)
    assert changing(cluster.calls()[before:]) == []
    # other values: deployed again
    third = cluster.run("3-deploy-device-plugin.sh", "--strategy", "mixed", "--yes")
    assert third.returncode == 0 and "+ helm upgrade --install" in third.stdout


def test_device_plugin_dry_run_with_a_cluster_changes_nothing(cluster):
    proc = cluster.run("3-deploy-device-plugin.sh", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "+ helm upgrade --install" in proc.stdout and "dry run: nothing changed" in proc.stdout
    assert changing(cluster.calls()) == []


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--yes"], 8, "ERROR: helm could not deploy the device plugin"),
    ([], 10, "confirmation needed; rerun with --yes"),
], ids=["helm-fails", "no-confirmation"])
def test_device_plugin_failures(cluster, args, code, message):
    proc = cluster.run("3-deploy-device-plugin.sh", *args, STUB_HELM="fail")
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert message in proc.stderr


# --- 4-deploy-test-pod.sh ----------------------------------------------------------------

def test_test_pod_runs_prints_its_logs_and_is_deleted(cluster):
    proc = cluster.run("4-deploy-test-pod.sh", "--strategy", "mixed", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-stub)" in proc.stdout
    verbs = [c.split()[1] for c in cluster.calls()]
    assert verbs == ["version", "delete", "apply", "wait", "logs", "delete"], cluster.calls()
    # a second run works the same way (the pod of the first run is gone)
    again = cluster.run("4-deploy-test-pod.sh", "--strategy", "mixed", "--yes")
    assert again.returncode == 0 and "pod mig-test ran on a MIG device" in again.stdout


def test_test_pod_dry_run_with_a_cluster_applies_nothing(cluster):
    proc = cluster.run("4-deploy-test-pod.sh", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "dry run: would run:" in proc.stdout and "kubectl apply -f" in proc.stdout
    assert [c.split()[1] for c in cluster.calls()] == ["version"]


@pytest.mark.parametrize(("stub", "message"), [
    ({"STUB_POD": "timeout"}, "ERROR: pod mig-test did not succeed within 3s"),
    ({"STUB_APPLY": "fail"}, "ERROR: kubectl apply failed"),
], ids=["pod-timeout", "apply-fails"])
def test_test_pod_failures_exit_8_and_clean_up(cluster, stub, message):
    proc = cluster.run("4-deploy-test-pod.sh", "--yes", **stub)
    assert proc.returncode == 8, proc.stdout + proc.stderr
    assert message in proc.stderr
    if "STUB_POD" in stub:
        assert "Insufficient nvidia.com/mig-1g.5gb" in proc.stderr, "the pod's events are shown"
    assert cluster.calls()[-1].startswith("kubectl delete -f"), "the pod is always deleted"


def test_test_pod_asks_before_it_applies(cluster):
    proc = cluster.run("4-deploy-test-pod.sh")
    assert proc.returncode == 10, proc.stdout + proc.stderr
    assert "confirmation needed; rerun with --yes" in proc.stderr
    assert [c.split()[1] for c in cluster.calls()] == ["version"], "nothing applied or deleted"
