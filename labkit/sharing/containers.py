"""Which GPUs a container process sees: --gpus, NVIDIA_VISIBLE_DEVICES, CUDA_VISIBLE_DEVICES.

Lab 03: containers. A model of the documented rules, applied in the order they act:

1. the container runtime selects host GPUs and renumbers them from 0 inside the container:
   ``docker run --gpus all | N | '"device=0,2"'`` (Docker >= 19.03), or the
   ``NVIDIA_VISIBLE_DEVICES`` variable read by the NVIDIA Container Toolkit;
2. CUDA inside the container then filters and reorders with ``CUDA_VISIBLE_DEVICES``.

Sources: NVIDIA Container Toolkit, *Specialized Configurations with Docker*, "GPU Enumeration"
(https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/1.20.2/docker-specialized.html):
``0,1,2`` or ``GPU-<uuid>`` list; ``all``; ``none`` ("No GPU is accessible, but driver
capabilities are enabled"); ``void`` or empty or unset (behaves like runc: no GPU, no driver).
``--gpus N`` selects devices ``0 .. N-1`` (moby ``daemon/nvidia_linux.go``, ``countToDevices``).
CUDA Programming Guide §5.2.1.1 ``CUDA_VISIBLE_DEVICES``
(https://docs.nvidia.com/cuda/cuda-programming-guide/05-appendices/environment-variables.html):
unset = all devices; empty = none; indices or (abbreviated) UUIDs, enumerated in the given
order; at an invalid entry the list stops ("0,2,-1,1" -> devices 0 and 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ContainerView", "container_gpus", "cuda_devices"]


@dataclass(frozen=True)
class ContainerView:
    """The host GPUs (UUIDs) inside a container, in container index order."""

    devices: tuple[str, ...]
    driver: bool  # driver libraries and nvidia-smi mounted ("none" keeps them, "void" does not)


def _select(host: Sequence[str], entries: list[str], where: str) -> tuple[str, ...]:
    chosen = []
    for entry in entries:
        if entry.isdigit() and int(entry) < len(host):
            chosen.append(host[int(entry)])
        elif entry in host:
            chosen.append(entry)
        else:
            raise ValueError(f"{where}: '{entry}' is not a GPU of this host (indices "
                             f"0-{len(host) - 1} or full UUIDs); the container would not start")
    return tuple(chosen)


def container_gpus(host: Sequence[str], *, gpus: str | int | None = None,
                   nvidia_visible_devices: str | None = None) -> ContainerView:
    """The GPUs a container gets from ``--gpus`` (if given) or ``NVIDIA_VISIBLE_DEVICES``.

    ``host`` lists the host's GPU UUIDs in ``nvidia-smi`` index order.
    ``container_gpus(["GPU-a", "GPU-b", "GPU-c"], gpus='"device=2,0"')`` -> ``("GPU-c", "GPU-a")``.
    """
    if gpus is not None:
        text = str(gpus).strip().strip("'").strip('"')
        if text == "all":
            return ContainerView(tuple(host), True)
        if text.isdigit():
            count = int(text)
            if count > len(host):
                raise ValueError(f"--gpus {count}: the host has only {len(host)} GPU(s)")
            return ContainerView(tuple(host[:count]), True)
        if text.startswith("device="):
            entries = [e.strip() for e in text.removeprefix("device=").split(",") if e.strip()]
            return ContainerView(_select(host, entries, "--gpus device"), True)
        raise ValueError(f"--gpus '{gpus}': expected all, a count, or device=<ids>")
    value = (nvidia_visible_devices or "").strip()
    if value in ("", "void"):
        return ContainerView((), False)
    if value == "none":
        return ContainerView((), True)
    if value == "all":
        return ContainerView(tuple(host), True)
    entries = [e.strip() for e in value.split(",") if e.strip()]
    return ContainerView(_select(host, entries, "NVIDIA_VISIBLE_DEVICES"), True)


def cuda_devices(visible: Sequence[str], cuda_visible_devices: str | None = None) -> list[str]:
    """The devices CUDA enumerates (as ``cuda:0, cuda:1, ...``) given ``CUDA_VISIBLE_DEVICES``.

    ``visible`` is what the process could see without the variable (a container's devices).
    Repeated entries are not documented by NVIDIA and are not modelled.
    """
    if cuda_visible_devices is None:
        return list(visible)
    chosen: list[str] = []
    for entry in cuda_visible_devices.split(","):
        entry = entry.strip()
        if entry.lstrip("-").isdigit():
            index = int(entry)
            if not 0 <= index < len(visible):
                break
            chosen.append(visible[index])
            continue
        matches = [d for d in visible if entry and d.startswith(entry)]
        if len(matches) != 1:
            break  # unknown or ambiguous UUID prefix: the list stops here
        chosen.append(matches[0])
    return chosen
