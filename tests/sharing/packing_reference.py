"""A reference packer for the vGPU placement rules, for the course's tests only.

It lives here, not in labkit, because it answers Lab 03's Exercise 4 (packing VM requests):
the tests use it to confirm that ``labkit.sharing.check_packing`` accepts what a search finds
and that the lab's hidden test inputs fit.
"""

from __future__ import annotations

import math
from collections import Counter

from labkit.sharing.vgpu import (
    PROFILES,
    GpuPlan,
    Packing,
    VgpuPlacementError,
    VgpuProfile,
    _gpu_problems,
    _requests,
)


def _explain(reqs: list[tuple[str, VgpuProfile]], gpus: int, mode: str) -> str:
    counts = Counter(p.name for _, p in reqs)
    parts, needed = [], 0
    ts = [n for n in counts if not PROFILES[n].mig_backed]
    for name in sorted(ts):
        p = PROFILES[name]
        most = p.max_equal if mode == "equal-size" else p.max_mixed
        k = math.ceil(counts[name] / most)
        if mode == "equal-size":
            needed += k
        parts.append(f"{name} x {counts[name]}: {k} GPU(s) (at most {most} per GPU)")
    mig = [(vm, p) for vm, p in reqs if p.mig_backed]
    if mig:
        k = next((k for k in range(1, len(mig) + 1) if _search(mig, k, mode) is not None), None)
        needed += k or 0
        names = ", ".join(f"{n} x {c}" for n, c in sorted(Counter(p.name for _, p in mig).items()))
        parts.append(f"MIG-backed {names}: {k} GPU(s) for their GPU instances"
                     if k else f"MIG-backed {names}: cannot be laid out")
    total = f"at least {needed} GPUs" if mode == "equal-size" else "more GPUs"
    return (f"the {len(reqs)} VM request(s) do not fit {gpus} GPU(s) in {mode} mode: they need "
            f"{total}: " + "; ".join(parts))


def _search(reqs, gpus: int, mode: str):
    order = sorted(reqs, key=lambda r: (not r[1].mig_backed, -r[1].framebuffer_mb, r[1].name))
    plans: list[list[VgpuProfile]] = [[] for _ in range(gpus)]
    placed: list[int] = []

    def visit(i: int) -> bool:
        if i == len(order):
            return True
        tried_empty = False
        for g in range(gpus):
            if not plans[g]:
                if tried_empty:
                    continue  # empty GPUs are interchangeable
                tried_empty = True
            plans[g].append(order[i][1])
            if not _gpu_problems(g, plans[g], mode):
                placed.append(g)
                if visit(i + 1):
                    return True
                placed.pop()
            plans[g].pop()
        return False

    if not visit(0):
        return None
    return [(vm, p, g) for (vm, p), g in zip(order, placed, strict=True)]


def pack_vms(requests, gpus: int, mode: str = "equal-size") -> Packing:
    """Place VM requests (VM -> profile name, or a list of profile names) on ``gpus`` GPUs.

    ``pack_vms(["A100-20C", "A100-20C", "A100-10C"], gpus=2)`` puts both 20C on one
    GPU and the 10C on the other. Raises `VgpuPlacementError` with the reason when none fits.
    """
    if mode not in ("equal-size", "mixed-size"):
        raise ValueError(f"mode '{mode}' is not a vGPU placement mode (equal-size, mixed-size)")
    reqs = _requests(requests)
    found = _search(reqs, gpus, mode)
    if found is None:
        raise VgpuPlacementError(_explain(reqs, gpus, mode))
    plans = [GpuPlan(i) for i in range(gpus)]
    position = {vm: k for k, (vm, _) in enumerate(reqs)}
    for vm, p, g in sorted(found, key=lambda x: position[x[0]]):
        plans[g].vms.append((vm, p.name))
    return Packing(mode, plans)
