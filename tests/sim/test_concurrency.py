"""100 concurrent simulator commands leave a valid state (issue 3, "Done means")."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest

from labkit.mig.state import MigState
from labkit.sim import node as sim_node
from labkit.sim.state import read_node, reset_node

pytestmark = pytest.mark.slow

COMMANDS = (
    [["mig", "-cgi", "19", "-C"]] * 30 + [["mig", "-cgi", "14"]] * 20 + [["mig", "-dci"]] * 25
    + [["mig", "-dgi"]] * 15 + [["mig", "-lgi"]] * 5 + [["-L"]] * 5
)


def test_100_concurrent_commands_leave_a_valid_state():
    assert len(COMMANDS) == 100
    reset_node("A100-SXM4-40GB")
    env = dict(os.environ)
    subprocess.run([sys.executable, "-m", "labkit.sim.nvidia_smi", "-mig", "1"], env=env,
                   check=True, capture_output=True, timeout=60)
    order = COMMANDS[:]
    random.Random(3).shuffle(order)
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "labkit.sim.nvidia_smi", *argv], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for argv in order]
    results = [(argv, *p.communicate(timeout=120), p.returncode) for argv, p in zip(order, procs,
                                                                                    strict=True)]
    elapsed = time.monotonic() - start
    assert elapsed < 120, f"100 commands took {elapsed:.0f} s"

    counts = dict.fromkeys(("gi+", "gi-", "ci+", "ci-"), 0)
    for argv, out, err, code in results:
        assert len(err.splitlines()) == 1 and err.startswith("[labkit sim]"), (argv, err)
        assert code in (0, 6, 255), (argv, code, out)
        counts["gi+"] += out.count("Successfully created GPU instance")
        counts["gi-"] += out.count("Successfully destroyed GPU instance")
        counts["ci+"] += out.count("Successfully created compute instance")
        counts["ci-"] += out.count("Successfully destroyed compute instance")

    rec = read_node()["gpus"][0]  # parses: the file was never half written
    state = MigState.from_dict(rec["mig"])  # from_dict runs MigState.check()
    state.check()
    cis = sum(len(gi.compute_instances) for gi in state.gpu_instances)
    assert len(state.gpu_instances) == counts["gi+"] - counts["gi-"], counts
    assert cis == counts["ci+"] - counts["ci-"], counts
    assert counts["gi+"] > 0 and counts["gi-"] > 0, "both kinds of change happened"
    assert sim_node.mig_state(rec) is not None
    leftovers = [p for p in os.listdir(os.path.dirname(os.environ["LABKIT_SIM_STATE"]))
                 if p.endswith(".tmp")]
    assert leftovers == []
