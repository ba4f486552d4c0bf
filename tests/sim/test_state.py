import json
import multiprocessing as mp

import pytest

from labkit.sim import state as st


@pytest.mark.parametrize(("spec", "models"), [
    ("A100-SXM4-40GB", ["A100-SXM4-40GB"]),
    ("A100-SXM4-40GB:2", ["A100-SXM4-40GB", "A100-SXM4-40GB"]),
    ("a100-sxm4-40gb:1, H100-SXM5-80GB", ["A100-SXM4-40GB", "H100-SXM5-80GB"]),
], ids=["one", "count", "case-and-list"])
def test_parse_spec(spec, models):
    assert st.parse_spec(spec) == models


@pytest.mark.parametrize(("spec", "message"), [
    ("A100-SXM4-40GB:two", "count 'two' is not a whole number"),
    ("A100-SXM4-40GB:0", "count must be 1 to 16"),
    ("B300:1", "LABKIT_SIM_GPUS entry 'B300:1'"),
    (" , ", "names no GPU"),
], ids=["count-not-number", "count-zero", "unknown-model", "empty"])
def test_parse_spec_errors(spec, message):
    with pytest.raises(st.SimStateError, match=message):
        st.parse_spec(spec)


def test_first_use_creates_a_booted_node(sim_node):
    node = st.read_node()
    assert sim_node.is_file()
    assert node["spec"] == "A100-SXM4-40GB:1"
    assert node["gpus"][0]["mig_current"] is False
    assert json.loads(sim_node.read_text()) == node


def test_transaction_commits_and_rolls_back(sim_node):
    with st.transaction() as node:
        node["gpus"][0]["memory_used_mib"] = 123
    assert st.read_node()["gpus"][0]["memory_used_mib"] == 123
    with pytest.raises(RuntimeError), st.transaction() as node:
        node["gpus"][0]["memory_used_mib"] = 999
        raise RuntimeError("a command failed half way")
    assert st.read_node()["gpus"][0]["memory_used_mib"] == 123, "failed change not saved"


def test_corrupt_state_names_the_file_and_the_fix(sim_node):
    st.read_node()
    sim_node.write_text("{not json")
    with pytest.raises(st.SimStateError, match=r"unreadable .* run 'labkit sim reset'"):
        st.read_node()
    st.reset_node()
    assert st.read_node()["gpus"]


def test_environment_variable_rebuilds_a_different_node(sim_node, monkeypatch):
    with st.transaction() as node:
        node["gpus"][0]["mig_current"] = True
    monkeypatch.setenv("LABKIT_SIM_GPUS", "H100-SXM5-80GB:2")
    node = st.read_node()
    assert node["spec"] == "H100-SXM5-80GB:2" and len(node["gpus"]) == 2
    monkeypatch.setenv("LABKIT_SIM_GPUS", "H100-SXM5-80GB,H100-SXM5-80GB")
    with st.transaction() as node:
        node["gpus"][1]["mig_current"] = True
    assert st.read_node()["gpus"][1]["mig_current"], "same node spelled differently: kept"


def _bump(path: str, times: int) -> None:
    import os
    os.environ["LABKIT_SIM_STATE"] = path
    for _ in range(times):
        with st.transaction() as node:
            node["gpus"][0]["memory_used_mib"] += 1


def test_concurrent_writers_lose_no_update(sim_node):
    st.reset_node()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_bump, args=(str(sim_node), 10)) for _ in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert st.read_node()["gpus"][0]["memory_used_mib"] == 80
    leftovers = [p.name for p in sim_node.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize(("source", "spec", "message"), [
    ("--gpu", "bogus", "--gpu entry 'bogus': "),
    ("LABKIT_SIM_GPUS", "bogus", "LABKIT_SIM_GPUS entry 'bogus': "),
    ("--gpu", ",", "--gpu names no GPU"),
], ids=["flag", "variable", "empty-flag"])
def test_parse_spec_errors_name_their_source(source, spec, message):
    with pytest.raises(st.SimStateError, match=f"^{message}"):
        st.parse_spec(spec, source)
