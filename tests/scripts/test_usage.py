"""Every script's usage contract: --help, unknown options, and a wrong value for each option.

A wrong value is bad usage: exit 1, an ``ERROR:`` line that names the valid values (from the
one place that owns them: the GPU catalog, the mig-parted config file), and no traceback.
The scripts run with no nvidia-smi, kubectl or helm on PATH, so a value checked only after
the hardware preflight would show up as exit 2 or 3 instead of 1.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from labkit.mig.catalog import model_names

from .conftest import ROOT

SCRIPTS = [
    "mig/1-enable-mig.sh",
    "mig/2-create-mig-instances.sh",
    "mig/3-deploy-device-plugin.sh",
    "mig/4-deploy-test-pod.sh",
    "mig/install-mig-persistence.sh",
    "k8s/apply-manifests.sh",
    "gpu-check.sh",
    "setup_environment.sh",
]
MIG_CONFIGS = list(yaml.safe_load((ROOT / "manifests/mig/mig-config.yaml").read_text())
                   ["mig-configs"])


def run(script: str, *args: str, tmp_path=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": "/usr/bin:/bin", "LABKIT_PYTHON": sys.executable,
           "KUBECTL_TIMEOUT": "1s"}
    for name in ("MIG_STRATEGY", "GPU_INDEX", "MIG_CONFIG_FILE"):
        env.pop(name, None)
    if tmp_path is not None:  # install-mig-persistence.sh must never reach /etc
        env.update(SYSTEMD_DIR=str(tmp_path / "systemd"), LABKIT_ETC=str(tmp_path / "etc"))
    return subprocess.run(["bash", str(ROOT / "scripts" / script), *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120)


def test_script_list_is_complete():
    found = sorted(str(p.relative_to(ROOT / "scripts")) for p in (ROOT / "scripts").rglob("*.sh")
                   if p.name not in ("lib.sh", "common.sh"))
    assert found == sorted(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_prints_the_header_and_nothing_else(script):
    proc = run(script, "--help")
    assert proc.returncode == 0, proc.stderr
    name = script.rsplit("/", 1)[-1]
    assert proc.stdout.startswith(f"{name}: ")
    assert f"Usage: scripts/{script}" in proc.stdout
    assert "shellcheck" not in proc.stdout
    last_paragraph = proc.stdout.rstrip("\n").split("\n\n")[-1]
    assert last_paragraph.startswith("Exit codes: "), "the help ends with the exit codes"


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_unknown_option_is_bad_usage(script):
    proc = run(script, "--bogus")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.startswith("ERROR: unknown option '--bogus' (see --help)")


# (script, arguments, what stderr must name); each is a wrong value of one option.
WRONG_VALUES = [
    pytest.param("mig/1-enable-mig.sh", ["--gpu", "x"], ["GPU index such as 0"],
                 id="enable-gpu-not-an-index"),
    pytest.param("mig/2-create-mig-instances.sh", ["--gpu", "-1", "--profiles", "1g.5gb"],
                 ["GPU index such as 0"], id="create-gpu-not-an-index"),
    pytest.param("mig/2-create-mig-instances.sh", ["--config", "no-such"], MIG_CONFIGS,
                 id="create-unknown-config"),
    pytest.param("mig/2-create-mig-instances.sh",
                 ["--config", "all-balanced", "--config-file", "no/such.yaml"],
                 ["no/such.yaml not found"], id="create-config-file-missing"),
    pytest.param("mig/2-create-mig-instances.sh", ["--profiles", "3g.25gb"],
                 ["1g.5gb", "3g.20gb", "7g.40gb on A100-SXM4-40GB", "7g.141gb on H200-141GB"],
                 id="create-profile-no-gpu-has"),
    pytest.param("mig/2-create-mig-instances.sh", ["--profiles", ","], ["3g.20gb"],
                 id="create-empty-profile-list"),
    pytest.param("mig/3-deploy-device-plugin.sh", ["--strategy", "foo"], ["single", "mixed"],
                 id="device-plugin-unknown-strategy"),
    pytest.param("mig/3-deploy-device-plugin.sh", ["--strategy", "none"], ["single", "mixed"],
                 id="device-plugin-strategy-none-is-not-a-mig-strategy"),
    pytest.param("mig/3-deploy-device-plugin.sh", ["--values", "no/such.yaml"],
                 ["no/such.yaml not found"], id="device-plugin-values-missing"),
    pytest.param("mig/4-deploy-test-pod.sh", ["--strategy", "foo"], ["single", "mixed"],
                 id="test-pod-unknown-strategy"),
    pytest.param("mig/4-deploy-test-pod.sh", ["--model", "foo"], model_names(),
                 id="test-pod-unknown-model"),
    pytest.param("mig/4-deploy-test-pod.sh", ["--manifest", "no/such.yaml"],
                 ["no/such.yaml not found"], id="test-pod-manifest-missing"),
    pytest.param("mig/install-mig-persistence.sh", ["--config", "nope"], MIG_CONFIGS,
                 id="persistence-unknown-config"),
    pytest.param("mig/install-mig-persistence.sh", ["--config", "all-balanced", "--gpus", "0;1"],
                 ["indexes like 0 or 0,1"], id="persistence-gpus-not-a-list"),
    pytest.param("mig/install-mig-persistence.sh",
                 ["--config", "all-balanced", "--config-file", "no/such.yaml"],
                 ["no/such.yaml not found"], id="persistence-config-file-missing"),
    pytest.param("k8s/apply-manifests.sh", ["--model", "H100"], model_names(),
                 id="apply-ambiguous-model"),
    pytest.param("k8s/apply-manifests.sh", ["--model", "foo"], model_names(),
                 id="apply-unknown-model"),
    pytest.param("k8s/apply-manifests.sh", ["--strategy", "foo"], ["none", "single", "mixed"],
                 id="apply-unknown-strategy"),
    pytest.param("k8s/apply-manifests.sh", ["no/such.yaml"], ["'no/such.yaml' does not exist"],
                 id="apply-path-missing"),
    pytest.param("gpu-check.sh", ["--out", "README.md"], ["must be a folder"],
                 id="gpu-check-out-is-a-file"),
    pytest.param("setup_environment.sh", ["--python", "no-such-python"], ["3.10-3.12"],
                 id="setup-python-not-found"),
]


@pytest.mark.parametrize(("script", "args", "named"), WRONG_VALUES)
def test_a_wrong_value_is_bad_usage_naming_the_valid_ones(script, args, named, tmp_path):
    proc = run(script, *args, tmp_path=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.startswith("ERROR: "), proc.stderr
    for value in named:
        assert value in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "usage: python" not in proc.stderr, "no argparse text from a Python helper"
    assert not (tmp_path / "systemd").exists()


# Each option that takes a value, given without one.
MISSING_VALUES = [(script, option) for script, options in [
    ("mig/1-enable-mig.sh", ["--gpu"]),
    ("mig/2-create-mig-instances.sh", ["--gpu", "--profiles", "--config", "--config-file"]),
    ("mig/3-deploy-device-plugin.sh", ["--strategy", "--values"]),
    ("mig/4-deploy-test-pod.sh", ["--strategy", "--manifest", "--model"]),
    ("mig/install-mig-persistence.sh", ["--config", "--gpus", "--config-file"]),
    ("k8s/apply-manifests.sh", ["--model", "--strategy"]),
    ("gpu-check.sh", ["--out"]),
    ("setup_environment.sh", ["--python"]),
] for option in options]


@pytest.mark.parametrize(("script", "option"), MISSING_VALUES,
                         ids=[f"{s.rsplit('/', 1)[-1]}{o}" for s, o in MISSING_VALUES])
def test_an_option_without_its_value_is_bad_usage(script, option, tmp_path):
    proc = run(script, option, tmp_path=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"ERROR: {option} needs ")


def test_die_prints_the_error_before_its_hints():
    """hint() queues; die() writes ERROR first, then the hints that explain it."""
    proc = subprocess.run(
        ["bash", "-c", f'source {ROOT}/scripts/lib.sh; hint "first"; hint "second"; '
                       f'die "$E_BUSY" "the GPU is busy"'],
        capture_output=True, text=True)
    assert proc.returncode == 5
    assert proc.stderr == "ERROR: the GPU is busy\nHINT: first\nHINT: second\n"
