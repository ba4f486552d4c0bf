"""SIMULATED remote storage: the link model, the cache, prefetching."""

from __future__ import annotations

import time

import pytest

from labkit.storage.datasets import write_all_formats
from labkit.storage.remote import LABEL, CachedStore, RemoteBatches, SimulatedRemoteStore


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    return write_all_formats(tmp_path_factory.mktemp("remote"), 24, 16)


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_serial_requests_pay_the_latency_each_time(stored):
    store = SimulatedRemoteStore(stored["jpeg-files"], latency_s=0.01, bandwidth=1e12)
    took = _seconds(lambda: [store.get(i) for i in range(10)])
    assert 0.1 <= took < 1.0
    assert store.requests == 10 and store.bytes == sum(
        f.stat().st_size for f in stored["jpeg-files"].files[:10])


def test_requests_in_flight_hide_latency_but_not_bandwidth(stored):
    files = stored["jpeg-files"]
    fast = SimulatedRemoteStore(files, latency_s=0.02, bandwidth=1e12)
    assert _seconds(lambda: list(RemoteBatches(fast, 8, depth=12))) < 0.2  # 24 x 20 ms serial
    mean = files.nbytes / files.samples
    thin = SimulatedRemoteStore(files, latency_s=0.0, bandwidth=mean / 0.01)  # 10 ms/sample
    assert _seconds(lambda: list(RemoteBatches(thin, 8, depth=12))) >= 0.2


def test_cache_serves_the_second_epoch(stored):
    store = SimulatedRemoteStore(stored["jpeg-files"], latency_s=0.005, bandwidth=1e12)
    cached = CachedStore(store, capacity_bytes=10**9)
    first = _seconds(lambda: list(RemoteBatches(cached, 8)))
    second = _seconds(lambda: list(RemoteBatches(cached, 8)))
    assert cached.hits == 24 and cached.misses == 24 and cached.hit_rate == 0.5
    assert second < first / 2 and store.requests == 24


def test_small_cache_evicts(stored):
    store = SimulatedRemoteStore(stored["jpeg-files"], latency_s=0.0, bandwidth=1e12)
    cached = CachedStore(store, capacity_bytes=int(stored["jpeg-files"].nbytes / 3))
    for _ in range(2):
        for i in range(24):
            cached.get(i)
    assert cached.hits == 0  # LRU with a cyclic scan larger than the cache: never a hit


def test_batches_and_labels(stored):
    store = SimulatedRemoteStore(stored["jpeg-files"], latency_s=0.0, bandwidth=1e12)
    batches = list(RemoteBatches(store, 10, depth=4))
    assert [len(y) for _, y in batches] == [10, 10, 4] and len(RemoteBatches(store, 10)) == 3
    assert sum((y.tolist() for _, y in batches), []) == list(stored["jpeg-files"].labels)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"latency_s": -1, "bandwidth": 1}, "latency_s -1 must be >= 0"),
    ({"latency_s": 0, "bandwidth": 0}, "bandwidth 0 bytes/s > 0"),
], ids=["negative-latency", "zero-bandwidth"])
def test_bad_links(stored, kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimulatedRemoteStore(stored["jpeg-files"], **kwargs)


def test_only_one_object_per_sample_is_served(stored):
    with pytest.raises(ValueError, match="format 'tar-shards' is not served remotely"):
        SimulatedRemoteStore(stored["tar-shards"], latency_s=0, bandwidth=1)
    assert "SIMULATED" in LABEL
