"""The real embedded tritonserver serving the Lab 07 repository over HTTP and gRPC.

Starts the server once for the module, classifies over both protocols, sends bad requests
while good ones run (no good request may fail, the server must stay ready), reads the
metrics, runs a short load test, and stops it.
"""

from __future__ import annotations

import threading
import urllib.request

import numpy as np
import pytest
import torch

from labkit.pipeline import loadtest
from labkit.pipeline.cli import inference_script
from labkit.pipeline.client import ClientError, ImageErrors, TritonClient, pack_images
from labkit.pipeline.dataset import scan_image_folder
from labkit.pipeline.etl import dali_loader
from labkit.pipeline.server import TritonServer

from .conftest import SIZE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(repository, tmp_path_factory):
    work = tmp_path_factory.mktemp("triton")
    with TritonServer(repository.root, workdir=work, log_path=work / "server.log") as s:
        yield s
    assert s.process is None


@pytest.fixture(scope="module")
def val(trained):
    return scan_image_folder(trained.data / "val")


def _local_predictions(trained, val):
    """What the model predicts in-process from DALI's tensors: serving must agree."""
    images, _ = next(iter(dali_loader(val, batch_size=len(val), size=SIZE, train=False)))
    with torch.no_grad():
        return trained.model(images).argmax(dim=1).tolist()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_classify_agrees_with_the_model_in_process(server, trained, val, protocol):
    address = server.http_address if protocol == "http" else server.grpc_address
    with TritonClient(address, protocol) as client:
        assert client.models() == ["classifier", "pipeline", "preprocess"]
        predictions = client.classify(val.files)  # 24 images: batches of max_batch_size 8
    assert [p.index for p in predictions] == _local_predictions(trained, val)
    assert [p.label for p in predictions] == [trained.classes[p.index] for p in predictions]
    assert all(0.25 <= p.score <= 1.0 for p in predictions)  # 4 classes: top-1 >= 1/4


def test_classifier_takes_preprocessed_tensors(server, trained):
    x = np.random.default_rng(0).standard_normal((3, 3, SIZE, SIZE)).astype(np.float32)
    with TritonClient(server.grpc_address, "grpc") as client:
        logits = client.infer("classifier", {"images": x}, ["logits"])["logits"]
    with torch.no_grad():
        expected = trained.model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-4)


def _bad_requests(server, val):
    """(name, call) pairs that must each fail with an error, through raw tritonclient."""
    import tritonclient.grpc as grpc
    import tritonclient.http as http

    good = val.files[0].read_bytes()

    def send(module, url, model, name, array, dtype):
        client = module.InferenceServerClient(url)
        try:
            tensor = module.InferInput(name, list(array.shape), dtype)
            tensor.set_data_from_numpy(array)
            client.infer(model, [tensor])
        finally:
            client.close()

    cases = {
        "not-an-image": ("pipeline", "IMAGE", pack_images([b"GIF89a" + b"x" * 100]), "UINT8"),
        "truncated-jpeg": ("pipeline", "IMAGE", pack_images([good[:len(good) // 3]]),
                           "UINT8"),
        "wrong-dtype": ("classifier", "images", np.zeros((1, 3, SIZE, SIZE), np.float64),
                        "FP64"),
        "wrong-shape": ("classifier", "images", np.zeros((1, 3, 8, 8), np.float32), "FP32"),
        "batch-too-large": ("classifier", "images", np.zeros((9, 3, SIZE, SIZE), np.float32),
                            "FP32"),
        "unknown-model": ("resnet50", "images", np.zeros((1, 3, SIZE, SIZE), np.float32),
                          "FP32"),
    }
    calls = []
    for name, (model, tensor, array, dtype) in cases.items():
        for module, url in ((http, server.http_address), (grpc, server.grpc_address)):
            calls.append((f"{name}/{module.__name__.rsplit('.', 1)[1]}",
                          lambda m=module, u=url, a=(model, tensor, array, dtype): send(m, u, *a)))
    return calls


def test_bad_requests_while_good_ones_run(server, trained, val):
    expected = _local_predictions(trained, val)
    failures, wrong, served = [], [], []
    stop = threading.Event()

    def good_load(protocol):
        address = server.http_address if protocol == "http" else server.grpc_address
        with TritonClient(address, protocol) as client:
            while (not stop.is_set() or len(served) < 12) and len(failures) < 20:
                try:
                    got = [p.index for p in client.classify(val.files[:8])]
                except ClientError as exc:
                    failures.append(str(exc))
                    continue
                served.append(protocol)
                if got != expected[:8]:
                    wrong.append(got)

    workers = [threading.Thread(target=good_load, args=(p,)) for p in ("http", "grpc") * 2]
    for w in workers:
        w.start()
    refused = {}
    try:
        for _round in range(3):
            for name, call in _bad_requests(server, val):
                try:
                    call()
                except Exception as exc:  # noqa: BLE001 - every bad request must fail
                    refused[name] = str(exc)
                else:
                    refused.setdefault(name, None)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=60)
    assert failures == [] and wrong == []
    assert len(served) >= 12
    assert {k: v for k, v in refused.items() if v is None} == {}
    assert "not an encoded image" in refused["not-an-image/grpc"]
    assert "truncated or corrupt" in refused["truncated-jpeg/http"]
    assert "resnet50" in refused["unknown-model/http"]
    assert server.is_ready()
    with TritonClient(server.grpc_address, "grpc") as client:
        assert [p.index for p in client.classify(val.files[:8])] == expected[:8]


@pytest.mark.parametrize(("call", "message"), [
    pytest.param(lambda c: c.classify([b"not an image"]), "not an encoded image",
                 id="bytes-not-image"),
    pytest.param(lambda c: c.metadata("resnet50"), "model 'resnet50' is not served",
                 id="unknown-model"),
    pytest.param(lambda c: c.infer("classifier", {"images": np.zeros((1, 3, SIZE, SIZE))},
                                   ["logits"]), "dtype FP64; expected FP32", id="dtype"),
    pytest.param(lambda c: c.infer("classifier",
                                   {"images": np.zeros((1, 3, 8, 8), np.float32)},
                                   ["logits"]), r"shape \[1, 3, 8, 8\]", id="shape"),
    pytest.param(lambda c: c.infer("classifier",
                                   {"pixels": np.zeros((1, 3, SIZE, SIZE), np.float32)},
                                   ["logits"]), "no input 'pixels'", id="input-name"),
    pytest.param(lambda c: c.infer("classifier",
                                   {"images": np.zeros((9, 3, SIZE, SIZE), np.float32)},
                                   ["logits"]), "max_batch_size 8", id="batch-too-large"),
])
def test_client_errors_name_the_problem(server, call, message):
    with TritonClient(server.http_address, "http") as client, \
            pytest.raises(ClientError, match=message):
        call(client)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_a_bad_image_in_a_batch_is_named_and_the_others_classified(server, trained, val,
                                                                    tmp_path, protocol):
    cut = tmp_path / "cut.jpg"
    # 300 bytes: headers only. (A file cut later, zero-padded to the batch's longest,
    # can decode with grey rows instead of failing: the decoder reads the padding.)
    cut.write_bytes(val.files[0].read_bytes()[:300])
    files = [*val.files[:3], cut, *val.files[3:6]]  # one batch of max_batch_size 8
    address = server.http_address if protocol == "http" else server.grpc_address
    with TritonClient(address, protocol) as client, pytest.raises(ImageErrors) as info:
        client.classify(files)
    exc = info.value
    assert [name for name, _ in exc.failed] == [str(cut)]
    assert "truncated or corrupt" in exc.failed[0][1] and str(cut) in str(exc)
    expected = _local_predictions(trained, val)[:6]
    got = [p.index if p else None for p in exc.predictions]
    assert got == [*expected[:3], None, *expected[3:]]


def test_inference_script_prints_the_good_images_and_names_the_bad(server, val, tmp_path,
                                                                  capsys):
    good = val.files[0]
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:300])
    assert inference_script([str(good), str(cut), "--url", server.grpc_address]) == 1
    out, err = capsys.readouterr()
    assert f"{good}: " in out and f"{cut}:" not in out
    assert f"ERROR: {cut}: " in err and "truncated or corrupt" in err
    assert "1 of 2 images could not be classified" in err


def test_classify_refuses_a_batch_size_below_one(server, val):
    with TritonClient(server.grpc_address, "grpc") as client, \
            pytest.raises(ClientError, match="batch_size 0 is not a positive integer"):
        client.classify(val.files[:2], batch_size=0)


def test_metrics_count_the_requests(server, val):
    with TritonClient(server.grpc_address, "grpc") as client:
        client.classify(val.files[:4])
        stats = client.statistics("classifier")
    assert stats["success"][0] >= 1 and stats["inference_count"] >= 4
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    assert 'nv_inference_request_success{model="pipeline"' in text
    assert "nv_inference_queue_duration_us" in text


def test_a_short_load_test(server):
    inputs = loadtest.random_tensor_inputs((1, 3, SIZE, SIZE))
    point = loadtest.measure(server.grpc_address, "classifier", inputs, outputs=["logits"],
                             concurrency=4, window_s=0.3, max_trials=4, warmup_s=0.2)
    assert point.errors == 0 and point.requests > 0 and 3 <= point.windows <= 4
    assert point.infer_per_s > 0 and point.p50_us <= point.p99_us
    assert point.server_compute_infer_us > 0 and point.avg_batch >= 1.0
    row = point.csv_row()
    assert list(row) == loadtest.CSV_COLUMNS


def test_a_server_of_its_own_starts_serves_and_stops(repository, tmp_path):
    server = TritonServer(repository.root, workdir=tmp_path)
    with server:
        with TritonClient(server.grpc_address, "grpc") as client:
            assert client.is_ready()
        process = server.process
    assert process.poll() is not None and not server.is_ready()


def test_the_embedded_server_is_the_version_docker_compose_pins(server):
    """NGC 24.10 serves tritonserver 2.51.0: the GPU stack runs the server tested here."""
    import json
    from pathlib import Path

    import yaml

    from tests.test_compose import NGC_TAG_FOR_TRITON

    with urllib.request.urlopen(f"http://{server.http_address}/v2", timeout=5) as resp:
        version = json.load(resp)["version"]
    compose = yaml.safe_load((Path(__file__).resolve().parents[2]
                              / "docker-compose.yml").read_text())
    image = compose["services"]["triton-server"]["image"]
    assert image == f"nvcr.io/nvidia/tritonserver:{NGC_TAG_FOR_TRITON[version]}-py3"
