"""fio, the raw-disk ceiling: job spec, command line, JSON parser and runner.

Lab 05: "the raw ceiling". Generic form, then the sequential job this module builds::

    fio --name=NAME --filename=FILE --size=SIZE --rw=read|randread --bs=BS --iodepth=QD
        --ioengine=libaio --direct=1 --runtime=SECONDS --time_based --output-format=json
    fio --name=seq-read --filename=/tmp/x/ceiling.bin --size=64M --rw=read --bs=1M
        --iodepth=32 --ioengine=libaio --direct=1 --runtime=2 --time_based --output-format=json

Option meanings and the JSON fields follow the fio documentation
(https://fio.readthedocs.io/en/latest/fio_doc.html; ref §3.3):
``direct=1`` is O_DIRECT (no page cache), ``bw`` is KiB/s, ``bw_bytes`` bytes/s,
``clat_ns.percentile`` completion latency in ns, ``lat_ns.mean`` the mean total latency
(submission + completion) in ns, the one Little's law relates to IOPS and queue depth. fio
also invalidates the file's page cache before a job (``invalidate=1`` is its default).
Units here: bytes, bytes/s, seconds, µs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["FioJob", "FioResult", "FioError", "fio_version", "parse_fio_json", "run_fio",
           "parse_size"]

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


class FioError(RuntimeError):
    """fio could not run a job; the message names the job, fio's error and what to do."""


def parse_size(text: str | int) -> int:
    """Bytes from a fio-style size: ``4k`` -> 4096, ``1M`` -> 1048576 (fio's default
    binary units), or an int passed through."""
    if isinstance(text, int):
        return text
    value = str(text).strip().lower().removesuffix("ib").removesuffix("b")
    unit = value[-1] if value and value[-1] in _UNITS else ""
    number = value[: len(value) - len(unit)]
    try:
        return int(float(number) * _UNITS[unit])
    except ValueError:
        raise ValueError(f"size '{text}' is not a size (expected e.g. 4k, 1M, 64M, 1G)") from None


@dataclass(frozen=True)
class FioJob:
    """One read job. ``rw`` is ``read`` (sequential) or ``randread``; sizes in bytes."""

    name: str
    rw: str = "read"
    block_size: int = 1024**2
    iodepth: int = 32
    size: int = 64 * 1024**2
    runtime_s: float = 2.0
    direct: bool = True
    ioengine: str = "libaio"
    time_based: bool = True  # False: one pass over ``size`` bytes (runtime_s is a cap)

    def __post_init__(self):
        if self.rw not in ("read", "randread"):
            raise ValueError(f"rw '{self.rw}' is not a read pattern (valid: read, randread)")
        if self.block_size <= 0 or self.block_size % 512:
            raise ValueError(f"block_size {self.block_size} must be a positive multiple of 512 "
                             "bytes (direct I/O needs aligned blocks)")
        if self.iodepth < 1:
            raise ValueError(f"iodepth {self.iodepth} must be >= 1")


@dataclass(frozen=True)
class FioResult:
    """What one read measurement gives: bandwidth (bytes/s), IOPS, latency (µs).

    ``p50_us``/``p99_us`` are completion-latency percentiles; ``mean_us`` is the mean total
    latency of an I/O (fio's ``lat_ns.mean``), so that IOPS ~ iodepth / mean latency (Little's
    law). ``engine`` says who measured ("fio-3.33" or the Python fallback) and ``direct``
    whether the page cache was bypassed; ``note`` labels anything that is not a plain fio run.
    """

    name: str
    rw: str
    block_size: int
    iodepth: int
    bandwidth: float
    iops: float
    p50_us: float | None
    p99_us: float | None
    io_bytes: int
    runtime_s: float
    engine: str
    direct: bool
    note: str = ""
    mean_us: float | None = None

    @property
    def mib_s(self) -> float:
        return self.bandwidth / 1024**2

    def to_dict(self) -> dict:
        return {**self.__dict__, "mib_s": self.mib_s}


def fio_version() -> str | None:
    """``fio --version`` (e.g. ``fio-3.33``), or None when fio is not installed."""
    exe = shutil.which("fio")
    if not exe:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
    return out.stdout.strip() or None


def _fio_argv(job: FioJob, path: str | Path) -> list[str]:
    """The fio argv for ``job`` on the file ``path`` (JSON output, time based).

    Private: Lab 05's fio exercise asks students to write a job file themselves."""
    return ["fio", f"--name={job.name}", f"--filename={path}", f"--size={job.size}",
            f"--rw={job.rw}", f"--bs={job.block_size}", f"--iodepth={job.iodepth}",
            f"--ioengine={job.ioengine}", f"--direct={int(job.direct)}",
            f"--runtime={job.runtime_s:g}", *(["--time_based"] if job.time_based else []),
            "--output-format=json"]


def _percentile(clat: dict, key: str) -> float | None:
    value = clat.get("percentile", {}).get(key)
    return None if value is None else value / 1000.0


def parse_fio_json(text: str) -> list[FioResult]:
    """One `FioResult` per job of fio's ``--output-format=json`` text (read direction).

    fio may print warnings before the JSON; everything before the first ``{`` is skipped.
    A job whose ``error`` is not 0 raises `FioError`.
    """
    start = text.find("{")
    if start < 0:
        raise FioError("fio printed no JSON (expected --output-format=json output); "
                       f"it said: {text.strip()[:200]!r}")
    doc = json.loads(text[start:])
    version = doc.get("fio version", "fio")
    results = []
    for job in doc.get("jobs", []):
        name = job.get("jobname", "?")
        if job.get("error"):
            raise FioError(f"fio job '{name}' failed with error {job['error']} "
                           "(errno); check the file system supports the options "
                           "(direct=1 needs O_DIRECT)")
        opts = job.get("job options", {})
        read = job["read"]
        bandwidth = read.get("bw_bytes", read.get("bw", 0) * 1024)
        clat = read.get("clat_ns", {})
        mean_ns = read.get("lat_ns", {}).get("mean", clat.get("mean"))
        results.append(FioResult(
            name=name, rw=opts.get("rw", "read"), block_size=parse_size(opts.get("bs", "4k")),
            iodepth=int(opts.get("iodepth", 1)), bandwidth=float(bandwidth),
            iops=float(read.get("iops", 0.0)), p50_us=_percentile(clat, "50.000000"),
            p99_us=_percentile(clat, "99.000000"), io_bytes=int(read.get("io_bytes", 0)),
            runtime_s=read.get("runtime", 0) / 1000.0, engine=version,
            direct=str(opts.get("direct", "0")) == "1",
            mean_us=None if mean_ns is None else mean_ns / 1000.0))
    return results


def run_fio(job: FioJob, path: str | Path, *, timeout_s: float | None = None) -> FioResult:
    """Run ``job`` with the real fio on ``path`` and parse its JSON.

    Raises `FioError` when fio is missing, fails, or runs past ``timeout_s``
    (default: the job's runtime + 60 s for laying out the file).
    """
    if not shutil.which("fio"):
        raise FioError("fio is not installed (apt-get install fio); "
                       "labkit.storage.measure_read() falls back to Python reads")
    argv = _fio_argv(job, path)
    limit = timeout_s if timeout_s is not None else job.runtime_s + 60
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        raise FioError(f"fio job '{job.name}' ran past {limit:g} s and was stopped") from None
    if out.returncode != 0:
        raise FioError(f"fio job '{job.name}' exited {out.returncode}: "
                       f"{(out.stderr or out.stdout).strip()[:300]}")
    (result,) = parse_fio_json(out.stdout)
    return replace(result, name=job.name)
