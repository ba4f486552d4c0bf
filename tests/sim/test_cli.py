"""``labkit sim reset|status|bin|hold|release|reboot``, in-process and through a real shell."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cli import main as labkit_main
from labkit.sim.state import read_node

from .conftest import NOTICE


def labkit(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = labkit_main(["sim", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reset_and_status(capsys):
    code, out, _ = labkit(capsys, "reset", "--gpu", "A100-SXM4-40GB:2", "--gpu", "H100-SXM5-80GB")
    assert code == 0 and out.startswith("simulated node reset: A100-SXM4-40GB:2,H100-SXM5-80GB:1")
    code, out, _ = labkit(capsys, "status")
    assert code == 0 and "SIMULATED GPU node" in out
    assert "GPU 2: NVIDIA H100 80GB HBM3 81559 MiB, MIG Disabled (pending Disabled)" in out


def test_status_shows_instances_and_processes(capsys, smi):
    labkit(capsys, "reset")
    smi("-mig", "1")
    smi("mig", "-cgi", "9,19", "-C")
    labkit(capsys, "hold", "--gpu", "0", "--gi", "1", "--ci", "0", "--name", "train.py")
    code, out, _ = labkit(capsys, "status")
    assert code == 0
    assert "    GI 1 3g.20gb at 4:4: CI 0 3g.20gb" in out
    assert "    process 4100 train.py 512 MiB on GI 1 CI 0" in out
    code, out, _ = labkit(capsys, "status", "--json")
    data = json.loads(out)
    assert [d["profile"] for d in data["mig"]["gpus"][0]["devices"]] == ["3g.20gb", "1g.5gb"]


def test_bin_is_idempotent_and_calls_this_python(capsys, sim_node):
    code, out, _ = labkit(capsys, "bin")
    folder = Path(out.strip())
    assert code == 0 and folder == sim_node.parent / "node.json.bin"
    script = folder / "nvidia-smi"
    first = (script.read_text(), script.stat().st_mtime_ns)
    assert os.access(script, os.X_OK) and sys.executable in first[0]
    assert labkit(capsys, "bin")[1] == out
    assert (script.read_text(), script.stat().st_mtime_ns) == first, "second run: no change"


def test_scripts_find_the_simulator_through_path(sim_node):
    """``PATH="$(labkit sim bin):$PATH" nvidia-smi -L`` in a real shell, as the scripts run it."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    proc = subprocess.run(["bash", "-c", 'PATH="$(labkit sim bin):$PATH"; command -v nvidia-smi; '
                           "nvidia-smi -L; nvidia-smi -i 0 -mig 1 >/dev/null; nvidia-smi -L"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == str(sim_node.parent / "node.json.bin" / "nvidia-smi")
    uuid = read_node()["gpus"][0]["uuid"]
    assert lines[1:] == [f"GPU 0: NVIDIA A100-SXM4-40GB (UUID: {uuid})"] * 2
    notices = proc.stderr.splitlines()
    assert len(notices) == 3 and all(n.startswith(NOTICE) for n in notices)


def test_two_state_files_in_one_folder_get_their_own_wrapper(capsys, sim_node, monkeypatch):
    first = Path(labkit(capsys, "bin")[1].strip())
    other = sim_node.with_name("other.json")
    monkeypatch.setenv("LABKIT_SIM_STATE", str(other))
    second = Path(labkit(capsys, "bin")[1].strip())
    assert first != second and first.parent == second.parent == sim_node.parent
    assert f"LABKIT_SIM_STATE={sim_node}" in (first / "nvidia-smi").read_text()
    assert f"LABKIT_SIM_STATE={other}" in (second / "nvidia-smi").read_text()


def test_reset_gpu_that_contradicts_the_variable_is_refused(capsys, monkeypatch):
    """The variable wins at every later command, so a contradicting reset must not 'succeed'."""
    monkeypatch.setenv("LABKIT_SIM_GPUS", "A100-SXM4-40GB:2")
    assert labkit(capsys, "reset")[0] == 0
    code, out, err = labkit(capsys, "reset", "--gpu", "H100-SXM5-80GB")
    assert code != 0 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("ERROR: --gpu H100-SXM5-80GB:1 differs from "
                          "LABKIT_SIM_GPUS=A100-SXM4-40GB:2")
    assert "export LABKIT_SIM_GPUS=H100-SXM5-80GB:1" in err and "unset LABKIT_SIM_GPUS" in err
    assert read_node()["spec"] == "A100-SXM4-40GB:2", "the node was left as it was"
    # the same GPUs, spelled differently, agree with the variable
    code, out, _ = labkit(capsys, "reset", "--gpu", "a100-sxm4-40gb,A100-SXM4-40GB")
    assert code == 0 and out.startswith("simulated node reset: A100-SXM4-40GB:2")
    monkeypatch.delenv("LABKIT_SIM_GPUS")
    assert labkit(capsys, "reset", "--gpu", "H100-SXM5-80GB")[0] == 0
    assert read_node()["spec"] == "H100-SXM5-80GB:1", "without the variable --gpu decides"


def test_hold_release_reboot_messages(capsys):
    assert labkit(capsys, "hold", "--gpu", "0")[1] == (
        "GPU 0: simulated process 4100 (sim-cuda-app, 512 MiB) holds it; "
        "'labkit sim release --gpu 0' ends it\n")
    assert labkit(capsys, "release", "--gpu", "0")[1] == (
        "GPU 0: ended 1 simulated process(es) (4100)\n")
    assert labkit(capsys, "release", "--gpu", "0")[1] == (
        "GPU 0: no simulated process held it: nothing to do\n")
    code, out, _ = labkit(capsys, "reboot")
    assert code == 0 and re.match(r"simulated node rebooted \(boot 2\)", out)
    assert "  GPU 0 A100-SXM4-40GB: MIG Disabled" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["hold", "--gpu", "4"], "ERROR: GPU 4 not found: the simulated node has GPU(s) 0"),
    (["release", "--gpu", "4"], "ERROR: GPU 4 not found"),
    (["hold", "--gpu", "0", "--gi", "1"], "ERROR: give both --gi and --ci"),
    (["reset", "--gpu", "B300"], "ERROR: --gpu entry 'B300': "),
    (["reset", "--gpu", "A100-SXM4-40GB:x"], "ERROR: --gpu entry 'A100-SXM4-40GB:x': count"),
], ids=["hold-no-gpu", "release-no-gpu", "gi-without-ci", "unknown-model", "bad-count"])
def test_errors_are_one_line_and_non_zero(capsys, argv, message):
    code, out, err = labkit(capsys, *argv)
    assert code != 0 and out == ""
    assert err.startswith(message) and len(err.splitlines()) == 1
