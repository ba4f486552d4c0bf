"""``python -m labkit.mig.cli model|configs|profiles``: the scripts' argument checks.

A wrong value exits 1 (the scripts' usage error) with the valid values named.
"""

from __future__ import annotations

import pytest

from labkit.mig import cli
from labkit.mig.catalog import MODELS, model_names

CONFIG = """\
version: v1
mig-configs:
  all-disabled:
    - devices: all
      mig-enabled: false
  all-1g.5gb:
    - devices: all
      mig-enabled: true
      mig-devices:
        "1g.5gb": 7
"""


@pytest.mark.parametrize(("argv", "out"), [
    (["model", "NVIDIA A100-SXM4-40GB"], "A100-SXM4-40GB"),
    (["model", "h200"], "H200-141GB"),
    (["profiles", "3g.20gb, 1g.5gb"], "3g.20gb,1g.5gb"),
    (["profiles", "20gb,7g.141gb"], "20gb,7g.141gb"),
], ids=["model-nvidia-smi-name", "model-alias", "profiles-names", "profiles-memory-and-a-name"])
def test_valid_values_are_echoed(capsys, argv, out):
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.strip() == out


def test_configs_lists_and_checks_names(tmp_path, capsys):
    path = tmp_path / "mig.yaml"
    path.write_text(CONFIG)
    assert cli.main(["configs", "--file", str(path)]) == 0
    assert capsys.readouterr().out.split() == ["all-disabled", "all-1g.5gb"]
    assert cli.main(["configs", "--file", str(path), "--check", "all-1g.5gb"]) == 0


@pytest.mark.parametrize(("argv", "named"), [
    (["model", "H100"], model_names()),
    (["configs", "--file", "{cfg}", "--check", "nope"], ["all-disabled", "all-1g.5gb"]),
    (["profiles", "3g.25gb"], [p for m in MODELS.values() for p in m.profile_names()]),
    (["profiles", " , "], ["3g.20gb"]),
], ids=["model-unknown", "config-unknown", "profile-no-gpu-has", "profiles-empty"])
def test_wrong_values_exit_1_naming_the_valid_ones(tmp_path, capsys, argv, named):
    path = tmp_path / "mig.yaml"
    path.write_text(CONFIG)
    assert cli.main([a.format(cfg=path) for a in argv]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert all(name in err for name in named), err


def test_an_invalid_config_file_is_not_a_usage_error(tmp_path, capsys):
    path = tmp_path / "mig.yaml"
    path.write_text("version: v1\nmig-configs: [\n")
    assert cli.main(["configs", "--file", str(path), "--check", "x"]) == cli.EXIT_INVALID
