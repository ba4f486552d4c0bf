"""train.py's command-line edge: errors name the CLI's options; torchrun's job is announced."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from labkit.pipeline.cli import train_script
from labkit.pipeline.server import free_port

from .conftest import SIZE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_device_cuda_without_a_gpu_names_the_cli_option(tmp_path, capsys):
    assert train_script(["--device", "cuda", "--out", str(tmp_path / "ws")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR: --device cuda: torch sees no CUDA GPU")
    assert "--device auto" in err and "--device cpu" in err
    assert "device='auto'" not in err, "the Python argument's spelling is for the API"
    assert not (tmp_path / "ws").exists(), "refused before any work"


@pytest.mark.slow
def test_torchrun_announces_the_world_and_each_rank(small_data, tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(ROOT / "train.py"),
           "--data", str(small_data), "--out", str(tmp_path), "--epochs", "1",
           "--size", str(SIZE), "--batch-size", "8", "--threads", "1", "--no-export"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        stdout, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # torchrun and both ranks
        stdout, stderr = proc.communicate()
    assert proc.returncode == 0, stderr[-3000:]
    lines = stdout.splitlines()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    summary = f"distributed: 2 processes (world size 2; 2 on this node), backend {backend}"
    assert lines.count(summary) == 1, stdout
    ranks = [line for line in lines if line.startswith("rank ")]
    assert lines.index(summary) < lines.index(ranks[0]), "the summary comes first"
    assert sorted(re.sub(r"pid \d+", "pid N", r) for r in ranks) == [
        f"rank {r}/2: local rank {r}, pid N, device {'cuda:' + str(r) if backend == 'nccl' else 'cpu'}"
        for r in (0, 1)]
