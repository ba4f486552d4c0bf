"""fio: size parsing, the command line, the JSON parser (recorded output) and a real run."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.storage.fio import (
    FioError,
    FioJob,
    _fio_argv,
    fio_version,
    parse_fio_json,
    parse_size,
    run_fio,
)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(("text", "expected"), [
    ("4k", 4096), ("1M", 1024**2), ("64M", 64 * 1024**2), ("1G", 1024**3), ("512", 512),
    ("4KiB", 4096), ("1.5k", 1536), (8192, 8192),
], ids=["4k", "1M", "64M", "1G", "bytes", "KiB-suffix", "fraction", "int"])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


def test_parse_size_names_the_bad_value():
    with pytest.raises(ValueError, match="size 'lots' is not a size"):
        parse_size("lots")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rw": "write"}, "rw 'write' is not a read pattern"),
    ({"block_size": 1000}, "block_size 1000 must be a positive multiple of 512"),
    ({"iodepth": 0}, "iodepth 0 must be >= 1"),
], ids=["write", "unaligned-block", "zero-depth"])
def test_job_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FioJob("x", **kwargs)


def test_command_line_matches_the_documented_form():
    job = FioJob("seq-read", "read", 1024**2, 32, 64 * 1024**2, 2.0)
    assert _fio_argv(job, "/tmp/x/ceiling.bin") == [
        "fio", "--name=seq-read", "--filename=/tmp/x/ceiling.bin", "--size=67108864",
        "--rw=read", "--bs=1048576", "--iodepth=32", "--ioengine=libaio", "--direct=1",
        "--runtime=2", "--time_based", "--output-format=json"]


def test_one_pass_jobs_are_not_time_based():
    argv = _fio_argv(FioJob("once", time_based=False, direct=False), "f")
    assert "--time_based" not in argv and "--direct=0" in argv


@pytest.mark.parametrize(("fixture", "name", "rw", "bs", "depth"), [
    ("fio_seq_read_qd32.json", "seq-read", "read", 1024**2, 32),
    ("fio_randread_4k_qd32.json", "rand-read", "randread", 4096, 32),
], ids=["sequential", "random-4k"])
def test_parse_recorded_output(fixture, name, rw, bs, depth):
    import json

    text = (DATA / fixture).read_text()
    raw = json.loads(text)["jobs"][0]["read"]
    (result,) = parse_fio_json(text)
    assert (result.name, result.rw, result.block_size, result.iodepth) == (name, rw, bs, depth)
    assert result.bandwidth == raw["bw_bytes"]
    assert result.iops == pytest.approx(raw["iops"])
    assert result.p50_us == raw["clat_ns"]["percentile"]["50.000000"] / 1000
    assert result.p99_us >= result.p50_us
    assert result.mean_us == raw["lat_ns"]["mean"] / 1000  # total latency: slat + clat
    # Little's law with the mean (not the median) latency: IOPS = iodepth / mean latency
    assert result.iops == pytest.approx(depth / (result.mean_us * 1e-6), rel=0.05)
    assert result.direct and result.engine == "fio-3.33"
    # bandwidth ~ IOPS x block size, as fio computes both from the same I/Os
    assert result.bandwidth == pytest.approx(result.iops * bs, rel=0.02)


def test_warnings_before_the_json_are_skipped_and_job_errors_raise():
    text = (DATA / "fio_readonly_missing.json").read_text()
    assert not text.startswith("{")
    with pytest.raises(FioError, match="fio job 'bad' failed with error 2"):
        parse_fio_json(text)


def test_unaligned_direct_io_is_reported():
    with pytest.raises(FioError, match="error 22"):
        parse_fio_json((DATA / "fio_direct_unaligned_bs.json").read_text())


def test_text_without_json():
    with pytest.raises(FioError, match="fio printed no JSON"):
        parse_fio_json("fio: unrecognized option '--bogus'\n")


def test_bw_in_kib_when_bw_bytes_is_absent():
    text = ('{"fio version": "fio-2.2", "jobs": [{"jobname": "old", "error": 0, '
            '"job options": {"rw": "read", "bs": "4k", "direct": "1"}, '
            '"read": {"bw": 1000, "iops": 250.0, "runtime": 1000}}]}')
    (result,) = parse_fio_json(text)
    assert result.bandwidth == 1000 * 1024 and result.p50_us is None and result.mean_us is None


@pytest.mark.skipif(fio_version() is None, reason="fio is not installed (apt-get install fio)")
def test_real_fio_on_a_small_file(tmp_path):
    from labkit.storage.directio import prepare_file

    path = prepare_file(tmp_path / "small.bin", 8 * 1024**2)
    result = run_fio(FioJob("small", "read", 1024**2, 4, 8 * 1024**2, 5, time_based=False),
                     path)
    assert result.name == "small" and result.engine.startswith("fio-")
    assert result.io_bytes == 8 * 1024**2
    assert result.bandwidth > 0 and result.iops > 0


def test_run_fio_without_fio_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FioError, match="apt-get install fio"):
        run_fio(FioJob("x"), tmp_path / "f")
