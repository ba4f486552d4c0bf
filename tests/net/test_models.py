"""Ring and tree all-reduce models, gradient sizes, interconnects, the alpha-beta fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labkit.net.models import (
    FIGURE_GPUS,
    LINKS,
    MODELS,
    NCCL_COST_MODEL_SOURCE,
    NCCL_NET_STEP_LATENCY_S,
    SYNC_GPUS,
    _ring_allreduce_time,
    _tree_allreduce_time,
    course_ring_reference,
    fit_alpha_beta,
    gradient_bytes,
    step_latency,
)

GB = 1e9


@pytest.mark.parametrize(("size", "n", "bw", "alpha", "expected"), [
    (1 * GB, 2, 100 * GB, 0.0, 0.01),                       # 2(1)/2 x 1/100
    (1 * GB, 8, 100 * GB, 0.0, 0.0175),                     # 2(7)/8 x 1/100
    (1 * GB, 8, 100 * GB, 1e-5, 0.0175 + 14e-5),            # + 2(n-1) alpha
    (0.0, 8, 100 * GB, 1e-5, 14e-5),                        # latency only
    (14 * GB, 8, 450 * GB, 0.0, 2 * 7 / 8 * 14 / 450),      # 7B bf16 over NVLink 4
    (5 * GB, 1, 1 * GB, 1.0, 0.0),                          # one GPU: nothing to do
], ids=["2-gpus", "8-gpus", "with-latency", "empty", "7b-bf16-nvlink", "one-gpu"])
def test_ring(size, n, bw, alpha, expected):
    assert _ring_allreduce_time(size, n, bw, alpha) == pytest.approx(expected)


@pytest.mark.parametrize(("n", "steps"), [(2, 2), (8, 6), (9, 8), (1024, 20)])
def test_tree_latency_is_logarithmic(n, steps):
    assert _tree_allreduce_time(0, n, GB, 1.0) == pytest.approx(steps)
    assert _tree_allreduce_time(GB, n, GB, 0.0) == _ring_allreduce_time(GB, n, GB, 0.0)


def test_tree_beats_ring_on_latency_at_scale():
    assert _tree_allreduce_time(8, 256, GB, 5e-6) < _ring_allreduce_time(8, 256, GB, 5e-6) / 10


@pytest.mark.parametrize("call", [
    lambda: _ring_allreduce_time(1, 0, GB), lambda: _ring_allreduce_time(1, 2, 0),
    lambda: _tree_allreduce_time(-1, 2, GB), lambda: _ring_allreduce_time(1, 2, GB, -1),
], ids=["zero-gpus", "zero-bandwidth", "negative-size", "negative-latency"])
def test_bad_inputs(call):
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize(("model", "dtype", "gbytes"), [
    ("ResNet-50", "fp32", 0.102228128), ("ResNet-50", "bf16", 0.051114064),
    ("7B transformer", "fp32", 28.0), ("7B transformer", "bf16", 14.0), (1e6, "fp16", 0.002),
], ids=["rn50-fp32", "rn50-bf16", "7b-fp32", "7b-bf16", "params-as-number"])
def test_gradient_bytes(model, dtype, gbytes):
    assert gradient_bytes(model, dtype) / GB == pytest.approx(gbytes)


def test_gradient_bytes_rejects_unknown_dtypes():
    with pytest.raises(ValueError, match="dtype 'int4' is not one of fp32, bf16, fp16"):
        gradient_bytes("ResNet-50", "int4")


def test_links_are_per_direction_bandwidths_with_sources():
    assert LINKS["NVLink 4"].bandwidth == 450e9  # 900 GB/s bidirectional / 2
    assert LINKS["InfiniBand NDR"].bandwidth == LINKS["400 GbE"].bandwidth == 400e9 / 8
    assert LINKS["100 GbE"].bandwidth == 100e9 / 8
    assert all(link.source for link in LINKS.values()) and MODELS["ResNet-50"] == 25_557_032


@pytest.mark.parametrize("source", [link.source for link in LINKS.values()]
                         + [NCCL_COST_MODEL_SOURCE], ids=[*LINKS, "nccl-cost-model"])
def test_sources_shown_to_students_are_public(source):
    # students print these; the course's reference file is not in their repository
    assert "perf.md" not in source and "shared/" not in source
    assert "https://" in source or "IEEE 802.3" in source


def test_nccl_step_latencies_grow_with_the_protocol_chunk():
    lat = NCCL_NET_STEP_LATENCY_S
    assert 0 < lat["LL"] < lat["LL128"] < lat["Simple"] < 1e-4  # microseconds, not ms


@pytest.mark.parametrize(("alpha", "n", "expected"), [
    (500e-6, 2, 250e-6),     # a 2-rank ring has 2 steps
    (700e-6, 8, 50e-6),      # 2(8-1) = 14 steps
    (0.0, 4, 0.0),
], ids=["two-ranks", "eight-ranks", "zero"])
def test_step_latency(alpha, n, expected):
    assert step_latency(alpha, n) == pytest.approx(expected)
    # and it round-trips through the ring model's latency term
    assert _ring_allreduce_time(0, n, 1e9, step_latency(alpha, n)) == pytest.approx(alpha)


@pytest.mark.parametrize(("alpha", "n"), [(1e-3, 1), (-1e-6, 2)], ids=["one-rank", "negative"])
def test_step_latency_rejects(alpha, n):
    with pytest.raises(ValueError, match="must be >= "):
        step_latency(alpha, n)


@pytest.mark.parametrize(("alpha", "beta", "noise"), [
    (50e-6, 1 / 10e9, 0.0), (1e-3, 1 / 1e9, 0.05), (2e-6, 1 / 300e9, 0.02),
], ids=["exact", "gloo-like-noisy", "nvlink-like"])
def test_fit_recovers_alpha_and_beta(alpha, beta, noise):
    rng = np.random.default_rng(0)
    sizes = [8 * 4**k for k in range(13)]
    times = [(alpha + beta * s) * (1 + noise * rng.standard_normal()) for s in sizes]
    fit = fit_alpha_beta(sizes, times)
    assert fit.alpha == pytest.approx(alpha, rel=0.1 + 2 * noise)
    assert fit.bandwidth == pytest.approx(1 / beta, rel=0.1 + 2 * noise)
    assert fit.predict(sizes[-1]) == pytest.approx(alpha + beta * sizes[-1], rel=0.2)
    assert fit.max_rel_error <= 4 * noise + 1e-9


def test_fit_needs_two_sizes():
    with pytest.raises(ValueError, match="at least two distinct sizes"):
        fit_alpha_beta([8, 8], [1.0, 1.0])


def test_fit_of_flat_times_has_infinite_bandwidth():
    fit = fit_alpha_beta([8, 64, 512], [1e-3, 1e-3, 1e-3])
    assert fit.alpha == pytest.approx(1e-3) and math.isinf(fit.bandwidth)


def test_the_course_ring_reference_covers_section_5s_inputs_only():
    ref = course_ring_reference(1e-4)
    ndr = LINKS["InfiniBand NDR"].bandwidth
    rates = {link.bandwidth for link in LINKS.values()}  # NDR and 400 GbE share one: one key
    assert len(ref) == 2 * len(FIGURE_GPUS) * 3 + len(MODELS) * 2 * len(rates)
    assert ref[1e9, 8, ndr, 0.0] == pytest.approx(1.75e9 / ndr)
    assert ref[8, 1024, ndr, 1e-4] == pytest.approx(2 * 1023 * 1e-4 + 2 * 1023 / 1024 * 8 / ndr)
    assert ref[gradient_bytes("7B transformer", "bf16"), SYNC_GPUS, 450e9, 0.0] == (
        pytest.approx(1.75 * 14e9 / 450e9))
