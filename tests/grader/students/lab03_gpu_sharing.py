"""Adversarial students for Lab 03 (03-gpu-sharing.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "03-gpu-sharing/03-gpu-sharing.ipynb"

RESET = "NODE.reset()"

STUDENTS = [
    # Exercise 1: jain. labkit's index is private; the closest public thing is the measured
    # fairness of this run, which is no function of the values passed.
    Student("jain", "shortcut", '''
def jain(values):
    return noisy.fairness(next(iter(noisy.runs)))
'''),
    # A cold reviewer's answer: labkit's private index (kept for noisy.fairness). The exercise
    # takes a dict tenant -> allocation too, which the private function does not.
    Student("jain", "shortcut", '''
from labkit.sharing.metrics import _jain_index as jain
'''),
    Student("jain", "naive", '''
def jain(values):
    xs = [float(v) for v in values]
    return sum(xs) ** 2 / sum(x * x for x in xs)
''', breaks="divides by n", fails="test_jain"),
    Student("jain", "naive", '''
def jain(values):
    xs = np.asarray(list(values), dtype=float)
    return float(xs.sum() ** 2 / (len(xs) * (xs ** 2).sum()))
''', breaks="accepts a dict tenant -> allocation (the index is over its values)",
        fails="test_jain"),
    Student("jain", "naive", '''
def jain(values):
    if not values:
        return 1.0
    xs = [float(v) for v in values]
    return sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs))
''', breaks="accepts a numpy array (`if not values` is ambiguous for an array)",
        fails="test_jain"),
    Student("jain", "raises", '''
def jain(values):
    return sum(values) ** 2 / (len(values) * sum(x * x for x in values) - len(values) * 1.0
                               * sum(x * x for x in values))
'''),
    # Exercise 2: choose_scheme. meets_slo and summarize are no longer public names of the lab.
    Student("choose_scheme", "shortcut", '''
from labkit.sharing import percentile
def choose_scheme(latencies, slo_p99_ms):
    return min(latencies, key=lambda s: max(percentile(v, 99) for v in latencies[s].values()))
'''),
    Student("choose_scheme", "naive", '''
def choose_scheme(latencies, slo_p99_ms):
    best = None
    for scheme, tenants in latencies.items():
        avg = sum(float(np.percentile(v, 99)) for v in tenants.values()) / len(tenants)
        if avg <= slo_p99_ms and (best is None or avg < best[0]):
            best = (avg, scheme)
    return None if best is None else best[1]
''', breaks="the worst tenant decides, not the average", fails="test_choose_scheme"),
    Student("choose_scheme", "naive", '''
def choose_scheme(latencies, slo_p99_ms):
    best = None
    for scheme, tenants in latencies.items():
        worst = max(float(np.percentile(v, 99)) for v in tenants.values())
        if best is None or worst < best[0]:
            best = (worst, scheme)
    return best[1]
''', breaks="None when no scheme meets the SLO", fails="test_choose_scheme"),
    Student("choose_scheme", "raises", '''
def choose_scheme(latencies, slo_p99_ms):
    return min(latencies, key=lambda s: np.percentile(latencies[s], 99))
'''),
    # Exercise 3 (operated): the device-plugin config. The shortcut applies the course's own
    # time-slicing config, which answers another need.
    Student("sharing_config", "shortcut", '''
values = yaml.safe_load((MANIFESTS / "device-plugin-time-slicing-values.yaml").read_text())
NODE.apply(values["config"]["map"]["time-sliced-4"])
''', setup=RESET),
    Student("sharing_config", "naive", '''
NODE.apply("""
version: v1
flags: {migStrategy: mixed}
sharing:
  timeSlicing:
    renameByDefault: true
    failRequestsGreaterThanOne: true
    resources:
    - name: nvidia.com/mig-3g.20gb
      replicas: 6
""")
''', breaks="replicas is per device (3), not the node's total (6)", fails="test_sharing_turns",
        setup=RESET),
    Student("sharing_config", "naive", '''
NODE.apply("""
version: v1
flags: {migStrategy: mixed}
sharing:
  timeSlicing:
    failRequestsGreaterThanOne: true
    resources:
    - name: nvidia.com/mig-3g.20gb
      replicas: 3
""")
''', breaks="shared turns advertised under another name (renameByDefault)",
        fails="test_sharing_renamed", setup=RESET),
    Student("sharing_config", "naive", '''
NODE.apply("""
version: v1
flags: {migStrategy: mixed}
sharing:
  timeSlicing:
    renameByDefault: true
    resources:
    - name: nvidia.com/mig-3g.20gb
      replicas: 3
""")
''', breaks="a request of 2 shared replicas refused (failRequestsGreaterThanOne)",
        fails="test_sharing_refuses", setup=RESET),
    Student("sharing_config", "raises", '''
NODE.apply("""
version: v1
flags: {migStrategy: mixed}
sharing:
  mps:
    resources:
    - name: nvidia.com/mig-3g.20gb
      replicas: 3
""")
''', setup=RESET),
    # Exercise 4: pack. The reference packer is private; the closest public names only check.
    Student("pack_vms_exercise", "shortcut", '''
from labkit.sharing import check_packing
def pack(requests, gpus):
    assignment = {vm: 0 for vm in requests}
    return (assignment, "") if not check_packing(requests, assignment, gpus) else (None, "no")
'''),
    Student("pack_vms_exercise", "naive", '''
from labkit.sharing import get_vgpu_profile
def pack(requests, gpus):
    by_profile = {}
    for vm, name in requests.items():
        by_profile.setdefault(name, []).append(vm)
    assignment, next_gpu, needs = {}, 0, []
    for name, vms in sorted(by_profile.items()):
        most = get_vgpu_profile(name).printed_max_equal or get_vgpu_profile(name).max_equal
        need = -(-len(vms) // most)
        needs.append(f"{name} x {len(vms)} needs {need} GPU(s)")
        for i, vm in enumerate(vms):
            assignment[vm] = next_gpu + i // most
        next_gpu += need
    if next_gpu > gpus:
        return None, f"needs {next_gpu} GPUs, only {gpus}: " + "; ".join(needs)
    return assignment, ""
''', breaks="at most max_equal per GPU (NVIDIA's printed 6 x H100-16C overfill the card)",
        fails="test_pack_fits"),
    # A cold reviewer's answer: wrap labkit's reference packer. It is no longer in labkit
    # (tests/sharing/packing_reference.py), so the call fails inside the checks.
    Student("pack_vms_exercise", "shortcut", '''
from labkit.sharing import vgpu
def pack(requests, gpus):
    try:
        return vgpu._pack_vms(requests, gpus).assignment(), ""
    except vgpu.VgpuPlacementError as err:
        return None, str(err)
'''),
    # The reviewer's other answers: a list instead of a dict, and a method not called. Both
    # once reached check_packing unchecked and showed a stack.
    Student("pack_vms_exercise", "naive", '''
def pack(requests, gpus):
    return [0 for vm in requests], ""
''', breaks="assignment is a dict {vm: gpu index}", fails="test_pack_fits"),
    Student("pack_vms_exercise", "naive", '''
def pack(requests, gpus):
    class Placed:
        def assignment(self):
            return {vm: 0 for vm in requests}
    return Placed().assignment, ""
''', breaks="assignment is a dict (here a method, not called)", fails="test_pack_fits"),
    # A valid packer whose reason is worded like the old private packer's ("they need at least
    # 3 GPUs"): the reason must begin 'needs <n> GPUs, only <gpus>'.
    Student("pack_vms_exercise", "naive", '''
from collections import Counter
from labkit.sharing import get_vgpu_profile
def pack(requests, gpus):
    by_profile = {}
    for vm, name in requests.items():
        by_profile.setdefault(name, []).append(vm)
    assignment, next_gpu = {}, 0
    for name, vms in sorted(by_profile.items()):
        most = get_vgpu_profile(name).max_equal
        for i, vm in enumerate(vms):
            assignment[vm] = next_gpu + i // most
        next_gpu += -(-len(vms) // most)
    if next_gpu > gpus:
        parts = "; ".join(f"{n} x {c}" for n, c in sorted(Counter(requests.values()).items()))
        return None, (f"the {len(requests)} VM request(s) do not fit {gpus} GPU(s) in "
                      f"equal-size mode: they need at least {next_gpu} GPUs: {parts}")
    return assignment, ""
''', breaks="the reason begins 'needs <n> GPUs, only <gpus>'", fails="test_pack_reason"),
    Student("pack_vms_exercise", "naive", '''
from labkit.sharing import get_vgpu_profile
def pack(requests, gpus):
    by_profile = {}
    for vm, name in requests.items():
        by_profile.setdefault(name, []).append(vm)
    assignment, next_gpu = {}, 0
    for name, vms in sorted(by_profile.items()):
        most = get_vgpu_profile(name).max_equal
        for i, vm in enumerate(vms):
            assignment[vm] = next_gpu + i // most
        next_gpu += -(-len(vms) // most)
    if next_gpu > gpus:
        return None, "the VMs do not fit"
    return assignment, ""
''', breaks="the reason says how many GPUs are needed", fails="test_pack_reason"),
    Student("pack_vms_exercise", "raises", '''
def pack(requests, gpus):
    return {vm: int(name.split("-")[1]) for vm, name in requests.items()}, ""
'''),
]
