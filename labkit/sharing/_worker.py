"""One participant of the contention experiment (``python -m labkit.sharing._worker``).

Lab 03. Reads one JSON job per line on stdin, answers one JSON line on stdout; exits at EOF.
A job pins every thread of this process to ``cores`` (``taskset -c`` equivalent), sets torch's
thread count, builds an MLP of ``work = (width, layers, batch)``, warms up, waits for the
common ``start_at`` (time.monotonic, shared by all processes of the machine), then times each
request until ``start_at + duration``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time


def _pin_all_threads(cores: list[int]) -> None:
    # sched_setaffinity(0) pins only the calling thread; torch's OpenMP pool threads exist
    # already after the first round, so pin every thread of the process.
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.sched_setaffinity(int(tid), cores)


def run_job(torch, job: dict) -> dict:
    """Run one measured round; latencies in ms."""
    if job.get("cores"):
        _pin_all_threads(job["cores"])
    torch.set_num_threads(job["threads"])
    device = job["device"]
    if device == "cuda" and job.get("memory_fraction"):
        torch.cuda.set_per_process_memory_fraction(job["memory_fraction"], 0)
    torch.manual_seed(job["seed"])
    width, layers, batch = job["work"]
    blocks = [torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.ReLU())
              for _ in range(layers)]
    model = torch.nn.Sequential(*blocks).eval().to(device)
    x = torch.randn(batch, width, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        sync()
        while time.monotonic() < job["start_at"]:
            time.sleep(0.001)
        started = time.monotonic()
        end = job["start_at"] + job["duration"]
        latencies = []
        while True:
            t0 = time.perf_counter()
            model(x)
            sync()
            latencies.append((time.perf_counter() - t0) * 1000.0)
            if time.monotonic() >= end:
                break
    return {"latencies_ms": latencies, "window_s": time.monotonic() - started,
            "late_s": started - job["start_at"]}


def main() -> int:
    import torch

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = run_job(torch, json.loads(line))
        except Exception as exc:  # noqa: BLE001 - reported to the parent with its type
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
