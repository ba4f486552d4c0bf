"""Shared fixtures: every test gets its own simulated node and a clean LABKIT_* setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.course import CourseLayout

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def sim_node(tmp_path, monkeypatch):
    """A private simulated-node state file; no test sees the user's or another test's."""
    state = tmp_path / "sim" / "node.json"
    monkeypatch.setenv("LABKIT_SIM_STATE", str(state))
    for var in ("LABKIT_MODE", "LABKIT_QUICK", "LABKIT_SIM_GPUS", "LABKIT_COURSE_ROOT"):
        monkeypatch.delenv(var, raising=False)
    return state


@pytest.fixture
def layout() -> CourseLayout:
    return CourseLayout(ROOT)
