"""scripts/gpu-check.sh refuses to run without a GPU and, as a diagnostic, reports everything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu-check.sh"


def run(*args, path: str, tmp_path: Path):
    env = {**os.environ, "PATH": path, "VENV": str(ROOT / ".venv")}
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=600)


def test_help():
    proc = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "It never changes MIG mode, clocks" in proc.stdout


def test_without_nvidia_smi_it_stops_with_exit_2(tmp_path):
    proc = run(path="/usr/bin:/bin", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert "nvidia-smi not found: gpu-check needs a real NVIDIA GPU" in proc.stderr


@pytest.mark.slow
def test_a_failing_check_is_reported_and_the_rest_still_runs(tmp_path):
    """A stand-in nvidia-smi that answers, on a machine where NVML has no GPU: the doctor
    fails in real mode, the notebooks still run, and the summary says FAIL."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'stand-in nvidia-smi for the test'\n")
    (fake / "nvidia-smi").chmod(0o755)
    out = tmp_path / "out"
    proc = run("--out", str(out), path=f"{fake}:/usr/bin:/bin", tmp_path=tmp_path)
    summary = (out / "summary.md").read_text()
    assert proc.returncode == 3
    assert "stand-in nvidia-smi for the test" in summary
    assert "status: FAILED: hardware" in summary
    assert "00-environment-check.ipynb:" in summary, "notebooks ran despite the failure"
    assert "CHANGED" not in summary  # the stand-in's settings answer never changes
    assert summary.rstrip().endswith("result: FAIL")


def test_a_card_setting_that_changes_during_the_check_fails_it(tmp_path):
    """Stand-ins: an nvidia-smi whose settings answer changes between its calls and a Python
    with nothing to run. The before/after comparison must catch the change."""
    fake = tmp_path / "bin"
    fake.mkdir()
    calls = tmp_path / "calls"
    (fake / "nvidia-smi").write_text(
        f'#!/bin/sh\necho x >> "{calls}"\n'
        'case "$*" in *persistence_mode*) echo "Disabled, Disabled, $(wc -l < '
        f'"{calls}"), Default, 700.00 W";; *) echo "GPU 0: stand-in";; esac\n')
    (fake / "nvidia-smi").chmod(0o755)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\nexit 0\n")  # doctor passes, no notebooks
    (venv / "bin" / "python").chmod(0o755)
    out = tmp_path / "out"
    env = {**os.environ, "PATH": f"{fake}:/usr/bin:/bin", "VENV": str(venv)}
    proc = subprocess.run(["bash", str(SCRIPT), "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=60)
    summary = (out / "summary.md").read_text()
    assert proc.returncode == 3, summary
    assert "CHANGED: a setting differs after the check" in summary
    assert summary.rstrip().endswith("result: FAIL")
