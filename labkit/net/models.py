"""Latency-bandwidth (alpha-beta) models of collectives, interconnects and gradient sync.

Lab 06: "models". A message of S bytes over one link costs ``t = alpha + S / B``.

- Ring all-reduce over P ranks: a reduce-scatter then an all-gather, 2(P-1) steps each moving
  S/P bytes per rank: ``t = 2(P-1) alpha + 2(P-1)/P x S/B``. The bandwidth term is the best
  any point-to-point all-reduce can do (nccl-tests doc/PERFORMANCE.md, which is why
  busbw = algbw x 2(P-1)/P).
- Tree all-reduce (NCCL's double binary tree, NCCL 2.4+): latency grows with log2 P instead of
  P, at the same full bandwidth ("Massively Scale Your Deep Learning Training with NCCL 2.4",
  NVIDIA technical blog, 2019): ``t = 2 ceil(log2 P) alpha + 2(P-1)/P x S/B``.

In both formulas ``alpha`` is the latency of **one step** (one message between two ranks), not
of a whole all-reduce: `step_latency` turns the fixed cost of a measured all-reduce into that.
`NCCL_NET_STEP_LATENCY_S` holds the per-step network latencies that NCCL's own cost model
assumes (constants of the model, not measurements).

`LINKS` holds per-GPU, per-direction bandwidths with their public sources (ref §4.3);
`MODELS` holds parameter counts. Units: bytes, seconds, bytes/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Link", "LINKS", "MODELS", "BYTES_PER_PARAM", "gradient_bytes", "AlphaBeta",
           "fit_alpha_beta", "step_latency", "NCCL_NET_STEP_LATENCY_S", "NCCL_COST_MODEL_SOURCE",
           "FIGURE_GPUS", "SYNC_GPUS", "course_ring_reference"]


@dataclass(frozen=True)
class Link:
    """An interconnect: bandwidth per GPU per direction (bytes/s) and where it comes from."""

    name: str
    bandwidth: float
    source: str


LINKS: dict[str, Link] = {link.name: link for link in (
    # ref §4.3 for each line below
    Link("NVLink 4", 450e9, "H100 NVLink 4: 900 GB/s bidirectional per GPU = 450 GB/s per "
         "direction, line rate (https://www.nvidia.com/en-sg/technologies/hopper-architecture/);"
         " NCCL reaches about 370 GB/s ring busbw on it "
         "(https://github.com/NVIDIA/nccl-tests/issues/212)"),
    Link("InfiniBand NDR", 50e9, "NDR 400 Gb/s per port = 50 GB/s per direction, ConnectX-7 "
         "(https://docs.nvidia.com/networking/display/ConnectX7VPI/Introduction); one port "
         "per GPU"),
    Link("400 GbE", 50e9, "400 Gb/s Ethernet (IEEE 802.3bs) = 50 GB/s per direction; "
         "ConnectX-7 supports 400GbE "
         "(https://docs.nvidia.com/networking/display/ConnectX7VPI/Introduction); one port "
         "per GPU"),
    Link("100 GbE", 12.5e9, "100 Gb/s Ethernet (IEEE 802.3ba) = 12.5 GB/s per direction; "
         "one port per GPU"),
)}

# NCCL's cost model: the hwLat table in src/graph/tuning.cc, row NET (a step that crosses the
# network), column Ring, one value per protocol, in microseconds (NCCL 2.20.3). NCCL picks LL
# for small messages and Simple for large ones. These are constants NCCL uses to choose an
# algorithm, not measured latencies; other NCCL versions use other values.
NCCL_NET_STEP_LATENCY_S: dict[str, float] = {"LL": 2.7e-6, "LL128": 4.0e-6, "Simple": 14.0e-6}
NCCL_COST_MODEL_SOURCE = ("NCCL's cost model, hwLat[NET][Ring] in src/graph/tuning.cc "
                          "(https://github.com/NVIDIA/nccl/blob/v2.20.3-1/src/graph/tuning.cc)")

MODELS: dict[str, float] = {
    # torchvision.models.resnet50 documentation, ResNet50_Weights.IMAGENET1K_V1: num_params
    "ResNet-50": 25_557_032,
    # the nominal size of a "7B" transformer (the example; real 7B models vary)
    "7B transformer": 7e9,
}

BYTES_PER_PARAM = {"fp32": 4, "bf16": 2, "fp16": 2}


def _check(size_bytes: float, n: int, bandwidth: float, latency_s: float) -> None:
    if n < 1:
        raise ValueError(f"GPU count {n} must be >= 1")
    if bandwidth <= 0:
        raise ValueError(f"bandwidth {bandwidth} bytes/s must be > 0")
    if size_bytes < 0 or latency_s < 0:
        raise ValueError(f"size {size_bytes} B and latency {latency_s} s must be >= 0")


def _ring_allreduce_time(size_bytes: float, n: int, bandwidth: float,
                        latency_s: float = 0.0) -> float:
    """Seconds for a ring all-reduce of ``size_bytes`` over ``n`` GPUs (0 for one GPU)."""
    _check(size_bytes, n, bandwidth, latency_s)
    if n == 1:
        return 0.0
    return 2 * (n - 1) * latency_s + 2 * (n - 1) / n * size_bytes / bandwidth


def _tree_allreduce_time(size_bytes: float, n: int, bandwidth: float,
                        latency_s: float = 0.0) -> float:
    """Seconds for a (double binary) tree all-reduce: logarithmic latency, full bandwidth."""
    _check(size_bytes, n, bandwidth, latency_s)
    if n == 1:
        return 0.0
    return 2 * math.ceil(math.log2(n)) * latency_s + 2 * (n - 1) / n * size_bytes / bandwidth


def step_latency(allreduce_alpha_s: float, n: int) -> float:
    """Per-step latency (s) of a ring all-reduce whose fixed cost over ``n`` ranks is
    ``allreduce_alpha_s`` (the alpha of `fit_alpha_beta`): a ring has 2(n-1) steps."""
    if n < 2:
        raise ValueError(f"rank count {n} must be >= 2 (one rank takes no step)")
    if allreduce_alpha_s < 0:
        raise ValueError(f"alpha {allreduce_alpha_s} s must be >= 0")
    return allreduce_alpha_s / (2 * (n - 1))


def gradient_bytes(model: str | float, dtype: str = "fp32") -> float:
    """Bytes of one full gradient: parameters x bytes per parameter."""
    params = MODELS[model] if isinstance(model, str) else float(model)
    if dtype not in BYTES_PER_PARAM:
        raise ValueError(f"dtype '{dtype}' is not one of {', '.join(BYTES_PER_PARAM)}")
    return params * BYTES_PER_PARAM[dtype]


@dataclass(frozen=True)
class AlphaBeta:
    """``t(S) = alpha + beta x S``: alpha in s, beta in s/byte; ``bandwidth = 1/beta``."""

    alpha: float
    beta: float
    max_rel_error: float

    @property
    def bandwidth(self) -> float:
        return 1.0 / self.beta if self.beta > 0 else math.inf

    def predict(self, size_bytes: float) -> float:
        return self.alpha + self.beta * size_bytes


def fit_alpha_beta(sizes: list[float], times: list[float]) -> AlphaBeta:
    """Least-squares fit of ``t = alpha + beta S`` minimising *relative* error, so the small
    messages (which set alpha) weigh as much as the large ones (which set beta)."""
    s = np.asarray(sizes, dtype=float)
    t = np.asarray(times, dtype=float)
    if len(s) < 2 or len(s) != len(t) or len(np.unique(s)) < 2:
        raise ValueError("fit_alpha_beta needs at least two distinct sizes, one time each "
                         f"(got {len(s)} sizes, {len(t)} times)")
    weights = 1.0 / t
    design = np.stack([np.ones_like(s), s], axis=1) * weights[:, None]
    (alpha, beta), *_ = np.linalg.lstsq(design, t * weights, rcond=None)
    alpha, beta = max(alpha, 0.0), max(beta, 0.0)
    rel = np.abs((alpha + beta * s) - t) / t
    return AlphaBeta(float(alpha), float(beta), float(rel.max()))


# The inputs of Lab 06's section 5 figures and gradient-sync table.
FIGURE_GPUS = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
SYNC_GPUS = 8


def course_ring_reference(loopback_step_s: float) -> dict[tuple, float]:
    """Course reference: ring all-reduce seconds for exactly the inputs Lab 06's section 5 draws
    and tabulates, keyed ``(size_bytes, n_gpus, bandwidth, latency_s)``.

    The figure: 8 B and 1 GB over `FIGURE_GPUS` at InfiniBand NDR's bandwidth, with NCCL's
    per-step latency for that size (LL for 8 B, Simple for 1 GB), with ``loopback_step_s``
    (the per-step latency measured in the lab) and with none. The table: each `MODELS`
    gradient in fp32 and bf16 over `SYNC_GPUS` GPUs on each of `LINKS`, without latency.
    Finished numbers for those inputs only; the notebook uses them when a student's
    ring formula fails its check.
    """
    ndr = LINKS["InfiniBand NDR"].bandwidth
    inputs = [(size, n, ndr, alpha) for size, proto in ((8, "LL"), (1e9, "Simple"))
              for n in FIGURE_GPUS
              for alpha in (NCCL_NET_STEP_LATENCY_S[proto], loopback_step_s, 0.0)]
    inputs += [(gradient_bytes(model, dtype), SYNC_GPUS, link.bandwidth, 0.0)
               for model in MODELS for dtype in ("fp32", "bf16") for link in LINKS.values()]
    return {args: _ring_allreduce_time(*args) for args in inputs}
