"""The mig-parted config schema and its validation, behind labkit.mig.partedconfig.

Schema and error texts are mig-parted's (ref §3.1 [S2] ``api/spec/v1/spec.go`` and
``pkg/types/mig_config.go`` @ bd7160f); where mig-parted passes on an encoding/json error, the
text follows Go's ``json: cannot unmarshal ...`` form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit.mig.profilename import parse_mig_device_name

__all__ = ["MigConfigSpec", "MigPartedConfig", "MigPartedConfigError", "validate"]


class MigPartedConfigError(ValueError):
    """An invalid or inapplicable mig-parted config; mig-parted's message where it has one."""


@dataclass(frozen=True)
class MigConfigSpec:
    """One entry of a named config: which GPUs, MIG on or off, the MIG devices (name -> count)."""

    devices: str | tuple[int, ...]
    mig_enabled: bool
    mig_devices: dict[str, int] | None = field(default=None, hash=False)
    device_filter: str | tuple[str, ...] | None = None


@dataclass(frozen=True)
class MigPartedConfig:
    """A whole file: ``version`` and ``mig-configs`` (config name -> entries)."""

    version: str
    mig_configs: dict[str, tuple[MigConfigSpec, ...]] = field(default_factory=dict, hash=False)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "object")


def _go_error(value: object, go_type: str) -> str:
    return f"json: cannot unmarshal {_kind(value)} into Go value of type {go_type}"


def _string_list(value: object, elem: type, go_elem: str) -> tuple | str:
    """The tuple, or Go's error for the first element of the wrong kind."""
    if not isinstance(value, list):
        return _go_error(value, f"[]{go_elem}")
    for item in value:
        if not isinstance(item, elem) or isinstance(item, bool):
            return _go_error(item, go_elem)
    return tuple(value)


def _assert_valid_format(devices: dict[str, int]) -> None:
    for name, count in devices.items():
        try:
            parse_mig_device_name(name)
        except ValueError as err:
            raise MigPartedConfigError(f"invalid format for '{name}': {err}") from None
        if count < 0:
            # mig-parted formats (count, nil error): hence "<nil>" (mig_config.go @ bd7160f).
            raise MigPartedConfigError(f"invalid count for '{count}': <nil>")
    if devices and not any(count > 0 for count in devices.values()):
        raise MigPartedConfigError("all counts for all MigProfiles are 0")


def _spec(raw: object) -> MigConfigSpec:
    if not isinstance(raw, dict):
        raise MigPartedConfigError(_go_error(raw, "map[string]json.RawMessage"))
    for required in ("devices", "mig-enabled"):
        if required not in raw:
            raise MigPartedConfigError(f"missing required field: {required}")
    values: dict = {"mig_devices": None, "device_filter": None}
    for key, value in raw.items():
        if key == "device-filter":
            as_list = _string_list(value, str, "string")
            if not isinstance(value, str) and isinstance(as_list, str):
                raise MigPartedConfigError(f"({_go_error(value, 'string')}, {as_list})")
            values["device_filter"] = value if isinstance(value, str) else as_list
        elif key == "devices":
            value = "" if value is None else value  # JSON null leaves Go's string empty
            if isinstance(value, str):
                if value != "all":
                    raise MigPartedConfigError(f"invalid string input for 'devices': {value}")
                values["devices"] = value
            else:
                as_list = _string_list(value, int, "int")
                if isinstance(as_list, str):
                    raise MigPartedConfigError(f"({_go_error(value, 'string')}, {as_list})")
                values["devices"] = as_list
        elif key == "mig-enabled":
            if value is not None and not isinstance(value, bool):
                raise MigPartedConfigError(_go_error(value, "bool"))
            values["mig_enabled"] = bool(value)
        elif key == "mig-devices":
            value = {} if value is None else value
            if not isinstance(value, dict):
                raise MigPartedConfigError(_go_error(value, "types.MigConfig"))
            for count in value.values():
                if not isinstance(count, int) or isinstance(count, bool):
                    raise MigPartedConfigError(_go_error(count, "int"))
            try:
                _assert_valid_format(value)
            except MigPartedConfigError as err:
                raise MigPartedConfigError(
                    f"error validating values in 'mig-devices' field: {err}"
                ) from None
            values["mig_devices"] = {str(k): v for k, v in value.items()}
        else:
            raise MigPartedConfigError(f"unexpected field: {key}")
    if values["mig_enabled"] and values["mig_devices"] is None:
        raise MigPartedConfigError(
            "missing required field 'mig-devices' when 'mig-enabled' is true"
        )
    if not values["mig_enabled"] and values["mig_devices"]:
        raise MigPartedConfigError("MIG devices included when 'mig-enabled' is false")
    return MigConfigSpec(**values)


def validate(raw: object) -> MigPartedConfig:
    """Check a parsed YAML/JSON document as mig-parted does; raise its first error message."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise MigPartedConfigError(_go_error(raw, "map[string]json.RawMessage"))
    if "version" not in raw and raw:
        raise MigPartedConfigError("unable to parse with missing 'version' field")
    version = raw.get("version", "")
    if not isinstance(version, str):
        raise MigPartedConfigError(_go_error(version, "string"))
    if version != "v1":
        raise MigPartedConfigError(f"unknown version: {version}")
    configs: dict[str, tuple[MigConfigSpec, ...]] = {}
    for key, value in raw.items():
        if key == "version":
            continue
        if key != "mig-configs":
            raise MigPartedConfigError(f"unexpected field: {key}")
        if not isinstance(value, dict):
            raise MigPartedConfigError(_go_error(value, "map[string]v1.MigConfigSpecSlice"))
        for name, entries in value.items():
            if not isinstance(entries, list):
                raise MigPartedConfigError(_go_error(entries, "v1.MigConfigSpecSlice"))
            configs[str(name)] = tuple(_spec(e) for e in entries)
        if not configs:
            raise MigPartedConfigError("at least one entry in 'mig-configs' is required")
        for name, entries in configs.items():
            if not entries:
                raise MigPartedConfigError(f"at least one entry in '{name}' is required")
    return MigPartedConfig(version, configs)
