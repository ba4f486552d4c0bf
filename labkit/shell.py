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

__all__ = ["CommandFailed", "Result", "run"]


class CommandFailed(RuntimeError):
    """A command exited with a code the lab did not expect."""


class Result(subprocess.CompletedProcess):
    """A finished command; shows nothing when it ends a notebook cell (run() printed it)."""

    def _ipython_display_(self) -> None:
        pass


def _collapse(text: str) -> str:
    """Repeated identical lines (the simulator's notice, once per call) shown once, counted."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        counts[line] = counts.get(line, 0) + 1
    return "".join(f"{line} (x{n})\n" if n > 1 else f"{line}\n" for line, n in counts.items())


def run(command: str | Sequence[str], *, expect: int | Sequence[int] = 0,
        cwd: str | Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 300, show: bool = True) -> Result:
    """Run ``command`` (a shell-style string or an argv list); print it and its output.

    ``expect`` is the exit code (or codes) the lab wants: a failure path is taught by
    expecting its documented code. Returns the completed process (``.stdout``, ``.stderr``).
    """
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    codes = (expect,) if isinstance(expect, int) else tuple(expect)
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    proc = Result(done.args, done.returncode, done.stdout, done.stderr)
    if show:
        print("$ " + shlex.join(argv))
        if proc.stdout:
            print(proc.stdout, end="" if proc.stdout.endswith("\n") else "\n")
        if proc.stderr:
            print(_collapse(proc.stderr), end="")
        if proc.returncode:
            print(f"[exit code {proc.returncode}]")
    if proc.returncode not in codes:
        raise CommandFailed(f"'{shlex.join(argv)}' exited with {proc.returncode}, expected "
                            f"{' or '.join(map(str, codes))}:\n{proc.stderr.strip()}")
    return proc
