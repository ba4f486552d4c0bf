"""The simulated GPU node: a JSON state file that stands in for the hardware.

Only what needs a GPU is simulated (inventory, MIG, nvidia-smi and NVML answers); every
simulated output says so. See `labkit.sim.state`.
"""

from .state import (
    SIM_CUDA_VERSION,
    SIM_DRIVER_VERSION,
    SimStateError,
    parse_spec,
    read_node,
    reset_node,
    state_path,
    transaction,
)

__all__ = [
    "SIM_CUDA_VERSION",
    "SIM_DRIVER_VERSION",
    "SimStateError",
    "parse_spec",
    "read_node",
    "reset_node",
    "state_path",
    "transaction",
]
