"""The processes of the contention experiment, and what the machine offers them.

Lab 03. ``WorkerPool`` starts one ``python -m labkit.sharing._worker`` per participant and
talks JSON lines with it; ``probe_cores`` measures whether the CPU cores are independent;
``mig_device_uuids`` lists existing MIG devices through NVML (read-only, like ``nvidia-smi -L``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time

__all__ = ["WorkerPool", "mig_device_uuids", "probe_cores"]


class WorkerPool:
    """Persistent worker processes (``python -m labkit.sharing._worker``), one per participant.

    torch is imported once per worker, not per round. ``envs`` gives each worker extra
    environment variables (``CUDA_VISIBLE_DEVICES`` for MIG), which must exist before CUDA
    initialises in the child. Jobs and answers are JSON lines on the worker's stdin/stdout.
    """

    def __init__(self, size: int, envs: list[dict[str, str]] | None = None):
        self._procs: list[subprocess.Popen] = []
        self._logs = []
        for i in range(size):
            log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            env = {**os.environ, **(envs[i] if envs else {})}
            proc = subprocess.Popen(
                [sys.executable, "-m", "labkit.sharing._worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log, env=env, text=True, bufsize=1)
            self._procs.append(proc)
            self._logs.append(log)

    def _stderr(self, index: int) -> str:
        log = self._logs[index]
        log.seek(0)
        return log.read().decode(errors="replace").strip()[-2000:]

    def run(self, jobs: list[dict], timeout_s: float) -> list[dict]:
        """Send each job to worker ``job["worker"]`` and wait for every answer, in job order."""
        for job in jobs:
            proc = self._procs[job["worker"]]
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        answers = []
        deadline = time.monotonic() + timeout_s
        for job in jobs:
            proc = self._procs[job["worker"]]
            wait = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([proc.stdout], [], [], wait)
            line = proc.stdout.readline() if ready else ""
            if not line:
                state = "did not answer in time" if ready == [] else "exited"
                raise RuntimeError(f"participant '{job['name']}' {state} (worker log: "
                                   f"{self._stderr(job['worker']) or 'empty'})")
            answer = json.loads(line)
            if "error" in answer:
                raise RuntimeError(f"participant '{job['name']}' failed: {answer['error']}")
            answers.append(answer)
        return answers

    def close(self) -> None:
        for proc in self._procs:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        for proc, log in zip(self._procs, self._logs, strict=True):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            log.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_SPIN = """
import os, sys, time
os.sched_setaffinity(0, [int(sys.argv[1])])
t0 = float(sys.argv[2]); end = t0 + float(sys.argv[3]); n = 0
while time.monotonic() < t0:
    time.sleep(0.001)
while time.monotonic() < end:
    for _ in range(10000):
        pass
    n += 1
print(n)
"""


def probe_cores(cores: list[int] | None = None, seconds: float = 0.5) -> dict:
    """Are the cores independent? Spin one process per core alone, then all at once.

    Lab 03: ``independence`` is the work done with every core busy divided by the sum of the
    work each core does alone: about 1.0 on real, separate cores; about 0.5 when two "cores"
    are SMT siblings of one physical core or vCPUs that the host runs on one core. Partitioning
    cannot isolate tenants that share a physical core.
    """
    cores = sorted(cores or os.sched_getaffinity(0))

    def spin(group: list[int]) -> list[int]:
        t0 = time.monotonic() + 0.3
        procs = [subprocess.Popen([sys.executable, "-c", _SPIN, str(c), str(t0), str(seconds)],
                                  stdout=subprocess.PIPE, text=True) for c in group]
        return [int(p.communicate()[0]) for p in procs]

    alone = {c: spin([c])[0] for c in cores}
    together = dict(zip(cores, spin(cores), strict=True))
    return {"cores": cores, "alone": alone, "together": together,
            "independence": sum(together.values()) / sum(alone.values())}


def mig_device_uuids() -> list[str]:
    """UUIDs of the MIG devices that already exist (read-only NVML queries; `nvidia-smi -L`)."""
    import pynvml

    pynvml.nvmlInit()
    try:
        uuids = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            gpu = pynvml.nvmlDeviceGetHandleByIndex(i)
            try:
                count = pynvml.nvmlDeviceGetMaxMigDeviceCount(gpu)
            except pynvml.NVMLError:
                continue
            for j in range(count):
                try:
                    mig = pynvml.nvmlDeviceGetMigDeviceHandleByIndex(gpu, j)
                except pynvml.NVMLError:
                    continue
                uuid = pynvml.nvmlDeviceGetUUID(mig)
                uuids.append(uuid.decode() if isinstance(uuid, bytes) else uuid)
        return uuids
    finally:
        pynvml.nvmlShutdown()
