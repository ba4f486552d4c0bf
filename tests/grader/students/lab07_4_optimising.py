"""Adversarial students for Lab 07 part 4 (07-4-optimising-inference.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "07-pipeline/07-4-optimising-inference.ipynb"

STUDENTS = [
    # Exercise 1: perf_analyzer's stability rule
    Student("is_steady", "shortcut", '''
from labkit.experiment import spread
def is_steady(windows):
    return spread([w["infer_per_s"] for w in windows[-3:]]).relative <= 0.10
'''),
    Student("is_steady", "naive", '''
def is_steady(windows):
    values = [w["infer_per_s"] for w in windows[-3:]]
    return len(windows) >= 3 and max(values) / min(values) <= 1.10
''', breaks="latency must agree as well as throughput", fails="test_is_steady"),
    Student("is_steady", "naive", '''
def is_steady(windows):
    for key in ("infer_per_s", "latency_ms"):
        values = [w[key] for w in windows]
        if max(values) / min(values) > 1.10:
            return False
    return True
''', breaks="only the last 3 windows count", fails="test_is_steady"),
    Student("is_steady", "naive", '''
def is_steady(windows):
    recent = windows[-3:]
    return all(max(w[k] for w in recent) / min(w[k] for w in recent) <= 1.10
               for k in ("infer_per_s", "latency_ms"))
''', breaks="fewer than 3 windows are never stable", fails="test_is_steady_edges"),
    Student("is_steady", "raises", '''
def is_steady(windows):
    return windows[-1]["p99_us"] > 0
'''),
    # Exercise 2: where the time goes
    Student("largest_part", "shortcut", '''
def largest_part(point):
    row = point.csv_row()
    parts = {"queue": row["Server Queue"], "compute": row["Server Compute Infer"],
             "network": row["Network+Server Send/Recv"]}
    return max(parts, key=parts.get)
'''),
    Student("largest_part", "naive", '''
def largest_part(point):
    parts = {"queue": point.server_queue_us, "compute": point.server_compute_infer_us,
             "network": point.network_server_us}
    return max(parts, key=parts.get)
''', breaks="compute is input + infer + output", fails="test_largest_part"),
    Student("largest_part", "raises", '''
def largest_part(point):
    return max(point["queue"], point["compute"])
'''),
    # Exercise 3: the choice among stable points
    Student("choose_config", "shortcut", '''
def choose_config(rows, slo_p99_ms):
    return json.loads((lab.out / "choice.json").read_text())["choice"]
'''),
    Student("choose_config", "naive", '''
def choose_config(rows, slo_p99_ms):
    stable = [r for r in rows if r["stable"]]
    return max(stable, key=lambda r: r["infer_per_s"]) if stable else None
''', breaks="p99 must meet the objective", fails="test_choose_config"),
    Student("choose_config", "naive", '''
def choose_config(rows, slo_p99_ms):
    meeting = [r for r in rows if r["p99_ms"] <= slo_p99_ms]
    return max(meeting, key=lambda r: (r["infer_per_s"], -r["p99_ms"])) if meeting else None
''', breaks="an unstable point is never chosen", fails="test_choose_config_stable"),
    Student("choose_config", "raises", '''
def choose_config(rows, slo_p99_ms):
    return sorted(rows, key=lambda r: r["throughput"])[-1]
'''),
]
