"""`labkit doctor` checks the real components, and fails loudly when one is broken."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from labkit.cli import main
from labkit.doctor import Check, format_report

pytestmark = pytest.mark.slow


def test_doctor_json_reports_every_component_healthy():
    proc = subprocess.run([sys.executable, "-m", "labkit.cli", "doctor", "--json",
                           "--mode", "sim"], capture_output=True, text=True, timeout=180)
    report = json.loads(proc.stdout)
    by_name = {c["name"]: c for c in report["checks"]}
    assert proc.returncode == 0 and report["ok"], proc.stdout
    for name in ("torch", "DALI", "tritonclient", "nbgrader", "jupyterlab", "papermill",
                 "tritonserver"):
        assert by_name[name]["status"] == "ok", by_name[name]
    assert "/v2/health/ready" in by_name["tritonserver"]["detail"]
    assert by_name["mode"]["version"] == "sim"
    assert by_name["gpu 0"]["version"] == "NVIDIA A100-SXM4-40GB"


def test_doctor_real_mode_without_gpu_names_the_hardware(capsys):
    code = main(["doctor", "--mode", "real", "--no-triton"])
    out = capsys.readouterr().out
    if "REAL hardware" in out:  # pragma: no cover - a GPU machine
        assert code == 0
    else:
        assert code == 1
        assert re.search(r"^hardware +BROKEN +\(NVML", out, re.M), out
        assert "HINT: use --mode sim" in out
        assert out.rstrip().endswith("status: FAILED: hardware")


def test_report_names_missing_parts_with_a_hint():
    text = format_report([Check("DALI", "missing", hint="use the docker-compose service"),
                          Check("torch", "ok", "2.13.0")])
    assert re.search(r"^DALI +MISSING", text, re.M)
    assert "HINT: use the docker-compose service" in text
    assert text.endswith("status: FAILED: DALI")
