"""fio job files: run as written (fio or the labelled substitute), and fio's JSON read back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labkit.storage.fio import FioError
from labkit.storage.jobfile import SUBSTITUTE, job_summary, run_job_file

DATA = Path(__file__).parent / "data"
HAS_FIO = shutil.which("fio") is not None

# Recorded with fio-3.33 on the course's 2-core VM (virtio disk): numjobs=2, group_reporting,
# bs=4k randread, iodepth=8; the first with ioengine=libaio direct=1, the second with fio's
# default engine (psync) and no direct.
RECORDED = [
    ("fio_jobfile_smallfiles.json", {"reports": 1, "rw": "randread", "bs": 4096, "numjobs": 2,
                                     "iodepth": 8, "ioengine": "libaio", "direct": True,
                                     "depth_used": "8"}),
    ("fio_jobfile_psync.json", {"reports": 1, "rw": "randread", "bs": 4096, "numjobs": 2,
                                "iodepth": 8, "ioengine": "psync", "direct": True,
                                "depth_used": "1"}),
]


@pytest.mark.parametrize(("fixture", "expected"), RECORDED, ids=["libaio-direct", "psync"])
def test_summary_of_recorded_reports(fixture, expected):
    summary = job_summary(json.loads((DATA / fixture).read_text()))
    assert {k: summary[k] for k in expected} == expected
    assert summary["engine"] == "fio-3.33" and summary["name"] == "smallfiles"
    assert summary["filename"] == "/tmp/fiot/f.bin" and 1.9 < summary["runtime_s"] < 2.1
    assert summary["mib_s"] > 0 and summary["iops"] > 0


def test_summary_refuses_an_empty_report():
    with pytest.raises(ValueError, match="no jobs"):
        job_summary({"jobs": []})


def _job_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "small.fio"
    path.write_text(f"[global]\nfilename={tmp_path / 'data.bin'}\nsize=4M\n\n[small]\n"
                    + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("engine_lines", "depth"), [
    (["ioengine=libaio", "direct=1"], "8"),
    ([], "1"),
], ids=["libaio", "psync"])
def test_substitute_is_labelled_and_models_the_depth(tmp_path, engine_lines, depth):
    path = _job_file(tmp_path, "rw=randread", "bs=4k", "iodepth=8", "runtime=0.2",
                     "time_based", *engine_lines)
    (tmp_path / "data.bin").write_bytes(b"\0" * 4 * 2**20)
    doc = run_job_file(path, tmp_path / "out.json", engine="python")
    summary = job_summary(json.loads((tmp_path / "out.json").read_text()))
    assert doc["fio version"] == SUBSTITUTE == summary["engine"]
    assert summary["depth_used"] == depth and "modelled" in summary["note"]
    assert summary["rw"] == "randread" and summary["bs"] == 4096 and summary["mib_s"] > 0


def test_missing_job_file(tmp_path):
    with pytest.raises(FioError, match="no job file"):
        run_job_file(tmp_path / "nope.fio", tmp_path / "out.json")


@pytest.mark.skipif(not HAS_FIO, reason="fio not installed")
def test_fio_runs_a_job_file_as_written(tmp_path):
    path = _job_file(tmp_path, "rw=randread", "bs=4k", "numjobs=2", "group_reporting",
                     "iodepth=4", "ioengine=libaio", "direct=1", "runtime=0.5", "time_based")
    summary = job_summary(run_job_file(path, tmp_path / "out.json"))
    assert summary["engine"].startswith("fio-") and summary["reports"] == 1
    assert summary["numjobs"] == 2 and summary["depth_used"] == "4"


@pytest.mark.skipif(not HAS_FIO, reason="fio not installed")
def test_fio_names_the_option_it_rejects(tmp_path):
    path = _job_file(tmp_path, "rw=randread", "block_size_typo=4k")
    with pytest.raises(FioError, match="fio rejected small.fio.*block_size_typo"):
        run_job_file(path, tmp_path / "out.json")
