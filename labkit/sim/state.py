"""State of the simulated node: one JSON file, written atomically under a lock.

Labs 00 and 02. Every command that changes the node (``labkit sim``, the simulated
``nvidia-smi``) runs inside `transaction()`: an exclusive ``flock`` on a lock file beside
the state, a read, the change, then a write to a temporary file and an ``os.replace``. A
reader therefore never sees half a file, and concurrent writers queue instead of racing.

The node's GPUs come from ``LABKIT_SIM_GPUS`` (``MODEL[:COUNT],...``, default one
A100-SXM4-40GB). When that variable names a different node than the state file holds, the
node is rebuilt from it: the variable is the student's statement of which node they want.
So while it is set, it wins: `reset_node` refuses a different spec (``labkit sim reset
--gpu``) instead of writing a node the next command would silently replace.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from labkit.mig.catalog import get_model

from . import history

__all__ = [
    "SIM_DRIVER_VERSION",
    "SIM_CUDA_VERSION",
    "DEFAULT_SPEC",
    "SimStateError",
    "state_path",
    "parse_spec",
    "new_node",
    "read_node",
    "reset_node",
    "transaction",
]

# The driver the simulator imitates: the R580 captures in shared/reference/mig.md §2.2.
SIM_DRIVER_VERSION = "580.126.09"
SIM_CUDA_VERSION = "13.0"
DEFAULT_SPEC = "A100-SXM4-40GB:1"
STATE_VERSION = 1
_UUID_NAMESPACE = uuid.UUID("6f1c1d0e-7b8a-4f35-9a43-5c0d2b1e9a10")


class SimStateError(RuntimeError):
    """The simulator's state or its GPU spec is unusable; the message says how to fix it."""


def state_path() -> Path:
    """``LABKIT_SIM_STATE`` or ``$XDG_CACHE_HOME/labkit/sim-node.json``."""
    env = os.environ.get("LABKIT_SIM_STATE")
    if env:
        return Path(env)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "labkit" / "sim-node.json"


def parse_spec(spec: str, source: str = "LABKIT_SIM_GPUS") -> list[str]:
    """Expand ``"A100-SXM4-40GB:2,H100-SXM5-80GB"`` into canonical model names, one per GPU.

    ``source`` names where the spec came from in error messages (``--gpu`` for the CLI).
    """
    models: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, _, count = part.partition(":")
        try:
            n = int(count) if count else 1
        except ValueError:
            raise SimStateError(
                f"{source} entry '{part}': count '{count}' is not a whole number "
                "(expected MODEL[:COUNT], e.g. A100-SXM4-40GB:2)") from None
        if not 1 <= n <= 16:
            raise SimStateError(f"{source} entry '{part}': count must be 1 to 16")
        try:
            canonical = get_model(name).name
        except ValueError as exc:
            raise SimStateError(f"{source} entry '{part}': {exc}") from None
        models.extend([canonical] * n)
    if not models:
        raise SimStateError(f"{source} names no GPU (expected MODEL[:COUNT],...)")
    return models


def _canonical_spec(models: list[str]) -> str:
    out: list[str] = []
    for name in models:
        if out and out[-1].rsplit(":", 1)[0] == name:
            base, n = out[-1].rsplit(":", 1)
            out[-1] = f"{base}:{int(n) + 1}"
        else:
            out.append(f"{name}:1")
    return ",".join(out)


def new_node(spec: str | None = None, source: str = "LABKIT_SIM_GPUS") -> dict:
    """A freshly booted node: MIG disabled everywhere, no instances, no processes."""
    if not spec:
        spec, source = os.environ.get("LABKIT_SIM_GPUS") or DEFAULT_SPEC, "LABKIT_SIM_GPUS"
    models = parse_spec(spec, source)
    canonical = _canonical_spec(models)
    gpus = []
    for index, name in enumerate(models):
        model = get_model(name)
        gpus.append({
            "index": index,
            "model": model.name,
            "uuid": f"GPU-{uuid.uuid5(_UUID_NAMESPACE, f'{canonical}/{index}')}",
            "bus_id": f"00000000:{0x10 + index * 0x10:02X}:00.0",
            "memory_used_mib": 0,
            # MIG mode is a persistent setting on Ampere, lost on Hopper (labkit sim reboot).
            "mig_current": False,
            "mig_pending": False,
            "mig": None,  # labkit.mig placement state once MIG is enabled
            # simulated processes (labkit sim hold): {"pid", "name", "type", "used_memory_mib",
            # "gi", "ci"}; gi/ci None for the whole GPU. labkit.sim.node keeps them.
            "processes": [],
        })
    return {"version": STATE_VERSION, "spec": canonical, "driver_version": SIM_DRIVER_VERSION,
            "cuda_version": SIM_CUDA_VERSION, "boots": 1, "gpus": gpus}


def _load(path: Path) -> dict | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        node = json.loads(text)
        if node.get("version") != STATE_VERSION or not isinstance(node.get("gpus"), list):
            raise ValueError("unknown layout")
    except (ValueError, AttributeError) as exc:
        raise SimStateError(
            f"the simulator state {path} is unreadable ({exc}); "
            "run 'labkit sim reset' to start a fresh simulated node") from None
    return node


def _wanted_spec() -> str | None:
    env = os.environ.get("LABKIT_SIM_GPUS")
    return _canonical_spec(parse_spec(env)) if env else None


def _write(path: Path, node: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sim-node.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(node, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def transaction(path: Path | None = None) -> Iterator[dict]:
    """Lock the node, yield its state for changes, and save it atomically on success.

    An exception inside the block leaves the saved state untouched.
    """
    path = path or state_path()
    with _locked(path):
        node = _load(path)
        wanted = _wanted_spec()
        if node is None or (wanted and wanted != node.get("spec")):
            old, node = node, new_node(wanted)
            history.begin(node, old, "boot" if old is None else
                          f"node rebuilt from LABKIT_SIM_GPUS={os.environ.get('LABKIT_SIM_GPUS')}")
        yield node
        _write(path, node)


def read_node(path: Path | None = None) -> dict:
    """The node as it is now (created on first use)."""
    with transaction(path) as node:
        return json.loads(json.dumps(node))


def reset_node(spec: str | None = None, path: Path | None = None,
               source: str = "spec") -> dict:
    """Replace the node with a freshly booted one built from ``spec``.

    Without ``spec`` the node comes from ``LABKIT_SIM_GPUS`` (or the default). A ``spec``
    that differs from a set ``LABKIT_SIM_GPUS`` is refused: every later command would rebuild
    the node from the variable and undo the reset. ``source`` names ``spec`` in errors.
    """
    path = path or state_path()
    node = new_node(spec, source)
    wanted = _wanted_spec()
    if spec and wanted and wanted != node["spec"]:
        raise SimStateError(
            f"{source} {node['spec']} differs from "
            f"LABKIT_SIM_GPUS={os.environ['LABKIT_SIM_GPUS']}, "
            "which every later command would rebuild the node from; change the variable "
            f"instead (export LABKIT_SIM_GPUS={node['spec']}; labkit sim reset) or unset it "
            "(unset LABKIT_SIM_GPUS)")
    with _locked(path):
        try:
            old = _load(path)
        except SimStateError:
            old = None
        history.begin(node, old, "labkit sim reset")
        _write(path, node)
    return node
