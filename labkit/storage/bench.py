"""``make bench storage``: the loader against fio's ceiling, and AU of naive vs tuned loaders.

Lab 05's targets, measured on this machine (``python -m labkit.bench storage [--quick]``):

1. fio sequential read with direct I/O (1 MiB blocks, queue depth 32): the ceiling.
2. A DataLoader streaming WebDataset-style tar shards (raw payload, as for GPU decoding; four
   read-ahead threads with O_DIRECT, like DLIO's read_threads) as a fraction of that ceiling;
   goal >= 80 %.
3. DLIO-style AU with an H100's ResNet-50 time per sample (MLPerf Storage
   resnet50_h100.yaml), naive (num_workers=0) and tuned in interleaved rounds: the tuned
   loader >= 90 % in every round, and the verdict "tuned beats naive" supported.

Datasets go to a temporary folder (``LABKIT_BENCH_DIR`` to choose its parent), removed after.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from labkit.bench import BenchResult

from ..experiment import SUPPORTS
from .au import get_workload
from .datasets import encode_jpegs, synthetic_images, write_all_formats, write_tar_shards
from .directio import drop_from_page_cache, measure_read, prepare_file
from .fio import FioJob
from .headline import NAIVE, STABLE_PASS, TUNED, run_au_sweep
from .loader import LoaderConfig, make_loader
from .readers import TarShards

__all__ = ["run_bench", "shard_loader_bandwidth", "NAIVE", "TUNED"]

SUITE = "storage"


def shard_loader_bandwidth(stored, *, read_threads: int = 4, direct: bool = True,
                           num_workers: int = 0) -> dict:
    """Bytes/s a DataLoader streams the raw payload of ``stored``'s shards at, cache dropped
    first; timed from the first shard on (start-up excluded, as DLIO excludes step one)."""
    drop_from_page_cache(stored.files)
    dataset = TarShards(stored, decode=False, read_threads=read_threads, direct=direct)
    loader = make_loader(dataset, LoaderConfig(num_workers=num_workers, batch_size=1))
    nbytes, start, first = 0, None, 0
    for buf, _spans in loader:
        if start is None:
            start, first = time.perf_counter(), buf.numel()
        nbytes += buf.numel()
    seconds = time.perf_counter() - start
    return {"bytes": nbytes - first, "seconds": seconds,
            "bandwidth": (nbytes - first) / seconds if seconds > 0 else 0.0}


def run_bench(quick: bool = False) -> list[BenchResult]:
    size = (128 if quick else 1024) * 1024**2
    parent = os.environ.get("LABKIT_BENCH_DIR") or None
    with tempfile.TemporaryDirectory(prefix="labkit-bench-storage-", dir=parent) as tmp:
        root = Path(tmp)
        prepare_file(root / "ceiling.bin", size)  # fio's file first, then the shards
        # Shards of 256x256 JPEGs (about 30 KB each); 256 distinct images, repeated.
        images, labels = synthetic_images(256, 256, seed=1)
        jpegs = encode_jpegs(images, quality=95)
        count = int(size / (sum(map(len, jpegs)) / len(jpegs)))
        shards = write_tar_shards([jpegs[i % 256] for i in range(count)],
                                  [labels[i % 256] for i in range(count)], root / "shards",
                                  256, samples_per_shard=max(1, count // (16 if quick else 64)))
        # fio reads a file of the same size once, as the loader reads each shard once. The
        # ceiling is the best of two block sizes: 1 MiB (fio's usual sequential block) and the
        # loader's own 4 MiB reads, which this kind of virtual disk serves much faster.
        nbytes = min(size, shards.nbytes) // (4 * 1024**2) * (4 * 1024**2)
        jobs = [FioJob(f"seq-read-{bs >> 20}m", "read", bs, 32, nbytes, runtime_s=60,
                       time_based=False) for bs in (1024**2, 4 * 1024**2)]
        runs: dict[str, list] = {job.name: [] for job in jobs}
        streams = []
        for _ in range(3):  # alternate, keep the medians: this host's disk is noisy
            for job in jobs:
                runs[job.name].append(measure_read(job, root / "ceiling.bin"))
            streams.append(shard_loader_bandwidth(shards))
        medians = {name: sorted(rs, key=lambda r: r.bandwidth)[1] for name, rs in runs.items()}
        job = max(jobs, key=lambda j: medians[j.name].bandwidth)
        ceiling, ceilings = medians[job.name], runs[job.name]
        stream = sorted(streams, key=lambda r: r["bandwidth"])[1]
        (root / "ceiling.bin").unlink()
        # AU: small JPEG files, an H100's ResNet-50 time per sample; naive and tuned in
        # interleaved rounds (one AU run is too noisy to judge on a shared machine).
        workload = get_workload("resnet50", "h100")
        files = write_all_formats(root / "au", 1536 if quick else 4096, 96)["jpeg-files"]
        sweep = run_au_sweep(files, workload, (NAIVE, TUNED), rounds=3 if quick else 5)
    ratio = stream["bandwidth"] / ceiling.bandwidth
    by_label = {row["label"]: row for row in sweep.rows()}
    tuned, naive = by_label[TUNED.label], by_label[NAIVE.label]
    return [
        BenchResult(SUITE, f"fio sequential read, direct I/O, QD32, one pass, best block size "
                    f"({job.block_size >> 20} MiB)", ceiling.bandwidth / 2**20, "MiB/s",
                    details={"engine": ceiling.engine, "direct": ceiling.direct,
                             "note": ceiling.note, "file_bytes": job.size,
                             "runs_MiBps": [r.bandwidth / 2**20 for r in ceilings],
                             "median_MiBps_by_job": {n: m.bandwidth / 2**20
                                                    for n, m in medians.items()}}),
        BenchResult(SUITE, "shard loader (4 read threads, O_DIRECT, raw) / fio sequential",
                    ratio, "x", goal=">= 0.80", goal_met=ratio >= 0.80,
                    details={"loader_MiBps": stream["bandwidth"] / 2**20,
                             "runs_MiBps": [r["bandwidth"] / 2**20 for r in streams],
                             "shard_files": len(shards.files), "bytes": shards.nbytes}),
        *[BenchResult(SUITE, f"AU, {name} loader ({row['label']}), median of {sweep.rounds} "
                      "interleaved rounds", row["au"], "fraction", goal=goal, goal_met=met,
                      details={**row, "verdict": sweep.verdict.as_dict(),
                               "workload": workload.source})
          for name, row, goal, met in (
              ("tuned", tuned, ">= 0.90 in every round (MLPerf Storage)",
               tuned["stability"] == STABLE_PASS),
              ("naive", naive, "below tuned: verdict supports the claim",
               sweep.verdict.outcome == SUPPORTS))],
    ]
