"""scripts/setup_environment.sh: usage, refusal of unsupported Pythons, idempotence."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "setup_environment.sh"


def run(*args, cwd=ROOT, env=None):
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=60)


def fake_python(tmp_path: Path, version: str) -> Path:
    exe = tmp_path / f"python{version}"
    exe.write_text(f"#!/bin/sh\necho {version}\n")
    exe.chmod(0o755)
    return exe


def test_help_prints_usage_and_exit_codes():
    proc = run("--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("setup_environment.sh: create .venv")
    assert "Exit codes: 0 ready; 1 bad usage" in proc.stdout
    assert "2 unsupported Python, or no python3; 3 install failed;" in proc.stdout
    assert "4 (--gpu-host) a prerequisite is missing" in proc.stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--bogus"], 1, "ERROR: unknown option '--bogus' (see --help)"),
    (["--python"], 1, "ERROR: --python needs a value"),
    (["--python", "no-such-python"], 1, "ERROR: --python 'no-such-python' not found"),
], ids=["unknown-option", "missing-value", "python-not-found"])
def test_usage_errors(args, code, message):
    proc = run(*args)
    assert proc.returncode == code and message in proc.stderr


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_unsupported_python_is_refused_before_anything_changes(tmp_path, version):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    proc = run("--python", str(fake_python(tmp_path, version)), cwd=tmp_path)
    assert proc.returncode == 2
    assert f"Python {version} is not supported (3.10-3.12)" in proc.stderr
    assert not (tmp_path / ".venv").exists()


def test_second_run_with_unchanged_pyproject_does_nothing(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / ".venv").mkdir()
    time.sleep(0.01)
    (tmp_path / ".venv" / ".installed").touch()
    proc = run(cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == ".venv is up to date with pyproject.toml: nothing to do"


def test_dry_run_prints_the_commands_and_changes_nothing(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    proc = run("--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "+ python3 -m venv .venv" in proc.stdout
    assert '+ .venv/bin/python -m pip install --quiet -e .[dev]' in proc.stdout
    assert not (tmp_path / ".venv").exists()


def test_gpu_host_without_a_driver_stops_with_exit_4(tmp_path):
    proc = run("--gpu-host", env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 4
    assert "no working NVIDIA driver" in proc.stderr


def test_gpu_host_checks_docker_after_the_driver(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: stand-in'\n")
    (fake / "nvidia-smi").chmod(0o755)
    (fake / "docker").write_text("#!/bin/sh\nexit 1\n")  # a client whose engine does not answer
    (fake / "docker").chmod(0o755)
    proc = run("--gpu-host", "--dry-run", env={"PATH": f"{fake}:/usr/bin:/bin"})
    assert proc.returncode == 4
    assert "the Docker engine does not answer" in proc.stderr
