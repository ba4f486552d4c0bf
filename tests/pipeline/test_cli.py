"""The entry points: the outline's four scripts and ``python -m labkit.pipeline``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.pipeline.cli import inference_script, main, train_script
from labkit.pipeline.dataset import DatasetSpec, make_shapes_dataset

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


@pytest.mark.parametrize(("entry", "argv"), [
    pytest.param(inference_script, ["x.jpg", "--batch-size", "-2"], id="infer-batch-negative"),
    pytest.param(inference_script, ["x.jpg", "--batch-size", "0"], id="infer-batch-zero"),
    pytest.param(inference_script, ["x.jpg", "--batch-size", "two"], id="infer-batch-text"),
    pytest.param(train_script, ["--epochs", "0"], id="train-epochs-zero"),
    pytest.param(train_script, ["--batch-size", "-1"], id="train-batch-negative"),
    pytest.param(train_script, ["--size", "0"], id="train-size-zero"),
    pytest.param(train_script, ["--threads", "0"], id="train-threads-zero"),
    pytest.param(main, ["train", "--epochs", "-3"], id="stage-epochs-negative"),
])
def test_counts_and_sizes_must_be_positive_integers(entry, argv, capsys):
    with pytest.raises(SystemExit) as info:
        entry(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(r"argument --[a-z-]+: ('-?\d+' is not|-?\d+ is not positive|'two' is "
                     r"not a whole number)", err), err


@pytest.fixture
def tiny_data(tmp_path):
    root = tmp_path / "data"
    make_shapes_dataset(root, DatasetSpec(train_per_class=8, val_per_class=2, image_size=64))
    return root


BAD_FILES = [
    pytest.param("cut.jpg", lambda good: good[:len(good) // 2], id="truncated-jpeg"),
    pytest.param("notes.txt", lambda good: b"labels are folder names", id="non-image"),
]


@pytest.mark.parametrize(("name", "content"), BAD_FILES)
def test_training_names_a_bad_file_and_skips_it_when_asked(tiny_data, tmp_path, capsys,
                                                            name, content):
    good = next((tiny_data / "train" / "circle").glob("*.jpg")).read_bytes()
    bad = tiny_data / "train" / "square" / name
    bad.write_bytes(content(good))
    common = ["--data", str(tiny_data), "--epochs", "1", "--size", "32", "--batch-size", "8",
              "--no-export"]
    assert train_script([*common, "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]  # no bars
    assert err.startswith("ERROR: ") and str(bad) in err and "--skip-corrupt" in err
    assert "Traceback" not in err and "Critical error" not in err
    assert train_script([*common, "--out", str(tmp_path / "b"), "--skip-corrupt"]) == 0
    out = capsys.readouterr().out
    assert f"skipped 1 corrupt image file(s): {bad}" in out and "val accuracy" in out


def test_decode_check_stops_before_training(tiny_data, tmp_path, capsys):
    good = next((tiny_data / "val" / "cross").glob("*.jpg")).read_bytes()
    bad = tiny_data / "val" / "cross" / "cut.jpg"
    bad.write_bytes(good[:len(good) // 2])
    assert train_script(["--data", str(tiny_data), "--out", str(tmp_path / "a"), "--epochs",
                         "1", "--size", "32", "--check", "decode", "--no-export"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "truncated" in err
    assert not (tmp_path / "a" / "checkpoints").exists()  # stopped before the first epoch


def _sweep_sh_models() -> list[str]:
    """The models docker/perf-analyzer/sweep.sh asks perf_analyzer for (its MODELS default)."""
    text = (ROOT / "docker" / "perf-analyzer" / "sweep.sh").read_text()
    found = re.search(r'\$\{MODELS:=([^}]+)\}', text)
    assert found, "sweep.sh no longer sets a MODELS default"
    return found.group(1).split()


@pytest.mark.slow
def test_ngc_target_writes_every_model_sweep_sh_asks_for(small_data, tmp_path):
    done = _run("src/train_model.py", "--target", "ngc", "--data", small_data, "--out",
                tmp_path, "--epochs", "1", "--size", SIZE, "--batch-size", "16")
    assert done.returncode == 0, done.stderr[-2000:]
    models = _sweep_sh_models()
    assert len(models) >= 4
    repo = tmp_path / "models-ngc"
    for name in ["preprocess", "classifier", "pipeline", *models]:
        assert (repo / name / "config.pbtxt").is_file(), f"{name} missing from {repo}"
    for name in models:
        config = (repo / name / "config.pbtxt").read_text()
        assert f'name: "{name}"' in config and "onnxruntime_onnx" in config
        assert (repo / name / "1" / "model.onnx").is_file()
    assert all(name in done.stdout for name in models)
