"""labkit.sharing.contention: partitions, participants, and a small real contention run."""

from __future__ import annotations

import os

import pytest

from labkit.sharing.contention import (
    CPU_SCHEMES,
    participants_for,
    partition_cores,
    resolve_schemes,
    run_experiment,
)
from labkit.sharing.workers import probe_cores


@pytest.mark.parametrize(
    ("cores", "parts", "groups"),
    [
        pytest.param([0, 1], 2, [[0], [1]], id="two-cores-two-parts"),
        pytest.param([0, 1, 2, 3, 4], 2, [[0, 1, 2], [3, 4]], id="uneven-split"),
        pytest.param([4, 5, 6, 7], 1, [[4, 5, 6, 7]], id="one-part-gets-all"),
        pytest.param(list(range(16)), 4, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11],
                                          [12, 13, 14, 15]], id="sixteen-by-four"),
    ],
)
def test_partition_cores(cores, parts, groups):
    assert partition_cores(cores, parts) == groups


def test_partition_cores_needs_a_core_per_participant():
    with pytest.raises(ValueError, match="3 participants, 2 core"):
        partition_cores([0, 1], 3)


def test_participants_for():
    people = participants_for(2, True, cores=8)
    assert [(p.name, p.kind, p.threads) for p in people] == [
        ("tenant-0", "tenant", 1), ("tenant-1", "tenant", 1), ("noisy", "noisy", 8)]
    with pytest.raises(ValueError, match="at least one tenant"):
        participants_for(0, True, cores=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"device": "tpu"}, "device 'tpu' is not supported", id="unknown-device"),
        pytest.param({"schemes": ["mig"]}, r"scheme\(s\) \['mig'\] not available on cpu",
                     id="gpu-scheme-on-cpu"),
    ],
)
def test_run_experiment_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_experiment(**kwargs)


@pytest.mark.slow
def test_small_real_contention_run():
    cores = len(os.sched_getaffinity(0))
    result = run_experiment(tenants=1, noisy=cores >= 2, duration_s=0.5, progress=False)
    data = result.to_dict()
    schemes = list(CPU_SCHEMES) if cores >= 2 else ["shared"]
    assert list(data["runs"]) == schemes
    for scheme in schemes:
        assert "CPU analogue" in data["schemes"][scheme]
        for name, stats in data["runs"][scheme].items():
            assert stats["requests"] > 0 and stats["throughput_rps"] > 0
            assert stats["p99_ms"] >= stats["p50_ms"] > 0
            assert len(data["latencies_ms"][scheme][name]) == stats["requests"]
            assert data["interference"][scheme][name]["p99_ratio"] > 0
        assert 0 < data["fairness"][scheme] <= 1 + 1e-9


@pytest.mark.slow
def test_probe_cores_measures_every_core():
    probe = probe_cores(seconds=0.2)
    assert set(probe["alone"]) == set(probe["cores"]) == set(os.sched_getaffinity(0))
    assert all(v > 0 for v in probe["alone"].values())
    assert 0 < probe["independence"] < 2


def _synthetic():
    from labkit.sharing.contention import ContentionResult, Participant
    from labkit.sharing.metrics import summarize

    people = [Participant("tenant-0", "tenant", 1), Participant("noisy", "noisy", 2)]
    result = ContentionResult("cpu", True, [0, 1], 1.0, people, dict(CPU_SCHEMES))
    alone = {"tenant-0": [1.0] * 100, "noisy": [50.0] * 20}
    runs = {"shared": {"tenant-0": [1.0] * 40 + [20.0] * 10, "noisy": [40.0] * 25},
            "partitioned": {"tenant-0": [1.1] * 95, "noisy": [50.0] * 20}}
    for scheme, lat in runs.items():
        result.alone[scheme] = {n: summarize(n, v, 1.0) for n, v in alone.items()}
        result.alone_latencies_ms[scheme] = alone
        result.runs[scheme] = {n: summarize(n, v, 1.0) for n, v in lat.items()}
        result.latencies_ms[scheme] = lat
    return result


def test_result_fairness_and_interference_from_known_latencies():
    result = _synthetic()
    shared = result.interference("shared")
    assert shared["tenant-0"]["throughput_ratio"] == pytest.approx(0.5)
    assert shared["noisy"]["throughput_ratio"] == pytest.approx(1.25)
    assert result.fairness("shared") == pytest.approx(1.75**2 / (2 * (0.25 + 1.5625)))
    assert result.fairness("partitioned") == pytest.approx(
        (0.95 + 1.0) ** 2 / (2 * (0.95**2 + 1.0)))
    data = result.to_dict()
    assert data["schemes"]["partitioned"].endswith("CPU analogue of MIG")
    assert data["latencies_ms"]["shared"]["noisy"] == [40.0] * 25


def test_plot_noisy_neighbour_writes_a_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from labkit.sharing.plots import plot_noisy_neighbour

    fig = plot_noisy_neighbour(_synthetic(), tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 10_000
    assert "CPU analogue" in fig._suptitle.get_text()
    left, right = fig.axes
    labels = [t.get_text() for t in left.get_xticklabels() if t.get_text()]
    assert {"1", "2", "5", "10", "20"} <= set(labels), labels
    assert "p99 (99% of requests)" in [t.get_text() for t in left.get_legend().get_texts()]
    assert [t.get_text() for t in right.get_legend().get_texts()] == [
        "1.0x: the same p99 as alone"]
    assert [t.get_text() for t in right.texts] == ["20.0x", "1.1x"]


@pytest.mark.parametrize(
    ("device", "requested", "mig_devices", "participants", "schemes"),
    [
        pytest.param("cpu", None, 0, 2, ["shared", "partitioned"], id="cpu-default"),
        pytest.param("cuda", None, 0, 2, ["time-sliced", "memory-fraction"],
                     id="cuda-default-without-mig-devices"),
        pytest.param("cuda", None, 1, 2, ["time-sliced", "memory-fraction"],
                     id="cuda-default-too-few-mig-devices"),
        pytest.param("cuda", None, 2, 2, ["time-sliced", "memory-fraction", "mig"],
                     id="cuda-default-with-mig-devices"),
        pytest.param("cuda", ["time-sliced"], 0, 2, ["time-sliced"], id="cuda-explicit"),
        pytest.param("cuda", ["mig"], 3, 2, ["mig"], id="cuda-explicit-mig"),
    ],
)
def test_resolve_schemes(device, requested, mig_devices, participants, schemes):
    assert resolve_schemes(device, requested, mig_devices, participants) == schemes


def test_resolve_schemes_explicit_mig_without_devices_is_an_error():
    with pytest.raises(RuntimeError, match="the mig scheme needs 2 existing MIG devices, "
                                           r"found 0; create them first \(Lab 02\)"):
        resolve_schemes("cuda", ["time-sliced", "mig"], 0, 2)
