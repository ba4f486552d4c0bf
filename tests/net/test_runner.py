"""``python -m labkit.net.runner``: nccl-tests' size options, usage errors, the JSON it writes."""

from __future__ import annotations

import json

import pytest

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
