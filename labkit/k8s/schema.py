"""Offline schema validation of manifests for a pinned Kubernetes version; Volcano by subset.

Lab 04. Core kinds are checked with the JSON schemas bundled in the ``kubernetes-validate``
package (pinned in pyproject; its wheel carries the schemas of Kubernetes 1.25-1.37, so no
network is used), in its *strict* variant: unknown fields such as ``limts`` are errors, as
``kubectl apply --validate=strict`` makes them. Volcano's Job and PodGroup are checked
against the documented subset in ``_volcano.py``; a Job's pod templates against Kubernetes'
own PodTemplateSpec schema, and its replica counts with the texts of Volcano's admission
policy (reference/k8s_vgpu.md §3.3).

Why Kubernetes 1.33: the scheduling explainer (``explain.py``) prints the taint reason in the
``{key: value}`` form of kube-scheduler releases before PR #134740 (1.35, cherry-picked into
1.34 patches); 1.33 is the newest minor release all of whose patches print it (DERIVED from
ref k8s_vgpu §2.1, where the exact patch releases are UNCONFIRMED).
Command-line equivalent: ``kubernetes-validate --strict -k 1.33.0 <file>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import jsonschema
from kubernetes_validate.utils import schema_contents
from referencing import Registry, Resource

from labkit.k8s._volcano import SCHEMAS as VOLCANO_SCHEMAS
from labkit.k8s.manifests import Document, object_name

__all__ = ["KUBERNETES_VERSION", "SchemaError", "validate", "validate_documents"]

KUBERNETES_VERSION = "1.33"
_INDEX = re.compile(r"\[[^]]*\]")  # spec.containers[0].name -> spec.containers.name
_DIR = f"kubernetes-json-schema/v{KUBERNETES_VERSION}.0-local-strict"


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: the object, the field path and the validator's message."""

    object: str
    path: str
    message: str
    source: str = ""
    hint: str = field(default="", compare=False)  # the next action, when there is one

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.object}: {self.path or '<root>'}: {self.message}{hint}"


def _path(parts) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text


@cache
def _registry() -> Registry:
    definitions = schema_contents(f"{_DIR}/_definitions.json", KUBERNETES_VERSION)
    return Resource.from_contents(definitions) @ Registry()


@cache
def _core_validator(kind: str, api_version: str):
    # The package's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1; v1 -> v1.
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = schema_contents(f"{_DIR}/{kind.lower()}-{group}.json", KUBERNETES_VERSION)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ _registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _errors(validator, data, name: str, prefix: tuple = ()) -> list[SchemaError]:
    found = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        found.append(SchemaError(name, _path(prefix + tuple(err.absolute_path)), err.message))
    return found


def _volcano_admission(obj: dict, name: str) -> list[SchemaError]:
    # Texts of Volcano's ValidatingAdmissionPolicy job-validation-policy (ref §3.3), which the
    # CRD schema cannot express.
    spec = obj.get("spec") or {}
    tasks = spec.get("tasks") or []
    found = []
    if not tasks:
        return [SchemaError(name, "spec.tasks", "No task specified in job spec")]
    names = [t.get("name") for t in tasks]
    if len(set(names)) != len(names):
        found.append(SchemaError(name, "spec.tasks", "duplicated task name found"))
    for i, task in enumerate(tasks):
        if task.get("minAvailable", 0) > task.get("replicas", 0):
            found.append(SchemaError(name, f"spec.tasks[{i}].minAvailable",
                                     "'minAvailable' is greater than 'replicas' in task"))
    total = sum(t.get("replicas", 0) for t in tasks)
    if spec.get("minAvailable", 0) > total:
        found.append(SchemaError(name, "spec.minAvailable",
                                 "job 'minAvailable' should not be greater than total replicas "
                                 "in tasks"))
    return found


def validate(obj: dict) -> list[SchemaError]:
    """Schema errors of one object (empty list: valid) for Kubernetes ``KUBERNETES_VERSION``."""
    if not isinstance(obj, dict):
        return [SchemaError("?", "", _not_a_mapping(obj))]
    if "kind" not in obj or "apiVersion" not in obj:
        return [SchemaError("?", "", "not a Kubernetes object (no apiVersion or kind)")]
    name = object_name(obj)
    bad = [f for f in ("apiVersion", "kind") if not isinstance(obj[f], str) or not obj[f]]
    if bad:
        return [SchemaError(name, f, f"{obj[f]!r} is not a string; write the {f} as text, "
                                     "e.g. apiVersion: v1, kind: Pod") for f in bad]
    key = (obj["apiVersion"], obj["kind"])
    if key in VOLCANO_SCHEMAS:
        found = _errors(jsonschema.Draft202012Validator(VOLCANO_SCHEMAS[key]), obj, name)
        if key[1] == "Job":
            template = _core_validator("PodTemplateSpec", "v1")
            for i, task in enumerate((obj.get("spec") or {}).get("tasks") or []):
                if isinstance(task, dict) and "template" in task:
                    found += _errors(template, task["template"], name,
                                     ("spec", "tasks", i, "template"))
            if not found:
                found = _volcano_admission(obj, name)
        return found
    validator = _core_validator(obj["kind"], str(obj["apiVersion"]))
    if validator is None:
        return [SchemaError(name, "", f"no schema for kind {obj['kind']} "
                                      f"(apiVersion {obj['apiVersion']}) in Kubernetes "
                                      f"{KUBERNETES_VERSION}, nor in labkit's Volcano subset; "
                                      "check the apiVersion and kind")]
    found = _errors(validator, obj, name)
    # The next action: kubectl explain shows the field's type and documentation.
    kind = obj["kind"].lower()
    return [SchemaError(e.object, e.path, e.message,
                        hint=f"see: kubectl explain {kind}.{_INDEX.sub('', e.path)}"
                        if e.path else "") for e in found]


def _not_a_mapping(obj) -> str:
    what = {list: "a list", str: "a string", int: "a number", float: "a number",
            bool: "a boolean"}.get(type(obj), type(obj).__name__)
    hint = ("; write one object per document, separated by '---' lines" if isinstance(obj, list)
            else "; check the indentation, or that the file is a manifest at all")
    return (f"the document is {what}, not a mapping: a manifest is a mapping with apiVersion, "
            f"kind and metadata (Helm values: a mapping of settings){hint}")


def validate_documents(docs: list[Document]) -> list[SchemaError]:
    """Schema errors of every Kubernetes object in ``docs`` (Helm values files are skipped).

    A document that is not a mapping (a list, a string) is an error here, so that
    ``lint`` only ever sees mappings.
    """
    found = []
    for doc in docs:
        if not isinstance(doc.obj, dict):
            found.append(SchemaError(f"document {doc.index}", "", _not_a_mapping(doc.obj),
                                     doc.where))
            continue
        if "kind" not in doc.obj and "apiVersion" not in doc.obj:
            continue  # not an API object: Helm values, checked by lint
        found += [SchemaError(e.object, e.path, e.message, doc.where, e.hint)
                  for e in validate(doc.obj)]
    return found
