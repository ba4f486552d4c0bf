"""Why does a pod not schedule? A teaching model of kube-scheduler's filters, not a scheduler.

Lab 04. Given a described cluster (nodes with GPU models, MIG layouts checked with labkit.mig,
sharing configs, labels, taints, allocatable; running pods; ResourceQuotas; PriorityClasses)
and a pod, ``explain()`` says which nodes the pod fits and, for every other node, why not, in
kube-scheduler's words. It models: ResourceQuota admission, the filters TaintToleration,
NodeAffinity (nodeSelector and required node affinity) and NodeResourcesFit in the default
profile's order (kubernetes pkg/scheduler/apis/config/v1/default_plugins.go), the
FailedScheduling message, and DefaultPreemption. It ignores everything else (ports, volumes,
pod affinity, topology spread, scores), and says so in ``Explanation.describe()``.

Texts (reference/k8s_vgpu.md §2, VERBATIM format strings, kube-scheduler before PR #134740):
"Insufficient <resource>", "Too many pods", "node(s) had untolerated taint {<key>: <value>}",
"node(s) didn't match Pod's node affinity/selector", "0/<n> nodes are available: <sorted
histogram>.", "preemption: ...", "No preemption victims found for incoming pod", "Preemption is
not helpful for scheduling", and the quota admission's "exceeded quota: ...". On a real cluster:
``kubectl describe pod <name>`` shows the same text under Events (reason FailedScheduling).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from labkit.k8s.manifests import effective_requests, parse_quantity
from labkit.k8s.quota import check_quota
from labkit.k8s.taints import Taint, tolerates
from labkit.sharing.deviceplugin import NodeResources, SharingConfig, advertise

__all__ = [
    "Cluster",
    "Explanation",
    "Node",
    "explain",
    "explain_gang",
    "pod_requests",
]

UNRESOLVABLE, UNSCHEDULABLE = "UnschedulableAndUnresolvable", "Unschedulable"
AFFINITY = "node(s) didn't match Pod's node affinity/selector"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"


@dataclass
class Node:
    """A node: its GPUs (catalog model, count, MIG strategy and per-GPU layout, sharing
    config), extra ``labels``, ``taints`` (``"key=value:Effect"`` or `Taint`) and allocatable
    cpu, memory and pods. GPU resources and GFD labels come from labkit.sharing.advertise."""

    name: str
    gpu_model: str | None = None
    gpus: int = 0
    mig_strategy: str = "none"
    mig_layout: tuple[str, ...] = ()
    sharing: SharingConfig | None = None
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple = ()
    cpu: str = "64"
    memory: str = "512Gi"
    pods: int = 110

    def gpu_resources(self) -> NodeResources:
        if not self.gpu_model or not self.gpus:
            return NodeResources()
        return advertise(self.gpu_model, self.gpus, mig_strategy=self.mig_strategy,
                         mig_layout=tuple(self.mig_layout), sharing=self.sharing)

    def allocatable(self) -> dict[str, Fraction]:
        table = {"cpu": parse_quantity(self.cpu), "memory": parse_quantity(self.memory)}
        table.update({k: Fraction(v) for k, v in self.gpu_resources().capacity.items()})
        return table

    def all_labels(self) -> dict[str, str]:
        return {"kubernetes.io/hostname": self.name, **self.gpu_resources().labels,
                **self.labels}

    def all_taints(self) -> list[Taint]:
        return [Taint.parse(t) for t in self.taints]


@dataclass
class Cluster:
    """Nodes, pods already running (``(pod, node name)``), quotas and priority classes."""

    nodes: list[Node]
    running: list[tuple[dict, str]] = field(default_factory=list)
    quotas: list[dict] = field(default_factory=list)
    priority_classes: dict[str, int] = field(default_factory=dict)

    def priority(self, pod: dict) -> int:
        name = (pod.get("spec") or {}).get("priorityClassName")
        if not name:
            return int((pod.get("spec") or {}).get("priority", 0))
        if name not in self.priority_classes:
            raise ValueError(f"priorityClassName '{name}' is not defined in this cluster "
                             f"(defined: {', '.join(self.priority_classes) or 'none'})")
        return self.priority_classes[name]


@dataclass
class Explanation:
    """The verdict for one pod; ``message`` is the FailedScheduling event text (empty: fits)."""

    pod: str
    forbidden: str | None = None
    fits: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    message: str = ""
    nominated: str | None = None
    victims: list[str] = field(default_factory=list)

    @property
    def scheduled(self) -> bool:
        return self.forbidden is None and (bool(self.fits) or self.nominated is not None)

    def describe(self) -> str:
        """A readable report, labelled as the teaching model it is."""
        lines = [f"pod {self.pod} [labkit teaching model of kube-scheduler, not a scheduler]"]
        if self.forbidden:
            return "\n".join(lines + [f"  rejected at admission (HTTP 403): {self.forbidden}"])
        for node in self.fits:
            lines.append(f"  {node}: fits")
        for node, reasons in self.reasons.items():
            lines.append(f"  {node}: {'; '.join(reasons)} ({self.codes[node]})")
        if self.nominated:
            lines.append(f"  preemption: nominated {self.nominated}, evicting "
                         f"{', '.join(self.victims)}")
        if self.message:
            lines.append(f"  event: Warning FailedScheduling {self.message}")
        return "\n".join(lines)


def pod_requests(pod: dict) -> dict[str, Fraction]:
    """What a pod asks of a node: the sum of its containers' (defaulted) requests."""
    total: dict[str, Fraction] = {}
    for c in (pod.get("spec") or {}).get("containers") or []:
        for k, v in effective_requests(c).items():
            total[k] = total.get(k, Fraction(0)) + v
    return total


def _name(pod: dict) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', 'default')}/{meta.get('name', '?')}"


def _matches(expr: dict, labels: dict[str, str]) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels:
        try:
            have, want = int(labels[key]), int(values[0])
        except (ValueError, IndexError):
            return False
        return have > want if op == "Gt" else have < want
    return False


def _affinity_ok(spec: dict, labels: dict[str, str]) -> bool:
    if any(labels.get(k) != str(v) for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if not required:
        return True
    return any(all(_matches(e, labels) for e in term.get("matchExpressions") or [])
               for term in required.get("nodeSelectorTerms") or [])


def _fit(want: dict[str, Fraction], node: Node, running: list[dict]) -> list[str]:
    alloc = node.allocatable()
    used: dict[str, Fraction] = {}
    for other in running:
        for k, v in pod_requests(other).items():
            used[k] = used.get(k, Fraction(0)) + v
    reasons = ["Too many pods"] if len(running) + 1 > node.pods else []
    ordered = [r for r in ("cpu", "memory") if r in want] + sorted(
        r for r in want if r not in ("cpu", "memory"))
    for r in ordered:
        if want[r] > 0 and want[r] > alloc.get(r, Fraction(0)) - used.get(r, Fraction(0)):
            reasons.append(f"Insufficient {r}")
    return reasons


def _filter(pod: dict, node: Node, running: list[dict], taint_format: str):
    spec = pod.get("spec") or {}
    for taint in node.all_taints():
        if taint.effect in ("NoSchedule", "NoExecute") and not tolerates(
                spec.get("tolerations"), taint):
            text = ("node(s) had untolerated taint(s)" if taint_format == "redacted"
                    else f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}")
            return UNRESOLVABLE, [text]
    if not _affinity_ok(spec, node.all_labels()):
        return UNRESOLVABLE, [AFFINITY]
    reasons = _fit(pod_requests(pod), node, running)
    return (UNSCHEDULABLE, reasons) if reasons else (None, [])


def _histogram(total: int, statuses: dict[str, list[str]]) -> str:
    counts = Counter(r for reasons in statuses.values() for r in reasons)
    parts = sorted(f"{n} {reason}" for reason, n in counts.items())
    return f"0/{total} nodes are available:" + (f" {', '.join(parts)}." if parts else "")


def explain(pod: dict, cluster: Cluster, *, taint_format: str = "key-value") -> Explanation:
    """Explain where ``pod`` can run. ``taint_format="redacted"`` prints taints as releases
    carrying kubernetes PR #134740 do ("node(s) had untolerated taint(s)")."""
    result = Explanation(_name(pod))
    result.forbidden = check_quota(pod, cluster.quotas, cluster.running)
    if result.forbidden:
        return result
    on_node: dict[str, list[dict]] = {n.name: [] for n in cluster.nodes}
    for other, node_name in cluster.running:
        on_node.setdefault(node_name, []).append(other)
    for node in cluster.nodes:
        code, reasons = _filter(pod, node, on_node[node.name], taint_format)
        if code is None:
            result.fits.append(node.name)
        else:
            result.codes[node.name], result.reasons[node.name] = code, reasons
    if result.fits:
        return result
    total = len(cluster.nodes)
    message = _histogram(total, result.reasons)
    post = _preempt(pod, cluster, result, on_node, taint_format)
    result.message = message + (f" {post}." if post else "")
    return result


def _preempt(pod, cluster, result, on_node, taint_format) -> str:
    """DefaultPreemption (kubernetes default_preemption.go, preemption.go): the PostFilter text,
    or "" when preemption finds a node (the pod is then nominated there)."""
    if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        return "preemption: not eligible due to preemptionPolicy=Never."
    mine = cluster.priority(pod)
    order = {n.name: i for i, n in enumerate(cluster.nodes)}
    statuses: dict[str, list[str]] = {}
    candidates = []
    for node in cluster.nodes:
        if result.codes.get(node.name) != UNSCHEDULABLE:
            statuses[node.name] = [NOT_HELPFUL]  # absent from the dry run
            continue
        running = on_node[node.name]
        victims = [p for p in running if cluster.priority(p) < mine]
        if not victims:
            statuses[node.name] = [NO_VICTIMS]
            continue
        keep = [p for p in running if p not in victims]
        code, reasons = _filter(pod, node, keep, taint_format)
        if code is not None:
            statuses[node.name] = reasons
            continue
        # reprieve the most important victims first while the pod still fits
        chosen = []
        for v in sorted(victims, key=cluster.priority, reverse=True):
            if _filter(pod, node, keep + [v], taint_format)[0] is None:
                keep.append(v)
            else:
                chosen.append(v)
        prios = [cluster.priority(v) for v in chosen]
        # pickOneNodeForPreemption (preemption.go): lowest highest-priority victim, then lowest
        # sum of (priority + MaxInt32 + 1), then fewest victims; PDBs and start times are not
        # modelled, and the last tie goes to the node listed first.
        key = (max(prios), sum(p + 2**31 for p in prios), len(chosen), order[node.name])
        candidates.append((key, node.name, chosen))
    if candidates:
        _, name, chosen = min(candidates, key=lambda c: c[0])
        result.nominated, result.victims = name, [_name(v) for v in chosen]
        return ""
    return "preemption: " + _histogram(len(cluster.nodes), statuses)


def explain_gang(job: dict, cluster: Cluster) -> dict:
    """Can a Volcano Job's gang start? Place its pods one by one (first node that fits).

    Volcano starts a job only when ``minAvailable`` pods can run together (ref k8s_vgpu §3);
    returns ``{"min_available", "placed", "pods": [(pod, node or None)], "starts"}``.
    """
    spec = job.get("spec") or {}
    ns = (job.get("metadata") or {}).get("namespace", "default")
    pods = []
    for task in spec.get("tasks") or []:
        for i in range(task.get("replicas", 0)):
            name = f"{job['metadata']['name']}-{task['name']}-{i}"
            pods.append({"metadata": {"name": name, "namespace": ns},
                         "spec": (task.get("template") or {}).get("spec") or {}})
    need = spec.get("minAvailable", len(pods))
    running = list(cluster.running)
    placed = []
    for pod in pods:
        verdict = explain(pod, Cluster(cluster.nodes, running, cluster.quotas,
                                       cluster.priority_classes))
        node = verdict.fits[0] if verdict.fits else None
        if node:
            running.append((pod, node))
        placed.append((pod["metadata"]["name"], node))
    count = sum(1 for _, n in placed if n)
    return {"min_available": need, "placed": count, "pods": placed, "starts": count >= need}
