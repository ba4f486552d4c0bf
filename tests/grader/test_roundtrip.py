"""nbgrader round trip on a scratch copy of the course, through `labkit course grade`.

Scenarios (one student each): the solution notebook itself, the blank release, a wrong
answer, a tampered read-only test cell, and an infinite loop. Submissions are built from the
committed release notebook and the solutions' own answers, so they follow the lab as it
changes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from labkit.course import CourseLayout
from labkit.course import nbgrader as nbg

ROOT = Path(__file__).resolve().parents[2]
LAB = "00-environment"
NOTEBOOK = "00-environment-check.ipynb"
TIMEOUT = 20  # seconds per cell; the infinite loop is interrupted here

pytestmark = pytest.mark.slow


def _cells_by_id(nb: dict) -> dict[str, dict]:
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
            if "nbgrader" in c.get("metadata", {})}


def _answer(nb: dict, grade_id: str, source: str) -> dict:
    _cells_by_id(nb)[grade_id]["source"] = source
    return nb


def _solution_source(grade_id: str) -> str:
    solution = json.loads((ROOT / "solutions" / LAB / NOTEBOOK).read_text())
    src = "".join(_cells_by_id(solution)[grade_id]["source"])
    return "\n".join(line for line in src.splitlines() if "### " not in line)


def submission_solution(release: dict) -> dict:
    return json.loads((ROOT / "solutions" / LAB / NOTEBOOK).read_text())


def submission_blank(release: dict) -> dict:
    return release


def submission_wrong_answer(release: dict) -> dict:
    nb = _answer(release, "parse_gpu_csv", _solution_source("parse_gpu_csv"))
    return _answer(nb, "free_memory_mib", "def free_memory_mib(records):\n    return {}\n")


def submission_tampered_tests(release: dict) -> dict:
    for grade_id in FULL:  # the student "passes" the tests by emptying them
        release = _answer(release, grade_id, "pass\n")
    return release


def submission_infinite_loop(release: dict) -> dict:
    nb = _answer(release, "parse_gpu_csv", _solution_source("parse_gpu_csv"))
    return _answer(nb, "free_memory_mib",
                   "def free_memory_mib(records):\n    return {}\n\nwhile True:\n    pass\n")


PARSE = {"test_parse_gpu_csv": 3.0, "test_parse_gpu_csv_na": 1.0,
         "test_parse_gpu_csv_empty": 1.0}
REST = {"test_free_memory_mib": 2.0, "test_free_memory_mib_unknown": 1.0,
        "test_where_compute": 1.0, "test_where_dpu": 1.0, "test_node_gpus": 1.0,
        "test_node_process": 1.0, "test_node_free": 1.0}
FULL = {**PARSE, **REST}
ZERO = dict.fromkeys(FULL, 0.0)
# The wrong answer and the infinite loop answer exercise 1 right and leave the rest blank.
PARSE_ONLY = {**ZERO, **PARSE}

SCENARIOS = {
    "solution": (submission_solution, FULL),
    "blank": (submission_blank, ZERO),
    "wrong_answer": (submission_wrong_answer, PARSE_ONLY),
    "tampered_tests": (submission_tampered_tests, ZERO),
    "infinite_loop": (submission_infinite_loop, PARSE_ONLY),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A scratch course with one submission per scenario, graded once."""
    root = tmp_path_factory.mktemp("course")
    for name in ("solutions", "labs", "grader"):
        shutil.copytree(ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("outputs", ".ipynb_checkpoints"))
    shutil.copy(ROOT / "pyproject.toml", root)
    layout = CourseLayout(root)
    release = (layout.labs / LAB / NOTEBOOK).read_text()
    for student, (build, _) in SCENARIOS.items():
        folder = layout.submitted / student / LAB
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(build(json.loads(release))))
    rows = nbg.grade(layout, timeout=TIMEOUT)
    return layout, rows


def _cell_scores(layout: CourseLayout, student: str) -> dict[str, float]:
    with Gradebook(layout.db_url(), "ncp-ai-labs") as gb:
        sub = gb.find_submission_notebook(NOTEBOOK.removesuffix(".ipynb"), LAB, student)
        return {g.name: g.score for g in sub.grades if g.max_score > 0}


@pytest.mark.parametrize("student", SCENARIOS)
def test_each_scenario_scores_as_expected(graded, student):
    layout, _ = graded
    assert _cell_scores(layout, student) == SCENARIOS[student][1]


def test_grades_csv_has_every_student(graded):
    layout, rows = graded
    totals = {r.student: (r.score, r.max_score) for r in rows if r.lab == LAB}
    assert totals == {s: (sum(exp.values()), sum(FULL.values()))
                      for s, (_, exp) in SCENARIOS.items()}
    assert layout.grades_csv.is_file()


def test_feedback_html_for_each_student(graded):
    layout, _ = graded
    for student in SCENARIOS:
        html = layout.feedback / student / LAB / NOTEBOOK.replace(".ipynb", ".html")
        assert html.is_file() and "Score:" in html.read_text(), student


def test_tampered_test_cells_were_restored(graded):
    layout, _ = graded
    nb = json.loads((layout.autograded / "tampered_tests" / LAB / NOTEBOOK).read_text())
    source = "".join(_cells_by_id(nb)["test_parse_gpu_csv"]["source"])
    # nbgrader restores the locked cell as the instructor wrote it, hidden tests included
    solution = json.loads((ROOT / "solutions" / LAB / NOTEBOOK).read_text())
    written = "".join(_cells_by_id(solution)["test_parse_gpu_csv"]["source"])
    assert source.strip() != "pass" and source.strip() == written.strip()


def test_infinite_loop_was_interrupted_and_grading_went_on(graded):
    layout, _ = graded
    nb = json.loads((layout.autograded / "infinite_loop" / LAB / NOTEBOOK).read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert any(o["ename"] in {"CellTimeoutError", "KeyboardInterrupt"} for o in errors), errors


def test_unknown_lab_in_submitted_is_refused(tmp_path):
    layout = CourseLayout(tmp_path)
    (tmp_path / "solutions" / LAB).mkdir(parents=True)
    (layout.submitted / "ana" / "99-nope").mkdir(parents=True)
    with pytest.raises(nbg.NbgraderError, match="99-nope, which is not a lab of this course"):
        nbg.grade(layout)


@pytest.mark.parametrize("student", ["blank", "wrong_answer"])
def test_failed_cells_show_the_check_and_its_hint_not_a_stack(graded, student):
    layout, _ = graded
    nb = json.loads((layout.autograded / student / LAB / NOTEBOOK).read_text())
    graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
              and not c["metadata"]["nbgrader"].get("solution")]
    errors = [o for c in graded for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors, "a failing submission shows its failed checks"
    for error in errors:
        text = "\n".join(error["traceback"])
        assert error["ename"] == "CheckFailure" and "Traceback" not in text, text
        assert "Hint: " in text, text
    html = (layout.feedback / student / LAB / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "Hint: " in html  # the feedback the student gets back carries the hints
