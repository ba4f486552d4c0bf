"""Adversarial students for Lab 05 (05-storage.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "05-storage/05-storage.ipynb"

# The fio exercise is operated: start each answer from no job file and no fio report.
CLEAN = "JOB_FILE.unlink(missing_ok=True)\nFIO_JSON.unlink(missing_ok=True)\n"


def job(*lines: str) -> str:
    """An answer cell writing a job file for FIO_FILE with these lines in [smallfiles]."""
    body = "\\n".join(lines)
    return ('JOB_FILE.write_text(f"[global]\\nfilename={FIO_FILE}\\nsize={FIO_SIZE}\\n'
            f'[smallfiles]\\n{body}\\n")\n')


STUDENTS = [
    # Exercise 1: the fio job file
    Student("fio_job_file", "shortcut", '''
JOB_FILE.write_text("[smallfiles]\\n" + "\\n".join(f"{k}={v}" for k, v in vars(
    FioJob("smallfiles", "randread", 4096, 8, FIO_SIZE, 2.0)).items()))
''', setup=CLEAN),
    Student("fio_job_file", "naive",
            job("rw=randread", "bs=4k", "numjobs=2", "iodepth=8", "ioengine=libaio",
                "direct=1", "runtime=2", "time_based"),
            breaks="reported as one group (group_reporting)", fails="test_fio_job_runs",
            setup=CLEAN),
    Student("fio_job_file", "naive",
            job("rw=randread", "bs=4k", "numjobs=2", "group_reporting", "iodepth=8",
                "ioengine=libaio", "direct=1", "runtime=2"),
            breaks="for 2 seconds whatever the file size (time_based)",
            fails="test_fio_job_runs", setup=CLEAN),
    Student("fio_job_file", "naive",
            job("rw=read", "bs=4k", "numjobs=2", "group_reporting", "iodepth=8",
                "ioengine=libaio", "direct=1", "runtime=2", "time_based"),
            breaks="random reads", fails="test_fio_job_pattern", setup=CLEAN),
    Student("fio_job_file", "naive",
            job("rw=randread", "bs=4k", "group_reporting", "iodepth=8",
                "ioengine=libaio", "direct=1", "runtime=2", "time_based"),
            breaks="2 processes at once (numjobs)", fails="test_fio_job_pattern", setup=CLEAN),
    Student("fio_job_file", "naive",
            job("rw=randread", "bs=4k", "numjobs=2", "group_reporting", "iodepth=8",
                "direct=1", "runtime=2", "time_based"),
            breaks="8 reads in flight needs an asynchronous engine (psync keeps one)",
            fails="test_fio_job_depth", setup=CLEAN),
    Student("fio_job_file", "naive",
            job("rw=randread", "bs=4k", "numjobs=2", "group_reporting", "iodepth=8",
                "ioengine=libaio", "runtime=2", "time_based"),
            breaks="bypassing the page cache (direct=1)", fails="test_fio_job_depth",
            setup=CLEAN),
    Student("fio_job_file", "raises", '''
JOB_FILE.write_text((work / "template.fio").read_text().replace("read", "randread"))
''', setup=CLEAN),
    # Exercise 2: read_bandwidth_needed
    Student("read_bandwidth_needed", "shortcut", '''
def read_bandwidth_needed(n_gpus, batch_size, record_bytes, step_time_s):
    w = next(w for w in WORKLOADS.values() if w.computation_time_s == step_time_s)
    return float(n_gpus * w.batch_size * w.record_bytes / w.computation_time_s)
'''),
    # the cold review's answer: the reference the notebook used to print as its fallback
    # (a def, so that a missing name fails when called, not when the cell defines it)
    Student("read_bandwidth_needed", "shortcut", '''
def read_bandwidth_needed(n_gpus, batch_size, record_bytes, step_time_s):
    return course_bandwidth(n_gpus, batch_size, record_bytes, step_time_s)
'''),
    # the fallback the notebook shows now: per-GPU figures recorded for the table's workloads
    Student("read_bandwidth_needed", "shortcut", '''
def read_bandwidth_needed(n_gpus, batch_size, record_bytes, step_time_s):
    key = next(k for k, w in WORKLOADS.items() if w.computation_time_s == step_time_s)
    return float(n_gpus * RECORDED_MIB_S_PER_GPU[key] * MIB)
'''),
    Student("read_bandwidth_needed", "naive", '''
def read_bandwidth_needed(n_gpus, batch_size, record_bytes, step_time_s):
    return float(n_gpus * batch_size * record_bytes / step_time_s)
''', breaks="raise ValueError for step_time_s <= 0 or n_gpus < 0",
            fails="test_read_bandwidth_refuses"),
    Student("read_bandwidth_needed", "naive", '''
def read_bandwidth_needed(n_gpus, batch_size, record_bytes, step_time_s):
    if step_time_s <= 0 or n_gpus < 0:
        raise ValueError("bad input")
    return float(batch_size * record_bytes / step_time_s)
''', breaks="multiplied by the number of GPUs", fails="test_read_bandwidth_needed"),
    Student("read_bandwidth_needed", "naive", '''
def read_bandwidth_needed(n_gpus, batch_size, record_bytes, step_time_s):
    if step_time_s <= 0 or n_gpus < 0:
        raise ValueError("bad input")
    return float(n_gpus * batch_size * record_bytes / step_time_s) / 2**20
''', breaks="bytes per second (not MiB/s)", fails="test_read_bandwidth_needed"),
    Student("read_bandwidth_needed", "naive", '''
def read_bandwidth_needed(n_gpus, batch_size, record_bytes, step_time_s):
    if step_time_s == 0 or n_gpus < 0:
        raise ValueError("bad input")
    return float(n_gpus * batch_size * record_bytes / step_time_s)
''', breaks="a negative step time is refused too", fails="test_read_bandwidth_refuses"),
    Student("read_bandwidth_needed", "raises", '''
def read_bandwidth_needed(n_gpus, batch_size, record_bytes, step_time_s):
    return n_gpus * batch_size * record_bytes / int(str(step_time_s))
'''),
    # Exercise 3: choose_loader
    Student("choose_loader", "shortcut", '''
from labkit.experiment import spread
def choose_loader(sweep):
    return max(sweep, key=lambda r: spread(r["au_rounds"]).median)
'''),
    # the cold review's answer: the reference the notebook used to print as its fallback
    # (a def, so that a missing name fails when called, not when the cell defines it)
    Student("choose_loader", "shortcut", '''
def choose_loader(sweep):
    return course_choice(sweep)
'''),
    # the fallback the notebook shows now: the pick recorded with this run's sweep
    Student("choose_loader", "shortcut", '''
def choose_loader(sweep):
    pick = results["au_sweep"]["course_pick"]
    return next((r for r in sweep if r["label"] == pick), None)
'''),
    Student("choose_loader", "shortcut", '''
def choose_loader(sweep):
    return next((r for r in sweep if r["label"] == au_run.course_pick), None)
'''),
    Student("choose_loader", "naive", '''
def choose_loader(sweep):
    passing = [r for r in sweep if r["au"] >= 0.90]
    return min(passing, key=lambda r: (r["num_workers"], r["prefetch_factor"] or 0),
               default=None)
''', breaks="AU >= 0.90 in every round, not the median", fails="test_choose_loader_every_round"),
    Student("choose_loader", "naive", '''
def choose_loader(sweep):
    passing = [r for r in sweep if min(r["au_rounds"]) >= 0.90]
    return min(passing, key=lambda r: r["num_workers"], default=None)
''', breaks="then the smallest prefetch_factor", fails="test_choose_loader_cheapest"),
    Student("choose_loader", "naive", '''
def choose_loader(sweep):
    passing = [r for r in sweep if min(r["au_rounds"]) >= 0.90]
    if not passing:
        return max(sweep, key=lambda r: r["au"], default=None)
    return min(passing, key=lambda r: (r["num_workers"], r["prefetch_factor"] or 0))
''', breaks="None when no row passed in every round", fails="test_choose_loader_none"),
    Student("choose_loader", "naive", '''
def choose_loader(sweep):
    return None
''', breaks="None only when no row passed in every round", fails="test_choose_loader_none"),
    Student("choose_loader", "raises", '''
def choose_loader(sweep):
    return min(sweep, key=lambda r: (r["rounds"], r["num_workers"]))
'''),
]

STUDENTS += [
    # Exercise 4: depth_to_hide
    Student("depth_to_hide", "shortcut", '''
def depth_to_hide(latency_s, seconds_per_sample, sample_bytes, bandwidth):
    return 32  # what section 6 used
'''),
    # the cold review's answer: the reference the notebook used to print as its fallback
    # (a def, so that a missing name fails when called, not when the cell defines it)
    Student("depth_to_hide", "shortcut", '''
def depth_to_hide(latency_s, seconds_per_sample, sample_bytes, bandwidth):
    return course_depth(latency_s, seconds_per_sample, sample_bytes, bandwidth)
'''),
    # the fallback the notebook shows now: the depth recorded with section 6's run
    Student("depth_to_hide", "shortcut", '''
def depth_to_hide(latency_s, seconds_per_sample, sample_bytes, bandwidth):
    return remote.course_depth
'''),
    Student("depth_to_hide", "naive", '''
def depth_to_hide(latency_s, seconds_per_sample, sample_bytes, bandwidth):
    if sample_bytes / bandwidth > seconds_per_sample:
        return None
    return max(1, int(latency_s / seconds_per_sample))
''', breaks="rounded up to a whole request", fails="test_depth_to_hide_littles_law"),
    Student("depth_to_hide", "naive", '''
def depth_to_hide(latency_s, seconds_per_sample, sample_bytes, bandwidth):
    if sample_bytes / bandwidth > seconds_per_sample:
        return None
    return math.ceil(latency_s / seconds_per_sample)
''', breaks="at least 1 request", fails="test_depth_to_hide_littles_law"),
    Student("depth_to_hide", "naive", '''
def depth_to_hide(latency_s, seconds_per_sample, sample_bytes, bandwidth):
    return max(1, math.ceil(latency_s / seconds_per_sample))
''', breaks="None when the link's bandwidth is the limit", fails="test_depth_to_hide_bandwidth"),
    Student("depth_to_hide", "raises", '''
def depth_to_hide(latency_s, seconds_per_sample, sample_bytes, bandwidth):
    return math.ceil(latency_s / seconds_per_sample) * len(sample_bytes)
'''),
]
