"""Kubernetes manifests as data: load YAML, find pod specs, read resources, build GPU pods.

Lab 04: Kubernetes GPU scheduling. Quantities follow Kubernetes' resource.Quantity syntax
(``500m``, ``2``, ``16Gi``, ``1e3``) and are returned as exact fractions (cpu in cores, memory
in bytes, devices as counts). The command-line equivalent of loading is
``kubectl apply --dry-run=client -f <file>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import yaml

__all__ = [
    "Document",
    "ManifestError",
    "GPU_PREFIX",
    "effective_requests",
    "gpu_requests",
    "is_extended",
    "load_documents",
    "object_name",
    "parse_quantity",
    "pod_specs",
    "restricted_security_context",
    "CUDA_IMAGE",
]

GPU_PREFIX = "nvidia.com/"
_SUFFIX = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}
_QUANTITY = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|"
                       r"[numkMGTPE])?)")


@dataclass(frozen=True)
class Document:
    """One YAML document: where it came from (``file`` and its position) and the object."""

    source: str
    index: int
    obj: dict

    @property
    def where(self) -> str:
        return f"{self.source}#{self.index}" if self.index else self.source


class ManifestError(ValueError):
    """A file that cannot be read as YAML manifests: where (file, document, line) and why.

    ``str()`` is one line for a terminal: ``FILE#DOC:LINE: what is wrong; what to do``.
    """

    def __init__(self, source: str, message: str, *, index: int = 0, line: int | None = None):
        self.source, self.index, self.line, self.message = source, index, line, message
        super().__init__(str(self))

    @property
    def where(self) -> str:
        text = f"{self.source}#{self.index}" if self.index else self.source
        return f"{text}, line {self.line}" if self.line else text

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _yaml_error(source: str, index: int, err: yaml.YAMLError) -> ManifestError:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    what = ": ".join(filter(None, [getattr(err, "context", None),
                                  getattr(err, "problem", None)])) or str(err).splitlines()[0]
    return ManifestError(source, f"YAML syntax error: {what}; fix the YAML (indentation, a "
                         "missing ':' or an unclosed quote or bracket) and rerun",
                         index=index, line=mark.line + 1 if mark else None)


def _read(f: Path) -> list[Document]:
    source = str(f)
    try:
        text = f.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ManifestError(source, f"not UTF-8 text ({err.reason} at byte {err.start}); "
                            "save the manifest as UTF-8 YAML") from None
    except OSError as err:
        raise ManifestError(source, f"cannot be read ({err.strerror or err}); check the "
                            "path and its permissions") from None
    docs, count = [], 0
    try:
        for obj in yaml.safe_load_all(text):
            if obj is not None:
                docs.append(Document(source, count, obj))
            count += 1
    except yaml.YAMLError as err:
        raise _yaml_error(source, count, err) from None
    if not docs:
        raise ManifestError(source, "holds no YAML document (empty, or only comments); add "
                            "a manifest or remove the file")
    return docs


def load_documents(paths: str | Path | Iterable[str | Path], *,
                   errors: list[ManifestError] | None = None) -> list[Document]:
    """Every non-empty YAML document of the files (a folder: its ``*.yaml``, sorted).

    A file that cannot be read, is not valid YAML or holds no document raises
    ``ManifestError``; with ``errors=[]`` the problem is appended there instead and the
    other files are still read (what ``python -m labkit.k8s check`` does).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p]
    docs = []
    for f in files:
        try:
            docs += _read(f)
        except ManifestError as err:
            if errors is None:
                raise
            errors.append(err)
    return docs


def object_name(obj: dict) -> str:
    """``Kind/namespace/name`` (namespace omitted when unset), as kubectl prints objects."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind', '?')}/{ns}{meta.get('name', '?')}"


def pod_specs(obj: dict) -> Iterator[tuple[str, dict]]:
    """``(field path, pod spec)`` of every pod template in an object (Pod, workloads, vcjob)."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        yield "spec", spec
    elif kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}:
        yield "spec.template.spec", (spec.get("template") or {}).get("spec") or {}
    elif kind == "Job" and str(obj.get("apiVersion", "")).startswith("batch.volcano.sh/"):
        for i, task in enumerate(spec.get("tasks") or []):
            yield f"spec.tasks[{i}].template.spec", (task.get("template") or {}).get("spec") or {}
    elif kind == "Job":
        yield "spec.template.spec", (spec.get("template") or {}).get("spec") or {}
    elif kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        yield "spec.jobTemplate.spec.template.spec", (job.get("template") or {}).get("spec") or {}


def parse_quantity(value: str | int | float) -> Fraction:
    """A Kubernetes quantity as an exact number: ``"500m"`` -> 1/2, ``"1Gi"`` -> 1073741824."""
    if isinstance(value, bool):
        raise ValueError(f"quantity {value!r} is a boolean, not a number")
    if isinstance(value, (int, float)):
        return Fraction(str(value))
    text = str(value).strip()
    m = _QUANTITY.fullmatch(text)
    if not m:
        raise ValueError(f"quantity '{value}' is not a Kubernetes quantity "
                         "(examples: 1, 500m, 16Gi, 1e3)")
    number = Fraction(m.group(1))
    if m.group(2):
        return number * Fraction(10) ** int(m.group(2)[1:])
    return number * _SUFFIX[m.group(3) or ""]


def is_extended(resource: str) -> bool:
    """Extended resources (``nvidia.com/gpu``) cannot be overcommitted: requests == limits.

    Native resources are ``cpu``, ``memory``, ``ephemeral-storage``, ``hugepages-*`` and
    names under ``kubernetes.io/``; everything with another domain is extended (K8s docs,
    "Schedule GPUs"; ref k8s_vgpu §2.5).
    """
    return "/" in resource and not resource.split("/", 1)[0].endswith("kubernetes.io")


def effective_requests(container: dict) -> dict[str, Fraction]:
    """A container's requests after defaulting: a limit without a request counts as both."""
    res = container.get("resources") or {}
    requests = {k: parse_quantity(v) for k, v in (res.get("requests") or {}).items()}
    for k, v in (res.get("limits") or {}).items():
        requests.setdefault(k, parse_quantity(v))
    return requests


def gpu_requests(spec: dict) -> dict[str, Fraction]:
    """The ``nvidia.com/*`` resources a pod spec asks for (sum of its app containers)."""
    total: dict[str, Fraction] = {}
    for c in spec.get("containers") or []:
        for k, v in effective_requests(c).items():
            if k.startswith(GPU_PREFIX):
                total[k] = total.get(k, Fraction(0)) + v
    return total


def restricted_security_context() -> dict:
    """A container securityContext that meets the "restricted" Pod Security Standard."""
    # runAsUser: images that default to root would otherwise be refused by runAsNonRoot.
    return {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 1000,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


# The CUDA sample the device plugin and GPU Operator docs schedule to test a GPU node.
CUDA_IMAGE = "nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda12.5.0"


def _gpu_pod(name: str, *, gpus: int = 1, resource: str = "nvidia.com/gpu",
            namespace: str | None = None, image: str = CUDA_IMAGE,
            command: list[str] | None = None, node_selector: dict | None = None,
            tolerations: list[dict] | None = None, priority_class: str | None = None,
            cpu: str = "1", memory: str = "4Gi") -> dict:
    """A Pod that asks for ``gpus`` of ``resource`` (requests equal limits), restricted-ready.

    Private: labkit's tests build pods with it; Lab 04 does not import it, since one call
    would answer its exercises (write a Pod to requirements). ``kubectl apply -f -`` accepts
    ``yaml.safe_dump(_gpu_pod(...))``.
    """
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    container = {
        "name": "main",
        "image": image,
        **({"command": command} if command else {}),
        "resources": {"requests": {"cpu": cpu, "memory": memory, resource: gpus},
                      "limits": {"memory": memory, resource: gpus}},
        "securityContext": restricted_security_context(),
    }
    spec: dict = {"restartPolicy": "Never", "containers": [container]}
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if tolerations is not None:
        spec["tolerations"] = list(tolerations)
    if priority_class:
        spec["priorityClassName"] = priority_class
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
