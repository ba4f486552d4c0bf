"""NVIDIA device plugin sharing configs (time-slicing, MPS): validation, what a node advertises.

Lab 03 (time-slicing and MPS in Kubernetes) and Lab 04 (the scheduling explainer reads node
resources from here). Facts are from shared/reference/mig.md §4 (k8s-device-plugin @ 1b826ac,
[S4]) and reference/k8s_vgpu.md §4 ([D1], [D2]); quoted error texts are the plugin's own.

Config file (the ``config.map`` entries of the Helm chart, or ``--config-file``)::

    version: v1
    flags: {migStrategy: none | single | mixed}
    sharing:
      timeSlicing | mps:
        renameByDefault: <bool>
        failRequestsGreaterThanOne: <bool>      # timeSlicing
        resources: [{name: <resource-name>, replicas: <n >= 2>}]

What a node advertises (capacity = allocatable here): ``nvidia.com/gpu`` per GPU (strategy
``none``, or ``single`` on MIG-disabled GPUs), one per MIG device under ``single``, or
``nvidia.com/mig-<G>g.<GB>gb`` per MIG device under ``mixed`` (ref §4.1); each shared resource
is multiplied by its ``replicas`` and, with ``renameByDefault``, renamed ``<name>.shared``
while ``<name>`` reports 0 (ref §4.3, [D2]). Labels follow GFD: ``gpu.count`` stays the number
of physical GPUs (MIG devices under ``single``), ``gpu.replicas`` is the per-GPU factor
(ref k8s_vgpu §4.2: trust the code). Under ``mixed`` the whole-GPU labels describe no
``nvidia.com/gpu`` resource (``gpu.replicas=0``, ``gpu.sharing-strategy=none``, as on a real
node) and each MIG type gets its own ``mig-<profile>.count``, ``.product``, ``.replicas`` and
``.sharing-strategy``. Memory labels are the catalog's MiB. Not modelled: the per-type
``.memory``, ``.multiprocessors``, ``.slices.*`` and ``.engines.*`` labels, CUDA/driver labels.
``kubectl describe node <name>`` shows both on a real cluster.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from labkit.mig.catalog import get_model, get_profile
from labkit.mig.planner import plan_layout

__all__ = [
    "MIG_STRATEGIES",
    "GpuNode",
    "NodeResources",
    "SharedResource",
    "SharingConfig",
    "SharingConfigError",
    "advertise",
    "allocate_error",
    "check_config",
    "load_helm_values",
    "mig_resource_name",
    "parse_config",
    "product_label",
]

MIG_STRATEGIES = ("none", "single", "mixed")
_SHARING_KEYS = {"timeSlicing": "time-slicing", "mps": "mps"}
_KNOWN = {
    "top": {"version", "flags", "sharing", "resources"},
    "sharing": set(_SHARING_KEYS),
    "timeSlicing": {"renameByDefault", "failRequestsGreaterThanOne", "resources"},
    "mps": {"renameByDefault", "failRequestsGreaterThanOne", "resources"},
    "resource": {"name", "replicas", "rename", "devices"},
}
_RESOURCE = re.compile(r"nvidia\.com/(gpu|mig-\d+g\.\d+gb(\.me)?)")


class SharingConfigError(ValueError):
    """An invalid device-plugin config; ``problems`` lists every finding, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid device-plugin config:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SharedResource:
    name: str
    replicas: int


@dataclass(frozen=True)
class SharingConfig:
    """A parsed config: ``strategy`` is ``none``, ``time-slicing`` or ``mps``."""

    mig_strategy: str = "none"
    strategy: str = "none"
    rename_by_default: bool = False
    fail_requests_greater_than_one: bool = False
    resources: tuple[SharedResource, ...] = ()

    def replicas(self, resource: str) -> int:
        """The replica factor of ``resource`` (1 when it is not shared)."""
        return next((r.replicas for r in self.resources if r.name == resource), 1)


def mig_resource_name(profile: str) -> str:
    """``1g.5gb+me`` -> ``nvidia.com/mig-1g.5gb.me``: the mixed-strategy resource (ref §4.1)."""
    return "nvidia.com/mig-" + profile.replace("+", ".")


def check_config(data: dict) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` for a config dict. Quoted texts are the device plugin's own."""
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(data, dict):
        return [f"the config must be a mapping, got {type(data).__name__}"], []
    for key in sorted(set(data) - _KNOWN["top"]):
        errors.append(f"unknown field '{key}' (valid: {', '.join(sorted(_KNOWN['top']))})")
    if data.get("version") != "v1":
        errors.append(f"version: got {data.get('version')!r}, expected 'v1'")
    strategy = (data.get("flags") or {}).get("migStrategy", "none")
    if strategy not in MIG_STRATEGIES:
        errors.append(f"unknown MIG strategy: {strategy}")  # [S4 main.go]
    sharing = data.get("sharing") or {}
    for key in sorted(set(sharing) - _KNOWN["sharing"]):
        errors.append(f"unknown field 'sharing.{key}' (valid: timeSlicing, mps)")
    used = [k for k in _SHARING_KEYS if (sharing.get(k) or {}).get("resources")]
    if len(used) > 1:
        errors.append("sharing: timeSlicing and mps are both set; \"Time-slicing and MPS are "
                      "mutually exclusive.\" (device plugin README)")
    for key in _SHARING_KEYS:
        if key not in sharing:
            continue
        block = sharing[key] or {}
        where = f"sharing.{key}"
        for extra in sorted(set(block) - _KNOWN[key]):
            errors.append(f"unknown field '{where}.{extra}' (valid: "
                          f"{', '.join(sorted(_KNOWN[key]))})")
        resources = block.get("resources") or []
        if not resources:
            errors.append(f"{where}: no resources specified")  # [S4 replicas.go]
        for i, res in enumerate(resources):
            errors += _check_resource(f"{where}.resources[{i}]", res, key, strategy, warnings)
        if key == "mps" and strategy == "mixed":
            errors.append("using --mig-strategy=mixed is not supported with MPS")  # [S4 main.go]
    return errors, warnings


def _check_resource(where: str, res: dict, key: str, strategy: str, warnings: list) -> list:
    errors = []
    name, replicas = res.get("name"), res.get("replicas")
    for extra in sorted(set(res) - _KNOWN["resource"]):
        errors.append(f"unknown field '{where}.{extra}' (valid: name, replicas)")
    if not name:
        errors.append(f"{where}: no resource name specified")  # [S4 replicas.go]
    elif not _RESOURCE.fullmatch(str(name)):
        errors.append(f"{where}.name: '{name}' is not a device-plugin resource (nvidia.com/gpu "
                      "or nvidia.com/mig-<G>g.<GB>gb)")
    elif key == "mps" and name != "nvidia.com/gpu":
        errors.append(f"{where}.name: '{name}': \"the only supported resource available for MPS "
                      "are nvidia.com/gpu resources and only with full GPUs\" (README)")
    elif str(name).startswith("nvidia.com/mig-") and strategy != "mixed":
        errors.append(f"{where}.name: '{name}' exists only with flags.migStrategy: mixed "
                      f"(this config has '{strategy}'), so nothing would be shared")
    if replicas is None:
        errors.append(f"{where}: no replicas specified")  # [S4 replicas.go]
    elif isinstance(replicas, bool) or not isinstance(replicas, int):
        errors.append(f"{where}.replicas: {replicas!r} is not an integer")
    elif replicas < 2:
        errors.append(f"{where}: number of replicas must be >= 2")  # [S4 replicas.go:252]
    if "rename" in res or "devices" in res:
        warnings.append(f"{where}: a custom 'rename' or 'devices' is ignored by the plugin "
                        "(with a warning)")
    return errors


def parse_config(source: str | dict | Path) -> SharingConfig:
    """Validate and parse a config (YAML text, a dict, or a file); raises `SharingConfigError`."""
    data = source
    if isinstance(source, Path):
        data = yaml.safe_load(source.read_text())
    elif isinstance(source, str):
        data = yaml.safe_load(source)
    errors, _ = check_config(data)
    if errors:
        raise SharingConfigError(errors)
    sharing = data.get("sharing") or {}
    key = next((k for k in _SHARING_KEYS if (sharing.get(k) or {}).get("resources")), None)
    block = sharing.get(key) or {}
    return SharingConfig(
        mig_strategy=(data.get("flags") or {}).get("migStrategy", "none"),
        strategy=_SHARING_KEYS.get(key, "none"),
        rename_by_default=bool(block.get("renameByDefault", False)),
        fail_requests_greater_than_one=bool(block.get("failRequestsGreaterThanOne", False)),
        resources=tuple(SharedResource(r["name"], r["replicas"]) for r in block.get("resources",
                                                                                     [])),
    )


def load_helm_values(source: str | Path) -> tuple[dict[str, SharingConfig], str]:
    """The named configs of a device-plugin Helm values file and its default name.

    The chart's ``config.map`` holds one config per name (a YAML string); ``config.default``
    names the one used on nodes without a ``nvidia.com/device-plugin.config`` label
    (NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin/values.yaml).
    """
    text = source.read_text() if isinstance(source, Path) else source
    values = yaml.safe_load(text) or {}
    config = values.get("config") or {}
    mapping = config.get("map") or {}
    if not mapping:
        raise SharingConfigError(["config.map: no named config (set config.map.<name>)"])
    problems, parsed = [], {}
    for name, body in mapping.items():
        try:
            parsed[name] = parse_config(body if isinstance(body, dict) else str(body))
        except SharingConfigError as err:
            problems += [f"config.map.{name}: {p}" for p in err.problems]
    default = config.get("default") or ""
    if default and default not in mapping:
        problems.append(f"config.default: '{default}' is not a key of config.map "
                        f"({', '.join(mapping)})")
    if problems:
        raise SharingConfigError(problems)
    return parsed, default


def product_label(model: str) -> str:
    """GFD's ``nvidia.com/gpu.product`` for a catalog model: spaces become ``-`` (ref §4.2)."""
    return re.sub(r"\s+", "-", get_model(model).product_name.strip())


@dataclass
class NodeResources:
    """What one node advertises: ``capacity`` (= allocatable) and GFD-style ``labels``."""

    capacity: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


def advertise(model: str, gpus: int, *, mig_strategy: str = "none",
              mig_layout: tuple[str, ...] | list[str] = (),
              sharing: SharingConfig | None = None) -> NodeResources:
    """The GPU resources and labels of a node with ``gpus`` GPUs of ``model``.

    ``mig_layout`` is the MIG device profiles of every GPU (the same layout on each, as
    mig-parted's ``all-*`` configs make); empty means MIG disabled. The layout is checked
    against the catalog with the MIG planner. Lab 03: ``advertise("A100-SXM4-40GB", 8,
    sharing=parse_config(...replicas: 10...))`` -> ``nvidia.com/gpu: 80`` (ref §4.3).
    """
    sharing = sharing or SharingConfig(mig_strategy=mig_strategy)
    if mig_strategy not in MIG_STRATEGIES:
        raise ValueError(f"unknown MIG strategy: {mig_strategy} (valid: none, single, mixed)")
    layout = tuple(mig_layout)
    gpu_model = get_model(model)
    if layout:
        plan_layout(gpu_model, layout)  # unknown profiles or a layout that cannot fit raise here
    product = product_label(model)
    count_label, memory_label = gpus, gpu_model.memory_mib
    base: dict[str, int] = {}
    if not layout or mig_strategy == "none":
        base["nvidia.com/gpu"] = gpus
    elif mig_strategy == "single":
        if len(set(layout)) == 1:
            base["nvidia.com/gpu"] = gpus * len(layout)
            product += f"-MIG-{layout[0]}"
            # single overrides gpu.count and gpu.memory with the MIG devices' (ref §4.2)
            count_label = gpus * len(layout)
            memory_label = get_profile(gpu_model, layout[0]).memory_mib
        else:  # mixed profiles under single: GFD labels the node invalid (ref §4.2)
            base["nvidia.com/gpu"] = 0
            product += "-MIG-INVALID"
    else:
        for profile in layout:
            name = mig_resource_name(profile)
            base[name] = base.get(name, 0) + gpus
    capacity: dict[str, int] = {}
    shared_any = False
    for name, count in base.items():
        factor = sharing.replicas(name) if sharing.strategy != "none" else 1
        if factor > 1 and count:
            shared_any = True
            if sharing.rename_by_default:
                capacity[name] = 0
                capacity[f"{name}.shared"] = count * factor
                continue
        capacity[name] = count * factor
    gpu_factor = sharing.replicas("nvidia.com/gpu") if sharing.strategy != "none" else 1
    labels = {
        "nvidia.com/gpu.count": str(count_label),
        "nvidia.com/gpu.product": product + ("-SHARED" if shared_any and gpu_factor > 1
                                             and not sharing.rename_by_default else ""),
        "nvidia.com/gpu.memory": str(memory_label),
        "nvidia.com/gpu.replicas": str(0 if layout and mig_strategy == "mixed" else gpu_factor),
        "nvidia.com/gpu.sharing-strategy": sharing.strategy if gpu_factor > 1 else "none",
        "nvidia.com/mig.capable": str(gpu_model.mig_capable).lower(),
        "nvidia.com/mps.capable": str(sharing.strategy == "mps").lower(),
    }
    if mig_strategy != "none":
        labels["nvidia.com/mig.strategy"] = mig_strategy
    for profile in dict.fromkeys(layout) if mig_strategy == "mixed" else ():
        # mixed: GFD labels each MIG type like a resource of its own (ref mig.md §4.2, the
        # test regexes of tests/expected-output-mig-mixed.txt; resource.go's baseLabeler)
        name = mig_resource_name(profile)
        factor = sharing.replicas(name) if sharing.strategy != "none" else 1
        shared = factor > 1 and not sharing.rename_by_default
        labels[f"{name}.count"] = str(base[name])
        labels[f"{name}.product"] = (f"{product_label(model)}-MIG-{profile}"
                                     + ("-SHARED" if shared else ""))
        labels[f"{name}.replicas"] = str(factor)
        labels[f"{name}.sharing-strategy"] = sharing.strategy if factor > 1 else "none"
    return NodeResources(capacity=capacity, labels=labels)


def allocate_error(config: SharingConfig, resource: str, count: int) -> str | None:
    """The kubelet event text when a shared-resource request is too large, else None.

    With ``failRequestsGreaterThanOne: true`` a request > 1 of a shared resource fails at
    admission with reason ``UnexpectedAdmissionError`` (ref §4.3, README wording).
    """
    base = resource.removesuffix(".shared")
    if (config.strategy == "none" or not config.fail_requests_greater_than_one
            or config.replicas(base) < 2 or count <= 1):
        return None
    return ("Allocate failed due to rpc error: code = Unknown desc = request for "
            f"'{resource}: {count}' too large: maximum request size for shared resources is 1, "
            "which is unexpected")


@dataclass(frozen=True)
class GpuNode:
    """A simulated Kubernetes GPU node whose device plugin reads a config you apply.

    Lab 03 (the operated exercise). ``apply(text)`` does what ``kubectl create configmap ...
    --dry-run=client -o yaml | kubectl apply -f -`` followed by the plugin's restart does on a
    cluster: the plugin validates the config (an invalid one is refused with its own error
    texts, `SharingConfigError`, and the node keeps its previous state), then the node's status
    is updated. The state lives in ``state_dir`` (``config.yaml`` and ``node.json``), so a
    check reads the node, not your variables. ``describe()`` prints it like ``kubectl
    describe node``. ``mig_layout`` is every GPU's MIG devices (empty: MIG disabled).
    """

    name: str
    model: str
    gpus: int
    mig_layout: tuple[str, ...]
    state_dir: Path

    @property
    def state_file(self) -> Path:
        return Path(self.state_dir) / "node.json"

    def apply(self, config_text: str) -> NodeResources:
        """Validate and apply a device-plugin config (YAML text); the node's new resources."""
        if not isinstance(config_text, str):
            raise TypeError(f"apply() takes the config as YAML text, got "
                            f"{type(config_text).__name__}")
        try:
            data = yaml.safe_load(config_text)
        except yaml.YAMLError as err:
            raise SharingConfigError([f"not valid YAML: {str(err).splitlines()[0]}"]) from None
        config = parse_config(data if isinstance(data, dict) else {"version": data})
        node = advertise(self.model, self.gpus, mig_strategy=config.mig_strategy,
                         mig_layout=self.mig_layout, sharing=config)
        folder = Path(self.state_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.yaml").write_text(config_text)
        self.state_file.write_text(json.dumps(
            {"node": self.name, "config": config_text, "capacity": node.capacity,
             "labels": node.labels}, indent=2))
        return node

    def reset(self) -> NodeResources:
        """Back to no sharing (the MIG strategy the layout needs): a known starting state."""
        strategy = "mixed" if self.mig_layout else "none"
        return self.apply(f"version: v1\nflags:\n  migStrategy: {strategy}\n")

    def state(self) -> dict:
        """``{"node", "config", "capacity", "labels"}`` as last applied (reset if never)."""
        if not self.state_file.is_file():
            self.reset()
        return json.loads(self.state_file.read_text())

    def config(self) -> SharingConfig:
        """The config the node's device plugin runs with now."""
        return parse_config(self.state()["config"])

    def admit(self, resource: str, count: int) -> str | None:
        """The kubelet's refusal of a pod asking for ``count`` of ``resource`` here, or None."""
        state = self.state()
        have = state["capacity"].get(resource, 0)
        if count > have:
            return (f"0/1 nodes are available: 1 Insufficient {resource} (node {self.name} "
                    f"has {have})")
        return allocate_error(self.config(), resource, count)

    def describe(self) -> str:
        """``kubectl describe node``'s Labels and Capacity sections for the GPU resources."""
        state = self.state()
        lines = [f"Name:               {state['node']}", "Labels:"]
        lines += [f"                    {k}={v}" for k, v in sorted(state["labels"].items())]
        lines.append("Capacity:")
        lines += [f"  {k}: {v}" for k, v in sorted(state["capacity"].items())]
        lines.append("(simulated node: GFD's count, product, memory, replicas and "
                     "sharing-strategy labels; driver, CUDA and per-MIG-type engine labels are "
                     "not modelled; Capacity = Allocatable)")
        return "\n".join(lines)
