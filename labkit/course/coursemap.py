"""The course map: every lab's number, folder and subject, in course order.

The one list of the labs, planned ones included. The README's "Course map" table is checked
against it (tests/course/test_course_map.py); whether a lab is ready is not stored here but
read from the checkout: a lab is ready when ``solutions/<folder>`` exists
(``CourseLayout.lab_ids()``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Lab", "LABS", "lab"]


@dataclass(frozen=True)
class Lab:
    """One lab: ``number`` ("07"), ``folder`` under solutions/ and labs/, ``subject``."""

    number: str
    folder: str
    subject: str


LABS: tuple[Lab, ...] = (
    Lab("00", "00-environment", "environment"),
    Lab("01", "01-accelerated-computing", "accelerated computing"),
    Lab("02", "02-mig", "MIG"),
    Lab("03", "03-gpu-sharing", "GPU sharing"),
    Lab("04", "04-kubernetes", "Kubernetes GPU scheduling"),
    Lab("05", "05-storage", "storage"),
    Lab("06", "06-network", "network"),
    Lab("07", "07-pipeline", "DALI -> PyTorch -> Triton pipeline"),
    Lab("08", "08-orchestration", "orchestration (Slurm, Kubernetes at scale)"),
    Lab("09", "09-monitoring", "monitoring (DCGM, Prometheus)"),
    Lab("10", "10-validation", "validation (acceptance, troubleshooting)"),
    Lab("11", "11-security", "security, compliance, governance"),
    Lab("12", "12-edge", "edge"),
    Lab("13", "13-deployment", "deployment (NGC, Triton, optimisation)"),
    Lab("14", "14-enterprise", "enterprise workflows"),
    Lab("15", "15-certification", "certification prep, final project"),
)


def lab(number: str | int) -> Lab:
    """The lab numbered ``number`` (``7`` or ``"07"``)."""
    key = f"{int(number):02d}"
    for entry in LABS:
        if entry.number == key:
            return entry
    raise KeyError(f"no lab {key} in the course map (labs: {LABS[0].number}-{LABS[-1].number})")
