"""Adversarial students for Lab 06 (06-network.ipynb): a shortcut, a naive answer per stated
requirement, and an answer that raises, for every exercise."""

from labkit.course.audit import Student

NOTEBOOK = "06-network/06-network.ipynb"

_RUN = 'run([*RUNNER, "--op", "{op}", "-b", "1M", "-e", "16M", "-f", "{f}", "--nprocs", str(NPROCS), '\
       '"--target-s", "0.05", "--out", str(AR_FILE)])\n'
_FRESH = "AR_FILE.unlink(missing_ok=True)\n"  # each replay starts without the runner's file

# Exercise 1's answer, with one requirement swapped out per naive student ({cols}, {legend},
# {unknown}, {gdr} are replaced).
_TOPO = '''
def path_between(topo_text, a, b):
    lines = topo_text.splitlines()
    header = next(line for line in lines if line.strip())
    names = [n.strip() for n in header.split("\\t") if n.strip()]
    devices = [n for n in names if n.startswith(("GPU", "NIC")) and " " not in n]
    rows = {}
    for line in lines[1:]:
        parts = line.split("\\t")
        if parts[0].strip() in names:
            rows[parts[0].strip()] = [cell.strip() for cell in parts[1:]]
    rdma = {}
    if "NIC Legend:" in topo_text:
        for line in topo_text.split("NIC Legend:", 1)[1].splitlines():
            if ":" in line:
                nic, device = (part.strip() for part in line.split(":", 1))
                rdma[device] = nic
{legend}
{unknown}
    return rows[a][{cols}]


def gdr_nic(topo_text, gpu):
    order = ["X", "NV", "PIX", "PXB", "PHB", "NODE", "SYS"]
    header = next(line for line in topo_text.splitlines() if line.strip())
    nics = [n.strip() for n in header.split("\\t") if n.strip().startswith("NIC")]
    paths = [(order.index(path_between(topo_text, gpu, nic)), i, nic)
             for i, nic in enumerate(nics)]
{gdr}
'''
_LEGEND = "    a, b = rdma.get(a, a), rdma.get(b, b)"
_UNKNOWN = """    for device in (a, b):
        if device not in devices:
            raise ValueError(device)"""
_GDR = """    if not paths or min(paths)[0] > order.index("PXB"):
        return None
    return min(paths)[2]"""
_RIGHT = {"cols": "names.index(b)", "legend": _LEGEND, "unknown": _UNKNOWN, "gdr": _GDR}


def _topo(**swap):
    source = _TOPO
    for key, text in {**_RIGHT, **swap}.items():
        source = source.replace("{" + key + "}", text)
    return source

STUDENTS = [
    # Exercise 1: path_between and gdr_nic on nvidia-smi topo -m matrices
    Student("topology_readers", "shortcut", '''
from labkit.net import NEAREST_FIRST

def path_between(topo_text, a, b):  # a guess from the HGX picture, no parsing
    if a == b:
        return NEAREST_FIRST[0]
    return "NV18" if a.startswith("GPU") and b.startswith("GPU") else "SYS"

def gdr_nic(topo_text, gpu):
    return "NIC" + gpu[3:]  # "every GPU has its own NIC"
'''),
    # the review's answer: the course's readers, by the names a fallback cell used to import
    Student("topology_readers", "shortcut", '''
def path_between(topo_text, a, b):
    return _path_between(topo_text, a, b)

def gdr_nic(topo_text, gpu):
    return _gdr_nic(topo_text, gpu)
'''),
    # the closest public name now: the course's finished plan for the two example matrices
    Student("topology_readers", "shortcut", '''
from labkit.net import course_gdr_plan

def _line(topo_text, gpu):
    lines = course_gdr_plan()["TOPO_HGX" if topo_text == TOPO_HGX else "TOPO_PCIE"]
    return next(line for line in lines if line.split()[0] == gpu)

def path_between(topo_text, a, b):
    return _line(topo_text, a).split("(")[1].split(")")[0].split()[-1]

def gdr_nic(topo_text, gpu):
    line = _line(topo_text, gpu)
    return None if "no NIC" in line else line.split()[2]
'''),
    Student("topology_readers", "naive", _topo(cols="int(b.lstrip(\'GPUNIC\'))"),
            breaks="columns found by the header's names (NICs come after the GPUs)",
            fails="test_path_between"),
    Student("topology_readers", "naive", _topo(legend=""),
            breaks="NICs by their NIC Legend name (mlx5_N)", fails="test_path_between_nic_legend"),
    Student("topology_readers", "naive", _topo(unknown="""    if a not in rows or b not in names:
        return None"""),
            breaks="ValueError for a name that is not a device", fails="test_path_between_unknown"),
    Student("topology_readers", "naive", _topo(gdr="""    for rank, _, nic in paths:
        if rank <= order.index("PXB"):
            return nic  # the first NIC close enough, not the nearest
    return None"""),
            breaks="the nearest NIC (PIX before PXB; first among equals)", fails="test_gdr_nic"),
    Student("topology_readers", "naive", _topo(gdr="""    return min(paths)[2] if paths else None  # whatever the distance"""),
            breaks="None beyond PXB (PHB, NODE, SYS) or without NICs", fails="test_gdr_nic_none"),
    Student("topology_readers", "raises", '''
def path_between(topo_text, a, b):
    rows = {line.split()[0]: line.split()[1:] for line in topo_text.splitlines()}
    return rows[a][int(b[3:])]

def gdr_nic(topo_text, gpu):
    return min(n for n in topo_text.split() if n.startswith("NIC"))
'''),
    # Exercise 2: busbw_from_algbw
    Student("busbw_from_algbw", "shortcut", '''
from labkit.net import algbw as _algbw

def busbw_from_algbw(algbw, op, n):
    return _algbw(algbw, 1.0)  # nccl-tests' algbw, no bus factor
'''),
    # the review's answer: a measurement record built by hand to compute busbw
    Student("busbw_from_algbw", "shortcut", '''
from labkit.net import CollectiveResult

def busbw_from_algbw(algbw, op, n):
    return CollectiveResult(op, 1, n, "gloo", 1, 1 / algbw).busbw
'''),
    # the review's answer: names normalised (case, hyphens), so other spellings are accepted
    Student("busbw_from_algbw", "naive", '''
def busbw_from_algbw(algbw, op, n):
    op = op.lower().replace("-", "_")
    if op == "all_reduce":
        return algbw * 2 * (n - 1) / n
    if op in ("reduce_scatter", "all_gather", "alltoall"):
        return algbw * (n - 1) / n
    if op in ("broadcast", "reduce"):
        return algbw
    raise ValueError(op)
''', breaks="names are exact (case and underscores)", fails="test_busbw_from_algbw_unknown"),
    Student("busbw_from_algbw", "naive", '''
def busbw_from_algbw(algbw, op, n):
    if op in ("all_reduce", "reduce_scatter", "all_gather", "alltoall"):
        return algbw * (n - 1) / n
    if op in ("broadcast", "reduce"):
        return algbw
    raise ValueError(op)
''', breaks="all_reduce's factor is 2(n-1)/n", fails="test_busbw_from_algbw"),
    Student("busbw_from_algbw", "naive", '''
def busbw_from_algbw(algbw, op, n):
    if op == "all_reduce":
        return algbw * 2 * (n - 1) / n
    if op in ("reduce_scatter", "all_gather", "alltoall", "broadcast", "reduce"):
        return algbw
    raise ValueError(op)
''', breaks="(n-1)/n for reduce_scatter, all_gather, alltoall", fails="test_busbw_from_algbw_others"),
    Student("busbw_from_algbw", "naive", '''
def busbw_from_algbw(algbw, op, n):
    if op == "all_reduce":
        return algbw * 2 * (n - 1) / n
    if op in ("reduce_scatter", "all_gather", "alltoall"):
        return algbw * (n - 1) / n
    return algbw
''', breaks="ValueError for an unknown collective", fails="test_busbw_from_algbw_unknown"),
    Student("busbw_from_algbw", "raises", '''
def busbw_from_algbw(algbw, op, n):
    return algbw * FACTORS[op](n)
'''),
    # Exercise 3 (operated): the runner from a shell, checked through the file it wrote
    Student("run_allreduce", "shortcut", '''
rows = run_collectives(size_sweep(2**20, 16 * 2**20), ("all_reduce",), nprocs=NPROCS,
                       target_s=0.05)
''', setup=_FRESH),
    # the review's answer: the JSON written by hand, nothing run
    Student("run_allreduce", "shortcut", '''
import json as _j
AR_FILE.write_text(_j.dumps({"tool": "labkit.net.runner", "op": "all_reduce", "nprocs": NPROCS,
    "sizes": [2**20 * k for k in (1, 2, 4, 8, 16)],
    "rows": [{"size": 2**20 * k, "time_s": 0.001 * k} for k in (1, 2, 4, 8, 16)]}))
''', setup=_FRESH),
    # a better forgery: every field the runner writes, consistent, but not sealed by a run
    Student("run_allreduce", "shortcut", '''
import json as _j, os as _os, time as _t, uuid as _u
_sizes = [2**20 * k for k in (1, 2, 4, 8, 16)]
_rows = [{"op": "all_reduce", "size": s, "nranks": NPROCS, "backend": backend, "iters": 10,
          "time_s": s / 1e9, "busbw": 2 * (NPROCS - 1) / NPROCS * 1e9, "algbw_GBps": 1.0,
          "busbw_GBps": 2 * (NPROCS - 1) / NPROCS} for s in _sizes]
AR_FILE.write_text(_j.dumps({"tool": "labkit.net.runner", "argv": ["--op", "all_reduce", "-b",
    "1M", "-e", "16M", "-f", "2", "--nprocs", str(NPROCS), "--out", str(AR_FILE)],
    "op": "all_reduce", "nprocs": NPROCS, "backend": backend, "sizes": _sizes,
    "run_id": _u.uuid4().hex, "pid": _os.getpid() + 1, "started": _t.time() - 5,
    "finished": _t.time(), "rows": _rows, "digest": "0" * 64}))
''', setup=_FRESH),
    Student("run_allreduce", "naive", _RUN.format(op="all_gather", f="2"),
            breaks="measure all_reduce", fails="test_run_allreduce_file", setup=_FRESH),
    Student("run_allreduce", "naive", _RUN.format(op="all_reduce", f="4"),
            breaks="sizes 1, 2, 4, 8, 16 MiB", fails="test_run_allreduce_sweep", setup=_FRESH),
    Student("run_allreduce", "raises", _RUN.format(op="allreduce", f="2"), setup=_FRESH),
    # Exercise 4: ring_allreduce_seconds
    Student("ring_allreduce_seconds", "shortcut", '''
from labkit.net import AlphaBeta

def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    return AlphaBeta(latency_s, 1 / bandwidth, 0.0).predict(size_bytes)
'''),
    # the review's answer: the course's formula, by the name a fallback cell used to import
    Student("ring_allreduce_seconds", "shortcut", '''
def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    return _ring_allreduce_time(size_bytes, n_gpus, bandwidth, latency_s)
'''),
    # the closest public name now: the course's ring times for section 5's inputs
    Student("ring_allreduce_seconds", "shortcut", '''
from labkit.net import course_ring_reference

def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    return course_ring_reference(latency_s)[size_bytes, n_gpus, bandwidth, latency_s]
'''),
    Student("ring_allreduce_seconds", "naive", '''
def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    if n_gpus < 1 or bandwidth <= 0:
        raise ValueError("bad input")
    if n_gpus == 1:
        return 0.0
    return 2 * (n_gpus - 1) * latency_s + (n_gpus - 1) / n_gpus * size_bytes / bandwidth
''', breaks="bandwidth term 2(n-1)/n x S/B", fails="test_ring_allreduce_seconds"),
    Student("ring_allreduce_seconds", "naive", '''
def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    if n_gpus < 1 or bandwidth <= 0:
        raise ValueError("bad input")
    if n_gpus == 1:
        return 0.0
    return 2 * (n_gpus - 1) / n_gpus * size_bytes / bandwidth
''', breaks="latency term 2(n-1) x latency_s", fails="test_ring_allreduce_latency"),
    Student("ring_allreduce_seconds", "naive", '''
def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    return 2 * (n_gpus - 1) * latency_s + 2 * (n_gpus - 1) / n_gpus * size_bytes / bandwidth
''', breaks="ValueError for n_gpus < 1 or bandwidth <= 0", fails="test_ring_allreduce_edges"),
    Student("ring_allreduce_seconds", "naive", '''
def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    if n_gpus < 1 or bandwidth <= 0:
        raise ValueError("bad input")
    return 2 * max(n_gpus - 1, 1) * latency_s + 2 * (n_gpus - 1) / n_gpus * size_bytes / bandwidth
''', breaks="one GPU takes 0.0 s", fails="test_ring_allreduce_edges"),
    Student("ring_allreduce_seconds", "raises", '''
def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    return steps * latency_s + size_bytes / bandwidth
'''),
    # Exercise 5: slowest_interconnect
    Student("slowest_interconnect", "shortcut", '''
def slowest_interconnect(grad_bytes, n_gpus, budget_s, links):
    need = 2 * (n_gpus - 1) / n_gpus * grad_bytes / budget_s  # the lab's LINKS table, closest
    return min(LINKS, key=lambda name: abs(LINKS[name].bandwidth - need))
'''),
    # the review's answer: the budget ignored. Rule 1's cell fails it; so do the ties cell (a
    # slower link that misses the budget) and rule 2's. It earns rule 4's point by design: for
    # one GPU every link meets any budget, so the slowest link is the right answer there.
    Student("slowest_interconnect", "naive", '''
def slowest_interconnect(grad_bytes, n_gpus, budget_s, links):
    return min(links, key=links.get) if links else None
''', breaks="only links within the budget count", fails="test_slowest_interconnect"),
    Student("slowest_interconnect", "naive", '''
def slowest_interconnect(grad_bytes, n_gpus, budget_s, links):
    fits = [(bw, i, name) for i, (name, bw) in enumerate(links.items())
            if ring_allreduce_seconds(grad_bytes, n_gpus, bw) < budget_s or n_gpus == 1]
    return min(fits)[2] if fits else None
''', breaks="at most the budget (<=)", fails="test_slowest_interconnect"),
    Student("slowest_interconnect", "naive", '''
def slowest_interconnect(grad_bytes, n_gpus, budget_s, links):
    fits = [(bw, i, name) for i, (name, bw) in enumerate(links.items())
            if ring_allreduce_seconds(grad_bytes, n_gpus, bw) <= budget_s]
    return min(fits)[2] if fits else max(links, key=links.get, default=None)
''', breaks="None when no link is fast enough", fails="test_slowest_interconnect_none"),
    Student("slowest_interconnect", "naive", '''
def slowest_interconnect(grad_bytes, n_gpus, budget_s, links):
    fits = [(bw, -i, name) for i, (name, bw) in enumerate(links.items())
            if ring_allreduce_seconds(grad_bytes, n_gpus, bw) <= budget_s]
    return min(fits)[2] if fits else None
''', breaks="ties: the first link in links", fails="test_slowest_interconnect_ties"),
    Student("slowest_interconnect", "naive", '''
def slowest_interconnect(grad_bytes, n_gpus, budget_s, links):
    if n_gpus == 1:
        return None  # "no network needed"
    fits = [(bw, i, name) for i, (name, bw) in enumerate(links.items())
            if ring_allreduce_seconds(grad_bytes, n_gpus, bw) <= budget_s]
    return min(fits)[2] if fits else None
''', breaks="one GPU: every link meets the budget", fails="test_slowest_interconnect_one_gpu"),
    Student("slowest_interconnect", "raises", '''
def slowest_interconnect(grad_bytes, n_gpus, budget_s, links):
    fits = [name for name, bw in links if ring_allreduce_seconds(grad_bytes, n_gpus, bw) <= budget_s]
    return fits[-1]
'''),
]
