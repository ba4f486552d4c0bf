"""labkit.k8s.explain: kube-scheduler's texts (ref k8s_vgpu §2) from a described cluster."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from labkit.k8s import Cluster, Node, explain, explain_gang, load_documents
from labkit.k8s.manifests import _gpu_pod
from labkit.k8s.quota import format_quantity
from labkit.sharing import parse_config

ROOT = Path(__file__).resolve().parents[2]
GPU_TAINT = ("nvidia.com/gpu=present:NoSchedule",)
TOLERATE = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def a100(name, gpus=1, **kw):
    return Node(name, "A100-SXM4-40GB", gpus, taints=GPU_TAINT, **kw)


def test_reference_scenario_one_full_gpu_node_two_tainted():
    """The message built in ref §2.2 (DERIVED there from the format strings)."""
    busy = _gpu_pod("busy", tolerations=TOLERATE)
    cluster = Cluster([Node("gpu-0", "A100-SXM4-40GB", 1), a100("gpu-1"), a100("gpu-2")],
                      running=[(busy, "gpu-0")])
    got = explain(_gpu_pod("gpu-pod"), cluster)
    assert got.message == (
        "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) had untolerated "
        "taint {nvidia.com/gpu: present}. preemption: 0/3 nodes are available: 1 No "
        "preemption victims found for incoming pod, 2 Preemption is not helpful for "
        "scheduling..")
    assert got.codes == {"gpu-0": "Unschedulable", "gpu-1": "UnschedulableAndUnresolvable",
                         "gpu-2": "UnschedulableAndUnresolvable"}


def test_redacted_taint_format_of_newer_schedulers():
    got = explain(_gpu_pod("p"), Cluster([a100("gpu-1")]), taint_format="redacted")
    assert got.message.startswith("0/1 nodes are available: 1 node(s) had untolerated taint(s).")


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        pytest.param(Cluster([Node("n", "A100-SXM4-40GB", 1)],
                             running=[(_gpu_pod("other"), "n")]),
                     "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 "
                     "nodes are available: 1 No preemption victims found for incoming pod..",
                     id="capture-k8s-device-plugin-430"),
        pytest.param(Cluster([Node("n", "A100-SXM4-40GB", 1, taints=("gpu:NoSchedule",))]),
                     "0/1 nodes are available: 1 node(s) had untolerated taint {gpu: }. "
                     "preemption: 0/1 nodes are available: 1 Preemption is not helpful for "
                     "scheduling..", id="capture-k8s-device-plugin-421"),
        pytest.param(Cluster([Node(f"cpu-{i}") for i in range(10)]
                             + [Node(f"g-{i}", "H100-SXM5-80GB", 8,
                                     labels={"pool": "gpu"}) for i in range(5)],
                             running=[(_gpu_pod(f"x{i}", gpus=8), f"g-{i}") for i in range(5)]),
                     "0/15 nodes are available: 10 node(s) didn't match Pod's node "
                     "affinity/selector, 5 Insufficient nvidia.com/gpu. preemption: 0/15 nodes "
                     "are available: 10 Preemption is not helpful for scheduling, 5 No "
                     "preemption victims found for incoming pod..",
                     id="shape-of-the-hyperpod-capture"),
    ],
)
def test_captured_messages(cluster, message):
    pod = _gpu_pod("p", node_selector={"pool": "gpu"} if len(cluster.nodes) == 15 else None)
    assert explain(pod, cluster).message == message


def test_sort_is_a_plain_string_sort():
    """sort.Strings puts "10 ..." before "2 ..." (ref §2.2)."""
    nodes = [a100(f"t{i}") for i in range(10)] + [Node(f"c{i}") for i in range(2)]
    got = explain(_gpu_pod("p", tolerations=[]), Cluster(nodes))
    assert got.message.startswith("0/12 nodes are available: 10 node(s) had untolerated taint "
                                  "{nvidia.com/gpu: present}, 2 Insufficient nvidia.com/gpu.")


def test_fits_and_reasons_per_node():
    cluster = Cluster([a100("a100"), Node("h100", "H100-SXM5-80GB", 1, taints=GPU_TAINT)])
    pod = _gpu_pod("p", tolerations=TOLERATE,
                  node_selector={"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"})
    got = explain(pod, cluster)
    assert got.fits == ["h100"] and got.message == "" and got.scheduled
    assert got.reasons == {"a100": ["node(s) didn't match Pod's node affinity/selector"]}


def test_insufficient_mig_device_under_the_mixed_strategy():
    node = Node("mig", "A100-SXM4-40GB", 1, mig_strategy="mixed", taints=GPU_TAINT,
                mig_layout=("3g.20gb", "2g.10gb", "1g.10gb"))
    pod = _gpu_pod("p", resource="nvidia.com/mig-1g.5gb", tolerations=TOLERATE)
    got = explain(pod, Cluster([node]))
    assert got.reasons == {"mig": ["Insufficient nvidia.com/mig-1g.5gb"]}
    pod = _gpu_pod("p", resource="nvidia.com/mig-1g.10gb", tolerations=TOLERATE)
    assert explain(pod, Cluster([node])).fits == ["mig"]


def test_several_insufficient_resources_on_one_node():
    node = Node("small", "A100-SXM4-40GB", 1, cpu="2", memory="4Gi")
    pod = _gpu_pod("p", gpus=2, cpu="4", memory="8Gi")
    assert explain(pod, Cluster([node])).reasons["small"] == [
        "Insufficient cpu", "Insufficient memory", "Insufficient nvidia.com/gpu"]


def test_too_many_pods():
    node = Node("tiny", pods=1)
    got = explain(_gpu_pod("p", gpus=0), Cluster([node], running=[(_gpu_pod("q", gpus=0),
                                                                    "tiny")]))
    assert got.reasons["tiny"] == ["Too many pods"]


def test_time_sliced_node_advertises_shared_replicas():
    sharing = parse_config({"version": "v1", "sharing": {"timeSlicing": {
        "renameByDefault": True, "resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}})
    node = Node("ts", "A100-SXM4-40GB", 1, sharing=sharing)
    running = [(_gpu_pod(f"s{i}", resource="nvidia.com/gpu.shared"), "ts") for i in range(3)]
    cluster = Cluster([node], running=running)
    pod = _gpu_pod("p", resource="nvidia.com/gpu.shared",
                  node_selector={"nvidia.com/gpu.sharing-strategy": "time-slicing"})
    assert explain(pod, cluster).fits == ["ts"]
    cluster.running.append((_gpu_pod("s3", resource="nvidia.com/gpu.shared"), "ts"))
    assert explain(pod, cluster).reasons["ts"] == ["Insufficient nvidia.com/gpu.shared"]
    assert explain(_gpu_pod("whole"), Cluster([node])).reasons["ts"] == [
        "Insufficient nvidia.com/gpu"]


QUOTA = load_documents(ROOT / "manifests/k8s/team-quota.yaml")[1].obj


def test_quota_exceeded_is_refused_at_admission():
    running = [(_gpu_pod(f"r{i}", namespace="team-a"), "n") for i in range(4)]
    cluster = Cluster([Node("n", "A100-SXM4-40GB", 8)], running=running, quotas=[QUOTA])
    got = explain(_gpu_pod("gpu-pod", namespace="team-a"), cluster)
    assert got.forbidden == (
        'pods "gpu-pod" is forbidden: exceeded quota: gpu-quota, requested: '
        "requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=4, limited: "
        "requests.nvidia.com/gpu=4")
    assert not got.scheduled and got.fits == []
    assert explain(_gpu_pod("other-team", namespace="team-b"), cluster).fits == ["n"]


PRIORITIES = {"gpu-production": 100000, "gpu-research": 1000}


def test_preemption_nominates_a_node_and_its_victims():
    low = _gpu_pod("research", priority_class="gpu-research")
    cluster = Cluster([Node("n1", "A100-SXM4-40GB", 1), Node("n2", "A100-SXM4-40GB", 1)],
                      running=[(low, "n1"), (_gpu_pod("default-prio"), "n2")],
                      priority_classes=PRIORITIES)
    got = explain(_gpu_pod("urgent", priority_class="gpu-production"), cluster)
    assert got.message == "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
    assert (got.nominated, got.victims) == ("n2", ["default/default-prio"])
    assert got.scheduled


def test_preemption_policy_never():
    pod = _gpu_pod("waits")
    pod["spec"]["preemptionPolicy"] = "Never"
    cluster = Cluster([Node("n", "A100-SXM4-40GB", 1)], running=[(_gpu_pod("x"), "n")])
    assert explain(pod, cluster).message == (
        "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: not eligible due "
        "to preemptionPolicy=Never..")


def test_preemption_that_would_not_help_reports_the_filter_reason():
    low = _gpu_pod("low", priority_class="gpu-research")
    cluster = Cluster([Node("n", "A100-SXM4-40GB", 1)], running=[(low, "n")],
                      priority_classes=PRIORITIES)
    got = explain(_gpu_pod("big", gpus=2, priority_class="gpu-production"), cluster)
    assert got.message == ("0/1 nodes are available: 1 Insufficient nvidia.com/gpu. "
                           "preemption: 0/1 nodes are available: 1 Insufficient "
                           "nvidia.com/gpu..")


def test_unknown_priority_class():
    with pytest.raises(ValueError, match="priorityClassName 'gold' is not defined"):
        Cluster([]).priority(_gpu_pod("p", priority_class="gold"))


def test_gang_starts_only_when_min_available_fit():
    job = load_documents(ROOT / "manifests/k8s/volcano-gang-job.yaml")[0].obj
    two = Cluster([Node(f"n{i}", "H100-SXM5-80GB", 4, taints=GPU_TAINT) for i in range(2)])
    three = Cluster([Node(f"n{i}", "H100-SXM5-80GB", 4, taints=GPU_TAINT) for i in range(3)])
    assert explain_gang(job, two) | {"pods": None} == {
        "min_available": 3, "placed": 2, "pods": None, "starts": False}
    assert explain_gang(job, three)["starts"] is True
    smaller = copy.deepcopy(job)
    smaller["spec"]["minAvailable"] = 2
    assert explain_gang(smaller, two)["starts"] is True


def test_describe_labels_the_model():
    text = explain(_gpu_pod("p"), Cluster([a100("a")])).describe()
    assert "teaching model of kube-scheduler, not a scheduler" in text
    assert "event: Warning FailedScheduling 0/1 nodes are available" in text


@pytest.mark.parametrize(
    ("value", "text"),
    [(4, "4"), (2**30 * 16, "16Gi"), (0.5, "500m"), (1536 * 2**20, "1536Mi"), (0, "0")],
)
def test_format_quantity(value, text):
    from fractions import Fraction

    assert format_quantity(Fraction(value).limit_denominator()) == text
