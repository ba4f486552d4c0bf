"""Run the hardware scripts against the simulated node, as a student would in sim mode."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SimNode:
    env: dict[str, str]

    def script(self, name: str, *args: str, stdin: str | None = None,
               extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(ROOT / "scripts" / "mig" / name), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=120,
                              input=stdin if stdin is not None else "",
                              env={**self.env, **(extra_env or {})})

    def smi(self, *args: str) -> str:
        return subprocess.run(["nvidia-smi", *args], capture_output=True, text=True,
                              env=self.env, timeout=60, check=True).stdout

    def labkit(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "labkit.cli", *args], capture_output=True,
                              text=True, env=self.env, timeout=60)

    def layout(self) -> str:
        proc = subprocess.run([sys.executable, "-m", "labkit.mig.cli", "layout"],
                              input=self.smi("mig", "-lgi"), capture_output=True, text=True,
                              env=self.env, check=True)
        return proc.stdout.strip()


@pytest.fixture
def node(sim_node, monkeypatch) -> SimNode:
    """A fresh simulated A100-SXM4-40GB with its nvidia-smi first on PATH."""
    env = dict(os.environ, LABKIT_SIM_GPUS="A100-SXM4-40GB", LABKIT_PYTHON=sys.executable)
    bindir = subprocess.run([sys.executable, "-m", "labkit.cli", "sim", "bin"],
                            capture_output=True, text=True, env=env, check=True).stdout.strip()
    env["PATH"] = f"{bindir}:{env['PATH']}"
    subprocess.run([sys.executable, "-m", "labkit.cli", "sim", "reset"], env=env, check=True,
                   capture_output=True)
    return SimNode(env)
