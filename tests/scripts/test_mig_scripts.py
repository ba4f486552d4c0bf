"""scripts/mig/*.sh against the simulated node: success, every failure path, second runs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import ROOT


def enabled(node) -> None:
    proc = node.script("1-enable-mig.sh", "--yes")
    assert proc.returncode == 0, proc.stderr


# --- 1-enable-mig.sh ---------------------------------------------------------------------

def test_enable_then_second_run_changes_nothing(node):
    first = node.script("1-enable-mig.sh", "--yes")
    assert first.returncode == 0, first.stderr
    assert "+ nvidia-smi -i 0 -mig 1" in first.stdout
    assert "verified: MIG mode Enabled on GPU 0 (NVIDIA A100-SXM4-40GB)" in first.stdout
    assert node.smi("-i", "0", "--query-gpu=mig.mode.current", "--format=csv,noheader") == "Enabled\n"
    second = node.script("1-enable-mig.sh", "--yes")
    assert second.returncode == 0
    assert second.stdout.strip() == ("MIG already enabled on GPU 0 (NVIDIA A100-SXM4-40GB): "
                                     "nothing to do")


def test_dry_run_changes_nothing(node):
    proc = node.script("1-enable-mig.sh", "--dry-run")
    assert proc.returncode == 0 and "+ nvidia-smi -i 0 -mig 1" in proc.stdout
    assert node.smi("--query-gpu=mig.mode.current", "--format=csv,noheader") == "Disabled\n"


@pytest.mark.parametrize(("setup", "args", "code", "message"), [
    ({"LABKIT_SIM_GPUS": "T4"}, ["--yes"], 4, "GPU 0 (Tesla T4) is not MIG capable"),
    ({}, ["--gpu", "3", "--yes"], 3, "GPU 3 not found: No devices were found (list the GPUs"),
    ({}, ["--gpu", "x"], 1, "--gpu must be a GPU index such as 0 (nvidia-smi -L lists them), got 'x'"),
    ({}, ["--bogus"], 1, "unknown option '--bogus' (see --help)"),
    ({}, [], 10, "confirmation needed; rerun with --yes"),
], ids=["not-mig-capable", "no-such-gpu", "bad-index", "unknown-option", "no-confirmation"])
def test_enable_failures(node, setup, args, code, message):
    if setup:
        node.env.update(setup)
        node.labkit("sim", "reset")
    proc = node.script("1-enable-mig.sh", *args)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert message in proc.stderr


def test_enable_refuses_a_busy_gpu(node):
    assert node.labkit("sim", "hold", "--gpu", "0").returncode == 0
    proc = node.script("1-enable-mig.sh", "--yes")
    assert proc.returncode == 5
    assert "is in use by the processes above" in proc.stderr
    assert node.smi("--query-gpu=mig.mode.pending", "--format=csv,noheader") == "Disabled\n"


@pytest.mark.parametrize(("script", "args"), [
    ("1-enable-mig.sh", ["--yes"]),
    ("2-create-mig-instances.sh", ["--profiles", "1g.5gb", "--yes"]),
], ids=["enable", "create"])
def test_missing_nvidia_smi_exits_2(node, script, args):
    if shutil.which("nvidia-smi", path="/usr/bin:/bin"):
        pytest.skip("a real nvidia-smi is installed in /usr/bin or /bin")
    proc = node.script(script, *args, extra_env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "ERROR: nvidia-smi not found on PATH" in proc.stderr
    assert "labkit sim bin" in proc.stderr, "the hint names the simulator"


def test_a_pending_mode_change_exits_9_with_the_reboot_hint(node):
    """A held GPU leaves 'nvidia-smi -mig 1' pending; the script says so instead of retrying."""
    assert node.labkit("sim", "hold", "--gpu", "0").returncode == 0
    subprocess.run(["nvidia-smi", "-i", "0", "-mig", "1"], env=node.env, capture_output=True)
    assert node.labkit("sim", "release", "--gpu", "0").returncode == 0
    proc = node.script("1-enable-mig.sh", "--yes")
    assert proc.returncode == 9, proc.stdout + proc.stderr
    assert "MIG mode change to Enabled is already pending on GPU 0" in proc.stderr
    assert "simulated node: labkit sim reboot" in proc.stderr
    assert "+ nvidia-smi" not in proc.stdout
    assert node.labkit("sim", "reboot").returncode == 0, "the hint's command works"
    assert node.script("1-enable-mig.sh", "--yes").stdout.startswith("MIG already enabled")


def test_driver_older_than_the_minimum_is_refused():
    proc = subprocess.run(["bash", "-c", 'source scripts/mig/common.sh; '
                           'GPU_INDEX=0 GPU_NAME="NVIDIA A100-SXM4-40GB" GPU_DRIVER=470.57.02; '
                           'check_driver'], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 6
    assert "driver 470.57.02 on GPU 0 (NVIDIA A100-SXM4-40GB) is older than 525.53" in proc.stderr


def test_disable_needs_instances_gone_then_works(node):
    enabled(node)
    assert node.script("2-create-mig-instances.sh", "--profiles", "1g.5gb", "--yes").returncode == 0
    refused = node.script("1-enable-mig.sh", "--disable", "--yes")
    assert refused.returncode == 5 and "still has GPU instances" in refused.stderr
    node.smi("mig", "-dci")
    node.smi("mig", "-dgi")
    done = node.script("1-enable-mig.sh", "--disable", "--yes")
    assert done.returncode == 0, done.stderr
    assert "verified: MIG mode Disabled" in done.stdout


# --- 2-create-mig-instances.sh -----------------------------------------------------------

def test_create_layout_then_second_run_changes_nothing(node):
    enabled(node)
    first = node.script("2-create-mig-instances.sh", "--profiles", "3g.20gb,2g.10gb,1g.5gb",
                        "--yes")
    assert first.returncode == 0, first.stderr
    assert "+ nvidia-smi mig -i 0 -cgi 2g.10gb:0,1g.5gb:2,3g.20gb:4 -C" in first.stdout
    assert node.layout() == "1g.5gb,2g.10gb,3g.20gb"
    assert node.smi("-L").count("  MIG ") == 3, "each GI got its default compute instance"
    second = node.script("2-create-mig-instances.sh", "--profiles", "1g.5gb,3g.20gb,2g.10gb",
                         "--yes")
    assert second.returncode == 0
    assert "already applied on GPU 0" in second.stdout and "+ nvidia-smi" not in second.stdout


def test_gpu_instances_without_compute_instances_are_completed(node):
    """-cgi without -C leaves no MIG device: the layout is not 'already applied' until each GI
    has its default compute instance, which the script then creates (and nothing else)."""
    enabled(node)
    node.smi("mig", "-cgi", "3g.20gb,1g.5gb")
    assert "  MIG " not in node.smi("-L")
    first = node.script("2-create-mig-instances.sh", "--profiles", "1g.5gb,3g.20gb", "--yes")
    assert first.returncode == 0, first.stderr
    assert "already applied" not in first.stdout
    created = [line for line in first.stdout.splitlines() if line.startswith("+ nvidia-smi mig")]
    assert created == ["+ nvidia-smi mig -i 0 -gi 1 -cci", "+ nvidia-smi mig -i 0 -gi 11 -cci"]
    assert "each with its default compute instance" in first.stdout
    assert node.smi("-L").count("  MIG ") == 2
    second = node.script("2-create-mig-instances.sh", "--profiles", "1g.5gb,3g.20gb", "--yes")
    assert second.returncode == 0 and "already applied on GPU 0" in second.stdout


def test_missing_compute_instances_dry_run_changes_nothing(node):
    enabled(node)
    node.smi("mig", "-cgi", "7g.40gb")
    proc = node.script("2-create-mig-instances.sh", "--profiles", "7g.40gb", "--dry-run")
    assert proc.returncode == 0 and "+ nvidia-smi mig -i 0 -gi 0 -cci" in proc.stdout
    assert "  MIG " not in node.smi("-L")


def test_smaller_compute_instances_count_as_another_layout(node):
    enabled(node)
    node.smi("mig", "-cgi", "3g.20gb")
    node.smi("mig", "-gi", "1", "-cci", "1c.3g.20gb")
    refused = node.script("2-create-mig-instances.sh", "--profiles", "3g.20gb", "--yes")
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "GPU instance(s) 1 without their default compute instance" in refused.stderr
    replaced = node.script("2-create-mig-instances.sh", "--profiles", "3g.20gb", "--replace",
                           "--yes")
    assert replaced.returncode == 0, replaced.stderr
    assert "MIG 3g.20gb" in node.smi("mig", "-lci") and "1c.3g" not in node.smi("mig", "-lci")


def test_create_refuses_to_replace_instances_in_use(node):
    enabled(node)
    assert node.script("2-create-mig-instances.sh", "--profiles", "7g.40gb", "--yes").returncode == 0
    assert node.labkit("sim", "hold", "--gpu", "0", "--gi", "0", "--ci", "0").returncode == 0
    proc = node.script("2-create-mig-instances.sh", "--profiles", "3g.20gb,3g.20gb", "--replace",
                       "--yes")
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "GPU 0 is in use by the processes above; its instances cannot be destroyed" in proc.stderr
    assert node.layout() == "7g.40gb"


def test_create_from_a_mig_parted_config(node):
    enabled(node)
    proc = node.script("2-create-mig-instances.sh", "--config", "all-balanced", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert node.layout() == "1g.5gb,1g.5gb,2g.10gb,3g.20gb"


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--profiles", "3g.40gb"], 7, "profile '3g.40gb' is not a MIG profile of A100-SXM4-40GB"),
    (["--profiles", "4g.20gb,4g.20gb"], 7, "allows at most 1 4g.20gb instance"),
    (["--profiles", "4g.20gb,3g.20gb,1g.5gb"], 7, "1g.5gb"),
    (["--config", "no-such-layout"], 1, "config 'no-such-layout' is not in"),
    (["--config", "all-disabled"], 7, "config 'all-disabled' turns MIG off on GPU 0"),
    ([], 1, "give --profiles LIST or --config NAME"),
    (["--profiles", "1g.5gb", "--config", "all-balanced"], 1, "not both"),
], ids=["profile-of-another-gpu", "max-count", "does-not-fit", "unknown-config", "config-disables",
        "nothing-asked", "both-asked"])
def test_create_failures_change_nothing(node, args, code, message):
    enabled(node)
    proc = node.script("2-create-mig-instances.sh", *args, "--yes")
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert node.layout() == "", "nothing was created"


def test_create_needs_mig_enabled(node):
    proc = node.script("2-create-mig-instances.sh", "--profiles", "1g.5gb", "--yes")
    assert proc.returncode == 4
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("[labkit sim]")]
    assert lines == ["ERROR: MIG mode is Disabled on GPU 0 (NVIDIA A100-SXM4-40GB)",
                     "HINT: run scripts/mig/1-enable-mig.sh --gpu 0 first"], "the error, then its hint"


def test_arguments_are_checked_before_the_gpu(node):
    """A config name that does not exist is bad usage even while MIG mode is off."""
    proc = node.script("2-create-mig-instances.sh", "--config", "no-such", "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "config 'no-such' is not in" in proc.stderr and "MIG mode" not in proc.stderr


def test_a_different_layout_needs_replace(node):
    enabled(node)
    assert node.script("2-create-mig-instances.sh", "--profiles", "7g.40gb", "--yes").returncode == 0
    refused = node.script("2-create-mig-instances.sh", "--profiles", "3g.20gb,3g.20gb", "--yes")
    assert refused.returncode == 5 and "already has GPU instances (7g.40gb)" in refused.stderr
    assert node.layout() == "7g.40gb"
    replaced = node.script("2-create-mig-instances.sh", "--profiles", "3g.20gb,3g.20gb",
                           "--replace", "--yes")
    assert replaced.returncode == 0, replaced.stderr
    assert node.layout() == "3g.20gb,3g.20gb"


def test_create_dry_run_changes_nothing(node):
    enabled(node)
    proc = node.script("2-create-mig-instances.sh", "--profiles", "7g.40gb", "--dry-run")
    assert proc.returncode == 0 and "+ nvidia-smi mig -i 0 -cgi 7g.40gb:0 -C" in proc.stdout
    assert node.layout() == ""


# --- 3 and 4: offline without a cluster --------------------------------------------------

@pytest.fixture
def no_cluster(node, tmp_path):
    """kubectl and helm absent: the scripts must work offline."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("nvidia-smi",):
        src = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True,
                             text=True, env=node.env).stdout.strip()
        (bare / tool).symlink_to(src)
    node.env["PATH"] = f"{bare}:/usr/bin:/bin"
    node.env["KUBECTL_TIMEOUT"] = "1s"
    return node


@pytest.mark.parametrize("strategy", ["single", "mixed"])
def test_device_plugin_offline_validates_and_prints_the_plan(no_cluster, strategy):
    proc = no_cluster.script("3-deploy-device-plugin.sh", "--strategy", strategy)
    assert proc.returncode == 0, proc.stderr
    assert f"(migStrategy={strategy})" in proc.stdout
    assert "OFFLINE: nothing applied" in proc.stdout
    assert (f"helm upgrade --install nvdp nvdp/nvidia-device-plugin --version 0.17.0 "
            f"--namespace nvidia-device-plugin --create-namespace -f "
            f"{ROOT}/manifests/device-plugin/values-{strategy}.yaml --wait") in proc.stdout


def test_device_plugin_values_must_match_the_strategy(no_cluster):
    proc = no_cluster.script("3-deploy-device-plugin.sh", "--strategy", "single", "--values",
                             str(ROOT / "manifests/device-plugin/values-mixed.yaml"))
    assert proc.returncode == 7 and "sets migStrategy=mixed but --strategy is single" in proc.stderr


def test_device_plugin_rejects_an_unknown_strategy(no_cluster, tmp_path):
    bad = tmp_path / "values.yaml"
    bad.write_text("migStrategy: sliced\n")
    proc = no_cluster.script("3-deploy-device-plugin.sh", "--values", str(bad))
    assert proc.returncode == 7 and "migStrategy 'sliced' is not valid" in proc.stderr


@pytest.mark.parametrize("strategy", ["single", "mixed"])
def test_test_pod_offline(no_cluster, strategy):
    proc = no_cluster.script("4-deploy-test-pod.sh", "--strategy", strategy)
    assert proc.returncode == 0, proc.stderr
    resource = "nvidia.com/gpu=1" if strategy == "single" else "nvidia.com/mig-1g.5gb=1"
    assert f"manifest OK: pod 'mig-test' requests {resource}" in proc.stdout
    assert "kubectl apply -f" in proc.stdout and "kubectl logs pod/mig-test" in proc.stdout


def test_test_pod_with_a_resource_the_strategy_does_not_advertise(no_cluster):
    proc = no_cluster.script("4-deploy-test-pod.sh", "--strategy", "single", "--manifest",
                             str(ROOT / "manifests/mig-pod.yaml"))
    assert proc.returncode == 7
    assert "requests 'nvidia.com/mig-1g.5gb', which the device plugin does not advertise" in proc.stderr


# --- install-mig-persistence.sh ----------------------------------------------------------

def test_persistence_installs_once_and_uninstalls(node, tmp_path):
    extra = {"SYSTEMD_DIR": str(tmp_path / "systemd"), "LABKIT_ETC": str(tmp_path / "etc")}
    first = node.script("install-mig-persistence.sh", "--config", "all-balanced", "--yes",
                        extra_env=extra)
    assert first.returncode == 0, first.stderr
    unit = (tmp_path / "systemd" / "labkit-mig-layout.service").read_text()
    assert "ExecStart=" in unit and "1-enable-mig.sh --gpu 0 --yes" in unit
    assert "2-create-mig-instances.sh --gpu 0 --config all-balanced --replace --yes" in unit
    assert (tmp_path / "etc" / "mig-config.yaml").is_file()
    second = node.script("install-mig-persistence.sh", "--config", "all-balanced", "--yes",
                         extra_env=extra)
    assert second.returncode == 0 and "nothing to do" in second.stdout
    gone = node.script("install-mig-persistence.sh", "--uninstall", "--yes", extra_env=extra)
    assert gone.returncode == 0 and not (tmp_path / "systemd" / "labkit-mig-layout.service").exists()


def test_persistence_refuses_an_unknown_layout(node, tmp_path):
    proc = node.script("install-mig-persistence.sh", "--config", "nope", "--yes",
                       extra_env={"SYSTEMD_DIR": str(tmp_path / "s"), "LABKIT_ETC": str(tmp_path / "e")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "config 'nope' is not in" in proc.stderr and "all-balanced" in proc.stderr
    assert not (tmp_path / "s").exists()


def test_the_boot_unit_recreates_the_layout_after_a_reboot(node, tmp_path):
    """What the unit runs at boot brings the layout back after the simulated reboot."""
    enabled(node)
    assert node.script("2-create-mig-instances.sh", "--config", "all-balanced", "--yes").returncode == 0
    assert node.labkit("sim", "reboot").returncode == 0
    assert node.layout() == "", "instances do not survive a reboot"
    assert node.script("1-enable-mig.sh", "--yes").returncode == 0
    again = node.script("2-create-mig-instances.sh", "--config", "all-balanced", "--replace",
                        "--yes")
    assert again.returncode == 0, again.stderr
    assert node.layout() == "1g.5gb,1g.5gb,2g.10gb,3g.20gb"
