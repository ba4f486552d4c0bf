"""labkit.storage: Lab 05, storage and data loading, measured against their limits.

- `fio` / `directio`: the raw ceiling (fio with direct I/O; a labelled Python fallback);
- `iostat`: device statistics while a load runs (sysstat's iostat, /proc/diskstats);
- `datasets` / `readers`: one synthetic image dataset as small JPEG files, tar shards and a
  memory-mapped array, and the PyTorch datasets that read them;
- `loader`: DataLoader settings and their throughput;
- `au`: DLIO-style accelerator utilisation against MLPerf Storage's pass rule;
- `remote`: SIMULATED remote storage, with caching and prefetching hiding it;
- `headline`: the AU and remote-storage experiments in interleaved rounds, with verdicts
  (``bench_verdicts`` for ``make bench``);
- `jobfile`: run a fio job file as written and read back what fio did;
- `bench`: ``make bench storage``.
"""

from .au import WORKLOADS, AUResult, Workload, emulate_training, get_workload
from .datasets import FORMATS, StoredDataset, synthetic_images, write_all_formats
from .directio import drop_from_page_cache, measure_read, prepare_file, supports_odirect
from .fio import FioError, FioJob, FioResult, fio_version, parse_fio_json
from .headline import (
    NAIVE,
    TUNED,
    AUSweep,
    RemoteRounds,
    bench_verdicts,
    run_au_sweep,
    run_remote_rounds,
    stability,
)
from .iostat import DiskCounters, IostatSampler, device_for_path, parse_iostat_text
from .jobfile import job_summary, run_job_file
from .loader import LoaderConfig, LoaderResult, make_loader, measure_loader
from .readers import ReadResult, make_dataset, read_throughput
from .remote import CachedStore, RemoteBatches, SimulatedRemoteStore

__all__ = [
    "NAIVE", "TUNED", "AUSweep", "RemoteRounds", "bench_verdicts", "run_au_sweep",
    "run_remote_rounds", "stability", "job_summary", "run_job_file",
    "AUResult", "CachedStore", "DiskCounters", "FORMATS", "FioError", "FioJob", "FioResult",
    "IostatSampler", "LoaderConfig", "LoaderResult", "ReadResult", "RemoteBatches",
    "SimulatedRemoteStore", "StoredDataset", "WORKLOADS", "Workload", "device_for_path",
    "drop_from_page_cache", "emulate_training", "fio_version", "get_workload",
    "make_dataset", "make_loader", "measure_loader", "measure_read", "parse_fio_json",
    "parse_iostat_text", "prepare_file", "read_throughput", "supports_odirect",
    "synthetic_images", "write_all_formats",
]
