"""Helpers for the simulator tests: run the simulated nvidia-smi in-process, read fixtures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from labkit.sim import nvidia_smi
from labkit.sim.state import reset_node, transaction

DATA = Path(__file__).parent / "data"
MIG_DATA = Path(__file__).parents[1] / "mig" / "data"
NOTICE = "[labkit sim] simulated nvidia-smi"


def fixture_text(name: str) -> str:
    """A verbatim reference block (tests/sim/data or tests/mig/data), ending in a newline."""
    path = DATA / name if (DATA / name).is_file() else MIG_DATA / name
    return path.read_text()


@dataclass
class Run:
    out: str
    err: str
    code: int


@pytest.fixture
def smi(capsys):
    """``smi("mig", "-lgi")`` runs the simulated nvidia-smi's ``main`` and returns a Run."""
    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = nvidia_smi.main(list(argv))
        captured = capsys.readouterr()
        return Run(captured.out, captured.err, code)
    return run


@pytest.fixture
def node():
    """Reset the (per-test) simulated node; ``node(spec)`` picks its GPUs."""
    def boot(spec: str = "A100-SXM4-40GB") -> None:
        reset_node(spec)
    boot()
    return boot


def set_bus_id(index: int, bus_id: str) -> None:
    """Give a simulated GPU the PCI bus ID of a captured host, to compare text verbatim."""
    with transaction() as state:
        state["gpus"][index]["bus_id"] = bus_id
