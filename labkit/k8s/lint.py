"""GPU lint rules for Kubernetes manifests: what schema validation cannot see.

Lab 04. Each rule has an id, a severity and a message that names the object, the field, the
value, what was expected, and the fix. Where the API server or the device plugin has its own
wording, the message quotes it (ref = shared/reference/k8s_vgpu.md, mig.md §4):

- ``gpu-limits``: a GPU in requests must be in limits (apiserver: "Limit must be set for non
  overcommitable resources", ref §2.5 [K9]);
- ``requests-equal-limits``: extended resources cannot be overcommitted ("must be equal to
  <resource> limit of <n>", [K9]); ``integer-gpu``: device counts are integers ("must be an
  integer", [K9]);
- ``quantity``: every requests/limits value parses as a Kubernetes quantity (the apiserver
  refuses the object otherwise); the other resource rules skip a pod with a bad one;
- ``mig-resource``: ``nvidia.com/mig-*`` names exist for the GPU model (labkit.mig catalog) and
  only under the ``mixed`` strategy (mig.md §4.1);
- ``gpu-toleration``: a GPU pod tolerates the GPU nodes' taint (default
  ``nvidia.com/gpu=present:NoSchedule``, the taint the device plugin chart tolerates);
- ``resources-set``: every container requests cpu and memory and limits memory;
- ``no-privileged``: no privileged container except the NVIDIA device plugin;
- ``restricted``: the "restricted" Pod Security Standard, with the Pod Security admission's
  texts (kubernetes staging/src/k8s.io/pod-security-admission/policy/check_*.go); a warning;
- ``quota-extended``: quotas on extended resources use ``requests.`` only ([K11]);
- ``shared-request``: with ``failRequestsGreaterThanOne`` a shared GPU request above 1 fails;
- ``device-plugin-values``: the device plugin's Helm values (labkit.sharing.deviceplugin).

Command-line equivalent: none in kubectl; this is what a CI linter (kube-linter, conftest)
does with course-specific rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import yaml

from labkit.k8s.manifests import (
    Document,
    gpu_requests,
    is_extended,
    object_name,
    parse_quantity,
    pod_specs,
)
from labkit.k8s.taints import Taint, tolerates
from labkit.mig.catalog import (
    MODELS,
    NotMigCapableError,
    UnknownGpuModelError,
    UnknownProfileError,
    get_model,
)
from labkit.mig.catalog import get_profile as get_mig_profile
from labkit.sharing.deviceplugin import (
    MIG_STRATEGIES,
    SharingConfig,
    SharingConfigError,
    allocate_error,
    load_helm_values,
)

__all__ = ["RULES", "Finding", "LintContext", "lint", "lint_documents"]

RULES = {
    "gpu-limits": "a GPU in resources.requests is also in resources.limits",
    "requests-equal-limits": "extended resources (nvidia.com/*) have requests equal to limits",
    "integer-gpu": "GPU and MIG device counts are whole numbers",
    "quantity": "resource quantities use Kubernetes' syntax (1, 500m, 16Gi, 1e3)",
    "mig-resource": "MIG resource names exist for the GPU model and the MIG strategy",
    "gpu-toleration": "GPU pods tolerate the GPU nodes' taint",
    "resources-set": "every container requests cpu and memory and limits memory",
    "no-privileged": "no privileged container except the NVIDIA device plugin",
    "restricted": "securityContext meets the restricted Pod Security Standard (warning)",
    "quota-extended": "ResourceQuota limits extended resources with requests.<name> only",
    "shared-request": "no request above 1 of a shared GPU when failRequestsGreaterThanOne is set",
    "device-plugin-values": "the device plugin's Helm values hold valid sharing configs",
}
_NVIDIA = re.compile(r"nvidia\.com/(gpu|gpu\.shared|mig-(\d+g\.\d+gb)(\.me)?(\.shared)?)")


@dataclass(frozen=True)
class LintContext:
    """What the linter assumes about the cluster when a manifest does not say.

    ``gpu_model`` and ``mig_strategy`` are used unless the pod selects them itself through
    ``nvidia.com/gpu.product`` / ``nvidia.com/mig.strategy``; ``sharing`` is the device
    plugin's config for the ``shared-request`` rule.
    """

    gpu_taints: tuple[Taint, ...] = (Taint("nvidia.com/gpu", "present", "NoSchedule"),)
    gpu_model: str | None = None
    mig_strategy: str | None = None
    sharing: SharingConfig | None = None
    device_plugin_images: tuple[str, ...] = ("nvcr.io/nvidia/k8s-device-plugin",)


@dataclass(frozen=True)
class Finding:
    """One lint result. ``severity`` is ``error`` or ``warning``."""

    rule: str
    severity: str
    object: str
    path: str
    message: str
    source: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.object}: {self.path}: {self.message} [{self.rule}]"


def _selected(spec: dict, key: str) -> str | None:
    """The value a pod requires for a node label, from nodeSelector or required affinity."""
    if key in (spec.get("nodeSelector") or {}):
        return str(spec["nodeSelector"][key])
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for expr in term.get("matchExpressions") or []:
            if expr.get("key") == key and expr.get("operator") == "In" and len(
                    expr.get("values") or []) == 1:
                return str(expr["values"][0])
    return None


def _model_from_product(product: str | None):
    if not product:
        return None
    base = re.sub(r"(-MIG-.*|-SHARED)$", "", product)
    try:
        return get_model(base)
    except UnknownGpuModelError:
        return None


def _quantity_rules(path: str, spec: dict, add) -> bool:
    """Report every requests/limits value that is not a quantity; True when all parse."""
    ok = True
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            res = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for name, value in (res.get(kind) or {}).items():
                    try:
                        parse_quantity(value)
                    except ValueError as err:
                        ok = False
                        add("quantity", f"{path}.{group}[{i}].resources.{kind}[{name}]",
                            f'Invalid value: "{value}": {err}')
    return ok


def _container_rules(path: str, c: dict, add) -> None:
    res = c.get("resources") or {}
    requests, limits = res.get("requests") or {}, res.get("limits") or {}
    for kind, table in (("requests", requests), ("limits", limits)):
        for name, value in table.items():
            if not is_extended(name):
                continue
            qty = parse_quantity(value)
            if qty.denominator != 1:
                add("integer-gpu", f"{path}.resources.{kind}[{name}]",
                    f'Invalid value: "{value}": must be an integer (devices are whole: '
                    "share a GPU with time-slicing, MPS or MIG instead)")
    for name, value in requests.items():
        if not is_extended(name):
            continue
        if name not in limits:
            add("gpu-limits", f"{path}.resources.limits",
                f"Required value: Limit must be set for non overcommitable resources ({name} "
                f"is in requests only; put it in limits, where GPUs belong)")
        elif parse_quantity(value) != parse_quantity(limits[name]):
            add("requests-equal-limits", f"{path}.resources.requests",
                f'Invalid value: "{value}": must be equal to {name} limit of {limits[name]}')
    missing = [f"requests.{r}" for r in ("cpu", "memory") if r not in requests and r not in
               limits]
    missing += ["limits.memory"] if "memory" not in limits else []
    if missing:
        add("resources-set", f"{path}.resources",
            f"container '{c.get('name')}' does not set {', '.join(missing)}; set them so the "
            "scheduler can place it and the kubelet can protect the node")


def _mig_rules(path: str, spec: dict, ctx: LintContext, add) -> None:
    product = _selected(spec, "nvidia.com/gpu.product")
    model = _model_from_product(product) or (get_model(ctx.gpu_model) if ctx.gpu_model else None)
    strategy = _selected(spec, "nvidia.com/mig.strategy") or ctx.mig_strategy
    for name in gpu_requests(spec):
        m = _NVIDIA.fullmatch(name)
        if not m:
            add("mig-resource", f"{path}.containers", f"'{name}' is not a resource the NVIDIA "
                "device plugin advertises (nvidia.com/gpu, nvidia.com/gpu.shared, "
                "nvidia.com/mig-<G>g.<GB>gb[.me] under the mixed strategy)")
            continue
        if not m.group(2):
            continue
        profile = m.group(2) + ("+me" if m.group(3) else "")
        if strategy in ("none", "single"):
            add("mig-resource", f"{path}.containers",
                f"'{name}' is advertised only under the mixed MIG strategy; this pod targets "
                f"nvidia.com/mig.strategy={strategy}, where "
                + ("MIG devices are requested as nvidia.com/gpu" if strategy == "single"
                   else "MIG devices are not advertised at all"))
        if model:
            try:
                get_mig_profile(model, profile)
            except (UnknownProfileError, NotMigCapableError) as err:
                add("mig-resource", f"{path}.containers", f"'{name}': {err} (the pod selects "
                    f"nvidia.com/gpu.product={product or model.name})")
        elif not any(profile in m_.profile_names() for m_ in MODELS.values()):
            add("mig-resource", f"{path}.containers", f"'{name}': '{profile}' is not a MIG "
                "profile of any GPU in the catalog (A100: 1g.5gb ... 7g.40gb, H100: 1g.10gb "
                "... 7g.80gb); check the profile name with nvidia-smi mig -lgip")


def _security_rules(path: str, spec: dict, exempt: bool, add) -> None:
    pod_sc = spec.get("securityContext") or {}
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        sc = c.get("securityContext") or {}
        name = c.get("name")
        if sc.get("privileged") and not exempt:
            add("no-privileged", f"{path}.containers",
                f'privileged (container "{name}" must not set securityContext.privileged=true; '
                "only the NVIDIA device plugin may, and a GPU comes from resources.limits, not "
                "from privileged mode)")
        if exempt:
            continue
        warn = []  # Pod Security admission ForbiddenReason (ForbiddenDetail), restricted level
        if sc.get("allowPrivilegeEscalation") is not False:
            warn.append(f'allowPrivilegeEscalation != false (container "{name}" must set '
                        "securityContext.allowPrivilegeEscalation=false)")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            warn.append(f'unrestricted capabilities (container "{name}" must set '
                        'securityContext.capabilities.drop=["ALL"])')
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            warn.append(f'runAsNonRoot != true (pod or container "{name}" must set '
                        "securityContext.runAsNonRoot=true)")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            warn.append(f'seccompProfile (pod or container "{name}" must set '
                        'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
        for text in warn:
            add("restricted", f"{path}.containers", text, "warning")


def lint(obj: dict, ctx: LintContext | None = None, *, source: str = "") -> list[Finding]:
    """Every finding for one object (a Kubernetes object or device-plugin Helm values)."""
    ctx = ctx or LintContext()
    found: list[Finding] = []
    name = object_name(obj) if "kind" in obj else "helm-values"

    def add(rule: str, path: str, message: str, severity: str = "error") -> None:
        found.append(Finding(rule, severity, name, path, message, source))

    if "kind" not in obj and ("config" in obj or "migStrategy" in obj):
        strategy = obj.get("migStrategy")
        if strategy is not None and strategy not in MIG_STRATEGIES:
            add("device-plugin-values", "migStrategy", f"unknown MIG strategy: {strategy} "
                f"(valid: {', '.join(MIG_STRATEGIES)})")
        if "config" in obj:
            try:
                load_helm_values(yaml.safe_dump(obj))
            except SharingConfigError as err:
                for problem in err.problems:
                    add("device-plugin-values", "config", problem)
        return found
    if obj.get("kind") == "ResourceQuota":
        for key in ((obj.get("spec") or {}).get("hard") or {}):
            base = key.removeprefix("requests.").removeprefix("limits.")
            if is_extended(base) and not key.startswith("requests."):
                add("quota-extended", f"spec.hard[{key}]",
                    f"'{key}': \"for extended resources, only quota items with prefix "
                    f"requests. are allowed\" (Kubernetes docs); use 'requests.{base}'")
        return found
    images = ctx.device_plugin_images
    for path, spec in pod_specs(obj):
        containers = spec.get("containers") or []
        exempt = any(str(c.get("image", "")).startswith(images) for c in containers)
        if not _quantity_rules(path, spec, add):
            _security_rules(path, spec, exempt, add)
            continue
        for i, c in enumerate(containers):
            _container_rules(f"{path}.containers[{i}]", c, add)
        gpus = gpu_requests(spec)
        if gpus:
            _mig_rules(path, spec, ctx, add)
            for taint in ctx.gpu_taints:
                if not tolerates(spec.get("tolerations"), taint):
                    add("gpu-toleration", f"{path}.tolerations",
                        f"the pod requests {', '.join(sorted(gpus))} but does not tolerate the "
                        f"GPU nodes' taint {taint}; add {{key: {taint.key}, operator: Exists, "
                        f"effect: {taint.effect}}}")
            if ctx.sharing:
                for res, count in gpus.items():
                    text = allocate_error(ctx.sharing, res, int(count))
                    if text and count > Fraction(1):
                        add("shared-request", f"{path}.containers", text)
        _security_rules(path, spec, exempt, add)
    return found


def lint_documents(docs: list[Document], ctx: LintContext | None = None) -> list[Finding]:
    """Findings for every mapping document, each tagged with its file.

    The rules assume a schema-valid object: ``labkit.k8s.check`` lints only those.
    """
    found = []
    for doc in docs:
        if isinstance(doc.obj, dict):  # other shapes are schema errors (validate_documents)
            found += lint(doc.obj, ctx, source=doc.where)
    return found

