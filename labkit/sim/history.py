"""The simulated node's command log: this course's grading aid for operated exercises.

Lab 02. A real ``nvidia-smi`` keeps no such log. The simulator appends one entry to the state
file for every command that may change the node's MIG layout (``nvidia-smi -mig``,
``nvidia-smi mig -cgi|-dgi|-cci|-dci``, ``labkit sim reset|reboot``), with a digest of the
layout before and after it. An operated exercise's check can then tell a layout reached by
running the tools (the course scripts call ``nvidia-smi``) from one written into the state
file some other way: the digests chain from one command to the next unless something else
changed the node in between. killer.sh's checks read a cluster the same way, after the fact.

Entries are numbered across resets (``history_seq``); the log keeps the last `LOG_LIMIT`.
"""

from __future__ import annotations

import hashlib
import json

__all__ = ["LOG_LIMIT", "begin", "layout_digest", "mark", "record", "unlogged_changes"]

LOG_LIMIT = 400


def layout_digest(node: dict) -> str:
    """A short digest of every GPU's MIG mode and instances (what the log chains on)."""
    layout = [[rec["index"], rec.get("mig_current"), rec.get("mig")] for rec in node["gpus"]]
    return hashlib.sha256(json.dumps(layout, sort_keys=True).encode()).hexdigest()[:16]


def record(node: dict, command: str, before: str | None, code: int = 0) -> None:
    """Append ``command`` (exit ``code``) to the log; ``before`` None starts a new chain."""
    seq = node.get("history_seq", 0) + 1
    node["history_seq"] = seq
    log = node.setdefault("history", [])
    log.append({"seq": seq, "command": command, "exit": code, "before": before,
                "after": layout_digest(node)})
    del log[:-LOG_LIMIT]


def begin(node: dict, old: dict | None, command: str) -> None:
    """Carry ``old``'s log into the freshly built ``node`` and log its boot."""
    if old is not None:
        node["history"] = list(old.get("history", []))
        node["history_seq"] = old.get("history_seq", 0)
    record(node, command, None)


def mark(node: dict) -> int:
    """The number of the last logged command: what `unlogged_changes` counts from."""
    return node.get("history_seq", 0)


def unlogged_changes(node: dict, since: int = 0) -> list[str]:
    """Where the layout changed with no logged command, from entry ``since`` on (empty: none).

    Each entry's ``before`` must equal the previous entry's ``after`` (a reset or boot starts
    a new chain), and the last entry's ``after`` the layout now.
    """
    entries = [e for e in node.get("history", []) if e["seq"] >= since]
    problems = []
    for prev, entry in zip(entries, entries[1:], strict=False):
        if entry["before"] is not None and entry["before"] != prev["after"]:
            problems.append(f"the MIG layout changed between `{prev['command']}` and "
                            f"`{entry['command']}` without a logged command")
    if not entries:
        problems.append("no command of the simulated node is logged since the exercise began")
    elif entries[-1]["after"] != layout_digest(node):
        problems.append(f"the MIG layout changed after `{entries[-1]['command']}` without a "
                        "logged command")
    return problems
