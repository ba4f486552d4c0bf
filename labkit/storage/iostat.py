"""Device statistics while a load runs: iostat (sysstat) samples and /proc/diskstats deltas.

Lab 05: "the raw ceiling" and "data formats". Generic form, then what `IostatSampler` runs::

    iostat -d -x -y [-p DEVICE] INTERVAL [COUNT]
    iostat -d -x -y 1

``-x`` gives the extended columns (``r/s``, ``rkB/s``, ``r_await`` ms, ``rareq-sz`` kB,
``aqu-sz``, ``%util``), ``-y`` skips the since-boot report. iostat itself reads
``/proc/diskstats`` (kernel Documentation/admin-guide/iostats.rst); `DiskCounters` reads the
same counters before and after a load, so a summary exists even without sysstat.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IostatSampler", "parse_iostat_text", "device_for_path", "DiskCounters",
           "iostat_available"]


def iostat_available() -> bool:
    return shutil.which("iostat") is not None


def _number(text: str) -> float | str:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return text


def parse_iostat_text(text: str, device: str | None = None) -> list[dict]:
    """Samples from ``iostat -d -x`` text: one dict per device line, keyed by the header's
    column names (``Device``, ``r/s``, ``rkB/s``, ``%util``, ...), numbers as floats.

    Only ``device``'s lines when it is given. Works for any sysstat column set, since every
    report repeats its header.
    """
    samples, header = [], None
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0].rstrip(":") == "Device":
            header = ["Device", *fields[1:]]
            continue
        if header is None or len(fields) != len(header):
            continue  # the banner line, or a line cut short by stopping iostat
        if device is None or fields[0] == device:
            samples.append({k: (v if k == "Device" else _number(v))
                            for k, v in zip(header, fields, strict=True)})
    return samples


def device_for_path(path: str | Path) -> str | None:
    """The block device (``vda``, ``nvme0n1``) holding ``path``, or None (tmpfs, overlay)."""
    st = os.stat(path)
    sysdir = Path(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}")
    if not sysdir.exists():
        return None
    real = sysdir.resolve()
    if (real / "partition").exists():  # a partition: report its disk, as iostat -d does
        real = real.parent
    return real.name


class IostatSampler:
    """Run ``iostat -d -x -y INTERVAL`` while a block runs; ``.samples`` afterwards.

    Without sysstat it records nothing and ``.note`` says so. iostat's first report comes
    after one interval, so loads shorter than ``interval`` seconds may give no sample.
    """

    def __init__(self, device: str | None = None, interval: int = 1):
        self.device = device
        self.interval = max(1, int(interval))
        self.available = iostat_available()
        self.samples: list[dict] = []
        self.note = ("" if self.available else
                     "iostat not installed (apt-get install sysstat): no per-second samples")
        self._proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def command(self) -> list[str]:
        return ["iostat", "-d", "-x", "-y", str(self.interval)]

    def __enter__(self) -> IostatSampler:
        if self.available:
            env = {**os.environ, "LC_ALL": "C", "S_COLORS": "never"}
            self._proc = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True, env=env)
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.append(line)

    def __exit__(self, *exc) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=5)
        self.samples = parse_iostat_text("".join(self._lines), self.device)


@dataclass(frozen=True)
class DiskCounters:
    """One device's read counters from /proc/diskstats (sectors are 512 bytes there)."""

    device: str
    reads: int
    read_bytes: int
    read_ms: int
    busy_ms: int
    when: float

    @classmethod
    def read(cls, device: str) -> DiskCounters | None:
        """The counters now, or None when the device is not in /proc/diskstats."""
        try:
            lines = Path("/proc/diskstats").read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            f = line.split()
            if len(f) >= 13 and f[2] == device:
                return cls(device, int(f[3]), int(f[5]) * 512, int(f[6]), int(f[12]),
                           time.monotonic())
        return None

    def delta(self, later: DiskCounters) -> dict:
        """Read MiB/s (2^20 bytes/s), IOPS, average read size (KiB), await (ms) and %util
        between two readings, as iostat computes them."""
        dt = max(later.when - self.when, 1e-9)
        reads = later.reads - self.reads
        nbytes = later.read_bytes - self.read_bytes
        return {"device": self.device, "seconds": dt, "read_MiBps": nbytes / dt / 2**20,
                "r/s": reads / dt, "rareq_KiB": nbytes / reads / 1024 if reads else 0.0,
                "r_await_ms": (later.read_ms - self.read_ms) / reads if reads else 0.0,
                "util_pct": min(100.0, (later.busy_ms - self.busy_ms) / dt / 10.0)}
