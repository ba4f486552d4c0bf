"""The entry points: the outline's four scripts and ``python -m labkit.pipeline``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from labkit.pipeline.cli import inference_script, main

from .conftest import SIZE

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ["train.py", "inference.py", "src/train_model.py", "src/inference_client.py"]


def _run(*args, cwd=ROOT, timeout=300):
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_has_help(script):
    done = _run(script, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {script}")
    assert ("--data" in done.stdout) == ("train" in script)
    assert ("--url" in done.stdout) == ("inference" in script)


@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(["nowhere.jpg"], "neither an image file nor a folder", id="missing-path"),
    pytest.param(["{val}", "--repo", "{tmp}/none"], "run train.py first", id="no-repository"),
    pytest.param(["{val}", "--url", "127.0.0.1:1"], "cannot reach Triton at 127.0.0.1:1",
                 id="no-server"),
])
def test_inference_script_errors_are_one_line(small_data, tmp_path, capsys, argv, message):
    argv = [a.format(val=small_data / "val", tmp=tmp_path) for a in argv]
    assert inference_script(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR: ") and message in err and "Traceback" not in err


@pytest.mark.slow
def test_train_then_infer_with_the_scripts(small_data, tmp_path):
    done = _run("train.py", "--data", small_data, "--out", tmp_path, "--epochs", "1",
                "--size", SIZE, "--batch-size", "16")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "val accuracy" in done.stdout and "max |diff| vs PyTorch" in done.stdout
    assert (tmp_path / "model.onnx").is_file()
    assert (tmp_path / "models" / "pipeline" / "config.pbtxt").is_file()
    done = _run("src/inference_client.py", "--repo", tmp_path / "models", "--protocol", "http",
                small_data / "val" / "circle")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if ".jpg: " in line]
    assert len(lines) == 6 and all("circle_0000" in line for line in lines)
    assert "/6 predictions match the image's folder name" in done.stdout


@pytest.mark.slow
def test_stage_commands_reuse_the_workspace(tmp_path, capsys):
    assert main(["dataset", "--out", str(tmp_path), "--quick", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "train: 2000 images" in out and "val: 400 images" in out
    manifest = (tmp_path / "data" / "dataset.json").stat().st_mtime_ns
    assert main(["dataset", "--out", str(tmp_path), "--quick", "--quiet"]) == 0
    assert (tmp_path / "data" / "dataset.json").stat().st_mtime_ns == manifest
    assert main(["repo", "--out", str(tmp_path), "--quick", "--quiet", "--epochs", "1",
                 "--target", "ngc"]) == 0
    assert "ngc repository" in capsys.readouterr().out
    assert (tmp_path / "models-ngc" / "preprocess" / "1" / "model.dali").is_file()
