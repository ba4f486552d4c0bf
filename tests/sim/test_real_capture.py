"""The simulator and the MIG catalog against our own capture on a real NVIDIA H200.

tests/sim/data/h200_r580_159_capture/ (see its README) holds read-only nvidia-smi and NVML
output from driver 580.159.04 with MIG disabled. The MIG tables must match byte for byte;
elsewhere only the fields a machine makes its own (date, driver, UUID, bus ID, temperature,
power draw) may differ.
"""

from __future__ import annotations

import json
import re

import pytest

from labkit.mig.catalog import get_model

from .conftest import DATA

CAPTURE = DATA / "h200_r580_159_capture"


def captured() -> dict[str, tuple[str, int]]:
    """``{"mig -lgip": (stdout, exit code), ...}`` from smi-real.txt."""
    blocks = re.findall(r"^\+ nvidia-smi ?([^\n]*)\n(.*?)^\[rc=(\d+)\]\n",
                        (CAPTURE / "smi-real.txt").read_text(), re.M | re.S)
    return {args.strip(): (out, int(rc)) for args, out, rc in blocks}


def machine_neutral(text: str) -> str:
    """Blank what one machine makes its own; keep every column's width."""
    subs = [(r"^\w{3} \w{3} +\d+ [\d:]+ \d{4}", "DATE"),  # the table's timestamp
            (r"\b\d{3}\.\d+\.\d{2}\b", "DRIVER"),
            (r"GPU-[0-9a-f-]{36}", "GPU-UUID"),
            (r"[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.[0-9A-F]", "BUS-ID"),
            (r"\b\d{2}(?=C\b)", "TT"),  # temperature
            (r"\d+(?=W /)", "PP")]  # power draw (the cap, 700W, stays)
    for pattern, repl in subs:
        text = re.sub(pattern, repl, text, flags=re.M)
    return text


@pytest.fixture
def h200(node):
    node("H200-141GB")


def test_the_capture_has_every_command():
    assert set(captured()) == {
        "", "-L", "mig -lgip", "mig -lgipp", "mig -lgi", "mig -lcip",
        "--query-gpu=index,name,driver_version,memory.total,mig.mode.current,mig.mode.pending"
        " --format=csv", "-q -d MIG"}


@pytest.mark.parametrize("args", ["mig -lgip", "mig -lgipp", "mig -lgi", "mig -lcip"])
def test_mig_listings_with_mig_off_match_byte_for_byte(smi, h200, args):
    run = smi(*args.split())
    assert (run.out, run.code) == captured()[args]


@pytest.mark.parametrize("args", [
    "", "-L",
    "--query-gpu=index,name,driver_version,memory.total,mig.mode.current,mig.mode.pending"
    " --format=csv"])
def test_gpu_views_match_but_for_machine_fields(smi, h200, args):
    out, code = captured()[args]
    run = smi(*args.split())
    assert run.code == code
    assert machine_neutral(run.out) == machine_neutral(out)


def test_machine_neutral_still_sees_a_wrong_memory_size():
    real, _ = captured()[""]
    assert "143771MiB" in real
    assert machine_neutral(real.replace("143771MiB", "144384MiB")) != machine_neutral(real)


def test_catalog_matches_nvml_profile_info():
    """Every profile NVML reports, field by field, against labkit's H200 row."""
    nvml = json.loads((CAPTURE / "nvml.json").read_text())
    model = get_model("H200-141GB")
    assert (nvml["name"], nvml["memory_total_mib"]) == (model.product_name, model.memory_mib)
    assert int(nvml["pci_device_id"], 16) == int(model.pci_device_id, 16)
    reported = [p for p in nvml["gi_profiles"] if "id" in p]
    assert len(reported) == len(model.gi_profiles) == 7
    for info in reported:
        profile = next(p for p in model.gi_profiles if p.profile_id == info["id"])
        name = info["name"].removeprefix("MIG ")
        assert (profile.name, profile.slices, profile.memory_mib, profile.sm_count,
                profile.max_count) == (name, info["sliceCount"], info["memorySizeMB"],
                                       info["multiprocessorCount"], info["instanceCount"])
        assert (profile.ce, profile.dec, profile.enc, profile.jpg, profile.ofa) == (
            info["copyEngineCount"], info["decoderCount"], info["encoderCount"],
            info["jpegCount"], info["ofaCount"])
