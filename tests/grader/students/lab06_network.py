"""Adversarial students for Lab 06 (06-network.ipynb): a shortcut, a naive answer per stated
requirement, and an answer that raises, for every exercise."""

from labkit.course.audit import Student

NOTEBOOK = "06-network/06-network.ipynb"

_RUN = 'run([*RUNNER, "--op", "{op}", "-b", "1M", "-e", "16M", "-f", "{f}", "--nprocs", str(NPROCS), '\
       '"--target-s", "0.05", "--out", str(AR_FILE)])\n'
_FRESH = "AR_FILE.unlink(missing_ok=True)\n"  # each replay starts without the runner's file

STUDENTS = [
    # Exercise 1: busbw_from_algbw
    Student("busbw_from_algbw", "shortcut", '''
from labkit.net import algbw as _algbw

def busbw_from_algbw(algbw, op, n):
    return _algbw(algbw, 1.0)  # nccl-tests' algbw, no bus factor
'''),
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
    # Exercise 2 (operated): the runner from a shell, checked through the file it wrote
    Student("run_allreduce", "shortcut", '''
rows = run_collectives(size_sweep(2**20, 16 * 2**20), ("all_reduce",), nprocs=NPROCS,
                       target_s=0.05)
''', setup=_FRESH),
    Student("run_allreduce", "naive", _RUN.format(op="all_gather", f="2"),
            breaks="measure all_reduce", fails="test_run_allreduce_file", setup=_FRESH),
    Student("run_allreduce", "naive", _RUN.format(op="all_reduce", f="4"),
            breaks="sizes 1, 2, 4, 8, 16 MiB", fails="test_run_allreduce_sweep", setup=_FRESH),
    Student("run_allreduce", "raises", _RUN.format(op="allreduce", f="2"), setup=_FRESH),
    # Exercise 3: ring_allreduce_seconds
    Student("ring_allreduce_seconds", "shortcut", '''
from labkit.net import AlphaBeta

def ring_allreduce_seconds(size_bytes, n_gpus, bandwidth, latency_s=0.0):
    return AlphaBeta(latency_s, 1 / bandwidth, 0.0).predict(size_bytes)
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
    # Exercise 4: slowest_interconnect
    Student("slowest_interconnect", "shortcut", '''
def slowest_interconnect(grad_bytes, n_gpus, budget_s, links):
    need = 2 * (n_gpus - 1) / n_gpus * grad_bytes / budget_s  # the lab's LINKS table, closest
    return min(LINKS, key=lambda name: abs(LINKS[name].bandwidth - need))
'''),
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
