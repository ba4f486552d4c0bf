"""``python -m labkit.mig.cli compute-instances``: GPU instances lacking their default CI."""

from __future__ import annotations

import io

import pytest

from labkit.mig import cli

LGI = """\
+---------------------------------------------------------+
| GPU instances:                                          |
| GPU   Name               Profile  Instance   Placement  |
|                            ID       ID       Start:Size |
|=========================================================|
|   0  MIG 1g.5gb            19        9          6:1     |
+---------------------------------------------------------+
|   0  MIG 2g.10gb           14        3          4:2     |
+---------------------------------------------------------+
|   0  MIG 4g.20gb            5        2          0:4     |
+---------------------------------------------------------+
"""
# Rows in the -lci format of shared/reference/mig.md §2.7.
CI_1G = "|   0      9       MIG 1g.5gb           0         0          0:1     |"
CI_2G_SMALL = "|   0      3       MIG 1c.2g.10gb       0         0          0:1     |"
CI_2G = "|   0      3       MIG 2g.10gb          1         0          0:2     |"
CI_4G = "|   0      2       MIG 4g.20gb          3         0          0:4     |"


@pytest.mark.parametrize(("lci", "expected"), [
    ([CI_1G, CI_2G, CI_4G], ""),
    (["No compute instances found: Not Found"], "missing 2\nmissing 3\nmissing 9"),
    ([CI_1G, CI_2G_SMALL, CI_4G], "other 3"),
    ([CI_1G, CI_2G_SMALL, CI_2G], "missing 2"),
], ids=["complete", "no-ci", "only-smaller-ci", "default-beside-smaller"])
def test_compute_instance_gaps(monkeypatch, capsys, lci, expected):
    monkeypatch.setattr("sys.stdin", io.StringIO(LGI + "\n".join(lci) + "\n"))
    assert cli.main(["compute-instances"]) == 0
    assert capsys.readouterr().out == expected + "\n"
