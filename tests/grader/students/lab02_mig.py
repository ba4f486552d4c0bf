"""Adversarial students for Lab 02 (02-mig.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "02-mig/02-mig.ipynb"

# Exercise 3 is operated: every answer starts from the node the notebook leaves before it
# (MIG on, the all-balanced layout on GPU 0).
RESET_NODE = '''
run([*LABKIT, "sim", "reset", "--gpu", GPU_MODEL], show=False)
run(f"{SCRIPTS}/1-enable-mig.sh --gpu 0 --yes", show=False)
run(f"{SCRIPTS}/2-create-mig-instances.sh --gpu 0 --config all-balanced --yes", show=False)
'''

# The admit rule with one change, for the naive students.
ADMIT = '''
from labkit.mig.catalog import get_model


def admit(model_name, tenants):
    model = get_model(model_name)
    profiles = sorted((p for p in model.gi_profiles if not p.media_extensions), key=KEY)
    used, admitted = set(), []
    for name, need in tenants:
        fits = [p for p in profiles if p.nominal_gb >= need]
        if not fits:
            RAISE_OR_SKIP
        profile = fits[0]
        free = [s for s, n in profile.placements if not set(range(s, s + n)) & used]
        if free:
            start = PICK(free)
            used |= set(range(start, start + profile.memory_slices))
            admitted.append((name, profile.name, start))
    return admitted
'''


def admit_with(key="lambda p: (p.memory_slices, p.slices)", pick="max",
               too_big='raise ValueError(f"tenant {name} needs {need} GB")'):
    return (ADMIT.replace("KEY", key).replace("PICK", pick)
            .replace("RAISE_OR_SKIP", too_big))


DIAGNOSE = '''
def diagnose(lgi_text, model_name, profile):
    model = get_model(model_name)
    by_name = {p.name: p for p in model.gi_profiles}
    wanted = by_name[profile]
    used, compute = set(), 0
    for line in lgi_text.splitlines():
        cells = line.strip().strip("|").split()
        if len(cells) == 6 and cells[0].isdigit() and cells[1] == "MIG":
            start, size = (int(x) for x in cells[5].split(":"))
            used |= set(range(start, start + size))
            compute += by_name[cells[2]].slices
    free = 8 - len(used)
    placeable = any(not set(range(s, s + n)) & used for s, n in wanted.placements)
    BODY
'''

# Exercise 4 starts with no unit installed; its answers write a config with COUNT small
# instances (TARGET has 4) and may install it.
CLEAR_E4 = '''
import shutil
shutil.rmtree(E4_ENV["SYSTEMD_DIR"], ignore_errors=True)
shutil.rmtree(E4_ENV["LABKIT_ETC"], ignore_errors=True)
E4_CONFIG.unlink(missing_ok=True)
'''
WRITE_E4 = '''
E4_CONFIG.write_text(f"""version: v1
mig-configs:
  lab02-target:
    - devices: all
      mig-enabled: true
      mig-devices:
        "{half_3g.name}": 1
        "{smallest_1g.name}": COUNT
""")
'''
INSTALL_E4 = '''
run(f"{SCRIPTS}/install-mig-persistence.sh --config-file {E4_CONFIG} --config lab02-target "
    "--yes", env=E4_ENV, expect=range(256))
'''

CLEAR_E5 = '''
E5_POD.unlink(missing_ok=True)
'''
# A pod for the training job with one choice changed (the simulated GPU is an A100-SXM4-40GB).
POD = '''
from labkit.course import CourseLayout
text = (CourseLayout.find().root / "manifests" / "mig-pod.yaml").read_text()
E5_POD.write_text(text.replace("nvidia.com/mig.strategy: mixed", "nvidia.com/mig.strategy: STRATEGY")
                  .replace("nvidia.com/mig-1g.5gb: 1", "RESOURCE: COUNT"))
run(f"{SCRIPTS}/4-deploy-test-pod.sh --manifest {E5_POD} --strategy STRATEGY --dry-run",
    env={"KUBECTL_TIMEOUT": "2s"}, expect=range(256))
'''

STUDENTS = [
    # Exercise 1: admit
    Student("admit", "shortcut", '''
from labkit.mig.planner import plan_layout
def admit(model_name, tenants):
    return [(t, a.profile, a.start) for (t, _), a in
            zip(tenants, plan_layout(model_name, [gb for _, gb in tenants]).assignments)]
'''),
    Student("admit", "naive", admit_with(key="lambda p: (p.memory_slices, -p.slices)"),
            breaks="ties broken by the fewest compute slices", fails="test_admit_profile"),
    Student("admit", "naive", admit_with(pick="min"),
            breaks="each tenant at the highest free start", fails="test_admit_order"),
    Student("admit", "naive", admit_with(too_big="continue"),
            breaks="a tenant no profile holds raises ValueError", fails="test_admit_error"),
    Student("admit", "naive", admit_with(too_big='raise ValueError("request too large")'),
            breaks="the ValueError names the tenant", fails="test_admit_error"),
    Student("admit", "raises", '''
def admit(model_name, tenants):
    return [(t["name"], "1g.5gb", 0) for t in tenants]
'''),
    # Exercise 2: diagnose
    Student("diagnose", "shortcut", '''
from labkit.mig.formats import parse_lgi
from labkit.mig.planner import plan_layout
def diagnose(lgi_text, model_name, profile):
    try:
        plan_layout(model_name, [r.name.removeprefix("MIG ") for r in parse_lgi(lgi_text)]
                    + [profile])
        return "fits"
    except ValueError:
        return "full"
'''),
    # The cold review's ~6-line answer: placement.fragmented_profiles gave Exercise 2's
    # "fragmented" rule (now private, and the notebook no longer imports placement).
    Student("diagnose", "shortcut", '''
from labkit.mig import placement
from labkit.mig.formats import parse_lgi
from labkit.mig.state import MigState
def diagnose(lgi_text, model_name, profile):
    st = MigState(model_name)
    for r in parse_lgi(lgi_text):
        placement.create_gi(st, r.name, start=r.start)
    if profile in {p.name for p in placement.fragmented_profiles(st)}:
        return "fragmented"
    return "fits" if placement.free_starts(st, profile) else "full"
'''),
    Student("diagnose", "naive", DIAGNOSE.replace("BODY", '''
    if compute + wanted.slices > 7 or free < wanted.memory_slices:
        return "full"
    return "fits"'''), breaks="fits needs a free placement, not just free slices",
            fails="test_diagnose_fits"),
    Student("diagnose", "naive", DIAGNOSE.replace("BODY", '''
    return "fits" if placeable and compute + wanted.slices <= 7 else "full"'''),
            breaks="no free placement but enough free slices is fragmented",
            fails="test_diagnose_fragmented"),
    Student("diagnose", "naive", DIAGNOSE.replace("BODY", '''
    if free < wanted.memory_slices:
        return "full"
    return "fits" if placeable else "fragmented"'''),
            breaks="all 7 compute slices taken is full", fails="test_diagnose_compute"),
    Student("diagnose", "raises", '''
def diagnose(lgi_text, model_name, profile):
    used = [int(line.split()[4]) for line in lgi_text.splitlines() if "MIG" in line]
    return "fits" if len(used) < 7 else "full"
'''),
    # Exercise 3: reconfigure (operated; the checks read the node)
    Student("reconfigure", "shortcut", '''
run(f"{SCRIPTS}/2-create-mig-instances.sh --gpu 0 --config all-balanced --replace --yes")
''', setup=RESET_NODE),
    Student("reconfigure", "naive", '''
run("nvidia-smi mig -i 0 -dci")
run("nvidia-smi mig -i 0 -dgi")
for _ in range(4):
    run("nvidia-smi mig -i 0 -cgi 1g.5gb -C")
run("nvidia-smi mig -i 0 -cgi 3g.20gb -C", expect=range(256))
''', setup=RESET_NODE, breaks="the big instance first (fragmentation)",
            fails="test_reconfigure_gis"),
    Student("reconfigure", "naive", '''
run("nvidia-smi mig -i 0 -cgi 3g.20gb,1g.5gb,1g.5gb,1g.5gb,1g.5gb -C", expect=range(256))
''', setup=RESET_NODE, breaks="the old layout is removed first", fails="test_reconfigure_gis"),
    Student("reconfigure", "naive", '''
run("nvidia-smi mig -i 0 -dci")
run("nvidia-smi mig -i 0 -dgi")
run("nvidia-smi mig -i 0 -cgi 3g.20gb,1g.5gb,1g.5gb,1g.5gb,1g.5gb")
''', setup=RESET_NODE, breaks="each GPU instance has its default compute instance",
            fails="test_reconfigure_devices"),
    # The cold review's answer: the target layout written into the simulator's state from
    # Python, no tool run; the command log shows the layout changed outside any command.
    Student("reconfigure", "naive", '''
from labkit.mig.planner import plan_layout
from labkit.sim.node import store_mig
from labkit.sim.state import transaction
with transaction() as node:
    store_mig(node["gpus"][0], plan_layout(model.name, [p for p, n in TARGET.items()
                                                        for _ in range(n)]).apply(default_ci=True))
''', setup=RESET_NODE, breaks="the layout is reached by running the tools (operated)",
            fails="test_reconfigure_gis"),
    Student("reconfigure", "raises", '''
run("nvidia-smi mig -i 0 -cgi 3g.25gb -C")
''', setup=RESET_NODE),

    # Exercise 4: persist (operated; the check reboots the node and runs the unit)
    Student("persist", "shortcut", '''
run(f"{SCRIPTS}/install-mig-persistence.sh --config all-balanced --yes", env=E4_ENV)
''', setup=CLEAR_E4),
    Student("persist", "naive", WRITE_E4.replace("COUNT", "3") + INSTALL_E4, setup=CLEAR_E4,
            breaks="the config's mig-devices are those of TARGET", fails="test_persist_boot"),
    Student("persist", "naive", WRITE_E4.replace("COUNT", "4"), setup=CLEAR_E4,
            breaks="the config is installed as a boot unit", fails="test_persist_boot"),
    Student("persist", "naive", WRITE_E4.replace("COUNT", "4").replace("lab02-target",
                                                                       "target") + INSTALL_E4,
            setup=CLEAR_E4, breaks="the config is named lab02-target", fails="test_persist_boot"),
    Student("persist", "raises", '''
E4_CONFIG.write_text(TARGET)
''', setup=CLEAR_E4),
    # Exercise 5: pod (a manifest the course script validates)
    Student("pod", "shortcut", '''
import shutil
shutil.copy(CourseLayout.find().root / "manifests" / "mig-pod.yaml", E5_POD)
''', setup=CLEAR_E5),
    Student("pod", "naive", POD.replace("STRATEGY", "single").replace(
        "RESOURCE", "nvidia.com/gpu").replace("COUNT", "1"), setup=CLEAR_E5,
            breaks="the strategy under which this layout is advertised", fails="test_pod_request"),
    Student("pod", "naive", POD.replace("STRATEGY", "mixed").replace(
        "RESOURCE", "nvidia.com/mig-1g.5gb").replace("COUNT", "1"), setup=CLEAR_E5,
            breaks="the training job's instance", fails="test_pod_request"),
    Student("pod", "naive", POD.replace("STRATEGY", "mixed").replace(
        "RESOURCE", "nvidia.com/mig-3g.20gb").replace("COUNT", "2"), setup=CLEAR_E5,
            breaks="exactly one device", fails="test_pod_request"),
    Student("pod", "raises", '''
E5_POD.write_text(open(E5_POD.parent / "no-such-pod.yaml").read())
''', setup=CLEAR_E5),
]
