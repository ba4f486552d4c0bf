"""labkit: the library under the NCP-AI Infrastructure Labs notebooks.

Notebooks import it once (``import labkit as lk``) and call ``lk.start(MODE, QUICK, SEED)``
in their setup cell. Topic packages: `labkit.hw` (real | sim detection), `labkit.sim`
(the simulated node), `labkit.mig`, `labkit.checks`, `labkit.course`, `labkit.pipeline`.
"""

from .hw import Environment, Gpu, HardwareError, detect
from .session import Lab, start

__version__ = "0.1.0"

__all__ = ["Environment", "Gpu", "HardwareError", "Lab", "detect", "start", "__version__"]
