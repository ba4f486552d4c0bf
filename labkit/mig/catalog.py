"""The one catalog of GPU facts: models, MIG GPU-instance and compute-instance profiles.

Lab 02: MIG profiles and placements. Every number comes from shared/reference/mig.md (cited as
"ref §x.y" with the reference's source tags [Sx]); the simulator, the planner, the checks and
the notebooks read it from here. The profile rows themselves live in ``_profiles.py``.

Units: memory in MiB (as nvidia-smi and NVML report it), SMs as counts, slices as counts of
the 8 memory slices / 7 compute slices of a MIG-capable GPU (ref §1.0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from labkit.mig import _profiles

__all__ = [
    "COMPUTE_SLICES",
    "MEMORY_SLICES",
    "CiProfile",
    "GiProfile",
    "GpuModel",
    "MODELS",
    "NotMigCapableError",
    "UnknownGpuModelError",
    "UnknownProfileError",
    "get_ci_profile",
    "get_model",
    "get_profile",
    "mig_model",
    "model_names",
    "resolve_device_profile",
]

MEMORY_SLICES = 8  # "a GPU memory slice is roughly 1/8 of the GPU memory" (ref §1.0)
COMPUTE_SLICES = 7  # "a GPU SM slice is roughly 1/7 of the SMs available in MIG mode" (ref §1.0)


class UnknownGpuModelError(ValueError):
    """A GPU model name that the catalog does not know."""


class UnknownProfileError(ValueError):
    """A MIG profile name or ID that the GPU model does not offer."""


class NotMigCapableError(ValueError):
    """MIG was asked of a GPU model that has no MIG (e.g. T4, V100)."""


@dataclass(frozen=True)
class CiProfile:
    """A compute-instance profile inside one GI profile (``nvidia-smi mig -lcip``).

    ``slices`` are compute slices of the parent GI; ``max_count`` is per GI; ``is_default``
    marks the profile nvidia-smi prints with ``*`` (used by ``-cci`` without a profile and ``-C``).
    """

    name: str
    profile_id: int
    slices: int
    sm_count: int
    max_count: int
    is_default: bool


@dataclass(frozen=True)
class GiProfile:
    """A GPU-instance profile as ``nvidia-smi mig -lgip`` / ``-lgipp`` print it.

    ``slices`` are compute slices (the ``<G>g``), ``memory_slices`` the placement size in memory
    slices; ``memory_mib`` in MiB; ``placements`` are ``(start, size)`` in memory slices.
    """

    name: str
    profile_id: int
    slices: int
    memory_slices: int
    memory_mib: int
    sm_count: int
    ce: int
    dec: int
    enc: int
    jpg: int
    ofa: int
    max_count: int
    placements: tuple[tuple[int, int], ...]
    p2p: bool = False
    ci_profiles: tuple[CiProfile, ...] = ()

    @property
    def starts(self) -> tuple[int, ...]:
        """Allowed start memory slices, as in ``-lgipp``'s ``{...}``."""
        return tuple(start for start, _ in self.placements)

    @property
    def nominal_gb(self) -> int:
        """The ``<GB>`` of the profile name (go-nvlib naming, ref §1.8), e.g. 20 for 3g.20gb."""
        return int(re.match(r"\d+g\.(\d+)gb", self.name).group(1))

    @property
    def memory_gib(self) -> float:
        """Memory in GiB, the unit of the ``-lgip`` Memory column."""
        return self.memory_mib / 1024

    @property
    def media_extensions(self) -> bool:
        """True for ``+me`` profiles (decoders, JPEG and OFA of the whole GPU; ref §1.1)."""
        return self.name.endswith("+me")


@dataclass(frozen=True)
class GpuModel:
    """One GPU model. ``name`` is labkit's key, ``product_name`` what nvidia-smi prints."""

    name: str
    product_name: str
    architecture: str
    memory_mib: int
    sm_count: int
    mig_capable: bool
    gi_profiles: tuple[GiProfile, ...] = ()
    min_driver: str | None = None
    pci_device_id: str | None = None
    aliases: tuple[str, ...] = field(default=())

    @property
    def ci_profiles(self) -> dict[str, tuple[CiProfile, ...]]:
        """Compute-instance profiles per GI profile name."""
        return {gi.name: gi.ci_profiles for gi in self.gi_profiles}

    def profile_names(self) -> list[str]:
        """GI profile names in ``-lgip`` order."""
        return [gi.name for gi in self.gi_profiles]


def _norm(text: str) -> str:
    key = re.sub(r"[\s_\-]+", "", str(text).upper())
    for prefix in ("NVIDIA", "TESLA"):
        key = key.removeprefix(prefix)
    return key


def _ci_profiles(gi: tuple) -> tuple[CiProfile, ...]:
    name, slices, sm_count = gi[0], gi[2], gi[5]
    return tuple(
        CiProfile(
            name=name if c == slices else f"{c}c.{name}",
            profile_id=_profiles.CI_PROFILE_IDS[c],
            slices=c,
            sm_count=sm_count if c == slices else sm_count * c // slices,
            max_count=slices // c,
            is_default=c == slices,
        )
        for c in _profiles.CI_SIZES[slices]
    )


def _build(row: dict) -> GpuModel:
    gis = tuple(
        GiProfile(
            *gi[:12],
            placements=tuple((start, gi[3]) for start in gi[12]),
            ci_profiles=_ci_profiles(gi),
        )
        for gi in _profiles.GI_PROFILES.get(row["name"], ())
    )
    return GpuModel(**row, mig_capable=bool(gis), gi_profiles=gis)


MODELS: dict[str, GpuModel] = {row["name"]: _build(row) for row in _profiles.MODELS}
_LOOKUP: dict[str, GpuModel] = {}
for _model in MODELS.values():
    for _alias in (_model.name, _model.product_name, *_model.aliases):
        _LOOKUP.setdefault(_norm(_alias), _model)


def model_names() -> list[str]:
    """Canonical model names, MIG-capable first, in catalog order."""
    return list(MODELS)


def get_model(name: str | GpuModel) -> GpuModel:
    """Look up a model by key, nvidia-smi product name or a case/space/dash variant.

    Lab 02: ``get_model("NVIDIA A100-SXM4-40GB")`` is what ``nvidia-smi --query-gpu=name`` prints.
    """
    if isinstance(name, GpuModel):
        return name
    model = _LOOKUP.get(_norm(name))
    if model is None:
        raise UnknownGpuModelError(f"unknown GPU model '{name}' (valid: {', '.join(MODELS)})")
    return model


def mig_model(model: str | GpuModel) -> GpuModel:
    """``get_model`` for MIG work: a non-MIG model raises ``NotMigCapableError``."""
    model = get_model(model)
    if not model.mig_capable:
        capable = ", ".join(m.name for m in MODELS.values() if m.mig_capable)
        raise NotMigCapableError(f"{model.name} is not MIG capable (MIG-capable models: {capable})")
    return model


def _strip_mig(text: str) -> str:
    text = str(text).strip()
    return text[4:].strip() if text[:4].upper() == "MIG " else text


def get_profile(model: str | GpuModel, name_or_id: str | int | GiProfile) -> GiProfile:
    """A GI profile by short name (``3g.20gb``), full name (``MIG 3g.20gb``) or nvidia-smi ID.

    The same three spellings ``nvidia-smi mig -cgi`` accepts (ref §1.6).
    """
    model = mig_model(model)
    if isinstance(name_or_id, GiProfile):
        name_or_id = name_or_id.name
    text = _strip_mig(name_or_id)
    for gi in model.gi_profiles:
        if text.lower() == gi.name.lower() or (text.isdigit() and int(text) == gi.profile_id):
            return gi
    valid = ", ".join(model.profile_names())
    raise UnknownProfileError(
        f"profile '{name_or_id}' is not a MIG profile of {model.name} (valid: {valid})"
    )


def get_ci_profile(
    model: str | GpuModel, gi: str | int | GiProfile, name_or_id: str | int | None = None
) -> CiProfile:
    """A CI profile of one GI profile; ``None`` gives the default (``*``) one, as ``-cci`` does."""
    model = mig_model(model)
    gi = get_profile(model, gi)
    if name_or_id is None:
        return next(ci for ci in gi.ci_profiles if ci.is_default)
    text = _strip_mig(name_or_id)
    for ci in gi.ci_profiles:
        if text.lower() == ci.name.lower() or (text.isdigit() and int(text) == ci.profile_id):
            return ci
    valid = ", ".join(ci.name for ci in gi.ci_profiles)
    raise UnknownProfileError(
        f"compute instance profile '{name_or_id}' is not a profile of {gi.name} "
        f"on {model.name} (valid: {valid})"
    )


def resolve_device_profile(model: str | GpuModel, name: str) -> tuple[GiProfile, CiProfile]:
    """Map a MIG device name (``2g.10gb``, ``1c.2g.10gb``, ``1g.5gb+me``) to its GI and CI profiles.

    These are the keys of mig-parted's ``mig-devices`` and of ``nvidia-smi -L`` (ref §2.9, §3.1).
    """
    model = mig_model(model)
    match = re.fullmatch(r"(\d+)c\.(.+)", _strip_mig(name))
    if match is None:
        gi = get_profile(model, name)
        return gi, get_ci_profile(model, gi)
    gi = get_profile(model, match.group(2))
    return gi, get_ci_profile(model, gi, _strip_mig(name))
