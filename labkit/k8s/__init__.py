"""Kubernetes GPU scheduling for Lab 04: manifests, offline schema validation, lint, explainer.

``from labkit.k8s import load_documents, validate, lint, explain, Cluster, Node`` covers the
lab. Modules: ``manifests`` (YAML, pod specs, quantities), ``schema``
(kubernetes-validate for Kubernetes ``KUBERNETES_VERSION``; Volcano by documented subset),
``lint`` (GPU rules), ``taints``, ``quota`` (ResourceQuota admission), ``explain`` (a teaching
model of kube-scheduler's filters).
"""

from labkit.k8s.explain import (
    Cluster,
    Explanation,
    Node,
    explain,
    explain_gang,
    pod_requests,
)
from labkit.k8s.lint import RULES, Finding, LintContext, lint, lint_documents
from labkit.k8s.manifests import (
    CUDA_IMAGE,
    Document,
    ManifestError,
    effective_requests,
    gpu_requests,
    is_extended,
    load_documents,
    object_name,
    parse_quantity,
    pod_specs,
    restricted_security_context,
)
from labkit.k8s.quota import check_quota, format_quantity, quota_usage
from labkit.k8s.schema import KUBERNETES_VERSION, SchemaError, validate, validate_documents
from labkit.k8s.taints import Taint, tolerates

__all__ = [
    "CUDA_IMAGE",
    "KUBERNETES_VERSION",
    "RULES",
    "Cluster",
    "Document",
    "Explanation",
    "Finding",
    "LintContext",
    "ManifestError",
    "Node",
    "SchemaError",
    "Taint",
    "check",
    "check_quota",
    "effective_requests",
    "explain",
    "explain_gang",
    "format_quantity",
    "gpu_requests",
    "is_extended",
    "lint",
    "lint_documents",
    "load_documents",
    "object_name",
    "parse_quantity",
    "pod_requests",
    "pod_specs",
    "quota_usage",
    "restricted_security_context",
    "tolerates",
    "validate",
    "validate_documents",
]


def check(paths, ctx: LintContext | None = None) -> list:
    """Load problems, schema errors and lint findings of manifest files or folders, in file order.

    Lab 04: ``check("manifests/k8s")`` -> [] when every manifest is valid and clean. A file
    that is not YAML (or empty) gives a ``ManifestError`` and the other files are still
    checked; an object with schema errors is not linted (the lint rules assume its shape).
    """
    errors: list[ManifestError] = []
    docs = load_documents(paths, errors=errors)
    found: list = list(errors)
    for doc in docs:
        invalid = validate_documents([doc])
        found += invalid or lint_documents([doc], ctx)
    return found
