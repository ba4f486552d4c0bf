"""``python -m labkit.net.runner``: nccl-tests' size options, usage errors, the JSON it writes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from labkit.net.runfile import read_runner_file, seal
from labkit.net.runner import main, parse_bytes


@pytest.mark.parametrize(("text", "expected"), [
    ("8", 8), ("64K", 64 * 2**10), ("16M", 16 * 2**20), ("1G", 2**30), ("2mb", 2 * 2**20),
])
def test_parse_bytes_takes_nccl_tests_suffixes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "0", "1X", "-4", "1.5M", "M"])
def test_parse_bytes_refuses_what_is_not_a_size(text):
    with pytest.raises(ValueError, match="positive whole number of bytes"):
        parse_bytes(text)


@pytest.mark.parametrize(("argv", "named"), [
    (["-b", "1X"], "positive whole number of bytes"),
    (["-b", "16M", "-e", "1M"], ""),
    (["--nprocs", "1"], "must be >= 2"),
    (["--op", "gather"], "all_reduce"),
])
def test_a_wrong_value_is_a_usage_error_naming_the_valid_values(tmp_path, capsys, argv, named):
    try:
        code = main([*argv, "--out", str(tmp_path / "x.json")])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 1 and "ERROR:" in err and named in err and "Traceback" not in err
    assert not (tmp_path / "x.json").exists()


def test_a_small_sweep_writes_its_rows(tmp_path, capsys):
    out = tmp_path / "sub" / "ar.json"
    assert main(["-b", "4K", "-e", "16K", "-f", "4", "--target-s", "0.01",
                 "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["op"] == "all_reduce" and data["nprocs"] == 2
    assert data["sizes"] == [4096, 16384] == [r["size"] for r in data["rows"]]
    assert all(r["time_s"] > 0 and r["busbw_GBps"] > 0 for r in data["rows"])
    assert f"wrote {out}" in capsys.readouterr().out
    # main() ran in this process: a notebook kernel that calls it instead of the runner
    # command has its own pid in the file, which the reader refuses
    with pytest.raises(ValueError, match="pid is not that of a runner process"):
        read_runner_file(out)


@pytest.fixture(scope="module")
def runner_file(tmp_path_factory):
    # as Lab 06 runs it: its own process (a file that names this process's pid is refused)
    out = tmp_path_factory.mktemp("runner") / "ar.json"
    subprocess.run([sys.executable, "-m", "labkit.net.runner", "-b", "4K", "-e", "16K", "-f", "4",
                    "--target-s", "0.01", "--out", str(out)], check=True, capture_output=True,
                   timeout=120)
    return out


def test_a_real_run_reads_back(runner_file):
    data = read_runner_file(runner_file)
    assert data["backend"] == "gloo" and len(data["run_id"]) == 32
    assert data["started"] < data["finished"] and data["argv"][0] == "-b"


def _rewrite(path, tmp_path, change, reseal=False):
    data = json.loads(path.read_text())
    change(data)
    if reseal:
        data = seal({k: v for k, v in data.items() if k != "digest"})
    out = tmp_path / "edited.json"
    out.write_text(json.dumps(data))
    return out


@pytest.mark.parametrize(("change", "reseal", "named"), [
    (lambda d: d.update(tool="me"), False, "not written by labkit.net.runner"),
    (lambda d: d.pop("run_id"), False, "lacks run_id"),
    (lambda d: d["rows"][0].update(time_s=1.0), False, "does not match its digest"),
    (lambda d: d.update(nprocs=4), True, "are not those of its argv"),
    (lambda d: d["rows"][0].update(time_s=1.0), True, "do not follow from its size and time"),
    (lambda d: d.update(finished=d["started"]), True, "too close"),
    (lambda d: d.update(backend="mpi"), True, "backend 'mpi'"),
], ids=["tool", "run-id", "edited", "argv", "bandwidths", "times", "backend"])
def test_a_file_not_written_by_a_run_is_refused(runner_file, tmp_path, change, reseal, named):
    with pytest.raises(ValueError, match=named):
        read_runner_file(_rewrite(runner_file, tmp_path, change, reseal))


def test_a_hand_written_file_is_refused(tmp_path):
    # Lab 06's review: tool/op/nprocs/sizes/rows alone passed the old checks
    out = tmp_path / "ar.json"
    out.write_text(json.dumps({"tool": "labkit.net.runner", "op": "all_reduce", "nprocs": 2,
                               "sizes": [2**20], "rows": [{"size": 2**20, "time_s": 0.01}]}))
    with pytest.raises(ValueError, match="lacks argv"):
        read_runner_file(out)
    with pytest.raises(ValueError, match="does not exist"):
        read_runner_file(tmp_path / "none.json")
