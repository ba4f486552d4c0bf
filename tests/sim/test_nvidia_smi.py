"""The simulated nvidia-smi against the reference's verbatim output (driver 580, A100-40GB)."""

from __future__ import annotations

import re
import uuid

import pytest

from labkit.sim import node as sim_node
from labkit.sim.smi_text import GpuRow, format_gpu_table
from labkit.sim.state import read_node

from .conftest import NOTICE, fixture_text, set_bus_id

S12_SEQUENCE = ["4g.20gb", "2g.10gb", "1g.5gb"]  # ref §2.3(d): -cgi one at a time


def enable(smi, gpu: str = "0") -> None:
    assert smi("-i", gpu, "-mig", "1").code == 0


def s12_host(smi) -> None:
    """The driver-580 host of ref §2.3(d)/§2.7(c) [S12]: 4g, 2g, 1g GIs and their CIs."""
    enable(smi)
    for profile in S12_SEQUENCE:
        assert smi("mig", "-i", "0", "-cgi", profile).code == 0
    for gi, profile in [("2", "4g.20gb"), ("3", "1c.2g.10gb"), ("3", "1c.2g.10gb"),
                        ("9", "1g.5gb")]:
        assert smi("mig", "-i", "0", "-gi", gi, "-cci", profile).code == 0


# --- mig -lgip / -lgipp / -cgi: the S12 sequence, byte for byte ---------------------------

def test_lgip_before_and_after_each_cgi_of_the_580_capture(smi, node):
    enable(smi)
    assert smi("mig", "-i", "0", "-lgip").out == fixture_text("a100_40gb_r580_lgip_empty.txt")
    messages = []
    for profile, fixture in zip(S12_SEQUENCE, ["a100_40gb_r580_lgip_after_4g.txt",
                                               "a100_40gb_r580_lgip_after_4g_2g.txt",
                                               "a100_40gb_r580_lgip_after_4g_2g_1g.txt"],
                                strict=True):
        created = smi("mig", "-i", "0", "-cgi", profile)
        assert created.code == 0
        messages.append(created.out)
        assert smi("mig", "-i", "0", "-lgip").out == fixture_text(fixture), profile
    assert "".join(messages) == fixture_text("a100_40gb_r580_cgi_messages.txt")


@pytest.mark.parametrize(("spec", "argv", "fixture"), [
    ("A100-SXM4-40GB", ["mig", "-lgipp"], "a100_lgipp.txt"),
    ("H100-SXM5-80GB", ["mig", "-i", "0", "-lgipp"], "h100_lgipp.txt"),
    ("H100-SXM5-80GB", ["mig", "-lgip"], "h100_sxm5_lgip.txt"),
    ("H100-PCIE-80GB", ["mig", "-lgip"], "h100_pcie_r570_lgip.txt"),
], ids=["a100-lgipp", "h100-lgipp", "h100-sxm5-lgip", "h100-pcie-lgip"])
def test_profile_listings(smi, node, spec, argv, fixture):
    node(spec)
    enable(smi)
    run = smi(*argv)
    assert (run.out, run.code) == (fixture_text(fixture), 0)


def test_lgip_answers_with_mig_disabled_on_driver_580(smi, node):
    run = smi("mig", "-lgip")
    assert (run.out, run.code) == (fixture_text("a100_40gb_r580_lgip_empty.txt"), 0)


@pytest.mark.parametrize(("setup", "argv", "fixture", "code"), [
    ([], ["-cgi", "19,19,14,9"], "transcript_cgi_19_19_14_9.txt", 255),
    ([], ["-cgi", "7g.40gb", "-C"], "transcript_cgi_invalid_argument.txt", 2),
], ids=["insufficient-resources", "invalid-argument-on-h100"])
def test_cgi_failures_print_nvidia_smis_lines(smi, node, setup, argv, fixture, code):
    node("H100-SXM5-80GB" if "7g.40gb" in argv else "A100-SXM4-40GB")
    enable(smi)
    run = smi("mig", *argv)
    want = fixture_text(fixture).splitlines()
    got = run.out.splitlines()
    assert got[-2:] == want[-2:], "the two error lines, verbatim"
    assert len(got) == len(want), "instances created before the failure are reported"
    assert run.code == code


def test_cgi_on_h100_pcie_with_default_compute_instances(smi, node):
    """ref §2.5(f) [S14], driver 570: seven 1g.10gb with -C, GI IDs 9, 7, 8, 11, 12, 13, 14."""
    node("H100-PCIE-80GB")
    enable(smi)
    run = smi("mig", "-cgi", ",".join(["19"] * 7), "-C")
    assert (run.out, run.code) == (fixture_text("transcript_cgi_h100_pcie_7x1g_C.txt"), 0)


# --- -lgi / -lcip / -cci / -lci ------------------------------------------------------------

def test_lgi_and_lci_of_the_580_capture(smi, node):
    s12_host(smi)
    assert smi("mig", "-i", "0", "-lgi").out == fixture_text("a100_40gb_r580_lgi.txt")
    lci = smi("mig", "-i", "0", "-lci").out
    # the capture stops before the table's last border (tests/mig/data/README.md)
    assert lci.startswith(fixture_text("a100_40gb_r580_lci.txt"))
    assert lci.splitlines()[-1] == "+" + "-" * 68 + "+"


def test_lcip_and_cci_of_the_580_capture(smi, node):
    enable(smi)
    for profile in S12_SEQUENCE:
        smi("mig", "-i", "0", "-cgi", profile)
    steps = [("2", "4g.20gb", "a100_40gb_r580_lcip_gi2_empty.txt", "a100_40gb_r580_lcip_gi2_full.txt"),
             ("3", "1c.2g.10gb", "a100_40gb_r580_lcip_gi3_empty.txt", "a100_40gb_r580_lcip_gi3_one.txt"),
             ("3", "1c.2g.10gb", "a100_40gb_r580_lcip_gi3_one.txt", "a100_40gb_r580_lcip_gi3_two.txt"),
             ("9", "1g.5gb", "a100_40gb_r580_lcip_gi9_empty.txt", "a100_40gb_r580_lcip_gi9_full.txt")]
    messages = []
    for gi, profile, before, after in steps:
        assert smi("mig", "-i", "0", "-gi", gi, "-lcip").out == fixture_text(before)
        run = smi("mig", "-i", "0", "-gi", gi, "-cci", profile)
        assert run.code == 0
        messages.append(run.out)
        assert smi("mig", "-i", "0", "-gi", gi, "-lcip").out == fixture_text(after)
    want = fixture_text("a100_40gb_r580_cci_messages.txt").splitlines()
    got = "".join(messages).splitlines()
    # the source's second 1c.2g.10gb line says CI ID 0, a copy/paste slip (ref §2.7(c)):
    # -lci then lists CI 0 and CI 1, and so does the simulator
    assert got[:2] + got[3:] == want[:2] + want[3:]
    assert got[2] == want[2].replace("instance ID  0 on", "instance ID  1 on")


def test_cci_without_a_profile_takes_the_default(smi, node):
    """ref §2.7(d) [S13]: H100 default CIs, 'MIG 3g.40gb (ID  2)' and 'MIG 2g.20gb (ID  1)'."""
    node("H100-SXM5-80GB")
    enable(smi)
    smi("mig", "-i", "0", "-cgi", "9,14")
    out = smi("mig", "-i", "0", "-cci").out.splitlines()
    assert [line.rsplit("using profile ", 1)[1] for line in out] == [
        "MIG 3g.40gb (ID  2)", "MIG 2g.20gb (ID  1)"]


# --- -dci / -dgi ---------------------------------------------------------------------------

def test_dci_then_dgi_as_in_the_guide(smi, node):
    """ref §2.8(a): -dci -ci 0,1,2 -gi 1 on three 1c CIs, then -dgi of GIs 1 and 2."""
    enable(smi)
    smi("mig", "-cgi", "9,9")
    assert smi("mig", "-cci", "0,0,0", "-gi", "1").code == 0
    first = smi("mig", "-dci", "-ci", "0,1,2", "-gi", "1")
    second = smi("mig", "-dgi")
    assert (first.code, second.code) == (0, 0)
    assert first.out + second.out == fixture_text("transcript_dci_dgi_guide.txt")


def test_dgi_refused_while_a_compute_instance_exists(smi, node):
    """ref §2.8(b): GPU 7 of an 8-GPU A100 node, GI 1 still has a compute instance."""
    node("A100-SXM4-40GB:8")
    enable(smi, "7")
    assert smi("mig", "-i", "7", "-cgi", "3g.20gb:4", "-C").code == 0
    run = smi("mig", "-i", "7", "-dgi")
    assert (run.out, run.code) == (fixture_text("transcript_dgi_in_use.txt"), 255)


@pytest.mark.parametrize(("argv", "out", "code"), [
    (["-dci"], "No compute instances found: Not Found\n", 6),
    (["-dgi"], "No GPU instances found: Not Found\n", 6),
    (["-lgi"], "No GPU instances found: Not Found\n", 0),
    (["-lci"], "No compute instances found: Not Found\n", 0),
    (["-lcip"], "No GPU instances found: Not Found\n", 0),
], ids=["dci", "dgi", "lgi", "lci", "lcip"])
def test_nothing_to_list_or_destroy(smi, node, argv, out, code):
    enable(smi)
    run = smi("mig", *argv)
    assert (run.out, run.code) == (out, code)


# --- MIG off, no MIG, -mig 0|1 -------------------------------------------------------------

@pytest.mark.parametrize(("spec", "argv", "out", "code"), [
    ("T4", ["mig", "-lgip"], "No MIG-supported devices found.\n", 6),
    ("RTX-3090", ["mig", "-lgipp"], "No MIG-supported devices found.\n", 6),
    ("L4", ["mig", "-lgi"], "No MIG-supported devices found.\n", 6),
    # The list actions exit 0 with MIG off (our H200 capture, test_real_capture.py).
    ("A100-SXM4-40GB", ["mig", "-lgi"], "No MIG-enabled devices found.\n", 0),
    ("A100-SXM4-40GB", ["mig", "-cgi", "9"], "No MIG-enabled devices found.\n", 6),
    ("A100-SXM4-40GB", ["mig", "-lci"], "No MIG-enabled devices found.\n", 0),
], ids=["t4-lgip", "3090-lgipp", "l4-lgi", "mig-off-lgi", "mig-off-cgi", "mig-off-lci"])
def test_mig_commands_without_mig(smi, node, spec, argv, out, code):
    node(spec)
    run = smi(*argv)
    assert (run.out, run.code) == (out, code)


def test_mig_mode_of_a_non_mig_gpu_is_na(smi, node):
    node("RTX-3090")
    run = smi("--query-gpu=index,name,mig.mode.current,mig.mode.pending", "--format=csv")
    want = fixture_text("query_mig_mode_non_mig_gpu.txt")
    assert run.out == want.replace("NVIDIA GeForce RTX 4070 Laptop GPU", "NVIDIA GeForce RTX 3090")


def test_enable_mig_on_an_idle_gpu(smi, node):
    set_bus_id(0, "00000000:36:00.0")  # the guide's host, ref §2.1(a)
    run = smi("-i", "0", "-mig", "1")
    assert (run.out, run.code) == (fixture_text("mig1_enabled.txt"), 0)
    query = smi("-i", "0", "--query-gpu=pci.bus_id,mig.mode.current", "--format=csv")
    assert query.out == fixture_text("mig1_query_bus_id.txt")


def test_enable_mig_on_a_held_gpu_stays_pending_until_retried_idle(smi, node):
    set_bus_id(0, "00000000:07:00.0")  # the DGX of ref §2.1(d)
    sim_node.hold(0, name="nv-hostengine")
    run = smi("-i", "0", "-mig", "1")
    assert (run.out, run.code) == (fixture_text("mig1_pending_in_use.txt"), 0)
    modes = smi("--query-gpu=mig.mode.current,mig.mode.pending", "--format=csv,noheader").out
    assert modes == "Disabled, Enabled\n"
    sim_node.release(0)  # "sudo systemctl stop dcgm"
    run = smi("-i", "0", "-mig", "1")
    assert (run.out, run.code) == (fixture_text("mig1_enabled_after_fix.txt"), 0)


def test_disable_mig(smi, node):
    node("A100-SXM4-40GB:8")
    set_bus_id(7, "00000000:F9:00.0")  # ref §2.1(e): GPU 7
    enable(smi, "7")
    run = smi("-i", "7", "-mig", "0")
    assert (run.out, run.code) == (fixture_text("mig0_disabled.txt"), 0)


@pytest.mark.parametrize("busy", ["held", "instances"])
def test_disable_refused_while_in_use(smi, node, busy):
    set_bus_id(0, "00000009:01:00.0")  # ref §2.1(f)
    enable(smi)
    if busy == "held":
        sim_node.hold(0)
    else:
        smi("mig", "-cgi", "19")
    run = smi("-mig", "0")
    assert (run.out, run.code) == (fixture_text("mig0_refused_in_use.txt"), 255)
    assert smi("--query-gpu=mig.mode.current", "--format=csv,noheader").out == "Enabled\n"


def test_enable_on_a_gpu_without_mig_is_a_warning(smi, node):
    node("L4")
    run = smi("-mig", "1")
    assert run.out == ("Unable to enable MIG Mode for GPU 00000000:10:00.0: Not Supported\n"
                       "Treating as warning and moving on.\nAll done.\n")
    assert run.code == 0


def test_cgi_on_a_gpu_held_by_a_process(smi, node):
    """ref §2.5(h): a process on the GPU blocks GPU instance creation."""
    enable(smi)
    sim_node.hold(0, name="Xorg")
    run = smi("mig", "-cgi", "14", "-C")
    assert run.out == ("Unable to create a GPU instance on GPU  0 using profile 14: In use by "
                       "another client\nFailed to create GPU instances: In use by another client\n")
    assert run.code == 255


# --- the default table, -L, queries ----------------------------------------------------------

def test_gpu_table_layout_with_the_captured_values():
    """ref §2.2: the renderer fed the capture's values prints the capture, minus its date."""
    row = GpuRow(index=0, name="NVIDIA A100-SXM4-40GB", bus_id="00000000:10:1C.0",
                 memory_used_mib=249, memory_total_mib=40960, mig_mode="Enabled", ecc="On",
                 temperature_c=40, power_w=43, power_cap_w=400, utilization="N/A")
    text = format_gpu_table([row], "580.126.09", "13.0") + "\n"
    want = fixture_text("a100_40gb_r580_nvidia_smi_header.txt")
    assert text.split("\n", 1)[1] == want.split("\n", 1)[1]


def test_default_output_of_the_580_host(smi, node):
    """ref §2.2 + §2.10(a): the whole `nvidia-smi -i 0` of the S12 host, byte for byte."""
    set_bus_id(0, "00000000:10:1C.0")
    s12_host(smi)
    run = smi("-i", "0")
    date, rest = run.out.split("\n", 1)
    header = fixture_text("a100_40gb_r580_nvidia_smi_header.txt").split("\n", 1)[1]
    assert rest == header + "\n" + fixture_text("a100_40gb_r580_mig_devices_and_processes.txt")
    assert re.fullmatch(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} {7}", date)
    assert run.code == 0


def test_default_output_lists_held_processes(smi, node):
    sim_node.hold(0, name="python3", memory_mib=1234)
    lines = smi().out.splitlines()
    row = next(line for line in lines if "python3" in line)
    assert re.fullmatch(r"\|    0   N/A  N/A {12}4100      C   python3 {29} {3}1234MiB \|", row)
    assert len(row) == 91
    assert "|    1234MiB /  40960MiB |" in "\n".join(lines)


def test_list_gpus_and_mig_devices(smi, node):
    s12_host(smi)
    lines = smi("-L").out.splitlines()
    gpu = sim_node.gpu_record(read_node(), 0)
    assert lines[0] == f"GPU 0: NVIDIA A100-SXM4-40GB (UUID: {gpu['uuid']})"
    # ref §2.9(c) [S12]: the same profiles, in the same order, in the same columns
    assert [line[:29] for line in lines[1:]] == [
        "  MIG 4g.20gb     Device  0: ", "  MIG 1c.2g.10gb  Device  1: ",
        "  MIG 1c.2g.10gb  Device  2: ", "  MIG 1g.5gb      Device  3: "]
    uuids = [re.fullmatch(r".*\(UUID: MIG-(.{36})\)", line).group(1) for line in lines[1:]]
    assert len(set(uuids)) == 4 and all(uuid.UUID(u).version == 5 for u in uuids)


def test_mig_uuids_are_stable(smi, node):
    s12_host(smi)
    before = smi("-L").out
    smi("mig", "-dci")
    smi("mig", "-dgi")
    s12_sequence_again = [("4g.20gb", "2", "4g.20gb"), ("2g.10gb", "3", None),
                          ("1g.5gb", "9", "1g.5gb")]
    for profile, gi, ci in s12_sequence_again:
        smi("mig", "-cgi", profile)
        if ci:
            smi("mig", "-gi", gi, "-cci", ci)
    smi("mig", "-gi", "3", "-cci", "1c.2g.10gb,1c.2g.10gb")
    assert smi("-L").out == before


@pytest.mark.parametrize(("argv", "out"), [
    (["--query-compute-apps=pid,process_name,used_memory", "--format=csv"],
     "pid, process_name, used_gpu_memory [MiB]\n4100, sim-cuda-app, 512 MiB\n"),
    (["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"], "4100, 512\n"),
    (["-i", "1", "--query-compute-apps=pid", "--format=csv,noheader"], ""),
    (["--query-gpu=index,memory.used", "--format=csv,noheader", "-i", "1,0"],
     "1, 0 MiB\n0, 512 MiB\n"),
], ids=["apps", "apps-nounits", "apps-idle-gpu", "query-gpu-two-ids"])
def test_queries(smi, node, argv, out):
    node("A100-SXM4-40GB:2")
    sim_node.hold(0)
    run = smi(*argv)
    assert (run.out, run.code) == (out, 0)


def test_gpu_selection_by_bus_id_and_uuid(smi, node):
    node("A100-SXM4-40GB:3")
    uuid_of_2 = smi("-i", "2", "--query-gpu=uuid", "--format=csv,noheader").out.strip()
    for ident in ("00000000:20:00.0", uuid_of_2):
        run = smi("-i", ident, "--query-gpu=index", "--format=csv,noheader")
        assert run.out == ("1\n" if ident.startswith("0000") else "2\n")


# --- errors, exit codes and the stderr notice -------------------------------------------------

@pytest.mark.parametrize(("argv", "out", "code"), [
    (["--bogus"], "ERROR: Option --bogus is not recognized. Please run 'nvidia-smi -h' for "
                  "help.\n\n", 255),
    (["-i"], "ERROR: Option -i is missing its value. Please run 'nvidia-smi -h' for help.\n\n",
     255),
    (["mig", "-lgx"], "ERROR: Option -lgx is not recognized. Please run 'nvidia-smi -h' for "
                      "help.\n\n", 255),
    (["--query-gpu=index,bogus", "--format=csv"],
     'Field "bogus" is not a valid field to query.\n\n', 2),
    (["--query-gpu=index"], "Invalid combination of input arguments. Please run 'nvidia-smi -h' "
                            "for help.\n\n", 2),
    (["-i", "5", "-L"], "No devices were found\n", 6),
    (["-mig", "2"], "Invalid combination of input arguments. Please run 'nvidia-smi -h' for "
                    "help.\n\n", 2),
    (["mig", "-lgi", "-lci"], "Invalid combination of input arguments. Please run 'nvidia-smi "
                              "-h' for help.\n\n", 2),
    (["-q"], "", 2),
], ids=["unknown-option", "missing-value", "unknown-mig-option", "bad-field", "no-format",
        "no-such-gpu", "bad-mig-mode", "two-mig-actions", "not-simulated"])
def test_errors_and_exit_codes(smi, node, argv, out, code):
    run = smi(*argv)
    assert (run.out, run.code) == (out, code)


def test_mig_help(smi, node):
    for argv in (["mig", "-h"], ["mig", "--help"], ["mig"]):
        run = smi(*argv)
        assert (run.out, run.code) == (fixture_text("mig_help_r450.txt"), 0), argv


@pytest.mark.parametrize("argv", [
    [], ["-L"], ["-h"], ["-q"], ["--bogus"], ["-i", "9"], ["-mig", "1"], ["mig", "-lgip"],
    ["mig", "-cgi", "nope"], ["mig", "-lgi"], ["--query-gpu=index", "--format=csv"],
], ids=lambda a: " ".join(a) or "no-args")
def test_every_call_says_it_is_simulated_on_one_stderr_line(smi, node, sim_node, argv):
    run = smi(*argv)
    lines = run.err.splitlines()
    assert len(lines) == 1 and run.err.endswith("\n")
    assert lines[0].startswith(f"{NOTICE}, state {sim_node}")
    assert NOTICE not in run.out, "stdout stays byte-compatible"


def test_a_real_field_the_simulator_lacks_is_not_called_invalid(smi, node):
    run = smi("--query-gpu=index,temperature.gpu", "--format=csv")
    assert (run.out, run.code) == ("", 2)
    assert run.err.rstrip().endswith(": field temperature.gpu is not simulated")


def test_mig_on_without_compute_instances_shows_no_mig_devices(smi, node):
    enable(smi)
    smi("mig", "-cgi", "9")  # a GPU instance without a compute instance is no MIG device
    lines = smi().out.splitlines()
    assert "|  No MIG devices found" + " " * 67 + "|" in lines
    assert smi("-L").out.count("MIG") == 0


def test_several_gpus_share_one_table(smi, node):
    node("A100-SXM4-40GB:2")
    smi("-mig", "1")
    smi("mig", "-cgi", "9:0")
    lines = smi("mig", "-lgi").out.splitlines()
    assert [line for line in lines if "MIG 3g.20gb" in line] == [
        "|   0  MIG 3g.20gb            9        2          0:4     |",
        "|   1  MIG 3g.20gb            9        2          0:4     |"]
    assert sum("GPU instances:" in line for line in lines) == 1


def test_a_broken_state_file_is_explained_on_the_one_stderr_line(smi, node, sim_node):
    sim_node.write_text("{not json")
    run = smi("-L")
    assert (run.out, run.code) == ("", 255)
    assert len(run.err.splitlines()) == 1 and "run 'labkit sim reset'" in run.err
