"""Start and stop the embedded Triton Inference Server (the binary in nvidia-pytriton).

Lab 07 serves models with it, and ``labkit doctor`` proves it starts. Equivalent command::

    tritonserver --model-repository=DIR --backend-directory=DIR --http-port=N ...

What this module does that a bare ``tritonserver`` call does not:

- prepares a backend directory with the Python backend and the stub built for *this*
  Python version beside it, which the wheel keeps apart;
- puts the wheel's bundled libraries and this Python's ``LIBDIR`` first on
  ``LD_LIBRARY_PATH`` (otherwise the stub can load a system libpython of another patch
  release and fail; shared/reference/perf.md §1.7);
- puts this interpreter's ``bin`` folder first on ``PATH``: the stub's embedded Python finds
  its prefix from the ``python3`` on ``PATH`` and ignores ``PYTHONPATH``, so without this a
  Python-backend ``model.py`` cannot import numpy, onnxruntime or DALI from the course's
  virtual environment (nvidia-pytriton does the same in ``TritonServer._get_env``);
- picks free ports, binds to 127.0.0.1, streams the log to a file;
- waits for ``/v2/health/ready`` with a deadline instead of a fixed sleep;
- stops cleanly (SIGINT, then SIGKILL after a grace period) on exit or interrupt, and gets
  SIGTERM if the process that started it dies without stopping it (a killed kernel).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

from labkit.ports import free_port
from labkit.procs import die_with_parent

__all__ = ["TritonServer", "TritonServerError", "triton_home", "free_port"]


class TritonServerError(RuntimeError):
    """The server could not be found, started, or did not become ready in time."""


def triton_home() -> Path:
    """The ``pytriton/tritonserver`` folder of the installed nvidia-pytriton wheel."""
    try:
        import pytriton
    except ImportError as exc:
        raise TritonServerError(
            "nvidia-pytriton is not installed, so there is no embedded tritonserver "
            "(it ships Linux x86_64 wheels only): run 'make setup' on Linux, or use "
            "'docker compose up triton-server'") from exc
    home = Path(pytriton.__file__).parent / "tritonserver"
    if not (home / "bin" / "tritonserver").is_file():
        raise TritonServerError(f"no tritonserver binary under {home}")
    return home



def _backend_dir(home: Path, cache: Path) -> Path:
    """A backends/ folder whose python/ holds the backend and this Python's stub."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = home / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.is_file():
        raise TritonServerError(f"the embedded Triton has no Python backend stub for "
                                f"Python {version} (looked for {stub})")
    target = cache / f"triton-backends-py{version}"
    python_dir = target / "python"
    python_dir.mkdir(parents=True, exist_ok=True)
    for src in [*sorted((home / "backends" / "python").glob("*.*")), stub]:
        dst = python_dir / src.name
        if src.is_file() and (not dst.exists() or dst.stat().st_size != src.stat().st_size):
            shutil.copy2(src, dst)
    return target


def _library_path(home: Path) -> str:
    libs = home.parent.parent / "nvidia_pytriton.libs"
    parts = [str(libs), sysconfig.get_config_var("LIBDIR") or "",
             os.environ.get("LD_LIBRARY_PATH", "")]
    return os.pathsep.join(p for p in parts if p)


def _search_path() -> str:
    """This interpreter's bin folder first on PATH (the venv's, when one is active)."""
    parts = [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    return os.pathsep.join(p for p in parts if p)


class TritonServer:
    """An embedded tritonserver process; use it as a context manager.

    >>> with TritonServer(repo) as server:        # doctest: +SKIP
    ...     client = httpclient.InferenceServerClient(server.http_address)
    """

    def __init__(self, model_repository: Path, *, log_path: Path | None = None,
                 startup_timeout: float = 60.0, extra_args: tuple[str, ...] = (),
                 workdir: Path | None = None, exit_timeout: int = 5):
        self.model_repository = Path(model_repository)
        self.workdir = Path(workdir or Path(os.environ.get("XDG_CACHE_HOME")
                                            or Path.home() / ".cache") / "labkit")
        self.log_path = Path(log_path or self.workdir / "tritonserver.log")
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        # Seconds tritonserver waits for in-flight requests and open client connections
        # when told to stop (its own default is 30; an idle keep-alive connection from a
        # client that was never closed would hold every stop for that long).
        self.exit_timeout = exit_timeout
        self.http_port = self.grpc_port = self.metrics_port = 0
        self.process: subprocess.Popen | None = None

    @property
    def http_address(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def command(self, backend_dir: Path) -> list[str]:
        home = triton_home()
        return [str(home / "bin" / "tritonserver"),
                f"--model-repository={self.model_repository}",
                f"--backend-directory={backend_dir}",
                "--http-address=127.0.0.1", f"--http-port={self.http_port}",
                "--grpc-address=127.0.0.1", f"--grpc-port={self.grpc_port}",
                "--metrics-address=127.0.0.1", f"--metrics-port={self.metrics_port}",
                f"--exit-timeout-secs={self.exit_timeout}", *self.extra_args]

    def start(self) -> TritonServer:
        if not self.model_repository.is_dir():
            raise TritonServerError(f"model repository {self.model_repository} is not a folder")
        home = triton_home()
        backend_dir = _backend_dir(home, self.workdir)
        self.http_port, self.grpc_port, self.metrics_port = free_port(), free_port(), free_port()
        env = dict(os.environ, LD_LIBRARY_PATH=_library_path(home), PATH=_search_path())
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command(backend_dir), stdout=log,
                                            stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True,
                                            preexec_fn=die_with_parent)
        atexit.register(self.stop)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def is_ready(self) -> bool:
        url = f"http://{self.http_address}/v2/health/ready"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self) -> float:
        """Poll readiness until the deadline; return the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < self.startup_timeout:
            if self.process is not None and self.process.poll() is not None:
                raise TritonServerError(f"tritonserver exited with code "
                                        f"{self.process.returncode} while starting:\n"
                                        f"{self.log_tail()}")
            if self.is_ready():
                return time.monotonic() - start
            time.sleep(0.1)
        raise TritonServerError(f"tritonserver was not ready after {self.startup_timeout:.0f} s"
                                f"; its log ({self.log_path}) ends:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 15.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def __enter__(self) -> TritonServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
