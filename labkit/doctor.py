"""``labkit doctor``: one paste-ready block describing this machine for the course.

Lab 00 runs it; students attach its output to a question (the habit of ``accelerate env``).
Each component is checked for real: imported, and for tritonserver, started until it
answers ``/v2/health/ready``. A missing or broken part makes the exit code non-zero and is
named with what to do about it.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .hw import HardwareError, detect

__all__ = ["Check", "run_checks", "format_report", "main"]

LINUX_ONLY_HINT = ("{dist} ships Linux x86_64 wheels only: on macOS or Windows use the "
                   "docker-compose 'jupyter' service (see README, 'Other platforms')")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" | "missing" | "broken" | "info"
    version: str = ""
    detail: str = ""
    hint: str = ""

    @property
    def failed(self) -> bool:
        return self.status in {"missing", "broken"}


def _dist_version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return ""


def _import_check(name: str, module: str, dist: str, linux_only: bool = False,
                  detail: Callable[[object], str] | None = None) -> Check:
    version = _dist_version(dist)
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        if not version:
            hint = (LINUX_ONLY_HINT.format(dist=dist) if linux_only and
                    not sys.platform.startswith("linux") else "run 'make setup'")
            return Check(name, "missing", hint=hint)
        return Check(name, "broken", version, f"import {module} failed: {exc}",
                     "reinstall with 'make setup'; see README, Troubleshooting")
    return Check(name, "ok", version, detail(mod) if detail else "")


def _torch_detail(torch) -> str:
    cuda = torch.cuda.is_available()
    return f"CUDA available: {'yes, ' + torch.cuda.get_device_name(0) if cuda else 'no'}"


def _triton_check() -> Check:
    from .pipeline.server import TritonServer, TritonServerError

    version = _dist_version("nvidia-pytriton")
    try:
        with tempfile.TemporaryDirectory(prefix="labkit-doctor-") as tmp:
            start = time.monotonic()
            server = TritonServer(Path(tmp) / "models", workdir=Path(tmp),
                                  startup_timeout=60)
            server.model_repository.mkdir()
            with server:
                took = time.monotonic() - start
            return Check("tritonserver", "ok", f"nvidia-pytriton {version}",
                         f"embedded server ready in {took:.1f} s (/v2/health/ready)")
    except TritonServerError as exc:
        status = "missing" if not version else "broken"
        hint = (LINUX_ONLY_HINT.format(dist="nvidia-pytriton")
                if not version and not sys.platform.startswith("linux") else
                "see README, Troubleshooting: 'tritonserver does not start'")
        return Check("tritonserver", status, version, str(exc).splitlines()[0], hint)


def _hardware_checks(mode: str | None) -> list[Check]:
    try:
        env = detect(mode)
    except (HardwareError, ValueError) as exc:
        return [Check("hardware", "broken", detail=str(exc),
                      hint="use --mode sim to continue with the simulated node")]
    tag = " [simulated]" if env.simulated else ""
    checks = [Check("mode", "info", env.mode, env.banner()),
              Check("driver", "info", f"{env.driver_version}{tag}",
                    f"CUDA {env.cuda_version}{tag}")]
    for gpu in env.gpus:
        checks.append(Check(f"gpu {gpu.index}", "info", gpu.name,
                            f"{gpu.memory_total_mib} MiB, MIG {gpu.mig_mode}, "
                            f"{gpu.uuid}{tag}"))
    return checks


def run_checks(mode: str | None = None, *, triton: bool = True) -> list[Check]:
    """Every check, in report order."""
    checks = [
        Check("labkit", "info", _dist_version("labkit") or "source tree",
              str(Path(__file__).parent)),
        Check("python", "info", platform.python_version(),
              f"{sys.executable} on {platform.system()} {platform.machine()}"),
        *_hardware_checks(mode),
        _import_check("nvidia-ml-py", "pynvml", "nvidia-ml-py"),
        _import_check("numpy", "numpy", "numpy"),
        _import_check("torch", "torch", "torch", detail=_torch_detail),
        _import_check("DALI", "nvidia.dali", "nvidia-dali-cuda120", linux_only=True),
        _import_check("tritonclient", "tritonclient.http", "tritonclient"),
        _import_check("nbgrader", "nbgrader", "nbgrader"),
        _import_check("jupyterlab", "jupyterlab", "jupyterlab"),
        _import_check("papermill", "papermill", "papermill"),
    ]
    if triton:
        checks.append(_triton_check())
    return checks


def format_report(checks: list[Check]) -> str:
    lines = ["NCP-AI Infrastructure Labs: labkit doctor", ""]
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = {"ok": "ok", "info": "  ", "missing": "MISSING", "broken": "BROKEN"}[c.status]
        text = " ".join(filter(None, [c.version, f"({c.detail})" if c.detail else ""]))
        lines.append(f"{c.name:<{width}}  {mark:<7}  {text}".rstrip())
        if c.failed and c.hint:
            lines.append(f"{'':<{width}}  {'':<7}  HINT: {c.hint}")
    failed = [c.name for c in checks if c.failed]
    lines += ["", f"status: {'FAILED: ' + ', '.join(failed) if failed else 'OK'}"]
    return "\n".join(lines)


def main(mode: str | None = None, as_json: bool = False, triton: bool = True) -> int:
    checks = run_checks(mode, triton=triton)
    if as_json:
        print(json.dumps({"checks": [asdict(c) for c in checks],
                          "ok": not any(c.failed for c in checks)}, indent=2))
    else:
        print(format_report(checks))
    return 1 if any(c.failed for c in checks) else 0
