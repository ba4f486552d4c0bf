"""Latency-bandwidth (alpha-beta) models of collectives, interconnects and gradient sync.

Lab 06: "models". A message of S bytes over one link costs ``t = alpha + S / B``.

- Ring all-reduce over P ranks: a reduce-scatter then an all-gather, 2(P-1) steps each moving
  S/P bytes per rank: ``t = 2(P-1) alpha + 2(P-1)/P x S/B``. The bandwidth term is the best
  any point-to-point all-reduce can do (nccl-tests doc/PERFORMANCE.md, which is why
  busbw = algbw x 2(P-1)/P).
- Tree all-reduce (NCCL's double binary tree, NCCL 2.4+): latency grows with log2 P instead of
  P, at the same full bandwidth ("Massively Scale Your Deep Learning Training with NCCL 2.4",
  NVIDIA technical blog, 2019): ``t = 2 ceil(log2 P) alpha + 2(P-1)/P x S/B``.

`LINKS` holds per-GPU, per-direction bandwidths with their sources (shared/reference/perf.md
§4.3); `MODELS` holds parameter counts. Units: bytes, seconds, bytes/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Link", "LINKS", "MODELS", "BYTES_PER_PARAM", "ring_allreduce_time",
           "tree_allreduce_time", "gradient_bytes", "AlphaBeta", "fit_alpha_beta"]


@dataclass(frozen=True)
class Link:
    """An interconnect: bandwidth per GPU per direction (bytes/s) and where it comes from."""

    name: str
    bandwidth: float
    source: str


LINKS: dict[str, Link] = {link.name: link for link in (
    Link("NVLink 4", 450e9, "H100 NVLink 4: 900 GB/s bidirectional per GPU = 450 GB/s per "
         "direction, line rate (nvidia.com Hopper architecture page; perf.md §4.3). NCCL "
         "reaches about 370 GB/s ring busbw on it (nccl-tests issue #212)"),
    Link("InfiniBand NDR", 50e9, "NDR 400 Gb/s per port = 50 GB/s per direction "
         "(ConnectX-7 user manual, docs.nvidia.com; perf.md §4.3); one port per GPU"),
    Link("400 GbE", 50e9, "400 Gb/s Ethernet = 50 GB/s per direction (IEEE 802.3bs; "
         "ConnectX-7 supports 400GbE, perf.md §4.3); one port per GPU"),
    Link("100 GbE", 12.5e9, "100 Gb/s Ethernet = 12.5 GB/s per direction (IEEE 802.3ba); "
         "one port per GPU"),
)}

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


def ring_allreduce_time(size_bytes: float, n: int, bandwidth: float,
                        latency_s: float = 0.0) -> float:
    """Seconds for a ring all-reduce of ``size_bytes`` over ``n`` GPUs (0 for one GPU)."""
    _check(size_bytes, n, bandwidth, latency_s)
    if n == 1:
        return 0.0
    return 2 * (n - 1) * latency_s + 2 * (n - 1) / n * size_bytes / bandwidth


def tree_allreduce_time(size_bytes: float, n: int, bandwidth: float,
                        latency_s: float = 0.0) -> float:
    """Seconds for a (double binary) tree all-reduce: logarithmic latency, full bandwidth."""
    _check(size_bytes, n, bandwidth, latency_s)
    if n == 1:
        return 0.0
    return 2 * math.ceil(math.log2(n)) * latency_s + 2 * (n - 1) / n * size_bytes / bandwidth


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
