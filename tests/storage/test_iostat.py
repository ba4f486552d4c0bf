"""iostat text parsing (recorded output), the device of a path, /proc/diskstats deltas."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from labkit.storage.iostat import (
    DiskCounters,
    IostatSampler,
    device_for_path,
    iostat_available,
    parse_iostat_text,
)

DATA = Path(__file__).parent / "data"


def test_parse_recorded_iostat():
    samples = parse_iostat_text((DATA / "iostat_dx_sysstat12.6.txt").read_text())
    assert [s["Device"] for s in samples] == ["vda", "vda"]
    assert samples[0]["r/s"] == 29.0 and samples[0]["rkB/s"] == 524.0
    assert samples[1]["%util"] == 1.2 and samples[1]["r_await"] == 0.40


@pytest.mark.parametrize(("device", "count"), [("vda", 2), ("nvme0n1", 0), (None, 2)],
                         ids=["present", "absent", "all"])
def test_device_filter(device, count):
    text = (DATA / "iostat_dx_sysstat12.6.txt").read_text()
    assert len(parse_iostat_text(text, device)) == count


def test_comma_decimals_and_truncated_lines():
    text = "Device r/s %util\nsda 1,50 2,00\nsda 3.0\n"
    assert parse_iostat_text(text) == [{"Device": "sda", "r/s": 1.5, "%util": 2.0}]


def test_device_for_path_is_in_diskstats(tmp_path):
    device = device_for_path(tmp_path)
    if device is None:
        pytest.skip("tmp_path is not on a block device (tmpfs or overlay)")
    assert DiskCounters.read(device) is not None


@pytest.mark.parametrize(("before", "after", "expected"), [
    ((100, 2048, 50, 100), (200, 2048 + 204800, 150, 600),
     {"r/s": 100.0, "read_MiBps": 100.0, "r_await_ms": 1.0, "util_pct": 50.0}),
    ((5, 0, 0, 0), (5, 0, 0, 0), {"r/s": 0.0, "read_MiBps": 0.0, "r_await_ms": 0.0,
                                  "util_pct": 0.0}),
], ids=["busy", "idle"])
def test_diskstats_delta(before, after, expected):
    first = DiskCounters("vda", before[0], before[1] * 512, before[2], before[3], 10.0)
    later = DiskCounters("vda", after[0], after[1] * 512, after[2], after[3], 11.0)
    delta = first.delta(later)
    for key, value in expected.items():
        assert delta[key] == pytest.approx(value)


@pytest.mark.skipif(not iostat_available(), reason="sysstat is not installed")
def test_real_sampler_collects_samples():
    with IostatSampler(interval=1) as sampler:
        time.sleep(1.6)
    assert sampler.samples and "%util" in sampler.samples[0]
    assert sampler._proc.poll() is not None  # iostat was stopped


def test_sampler_without_sysstat_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with IostatSampler() as sampler:
        pass
    assert sampler.samples == [] and "apt-get install sysstat" in sampler.note
