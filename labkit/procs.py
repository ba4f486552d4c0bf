"""Servers the labs start must not outlive the process that started them.

A notebook's kernel that is killed (a papermill or nbgrader time-out, a restart, a closed
browser tab whose kernel is culled) never runs its ``atexit`` handlers, and a server started
in its own session is not in the kernel's process group: it would keep its ports and CPU
forever. On Linux, `die_with_parent` asks the kernel to send SIGTERM to the child when its
parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere it does nothing and ``atexit`` remains
the only guard.
"""

from __future__ import annotations

import ctypes
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """``preexec_fn`` for subprocess.Popen: SIGTERM this child when its parent exits."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
