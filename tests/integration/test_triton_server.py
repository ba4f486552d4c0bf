"""The embedded tritonserver starts, answers readiness, and stops; failures are explained."""

from __future__ import annotations

import urllib.request

import pytest

from labkit.pipeline.server import TritonServer, TritonServerError

pytestmark = pytest.mark.slow


def test_starts_ready_serves_metrics_and_stops(tmp_path):
    repo = tmp_path / "models"
    repo.mkdir()
    server = TritonServer(repo, workdir=tmp_path)
    with server:
        assert server.is_ready()
        with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
            assert resp.status == 200
        proc = server.process
    assert proc.poll() is not None, "the server process is gone after the block"
    assert not server.is_ready()
    assert "Signal (2) received" in server.log_path.read_text()


def test_missing_repository_is_refused_before_starting(tmp_path):
    with pytest.raises(TritonServerError, match="is not a folder"):
        TritonServer(tmp_path / "nope", workdir=tmp_path).start()


def test_a_broken_model_repository_fails_with_the_log(tmp_path):
    repo = tmp_path / "models"
    (repo / "broken").mkdir(parents=True)
    (repo / "broken" / "config.pbtxt").write_text("this is not a model config {")
    server = TritonServer(repo, workdir=tmp_path, startup_timeout=30)
    with pytest.raises(TritonServerError, match="exited with code") as info:
        server.start()
    assert "broken" in str(info.value)
    assert server.process is None
