"""The exercise contract, proved per exercise by adversarial students (labkit.course.audit).

For every students module under tests/grader/students/: the solution notebook runs, then
each student's answer is replayed in its kernel. A shortcut scores below full marks, each
naive answer fails a visible check of the cell that grades its requirement with a hint,
an answer that raises shows its hint and no stack, and no graded cell is worth over 3 points.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.course import CourseLayout, audit

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = CourseLayout(ROOT)
MODULES = sorted(p for p in LAYOUT.students.glob("*.py") if not p.name.startswith("_"))

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.stem)
def test_every_student_scores_as_the_contract_says(module):
    notebook, students = audit.load_students(module)
    result = audit.audit_notebook(LAYOUT, notebook, students)
    assert result.problems() == [], f"{notebook}: see build/audit/executed/"


def test_every_solution_notebook_has_students():
    covered = {audit.load_students(m)[0] for m in MODULES}
    every = {str(nb.relative_to(LAYOUT.solutions)) for nb in LAYOUT.solution_notebooks()}
    assert sorted(every - covered) == []
