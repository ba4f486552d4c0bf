"""Adversarial students for Lab 04 (04-kubernetes.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "04-kubernetes/04-kubernetes.ipynb"

# Exercise 1: the solution's Pod, with one requirement broken at a time.
_POD = '''
def training_pod(team, gpus, product):
    container = {
        "name": "train", "image": "nvcr.io/nvidia/pytorch:24.10-py3",
        "resources": {"requests": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": gpus},
                      "limits": {"memory": "64Gi", "nvidia.com/gpu": gpus}},
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}},
    }
    spec = {
        "restartPolicy": "Never",
        "priorityClassName": "gpu-research",
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "nodeSelector": {"nvidia.com/gpu.product": product},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "containers": [container],
    }
    BREAK
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "train", "namespace": team}, "spec": spec}
'''


def _pod(breaks: str) -> str:
    return _POD.replace("BREAK", breaks)


# Exercise 4: the solution's fix, with one pod's fix broken.
_FIX = '''
def fix(name, pod):
    pod = copy.deepcopy(pod)
    spec = pod["spec"]
    if name == "pod-a":
        for table in spec["containers"][0]["resources"].values():
            table["nvidia.com/mig-2g.20gb"] = table.pop("nvidia.com/mig-1g.10gb")
    elif name == "pod-b":
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists",
                                "effect": "NoSchedule"}]
    elif name == "pod-c":
        spec["nodeSelector"]["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3"
    BREAK
    return pod
'''


def _fix(breaks: str) -> str:
    return _FIX.replace("BREAK", breaks)


_CAUSE_BLIND = '''
def fix(name, pod):
    pod = copy.deepcopy(pod)
    spec = pod["spec"]
    spec.pop("nodeSelector", None)
    spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    for table in spec["containers"][0]["resources"].values():
        for key in [k for k in table if k.startswith("nvidia.com/")]:
            table["nvidia.com/gpu"] = table.pop(key)
    return pod
'''


# Exercise 5: team-ml's files, with one requirement broken.
_QUOTA = '''apiVersion: v1
kind: ResourceQuota
metadata:
  name: gpu-quota
  namespace: team-ml
spec:
  hard:
    requests.nvidia.com/gpu: 2
    requests.nvidia.com/mig-1g.10gb: 4
'''
_INFER = '''apiVersion: v1
kind: Pod
metadata:
  name: infer
  namespace: team-ml
spec:
  restartPolicy: Never
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    seccompProfile:
      type: RuntimeDefault
  nodeSelector:
    nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3
  tolerations:
  - key: nvidia.com/gpu
    operator: Exists
    effect: NoSchedule
  containers:
  - name: triton
    image: nvcr.io/nvidia/tritonserver:24.10-py3
    resources:
      requests:
        cpu: "2"
        memory: 8Gi
        nvidia.com/mig-2g.20gb: 1
      limits:
        memory: 8Gi
        nvidia.com/mig-2g.20gb: 1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: ["ALL"]
'''
_WIPE = "shutil.rmtree(TEAM_DIR, ignore_errors=True)\nTEAM_DIR.mkdir(parents=True)\n"


def _team(quota: str = _QUOTA, infer: str = _INFER) -> str:
    return (f"(TEAM_DIR / 'quota.yaml').write_text({quota!r})\n"
            f"(TEAM_DIR / 'inference.yaml').write_text({infer!r})\n")


# Exercise 6: the solution's answers.
_SERVING = '''
SERVING = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
           "metadata": {"name": "gpu-serving"}, "value": 10000,
           "preemptionPolicy": "PreemptLowerPriority"}
'''
_GANG = '''
GANG_JOB = manifest("volcano-gang-job.yaml")
GANG_JOB["metadata"]["namespace"] = "vision"
GANG_JOB["spec"]["minAvailable"] = 4
for task in GANG_JOB["spec"]["tasks"]:
    task["replicas"] = 1 if task["name"] == "master" else 3
    for table in task["template"]["spec"]["containers"][0]["resources"].values():
        table["nvidia.com/gpu"] = 2
'''
_POP_SERVING = "globals().pop('SERVING', None)"
_POP_GANG = "globals().pop('GANG_JOB', None)"

STUDENTS = [
    # Exercise 1: training_pod
    # The review's one-call answer: gpu_pod is private now (labkit.k8s.manifests._gpu_pod) and
    # the notebook no longer imports it.
    Student("manifests_exercise", "shortcut", '''
def training_pod(team, gpus, product):
    return gpu_pod("train", gpus=gpus, namespace=team, priority_class="gpu-research",
                   node_selector={"nvidia.com/gpu.product": product},
                   tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists",
                                 "effect": "NoSchedule"}])
'''),
    # The closest name the notebook defines: busy(), a running pod as the model counts it.
    Student("manifests_exercise", "shortcut", '''
def training_pod(team, gpus, product):
    return busy("train", team, gpus)
'''),
    Student("manifests_exercise", "naive",
            _pod('del container["securityContext"]; del spec["securityContext"]'),
            breaks="the restricted Pod Security Standard (lint warnings)",
            fails="test_training_pod_valid"),
    Student("manifests_exercise", "naive", _pod('del spec["priorityClassName"]'),
            breaks="priorityClassName gpu-research", fails="test_training_pod_fields"),
    # The review: a hardcoded namespace, GPU count or product passed every visible check.
    Student("manifests_exercise", "naive", _POD.replace("BREAK", "").replace(
        '"namespace": team}', '"namespace": "team-a"}'),
            breaks="namespace is the team argument (hardcoded team-a)",
            fails="test_training_pod_fields"),
    Student("manifests_exercise", "naive", _POD.replace("BREAK", "").replace(
        '"nvidia.com/gpu": gpus}', '"nvidia.com/gpu": 2}'),
            breaks="asks for `gpus` GPUs (hardcoded 2)", fails="test_training_pod_fields"),
    Student("manifests_exercise", "naive", _POD.replace("BREAK", "").replace(
        '{"nvidia.com/gpu.product": product}', '{"nvidia.com/gpu.product": '
        '"NVIDIA-H100-80GB-HBM3"}'),
            breaks="selects the product argument (hardcoded H100)",
            fails="test_training_pod_placement"),
    Student("manifests_exercise", "naive", _POD.replace("BREAK", "").replace(
        '"namespace": team}', '"namespace": "team-a"}'),
            breaks="the namespace decides which quota binds it (team-a's refuses 8 GPUs)",
            fails="test_training_pod_placement"),
    Student("manifests_exercise", "naive", _pod('del spec["nodeSelector"]'),
            breaks="runs only on the product's nodes", fails="test_training_pod_placement"),
    Student("manifests_exercise", "naive", _pod('del spec["tolerations"][0]["effect"]'),
            breaks="the toleration's effect is NoSchedule", fails="test_training_pod_toleration"),
    Student("manifests_exercise", "raises", '''
def training_pod(team, gpus, product):
    return {"metadata": {"name": "train", "namespace": team},
            "spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": int(product)}}}]}}
'''),
    # Exercise 2: diagnose
    Student("pending_pods", "shortcut", '''
from collections import Counter
def diagnose(message):
    pod = PENDING[{m: n for n, m in EVENTS.items()}[message]]
    return dict(Counter(r for rs in explain(pod, PENDING_CLUSTER).reasons.values() for r in rs))
'''),
    Student("pending_pods", "naive", '''
def diagnose(message):
    body = message.split(" nodes are available: ", 1)[1].rstrip(".")
    reasons = {}
    for part in body.split(", "):
        count, reason = part.split(" ", 1)
        reasons[reason] = reasons.get(reason, 0) + int(count)
    return reasons
''', breaks="only the part before ' preemption:'", fails="test_diagnose_events"),
    Student("pending_pods", "naive", '''
def diagnose(message):
    head = message[:message.index(" preemption:")]
    body = head.split(" nodes are available: ", 1)[1].rstrip(".")
    reasons = {}
    for part in body.split(", "):
        count, reason = part.split(" ", 1)
        reasons[reason] = reasons.get(reason, 0) + int(count)
    return reasons
''', breaks="a message without a preemption part", fails="test_diagnose_captures"),
    Student("pending_pods", "raises", '''
def diagnose(message):
    return {message: int(message)}
'''),
    # Exercise 3: CAUSES
    Student("pending_causes", "shortcut", '''
CAUSES = {n: next(iter(explain(p, PENDING_CLUSTER).codes.values())) for n, p in PENDING.items()}
''', setup="globals().pop('CAUSES', None)"),
    # The review copied the old test cell's computation (the most frequent reason on the GPU
    # nodes); the test cells now compare digests, and the majority is not the cause of pod-a.
    Student("pending_causes", "naive", '''
from collections import Counter
WORDS = {"Insufficient": "insufficient", "taint": "taint", "selector": "selector"}
CAUSES = {}
for n, p in PENDING.items():
    rs = [r for node, rr in explain(p, PENDING_CLUSTER).reasons.items() if node != "cpu-1"
          for r in rr]
    CAUSES[n] = Counter(w for r in rs for k, w in WORDS.items() if k in r).most_common(1)[0][0]
''', breaks="the main cause is what the selected nodes say, not the majority",
            fails="test_cause_pod_a", setup="globals().pop('CAUSES', None)"),
    Student("pending_causes", "naive",
            'CAUSES = {"pod-a": "insufficient", "pod-b": "selector", "pod-c": "selector"}\n',
            breaks="pod-b's cause is what its GPU nodes say, not cpu-1",
            fails="test_cause_pod_b", setup="globals().pop('CAUSES', None)"),
    Student("pending_causes", "naive",
            'CAUSES = {"pod-a": "insufficient", "pod-b": "taint", "pod-c": "affinity"}\n',
            breaks="one of the three words", fails="test_cause_pod_c",
            setup="globals().pop('CAUSES', None)"),
    Student("pending_causes", "raises",
            'CAUSES = {n: p["status"]["reason"] for n, p in PENDING.items()}\n',
            setup="globals().pop('CAUSES', None)"),
    # Exercise 4: fix
    Student("pending_fix", "shortcut", '''
def fix(name, pod):
    return busy(name, "team-a")
'''),
    Student("pending_fix", "naive", _fix('''if name == "pod-a":
        for table in spec["containers"][0]["resources"].values():
            del table["nvidia.com/mig-2g.20gb"]'''),
            breaks="keeps a GPU request", fails="test_fix_pod_a"),
    Student("pending_fix", "naive", _fix('''if name == "pod-b":
        spec["tolerations"] = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]'''),
            breaks="tolerates the taint the event names", fails="test_fix_pod_b"),
    # The review's cause-blind fix: the same three changes whatever the event says.
    Student("pending_fix", "naive", _CAUSE_BLIND,
            breaks="changes only what the taint needs (keeps nodeSelector and MIG resource)",
            fails="test_fix_pod_b"),
    Student("pending_fix", "naive", _CAUSE_BLIND,
            breaks="changes only what the full resource needs (keeps the nodeSelector)",
            fails="test_fix_pod_a"),
    Student("pending_fix", "naive", _fix('''if name == "pod-c":
        del spec["nodeSelector"]'''),
            breaks="keeps every label key it selects (drops the nodeSelector)",
            fails="test_fix_pod_c"),
    Student("pending_fix", "naive", _fix('''if name == "pod-c":
        pod = copy.deepcopy(PENDING["pod-a"])
        pod["metadata"]["name"] = "pod-c"
        spec = pod["spec"]
        for table in spec["containers"][0]["resources"].values():
            table["nvidia.com/mig-3g.40gb"] = table.pop("nvidia.com/mig-1g.10gb")'''),
            breaks="keeps the pod's containers (a new pod instead of a fix)",
            fails="test_fix_pod_c"),
    Student("pending_fix", "raises", '''
def fix(name, pod):
    return pod["status"]
'''),
    # Exercise 5: onboard team-ml with apply-manifests.sh
    Student("onboard_team", "shortcut", _WIPE + '''
shutil.copy(MANIFESTS / "team-quota.yaml", TEAM_DIR / "quota.yaml")
shutil.copy(MANIFESTS / "mig-mixed-pod.yaml", TEAM_DIR / "inference.yaml")
''', setup=_WIPE),
    Student("onboard_team", "naive", _WIPE + _team(infer=_INFER.replace(
        "  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n"
        "    seccompProfile:\n      type: RuntimeDefault\n", "")),
        breaks="the restricted Pod Security Standard (the script warns)",
        fails="test_onboard_plan", setup=_WIPE),
    Student("onboard_team", "naive", _WIPE + _team(quota=_QUOTA.replace(
        "requests.nvidia.com/gpu: 2", "nvidia.com/gpu: 2")),
        breaks="quota for extended resources as requests.<name>",
        fails="test_onboard_quota", setup=_WIPE),
    Student("onboard_team", "naive", _WIPE + _team(infer=_INFER.replace(
        "nvidia.com/mig-2g.20gb", "nvidia.com/gpu")),
        breaks="one MIG 2g.20gb device (mixed strategy)", fails="test_onboard_pod",
        setup=_WIPE),
    Student("onboard_team", "raises", _WIPE + '''
(TEAM_DIR / "quota.yaml").write_text(yaml.safe_dump(TEAM_QUOTA))
''', setup=_WIPE),
    # The review's answer for the pod: gpu_pod is no longer imported (private in labkit).
    Student("onboard_team", "shortcut", _WIPE + '''
shutil.copy(MANIFESTS / "team-quota.yaml", TEAM_DIR / "quota.yaml")
(TEAM_DIR / "inference.yaml").write_text(yaml.safe_dump(gpu_pod(
    "infer", resource="nvidia.com/mig-2g.20gb", namespace="team-ml",
    node_selector={"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}, tolerations=TOLERATE)))
''', setup=_WIPE),
    # Exercise 6: SERVING (a PriorityClass) and GANG_JOB (a Volcano Job)
    Student("priority_exercise", "shortcut",
            'SERVING = manifest("priority-preemption.yaml", 0)\n', setup=_POP_SERVING),
    Student("priority_exercise", "naive", _SERVING.replace("10000", "100000"),
            breaks="never preempts production (value equal to gpu-production's)",
            fails="test_priority_serving", setup=_POP_SERVING),
    Student("priority_exercise", "naive", _SERVING.replace("PreemptLowerPriority", "Never"),
            breaks="preempts research pods (preemptionPolicy Never)",
            fails="test_priority_serving", setup=_POP_SERVING),
    Student("priority_exercise", "naive", _SERVING.replace("10000", "500"),
            breaks="preempts research pods (value below gpu-research's)",
            fails="test_priority_serving", setup=_POP_SERVING),
    Student("priority_exercise", "raises", 'SERVING = PRIORITIES["gpu-serving"]\n',
            setup=_POP_SERVING),
    Student("gang_exercise", "shortcut", 'GANG_JOB = manifest("volcano-gang-job.yaml")\n',
            setup=_POP_GANG),
    Student("gang_exercise", "naive", _GANG.replace("minAvailable\"] = 4", "minAvailable\"] = 3"),
            breaks="all or nothing: minAvailable is all four pods",
            fails="test_gang_job", setup=_POP_GANG),
    Student("gang_exercise", "naive", _GANG.replace("table[\"nvidia.com/gpu\"] = 2",
                                                    "table[\"nvidia.com/gpu\"] = 2\n"
                                                    "        break"),
            breaks="2 whole GPUs each, requests equal to limits",
            fails="test_gang_job", setup=_POP_GANG),
    Student("gang_exercise", "raises", '''
GANG_JOB = manifest("volcano-gang-job.yaml")
GANG_JOB["spec"]["tasks"]["worker"]["replicas"] = 3
''', setup=_POP_GANG),
]
