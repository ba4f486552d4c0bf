"""NVIDIA vGPU C-series (compute) profiles for A100, H100 and H200, and their placement rules.

Lab 03: vGPU. Every row is from shared/reference/k8s_vgpu.md §1.2, itself read from NVIDIA AI
Enterprise *NVIDIA AI Enterprise and NVIDIA vGPU (C-Series)*,
https://docs.nvidia.com/ai-enterprise/release-6/latest/appendix/vgpu.html ([V1]); frame
buffer in MB as printed there. Names: ``<board>-<GB>C`` is time-sliced, ``<board>-<slices>-<GB>C``
is MIG-backed on the GPU instance profile of the same size (``CME``: the ``+me`` profile).

Placement rules (ref §1.3):

- a GPU hosts either time-sliced vGPUs (MIG disabled) or MIG-backed ones (MIG enabled), never
  both (DERIVED: the two need opposite MIG modes; the newer "Time-Sliced MIG-Backed" mode [V11]
  is out of scope);
- equal-size mode (the default, [V4]): every time-sliced vGPU on a GPU has the same profile, at
  most its "equal-size" maximum;
- mixed-size mode (vGPU 17+): different time-sliced sizes may share a GPU, each at most its
  "mixed-size" maximum, "provided the total frame buffer allocated does not exceed the physical
  GPU's capacity" ([V4]); the capacity is taken as the board's full-GPU profile (DERIVED);
- MIG-backed vGPUs follow the MIG layout: their GPU instances must fit together on the GPU,
  checked with labkit.mig's planner ("NVIDIA vGPU supports homogeneous and mixed MIG-backed
  virtual GPUs based on the underlying GPU instance configuration." [V1]).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from labkit.mig.planner import InfeasibleLayoutError, plan_layout

__all__ = [
    "BOARDS",
    "PROFILES",
    "GpuPlan",
    "Packing",
    "VgpuPlacementError",
    "VgpuProfile",
    "board_profiles",
    "check_packing",
    "get_vgpu_profile",
]

# board prefix -> (description, labkit.mig catalog model with the same MIG geometry, family).
# A100 PCIe 40GB shares the A100 40GB MIG profiles of the catalog's SXM4 model (the [V1] table
# lists the same GPU instance profiles for both boards); likewise 80GB, H100 and H200.
BOARDS = {
    "A100": ("NVIDIA A100 PCIe 40GB", "A100-SXM4-40GB", "a100-40"),
    "A100X": ("NVIDIA A100 HGX 40GB", "A100-SXM4-40GB", "a100-40"),
    "A100D": ("NVIDIA A100 PCIe 80GB", "A100-SXM4-80GB", "a100-80"),
    "A100DX": ("NVIDIA A100 HGX 80GB", "A100-SXM4-80GB", "a100-80"),
    "H100": ("NVIDIA H100 PCIe 80GB", "H100-PCIE-80GB", "h100-80"),
    "H100XM": ("NVIDIA H100 SXM5 80GB", "H100-SXM5-80GB", "h100-80"),
    "H200": ("NVIDIA H200 NVL 141GB", "H200-141GB", "h200"),
    "H200X": ("NVIDIA H200 SXM5 141GB", "H200-141GB", "h200"),
}
# family -> MIG-backed rows (suffix, FB MB, max per GPU, GI profile) and
#           time-sliced rows (suffix, FB MB, equal-size max, mixed-size max)      [V1]
_MIG = {
    "a100-40": [("7-40C", 40960, 1, "7g.40gb"), ("4-20C", 20480, 1, "4g.20gb"),
                ("3-20C", 20480, 2, "3g.20gb"), ("2-10C", 10240, 3, "2g.10gb"),
                ("1-10C", 10240, 4, "1g.10gb"), ("1-5C", 5120, 7, "1g.5gb"),
                ("1-5CME", 5120, 1, "1g.5gb+me")],
    "a100-80": [("7-80C", 81920, 1, "7g.80gb"), ("4-40C", 40960, 1, "4g.40gb"),
                ("3-40C", 40960, 2, "3g.40gb"), ("2-20C", 20480, 3, "2g.20gb"),
                ("1-20C", 20480, 4, "1g.20gb"), ("1-10C", 10240, 7, "1g.10gb"),
                ("1-10CME", 10240, 1, "1g.10gb+me")],
    "h100-80": [("7-80C", 81920, 1, "7g.80gb"), ("4-40C", 40960, 1, "4g.40gb"),
                ("3-40C", 40960, 2, "3g.40gb"), ("2-20C", 20480, 3, "2g.20gb"),
                ("1-20C", 20480, 4, "1g.20gb"), ("1-10C", 10240, 7, "1g.10gb"),
                ("1-10CME", 10240, 1, "1g.10gb+me")],
    "h200": [("7-141C", 144384, 1, "7g.141gb"), ("4-71C", 72704, 1, "4g.71gb"),
             ("3-71C", 72704, 2, "3g.71gb"), ("2-35C", 35840, 3, "2g.35gb"),
             ("1-35C", 35840, 4, "1g.35gb"), ("1-18C", 18432, 7, "1g.18gb"),
             ("1-18CME", 18432, 1, "1g.18gb+me")],
}
_TIME_SLICED = {
    "a100-40": [("40C", 40960, 1, 1), ("20C", 20480, 2, 2), ("10C", 10240, 4, 4),
                ("8C", 8192, 5, 4), ("5C", 5120, 8, 8), ("4C", 4096, 10, 8)],
    "a100-80": [("80C", 81920, 1, 1), ("40C", 40960, 2, 2), ("20C", 20480, 4, 4),
                ("16C", 16384, 5, 4), ("10C", 10240, 8, 8), ("8C", 8192, 10, 8),
                ("4C", 4096, 20, 16)],
    # H100-80C: the [V1] table prints "H100-80" (a typo; its P2P table says H100-80C).
    "h100-80": [("80C", 81920, 1, 1), ("40C", 40960, 2, 2), ("20C", 20480, 4, 4),
                ("16C", 16384, 6, 4), ("10C", 10240, 8, 8), ("8C", 8192, 10, 8),
                ("5C", 5120, 16, 16), ("4C", 4096, 20, 16)],
    "h200": [("141C", 144384, 1, 1), ("70C", 71680, 2, 2), ("35C", 35840, 4, 4),
             ("28C", 28672, 5, 5), ("17C", 17408, 8, 8), ("14C", 14336, 10, 10),
             ("8C", 8192, 16, 16), ("7C", 7168, 20, 20), ("4C", 4096, 32, 32)],
}


class VgpuPlacementError(ValueError):
    """The VM requests cannot be placed; the message says which profile needs what."""


@dataclass(frozen=True)
class VgpuProfile:
    """One vGPU type. ``max_equal``/``max_mixed`` are per GPU (MIG-backed: both the same)."""

    name: str
    board: str
    mig_backed: bool
    framebuffer_mb: int
    max_equal: int
    max_mixed: int
    gi_profile: str | None = None
    # NVIDIA's printed equal-size maximum where the course corrects it (None: the same).
    printed_max_equal: int | None = None

    @property
    def model(self) -> str:
        """The labkit.mig catalog model whose MIG geometry this board has."""
        return BOARDS[self.board][1]


def _build() -> dict[str, VgpuProfile]:
    table = {}
    for board, (_, _, family) in BOARDS.items():
        for suffix, fb, most, gi in _MIG[family]:
            table[f"{board}-{suffix}"] = VgpuProfile(f"{board}-{suffix}", board, True, fb, most,
                                                     most, gi)
        full = max(fb for _, fb, _, _ in _TIME_SLICED[family])
        for suffix, fb, equal, mixed in _TIME_SLICED[family]:
            # Time-sliced vGPUs are "limited only by framebuffer size" ([V1], FAQ): at most
            # full // fb of them. One printed row breaks that: H100-16C at 6 per GPU (6 x 16384
            # MB = 98304 MB on an 81920 MB card; A100D-16C, the same size on an 80 GB A100, is
            # printed at 5). The course plans with the frame-buffer bound and keeps NVIDIA's
            # figure in printed_max_equal.
            fits = min(equal, full // fb)
            table[f"{board}-{suffix}"] = VgpuProfile(f"{board}-{suffix}", board, False, fb,
                                                     fits, min(mixed, fits), None,
                                                     equal if fits != equal else None)
    return table


PROFILES: dict[str, VgpuProfile] = _build()


def board_profiles(board: str) -> list[VgpuProfile]:
    """The C-series profiles of one board, MIG-backed first, as [V1] lists them."""
    if board not in BOARDS:
        raise VgpuPlacementError(f"unknown vGPU board '{board}' (valid: {', '.join(BOARDS)})")
    return [p for p in PROFILES.values() if p.board == board]


def get_vgpu_profile(name: str) -> VgpuProfile:
    """A profile by name, e.g. ``A100-20C`` or ``H100XM-3-40C`` (``GRID `` prefix allowed)."""
    key = name.strip().removeprefix("GRID ").strip()
    if key in PROFILES:
        return PROFILES[key]
    board = key.split("-")[0]
    valid = ", ".join(p.name for p in board_profiles(board)) if board in BOARDS else ", ".join(
        BOARDS)
    raise VgpuPlacementError(f"'{name}' is not a C-series vGPU profile (valid: {valid})")


@lru_cache(maxsize=4096)
def _mig_fits(model: str, gi_profiles: tuple[str, ...]) -> bool:
    try:
        plan_layout(model, gi_profiles)
    except InfeasibleLayoutError:
        return False
    return True


def _gpu_problems(index: int, profiles: Sequence[VgpuProfile], mode: str) -> list[str]:
    """Why one GPU's set of vGPUs breaks a placement rule (empty if it is valid)."""
    if not profiles:
        return []
    where = f"GPU {index}"
    counts = Counter(p.name for p in profiles)
    boards = {p.board for p in profiles}
    if len(boards) > 1:
        return [f"{where} holds vGPUs of several boards ({', '.join(sorted(boards))})"]
    if len({p.mig_backed for p in profiles}) > 1:
        return [f"{where} mixes MIG-backed and time-sliced vGPUs: a GPU is either in MIG mode "
                "or not"]
    if profiles[0].mig_backed:
        gis = tuple(sorted(p.gi_profile for p in profiles))
        if _mig_fits(profiles[0].model, gis):
            return []
        try:
            plan_layout(profiles[0].model, gis)
        except InfeasibleLayoutError as err:
            return [f"{where}: the GPU instances of {', '.join(sorted(counts.elements()))} do "
                    f"not fit one GPU ({err})"]
    problems = []
    if mode == "equal-size" and len(counts) > 1:
        problems.append(f"{where} mixes {', '.join(sorted(counts))}: in equal-size mode every "
                        "time-sliced vGPU on a GPU has the same profile")
    for name, n in sorted(counts.items()):
        p = PROFILES[name]
        most = p.max_equal if mode == "equal-size" else p.max_mixed
        if n > most:
            problems.append(f"{where} holds {n} x {name}: at most {most} per GPU in {mode} mode")
    if mode == "mixed-size":
        cap = max(q.framebuffer_mb for q in board_profiles(profiles[0].board))
        total = sum(p.framebuffer_mb for p in profiles)
        if total > cap:
            problems.append(f"{where} holds {total} MB of frame buffer, more than the GPU's "
                            f"{cap} MB")
    return problems


@dataclass
class GpuPlan:
    """The VMs placed on one GPU: ``vms`` are ``(vm name, profile name)``."""

    index: int
    vms: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mig(self) -> bool:
        return bool(self.vms) and PROFILES[self.vms[0][1]].mig_backed


@dataclass
class Packing:
    """A valid placement of every request: one `GpuPlan` per GPU (some may be empty)."""

    mode: str
    gpus: list[GpuPlan]

    def assignment(self) -> dict[str, int]:
        """VM name -> GPU index."""
        return {vm: g.index for g in self.gpus for vm, _ in g.vms}


def _requests(requests: Iterable) -> list[tuple[str, VgpuProfile]]:
    items = requests.items() if isinstance(requests, dict) else (
        (f"vm-{i}", r) for i, r in enumerate(requests))
    return [(vm, get_vgpu_profile(name)) for vm, name in items]


def check_packing(requests, assignment: dict[str, int], gpus: int,
                  mode: str = "equal-size") -> list[str]:
    """Every rule a placement breaks (empty list: valid).

    ``requests`` maps VM name -> profile (a list gives names vm-0, vm-1, ...); ``assignment``
    maps VM name -> GPU index (0 .. gpus-1).
    """
    reqs = dict(_requests(requests))
    problems = [f"VM '{vm}' is not placed" for vm in reqs if vm not in assignment]
    problems += [f"VM '{vm}' is not one of the requests" for vm in assignment if vm not in reqs]
    on: dict[int, list[VgpuProfile]] = {}
    for vm, gpu in assignment.items():
        if vm not in reqs:
            continue
        if not isinstance(gpu, int) or not 0 <= gpu < gpus:
            problems.append(f"VM '{vm}' is on GPU {gpu!r}, not one of 0..{gpus - 1}")
            continue
        on.setdefault(gpu, []).append(reqs[vm])
    for gpu in sorted(on):
        problems += _gpu_problems(gpu, on[gpu], mode)
    return problems
