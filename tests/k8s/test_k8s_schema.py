"""labkit.k8s.schema: offline validation (pinned Kubernetes) and the Volcano subset."""

from __future__ import annotations

import copy
import socket
from pathlib import Path

import pytest

from labkit.k8s import load_documents
from labkit.k8s.manifests import _gpu_pod
from labkit.k8s.schema import KUBERNETES_VERSION, validate

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "manifests").rglob("*.yaml"))


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_course_manifest_validates_offline(path):
    for doc in load_documents(path):
        if "kind" in doc.obj:
            assert [str(e) for e in validate(doc.obj)] == []


def test_validation_needs_no_network(monkeypatch):
    """The schemas ship inside the kubernetes-validate wheel: no socket is opened."""
    from labkit.k8s import schema

    schema._core_validator.cache_clear()
    schema._registry.cache_clear()

    def refuse(*args, **kwargs):
        raise AssertionError("schema validation tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert validate(_gpu_pod("offline")) == []


def test_pinned_version():
    assert KUBERNETES_VERSION == "1.33"


def _pod():
    return _gpu_pod("p")


VOLCANO = load_documents(ROOT / "manifests/k8s/volcano-gang-job.yaml")[0].obj
C0 = ("spec", "containers", 0)


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        pytest.param(lambda o: _set(o, C0 + ("resources", "limts"), {}),
                     "spec.containers[0].resources",
                     "Additional properties are not allowed ('limts' was unexpected)",
                     id="misspelt-limits"),
        pytest.param(lambda o: _set(o, C0 + ("image",), 7), "spec.containers[0].image",
                     "7 is not of type 'string', 'null'", id="image-not-a-string"),
        pytest.param(lambda o: o["spec"]["containers"][0].pop("name"), "spec.containers[0]",
                     "'name' is a required property", id="container-without-name"),
        pytest.param(lambda o: o["spec"].pop("containers"), "spec",
                     "'containers' is a required property", id="no-containers"),
        pytest.param(lambda o: _set(o, ("spec", "tolerations", 0), {"key": 1}),
                     "spec.tolerations[0].key", "1 is not of type 'string', 'null'",
                     id="toleration-key-type"),
        pytest.param(lambda o: _set(o, ("spec", "nodeSelector"), {"a": 1}), "spec.nodeSelector.a",
                     "1 is not of type 'string', 'null'", id="node-selector-value-not-string"),
    ],
)
def test_core_schema_errors(change, path, message):
    pod = _pod()
    pod["spec"]["tolerations"] = [{"key": "k", "operator": "Exists"}]
    change(pod)
    assert (path, message) in [(e.path, e.message) for e in validate(pod)]


def _vc(change):
    job = copy.deepcopy(VOLCANO)
    change(job)
    return job


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        pytest.param(lambda j: _set(j, ("spec", "minAvailable"), 4), "spec.minAvailable",
                     "job 'minAvailable' should not be greater than total replicas in tasks",
                     id="gang-larger-than-the-job"),
        pytest.param(lambda j: _set(j, ("spec", "tasks", 1, "minAvailable"), 3),
                     "spec.tasks[1].minAvailable",
                     "'minAvailable' is greater than 'replicas' in task", id="task-min-available"),
        pytest.param(lambda j: _set(j, ("spec", "tasks", 1, "name"), "master"), "spec.tasks",
                     "duplicated task name found", id="duplicate-task-names"),
        pytest.param(lambda j: _set(j, ("spec", "tasks"), []), "spec.tasks",
                     "[] should be non-empty", id="no-tasks"),
        pytest.param(lambda j: _set(j, ("spec", "minAvailable"), -1), "spec.minAvailable",
                     "-1 is less than the minimum of 0", id="negative-min-available"),
        pytest.param(lambda j: _set(j, ("spec", "queue"), "Team_A"), "spec.queue",
                     "'Team_A' does not match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]"
                     "([-a-z0-9]*[a-z0-9])?)*$'", id="queue-not-dns"),
        pytest.param(lambda j: _set(j, ("spec", "policies", 0, "event"), "PodLost"),
                     "spec.policies[0].event", "'PodLost' is not one of ['*', 'PodPending', "
                     "'PodRunning', 'PodFailed', 'PodEvicted', 'Unknown', 'TaskCompleted', "
                     "'OutOfSync', 'CommandIssued', 'JobUpdated', 'TaskFailed']",
                     id="policy-event-enum"),
        pytest.param(lambda j: _set(j, ("spec", "minAvaliable"), 3), "spec",
                     "Additional properties are not allowed ('minAvaliable' was unexpected)",
                     id="misspelt-min-available"),
        pytest.param(lambda j: _set(j, ("spec", "tasks", 0, "template", "spec", "containers", 0,
                                        "resources", "limts"), {}),
                     "spec.tasks[0].template.spec.containers[0].resources",
                     "Additional properties are not allowed ('limts' was unexpected)",
                     id="task-template-is-a-core-pod-template"),
    ],
)
def test_volcano_errors(change, path, message):
    assert (path, message) in [(e.path, e.message) for e in validate(_vc(change))]


def test_volcano_podgroup_subset():
    pg = {"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "PodGroup",
          "metadata": {"name": "test-pg", "namespace": "default"},
          "spec": {"minMember": 1, "minResources": {"cpu": "1000m", "memory": "2G"},
                   "queue": "default"}}  # Volcano's own example (ref §3.1)
    assert validate(pg) == []
    pg["spec"]["minResources"]["cpu"] = "lots"
    assert [e.path for e in validate(pg)] == ["spec.minResources.cpu"]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param({"kind": "Pod"}, "not a Kubernetes object (no apiVersion or kind)",
                     id="no-api-version"),
        pytest.param({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
                     "no schema for kind Widget (apiVersion example.com/v1) in Kubernetes 1.33, "
                     "nor in labkit's Volcano subset; check the apiVersion and kind",
                     id="unknown-crd"),
        pytest.param({"apiVersion": "v1", "kind": "Pood", "metadata": {"name": "w"}},
                     "no schema for kind Pood (apiVersion v1) in Kubernetes 1.33, nor in labkit's "
                     "Volcano subset; check the apiVersion and kind", id="misspelt-kind"),
    ],
)
def test_objects_without_a_schema(obj, message):
    assert [e.message for e in validate(obj)] == [message]
