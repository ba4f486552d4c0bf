"""GPU sharing for Lab 03: contention experiments, device-plugin sharing, vGPU, containers.

``from labkit.sharing import run_experiment, parse_config, advertise, check_packing``
covers the lab. Modules: ``metrics`` (percentiles, Jain's index, interference),
``contention`` (the experiment; CPU analogues and the real-GPU schemes), ``workers`` (its
processes, the core probe, MIG devices), ``plots``,
``deviceplugin`` (time-slicing / MPS configs and what a node advertises), ``vgpu`` (C-series
profiles and placement), ``containers`` (which GPUs a container process sees).
"""

from labkit.sharing.containers import ContainerView, container_gpus, cuda_devices
from labkit.sharing.contention import (
    CLAIM,
    CPU_SCHEMES,
    GPU_SCHEMES,
    ContentionResult,
    Participant,
    bench_verdicts,
    participants_for,
    partition_cores,
    run_experiment,
)
from labkit.sharing.deviceplugin import (
    MIG_STRATEGIES,
    GpuNode,
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
)
from labkit.sharing.workers import WorkerPool, mig_device_uuids, probe_cores

__all__ = [
    "BOARDS",
    "CLAIM",
    "CPU_SCHEMES",
    "GPU_SCHEMES",
    "MIG_STRATEGIES",
    "PROFILES",
    "ContainerView",
    "ContentionResult",
    "GpuNode",
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
    "bench_verdicts",
    "board_profiles",
    "check_config",
    "check_packing",
    "container_gpus",
    "cuda_devices",
    "get_vgpu_profile",
    "interference",
    "load_helm_values",
    "mig_device_uuids",
    "mig_resource_name",
    "parse_config",
    "participants_for",
    "partition_cores",
    "percentile",
    "probe_cores",
    "product_label",
    "run_experiment",
    "summarize",
]
