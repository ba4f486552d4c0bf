"""labkit.net: Lab 06, network and collective communication, measured against their limits.

- `formulas`: nccl-tests' algbw and busbw;
- `collectives`: all-reduce, all-gather and broadcast sweeps over N local processes
  (torch.distributed: gloo on CPU, NCCL on GPUs), on 127.0.0.1 with timeouts;
- `models`: the alpha-beta fit, ring and tree all-reduce, interconnects, gradient sizes;
- `topology`: ``nvidia-smi topo -m`` matrices (an 8x H100 SXM node, a PCIe node) and the
  rule for GPUDirect RDMA (PIX or PXB between GPU and NIC, NCCL's default);
- `hostnet`: memcpy bandwidth (loopback's ceiling), MTU and socket settings, iperf3;
- `runner`: ``python -m labkit.net.runner``, the sweep from a shell, written to a JSON file;
- `bench`: ``make bench network``.

Lab 06 asks students to write the busbw factor, the ring all-reduce time and the reading of a
topology matrix, so none of them is public here; where the notebook's later cells need them
and a student's answer fails, they use finished course-reference data for the course's own
inputs (`course_gdr_plan`, `course_ring_reference`).
"""

from .collectives import (
    MEASURED_OPS,
    CollectiveError,
    CollectiveResult,
    free_port,
    pick_backend,
    run_collectives,
    size_sweep,
)
from .formulas import COLLECTIVES, algbw
from .hostnet import (
    NCCL_VARIABLES,
    iperf3_available,
    iperf3_loopback,
    memcpy_bandwidth,
    network_settings,
    parse_iperf3_json,
)
from .models import (
    BYTES_PER_PARAM,
    FIGURE_GPUS,
    LINKS,
    MODELS,
    NCCL_COST_MODEL_SOURCE,
    NCCL_NET_STEP_LATENCY_S,
    SYNC_GPUS,
    AlphaBeta,
    Link,
    course_ring_reference,
    fit_alpha_beta,
    gradient_bytes,
    step_latency,
)
from .runfile import read_runner_file
from .topology import (
    GDR_SOURCES,
    LEGEND,
    NEAREST_FIRST,
    TOPO_HGX,
    TOPO_PCIE,
    course_gdr_plan,
    gdr_plan,
)

__all__ = [
    "AlphaBeta", "BYTES_PER_PARAM", "COLLECTIVES", "CollectiveError", "CollectiveResult",
    "FIGURE_GPUS", "GDR_SOURCES", "LEGEND", "LINKS", "Link", "MEASURED_OPS", "MODELS",
    "NCCL_COST_MODEL_SOURCE", "NCCL_NET_STEP_LATENCY_S", "NCCL_VARIABLES", "NEAREST_FIRST",
    "SYNC_GPUS", "TOPO_HGX", "TOPO_PCIE", "algbw", "course_gdr_plan", "course_ring_reference",
    "fit_alpha_beta", "free_port", "gdr_plan", "gradient_bytes", "iperf3_available",
    "iperf3_loopback", "memcpy_bandwidth", "network_settings", "parse_iperf3_json", "pick_backend",
    "read_runner_file", "run_collectives", "size_sweep", "step_latency",
]
