"""The simulated GPU node: a JSON state file that stands in for the hardware.

Only what needs a GPU is simulated (inventory, MIG, nvidia-smi and NVML answers); every
simulated output says so. `labkit.sim.state` keeps the node, `labkit.sim.node` changes it
(MIG mode, held GPUs, reboots), `labkit.sim.nvidia_smi` answers as ``nvidia-smi`` and
`labkit.sim.cli` is ``labkit sim``.
"""

from .node import hold, reboot, release
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
    "hold",
    "parse_spec",
    "read_node",
    "reboot",
    "release",
    "reset_node",
    "state_path",
    "transaction",
]
