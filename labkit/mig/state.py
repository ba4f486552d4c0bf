"""MIG state of one GPU (its GPU and compute instances) and the errors nvidia-smi prints.

Lab 02: what ``nvidia-smi mig -lgi`` / ``-lci`` list. The simulator stores ``MigState.to_dict()``
per GPU in its JSON state file. Placements are in memory slices (0-7, ref §1.0); a compute
instance's placement is in compute slices of its GI, as ``-lci`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit.mig.catalog import GpuModel, get_model, get_profile, mig_model, resolve_device_profile

__all__ = [
    "ID_SCHEMES",
    "CiInstance",
    "GiInstance",
    "InUseError",
    "InsufficientResourcesError",
    "InvalidArgumentError",
    "MigError",
    "MigState",
    "NotFoundError",
]

# How the driver numbers GPU instances. Neither rule is published (ref §1.7, §6.8); both are
# DERIVED and fit every captured transcript of their era:
# - "r560": drivers 560-580 (ref §2.3(d)/§2.6(f) [S12] driver 580, §2.5(f) [S14] driver 570,
#   §1.4 [S15] driver 560): the binary-tree numbering below with the two halves swapped.
# - "legacy": the MIG user guide's examples (ref §2.5(b)-(e), §2.6(b)-(e)) and the H100 capture
#   [S13] (ref §2.5(g)): 7g=0; 4-slice 0:4=1, 4:4=2; 2-slice 3..6; 1-slice 7..14, left to right.
ID_SCHEMES = ("r560", "legacy")


class MigError(RuntimeError):
    """A failed MIG operation; ``lines`` are nvidia-smi's own error lines (ref §2.12).

    ``done`` lists what a batch (``-cgi 19,19,14,9``) completed before failing: those instances
    remain, as on the real GPU (ref §2.5(c)).
    """

    reason = ""

    def __init__(self, lines: list[str] | tuple[str, ...], done: list | tuple = ()):
        super().__init__("\n".join(lines))
        self.lines = tuple(lines)
        self.done = list(done)


class InsufficientResourcesError(MigError):
    """NVML_ERROR_INSUFFICIENT_RESOURCES: no free placement or the profile's max count reached."""

    reason = "Insufficient Resources"


class InvalidArgumentError(MigError):
    """NVML_ERROR_INVALID_ARGUMENT: a profile or placement the GPU does not offer."""

    reason = "Invalid Argument"


class InUseError(MigError):
    """NVML_ERROR_IN_USE: e.g. destroying a GI that still has compute instances."""

    reason = "In use by another client"


class NotFoundError(MigError):
    """NVML_ERROR_NOT_FOUND: no such GPU or compute instance."""

    reason = "Not Found"


@dataclass
class CiInstance:
    """A compute instance: ``start``/``size`` as ``-lci`` prints its placement."""

    ci_id: int
    profile: str
    start: int
    size: int


@dataclass
class GiInstance:
    """A GPU instance at memory slices ``[start, start + size)``."""

    gi_id: int
    profile: str
    start: int
    size: int
    compute_instances: list[CiInstance] = field(default_factory=list)


@dataclass
class MigState:
    """The MIG configuration of one MIG-enabled GPU of ``model`` (a catalog name)."""

    model: str
    gpu_instances: list[GiInstance] = field(default_factory=list)
    id_scheme: str = "r560"

    def __post_init__(self) -> None:
        self.model = mig_model(self.model).name
        if self.id_scheme not in ID_SCHEMES:
            raise ValueError(
                f"unknown id_scheme '{self.id_scheme}' (valid: {', '.join(ID_SCHEMES)})"
            )

    @property
    def gpu_model(self) -> GpuModel:
        return get_model(self.model)

    def find_gi(self, gi_id: int) -> GiInstance | None:
        """The GPU instance with this ID, or None."""
        return next((gi for gi in self.gpu_instances if gi.gi_id == gi_id), None)

    def to_dict(self) -> dict:
        """A JSON-serialisable dict; ``MigState.from_dict`` reads it back."""
        return {
            "model": self.model,
            "id_scheme": self.id_scheme,
            "gpu_instances": [
                {
                    "id": gi.gi_id,
                    "profile": gi.profile,
                    "start": gi.start,
                    "size": gi.size,
                    "compute_instances": [
                        {"id": ci.ci_id, "profile": ci.profile, "start": ci.start, "size": ci.size}
                        for ci in gi.compute_instances
                    ],
                }
                for gi in self.gpu_instances
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> MigState:
        """Rebuild a state from ``to_dict()`` output, checking it against the catalog."""
        state = cls(model=data["model"], id_scheme=data.get("id_scheme", "r560"))
        for gi in data.get("gpu_instances", []):
            cis = [
                CiInstance(ci["id"], ci["profile"], ci["start"], ci["size"])
                for ci in gi.get("compute_instances", [])
            ]
            state.gpu_instances.append(
                GiInstance(gi["id"], gi["profile"], gi["start"], gi["size"], cis)
            )
        state.check()
        return state

    def check(self) -> None:
        """Raise ValueError if a GI or CI is not where the catalog allows, or instances overlap."""
        model = self.gpu_model
        used: set[int] = set()
        for gi in self.gpu_instances:
            profile = get_profile(model, gi.profile)
            if (gi.start, gi.size) not in profile.placements:
                raise ValueError(
                    f"GPU instance {gi.gi_id}: {gi.start}:{gi.size} is not a placement "
                    f"of {profile.name}"
                )
            slices = set(range(gi.start, gi.start + gi.size))
            if used & slices:
                raise ValueError(
                    f"GPU instance {gi.gi_id} overlaps another GPU instance at {gi.start}:{gi.size}"
                )
            used |= slices
            compute: set[int] = set()
            for ci in gi.compute_instances:
                gi_of_ci, ci_profile = resolve_device_profile(model, ci.profile)
                if gi_of_ci != profile:
                    raise ValueError(
                        f"compute instance {ci.ci_id} ({ci.profile}) cannot live in "
                        f"a {profile.name} GI"
                    )
                span = set(range(ci.start, ci.start + ci_profile.slices))
                if compute & span or max(span) >= profile.slices:
                    raise ValueError(
                        f"compute instance {ci.ci_id} of GI {gi.gi_id} overlaps or "
                        f"overflows at {ci.start}"
                    )
                compute |= span
