"""SIMULATED remote storage: a latency and bandwidth injector, a cache, and prefetching.

Lab 05: "remote storage". `SimulatedRemoteStore` stands in for network storage (NFS, Lustre,
an object store): every ``get`` reads the local file, then waits as if the bytes had crossed
a link with a fixed per-request ``latency_s`` and a ``bandwidth`` (bytes/s) shared by all
requests in flight. The numbers are parameters you choose, not measurements of any product;
everything it returns is real data, only the waiting is simulated.

Two ways to hide it: `CachedStore` keeps recently read objects in memory (the second epoch
hits the cache), and `RemoteBatches` keeps ``depth`` requests in flight with a thread pool
(latency overlaps; the shared bandwidth does not grow).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from .datasets import StoredDataset
from .readers import decode_jpeg

__all__ = ["SimulatedRemoteStore", "CachedStore", "RemoteBatches", "LABEL"]

LABEL = "SIMULATED remote storage (latency and bandwidth injected on local reads)"


class SimulatedRemoteStore:
    """``get(i)`` returns sample ``i``'s bytes after the simulated link's delay.

    Link model: a request's first byte arrives ``latency_s`` after it is sent; transfers then
    share one link of ``bandwidth`` bytes/s, one after another. So ``k`` requests in flight
    hide latency up to ``k`` times, but never exceed the bandwidth.
    """

    label = LABEL

    def __init__(self, stored: StoredDataset, *, latency_s: float, bandwidth: float):
        if stored.format != "jpeg-files":
            raise ValueError(f"format '{stored.format}' is not served remotely here "
                             "(valid: jpeg-files, one object per sample)")
        if latency_s < 0 or bandwidth <= 0:
            raise ValueError(f"latency_s {latency_s} must be >= 0 and bandwidth {bandwidth} "
                             "bytes/s > 0")
        self.files = [Path(f) for f in stored.files]
        self.labels = list(stored.labels)
        self.latency_s = latency_s
        self.bandwidth = bandwidth
        self._lock = threading.Lock()
        self._link_free = 0.0
        self.requests = 0
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.files)

    def get(self, index: int) -> bytes:
        data = self.files[index].read_bytes()
        now = time.perf_counter()
        with self._lock:
            start = max(now + self.latency_s, self._link_free)
            done = start + len(data) / self.bandwidth
            self._link_free = done
            self.requests += 1
            self.bytes += len(data)
        delay = done - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return data


class CachedStore:
    """An LRU cache of up to ``capacity_bytes`` in front of a store (local RAM or NVMe
    caching in front of a shared file system)."""

    def __init__(self, store: SimulatedRemoteStore, capacity_bytes: int):
        self.store = store
        self.labels = store.labels
        self.capacity = capacity_bytes
        self._items: OrderedDict[int, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self.store)

    def get(self, index: int) -> bytes:
        with self._lock:
            if index in self._items:
                self._items.move_to_end(index)
                self.hits += 1
                return self._items[index]
            self.misses += 1
        data = self.store.get(index)
        with self._lock:
            if index not in self._items and len(data) <= self.capacity:
                self._items[index] = data
                self._size += len(data)
                while self._size > self.capacity:
                    _, old = self._items.popitem(last=False)
                    self._size -= len(old)
        return data

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class RemoteBatches:
    """Batches of decoded samples fetched from ``store``; iterate once per epoch.

    ``depth=1`` fetches one sample at a time; ``depth=k`` keeps ``k`` fetches (and decodes)
    in flight on a thread pool, in order.
    """

    def __init__(self, store: SimulatedRemoteStore | CachedStore, batch_size: int = 32,
                 depth: int = 1):
        if depth < 1:
            raise ValueError(f"depth {depth} must be >= 1")
        self.store, self.batch_size, self.depth = store, batch_size, depth

    def __len__(self) -> int:
        return -(-len(self.store) // self.batch_size)

    def _load(self, index: int):
        return decode_jpeg(self.store.get(index)), self.store.labels[index]

    def _samples(self) -> Iterator:
        indices = range(len(self.store))
        if self.depth == 1:
            yield from map(self._load, indices)
            return
        with ThreadPoolExecutor(self.depth) as pool:
            pending: list = []
            for index in indices:
                pending.append(pool.submit(self._load, index))
                if len(pending) >= self.depth:
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        batch: list = []
        for item in self._samples():
            batch.append(item)
            if len(batch) == self.batch_size:
                yield torch.stack([x for x, _ in batch]), torch.tensor([y for _, y in batch])
                batch = []
        if batch:
            yield torch.stack([x for x, _ in batch]), torch.tensor([y for _, y in batch])

