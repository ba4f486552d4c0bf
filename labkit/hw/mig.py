"""MIG as labkit sees it, the same from NVML (real GPUs) and from the simulated node.

Lab 02: verify a layout. ``mig_view(env)`` returns, per GPU, the MIG mode, the GPU instances,
the compute instances and the MIG devices (one per compute instance, with its UUID), the view
``nvidia-smi mig -lgi``, ``nvidia-smi mig -lci`` and ``nvidia-smi -L`` print. Memory is in
MiB; placements are in memory slices for GPU instances and as ``-lci`` prints them for
compute instances. Real mode reads NVML (nvidia-ml-py: ``nvmlDeviceGetMigMode``,
``nvmlDeviceGetGpuInstanceById``, ``nvmlGpuInstanceGetComputeInstanceById``,
``nvmlDeviceGetMaxMigDeviceCount``, ``nvmlDeviceGetMigDeviceHandleByIndex``, ...), read-only.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

from .model import Environment, HardwareError

__all__ = [
    "ComputeInstance",
    "GpuInstance",
    "GpuMig",
    "MigDevice",
    "MigView",
    "compute_instances",
    "gpu_instances",
    "mig_devices",
    "mig_view",
]

# GPU instance IDs run 0..14 on every MIG GPU in the reference (binary-tree numbering, ref
# §1.7/§2.6); compute instance IDs 0..6 (at most 7 per GI). Probed with a margin.
_MAX_GI_ID = 32
_MAX_CI_ID = 8


@dataclass(frozen=True)
class GpuInstance:
    """A GPU instance: ``profile`` like ``3g.20gb``, placement ``start:size`` in memory slices."""

    gpu_index: int
    gi_id: int
    profile: str
    profile_id: int
    start: int
    size: int
    memory_mib: int


@dataclass(frozen=True)
class ComputeInstance:
    """A compute instance inside GPU instance ``gi_id``: ``profile`` like ``1c.2g.10gb``."""

    gpu_index: int
    gi_id: int
    ci_id: int
    profile: str
    profile_id: int
    start: int
    size: int
    sm_count: int


@dataclass(frozen=True)
class MigDevice:
    """What CUDA sees: one compute instance, its MIG UUID and its GPU instance's memory."""

    gpu_index: int
    device_index: int
    gi_id: int
    ci_id: int
    profile: str
    uuid: str
    memory_mib: int
    sm_count: int


@dataclass(frozen=True)
class GpuMig:
    """One GPU: MIG mode (Enabled | Disabled | N/A), pending mode, and its instances."""

    gpu_index: int
    mig_mode: str
    mig_pending: str
    gpu_instances: tuple[GpuInstance, ...] = ()
    compute_instances: tuple[ComputeInstance, ...] = ()
    devices: tuple[MigDevice, ...] = ()


@dataclass(frozen=True)
class MigView:
    """``mig_view()``'s answer: ``mode`` is "real" or "sim"."""

    mode: str
    gpus: tuple[GpuMig, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def _strip(name: str) -> str:
    name = name.strip()
    return name[4:] if name.startswith("MIG ") else name


def _sim_view() -> MigView:
    from labkit.mig.catalog import get_ci_profile, get_profile
    from labkit.sim.node import mig_device_list, mig_state
    from labkit.sim.state import read_node

    from .sim import environment_from_node

    node = read_node()
    env = environment_from_node(node)
    out = []
    for rec, gpu in zip(node["gpus"], env.gpus, strict=True):
        state = mig_state(rec) if rec["mig_current"] else None
        gis, cis, devices = [], [], []
        for gi in sorted(state.gpu_instances if state else [], key=lambda g: g.gi_id):
            gp = get_profile(state.model, gi.profile)
            gis.append(GpuInstance(gpu.index, gi.gi_id, gp.name, gp.profile_id, gi.start,
                                   gi.size, gp.memory_mib))
            for ci in sorted(gi.compute_instances, key=lambda c: c.ci_id):
                cp = get_ci_profile(state.model, gp, ci.profile)
                cis.append(ComputeInstance(gpu.index, gi.gi_id, ci.ci_id, cp.name,
                                           cp.profile_id, ci.start, ci.size, cp.sm_count))
        by_id = {(c.gi_id, c.ci_id): c for c in cis}
        mem = {g.gi_id: g.memory_mib for g in gis}
        for k, (gi_id, ci_id, profile, uuid) in enumerate(mig_device_list(rec)):
            devices.append(MigDevice(gpu.index, k, gi_id, ci_id, profile, uuid, mem[gi_id],
                                     by_id[(gi_id, ci_id)].sm_count))
        out.append(GpuMig(gpu.index, gpu.mig_mode, gpu.mig_pending, tuple(gis), tuple(cis),
                          tuple(devices)))
    return MigView("sim", tuple(out))


def _profiles(lookup, count: int, pynvml) -> dict[int, object]:
    """``{profile id: info}`` from an NVML profile-info call over every profile index."""
    found = {}
    for index in range(count):
        try:
            info = lookup(index)
        except pynvml.NVMLError:
            continue
        found[info.id] = info
    return found


def _absent(pynvml) -> tuple[type, ...]:
    """The NVML errors that mean "no instance with this ID" while probing IDs."""
    names = ("NVMLError_NotFound", "NVMLError_InvalidArgument")
    return tuple(getattr(pynvml, n) for n in names if hasattr(pynvml, n))


def _nvml_gpu(pynvml, index: int) -> GpuMig:
    from .nvml import _mig, _text

    absent = _absent(pynvml)
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    _, mode, pending = _mig(pynvml, handle)
    if mode != "Enabled":
        return GpuMig(index, mode, pending)
    gi_profiles = _profiles(lambda p: pynvml.nvmlDeviceGetGpuInstanceProfileInfo(handle, p),
                            pynvml.NVML_GPU_INSTANCE_PROFILE_COUNT, pynvml)
    gis, cis, devices = [], [], []
    for gi_id in range(_MAX_GI_ID):
        try:
            gi = pynvml.nvmlDeviceGetGpuInstanceById(handle, gi_id)
        except absent:  # no GPU instance with this ID
            continue
        info = pynvml.nvmlGpuInstanceGetInfo(gi)
        prof = gi_profiles.get(info.profileId)
        gis.append(GpuInstance(index, info.id, _strip(_text(prof.name)) if prof else "",
                               info.profileId, info.placement.start, info.placement.size,
                               int(prof.memorySizeMB) if prof else 0))
        ci_profiles = _profiles(
            lambda p, gi=gi: pynvml.nvmlGpuInstanceGetComputeInstanceProfileInfo(
                gi, p, pynvml.NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED),
            pynvml.NVML_COMPUTE_INSTANCE_PROFILE_COUNT, pynvml)
        for ci_id in range(_MAX_CI_ID):
            try:
                ci = pynvml.nvmlGpuInstanceGetComputeInstanceById(gi, ci_id)
            except absent:
                continue
            cinfo = pynvml.nvmlComputeInstanceGetInfo(ci)
            cp = ci_profiles.get(cinfo.profileId)
            cis.append(ComputeInstance(index, info.id, cinfo.id,
                                       _strip(_text(cp.name)) if cp else "", cinfo.profileId,
                                       cinfo.placement.start, cinfo.placement.size,
                                       int(cp.multiprocessorCount) if cp else 0))
    names = {(c.gi_id, c.ci_id): c.profile for c in cis}
    for k in range(pynvml.nvmlDeviceGetMaxMigDeviceCount(handle)):
        try:
            mig = pynvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, k)
        except absent:  # an empty MIG device slot
            continue
        gi_id = pynvml.nvmlDeviceGetGpuInstanceId(mig)
        ci_id = pynvml.nvmlDeviceGetComputeInstanceId(mig)
        attrs = pynvml.nvmlDeviceGetAttributes(mig)
        devices.append(MigDevice(
            index, len(devices), gi_id, ci_id, names.get((gi_id, ci_id), ""),
            _text(pynvml.nvmlDeviceGetUUID(mig)),
            int(pynvml.nvmlDeviceGetMemoryInfo(mig).total // 2**20),
            int(attrs.multiprocessorCount)))
    return GpuMig(index, mode, pending, tuple(gis), tuple(cis), tuple(devices))


def _nvml_view() -> MigView:
    from .nvml import _init, _pynvml

    pynvml = _pynvml()
    _init(pynvml)
    try:
        gpus = tuple(_nvml_gpu(pynvml, i) for i in range(pynvml.nvmlDeviceGetCount()))
    except pynvml.NVMLError as exc:
        raise HardwareError(
            f"NVML error while reading MIG instances: {exc} (listing GPU instances can need "
            "root: compare with 'sudo nvidia-smi mig -lgi')") from exc
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()
    return MigView("real", gpus)


def mig_view(env: Environment) -> MigView:
    """MIG mode, GPU/compute instances and MIG devices of every GPU of ``env`` (read-only).

    CLI equivalents: ``nvidia-smi mig -lgi``, ``nvidia-smi mig -lci``, ``nvidia-smi -L``.
    """
    return _sim_view() if env.simulated else _nvml_view()


def gpu_instances(env: Environment) -> list[GpuInstance]:
    """Every GPU instance, by GPU then GI ID (``nvidia-smi mig -lgi``)."""
    return [gi for g in mig_view(env).gpus for gi in g.gpu_instances]


def compute_instances(env: Environment) -> list[ComputeInstance]:
    """Every compute instance, by GPU, GI ID then CI ID (``nvidia-smi mig -lci``)."""
    return [ci for g in mig_view(env).gpus for ci in g.compute_instances]


def mig_devices(env: Environment) -> list[MigDevice]:
    """Every MIG device with its UUID, in ``nvidia-smi -L`` order."""
    return [d for g in mig_view(env).gpus for d in g.devices]
