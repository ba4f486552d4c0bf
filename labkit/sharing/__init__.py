"""GPU sharing for Lab 03: contention experiments, device-plugin sharing, vGPU, containers.

``from labkit.sharing import run_experiment, jain_index, parse_config, advertise, pack_vms``
covers the lab. Modules: ``metrics`` (percentiles, Jain's index, interference),
``contention`` (the experiment; CPU analogues and the real-GPU schemes), ``workers`` (its
processes, the core probe, MIG devices), ``plots``,
``deviceplugin`` (time-slicing / MPS configs and what a node advertises), ``vgpu`` (C-series
profiles and placement), ``containers`` (which GPUs a container process sees).
"""

from labkit.sharing.containers import ContainerView, container_gpus, cuda_devices
from labkit.sharing.contention import (
    CPU_SCHEMES,
    GPU_SCHEMES,
    ContentionResult,
    Participant,
    participants_for,
    partition_cores,
    run_experiment,
)
from labkit.sharing.deviceplugin import (
    MIG_STRATEGIES,
    NodeResources,
    SharedResource,
    SharingConfig,
    SharingConfigError,
    advertise,
    allocate_error,
    check_config,
    load_helm_values,
    mig_resource_name,
    parse_config,
    product_label,
)
from labkit.sharing.metrics import (
    TenantStats,
    interference,
    jain_index,
    meets_slo,
    percentile,
    summarize,
)
from labkit.sharing.vgpu import (
    BOARDS,
    PROFILES,
    GpuPlan,
    Packing,
    VgpuPlacementError,
    VgpuProfile,
    board_profiles,
    check_packing,
    get_vgpu_profile,
    pack_vms,
)
from labkit.sharing.workers import WorkerPool, mig_device_uuids, probe_cores

__all__ = [
    "BOARDS",
    "CPU_SCHEMES",
    "GPU_SCHEMES",
    "MIG_STRATEGIES",
    "PROFILES",
    "ContainerView",
    "ContentionResult",
    "GpuPlan",
    "NodeResources",
    "Packing",
    "Participant",
    "SharedResource",
    "SharingConfig",
    "SharingConfigError",
    "TenantStats",
    "VgpuPlacementError",
    "VgpuProfile",
    "WorkerPool",
    "advertise",
    "allocate_error",
    "board_profiles",
    "check_config",
    "check_packing",
    "container_gpus",
    "cuda_devices",
    "get_vgpu_profile",
    "interference",
    "jain_index",
    "load_helm_values",
    "meets_slo",
    "mig_device_uuids",
    "mig_resource_name",
    "pack_vms",
    "parse_config",
    "participants_for",
    "partition_cores",
    "percentile",
    "probe_cores",
    "product_label",
    "run_experiment",
    "summarize",
]
