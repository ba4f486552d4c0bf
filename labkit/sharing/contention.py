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

Rounds (shared/DESIGN.md, "Experiments"): ``run_experiment(rounds=3)`` repeats every run (each
baseline and each scheme) once per round, in an order that rotates from round to round
(`labkit.experiment.interleaved`), so background load falls on every arm alike. The pooled
latencies give the tables and plots; the per-round p99s give the verdict
(`ContentionResult.verdict`: does partitioning lower the tenant's p99?) and the spread; and
`ContentionResult.unreliable` flags identical tenants whose throughputs differ by more than
a threshold, which only the machine (not the scheme) can cause.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from dataclasses import dataclass, field

from labkit.experiment import (
    INCONCLUSIVE,
    Verdict,
    busy,
    interleaved,
    machine_load,
    spread,
    verdict,
)
from labkit.sharing.metrics import TenantStats, _jain_index, interference, summarize
from labkit.sharing.workers import WorkerPool, mig_device_uuids

__all__ = [
    "CLAIM",
    "CPU_SCHEMES",
    "GPU_SCHEMES",
    "HEADLINE",
    "SAME_TENANT_LIMIT",
    "ContentionResult",
    "Participant",
    "WorkerPool",
    "bench_verdicts",
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
# The headline comparison per device: (partitioned scheme, shared scheme) and the lesson.
HEADLINE = {"cpu": ("partitioned", "shared"), "cuda": ("mig", "time-sliced")}
CLAIM = "partitioning lowers the tenant's p99 under a noisy neighbour"
# Identical tenants in identical slots should serve the same req/s; a larger ratio between
# them (median over rounds) means the machine, not the scheme, decided the numbers.
SAME_TENANT_LIMIT = 1.3
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
    # One entry per round: {run key ("alone:<slot>:<participant>" or a scheme): {name: stats}}.
    rounds: list[dict[str, dict[str, TenantStats]]] = field(default_factory=list)
    order: list[list[str]] = field(default_factory=list)  # the run keys in each round's order
    load: tuple[float, float] = (float("nan"), float("nan"))  # load average before, after
    # Other runnable processes (not ours), sampled before every run while our workers wait:
    # the machine's background load, which the load average mixes with our own processes.
    background: list[float] = field(default_factory=list)

    def label(self, scheme: str) -> str:
        """The scheme's description; CPU schemes name themselves analogues."""
        return self.schemes[scheme]

    def interference(self, scheme: str) -> dict[str, dict[str, float]]:
        """Per participant: p99/p50/throughput ratios of ``scheme`` to running alone."""
        return {name: interference(self.alone[scheme][name], stats)
                for name, stats in self.runs[scheme].items()}

    def fairness(self, scheme: str) -> float:
        """Jain's index over throughput normalized to each participant's alone baseline."""
        return _jain_index(v["throughput_ratio"] for v in self.interference(scheme).values())

    def per_round(self, scheme: str, name: str = "tenant-0", what: str = "p99_ms") -> list[float]:
        """``what`` (a `TenantStats` field) of participant ``name`` under ``scheme``, per round."""
        return [getattr(r[scheme][name], what) for r in self.rounds if scheme in r]

    def headline(self) -> tuple[str, str] | None:
        """(partitioned scheme, shared scheme) when both ran; else None."""
        pair = HEADLINE.get(self.device)
        return pair if pair and all(s in self.runs for s in pair) else None

    def verdict(self, tenant: str = "tenant-0", min_effect: float = 1.1) -> Verdict | None:
        """Does partitioning lower ``tenant``'s p99? Judged round by round (None: not measured)."""
        pair = self.headline()
        if (pair is None or not self.rounds
                or not any(p.kind == "noisy" for p in self.participants)):
            return None  # the claim is about a noisy neighbour, judged per round
        better, worse = pair
        return verdict(CLAIM, self.per_round(better, tenant), self.per_round(worse, tenant),
                       higher_is_better=False, min_effect=min_effect)

    def unreliable(self, limit: float = SAME_TENANT_LIMIT) -> list[str]:
        """Identical tenants in identical slots whose pooled req/s differ by more than ``limit``.

        Each line names the run, the two tenants and their req/s: such a run measured the
        machine (background load, a busier core), not the scheme, and is labelled unreliable.
        """
        tenants = [p.name for p in self.participants if p.kind == "tenant"]
        if len(tenants) < 2 or not self.rounds:
            return []
        # The pooled req/s of the tables (every round together), which is what a reader compares.
        first = next(iter(self.alone))
        groups = [("alone", {n: self.alone[first][n].throughput_rps for n in tenants})]
        groups += [(s, {n: self.runs[s][n].throughput_rps for n in tenants}) for s in self.runs]
        found = []
        for label, rps in groups:
            if len(rps) < 2 or min(rps.values()) <= 0:
                continue
            hi, lo = max(rps, key=rps.get), min(rps, key=rps.get)
            ratio = rps[hi] / rps[lo]
            if ratio > limit:
                found.append(f"{label}: identical tenants {hi} {rps[hi]:.0f} req/s and {lo} "
                             f"{rps[lo]:.0f} req/s differ {ratio:.2f}x (limit {limit:g}x)")
        return found

    def background_load(self) -> float:
        """Median count of other runnable processes before each run (nan if not sampled)."""
        return statistics.median(self.background) if self.background else float("nan")

    def spreads(self, name: str = "tenant-0") -> dict[str, str]:
        """Per scheme: ``name``'s p99 over the rounds as 'median (range low-high, n=k)' in ms."""
        return {s: str(spread(self.per_round(s, name))) for s in self.runs}

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
            "rounds": [{k: {n: st.to_dict() for n, st in d.items()} for k, d in r.items()}
                       for r in self.rounds],
            "order": self.order,
            "load_average": {"before": self.load[0], "after": self.load[1],
                             "cpus": os.cpu_count()},
            "background_runnable": self.background_load(),
            "verdict": v.as_dict() if (v := self.verdict()) else None,
            "unreliable": self.unreliable(),
        }


def _rounded(table: dict[str, dict[str, list[float]]]) -> dict:
    return {s: {n: [round(v, 4) for v in lat] for n, lat in d.items()} for s, d in table.items()}


def _runnable_others(samples: int = 5, pause_s: float = 0.005) -> float | None:
    """Mean number of runnable processes besides this one (/proc/stat ``procs_running``)."""
    try:
        counts = []
        for _ in range(samples):
            with open("/proc/stat") as stat:
                line = next(x for x in stat if x.startswith("procs_running"))
            counts.append(int(line.split()[1]) - 1)
            time.sleep(pause_s)
        return sum(counts) / len(counts)
    except (OSError, StopIteration, ValueError):
        return None


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
                   rounds: int = 1, progress: bool = True) -> ContentionResult:
    """Run the contention experiment; about ``rounds * (participants + schemes) * (duration_s
    + 1)`` s.

    Lab 03: ``run_experiment(tenants=1, noisy=True, duration_s=1, rounds=3)`` on 2 CPU cores
    compares ``shared`` with ``partitioned`` in 3 interleaved rounds (each baseline and each
    scheme once per round, the order rotating). ``device="cuda"`` runs the real-GPU schemes
    instead (``mig`` by default only when enough MIG devices exist: ``resolve_schemes``).
    ``progress`` shows a bar that disappears when done (nothing stays in a saved notebook).
    """
    if rounds < 1:
        raise ValueError(f"rounds={rounds}: the experiment needs at least one round")
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
    # Every run of one round, by key: each participant alone in each baseline slot, then each
    # scheme with everybody.
    runs = {f"alone:{key}:{p.name}": (pool, key, cores_of, [p])
            for key, (pool, cores_of) in baselines.items() for p in people}
    runs |= {scheme: (pool, scheme, cores_of, people)
             for scheme, (pool, _, cores_of) in plan.items()}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=rounds * len(runs), desc="contention runs", unit="run", leave=False)
    pools: dict[str, WorkerPool] = {}
    collected: dict[str, list[dict[str, dict]]] = {k: [] for k in runs}
    sequence: list[str] = []

    def arm(run_key: str):
        pool_key, key, cores_of, group = runs[run_key]

        def go() -> float:
            if pool_key not in pools:
                pools[pool_key] = WorkerPool(len(people), envs[pool_key])
            fractions = ({p.name: 1.0 / len(people) for p in people}
                         if key == "memory-fraction" else None)
            slots = {"worker": workers, "cores": cores_of}
            if (others := _runnable_others()) is not None:
                result.background.append(others)
            collected[run_key].append(_round(pools[pool_key], group, slots, device=device,
                                             duration=duration_s, seed=seed,
                                             fractions=fractions))
            sequence.append(run_key)
            if bar:
                bar.update(1)
            return 0.0
        return go

    load_before = machine_load()[0]
    try:
        # Every run once per round; the order rotates from round to round.
        interleaved({k: arm(k) for k in runs}, rounds)
    finally:
        for pool in pools.values():
            pool.close()
        if bar:
            bar.close()
    result.load = (load_before, machine_load()[0])
    answers_by_round = [{k: collected[k][r] for k in runs} for r in range(rounds)]
    result.order = [sequence[r * len(runs):(r + 1) * len(runs)] for r in range(rounds)]

    def stats(answers: dict[str, dict]) -> dict[str, TenantStats]:
        return {n: summarize(n, a["latencies_ms"], a["window_s"]) for n, a in answers.items()}

    for answers in answers_by_round:
        result.rounds.append({k: stats(a) for k, a in answers.items()})

    def pooled(run_keys: list[str]) -> tuple[dict[str, TenantStats], dict[str, list[float]]]:
        lat: dict[str, list[float]] = {}
        window: dict[str, float] = {}
        for answers in answers_by_round:
            for k in run_keys:
                for n, a in answers[k].items():
                    lat.setdefault(n, []).extend(a["latencies_ms"])
                    window[n] = window.get(n, 0.0) + a["window_s"]
        return {n: summarize(n, v, window[n]) for n, v in lat.items()}, lat

    for scheme, (_, key, _) in plan.items():
        result.alone[scheme], result.alone_latencies_ms[scheme] = pooled(
            [k for k in runs if k.startswith(f"alone:{key}:")])
        result.runs[scheme], result.latencies_ms[scheme] = pooled([scheme])
    return result


def bench_verdicts(runs: int = 5, quick: bool = True) -> list[dict]:
    """The headline verdict over ``runs`` runs on an idle machine and ``runs`` beside a busy loop.

    ``make bench`` (labkit.bench_verdicts): one dict per run, idle runs first, with ``loaded``
    (bool), ``run`` (0-based), ``outcome`` (supports/contradicts/inconclusive), the per-round
    medians behind it (``shared_p99_ms``, ``partitioned_p99_ms``), ``ratio``, ``wins``,
    ``losses``, ``rounds``, ``load`` (1-minute load average at the verdict), ``cpus``,
    ``background_runnable`` (other runnable processes before each run, median),
    ``unreliable`` (identical-tenant warnings) and ``seconds``. Quick: 3 rounds of 1 s per run
    (about 30 s a run on 2 cores); otherwise 5 rounds of 2 s. The busy loop takes one core
    (`labkit.experiment.busy`). Needs 2 cores for the partitioned scheme; with fewer, every run
    is reported inconclusive without running.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    rounds, duration = (3, 1.0) if quick else (5, 2.0)
    rows = []
    for loaded in (False, True):
        for run in range(runs):
            row = {"loaded": loaded, "run": run, "rounds": rounds, "duration_s": duration}
            if cores < 2:
                rows.append(row | {"outcome": INCONCLUSIVE, "reason": "needs 2 CPU cores"})
                continue
            started = time.monotonic()
            budget = 60 + rounds * 8 * (duration + LEAD_S["cpu"])
            with busy(cores=1, seconds=budget) if loaded else contextlib.nullcontext():
                result = run_experiment(tenants=1, noisy=True, schemes=["shared", "partitioned"],
                                        duration_s=duration, rounds=rounds, seed=run,
                                        progress=False)
            v = result.verdict()
            rows.append(row | v.as_dict() | {
                "shared_p99_ms": v.worse.median, "partitioned_p99_ms": v.better.median,
                "background_runnable": result.background_load(),
                "unreliable": result.unreliable(), "seconds": time.monotonic() - started})
    return rows

