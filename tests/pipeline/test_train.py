"""Training: atomic checkpoints, resume, evaluation, DDP with gloo; ONNX export and parity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings

import numpy as np
import onnx
import pytest
import torch

from labkit.pipeline import export
from labkit.pipeline.dataset import scan_image_folder
from labkit.pipeline.etl import dali_loader
from labkit.pipeline.server import free_port
from labkit.pipeline.train import (
    ShapesNet,
    TrainConfig,
    _evaluate,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
    train,
)

from .conftest import SIZE


def test_checkpoint_is_replaced_whole_and_leaves_no_temporary_file(tmp_path):
    path = save_checkpoint(tmp_path / "epoch-001.pt", {"epoch": 1, "w": torch.ones(3)})
    save_checkpoint(path, {"epoch": 2, "w": torch.zeros(3)})
    assert load_checkpoint(path)["epoch"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["epoch-001.pt"]


def test_a_crash_while_writing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "epoch-001.pt", {"epoch": 1})

    def crash(obj, fh):
        fh.write(b"partial bytes")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1


def test_latest_checkpoint_orders_by_epoch_number(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    for epoch in (2, 10, 9):
        save_checkpoint(tmp_path / f"epoch-{epoch:03d}.pt", {"epoch": epoch})
    (tmp_path / "train.json").write_text("{}")
    assert latest_checkpoint(tmp_path).name == "epoch-010.pt"


class _Constant(torch.nn.Module):
    """Always predicts class ``k`` (a real module, to test evaluate's arithmetic)."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, x):
        logits = torch.zeros(x.shape[0], 4)
        logits[:, self.k] = 1.0
        return logits


@pytest.mark.parametrize("k", [0, 3])
def test_evaluate_counts_correct_predictions(small_data, k):
    val = scan_image_folder(small_data / "val")
    result = _evaluate(_Constant(k), dali_loader(val, batch_size=5, size=SIZE, train=False))
    assert result == {"correct": val.labels.count(k), "total": len(val),
                      "accuracy": val.labels.count(k) / len(val)}


def test_training_resumes_from_the_last_checkpoint(small_data, tmp_path):
    config = TrainConfig(data=str(small_data), out=str(tmp_path), epochs=1, size=SIZE,
                         batch_size=16)
    first = train(config, progress=False)
    assert first.resumed_from == 0 and [h["epoch"] for h in first.history] == [1]
    config.epochs = 2
    second = train(config, progress=False)
    assert second.resumed_from == 1
    assert [h["epoch"] for h in second.history] == [1, 2]
    assert sorted(p.name for p in tmp_path.glob("epoch-*.pt")) == ["epoch-001.pt",
                                                                     "epoch-002.pt"]
    again = train(config, progress=False)  # nothing left to do
    assert again.resumed_from == 2 and len(again.history) == 2
    assert (tmp_path / "train.json").is_file()


def test_a_single_process_run_records_world_size_one(small_data, tmp_path):
    result = train(TrainConfig(data=str(small_data), out=str(tmp_path), epochs=1, size=SIZE,
                               batch_size=8), progress=False)
    summary = json.loads((tmp_path / "train.json").read_text())
    assert (summary["world_size"], summary["backend"], summary["global_batch_size"]) == (1, None, 8)
    row = result.history[-1]
    assert (row["world_size"], row["global_batch_size"]) == (1, 8)
    # train/ holds 4 x 24 images; the last partial batch is dropped while training
    assert row["samples_per_rank"] == 96
    assert load_checkpoint(result.checkpoint)["world_size"] == 1


def test_the_callers_evaluation_is_used(small_data, tmp_path):
    calls = []

    def my_eval(model, loader):
        calls.append(type(model).__name__)
        return 0.25

    result = train(TrainConfig(data=str(small_data), out=str(tmp_path), epochs=1, size=SIZE,
                               batch_size=16), progress=False, evaluate_fn=my_eval)
    assert calls == ["ShapesNet"] and result.val_accuracy == 0.25


def test_unknown_loader_and_device_are_refused(small_data, tmp_path):
    with pytest.raises(ValueError, match="'dali' or 'baseline'"):
        train(TrainConfig(data=str(small_data), out=str(tmp_path), epochs=1, size=SIZE,
                          loader="ffcv"), progress=False)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            train(TrainConfig(data=str(small_data), out=str(tmp_path), epochs=1, size=SIZE,
                              device="cuda"), progress=False)


def test_export_has_a_dynamic_batch_the_pinned_opset_and_parity(trained):
    model = onnx.load(str(trained.onnx))
    assert {o.domain: o.version for o in model.opset_import}[""] == export.OPSET
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == export.INPUT_NAME and out.name == export.OUTPUT_NAME
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    session = export.onnx_session(trained.onnx)
    for batch in (1, 5):
        x = np.random.default_rng(batch).standard_normal((batch, 3, SIZE, SIZE))
        assert session.run(None, {"images": x.astype(np.float32)})[0].shape == (batch, 4)
    val = scan_image_folder(trained.data / "val")
    images, _ = next(iter(dali_loader(val, batch_size=16, size=SIZE, train=False)))
    assert export.parity(trained.model, trained.onnx, images) <= export.PARITY_TOLERANCE


def test_parity_detects_a_different_model(trained):
    other = ShapesNet(4)
    torch.manual_seed(123)
    for p in other.parameters():
        torch.nn.init.normal_(p)
    x = torch.randn(4, 3, SIZE, SIZE)
    assert export.parity(other, trained.onnx, x) > export.PARITY_TOLERANCE


def test_torchscript_export_matches(trained, tmp_path):
    path = export.export_torchscript(trained.model, tmp_path / "model.pt", size=SIZE)
    x = torch.randn(3, 3, SIZE, SIZE)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated
        np.testing.assert_allclose(torch.jit.load(str(path))(x), trained.model(x), atol=1e-5)


@pytest.mark.slow
def test_ddp_with_torchrun_and_gloo(small_data, tmp_path):
    """Two ranks on the CPU: each reads its own shard, rank 0 alone writes checkpoints."""
    script = tmp_path / "ddp.py"
    script.write_text(
        "import json, os, torch.distributed as dist\n"
        "from labkit.pipeline.train import TrainConfig, train\n"
        f"r = train(TrainConfig(data={str(small_data)!r}, out={str(tmp_path / 'ck')!r},"
        f" epochs=1, size={SIZE}, batch_size=8, num_threads=1), progress=False)\n"
        # One file per rank: two ranks printing to one pipe can interleave mid-line
        # (unbuffered stdout writes each print argument separately).
        f"open(os.path.join({str(tmp_path)!r}, 'rank' + os.environ['RANK']), 'w').write("
        "json.dumps([dist.get_backend(), r.history[-1]['epoch']]))\n")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(script)]
    proc = subprocess.Popen(torchrun, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        stdout, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # torchrun and both ranks
        stdout, stderr = proc.communicate()
    assert proc.returncode == 0, stderr[-3000:]
    ranks = {p.name: json.loads(p.read_text()) for p in tmp_path.glob("rank*")}
    assert ranks == {"rank0": ["gloo", 1], "rank1": ["gloo", 1]}
    assert [p.name for p in (tmp_path / "ck").glob("epoch-*.pt")] == ["epoch-001.pt"]
    summary = json.loads((tmp_path / "ck" / "train.json").read_text())
    assert (summary["world_size"], summary["backend"], summary["global_batch_size"]) == (
        2, "gloo", 16)
    assert summary["history"][-1]["samples_per_rank"] == 48, "each rank trains on its half"
    assert load_checkpoint(tmp_path / "ck" / "epoch-001.pt")["world_size"] == 2
