import pytest

import labkit as lk
from labkit.hw import HardwareError, detect, resolve_mode
from labkit.hw import nvml as nvml_backend


@pytest.mark.parametrize(("arg", "env", "expected"), [
    (None, None, "auto"),
    (None, "sim", "sim"),
    ("real", "sim", "real"),
    (" SIM ", None, "sim"),
], ids=["default-auto", "env-chooses", "argument-wins", "case-and-space"])
def test_resolve_mode(monkeypatch, arg, env, expected):
    if env:
        monkeypatch.setenv("LABKIT_MODE", env)
    assert resolve_mode(arg) == expected


def test_resolve_mode_rejects_unknown():
    with pytest.raises(ValueError, match="mode 'gpu' is not a labkit mode .valid: auto, real, sim"):
        resolve_mode("gpu")


def test_sim_default_node_is_one_a100_40gb():
    env = detect("sim")
    assert env.mode == "sim" and env.simulated
    assert len(env.gpus) == 1
    gpu = env.gpus[0]
    assert gpu.name == "NVIDIA A100-SXM4-40GB"
    assert gpu.memory_total_mib == 40960
    assert gpu.mig_capable and gpu.mig_mode == "Disabled"
    assert gpu.uuid.startswith("GPU-") and gpu.simulated
    assert env.driver_version == "580.126.09"
    assert "SIMULATED" in env.banner()


def test_sim_gpus_from_environment(monkeypatch):
    monkeypatch.setenv("LABKIT_SIM_GPUS", "A100-SXM4-40GB:2,H100-SXM5-80GB:1")
    env = detect("sim")
    assert [g.index for g in env.gpus] == [0, 1, 2]
    assert env.gpus[2].name == "NVIDIA H100 80GB HBM3"
    assert len({g.uuid for g in env.gpus}) == 3, "each simulated GPU has its own UUID"


def test_non_mig_gpu_reports_na(monkeypatch):
    monkeypatch.setenv("LABKIT_SIM_GPUS", "T4")
    gpu = detect("sim").gpus[0]
    assert not gpu.mig_capable and gpu.mig_mode == "N/A"


def test_auto_falls_back_to_sim_without_nvml(monkeypatch):
    def no_gpu():
        raise HardwareError("NVML library not found")
    monkeypatch.setattr(lk.hw, "nvml_environment", no_gpu)
    assert detect("auto").mode == "sim"


def test_real_mode_without_gpu_says_why(monkeypatch):
    def no_gpu():
        raise HardwareError("NVML library not found: no NVIDIA driver is installed")
    monkeypatch.setattr(lk.hw, "nvml_environment", no_gpu)
    with pytest.raises(HardwareError, match="no NVIDIA driver"):
        detect("real")


def test_nvml_backend_on_this_machine_reports_library_or_gpus():
    """The real NVML path runs for real: here it finds no driver and says so clearly."""
    try:
        env = nvml_backend.nvml_environment()
    except HardwareError as exc:
        assert "NVML" in str(exc) or "nvidia-ml-py" in str(exc)
    else:  # pragma: no cover - only on a GPU machine
        assert env.mode == "real" and env.gpus


def test_start_prefers_explicit_parameters(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LABKIT_QUICK", "1")
    lab = lk.start("sim", False, 3, out=tmp_path / "out")
    assert lab.quick, "LABKIT_QUICK turns quick mode on for graders and CI"
    assert lab.mode == "sim" and lab.seed == 3 and lab.out.is_dir()
    assert "SIMULATED" in capsys.readouterr().out
