"""The container files pin their images, expose services on loopback only, and the Lab 07
GPU stack is wired the way labkit writes its model repository (no Docker engine runs here,
so the file's structure is what is tested)."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# tritonserver release -> NGC container tag (Triton release notes; DESIGN.md "Versions").
NGC_TAG_FOR_TRITON = {"2.51.0": "24.10"}
EMBEDDED_TRITON = "2.51.0"  # nvidia-pytriton 0.7.0 (shared/reference/perf.md §1.7)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_images_are_pinned_and_bound_to_loopback(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        assert re.search(r":\d[\w.-]*$", image), f"{name}: image '{image}' has no pinned tag"
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: port {port} is not loopback-only"
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file()


def test_dockerfiles_pin_their_base_images():
    for dockerfile in ROOT.glob("docker/*/Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            if line.startswith("FROM "):
                image = line.split()[1]
                assert ":" in image and not image.endswith(":latest"), f"{dockerfile}: {line}"


def test_the_services_the_course_names_exist(compose):
    assert {"jupyter", "triton-server", "perf-analyzer"} <= set(compose["services"])


@pytest.mark.parametrize("name", ["jupyter", "triton-server", "perf-analyzer"])
def test_every_service_has_a_healthcheck(compose, name):
    check = compose["services"][name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) >= 2
    assert check.get("retries", 0) >= 1


def test_triton_matches_the_embedded_server_version(compose):
    server = compose["services"]["triton-server"]["image"]
    sdk = compose["services"]["perf-analyzer"]["image"]
    tag = NGC_TAG_FOR_TRITON[EMBEDDED_TRITON]
    assert server == f"nvcr.io/nvidia/tritonserver:{tag}-py3"
    assert sdk == f"nvcr.io/nvidia/tritonserver:{tag}-py3-sdk"


def test_triton_gets_a_gpu_and_enough_shared_memory(compose):
    triton = compose["services"]["triton-server"]
    (device,) = triton["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    size = re.fullmatch(r"(\d+)(mb|gb)", str(triton["shm_size"]).lower())
    assert size, triton["shm_size"]
    mib = int(size[1]) * (1024 if size[2] == "gb" else 1)
    assert mib >= 256, "Docker's default 64 MB /dev/shm is too small for the Python backend"
    assert {p.split(":")[-1] for p in triton["ports"]} == {"8000", "8001", "8002"}


def test_triton_serves_the_repository_labkit_writes_for_ngc(compose, tmp_path):
    from labkit.pipeline.optimise import SWEEP_CONFIGS
    from labkit.pipeline.workflow import DEFAULT_ROOT, Workspace

    triton = compose["services"]["triton-server"]
    mounts = {container: host for host, container in
              (v.split(":")[:2] for v in triton["volumes"])}
    assert "--model-repository=/models" in triton["command"]
    workspace = Workspace(tmp_path)
    expected = ROOT / DEFAULT_ROOT / workspace.models_ngc.relative_to(workspace.root)
    assert ROOT / mounts["/models"] == expected
    perf = compose["services"]["perf-analyzer"]
    assert perf["profiles"] == ["perf"]
    assert perf["depends_on"]["triton-server"]["condition"] == "service_healthy"
    assert set(perf["environment"]["MODELS"].split()) == {c.name for c in SWEEP_CONFIGS}
    assert perf["environment"]["TRITON_GRPC"] == "triton-server:8001"


def test_the_perf_sweep_script_is_mounted_and_shellcheck_clean(compose):
    perf = compose["services"]["perf-analyzer"]
    script = perf["command"][-1]
    host, container = next(v.split(":")[:2] for v in perf["volumes"]
                           if script.startswith(v.split(":")[1]))
    local = ROOT / host / Path(script).relative_to(container)
    assert local.is_file()
    shellcheck = ROOT / ".venv" / "bin" / "shellcheck"
    if shellcheck.exists():
        done = subprocess.run([str(shellcheck), str(local)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def test_perf_sweep_script_refuses_to_run_without_perf_analyzer(tmp_path):
    script = ROOT / "docker" / "perf-analyzer" / "sweep.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "RESULTS": str(tmp_path)})
    assert done.returncode == 1
    assert "perf_analyzer not found" in done.stderr
