"""The command log (the course's grading aid): tool commands chain, outside writes show."""

from __future__ import annotations

from labkit.mig import placement
from labkit.sim import history
from labkit.sim import node as sim_node
from labkit.sim.state import read_node, reset_node, transaction


def commands(since: int = 0) -> list[str]:
    return [e["command"] for e in read_node()["history"] if e["seq"] > since]


def test_tool_commands_are_logged_and_chain(node, smi):
    assert smi("-i", "0", "-mig", "1").code == 0
    assert smi("mig", "-i", "0", "-cgi", "9,19", "-C").code == 0
    assert smi("mig", "-i", "0", "-lgi").code == 0          # read-only: not logged
    assert smi("mig", "-i", "0", "-cgi", "3g.20gb").code != 0  # refused: logged with its code
    sim_node.reboot()
    log = read_node()["history"]
    assert [e["command"] for e in log] == [
        "labkit sim reset", "nvidia-smi -i 0 -mig 1", "nvidia-smi mig -i 0 -cgi 9,19 -C",
        "nvidia-smi mig -i 0 -cgi 3g.20gb", "labkit sim reboot"]
    assert log[3]["exit"] != 0
    assert history.unlogged_changes(read_node()) == []


def test_a_layout_written_from_python_is_not_logged(node, smi):
    smi("-i", "0", "-mig", "1")
    since = history.mark(read_node())
    with transaction() as state:  # what an exercise's check must not accept
        rec = state["gpus"][0]
        mig = sim_node.mig_state(rec)
        placement.create_gi(mig, "3g.20gb", default_ci=True)
        sim_node.store_mig(rec, mig)
    problems = history.unlogged_changes(read_node(), since)
    assert len(problems) == 1 and "after `nvidia-smi -i 0 -mig 1`" in problems[0]
    # ... and a tool command run afterwards does not hide it
    assert smi("mig", "-i", "0", "-cgi", "1g.5gb", "-C").code == 0
    problems = history.unlogged_changes(read_node(), since)
    assert len(problems) == 1 and "between `nvidia-smi -i 0 -mig 1` and `nvidia-smi mig" in \
        problems[0]


def test_a_reset_keeps_the_log_and_starts_a_new_chain(node, smi):
    smi("-i", "0", "-mig", "1")
    since = history.mark(read_node())
    reset_node()
    smi("-i", "0", "-mig", "1")
    assert commands(since) == ["labkit sim reset", "nvidia-smi -i 0 -mig 1"]
    assert history.unlogged_changes(read_node(), since) == []


def test_the_log_is_bounded(node, smi):
    for _ in range(history.LOG_LIMIT + 5):
        smi("-i", "0", "-mig", "1")
    node_now = read_node()
    assert len(node_now["history"]) == history.LOG_LIMIT
    assert node_now["history_seq"] == history.LOG_LIMIT + 6
