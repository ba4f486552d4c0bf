"""Run a course script or CLI from a notebook and show it as a terminal would.

Labs 02-04 drive the real command-line tools (the scripts in scripts/, nvidia-smi, kubectl).
``run()`` prints the command, then its output, and raises when the exit code is not the one
the lab expects, so a notebook never silently continues past a failed step.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CommandFailed", "run"]


class CommandFailed(RuntimeError):
    """A command exited with a code the lab did not expect."""


def run(command: str | Sequence[str], *, expect: int | Sequence[int] = 0,
        cwd: str | Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 300, show: bool = True) -> subprocess.CompletedProcess:
    """Run ``command`` (a shell-style string or an argv list); print it and its output.

    ``expect`` is the exit code (or codes) the lab wants: a failure path is taught by
    expecting its documented code. Returns the completed process (``.stdout``, ``.stderr``).
    """
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    codes = (expect,) if isinstance(expect, int) else tuple(expect)
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    if show:
        print("$ " + shlex.join(argv))
        if proc.stdout:
            print(proc.stdout, end="" if proc.stdout.endswith("\n") else "\n")
        if proc.stderr:
            print(proc.stderr, end="" if proc.stderr.endswith("\n") else "\n")
        if proc.returncode:
            print(f"[exit code {proc.returncode}]")
    if proc.returncode not in codes:
        raise CommandFailed(f"'{shlex.join(argv)}' exited with {proc.returncode}, expected "
                            f"{' or '.join(map(str, codes))}:\n{proc.stderr.strip()}")
    return proc
