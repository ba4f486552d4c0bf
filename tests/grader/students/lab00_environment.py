"""Adversarial students for Lab 00 (00-environment-check.ipynb)."""

from labkit.course.audit import Student

NOTEBOOK = "00-environment/00-environment-check.ipynb"

STUDENTS = [
    Student("parse_gpu_csv", "shortcut", '''
import csv
def parse_gpu_csv(text):
    return list(csv.DictReader(text.splitlines()))
'''),
    Student("parse_gpu_csv", "naive", '''
def parse_gpu_csv(text):
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        i, name, total, used, util = [f.strip() for f in line.split(",")]
        out.append({"index": int(i), "name": name, "memory_total_mib": int(total),
                    "memory_used_mib": int(used), "utilization_gpu": int(util)})
    return out
''', breaks="[N/A] becomes None", fails="test_parse_gpu_csv"),
    Student("parse_gpu_csv", "raises", '''
def parse_gpu_csv(text):
    return [int(line) for line in text.splitlines()]
'''),
    Student("free_memory_mib", "shortcut", '''
def free_memory_mib(records):
    return {r["index"]: r["memory_total_mib"] for r in records}
'''),
    Student("free_memory_mib", "naive", '''
def free_memory_mib(records):
    return {i: r["memory_total_mib"] - r["memory_used_mib"] for i, r in enumerate(records)}
''', breaks="keyed by position, not the GPU index", fails="test_free_memory_mib"),
    Student("free_memory_mib", "raises", '''
def free_memory_mib(records):
    return {r["gpu"]: 0 for r in records}
'''),
]
