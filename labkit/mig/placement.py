"""The MIG placement engine: create and destroy GPU/compute instances as the driver does.

Lab 02: MIG placements. Pure functions over a ``MigState``; placements are in memory slices
(0-7), the unit of ``nvidia-smi mig -lgipp``. Failures raise ``MigError`` subclasses that
carry nvidia-smi's own error lines; ``gpu_index`` only fills the "GPU  0" of those lines.

The model (ref §1.7, DERIVED there from every sourced example): a GI occupies memory slices
``[start, start + size)``; it can be created iff one of its profile's allowed starts is free
and the profile's max count is not reached; ``-lgip``'s Free is the number of free allowed
starts, capped by the remaining count. Compute slices (7) never bind with these tables (ref §1.7).
"""

from __future__ import annotations

from collections.abc import Iterable

from labkit.mig.catalog import (
    COMPUTE_SLICES,
    MEMORY_SLICES,
    GiProfile,
    UnknownProfileError,
    get_profile,
)
from labkit.mig.compute import create_ci
from labkit.mig.state import (
    GiInstance,
    InsufficientResourcesError,
    InUseError,
    InvalidArgumentError,
    MigError,
    MigState,
    NotFoundError,
)

__all__ = [
    "availability",
    "choose_placement",
    "create_gi",
    "create_gis",
    "destroy_gi",
    "destroy_gis",
    "free_count",
    "gi_id_for",
    "used_slices",
]

_LEVEL_BASE = {8: 0, 4: 1, 2: 3, 1: 7}  # first GI ID of each placement size (binary-tree numbering)


def gi_id_for(start: int, size: int, scheme: str = "r560") -> int:
    """The GPU instance ID the driver gives a GI at ``start:size`` (see ``state.ID_SCHEMES``)."""
    position = (
        start
        if scheme == "legacy" or size == MEMORY_SLICES
        else (start + MEMORY_SLICES // 2) % MEMORY_SLICES
    )
    return _LEVEL_BASE[size] + position // size


def used_slices(state: MigState) -> set[int]:
    """Memory slices occupied by GPU instances."""
    return {s for gi in state.gpu_instances for s in range(gi.start, gi.start + gi.size)}


def _free_starts(state: MigState, profile: str | int | GiProfile) -> list[int]:
    """Allowed starts of ``profile`` whose slices are all free (ignores the max count)."""
    profile = get_profile(state.model, profile)
    used = used_slices(state)
    return [
        start for start, size in profile.placements if not used & set(range(start, start + size))
    ]


def _count(state: MigState, profile: GiProfile) -> int:
    return sum(gi.profile == profile.name for gi in state.gpu_instances)


def free_count(state: MigState, profile: str | int | GiProfile) -> int:
    """The ``Free`` of ``Free/Total`` in ``nvidia-smi mig -lgip`` for one profile."""
    profile = get_profile(state.model, profile)
    return min(len(_free_starts(state, profile)), profile.max_count - _count(state, profile))


def availability(state: MigState) -> list[tuple[GiProfile, int, int]]:
    """``(profile, free, total)`` for every GI profile, in ``-lgip`` order."""
    return [(p, free_count(state, p), p.max_count) for p in state.gpu_model.gi_profiles]


def _fragmented_profiles(state: MigState) -> list[GiProfile]:
    """Profiles with enough free memory and compute slices in total but no free placement.

    Lab 02: fragmentation (ref §1.0: "the physical position of one GPU Instance will play a role
    in which other GPU Instances can be instantiated next to it").
    """
    free_memory = MEMORY_SLICES - len(used_slices(state))
    free_compute = COMPUTE_SLICES - sum(
        get_profile(state.model, gi.profile).slices for gi in state.gpu_instances
    )
    return [
        p
        for p in state.gpu_model.gi_profiles
        if _count(state, p) < p.max_count
        and p.memory_slices <= free_memory
        and p.slices <= free_compute
        and not _free_starts(state, p)
    ]


def _available_pairs(state: MigState) -> set[tuple[str, int, int]]:
    return {
        (p.name, start, p.memory_slices)
        for p in state.gpu_model.gi_profiles
        if _count(state, p) < p.max_count
        for start in _free_starts(state, p)
    }


def choose_placement(state: MigState, profile: str | int | GiProfile) -> int | None:
    """The start the driver picks when ``-cgi`` gets no placement, or None if nothing fits.

    DERIVED rule (ref §1.7 lists the observed choices; NVIDIA publishes none): take the free start
    that makes the fewest other (profile, start) placements unavailable, the lowest on a tie.
    It reproduces every placement in ref §1.7 except the guide's ``-cgi 9,3g.20gb`` (first 3g at
    0:4 there, at 4:4 in ``-cgi 9,19,14,19`` and on H100; both cannot hold).
    """
    profile = get_profile(state.model, profile)
    if _count(state, profile) >= profile.max_count:
        return None
    pairs = _available_pairs(state)

    def damage(start: int) -> int:
        span = set(range(start, start + profile.memory_slices))
        return sum(bool(span & set(range(s, s + size))) for _, s, size in pairs)

    starts = _free_starts(state, profile)
    return min(starts, key=lambda s: (damage(s), s)) if starts else None


def _parse_spec(spec: str | int) -> tuple[str, int | None]:
    text = str(spec).strip()
    if ":" in text:
        name, _, start = text.rpartition(":")
        return name, int(start) if start.strip().isdigit() else -1
    return text, None


def _cgi_error(cls: type[MigError], gpu_index: int, typed: str) -> MigError:
    # Verbatim pattern, ref §2.5(c)/(h), §2.12: the profile is echoed as the user typed it.
    return cls(
        [
            f"Unable to create a GPU instance on GPU {gpu_index:2d} "
            f"using profile {typed}: {cls.reason}",
            f"Failed to create GPU instances: {cls.reason}",
        ]
    )


def create_gi(
    state: MigState,
    spec: str | int,
    *,
    start: int | None = None,
    default_ci: bool = False,
    gpu_index: int = 0,
) -> GiInstance:
    """Create one GPU instance, like ``nvidia-smi mig -cgi <spec> [-C]``.

    ``spec`` is a profile ID, short or full name, optionally with ``:<start>`` (the placement
    tuple of newer drivers, ref §2.5(i)); ``start`` does the same. Without a start the driver's
    choice applies (``choose_placement``). ``default_ci`` adds the default CI, as ``-C`` does.
    An invalid start gives "Invalid Argument" and an occupied one "Insufficient Resources"
    (DERIVED from the NVML error meanings, ref §2.5(h)).
    """
    typed = str(spec)
    name, spec_start = _parse_spec(spec)
    start = spec_start if start is None else start
    try:
        profile = get_profile(state.model, name)
    except UnknownProfileError:
        raise _cgi_error(InvalidArgumentError, gpu_index, typed) from None
    if start is not None and start not in profile.starts:
        raise _cgi_error(InvalidArgumentError, gpu_index, typed)
    if _count(state, profile) >= profile.max_count:
        raise _cgi_error(InsufficientResourcesError, gpu_index, typed)
    if start is None:
        start = choose_placement(state, profile)
    elif start not in _free_starts(state, profile):
        start = None
    if start is None:
        raise _cgi_error(InsufficientResourcesError, gpu_index, typed)
    gi = GiInstance(
        gi_id_for(start, profile.memory_slices, state.id_scheme),
        profile.name,
        start,
        profile.memory_slices,
    )
    state.gpu_instances.append(gi)
    if default_ci:
        create_ci(state, gi.gi_id, gpu_index=gpu_index)
    return gi


def create_gis(
    state: MigState, specs: Iterable[str | int], *, default_ci: bool = False, gpu_index: int = 0
) -> list[GiInstance]:
    """``nvidia-smi mig -cgi 9,19,14,19 [-C]``: create in order, stop at the first failure.

    On failure the raised ``MigError.done`` lists the GIs created before it; they remain.
    """
    created: list[GiInstance] = []
    for spec in specs:
        try:
            created.append(create_gi(state, spec, default_ci=default_ci, gpu_index=gpu_index))
        except MigError as err:
            raise type(err)(err.lines, done=created) from None
    return created


def destroy_gi(state: MigState, gi_id: int, *, gpu_index: int = 0) -> GiInstance:
    """``nvidia-smi mig -dgi -gi <id>``; refused while the GI has compute instances (§2.8(b))."""

    def lines(reason: str) -> list[str]:
        # Verbatim for "In use by another client" (ref §2.8(b)); "Not Found" DERIVED by analogy.
        return [
            f"Unable to destroy GPU instance ID {gi_id:2d} from GPU {gpu_index:2d}: {reason}",
            f"Failed to destroy GPU instances: {reason}",
        ]

    gi = state.find_gi(gi_id)
    if gi is None:
        raise NotFoundError(lines(NotFoundError.reason))
    if gi.compute_instances:
        raise InUseError(lines(InUseError.reason))
    state.gpu_instances.remove(gi)
    return gi


def destroy_gis(
    state: MigState, gi_ids: Iterable[int] | None = None, *, gpu_index: int = 0
) -> list[GiInstance]:
    """``nvidia-smi mig -dgi [-gi ids]``: all GIs by ascending ID when ``gi_ids`` is None."""
    ids = sorted(gi.gi_id for gi in state.gpu_instances) if gi_ids is None else list(gi_ids)
    done: list[GiInstance] = []
    for gi_id in ids:
        try:
            done.append(destroy_gi(state, gi_id, gpu_index=gpu_index))
        except MigError as err:
            raise type(err)(err.lines, done=done) from None
    return done
