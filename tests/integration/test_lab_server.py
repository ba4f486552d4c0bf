"""`make lab` serves JupyterLab on 127.0.0.1 with token authentication on."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from labkit.pipeline.server import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _status(url: str) -> int:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.fixture
def lab_server(tmp_path):
    port = free_port()
    log = tmp_path / "lab.log"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"))
    with open(log, "w") as fh:
        proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS=--ServerApp.port={port}"],
                                cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        url = None
        while time.monotonic() < deadline and url is None:
            match = re.search(rf"(http://127\.0\.0\.1:{port}/lab\?token=\w+)", log.read_text())
            url = match.group(1) if match else None
            assert proc.poll() is None, log.read_text()
            time.sleep(0.3)
        assert url, f"no URL printed within 90 s:\n{log.read_text()}"
        yield port, url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_lab_answers_with_token_and_refuses_without(lab_server):
    port, url = lab_server
    assert _status(url) == 200
    assert _status(f"http://127.0.0.1:{port}/lab") in {302, 403}
    assert _status(f"http://127.0.0.1:{port}/api/contents/00-environment") == 403
    token = url.split("token=")[1]
    listing = f"http://127.0.0.1:{port}/api/contents/00-environment?token={token}"
    assert _status(listing) == 200, "the lab folder is served from labs/"
