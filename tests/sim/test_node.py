"""Node semantics: MIG mode changes, held GPUs, reboots on Ampere and Hopper (ref §1.0, §2.1)."""

from __future__ import annotations

import pytest

from labkit.mig import placement
from labkit.mig.state import MigState
from labkit.sim import node as sim_node
from labkit.sim.state import SimStateError, read_node, transaction


def gpu(index: int = 0) -> dict:
    return sim_node.gpu_record(read_node(), index)


def set_mode(enable: bool, index: int = 0) -> str:
    with transaction() as node:
        return sim_node.set_mig_mode(sim_node.gpu_record(node, index), enable).outcome


def create(profiles: list[str], index: int = 0, default_ci: bool = True) -> None:
    with transaction() as node:
        rec = sim_node.gpu_record(node, index)
        state = sim_node.mig_state(rec)
        placement.create_gis(state, profiles, default_ci=default_ci, gpu_index=index)
        sim_node.store_mig(rec, state)


@pytest.mark.parametrize(("spec", "before", "held", "enable", "outcome", "after"), [
    ("A100-SXM4-40GB", (False, False), False, True, "done", (True, True)),
    ("A100-SXM4-40GB", (False, False), True, True, "pending", (False, True)),
    ("A100-SXM4-40GB", (True, True), True, True, "done", (True, True)),
    ("A100-SXM4-40GB", (True, True), False, False, "done", (False, False)),
    ("A100-SXM4-40GB", (True, True), True, False, "busy", (True, True)),
    ("A100-SXM4-40GB", (False, True), True, False, "done", (False, False)),
    ("H100-SXM5-80GB", (False, False), False, True, "done", (True, True)),
    ("H100-SXM5-80GB", (False, False), True, True, "pending", (False, True)),
    ("T4", (False, False), False, True, "not_supported", (False, False)),
], ids=["enable-idle", "enable-held-pending", "enable-again-held", "disable-idle",
        "disable-held-refused", "cancel-pending-held", "hopper-enable", "hopper-held-pending",
        "not-mig-capable"])
def test_mig_mode_changes(node, spec, before, held, enable, outcome, after):
    node(spec)
    with transaction() as state:
        rec = state["gpus"][0]
        rec["mig_current"], rec["mig_pending"] = before
        if before[0]:
            sim_node.store_mig(rec, MigState(rec["model"]))
    if held:
        sim_node.hold(0)
    assert set_mode(enable) == outcome
    rec = gpu()
    assert (rec["mig_current"], rec["mig_pending"]) == after
    assert (rec["mig"] is not None) == after[0], "MIG state exists exactly while MIG is on"


def test_disable_refused_while_gpu_instances_exist(node):
    set_mode(True)
    create(["1g.5gb"], default_ci=False)
    assert set_mode(False) == "busy"
    assert gpu()["mig_current"] is True


# Reboot (ref §1.0 [S10]): instances never survive; MIG mode persists on Ampere (and a pending
# mode takes effect), is lost on Hopper; held processes end.
@pytest.mark.parametrize(("spec", "mode", "after"), [
    ("A100-SXM4-40GB", "enabled", (True, True)),
    ("A100-SXM4-40GB", "pending", (True, True)),
    ("A100-SXM4-40GB", "disabled", (False, False)),
    ("A100-SXM4-80GB", "enabled", (True, True)),
    ("H100-SXM5-80GB", "enabled", (False, False)),
    ("H100-SXM5-80GB", "pending", (False, False)),
    ("H200-141GB", "enabled", (False, False)),
    ("T4", "disabled", (False, False)),
], ids=["ampere-enabled", "ampere-pending", "ampere-disabled", "ampere-80gb", "hopper-enabled",
        "hopper-pending", "h200-enabled", "no-mig"])
def test_reboot(node, spec, mode, after):
    node(spec)
    if mode == "enabled":
        set_mode(True)
        create(["3g.20gb" if spec.startswith("A100-SXM4-40") else "9"])
    if mode == "pending":
        sim_node.hold(0)
        set_mode(True)
    sim_node.hold(0, name="survivor?")
    booted = sim_node.reboot()
    rec = gpu()
    assert (rec["mig_current"], rec["mig_pending"]) == after
    assert rec["processes"] == [], "processes end with the boot"
    state = sim_node.mig_state(rec)
    assert (state is not None) == after[0]
    assert state is None or state.gpu_instances == [], "instances never survive a reboot"
    assert booted["boots"] == 2


def test_hold_and_release(node):
    first = sim_node.hold(0, name="dcgm", memory_mib=100)
    second = sim_node.hold(0)
    assert (first["pid"], second["pid"]) == (4100, 4101)
    assert sim_node.is_held(gpu())
    assert sim_node.memory_used_mib(gpu()) == 612
    gone = sim_node.release(0)
    assert [p["pid"] for p in gone] == [4100, 4101]
    assert not sim_node.is_held(gpu()) and sim_node.release(0) == []


def test_hold_on_a_mig_device_counts_in_its_gpu_instance(node):
    set_mode(True)
    create(["4g.20gb"])
    gi_id = sim_node.mig_state(gpu()).gpu_instances[0].gi_id
    sim_node.hold(0, memory_mib=1000, gi=gi_id, ci=0)
    # idle use of a 4-slice A100 GI is 142 MiB (ref §2.10(a)), plus the process
    assert sim_node.gi_used_mib(gpu(), gi_id) == 1142
    assert sim_node.memory_used_mib(gpu()) == 1142


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"index": 3}, "GPU 3 not found: the simulated node has GPU.s. 0"),
    ({"index": 0, "gi": 1}, "give both --gi and --ci"),
    ({"index": 0, "gi": 1, "ci": 0}, "GPU 0 has no MIG device GI 1 / CI 0"),
    ({"index": 0, "memory_mib": -1}, "--memory -1: expected a size in MiB >= 0"),
], ids=["no-such-gpu", "gi-without-ci", "no-such-mig-device", "negative-memory"])
def test_hold_errors_name_the_problem(node, kwargs, message):
    index = kwargs.pop("index")
    with pytest.raises(SimStateError, match=message):
        sim_node.hold(index, **kwargs)
    assert not sim_node.is_held(gpu()), "nothing was held"


@pytest.mark.parametrize(("model", "slices", "idle", "bar1"), [
    ("A100-SXM4-40GB", 1, 36, 3052), ("A100-SXM4-40GB", 2, 71, 6105),
    ("A100-SXM4-40GB", 4, 142, 12211), ("H100-SXM5-80GB", 4, 44, 24740),
], ids=["a100-1", "a100-2", "a100-4", "h100-4"])
def test_idle_gpu_instance_figures_match_the_captures(node, model, slices, idle, bar1):
    """ref §2.10(a) [S12] and §2.10(d) [S10]: what an idle GI of that size shows."""
    node(model)
    set_mode(True)
    profile = {1: "19", 2: "14", 4: "9"}[slices]
    create([f"{profile}:0"], default_ci=False)
    gi = sim_node.mig_state(gpu()).gpu_instances[0]
    assert sim_node.gi_used_mib(gpu(), gi.gi_id) == idle
    assert sim_node.bar1_total_mib(model, gi.size) == bar1


def test_mig_uuid_is_stable_and_distinct():
    a = sim_node.mig_uuid("GPU-1", 2, 0)
    assert a == sim_node.mig_uuid("GPU-1", 2, 0)
    assert len({a, sim_node.mig_uuid("GPU-1", 2, 1), sim_node.mig_uuid("GPU-2", 2, 0)}) == 3
    assert a.startswith("MIG-") and len(a) == 40
