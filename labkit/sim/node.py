"""What happens to the simulated node: MIG mode changes, held GPUs, reboots.

Lab 02. ``set_mig_mode`` and ``reboot_node`` change a node dict that `transaction()` yielded;
``hold``, ``release`` and ``reboot`` open the transaction themselves (they are
``labkit sim hold|release|reboot``). The rules, from shared/reference/mig.md:

- ``nvidia-smi -mig 1`` on an idle GPU takes effect at once; on a GPU that a process holds it
  stays *pending* ("In use by another client", §2.1(d)) until a reboot or a retry once idle
  (the guide's fix: stop the clients, run ``-mig 1`` again).
- ``-mig 0`` is refused while a process holds the GPU (§2.1(f)) and, DERIVED (no capture), while
  GPU instances exist: NVML cannot drop a mode that instances still use; mig-parted and the
  course scripts destroy them first.
- Reboot (§1.0 [S10]): instances never survive; the MIG mode persists on Ampere (InfoROM bit)
  and a pending mode takes effect there; on Hopper the mode is lost (Disabled after boot).
  Processes end with the boot.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass

from labkit.mig.catalog import get_model
from labkit.mig.state import MigState

from . import history
from .state import SimStateError, transaction

__all__ = [
    "MigModeChange",
    "bar1_total_mib",
    "gi_used_mib",
    "gpu_record",
    "hold",
    "is_held",
    "memory_used_mib",
    "mig_device_list",
    "mig_persists",
    "mig_state",
    "mig_uuid",
    "reboot",
    "reboot_node",
    "release",
    "set_mig_mode",
    "store_mig",
]

_MIG_NAMESPACE = uuid.UUID("0b7d6c52-3f0e-5a8e-9c1d-2e4f6a8b0c13")
_FIRST_PID = 4100  # simulated PIDs count up from here (any number would do)

# Memory a GPU instance uses with nothing running, MiB per memory slice. DERIVED from real
# MIG device tables: Ampere from driver 580 on an A100-40GB (§2.10(a) [S12]: 36/71/142 MiB for
# 1/2/4-slice GIs, i.e. 35.5 per slice rounded half up; their sum 249 MiB is the GPU row,
# §2.2); Hopper from the guide's H100 on driver 580.65.06 (§2.10(d) [S10]: 44 MiB, 4 slices).
_GI_IDLE_MIB_PER_SLICE = {"Ampere": 35.5, "Hopper": 11.0}
# BAR1 space of a GPU instance, MiB per memory slice. DERIVED the same way: A100-40GB
# 3052/6105/12211 (§2.10(a)) = floor(3052.75 x slices); H100 24740 for 4 slices (§2.10(d)).
_GI_BAR1_MIB_PER_SLICE = {"Ampere": 3052.75, "Hopper": 6185.0}


@dataclass(frozen=True)
class MigModeChange:
    """Outcome of ``-mig 0|1`` on one GPU: ``done``, ``pending``, ``busy``, ``not_supported``."""

    outcome: str
    bus_id: str


def gpu_record(node: dict, index: int) -> dict:
    """The state record of GPU ``index``; SimStateError names the GPUs the node has."""
    for rec in node["gpus"]:
        if rec["index"] == index:
            return rec
    raise SimStateError(f"GPU {index} not found: the simulated node has GPU(s) "
                        f"{', '.join(str(g['index']) for g in node['gpus'])} "
                        "(list them with: nvidia-smi -L)")


def mig_state(rec: dict) -> MigState | None:
    """The GPU's MIG configuration, or None while MIG is disabled (current mode)."""
    return MigState.from_dict(rec["mig"]) if rec.get("mig") is not None else None


def store_mig(rec: dict, state: MigState | None) -> None:
    rec["mig"] = None if state is None else state.to_dict()


def mig_uuid(gpu_uuid: str, gi_id: int, ci_id: int) -> str:
    """A stable MIG device UUID: the same GPU, GI and CI always give the same one.

    Real ones look like ``MIG-c42101f0-a1fa-5b68-...`` (a version-5 UUID, §2.9(c)); the
    simulator makes a version-5 UUID from the GPU UUID and the IDs.
    """
    return f"MIG-{uuid.uuid5(_MIG_NAMESPACE, f'{gpu_uuid}/{gi_id}/{ci_id}')}"


def mig_device_list(rec: dict) -> list[tuple[int, int, str, str]]:
    """``(gi_id, ci_id, profile, uuid)`` per MIG device of a GPU record, in device order.

    Order DERIVED from the driver-580 captures (§2.9(c), §2.10(a) [S12]): GI ID, then CI ID.
    """
    state = mig_state(rec) if rec["mig_current"] else None
    if state is None:
        return []
    return [(gi.gi_id, ci.ci_id, ci.profile, mig_uuid(rec["uuid"], gi.gi_id, ci.ci_id))
            for gi in sorted(state.gpu_instances, key=lambda g: g.gi_id)
            for ci in sorted(gi.compute_instances, key=lambda c: c.ci_id)]


def is_held(rec: dict) -> bool:
    """True while a (simulated) process uses the GPU."""
    return bool(rec.get("processes"))


def mig_persists(model: str) -> bool:
    """MIG mode survives a reboot on Ampere, not on Hopper and later (§1.0 [S10])."""
    return get_model(model).architecture == "Ampere"


def _per_slice(table: dict[str, float], model: str) -> float:
    arch = get_model(model).architecture
    return table.get(arch, table["Hopper"])  # later architectures: the newest known rule


def gi_used_mib(rec: dict, gi_id: int) -> int:
    """Memory in use inside one GPU instance: its idle use plus the processes in it (MiB)."""
    state = mig_state(rec)
    gi = state.find_gi(gi_id) if state else None
    if gi is None:
        return 0
    idle = math.floor(_per_slice(_GI_IDLE_MIB_PER_SLICE, rec["model"]) * gi.size + 0.5)
    return idle + sum(p["used_memory_mib"] for p in rec.get("processes", [])
                      if p.get("gi") == gi_id)


def bar1_total_mib(model: str, memory_slices: int) -> int:
    """BAR1 space of a GPU instance of ``memory_slices`` slices (MiB, DERIVED, see above)."""
    return math.floor(_per_slice(_GI_BAR1_MIB_PER_SLICE, model) * memory_slices)


def memory_used_mib(rec: dict) -> int:
    """The GPU row's Memory-Usage: every GI's use (MIG on) plus the processes (MiB)."""
    used = rec.get("memory_used_mib", 0)
    state = mig_state(rec)
    if state is not None:
        return used + sum(gi_used_mib(rec, gi.gi_id) for gi in state.gpu_instances) + sum(
            p["used_memory_mib"] for p in rec.get("processes", []) if p.get("gi") is None)
    return used + sum(p["used_memory_mib"] for p in rec.get("processes", []))


def set_mig_mode(rec: dict, enable: bool) -> MigModeChange:
    """``nvidia-smi -i N -mig 0|1`` on one GPU record (see the module docstring for the rules)."""
    bus = rec["bus_id"]
    if not get_model(rec["model"]).mig_capable:
        return MigModeChange("not_supported", bus)
    if enable:
        if rec["mig_current"]:
            rec["mig_pending"] = True
            return MigModeChange("done", bus)
        rec["mig_pending"] = True
        if is_held(rec):
            return MigModeChange("pending", bus)
        rec["mig_current"] = True
        store_mig(rec, MigState(rec["model"]))
        return MigModeChange("done", bus)
    if rec["mig_current"]:
        state = mig_state(rec)
        if is_held(rec) or (state is not None and state.gpu_instances):
            return MigModeChange("busy", bus)
        rec["mig_current"] = False
        store_mig(rec, None)
    rec["mig_pending"] = False
    return MigModeChange("done", bus)


def reboot_node(node: dict) -> None:
    """Boot the node again: instances and processes vanish; MIG mode per architecture."""
    for rec in node["gpus"]:
        rec["processes"] = []
        persists = mig_persists(rec["model"]) and get_model(rec["model"]).mig_capable
        rec["mig_current"] = rec["mig_pending"] = bool(persists and rec["mig_pending"])
        store_mig(rec, MigState(rec["model"]) if rec["mig_current"] else None)
    node["boots"] = node.get("boots", 1) + 1


def reboot() -> dict:
    """``labkit sim reboot``: reboot the simulated node; returns the node after the boot."""
    with transaction() as node:
        before = history.layout_digest(node)
        reboot_node(node)
        history.record(node, "labkit sim reboot", before)
        return _copy(node)


def hold(index: int, *, name: str = "sim-cuda-app", memory_mib: int = 512,
         gi: int | None = None, ci: int | None = None) -> dict:
    """``labkit sim hold --gpu N``: start a simulated process on GPU ``index`` (or a MIG device).

    It shows in nvidia-smi's Processes table and ``--query-compute-apps``, and makes MIG mode
    changes wait ("In use by another client", §2.1(d)/(f)). Returns the process record.
    """
    if memory_mib < 0:
        raise SimStateError(f"--memory {memory_mib}: expected a size in MiB >= 0")
    with transaction() as node:
        rec = gpu_record(node, index)
        if (gi is None) != (ci is None):
            raise SimStateError("give both --gi and --ci to run the process on a MIG device")
        if gi is not None:
            state = mig_state(rec)
            inst = state.find_gi(gi) if state else None
            if inst is None or all(c.ci_id != ci for c in inst.compute_instances):
                raise SimStateError(f"GPU {index} has no MIG device GI {gi} / CI {ci} "
                                    "(list them with: nvidia-smi mig -lci)")
        pid = node.get("next_pid", _FIRST_PID)
        node["next_pid"] = pid + 1
        proc = {"pid": pid, "name": name, "type": "C", "used_memory_mib": int(memory_mib),
                "gi": gi, "ci": ci}
        rec.setdefault("processes", []).append(proc)
        return dict(proc)


def release(index: int) -> list[dict]:
    """``labkit sim release --gpu N``: end every simulated process on GPU ``index``."""
    with transaction() as node:
        rec = gpu_record(node, index)
        gone, rec["processes"] = rec.get("processes", []), []
        return gone


def _copy(node: dict) -> dict:
    return json.loads(json.dumps(node))
