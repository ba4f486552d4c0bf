"""mig-parted configuration files: load, validate, select, export, and turn into GI creations.

Lab 02: declarative MIG with nvidia-mig-parted (ref §3). Equivalent commands:
``nvidia-mig-parted assert|apply -f config.yaml -c <name>`` and ``nvidia-mig-parted export``.
Validation messages are mig-parted's own (see ``_partedschema``); ``export`` writes the YAML
that ``load`` reads, in the layout of mig-parted's export (ref §3.4).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from labkit.mig._partedschema import MigConfigSpec, MigPartedConfig, MigPartedConfigError, validate
from labkit.mig.catalog import GpuModel, UnknownGpuModelError, get_model, resolve_device_profile
from labkit.mig.compute import create_ci
from labkit.mig.placement import create_gi
from labkit.mig.profilename import flatten
from labkit.mig.state import MigError, MigState

__all__ = [
    "GiAction",
    "MigConfigSpec",
    "MigPartedConfig",
    "MigPartedConfigError",
    "apply_actions",
    "dump",
    "export",
    "load",
    "matches",
    "mig_devices_of",
    "select",
    "to_actions",
    "validate",
]


def load(text_or_path: str | Path) -> MigPartedConfig:
    """Read and validate a config from YAML text or a file path (``nvidia-mig-parted -f``)."""
    text = text_or_path
    if isinstance(text_or_path, Path) or (
        "\n" not in text_or_path and Path(text_or_path).is_file()
    ):
        text = Path(text_or_path).read_text()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise MigPartedConfigError(f"unmarshal error: {err}") from None
    return validate(raw)


def select(cfg: MigPartedConfig, name: str | None = None) -> tuple[MigConfigSpec, ...]:
    """The entries of config ``name`` (``-c``); messages from mig-parted's assert.go [S2]."""
    if name is None:
        if len(cfg.mig_configs) > 1:
            raise MigPartedConfigError(
                "missing required flag 'selected-config' when more than one config available"
            )
        name = next(iter(cfg.mig_configs), "")
    if name not in cfg.mig_configs:
        raise MigPartedConfigError(f"selected mig-config not present: {name}")
    return cfg.mig_configs[name]


def _filter_matches(text: str, model: GpuModel) -> bool:
    """A PCI device ID (``0x20B010DE``, mig-parted's rule) or, in labkit only, a model name."""
    try:
        return (
            model.pci_device_id is not None
            and ":" not in text
            and int(text, 0) == int(model.pci_device_id, 0)
        )
    except ValueError:
        try:
            return get_model(text) == model
        except UnknownGpuModelError:
            return False


def _filters(entry: MigConfigSpec) -> tuple[str, ...]:
    raw = (
        (entry.device_filter,)
        if isinstance(entry.device_filter, str)
        else entry.device_filter or ()
    )
    return tuple(f for f in raw if f)


def matches(entry: MigConfigSpec, gpu_index: int, model: str | GpuModel) -> bool:
    """Whether ``entry`` applies to GPU ``gpu_index`` of ``model``: device-filter, then devices."""
    model = get_model(model)
    if _filters(entry) and not any(_filter_matches(f, model) for f in _filters(entry)):
        return False
    return entry.devices == "all" or gpu_index in entry.devices


def mig_devices_of(state: MigState) -> dict[str, int]:
    """MIG device name -> count, counting compute instances as mig-parted's export does."""
    counts: dict[str, int] = {}
    for gi in state.gpu_instances:
        for ci in gi.compute_instances:
            counts[ci.profile] = counts.get(ci.profile, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: _natural(kv[0])))


def _natural(text: str) -> list:
    # yaml.v2 sorts map keys with numbers compared by value: 1g.5gb before 1g.10gb (ref §3.4).
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _scalar(text: str) -> str:
    return text if text and yaml.safe_load(text) == text else json.dumps(text)


def _flow(items: tuple) -> str:
    return "[" + ", ".join(_scalar(i) if isinstance(i, str) else str(i) for i in items) + "]"


def dump(cfg: MigPartedConfig) -> str:
    """YAML in mig-parted's layout (ref §3.4): flow lists, sorted keys, ``mig-devices: {}``."""
    lines = [f"version: {cfg.version}"]
    if cfg.mig_configs:
        lines.append("mig-configs:")
    for name in sorted(cfg.mig_configs, key=_natural):
        lines.append(f"  {_scalar(name)}:")
        for entry in cfg.mig_configs[name]:
            fields = []
            df = entry.device_filter
            if df is not None:
                fields.append(f"device-filter: {_scalar(df) if isinstance(df, str) else _flow(df)}")
            devices = entry.devices if entry.devices == "all" else _flow(entry.devices)
            fields += [
                f"devices: {devices}",
                f"mig-enabled: {'true' if entry.mig_enabled else 'false'}",
            ]
            mig_devices = entry.mig_devices or {}
            fields.append("mig-devices:" if mig_devices else "mig-devices: {}")
            fields += [
                f"  {_scalar(k)}: {mig_devices[k]}" for k in sorted(mig_devices, key=_natural)
            ]
            lines += ["  - " + fields[0], *("    " + f for f in fields[1:])]
    return "\n".join(lines) + "\n"


def export(state_by_gpu: Mapping[int, MigState | GpuModel | str], *, label: str = "current") -> str:
    """``nvidia-mig-parted export``: the current MIG layout of every GPU as a one-config file.

    A ``MigState`` value is a MIG-enabled GPU; a model (or its name) is a GPU with MIG disabled.
    GPUs with equal settings are merged, filters and ``all`` as in mig-parted's export (@ bd7160f).
    """
    rows = []
    for index in sorted(state_by_gpu):
        value = state_by_gpu[index]
        enabled = isinstance(value, MigState)
        model = value.gpu_model if enabled else get_model(value)
        rows.append(
            (
                model.pci_device_id or model.name,
                index,
                enabled,
                mig_devices_of(value) if enabled else {},
            )
        )
    merged: list[dict] = []
    for df, index, enabled, devices in rows:
        group = next(
            (m for m in merged if m["enabled"] == enabled and m["devices"] == devices), None
        )
        if group is None:
            merged.append(
                {"enabled": enabled, "devices": devices, "filters": {df}, "gpus": {index}}
            )
        else:
            group["filters"].add(df)
            group["gpus"].add(index)
    by_filter: dict[str, set[int]] = {}
    for df, index, _, _ in rows:
        by_filter.setdefault(df, set()).add(index)
    entries = []
    for m in merged:
        filters, gpus = sorted(m["filters"]), sorted(m["gpus"])
        covered = sorted(set().union(*(by_filter[f] for f in filters)))
        df = None if len(by_filter) == 1 else filters[0] if len(filters) == 1 else tuple(filters)
        entries.append(
            MigConfigSpec("all" if gpus == covered else tuple(gpus), m["enabled"], m["devices"], df)
        )
    if len(entries) == 1:
        entries = [replace(entries[0], device_filter=None)]
    return dump(MigPartedConfig("v1", {label: tuple(entries)}))


@dataclass(frozen=True)
class GiAction:
    """Create GI ``profile`` at ``start`` (memory slices), then CIs of ``compute_profiles``."""

    profile: str
    start: int
    compute_profiles: tuple[str, ...]


def _orderings(items: list[str]):
    # mig-parted's iteratePermutationsUntilSuccess: swap-based, skipping repeats of equal names.
    def visit(i: int):
        if i >= len(items):
            yield list(items)
            return
        for j in range(i, len(items)):
            if items[j] not in items[i:j]:
                items[i], items[j] = items[j], items[i]
                yield from visit(i + 1)
                items[i], items[j] = items[j], items[i]

    yield from visit(0)


def _try(model: GpuModel, order: list[str]) -> MigState | None:
    state, gi, last = MigState(model.name), None, None
    try:
        for name in order:
            gi_profile, ci_profile = resolve_device_profile(model, name)
            reuse, last = gi is not None and last == gi_profile.name, gi_profile.name
            if reuse:
                try:
                    create_ci(state, gi.gi_id, ci_profile.name)
                    continue
                except MigError:
                    pass
            gi = create_gi(state, gi_profile.name)
            create_ci(state, gi.gi_id, ci_profile.name)
    except MigError:
        return None
    return state


def to_actions(model: str | GpuModel, entry: MigConfigSpec) -> list[GiAction]:
    """The GI/CI creations that apply ``entry``'s ``mig-devices`` to an empty GPU of ``model``.

    As mig-parted's SetMigConfig: devices in Flatten order, consecutive CIs of one GI profile
    share a GI while it has room, driver-chosen placements, other orderings until one fits.
    """
    model = get_model(model)
    if _filters(entry) and not any(_filter_matches(f, model) for f in _filters(entry)):
        raise MigPartedConfigError(
            f"device-filter {list(_filters(entry))} does not match {model.name}"
        )
    if not entry.mig_enabled:
        return []
    order = flatten(entry.mig_devices or {})
    for name in order:
        resolve_device_profile(model, name)  # unknown names fail with the catalog's message
    for candidate in _orderings(order):
        state = _try(model, candidate)
        if state is not None:
            return [
                GiAction(gi.profile, gi.start, tuple(ci.profile for ci in gi.compute_instances))
                for gi in state.gpu_instances
            ]
    raise MigPartedConfigError(
        f"mig-devices {entry.mig_devices} do not fit on {model.name}: "
        "error attempting multiple config orderings: all orderings failed"
    )


def apply_actions(state: MigState, actions: list[GiAction], *, gpu_index: int = 0) -> MigState:
    """Create the GPU and compute instances of ``actions`` on ``state`` at their placements."""
    for action in actions:
        gi = create_gi(state, action.profile, start=action.start, gpu_index=gpu_index)
        for profile in action.compute_profiles:
            create_ci(state, gi.gi_id, profile, gpu_index=gpu_index)
    return state
