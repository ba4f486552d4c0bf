"""The contention experiment: tenants run a PyTorch inference loop side by side, measured.

Lab 03: GPU sharing and isolation. Each participant is its own process (a worker that imports
torch once and serves several rounds): N well-behaved *tenants* and, optionally, one *noisy
neighbour* that runs much heavier batches with as many threads as the machine has cores.
A round starts every participant at the same monotonic instant and records each request's
latency (ms) for ``duration_s`` seconds.

Schemes on the CPU are *analogues*, and every result says so:

- ``shared``: every process may run on every core; the kernel time-slices them, as the GPU
  time-slices CUDA contexts (analogue of time-slicing).
- ``partitioned``: each participant is pinned to its own cores with ``os.sched_setaffinity``
  (``taskset -c`` on the command line), a hard partition like a MIG instance. Caches and
  memory bandwidth stay shared, which MIG does partition: the analogue is weaker than MIG.

On a real GPU (``device="cuda"``): ``time-sliced`` (concurrent CUDA processes on one GPU),
``memory-fraction`` (the same, each process capped with
``torch.cuda.set_per_process_memory_fraction``), and ``mig`` (one MIG device per participant
through ``CUDA_VISIBLE_DEVICES=MIG-<uuid>``, only when enough MIG devices already exist). The
real path only reads the GPU's configuration; it never changes MIG mode or any setting.

Baselines: each participant also runs *alone* in the slot a scheme gives it (its partition of
cores on the CPU, the whole GPU or its MIG device on a GPU). Interference is a ratio to that
baseline; fairness is Jain's index over the participants' normalized throughputs.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from labkit.sharing.metrics import TenantStats, interference, jain_index, summarize
from labkit.sharing.workers import WorkerPool, mig_device_uuids

__all__ = [
    "CPU_SCHEMES",
    "GPU_SCHEMES",
    "ContentionResult",
    "Participant",
    "WorkerPool",
    "partition_cores",
    "participants_for",
    "resolve_schemes",
    "run_experiment",
]

CPU_SCHEMES = {
    "shared": "shared cores: CPU analogue of time-slicing",
    "partitioned": "cores partitioned per participant (sched_setaffinity): CPU analogue of MIG",
}
GPU_SCHEMES = {
    "time-sliced": "concurrent CUDA processes on one GPU (time-slicing)",
    "memory-fraction": "concurrent CUDA processes, each capped by set_per_process_memory_fraction",
    "mig": "one MIG device per participant (CUDA_VISIBLE_DEVICES=MIG-<uuid>)",
}
# Request sizes (width, layers, batch). The CPU tenant's weights (3 x 256 x 256 fp32 = 768 KiB)
# fit in one core's L2, so partitioning is not undone by the neighbour evicting them from the
# shared L3; about 1 ms per request on one core of the course's 2-core CI machine (measured).
# The noisy neighbour's requests are about 100x longer and use every core it is allowed.
WORK = {
    "cpu": {"tenant": (256, 3, 256), "noisy": (512, 4, 1024)},
    "cuda": {"tenant": (4096, 4, 64), "noisy": (8192, 4, 8192)},
}
# Time to build the model and warm up before the common start (CUDA adds context creation).
LEAD_S = {"cpu": 1.0, "cuda": 5.0}


@dataclass(frozen=True)
class Participant:
    """One process of the experiment: ``kind`` is ``"tenant"`` or ``"noisy"``."""

    name: str
    kind: str
    threads: int


def participants_for(tenants: int, noisy: bool, cores: int) -> list[Participant]:
    """``tenants`` one-thread tenants plus, if ``noisy``, a neighbour with ``cores`` threads."""
    if tenants < 1:
        raise ValueError(f"tenants={tenants}: the experiment needs at least one tenant")
    people = [Participant(f"tenant-{i}", "tenant", 1) for i in range(tenants)]
    if noisy:
        people.append(Participant("noisy", "noisy", max(1, cores)))
    return people


def partition_cores(cores: list[int], parts: int) -> list[list[int]]:
    """Split ``cores`` into ``parts`` contiguous, disjoint, near-equal groups."""
    if parts > len(cores):
        raise ValueError(
            f"partitioned needs one core per participant: {parts} participants, "
            f"{len(cores)} core(s) available ({cores}); use fewer tenants, noisy=False, "
            "or only the shared scheme"
        )
    size, extra = divmod(len(cores), parts)
    groups, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        groups.append(cores[start:end])
        start = end
    return groups


@dataclass
class ContentionResult:
    """Everything a round measured; ``to_dict()`` is what the lab writes as JSON."""

    device: str
    analogue: bool
    cores: list[int]
    duration_s: float
    participants: list[Participant]
    schemes: dict[str, str]
    alone: dict[str, dict[str, TenantStats]] = field(default_factory=dict)
    runs: dict[str, dict[str, TenantStats]] = field(default_factory=dict)
    latencies_ms: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    alone_latencies_ms: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def label(self, scheme: str) -> str:
        """The scheme's description; CPU schemes name themselves analogues."""
        return self.schemes[scheme]

    def interference(self, scheme: str) -> dict[str, dict[str, float]]:
        """Per participant: p99/p50/throughput ratios of ``scheme`` to running alone."""
        return {name: interference(self.alone[scheme][name], stats)
                for name, stats in self.runs[scheme].items()}

    def fairness(self, scheme: str) -> float:
        """Jain's index over throughput normalized to each participant's alone baseline."""
        return jain_index(v["throughput_ratio"] for v in self.interference(scheme).values())

    def to_dict(self) -> dict:
        return {
            "device": self.device,
            "analogue": self.analogue,
            "cores": self.cores,
            "duration_s": self.duration_s,
            "participants": [p.__dict__ for p in self.participants],
            "schemes": {s: self.label(s) for s in self.runs},
            "alone": {s: {n: st.to_dict() for n, st in d.items()} for s, d in self.alone.items()},
            "runs": {s: {n: st.to_dict() for n, st in d.items()} for s, d in self.runs.items()},
            "interference": {s: self.interference(s) for s in self.runs},
            "fairness": {s: self.fairness(s) for s in self.runs},
            "latencies_ms": _rounded(self.latencies_ms),
            "alone_latencies_ms": _rounded(self.alone_latencies_ms),
        }


def _rounded(table: dict[str, dict[str, list[float]]]) -> dict:
    return {s: {n: [round(v, 4) for v in lat] for n, lat in d.items()} for s, d in table.items()}


def _round(pool, people, slots, *, device, duration, seed, fractions=None) -> dict[str, dict]:
    start_at = time.monotonic() + LEAD_S[device]
    jobs = [
        {"name": p.name, "worker": slots["worker"][p.name], "threads": p.threads,
         "device": device, "work": WORK[device][p.kind],
         "cores": slots["cores"].get(p.name), "start_at": start_at, "duration": duration,
         "seed": seed + i, "memory_fraction": (fractions or {}).get(p.name)}
        for i, p in enumerate(people)
    ]
    answers = pool.run(jobs, timeout_s=LEAD_S[device] + duration + 120)
    return {p.name: a for p, a in zip(people, answers, strict=True)}


def resolve_schemes(device: str, requested: list[str] | None, mig_devices: int,
                    participants: int) -> list[str]:
    """The schemes to run: ``requested``, or by default every scheme the machine can run.

    The default on ``cuda`` includes ``mig`` only when ``mig_devices`` (existing MIG devices,
    ``nvidia-smi -L``) covers one per participant; asking for ``mig`` without them is an error.
    """
    if device not in WORK:
        raise ValueError(f"device '{device}' is not supported (valid: {', '.join(WORK)})")
    table = CPU_SCHEMES if device == "cpu" else GPU_SCHEMES
    enough = mig_devices >= participants
    schemes = list(requested or [s for s in table if s != "mig" or enough])
    unknown = [s for s in schemes if s not in table]
    if unknown:
        raise ValueError(f"scheme(s) {unknown} not available on {device} "
                         f"(valid: {', '.join(table)})")
    if "mig" in schemes and not enough:
        raise RuntimeError(f"the mig scheme needs {participants} existing MIG devices, found "
                           f"{mig_devices}; create them first (Lab 02) or drop 'mig'")
    return schemes


def run_experiment(tenants: int = 1, noisy: bool = True, *, schemes: list[str] | None = None,
                   duration_s: float = 2.0, device: str = "cpu", seed: int = 0,
                   progress: bool = True) -> ContentionResult:
    """Run the contention experiment; about ``(participants + schemes) * (duration_s + 1)`` s.

    Lab 03: ``run_experiment(tenants=1, noisy=True, duration_s=2)`` on 2 CPU cores compares
    ``shared`` with ``partitioned``. ``device="cuda"`` runs the real-GPU schemes instead
    (``mig`` by default only when enough MIG devices exist: ``resolve_schemes``).
    """
    named = resolve_schemes(device, schemes or None, 0, 0)  # bad device or scheme: fail early
    table = CPU_SCHEMES if device == "cpu" else GPU_SCHEMES
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if device == "cpu" and "partitioned" in named and not cores:
        raise RuntimeError("partitioned needs os.sched_setaffinity (Linux); "
                           "run only the shared scheme on this platform")
    people = participants_for(tenants, noisy, len(cores) or os.cpu_count() or 1)
    uuids = mig_device_uuids() if device == "cuda" and (not schemes or "mig" in schemes) else []
    schemes = resolve_schemes(device, schemes or None, len(uuids), len(people))
    result = ContentionResult(device, device == "cpu", cores, duration_s, people,
                              {s: table[s] for s in schemes})
    workers = {p.name: i for i, p in enumerate(people)}
    # Each scheme: the pool its processes live in, the baseline it is compared with, and the
    # cores of each participant. On the CPU the baseline is each participant alone in its fair
    # share (its partition), shared by both schemes; on a GPU it is the whole GPU or, for mig,
    # the participant's own MIG device.
    plan = {}
    fair = (partition_cores(cores, len(people)) if device == "cpu" and len(cores) >= len(people)
            else [cores] * len(people))
    for scheme in schemes:
        if device == "cpu":
            groups = partition_cores(cores, len(people)) if scheme == "partitioned" else (
                [cores] * len(people))
            plan[scheme] = ("cpu", "fair-share", dict(zip(workers, groups, strict=True)))
        else:
            pool = "mig" if scheme == "mig" else "gpu"
            plan[scheme] = (pool, pool, {})
    baselines = {key: (pool, dict(zip(workers, fair, strict=True)) if device == "cpu" else {})
                 for pool, key, _ in plan.values()}
    envs = {"cpu": None, "gpu": None}
    if "mig" in schemes:
        envs["mig"] = [{"CUDA_VISIBLE_DEVICES": u} for u in uuids[:len(people)]]
    rounds = [(pool, key, cores_of, [p]) for key, (pool, cores_of) in baselines.items()
              for p in people]
    rounds += [(pool, scheme, cores_of, people) for scheme, (pool, _, cores_of) in plan.items()]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rounds), desc="contention rounds", unit="round")
    measured: dict[str, dict[str, dict]] = {}
    pools: dict[str, WorkerPool] = {}
    try:
        for pool_key, key, cores_of, group in rounds:
            if pool_key not in pools:
                pools[pool_key] = WorkerPool(len(people), envs[pool_key])
            fractions = ({p.name: 1.0 / len(people) for p in people}
                         if key == "memory-fraction" else None)
            slots = {"worker": workers, "cores": cores_of}
            answers = _round(pools[pool_key], group, slots, device=device, duration=duration_s,
                             seed=seed, fractions=fractions)
            measured.setdefault(key, {}).update(answers)
            if bar:
                bar.update(1)
    finally:
        for pool in pools.values():
            pool.close()
        if bar:
            bar.close()

    def stats(key: str) -> dict[str, TenantStats]:
        return {n: summarize(n, a["latencies_ms"], a["window_s"]) for n, a in measured[key].items()}

    for scheme, (_, key, _) in plan.items():
        result.alone[scheme] = stats(key)
        result.alone_latencies_ms[scheme] = {n: a["latencies_ms"] for n, a in measured[key].items()}
        result.runs[scheme] = stats(scheme)
        result.latencies_ms[scheme] = {n: a["latencies_ms"] for n, a in measured[scheme].items()}
    return result
