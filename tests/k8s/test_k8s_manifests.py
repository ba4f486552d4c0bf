"""labkit.k8s.manifests: quantities, pod specs of each kind, requests after defaulting."""

from __future__ import annotations

from fractions import Fraction

import pytest

from labkit.k8s.manifests import (
    _gpu_pod,
    effective_requests,
    gpu_requests,
    is_extended,
    load_documents,
    object_name,
    parse_quantity,
    pod_specs,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("500m", Fraction(1, 2), id="millicores"),
        pytest.param("2", Fraction(2), id="plain"),
        pytest.param(4, Fraction(4), id="yaml-integer"),
        pytest.param(0.5, Fraction(1, 2), id="yaml-float"),
        pytest.param("16Gi", Fraction(16 * 2**30), id="gibibytes"),
        pytest.param("1G", Fraction(10**9), id="gigabytes"),
        pytest.param("1e3", Fraction(1000), id="exponent"),
        pytest.param("1.5", Fraction(3, 2), id="decimal"),
        pytest.param("128974848", Fraction(128974848), id="bytes"),
    ],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["1 Gi", "one", "2GB", "", True])
def test_parse_quantity_rejects(text):
    with pytest.raises(ValueError):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("name", "extended"),
    [
        pytest.param("nvidia.com/gpu", True, id="gpu"),
        pytest.param("nvidia.com/mig-1g.5gb", True, id="mig"),
        pytest.param("cpu", False, id="cpu"),
        pytest.param("memory", False, id="memory"),
        pytest.param("hugepages-2Mi", False, id="hugepages-native"),
        pytest.param("kubernetes.io/something", False, id="kubernetes-io-native"),
    ],
)
def test_is_extended(name, extended):
    assert is_extended(name) is extended


def test_effective_requests_default_to_limits():
    c = {"resources": {"requests": {"cpu": "1"}, "limits": {"nvidia.com/gpu": 2, "cpu": "2"}}}
    assert effective_requests(c) == {"cpu": 1, "nvidia.com/gpu": 2}


def _template(spec):
    return {"template": {"spec": spec}}


@pytest.mark.parametrize(
    ("obj", "paths"),
    [
        pytest.param({"kind": "Pod", "spec": {"a": 1}}, ["spec"], id="pod"),
        pytest.param({"kind": "Deployment", "spec": _template({"a": 1})}, ["spec.template.spec"],
                     id="deployment"),
        pytest.param({"kind": "Job", "apiVersion": "batch/v1", "spec": _template({"a": 1})},
                     ["spec.template.spec"], id="batch-job"),
        pytest.param({"kind": "CronJob", "spec": {"jobTemplate": {"spec": _template({"a": 1})}}},
                     ["spec.jobTemplate.spec.template.spec"], id="cronjob"),
        pytest.param({"kind": "Job", "apiVersion": "batch.volcano.sh/v1alpha1",
                      "spec": {"tasks": [_template({"a": 1}), _template({"a": 2})]}},
                     ["spec.tasks[0].template.spec", "spec.tasks[1].template.spec"],
                     id="volcano-job-tasks"),
        pytest.param({"kind": "ResourceQuota", "spec": {}}, [], id="no-pods-in-a-quota"),
    ],
)
def test_pod_specs(obj, paths):
    assert [p for p, _ in pod_specs(obj)] == paths


def test_gpu_pod_builder():
    pod = _gpu_pod("x", gpus=2, resource="nvidia.com/mig-1g.10gb", namespace="team-a")
    assert object_name(pod) == "Pod/team-a/x"
    assert gpu_requests(pod["spec"]) == {"nvidia.com/mig-1g.10gb": 2}


def test_load_documents_reads_every_course_manifest():
    docs = load_documents("manifests/k8s")
    kinds = {d.obj.get("kind", "values") for d in docs}
    assert {"Pod", "Deployment", "Namespace", "ResourceQuota", "PriorityClass", "Job",
            "values"} <= kinds
