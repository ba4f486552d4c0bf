"""labkit.hw's MIG view: the same records from the simulator and from NVML.

No GPU here, so the NVML path runs against a stand-in ``pynvml`` module that answers NVML's MIG
calls from a layout built by the simulated nvidia-smi. The stand-in is the only fake: every
labkit function under test is the real one.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from labkit.hw import (
    Environment,
    HardwareError,
    compute_instances,
    detect,
    gpu_instances,
    mig_devices,
    mig_view,
)
from labkit.mig.catalog import get_model, get_profile
from labkit.sim import node as sim_node
from labkit.sim import nvidia_smi
from labkit.sim.state import read_node, reset_node


def smi(*argv: str) -> None:
    lines, code, _ = nvidia_smi.run(list(argv))
    assert code == 0, lines


def s12_layout(spec: str = "A100-SXM4-40GB:2") -> None:
    """GPU 0: the driver-580 host of ref §2.7(c) [S12]; GPU 1 (if any) stays MIG-disabled."""
    reset_node(spec)
    smi("-i", "0", "-mig", "1")
    for profile in ("4g.20gb", "2g.10gb", "1g.5gb"):
        smi("mig", "-i", "0", "-cgi", profile)
    smi("mig", "-i", "0", "-gi", "2", "-cci", "4g.20gb")
    smi("mig", "-i", "0", "-gi", "3", "-cci", "1c.2g.10gb,1c.2g.10gb")
    smi("mig", "-i", "0", "-gi", "9", "-cci")


def test_sim_view_of_the_580_host():
    s12_layout()
    env = detect("sim")
    view = mig_view(env)
    assert view.mode == "sim" and [g.mig_mode for g in view.gpus] == ["Enabled", "Disabled"]
    assert [(g.gi_id, g.profile, g.profile_id, g.start, g.size, g.memory_mib)
            for g in gpu_instances(env)] == [(2, "4g.20gb", 5, 0, 4, 20096),
                                             (3, "2g.10gb", 14, 4, 2, 9984),
                                             (9, "1g.5gb", 19, 6, 1, 4864)]
    assert [(c.gi_id, c.ci_id, c.profile, c.profile_id, c.start, c.size, c.sm_count)
            for c in compute_instances(env)] == [(2, 0, "4g.20gb", 3, 0, 4, 56),
                                                 (3, 0, "1c.2g.10gb", 0, 0, 1, 14),
                                                 (3, 1, "1c.2g.10gb", 0, 1, 1, 14),
                                                 (9, 0, "1g.5gb", 0, 0, 1, 14)]
    devices = mig_devices(env)
    assert [(d.device_index, d.gi_id, d.ci_id, d.profile, d.memory_mib) for d in devices] == [
        (0, 2, 0, "4g.20gb", 20096), (1, 3, 0, "1c.2g.10gb", 9984),
        (2, 3, 1, "1c.2g.10gb", 9984), (3, 9, 0, "1g.5gb", 4864)]
    listed = "\n".join(nvidia_smi.run(["-L"])[0])
    assert all(f"(UUID: {d.uuid})" in listed for d in devices), "the UUIDs nvidia-smi -L prints"


def test_sim_view_of_gpus_without_mig():
    reset_node("T4,A100-SXM4-40GB")
    view = mig_view(detect("sim"))
    assert [(g.mig_mode, g.mig_pending, g.devices) for g in view.gpus] == [
        ("N/A", "N/A", ()), ("Disabled", "Disabled", ())]


# --- a stand-in pynvml answering from the simulated node --------------------------------------

class _NVMLError(Exception):
    pass


class _NotFound(_NVMLError):
    pass


class _NotSupported(_NVMLError):
    pass


class _NoPermission(_NVMLError):
    pass


def _fake_pynvml() -> SimpleNamespace:
    """NVML's MIG calls over the simulator's node, with NVML's own conventions.

    GI profiles are listed per NVML profile index and carry nvidia-smi's profile ID in ``.id``
    (ref §1.6); names are ``MIG <profile>`` bytes; memory is in bytes for MemoryInfo, MB for
    profile info; missing instances raise NVMLError_NotFound.
    """
    node = read_node()

    def rec(handle):
        return node["gpus"][handle.index]

    def state(handle):
        return sim_node.mig_state(rec(handle))

    def gi_info(gi):
        st = state(gi.gpu)
        inst = st.find_gi(gi.gi_id)
        pid = get_profile(st.model, inst.profile).profile_id
        return SimpleNamespace(id=inst.gi_id, profileId=pid,
                               placement=SimpleNamespace(start=inst.start, size=inst.size))

    def gi_by_id(handle, gi_id):
        if state(handle) is None or state(handle).find_gi(gi_id) is None:
            raise _NotFound()
        return SimpleNamespace(gpu=handle, gi_id=gi_id)

    def gi_profile(handle, index):
        profiles = get_model(rec(handle)["model"]).gi_profiles
        if index >= len(profiles):
            raise _NotSupported()
        p = profiles[index]
        return SimpleNamespace(id=p.profile_id, name=f"MIG {p.name}".encode(),
                               memorySizeMB=p.memory_mib)

    def ci_profile(gi, index, engine):
        model = state(gi.gpu).model
        gp = get_profile(model, state(gi.gpu).find_gi(gi.gi_id).profile)
        if index >= len(gp.ci_profiles):
            raise _NotSupported()
        cp = gp.ci_profiles[index]
        return SimpleNamespace(id=cp.profile_id, name=f"MIG {cp.name}".encode(),
                               multiprocessorCount=cp.sm_count)

    def ci_by_id(gi, ci_id):
        inst = state(gi.gpu).find_gi(gi.gi_id)
        if all(c.ci_id != ci_id for c in inst.compute_instances):
            raise _NotFound()
        return SimpleNamespace(gi=gi, ci_id=ci_id)

    def ci_info(ci):
        st = state(ci.gi.gpu)
        inst = st.find_gi(ci.gi.gi_id)
        c = next(c for c in inst.compute_instances if c.ci_id == ci.ci_id)
        return SimpleNamespace(id=c.ci_id, profileId=ci_profile_id(st, inst, c),
                               placement=SimpleNamespace(start=c.start, size=c.size))

    def ci_profile_id(st, inst, c):
        gp = get_profile(st.model, inst.profile)
        return next(p.profile_id for p in gp.ci_profiles if p.name == c.profile)

    def mig_handle(handle, k):
        devices = sim_node.mig_device_list(rec(handle))
        if k >= len(devices):
            raise _NotFound()
        gi_id, ci_id, profile, uuid = devices[k]
        st = state(handle)
        gp = get_profile(st.model, st.find_gi(gi_id).profile)
        sm = next(p.sm_count for p in gp.ci_profiles if p.name == profile)
        return SimpleNamespace(gi_id=gi_id, ci_id=ci_id, uuid=uuid, mib=gp.memory_mib, sm=sm)

    def mig_mode(handle):
        if not get_model(rec(handle)["model"]).mig_capable:
            raise _NotSupported()
        return [int(rec(handle)["mig_current"]), int(rec(handle)["mig_pending"])]

    return SimpleNamespace(
        NVMLError=_NVMLError, NVMLError_NotFound=_NotFound, NVMLError_NotSupported=_NotSupported,
        NVMLError_InvalidArgument=type("IA", (_NVMLError,), {}),
        NVMLError_LibraryNotFound=type("LNF", (_NVMLError,), {}),
        NVMLError_DriverNotLoaded=type("DNL", (_NVMLError,), {}),
        NVML_DEVICE_MIG_ENABLE=1, NVML_GPU_INSTANCE_PROFILE_COUNT=0x12,
        NVML_COMPUTE_INSTANCE_PROFILE_COUNT=0x9, NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED=0,
        nvmlInit=lambda: None, nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: len(node["gpus"]),
        nvmlDeviceGetHandleByIndex=lambda i: SimpleNamespace(index=i),
        nvmlDeviceGetMigMode=mig_mode,
        nvmlDeviceGetGpuInstanceProfileInfo=gi_profile,
        nvmlDeviceGetGpuInstanceById=gi_by_id, nvmlGpuInstanceGetInfo=gi_info,
        nvmlGpuInstanceGetComputeInstanceProfileInfo=ci_profile,
        nvmlGpuInstanceGetComputeInstanceById=ci_by_id, nvmlComputeInstanceGetInfo=ci_info,
        nvmlDeviceGetMaxMigDeviceCount=lambda h: 7 if mig_mode(h)[0] else 0,
        nvmlDeviceGetMigDeviceHandleByIndex=mig_handle,
        nvmlDeviceGetGpuInstanceId=lambda m: m.gi_id,
        nvmlDeviceGetComputeInstanceId=lambda m: m.ci_id,
        nvmlDeviceGetAttributes=lambda m: SimpleNamespace(multiprocessorCount=m.sm),
        nvmlDeviceGetUUID=lambda m: m.uuid,
        nvmlDeviceGetMemoryInfo=lambda m: SimpleNamespace(total=m.mib * 2**20),
    )


REAL = Environment(mode="real", gpus=(), driver_version="580.126.09", cuda_version="13.0")


@pytest.mark.parametrize("spec", ["A100-SXM4-40GB:2", "H100-SXM5-80GB,T4"],
                         ids=["a100-580-host", "h100-and-t4"])
def test_nvml_view_equals_the_sim_view(monkeypatch, spec):
    s12_layout("A100-SXM4-40GB:2")
    if spec.startswith("H100"):
        reset_node(spec)
        smi("-i", "0", "-mig", "1")
        smi("mig", "-cgi", "9,14,19", "-C")
        three_g = next(gi.gi_id for gi in sim_node.mig_state(read_node()["gpus"][0]).gpu_instances
                       if gi.profile == "3g.40gb")
        smi("mig", "-gi", str(three_g), "-dci")
        smi("mig", "-gi", str(three_g), "-cci", "2c.3g.40gb,1c.3g.40gb")
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml())
    real, sim = mig_view(REAL), mig_view(detect("sim"))
    assert real.mode == "real" and sim.mode == "sim"
    assert real.gpus == sim.gpus
    assert any(g.devices for g in real.gpus), "the comparison covers MIG devices"


@pytest.mark.parametrize("call", ["nvmlDeviceGetMaxMigDeviceCount",
                                  "nvmlDeviceGetGpuInstanceById"])
def test_nvml_errors_become_hardware_errors(monkeypatch, call):
    """A failure other than "no such instance" is reported, never read as an empty GPU."""
    reset_node("A100-SXM4-40GB")
    smi("-mig", "1")
    fake = _fake_pynvml()

    def refused(*args):
        raise _NoPermission("Insufficient Permissions")
    setattr(fake, call, refused)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    with pytest.raises(HardwareError, match="MIG instances: Insufficient Permissions .*root"):
        mig_view(REAL)
