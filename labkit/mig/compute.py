"""Compute instances inside a GPU instance: ``nvidia-smi mig -lcip``, ``-cci``, ``-dci``.

Lab 02: compute instances. Placements are in compute slices of the GI, as ``-lci`` prints them.
The rules are DERIVED from the real ``-lcip``/``-cci``/``-lci`` captures (ref §2.7): a CI of C
slices starts at a multiple of C; a profile's Free is its free starts capped by the count left.
Error lines follow the ``-cgi``/``-dgi`` pattern (no CI error capture in the reference).
"""

from __future__ import annotations

from collections.abc import Iterable

from labkit.mig.catalog import CiProfile, UnknownProfileError, get_ci_profile, get_profile
from labkit.mig.state import (
    CiInstance,
    GiInstance,
    InsufficientResourcesError,
    InvalidArgumentError,
    MigError,
    MigState,
    NotFoundError,
)

__all__ = ["ci_free_count", "create_ci", "destroy_ci", "destroy_cis"]


def _ci_free_starts(state: MigState, gi: GiInstance, ci_profile: CiProfile) -> list[int]:
    gi_profile = get_profile(state.model, gi.profile)
    used: set[int] = set()
    for ci in gi.compute_instances:
        slices = get_ci_profile(state.model, gi_profile, ci.profile).slices
        used |= set(range(ci.start, ci.start + slices))
    step = ci_profile.slices
    starts = range(0, gi_profile.slices - step + 1, step)
    return [s for s in starts if not used & set(range(s, s + step))]


def ci_free_count(state: MigState, gi_id: int, ci_profile: str | int | CiProfile) -> int:
    """The ``Free`` of ``nvidia-smi mig -gi <id> -lcip`` for one CI profile of that GI.

    DERIVED like ``free_count``: free aligned starts (in compute slices) capped by the count
    left; it reproduces every ``-lcip`` Free/Total in ref §2.7(a)/(c).
    """
    gi = state.find_gi(gi_id)
    if not isinstance(ci_profile, CiProfile):
        ci_profile = get_ci_profile(state.model, gi.profile, ci_profile)
    same = sum(ci.profile == ci_profile.name for ci in gi.compute_instances)
    return min(len(_ci_free_starts(state, gi, ci_profile)), ci_profile.max_count - same)


def create_ci(
    state: MigState, gi_id: int, profile: str | int | None = None, *, gpu_index: int = 0
) -> CiInstance:
    """``nvidia-smi mig -gi <id> -cci [profile]``; no profile means the default (``*``) one.

    The CI takes the lowest free aligned start and the lowest free CI ID (ref §2.7(c): two
    1c.2g.10gb CIs get IDs 0, 1 at 0:1, 1:1). A full-size CI prints the GI's memory-slice size
    (4g: 0:4, 3g on H100: 0:4; ref §2.7(c)/(d), the older 0:3 capture aside, ref §6.6).
    Error lines are DERIVED from the ``-cgi`` pattern (no capture in the reference).
    """
    typed = "" if profile is None else str(profile)

    def error(cls: type[MigError]) -> MigError:
        return cls(
            [
                f"Unable to create a compute instance on GPU {gpu_index:2d} "
                f"GPU instance ID {gi_id:2d} using profile {typed or 'default'}: {cls.reason}",
                f"Failed to create compute instances: {cls.reason}",
            ]
        )

    gi = state.find_gi(gi_id)
    if gi is None:
        raise error(NotFoundError)
    gi_profile = get_profile(state.model, gi.profile)
    try:
        ci_profile = get_ci_profile(state.model, gi_profile, profile)
    except UnknownProfileError:
        raise error(InvalidArgumentError) from None
    if ci_free_count(state, gi_id, ci_profile) == 0:
        raise error(InsufficientResourcesError)
    start = _ci_free_starts(state, gi, ci_profile)[0]
    size = gi_profile.memory_slices if ci_profile.is_default else ci_profile.slices
    taken = {ci.ci_id for ci in gi.compute_instances}
    ci = CiInstance(min(set(range(len(taken) + 1)) - taken), ci_profile.name, start, size)
    gi.compute_instances.append(ci)
    return ci


def destroy_ci(state: MigState, gi_id: int, ci_id: int, *, gpu_index: int = 0) -> CiInstance:
    """``nvidia-smi mig -dci -gi <gi> -ci <ci>`` (error lines DERIVED: no capture in ref)."""
    lines = [
        f"Unable to destroy compute instance ID {ci_id:2d} from GPU {gpu_index:2d} "
        f"GPU instance ID {gi_id:2d}: Not Found",
        "Failed to destroy compute instances: Not Found",
    ]
    gi = state.find_gi(gi_id)
    ci = next((c for c in gi.compute_instances if c.ci_id == ci_id), None) if gi else None
    if ci is None:
        raise NotFoundError(lines)
    gi.compute_instances.remove(ci)
    return ci


def destroy_cis(
    state: MigState,
    gi_ids: Iterable[int] | None = None,
    ci_ids: Iterable[int] | None = None,
    *,
    gpu_index: int = 0,
) -> list[tuple[int, CiInstance]]:
    """``nvidia-smi mig -dci [-gi ids] [-ci ids]``: GIs then CIs by ascending ID (ref §2.8(a))."""
    ids = sorted(gi.gi_id for gi in state.gpu_instances) if gi_ids is None else list(gi_ids)
    done: list[tuple[int, CiInstance]] = []
    for gi_id in ids:
        gi = state.find_gi(gi_id)
        if ci_ids is not None:
            wanted = list(ci_ids)
        else:
            wanted = sorted(ci.ci_id for ci in gi.compute_instances) if gi else [0]
        for ci_id in wanted:
            try:
                done.append((gi_id, destroy_ci(state, gi_id, ci_id, gpu_index=gpu_index)))
            except MigError as err:
                raise type(err)(err.lines, done=done) from None
    return done
