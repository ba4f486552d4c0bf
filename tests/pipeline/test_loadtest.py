"""perf_analyzer's rules (stability, CSV), the configuration choice, the client's helpers."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from labkit.pipeline import loadtest
from labkit.pipeline.bench import results_from_report
from labkit.pipeline.client import ClientError, TritonClient, looks_like_image, pack_images, softmax
from labkit.pipeline.optimise import _choose_configuration, batching_gain


def _w(ips, avg, p95=None):
    return {"infer_per_s": ips, "avg_us": avg, "p95_us": p95 if p95 is not None else avg}


@pytest.mark.parametrize(("windows", "percentile", "stable"), [
    pytest.param([_w(100, 10)] * 2, None, False, id="fewer-than-3-windows"),
    pytest.param([_w(100, 10)] * 3, None, True, id="three-equal"),
    pytest.param([_w(50, 99), _w(100, 10), _w(105, 10.5), _w(109, 10.9)], None, True,
                 id="only-the-last-3-count"),
    pytest.param([_w(100, 10), _w(105, 10), _w(111, 10)], None, False,
                 id="throughput-spread-11pct"),
    pytest.param([_w(100, 10), _w(100, 10), _w(100, 11.5)], None, False,
                 id="latency-spread-15pct"),
    pytest.param([_w(100, 10, 20), _w(100, 10, 30), _w(100, 10, 20)], 95, False,
                 id="percentile-decides-when-given"),
    pytest.param([_w(100, 10, 20), _w(100, 14, 20), _w(100, 10, 20)], 95, True,
                 id="average-ignored-with-percentile"),
    pytest.param([_w(0, 0)] * 3, None, False, id="no-requests-completed"),
])
def test_stability_rule(windows, percentile, stable):
    assert loadtest._is_stable(windows, percentile=percentile) is stable


def test_percentiles_are_in_microseconds():
    latencies = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert loadtest.percentile_us(latencies, 50) == pytest.approx(50_500)
    assert loadtest.percentile_us(latencies, 99) == pytest.approx(99_010)
    assert loadtest.percentile_us([], 99) == 0.0


def _point(concurrency, ips, p99_ms=5.0, label="cfg"):
    return loadtest.LoadPoint(
        model="m", concurrency=concurrency, batch_size=1, infer_per_s=ips, p50_us=1000,
        p90_us=2000, p95_us=3000, p99_us=p99_ms * 1000, avg_us=1500, server_queue_us=200,
        server_compute_input_us=10, server_compute_infer_us=900,
        server_compute_output_us=20, network_server_us=370, avg_batch=1.0, requests=10,
        errors=0, windows=3, stable=True, window_s=1.0, label=label)


def test_csv_has_perf_analyzers_columns_rows_by_throughput(tmp_path):
    path = loadtest.write_csv([_point(1, 300.0), _point(16, 100.0), _point(4, 200.0)],
                              tmp_path / "perf.csv")
    with open(path, newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["Concurrency", "Inferences/Second", "Client Send",
                      "Network+Server Send/Recv", "Server Queue", "Server Compute Input",
                      "Server Compute Infer", "Server Compute Output", "Client Recv",
                      "p50 latency", "p90 latency", "p95 latency", "p99 latency"]
    rows = loadtest.read_csv(path)
    assert [r["Concurrency"] for r in rows] == [16, 4, 1]
    assert rows[0]["p99 latency"] == 5000 and rows[0]["Server Queue"] == 200


def test_one_csv_per_configuration_in_perf_analyzers_format(tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "stale.csv").write_text("from an earlier sweep\n")
    results = {"nobatch_1": [_point(1, 300.0), _point(4, 100.0)],
               "batch_1": [_point(1, 50.0), _point(4, 400.0), _point(16, 900.0)]}
    paths = loadtest.write_config_csvs(results, folder)
    assert paths == {name: folder / f"{name}.csv" for name in results}
    assert sorted(p.name for p in folder.iterdir()) == ["batch_1.csv", "nobatch_1.csv"]
    for name, path in paths.items():
        with open(path, newline="") as fh:
            assert next(csv.reader(fh)) == loadtest.CSV_COLUMNS
        rows = loadtest.read_csv(path)
        expected = sorted(results[name], key=lambda p: p.infer_per_s)
        assert [r["Concurrency"] for r in rows] == [p.concurrency for p in expected]
        assert [r["Inferences/Second"] for r in rows] == [p.infer_per_s for p in expected]


def test_latency_throughput_plot_is_written(tmp_path):
    path = loadtest.plot_latency_throughput(
        {"a": [_point(1, 100), _point(4, 300, 9)], "b": [_point(1, 90)]},
        tmp_path / "plot.png", slo_ms=8)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


ROWS = [
    {"config": "a", "concurrency": 16, "infer_per_s": 400, "p99_ms": 45.0},
    {"config": "b", "concurrency": 16, "infer_per_s": 1700, "p99_ms": 16.0},
    {"config": "b", "concurrency": 8, "infer_per_s": 1100, "p99_ms": 12.0},
    {"config": "c", "concurrency": 16, "infer_per_s": 2500, "p99_ms": 30.0},
    {"config": "d", "concurrency": 8, "infer_per_s": 1700, "p99_ms": 9.0},
]


@pytest.mark.parametrize(("slo", "expected"), [
    pytest.param(50, ("c", 16), id="loose-slo-takes-the-fastest"),
    pytest.param(20, ("d", 8), id="tie-on-throughput-goes-to-lower-p99"),
    pytest.param(10, ("d", 8), id="tight-slo"),
    pytest.param(5, None, id="nothing-meets-it"),
])
def test_choose_configuration(slo, expected):
    best = _choose_configuration(ROWS, slo)
    assert (None if best is None else (best["config"], best["concurrency"])) == expected


def test_an_unstable_point_is_never_chosen():
    rows = [dict(r, stable=True) for r in ROWS] + [
        {"config": "e", "concurrency": 16, "infer_per_s": 9999, "p99_ms": 1.0, "stable": False}]
    assert _choose_configuration(rows, 50)["config"] == "c"


def test_csv_with_a_configuration_column(tmp_path):
    points = [_point(1, 300), _point(16, 900, 12)]
    path = loadtest.write_csv(points, tmp_path / "all.csv", configuration=True)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[0] == "Configuration" and list(rows[0])[-1] == "Stable"
    assert [r["Configuration"] for r in rows] == [p.model for p in points]
    assert len(loadtest.read_csv(path)[0]) == len(loadtest.CSV_COLUMNS)


def test_batching_gain_at_concurrency_16():
    results = {"off": [_point(1, 300), _point(16, 400, 40)],
               "on": [_point(1, 290), _point(16, 1600, 12)]}
    gain = batching_gain(results, "off", "on")
    assert gain["ratio"] == pytest.approx(4.0)
    assert (gain["without_p99_ms"], gain["with_p99_ms"]) == (40, 12)


def test_bench_results_hold_each_goal():
    report = {"profile": "full",
              "etl": {"ratio": 2.0, "dali_img_s": 8000, "baseline_img_s": 4000, "threads": 2,
                      "images": 2000},
              "batching_gain": {"analogue": {"ratio": 2.5}, "cpu": {"ratio": 1.4}},
              "train": {"val_accuracy": 0.97}, "stages_s": {}}
    results = {r.name: r for r in results_from_report(report, 320.0)}
    assert results["ETL DALI vs PIL DataLoader"].goal_met is True
    assert results["Triton batching gain c16 (accelerator analogue)"].goal_met is False
    assert results["Triton batching gain c16 (CPU compute)"].goal_met is None
    assert results["training val accuracy"].goal_met is True
    assert results["make pipeline wall time (full profile)"].goal_met is False
    assert {r.suite for r in results.values()} == {"pipeline"}


def test_images_are_packed_with_zero_padding():
    packed = pack_images([b"\xff\xd8\xffab", b"\xff\xd8\xff"])
    assert packed.dtype == np.uint8 and packed.shape == (2, 5)
    assert bytes(packed[1]) == b"\xff\xd8\xff\x00\x00"
    with pytest.raises(ClientError, match="no image"):
        pack_images([])


@pytest.mark.parametrize(("data", "ok"), [
    (b"\xff\xd8\xff\xe0rest", True), (b"\x89PNG\r\n\x1a\nrest", True), (b"BMxxxx", True),
    (b"GIF89a", False), (b"hello", False), (b"", False)])
def test_looks_like_image(data, ok):
    assert looks_like_image(data) is ok


def test_softmax_rows_sum_to_one_and_keep_order():
    probs = softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, 0.0]]))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs[0].argmax() == 2 and probs[1, 0] == pytest.approx(1.0)


def test_client_refuses_unknown_protocols_and_explains_a_missing_server():
    with pytest.raises(ClientError, match="'http' or 'grpc'"):
        TritonClient("127.0.0.1:1", "tcp")
    for protocol in ("http", "grpc"):
        with TritonClient("127.0.0.1:1", protocol, timeout_s=2) as client:
            assert client.is_ready() is False
            with pytest.raises(ClientError, match="127.0.0.1:1"):
                client.models()
