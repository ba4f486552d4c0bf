"""Sim-mode backend: the same `Environment` model, read from the simulated node.

GPU facts (names, memory, MIG capability) come from the one catalog, `labkit.mig.catalog`;
memory in use comes from `labkit.sim.node` (idle MIG instances plus held processes).
"""

from __future__ import annotations

from labkit.mig.catalog import get_model
from labkit.sim.node import memory_used_mib
from labkit.sim.state import read_node, state_path

from .model import Environment, Gpu

__all__ = ["environment_from_node", "sim_environment"]


def _on_off(flag: bool) -> str:
    return "Enabled" if flag else "Disabled"


def environment_from_node(node: dict, source: str = "") -> Environment:
    """The `Environment` of one node dict (as `labkit.sim.state.transaction()` yields it)."""
    gpus = []
    for rec in node["gpus"]:
        model = get_model(rec["model"])
        gpus.append(Gpu(
            index=rec["index"],
            name=model.product_name,
            uuid=rec["uuid"],
            memory_total_mib=model.memory_mib,
            memory_used_mib=memory_used_mib(rec),
            mig_capable=model.mig_capable,
            mig_mode=_on_off(rec["mig_current"]) if model.mig_capable else "N/A",
            mig_pending=_on_off(rec["mig_pending"]) if model.mig_capable else "N/A",
            # nvidia-smi shows N/A for utilisation with MIG on; an idle simulated GPU shows 0.
            utilization_gpu=None if rec["mig_current"] else 0,
            simulated=True,
            bus_id=rec["bus_id"],
        ))
    return Environment(mode="sim", gpus=tuple(gpus), driver_version=node["driver_version"],
                       cuda_version=node["cuda_version"], source=source or str(state_path()))


def sim_environment() -> Environment:
    """The simulated node's inventory (created on first use from ``LABKIT_SIM_GPUS``)."""
    return environment_from_node(read_node(), str(state_path()))
