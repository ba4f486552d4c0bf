"""Host networking: memcpy bandwidth, settings, iperf3 output (recorded) and a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.net.hostnet import (
    NCCL_VARIABLES,
    iperf3_available,
    iperf3_loopback,
    memcpy_bandwidth,
    network_settings,
    parse_iperf3_json,
)

DATA = Path(__file__).parent / "data"


def test_parse_recorded_iperf3():
    text = (DATA / "iperf3_loopback_1s.json").read_text()
    result = parse_iperf3_json(text)
    assert result["bits_per_second"] == json.loads(text)["end"]["sum_received"][
        "bits_per_second"]
    assert result["seconds"] == pytest.approx(1.0, abs=0.1)
    assert result["retransmits"] is not None


def test_iperf3_error_is_raised():
    with pytest.raises(RuntimeError, match="Connection refused"):
        parse_iperf3_json((DATA / "iperf3_refused.json").read_text())


def test_memcpy_bandwidth_is_plausible():
    bandwidth = memcpy_bandwidth(16 * 1024**2, repeats=3)
    assert 1e8 < bandwidth < 1e12  # between 0.1 GB/s and 1 TB/s on any host


def test_network_settings():
    settings = network_settings()
    assert settings["mtu"].get("lo", 0) > 0
    assert set(settings["sysctl"]) == {"net.core.rmem_max", "net.core.wmem_max",
                                       "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
    assert all(k.startswith("NCCL_") for k in settings["nccl_env"])
    assert all(k.startswith("NCCL_") for k in NCCL_VARIABLES)


@pytest.mark.skipif(not iperf3_available(), reason="iperf3 is not installed")
def test_real_iperf3_loopback():
    result = iperf3_loopback(1)
    assert result["bits_per_second"] > 1e8 and "127.0.0.1" in result["command"]


def test_iperf3_absent_gives_none(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert iperf3_loopback(1) is None
