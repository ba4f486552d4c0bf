"""Shared helpers for the labkit.mig tests: the verbatim reference text under data/."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def read_text(name: str) -> str:
    """A data file without its final newline (renderers return text without one)."""
    return (DATA / name).read_text().removesuffix("\n")


@pytest.fixture
def ref():
    """``ref("file.txt")`` -> the verbatim block stored in tests/mig/data (see its README)."""
    return read_text
