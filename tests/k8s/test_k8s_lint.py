"""labkit.k8s.lint: the course manifests are clean, and a broken one per rule is caught."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from labkit.k8s import check, load_documents
from labkit.k8s.lint import RULES, LintContext, lint
from labkit.k8s.taints import Taint, tolerates
from labkit.sharing import parse_config

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "manifests").rglob("*.yaml"))


def _load(name: str, index: int = 0) -> dict:
    return copy.deepcopy(load_documents(ROOT / "manifests" / "k8s" / name)[index].obj)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_course_manifest_passes_schema_and_lint(path):
    """No schema error and no lint error anywhere in manifests/; Lab 04's own manifests
    (manifests/k8s) also meet the restricted standard (no warning either)."""
    found = check(path)
    if path.parent.name != "k8s":
        found = [f for f in found if getattr(f, "severity", "error") == "error"]
    assert [str(f) for f in found] == []


def _c0(pod: dict) -> dict:
    return pod["spec"]["containers"][0]


def gpu_in_requests_only(pod):
    del _c0(pod)["resources"]["limits"]["nvidia.com/gpu"]


def requests_below_limits(pod):
    _c0(pod)["resources"]["limits"]["nvidia.com/gpu"] = 2


def half_a_gpu(pod):
    _c0(pod)["resources"]["requests"]["nvidia.com/gpu"] = "0.5"
    _c0(pod)["resources"]["limits"]["nvidia.com/gpu"] = "0.5"


def no_toleration(pod):
    del pod["spec"]["tolerations"]


def no_cpu_request(pod):
    del _c0(pod)["resources"]["requests"]["cpu"]


def privileged(pod):
    _c0(pod)["securityContext"]["privileged"] = True


def escalation_allowed(pod):
    del _c0(pod)["securityContext"]["allowPrivilegeEscalation"]


def root_allowed(pod):
    del pod["spec"]["securityContext"]["runAsNonRoot"]


def capabilities_kept(pod):
    del _c0(pod)["securityContext"]["capabilities"]


def seccomp_unconfined(pod):
    pod["spec"]["securityContext"]["seccompProfile"]["type"] = "Unconfined"


def mig(resource, **selector):
    def change(pod):
        res = _c0(pod)["resources"]
        for table in (res["requests"], res["limits"]):
            table.pop("nvidia.com/mig-1g.10gb", None)
            table[resource] = 1
        pod["spec"]["nodeSelector"].update(selector)
    change.__name__ = f"mig({resource})"
    return change


def gpu_count_not_a_quantity(pod):
    _c0(pod)["resources"]["limits"]["nvidia.com/gpu"] = "abc"


CASES = [
    ("quantity", "gpu-pod.yaml", gpu_count_not_a_quantity,
     "spec.containers[0].resources.limits[nvidia.com/gpu]",
     'Invalid value: "abc": quantity \'abc\' is not a Kubernetes quantity (examples: 1, 500m, '
     "16Gi, 1e3)"),
    ("gpu-limits", "gpu-pod.yaml", gpu_in_requests_only, "spec.containers[0].resources.limits",
     "Required value: Limit must be set for non overcommitable resources (nvidia.com/gpu is in "
     "requests only; put it in limits, where GPUs belong)"),
    ("requests-equal-limits", "gpu-pod.yaml", requests_below_limits,
     "spec.containers[0].resources.requests",
     'Invalid value: "1": must be equal to nvidia.com/gpu limit of 2'),
    ("integer-gpu", "gpu-pod.yaml", half_a_gpu,
     "spec.containers[0].resources.requests[nvidia.com/gpu]",
     'Invalid value: "0.5": must be an integer (devices are whole: share a GPU with '
     "time-slicing, MPS or MIG instead)"),
    ("mig-resource", "mig-mixed-pod.yaml", mig("nvidia.com/mig-3g.25gb"), "spec.containers",
     "'nvidia.com/mig-3g.25gb': profile '3g.25gb' is not a MIG profile of H100-SXM5-80GB "
     "(valid: 1g.10gb, 1g.10gb+me, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb) (the pod selects "
     "nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3)"),
    ("mig-resource", "mig-mixed-pod.yaml",
     mig("nvidia.com/mig-1g.5gb", **{"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}),
     "spec.containers", "'nvidia.com/mig-1g.5gb': profile '1g.5gb' is not a MIG profile of "
     "A100-SXM4-80GB (valid: 1g.10gb, 1g.10gb+me, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb) "
     "(the pod selects nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB)"),
    ("mig-resource", "mig-mixed-pod.yaml",
     mig("nvidia.com/mig-1g.10gb", **{"nvidia.com/mig.strategy": "single"}), "spec.containers",
     "'nvidia.com/mig-1g.10gb' is advertised only under the mixed MIG strategy; this pod targets "
     "nvidia.com/mig.strategy=single, where MIG devices are requested as nvidia.com/gpu"),
    ("mig-resource", "mig-mixed-pod.yaml",
     mig("nvidia.com/mig-1g.10gb", **{"nvidia.com/gpu.product": "Tesla-T4"}), "spec.containers",
     "'nvidia.com/mig-1g.10gb': T4 is not MIG capable (MIG-capable models: A100-SXM4-40GB, "
     "A100-SXM4-80GB, H100-SXM5-80GB, H100-PCIE-80GB, H100-NVL-94GB, H200-141GB) (the pod "
     "selects nvidia.com/gpu.product=Tesla-T4)"),
    ("mig-resource", "mig-mixed-pod.yaml", mig("nvidia.com/gpus"), "spec.containers",
     "'nvidia.com/gpus' is not a resource the NVIDIA device plugin advertises (nvidia.com/gpu, "
     "nvidia.com/gpu.shared, nvidia.com/mig-<G>g.<GB>gb[.me] under the mixed strategy)"),
    ("gpu-toleration", "gpu-pod.yaml", no_toleration, "spec.tolerations",
     "the pod requests nvidia.com/gpu but does not tolerate the GPU nodes' taint "
     "nvidia.com/gpu=present:NoSchedule; add {key: nvidia.com/gpu, operator: Exists, "
     "effect: NoSchedule}"),
    ("resources-set", "gpu-pod.yaml", no_cpu_request, "spec.containers[0].resources",
     "container 'cuda' does not set requests.cpu; set them so the scheduler can place it and "
     "the kubelet can protect the node"),
    ("no-privileged", "gpu-pod.yaml", privileged, "spec.containers",
     'privileged (container "cuda" must not set securityContext.privileged=true; only the '
     "NVIDIA device plugin may, and a GPU comes from resources.limits, not from privileged "
     "mode)"),
    ("restricted", "gpu-pod.yaml", escalation_allowed, "spec.containers",
     'allowPrivilegeEscalation != false (container "cuda" must set '
     "securityContext.allowPrivilegeEscalation=false)"),
    ("restricted", "gpu-pod.yaml", root_allowed, "spec.containers",
     'runAsNonRoot != true (pod or container "cuda" must set securityContext.runAsNonRoot=true)'),
    ("restricted", "gpu-pod.yaml", capabilities_kept, "spec.containers",
     'unrestricted capabilities (container "cuda" must set '
     'securityContext.capabilities.drop=["ALL"])'),
    ("restricted", "gpu-pod.yaml", seccomp_unconfined, "spec.containers",
     'seccompProfile (pod or container "cuda" must set securityContext.seccompProfile.type to '
     '"RuntimeDefault" or "Localhost")'),
]


@pytest.mark.parametrize(("rule", "name", "change", "path", "message"), CASES,
                         ids=[f"{c[0]}-{c[2].__name__}" for c in CASES])
def test_a_broken_manifest_is_rejected_with_its_message(rule, name, change, path, message):
    obj = _load(name)
    change(obj)
    findings = [(f.rule, f.path, f.message) for f in lint(obj)]
    assert (rule, path, message) in findings


def test_restricted_findings_are_warnings():
    obj = _load("gpu-pod.yaml")
    escalation_allowed(obj)
    assert {f.severity for f in lint(obj)} == {"warning"}


def test_quota_on_limits_of_an_extended_resource():
    quota = _load("team-quota.yaml", 1)
    quota["spec"]["hard"]["limits.nvidia.com/gpu"] = 4
    assert [(f.rule, f.path, f.message) for f in lint(quota)] == [(
        "quota-extended", "spec.hard[limits.nvidia.com/gpu]",
        "'limits.nvidia.com/gpu': \"for extended resources, only quota items with prefix "
        "requests. are allowed\" (Kubernetes docs); use 'requests.nvidia.com/gpu'")]


def test_shared_request_above_one_with_fail_requests_greater_than_one():
    pod = _load("time-sliced-pod.yaml")
    for table in _c0(pod)["resources"].values():
        table["nvidia.com/gpu.shared"] = 2
    sharing = parse_config({"version": "v1", "sharing": {"timeSlicing": {
        "renameByDefault": True, "failRequestsGreaterThanOne": True,
        "resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}})
    found = [(f.rule, f.message) for f in lint(pod, LintContext(sharing=sharing))]
    assert found == [("shared-request", "Allocate failed due to rpc error: code = Unknown desc = "
                      "request for 'nvidia.com/gpu.shared: 2' too large: maximum request size "
                      "for shared resources is 1, which is unexpected")]


def test_device_plugin_values_are_checked():
    values = yaml.safe_load((ROOT / "manifests/k8s/device-plugin-mps-values.yaml").read_text())
    values["config"]["map"]["mps-4"] = values["config"]["map"]["mps-4"].replace(
        "replicas: 4", "replicas: 1")
    assert [(f.rule, f.message) for f in lint(values)] == [(
        "device-plugin-values",
        "config.map.mps-4: sharing.mps.resources[0]: number of replicas must be >= 2")]


def test_device_plugin_values_mig_strategy():
    values = {"migStrategy": "mixd", "gfd": {"enabled": True}}
    assert [(f.rule, f.path, f.message) for f in lint(values)] == [(
        "device-plugin-values", "migStrategy",
        "unknown MIG strategy: mixd (valid: none, single, mixed)")]
    assert lint({"migStrategy": None}) == lint({"migStrategy": "single"}) == []


def test_the_device_plugin_may_run_privileged():
    daemonset = {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "nvidia-device-plugin", "namespace": "kube-system"},
        "spec": {"selector": {"matchLabels": {"app": "dp"}}, "template": {
            "metadata": {"labels": {"app": "dp"}},
            "spec": {"containers": [{
                "name": "plugin", "image": "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
                "securityContext": {"privileged": True},
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                              "limits": {"memory": "128Mi"}}}]}}}}
    assert [f.rule for f in lint(daemonset)] == []
    daemonset["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox"
    assert "no-privileged" in [f.rule for f in lint(daemonset)]


def test_every_rule_has_a_broken_case():
    covered = {c[0] for c in CASES} | {"quota-extended", "shared-request",
                                       "device-plugin-values"}
    assert covered == set(RULES)


@pytest.mark.parametrize(
    ("tolerations", "taint", "ok"),
    [
        pytest.param([{"key": "nvidia.com/gpu", "operator": "Exists"}], "nvidia.com/gpu=present:NoSchedule",
                     True, id="exists-any-effect"),
        pytest.param([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
                       "effect": "NoSchedule"}], "nvidia.com/gpu=present:NoSchedule", True,
                     id="equal-value-and-effect"),
        pytest.param([{"key": "nvidia.com/gpu", "value": "yes"}],
                     "nvidia.com/gpu=present:NoSchedule", False, id="wrong-value"),
        pytest.param([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}],
                     "nvidia.com/gpu=present:NoSchedule", False, id="wrong-effect"),
        pytest.param([{"operator": "Exists"}], "dedicated=ml:NoSchedule", True,
                     id="empty-key-exists-tolerates-all"),
        pytest.param([], "nvidia.com/gpu:NoSchedule", False, id="no-toleration"),
    ],
)
def test_tolerates(tolerations, taint, ok):
    assert tolerates(tolerations, Taint.parse(taint)) is ok
