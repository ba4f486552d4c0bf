"""Run a course script or CLI from a notebook and show it as a terminal would.

Labs 02-04 drive the real command-line tools (the scripts in scripts/, nvidia-smi, kubectl).
``run()`` prints the command, then its output, and raises when the exit code is not the one
the lab expects, so a notebook never silently continues past a failed step.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CommandFailed", "Result", "run"]


class CommandFailed(RuntimeError):
    """A command exited with a code the lab did not expect."""

    def _render_traceback_(self) -> list[str]:
        """In a notebook, the message alone: the command's own output says what went wrong,
        and a stack into labkit would only hide it."""
        return [f"{type(self).__name__}: {line}" if i == 0 else line
                for i, line in enumerate(str(self).splitlines())]


class Result(subprocess.CompletedProcess):
    """A finished command; shows nothing when it ends a notebook cell (run() printed it)."""

    def _ipython_display_(self) -> None:
        pass


def _interleaved(events: list[tuple[str, str]]) -> str:
    """stdout and stderr lines in the order they arrived, as a terminal shows them.

    A stderr line that repeats (the simulator's notice, once per call) is shown once, where
    it first appeared, with its count.
    """
    counts: dict[str, int] = {}
    for stream, line in events:
        if stream == "err":
            counts[line] = counts.get(line, 0) + 1
    shown: set[str] = set()
    out = []
    for stream, line in events:
        if stream == "err":
            if line in shown:
                continue
            shown.add(line)
            n = counts[line]
            line = f"{line.rstrip(chr(10))} (x{n})\n" if n > 1 else line
        out.append(line if line.endswith("\n") else line + "\n")
    return "".join(out)


def _capture(argv: list[str], cwd, env: dict[str, str], timeout: float):
    """Run ``argv``; return (exit code, stdout, stderr, lines of both in arrival order)."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    events: list[tuple[str, str]] = []
    parts: dict[str, list[str]] = {"out": [], "err": []}
    lock = threading.Lock()

    def pump(stream, name: str) -> None:
        for line in stream:
            with lock:
                events.append((name, line))
                parts[name].append(line)

    readers = [threading.Thread(target=pump, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "err"), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    finally:
        for reader in readers:
            reader.join()
    return proc.returncode, "".join(parts["out"]), "".join(parts["err"]), events


def run(command: str | Sequence[str], *, expect: int | Sequence[int] = 0,
        cwd: str | Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 300, show: bool = True) -> Result:
    """Run ``command`` (a shell-style string or an argv list); print it and its output.

    ``expect`` is the exit code (or codes) the lab wants: a failure path is taught by
    expecting its documented code. Returns the completed process (``.stdout``, ``.stderr``);
    what it prints interleaves the two as they arrived.
    """
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    codes = (expect,) if isinstance(expect, int) else tuple(expect)
    # Unbuffered Python children write each line as it happens, so the order shown is theirs.
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    code, stdout, stderr, events = _capture(argv, cwd, child_env, timeout)
    proc = Result(argv, code, stdout, stderr)
    if show:
        print("$ " + shlex.join(argv))
        print(_interleaved(events), end="")
        if proc.returncode:
            print(f"[exit code {proc.returncode}]")
    if proc.returncode not in codes:
        raise CommandFailed(f"'{shlex.join(argv)}' exited with {proc.returncode}, expected "
                            f"{' or '.join(map(str, codes))}:\n{proc.stderr.strip()}")
    return proc
