"""Reads that bypass (or empty) the page cache: the Python fallback for fio, and cache control.

Lab 05: "the raw ceiling". When fio is installed, `measure_read` runs it (`labkit.storage.fio`).
Without fio it measures the same job in Python and says so in ``FioResult.engine``/``note``:

- ``python O_DIRECT``: ``os.open(..., O_DIRECT)`` and ``os.preadv`` into page-aligned buffers,
  ``iodepth`` threads each keeping one read in flight (preadv releases the GIL);
- ``python buffered``: where the file system refuses O_DIRECT, plain reads after
  ``posix_fadvise(POSIX_FADV_DONTNEED)`` dropped the file from the page cache (cold start,
  but the kernel's readahead still helps, so this is not a direct-I/O number).

`drop_from_page_cache` is the unprivileged stand-in for ``echo 3 > /proc/sys/vm/drop_caches``
(root only, whole machine): it drops one file's clean pages. Units: bytes, bytes/s, µs.
"""

from __future__ import annotations

import mmap
import os
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .fio import FioError, FioJob, FioResult, fio_version, run_fio

__all__ = ["drop_from_page_cache", "prepare_file", "supports_odirect", "python_read",
           "measure_read"]

_ALIGN = 4096  # page size: satisfies the logical block size of every common device


def drop_from_page_cache(paths: str | Path | Iterable[str | Path]) -> int:
    """fsync and drop each file's pages from the page cache; return the bytes dropped.

    Like ``dd of=FILE oflag=nocache conv=notrunc,fdatasync count=0`` for one file; needs no
    root. Dirty pages are written first (fsync), since DONTNEED drops clean pages only.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    total = 0
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            if hasattr(os, "posix_fadvise"):  # Linux; elsewhere the cache stays warm
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            total += os.fstat(fd).st_size
        finally:
            os.close(fd)
    return total


def prepare_file(path: str | Path, size: int, *, seed: int = 0) -> Path:
    """Write ``size`` bytes of incompressible data to ``path`` (reused when already that size),
    then drop it from the page cache. The same file serves fio and the Python fallback."""
    path = Path(path)
    if path.exists() and path.stat().st_size == size:
        drop_from_page_cache(path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    chunk = rng.randbytes(4 * 1024**2)
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            fh.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    drop_from_page_cache(path)
    return path


def supports_odirect(folder: str | Path) -> bool:
    """True when files in ``folder`` can be opened with O_DIRECT (tmpfs before Linux 6.6,
    and some network file systems, refuse it)."""
    if not hasattr(os, "O_DIRECT"):
        return False
    probe = Path(folder) / f".odirect-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o600)
        os.close(fd)
        return True
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)


def _offsets(job: FioJob, size: int, rng: random.Random):
    """Block offsets: in order (wrapping) or uniformly random; one pass when not time based."""
    blocks = max(1, size // job.block_size)
    index = 0
    while job.time_based or index < blocks:
        if job.rw == "randread":
            yield rng.randrange(blocks) * job.block_size
        else:
            yield (index % blocks) * job.block_size
        index += 1


def python_read(job: FioJob, path: str | Path, *, seed: int = 0) -> FioResult:
    """Measure ``job`` on ``path`` in Python (fio's stand-in), direct when the file system
    allows it. ``iodepth`` threads each keep one ``preadv`` in flight for ``runtime_s``
    (or for one pass over ``size`` bytes when ``job.time_based`` is False)."""
    path = Path(path)
    size = min(job.size, path.stat().st_size)
    direct = job.direct and supports_odirect(path.parent)
    if not direct:
        drop_from_page_cache(path)
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECT", 0) if direct else 0))
    lock = threading.Lock()
    offsets = _offsets(job, size, random.Random(seed))
    deadline = time.perf_counter() + job.runtime_s

    def worker() -> tuple[int, list[float]]:
        buf = mmap.mmap(-1, job.block_size)  # anonymous mmap: page aligned, as O_DIRECT needs
        done, lat = 0, []
        while time.perf_counter() < deadline:
            with lock:
                offset = next(offsets, None)
            if offset is None:
                break
            t0 = time.perf_counter()
            done += os.preadv(fd, [buf], offset)
            lat.append(time.perf_counter() - t0)
        buf.close()
        return done, lat

    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(job.iodepth) as pool:
            parts = list(pool.map(lambda _: worker(), range(job.iodepth)))
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - start
    io_bytes = sum(p[0] for p in parts)
    lat = sorted(x for p in parts for x in p[1])

    def pct(q: float) -> float | None:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1e6 if lat else None

    engine = "python O_DIRECT" if direct else "python buffered"
    note = ("fio not installed: Python preadv fallback, one thread per queue slot"
            + ("" if direct else "; no O_DIRECT on this file system, so buffered reads after "
               "posix_fadvise(DONTNEED) (kernel readahead still applies)"))
    return FioResult(name=job.name, rw=job.rw, block_size=job.block_size, iodepth=job.iodepth,
                     bandwidth=io_bytes / elapsed, iops=len(lat) / elapsed, p50_us=pct(0.50),
                     p99_us=pct(0.99), io_bytes=io_bytes, runtime_s=elapsed, engine=engine,
                     direct=direct, note=note,
                     mean_us=sum(lat) / len(lat) * 1e6 if lat else None)


def measure_read(job: FioJob, path: str | Path, *, engine: str = "auto") -> FioResult:
    """Run ``job`` on ``path`` with fio (``engine="fio"``), the Python fallback
    (``"python"``), or fio when installed else Python (``"auto"``).

    On a file system without O_DIRECT, fio runs buffered (its default ``invalidate=1``
    empties the file's cache first) and the result's note says so.
    """
    if engine not in ("auto", "fio", "python"):
        raise ValueError(f"engine '{engine}' is not one of auto, fio, python")
    path = Path(path)
    if not path.exists() or path.stat().st_size < job.size:
        prepare_file(path, job.size)
    if engine == "python" or (engine == "auto" and fio_version() is None):
        return python_read(job, path)
    if job.direct and not supports_odirect(path.parent):
        result = run_fio(FioJob(**{**job.__dict__, "direct": False}), path)
        return FioResult(**{**result.__dict__, "note": "no O_DIRECT on this file system: "
                            "fio ran buffered after invalidating the file's page cache"})
    try:
        return run_fio(job, path)
    except FioError as exc:
        if engine == "fio" or "libaio" not in job.ioengine:
            raise
        # A fio built without libaio: psync keeps one I/O in flight per job.
        result = run_fio(FioJob(**{**job.__dict__, "ioengine": "psync"}), path)
        return FioResult(**{**result.__dict__, "note": f"libaio failed ({exc}); psync used"})
