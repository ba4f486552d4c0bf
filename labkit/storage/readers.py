"""Reading the three formats back: PyTorch datasets and a raw read-throughput probe.

Lab 05: "data formats" and "loader tuning". `JpegFiles` and `MmapArray` are map-style
datasets (random access, shuffling); `TarShards` is an iterable dataset that streams whole
shards with large sequential reads and splits the shards between DataLoader workers, which is
how WebDataset reads (https://github.com/webdataset/webdataset). With ``batch_size`` set it
batches inside the worker (use ``DataLoader(batch_size=None)``), so one batch crosses the
process boundary at a time; with ``decode=False`` it yields the raw payload of a whole shard.

Samples are ``(uint8 tensor C×H×W, label)``; converting to float is the model's job.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from .datasets import StoredDataset
from .directio import drop_from_page_cache

_ALIGN = 4096

__all__ = ["iter_tar", "decode_jpeg", "JpegFiles", "TarShards", "MmapArray", "make_dataset",
           "ReadResult", "read_throughput"]


def iter_tar(buf: bytes | bytearray | memoryview) -> Iterator[tuple[str, int, int]]:
    """``(name, offset, size)`` of each regular member of a ustar archive held in memory.

    A minimal reader for the archives `write_tar_shards` writes (names under 100 bytes, no pax
    headers); Python's tarfile reads the same files, more slowly.
    """
    view = memoryview(buf)
    pos, end = 0, len(view)
    while pos + 512 <= end:
        header = bytes(view[pos: pos + 512])
        if header[0] == 0:  # two zero blocks end the archive
            return
        name = header[:100].split(b"\0", 1)[0].decode()
        size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        if header[156:157] in (b"0", b"\0"):
            yield name, pos + 512, size
        pos += 512 + (size + 511) // 512 * 512


def decode_jpeg(data: bytes | memoryview) -> torch.Tensor:
    """JPEG bytes -> uint8 tensor (3, H, W), decoded by Pillow."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        array = np.array(img.convert("RGB"))
    return torch.from_numpy(array).permute(2, 0, 1)


class JpegFiles(Dataset):
    """One file per sample: open, read, decode (what ImageFolder does)."""

    def __init__(self, stored: StoredDataset):
        self.files = [str(f) for f in stored.files]
        self.labels = list(stored.labels)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        with open(self.files[index], "rb") as fh:
            return decode_jpeg(fh.read()), self.labels[index]


class MmapArray(Dataset):
    """Decoded pixels from a memory-mapped .npy; each worker maps the file itself."""

    def __init__(self, stored: StoredDataset):
        self.path = str(stored.root / "images.npy")
        self.labels = list(stored.labels)
        self._array = None

    def __len__(self) -> int:
        return len(self.labels)

    def __getstate__(self):  # never pickle the mapping into a worker
        return {**self.__dict__, "_array": None}

    def __getitem__(self, index: int):
        if self._array is None:
            self._array = np.load(self.path, mmap_mode="r")
        return torch.from_numpy(np.array(self._array[index])).permute(2, 0, 1), self.labels[index]


class TarShards(IterableDataset):
    """Stream shards; each DataLoader worker takes every ``num_workers``-th shard.

    ``read_threads`` > 0 reads that many shards ahead on a thread pool (the reads release
    the GIL), like DLIO's ``reader.read_threads``; ``direct`` reads with O_DIRECT, bypassing
    the page cache as fio's ``direct=1`` does (buffered where the file system refuses).
    """

    def __init__(self, stored: StoredDataset, *, decode: bool = True,
                 batch_size: int | None = None, read_threads: int = 0, direct: bool = False):
        self.files = [str(f) for f in stored.files]
        self.samples = stored.samples
        self.decode = decode
        self.batch_size = batch_size
        self.read_threads = read_threads
        self.direct = direct

    def __len__(self) -> int:
        if not self.decode:
            return len(self.files)
        return self.samples if self.batch_size is None else -(-self.samples // self.batch_size)

    def _my_files(self) -> list[str]:
        info = get_worker_info()
        return self.files if info is None else self.files[info.id:: info.num_workers]

    @staticmethod
    def read_shard(path: str, direct: bool = False, chunk: int = 4 * 1024**2) -> torch.Tensor:
        """The whole shard as a uint8 tensor, read with large sequential ``preadv`` calls."""
        size = os.path.getsize(path)
        padded = -(-size // _ALIGN) * _ALIGN
        raw = torch.empty(padded + _ALIGN, dtype=torch.uint8)
        start = -raw.data_ptr() % _ALIGN  # O_DIRECT needs an aligned buffer
        view = memoryview(raw.numpy())[start: start + padded]
        try:
            fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECT", 0) if direct else 0))
        except OSError:  # no O_DIRECT on this file system
            fd = os.open(path, os.O_RDONLY)
        try:
            done = 0
            while done < size:
                n = os.preadv(fd, [view[done: done + chunk]], done)
                if n <= 0:
                    raise OSError(f"shard {path} shrank while being read ({done} of {size} B)")
                done += n
        finally:
            os.close(fd)
        return raw[start: start + size]

    def _buffers(self) -> Iterator[torch.Tensor]:
        files = self._my_files()
        if self.read_threads <= 0:
            yield from (self.read_shard(f, self.direct) for f in files)
            return
        with ThreadPoolExecutor(self.read_threads) as pool:
            ahead = 2 * self.read_threads
            pending = [pool.submit(self.read_shard, f, self.direct) for f in files[:ahead]]
            for nxt in range(ahead, len(files) + ahead):
                buf = pending.pop(0).result()
                if nxt < len(files):
                    pending.append(pool.submit(self.read_shard, files[nxt], self.direct))
                yield buf
                if not pending:
                    return

    def __iter__(self):
        batch: list = []
        for buf in self._buffers():
            raw = buf.numpy()
            members = [(n, o, s) for n, o, s in iter_tar(raw)
                       if n.endswith(".jpg") or n.endswith(".cls")]
            if not self.decode:  # the raw payload: shard bytes + (offset, size) per JPEG
                spans = [(o, s) for n, o, s in members if n.endswith(".jpg")]
                yield buf, torch.tensor(spans, dtype=torch.int64)
                continue
            pending: dict[str, dict] = {}
            for name, offset, size in members:
                key, ext = name.split(".", 1)
                pending.setdefault(key, {})[ext] = raw[offset: offset + size]
                sample = pending[key]
                if "jpg" in sample and "cls" in sample:
                    del pending[key]
                    item = (decode_jpeg(sample["jpg"].tobytes()), int(sample["cls"].tobytes()))
                    if self.batch_size is None:
                        yield item
                        continue
                    batch.append(item)
                    if len(batch) == self.batch_size:
                        yield _collate(batch)
                        batch = []
        if batch:
            yield _collate(batch)


def _collate(items: list) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items])


def make_dataset(stored: StoredDataset, **kwargs) -> Dataset:
    """The PyTorch dataset that reads ``stored`` (kwargs go to `TarShards`)."""
    if stored.format == "jpeg-files":
        return JpegFiles(stored)
    if stored.format == "tar-shards":
        return TarShards(stored, **kwargs)
    if stored.format == "npy-mmap":
        return MmapArray(stored)
    raise ValueError(f"format '{stored.format}' is not a dataset format "
                     "(valid: jpeg-files, tar-shards, npy-mmap)")


@dataclass(frozen=True)
class ReadResult:
    """Reading every sample once in one process: samples/s and bytes/s from disk."""

    format: str
    samples: int
    nbytes: int
    seconds: float
    cold: bool
    decoded: bool

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds

    @property
    def mib_per_s(self) -> float:
        """Bytes read from disk per second, in MiB/s (the lab's one unit for bandwidth)."""
        return self.nbytes / self.seconds / 2**20

    def to_dict(self) -> dict:
        return {**self.__dict__, "samples_per_s": self.samples_per_s,
                "MiB_per_s": self.mib_per_s}


def read_throughput(stored: StoredDataset, *, cold: bool = True,
                    decode: bool = False) -> ReadResult:
    """Read (and optionally decode) every sample of ``stored`` once, in this process.

    ``cold`` first drops the files from the page cache, so the reads reach the device.
    """
    if cold:
        drop_from_page_cache(stored.files)
    start = time.perf_counter()
    if stored.format == "npy-mmap":
        array = np.load(stored.root / "images.npy", mmap_mode="r")
        for index in range(len(array)):
            np.array(array[index])  # touch the pages: a copy out of the mapping
        del array
    elif stored.format == "tar-shards":
        for path in stored.files:
            buf = Path(path).read_bytes()
            if decode:
                for name, offset, size in iter_tar(buf):
                    if name.endswith(".jpg"):
                        decode_jpeg(buf[offset: offset + size])
    else:
        for path in stored.files:
            data = Path(path).read_bytes()
            if decode:
                decode_jpeg(data)
    seconds = time.perf_counter() - start
    return ReadResult(stored.format, stored.samples, stored.nbytes, seconds, cold,
                      decode and stored.format != "npy-mmap")
