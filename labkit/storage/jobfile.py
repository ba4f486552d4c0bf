"""fio job files: run one as written, and read back what fio actually did from its JSON.

Lab 05, "the raw ceiling" (the operated exercise). The student writes a job file; the lab runs
it exactly as fio's users do::

    fio --output-format=json --output=RESULT.json JOB.fio

and the checks read fio's own report: the options it ran with (``global options`` and each
job's ``job options``), the bandwidth (``read.bw_bytes``), the run time, and the queue depth
the I/Os were *submitted at* (``iodepth_level``, percent of I/Os per depth bucket 1, 2, 4, 8,
16, 32, >=64). That last one is state, not a setting: with fio's default synchronous engine
(psync) a job file can say ``iodepth=8`` and still keep one I/O in flight; with ``libaio`` and
``direct=1`` the depth is reached (fio documentation, "iodepth" and "libaio";
https://fio.readthedocs.io/en/latest/fio_doc.html; shared/reference/perf.md §3.3).

Without fio installed, `run_job_file` uses a clearly labelled substitute: the Python reader
of `labkit.storage.directio` runs each job, and the JSON it writes says
``"fio version": "labkit python substitute (fio not installed)"``; its ``iodepth_level`` is
modelled from the options (the depth for libaio/io_uring, 1 otherwise), not measured.
Units: bytes, MiB/s, seconds.
"""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
from pathlib import Path

from .directio import python_read
from .fio import FioError, FioJob, parse_size

__all__ = ["run_job_file", "job_summary", "SUBSTITUTE", "ASYNC_ENGINES"]

SUBSTITUTE = "labkit python substitute (fio not installed)"
ASYNC_ENGINES = ("libaio", "io_uring", "posixaio")


def _sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """The job file's sections in order: ``[(name, {option: value or ""})]``."""
    parser = configparser.ConfigParser(allow_no_value=True, interpolation=None, strict=False,
                                       delimiters=("=",), comment_prefixes=("#", ";"),
                                       default_section="\0none")
    parser.optionxform = str  # fio options are case-sensitive
    parser.read_string(text)
    return [(name, {k: (v or "").strip() for k, v in parser[name].items()})
            for name in parser.sections()]


def _substitute(job_file: Path, output: Path) -> dict:
    """Run each job of ``job_file`` with the Python reader; write a fio-shaped JSON."""
    sections = _sections(job_file.read_text())
    glob = next((opts for name, opts in sections if name == "global"), {})
    jobs = []
    for name, own in sections:
        if name == "global":
            continue
        opts = {**glob, **own}
        rw = opts.get("rw", opts.get("readwrite", "read"))
        if rw not in ("read", "randread"):
            raise FioError(f"the substitute runs read jobs only (rw=read or randread), "
                           f"job '{name}' has rw={rw}")
        depth = int(opts.get("iodepth", 1))
        engine = opts.get("ioengine", "psync")
        numjobs = int(opts.get("numjobs", 1))
        in_flight = (depth if engine in ASYNC_ENGINES else 1) * numjobs
        job = FioJob(name, rw, parse_size(opts.get("bs", "4k")), in_flight,
                     parse_size(opts.get("size", "64M")), float(opts.get("runtime", 2)),
                     direct=opts.get("direct", "0") == "1", ioengine=engine,
                     time_based="time_based" in opts)
        result = python_read(job, opts.get("filename", str(job_file.with_suffix(".bin"))))
        level = str(min(64, 1 << (max(1, depth if engine in ASYNC_ENGINES else 1)
                                   .bit_length() - 1)))
        entry = {"jobname": name, "error": 0, "job options": own,
                 "read": {"bw_bytes": result.bandwidth, "bw": result.bandwidth / 1024,
                          "iops": result.iops, "io_bytes": result.io_bytes,
                          "runtime": int(result.runtime_s * 1000)},
                 "iodepth_level": {level if level != "64" else ">=64": 100.0},
                 "note": result.note + "; iodepth_level modelled from the options"}
        jobs.append(entry)
    doc = {"fio version": SUBSTITUTE, "global options": glob, "jobs": jobs}
    output.write_text(json.dumps(doc, indent=2))
    return doc


def run_job_file(job_file: str | Path, output: str | Path, *, timeout_s: float = 120.0,
                 engine: str = "auto") -> dict:
    """Run fio on ``job_file``, its JSON report written to ``output``; return that report.

    Command-line equivalent: ``fio --output-format=json --output=OUTPUT JOB_FILE``. With
    ``engine="auto"`` fio runs when installed, else the labelled Python substitute
    (``engine="python"`` forces it). Raises `FioError` naming fio's complaint when fio
    rejects the file (a misspelt option, a missing file name) or runs past ``timeout_s``.
    """
    job_file, output = Path(job_file), Path(output)
    if engine not in ("auto", "fio", "python"):
        raise ValueError(f"engine '{engine}' is not one of auto, fio, python")
    if not job_file.is_file():
        raise FioError(f"no job file at {job_file}")
    output.unlink(missing_ok=True)
    if engine == "python" or (engine == "auto" and not shutil.which("fio")):
        return _substitute(job_file, output)
    argv = ["fio", "--output-format=json", f"--output={output}", str(job_file)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise FioError(f"fio ran past {timeout_s:g} s on {job_file.name} and was stopped "
                       "(is the job time_based with a short runtime?)") from None
    said = (proc.stderr or proc.stdout).strip()
    if proc.returncode != 0 or not output.is_file():
        output.unlink(missing_ok=True)  # fio may leave an empty or partial report
        raise FioError(f"fio rejected {job_file.name} (exit {proc.returncode}): {said[:300]}")
    text = output.read_text()
    start = text.find("{")
    if start < 0:
        output.unlink(missing_ok=True)
        raise FioError(f"fio wrote no JSON report for {job_file.name}: {said[:300]}")
    return json.loads(text[start:])


_LEVELS = ("1", "2", "4", "8", "16", "32", ">=64")


def job_summary(doc: dict, index: int = 0) -> dict:
    """What fio's JSON ``doc`` says about its ``index``-th job report, options merged.

    Keys: ``engine`` (fio's version or the substitute's label), ``reports`` (job entries in
    the JSON: one per process unless ``group_reporting``), ``name``, ``rw``, ``bs`` (bytes),
    ``numjobs``, ``iodepth``, ``ioengine``, ``direct`` (bool), ``filename``, ``runtime_s``
    (measured), ``mib_s``, ``iops``, ``depth_used`` (the ``iodepth_level`` bucket holding most
    I/Os, e.g. ``"8"``), ``depth_share`` (its percent) and ``error``.
    """
    jobs = doc.get("jobs", [])
    if not jobs:
        raise ValueError("the fio report has no jobs")
    job = jobs[index]
    opts = {**doc.get("global options", {}), **job.get("job options", {})}
    read = job.get("read", {})
    levels = job.get("iodepth_level", {})
    depth_used = max(_LEVELS, key=lambda k: float(levels.get(k, 0.0))) if levels else None
    return {
        "engine": doc.get("fio version", "fio"), "reports": len(jobs),
        "name": job.get("jobname"), "error": job.get("error", 0),
        "rw": opts.get("rw", opts.get("readwrite", "read")),
        "bs": parse_size(opts.get("bs", "4k")), "numjobs": int(opts.get("numjobs", 1)),
        "iodepth": int(opts.get("iodepth", 1)), "ioengine": opts.get("ioengine", "psync"),
        "direct": str(opts.get("direct", "0")) == "1", "filename": opts.get("filename"),
        "runtime_s": read.get("runtime", 0) / 1000.0,
        "mib_s": float(read.get("bw_bytes", read.get("bw", 0) * 1024)) / 2**20,
        "iops": float(read.get("iops", 0.0)), "depth_used": depth_used,
        "depth_share": float(levels.get(depth_used, 0.0)) if depth_used else 0.0,
        "note": job.get("note", ""),
    }
