"""A documented subset of Volcano's CRD schemas: Job (batch.volcano.sh/v1alpha1), PodGroup.

Lab 04: gang scheduling. Source: volcano-sh/volcano ``config/crd/volcano/bases/
batch.volcano.sh_jobs.yaml`` (commit 0318bf611b5e, controller-gen v0.20.0) and
``scheduling.volcano.sh_podgroups.yaml`` (commit 096235e19d45), read through the code index;
reference/k8s_vgpu.md §3 has the same fields from snapshot ed72c7c8 [VC].

The subset keeps every field of ``spec`` with its type, bounds, patterns and enums as the CRD
states them, and makes the CRD's structural schema strict (unknown fields are errors, as the
API server prunes and ``kubectl --validate=strict`` rejects them). What it leaves out:
``tasks[].template`` is not described here; labkit validates it against Kubernetes' own
PodTemplateSpec schema (the CRD embeds that same schema), and ``status``. The admission
checks that the CRD cannot express (minAvailable against replicas) are in schema.py, with
the texts of Volcano's ValidatingAdmissionPolicy (ref §3.3).
"""

from __future__ import annotations

_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_QUANTITY = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
             r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")
_EVENTS = ["*", "PodPending", "PodRunning", "PodFailed", "PodEvicted", "Unknown",
           "TaskCompleted", "OutOfSync", "CommandIssued", "JobUpdated", "TaskFailed"]


def _int(minimum: int | None = None) -> dict:
    schema: dict = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def _obj(properties: dict, required: list[str] | None = None) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


_POLICY = _obj({
    "action": {"type": "string"},
    "event": {"type": "string", "enum": _EVENTS},
    "events": {"type": "array", "items": {"type": "string", "enum": _EVENTS}},
    "exitCode": _int(),
    "timeout": {"type": "string"},
})
_NETWORK_TOPOLOGY = _obj({
    "highestTierAllowed": _int(0),
    "highestTierName": {"type": "string", "maxLength": 253},
    "mode": {"type": "string", "enum": ["hard", "soft"]},
})
_TASK = _obj({
    "dependsOn": _obj({"iteration": {"type": "string"},
                       "name": {"type": "array", "items": {"type": "string"}}}),
    "maxRetry": _int(0),
    "minAvailable": _int(0),
    "name": {"type": "string", "maxLength": 63, "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
    "partitionPolicy": _obj({
        "minPartitions": _int(0),
        "networkTopology": _NETWORK_TOPOLOGY,
        "partitionSize": _int(1),
        "totalPartitions": _int(1),
    }, required=["partitionSize", "totalPartitions"]),
    "policies": {"type": "array", "items": _POLICY},
    "replicas": _int(0),
    "template": {"type": "object"},  # validated as a core v1 PodTemplateSpec (schema.py)
    "topologyPolicy": {"type": "string",
                       "enum": ["none", "best-effort", "restricted", "single-numa-node"]},
})
_METADATA = {"type": "object"}
_STATUS = {"type": "object"}

JOB_SCHEMA = _obj({
    "apiVersion": {"type": "string", "enum": ["batch.volcano.sh/v1alpha1"]},
    "kind": {"type": "string", "enum": ["Job"]},
    "metadata": _METADATA,
    "spec": _obj({
        "maxRetry": _int(0),
        "minAvailable": _int(0),
        "minSuccess": _int(1),
        "networkTopology": _NETWORK_TOPOLOGY,
        "plugins": {"type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "policies": {"type": "array", "items": _POLICY},
        "priorityClassName": {"type": "string", "maxLength": 253, "pattern": _DNS_SUBDOMAIN},
        "queue": {"type": "string", "maxLength": 253, "pattern": _DNS_SUBDOMAIN},
        "runningEstimate": {"type": "string"},
        "schedulerName": {"type": "string", "maxLength": 63},
        "tasks": {"type": "array", "minItems": 1, "items": _TASK},
        "ttlSecondsAfterFinished": _int(0),
        "volumes": {"type": "array", "items": _obj({
            "mountPath": {"type": "string", "minLength": 1, "pattern": r"^[^:]+$"},
            "volumeClaim": {"type": "object"},
            "volumeClaimName": {"type": "string", "maxLength": 253},
        }, required=["mountPath"])},
    }),
    "status": _STATUS,
}, required=["apiVersion", "kind", "metadata", "spec"])

PODGROUP_SCHEMA = _obj({
    "apiVersion": {"type": "string", "enum": ["scheduling.volcano.sh/v1beta1"]},
    "kind": {"type": "string", "enum": ["PodGroup"]},
    "metadata": _METADATA,
    "spec": _obj({
        "minMember": _int(),
        "minResources": {"type": "object", "additionalProperties": {
            "anyOf": [{"type": "integer"}, {"type": "string", "pattern": _QUANTITY}]}},
        "minTaskMember": {"type": "object", "additionalProperties": _int()},
        "networkTopology": _obj({"highestTierAllowed": _int(),
                                 "mode": {"type": "string", "enum": ["hard", "soft"]}}),
        "priorityClassName": {"type": "string"},
        "queue": {"type": "string"},
        "preemptable": {"type": "boolean"},
    }),
    "status": _STATUS,
}, required=["apiVersion", "kind", "metadata", "spec"])

SCHEMAS = {
    ("batch.volcano.sh/v1alpha1", "Job"): JOB_SCHEMA,
    ("scheduling.volcano.sh/v1beta1", "PodGroup"): PODGROUP_SCHEMA,
}
