"""The Python fallback for fio, page-cache control, and the engine choice."""

from __future__ import annotations

import pytest

from labkit.storage.directio import (
    drop_from_page_cache,
    measure_read,
    prepare_file,
    python_read,
    supports_odirect,
)
from labkit.storage.fio import FioJob, fio_version

MIB = 1024**2


@pytest.fixture
def data_file(tmp_path):
    return prepare_file(tmp_path / "data.bin", 8 * MIB)


def test_prepare_file_writes_the_size_and_reuses_it(data_file):
    assert data_file.stat().st_size == 8 * MIB
    before = data_file.stat().st_mtime_ns
    assert prepare_file(data_file, 8 * MIB) == data_file
    assert data_file.stat().st_mtime_ns == before


def test_drop_from_page_cache_counts_bytes(data_file, tmp_path):
    other = prepare_file(tmp_path / "other.bin", MIB)
    assert drop_from_page_cache([data_file, other]) == 9 * MIB
    assert drop_from_page_cache(other) == MIB


@pytest.mark.parametrize(("rw", "bs", "depth"), [
    ("read", MIB, 1), ("read", MIB, 4), ("randread", 4096, 8),
], ids=["seq-qd1", "seq-qd4", "rand-4k-qd8"])
def test_python_read_one_pass(data_file, rw, bs, depth):
    job = FioJob("py", rw, bs, depth, 8 * MIB, runtime_s=10, time_based=False)
    result = python_read(job, data_file)
    assert result.io_bytes == 8 * MIB  # one pass: every block once, whatever the depth
    assert result.engine == ("python O_DIRECT" if supports_odirect(data_file.parent)
                             else "python buffered")
    assert "fio not installed" in result.note
    assert result.p99_us >= result.p50_us > 0 and result.mean_us > 0
    assert result.iops == pytest.approx(8 * MIB / bs / result.runtime_s, rel=0.05)


def test_python_read_time_based_stops_at_runtime(data_file):
    result = python_read(FioJob("t", "randread", 4096, 2, 8 * MIB, runtime_s=0.3), data_file)
    assert 0.25 < result.runtime_s < 2.0


def test_buffered_fallback_is_labelled(data_file, monkeypatch):
    monkeypatch.setattr("labkit.storage.directio.supports_odirect", lambda folder: False)
    result = python_read(FioJob("b", "read", MIB, 1, 8 * MIB, 10, time_based=False), data_file)
    assert result.engine == "python buffered" and not result.direct
    assert "posix_fadvise(DONTNEED)" in result.note


def test_measure_read_engine_choice(data_file):
    job = FioJob("m", "read", MIB, 2, 8 * MIB, 10, time_based=False)
    assert measure_read(job, data_file, engine="python").engine.startswith("python")
    auto = measure_read(job, data_file)
    assert auto.engine.startswith("fio-" if fio_version() else "python")
    with pytest.raises(ValueError, match="engine 'dd' is not one of auto, fio, python"):
        measure_read(job, data_file, engine="dd")


def test_measure_read_creates_a_missing_file(tmp_path):
    job = FioJob("c", "read", MIB, 1, 2 * MIB, 10, time_based=False)
    result = measure_read(job, tmp_path / "new.bin", engine="python")
    assert (tmp_path / "new.bin").stat().st_size == 2 * MIB and result.io_bytes == 2 * MIB
