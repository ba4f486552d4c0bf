"""labkit.course.audit's bookkeeping, on hand-made notebooks and outcomes (no kernel)."""

import pytest

from labkit.checks.messages import message
from labkit.course.audit import Exercise, NotebookAudit, Outcome, Student, exercises


def _cell(grade_id, *, answer=False, points=0):
    meta = {"grade_id": grade_id, "solution": answer, "grade": not answer}
    if not answer:
        meta["points"] = points
    return {"cell_type": "code", "source": "", "metadata": {"nbgrader": meta}}


def test_exercises_group_answer_cells_with_the_tests_after_them():
    nb = {"cells": [_cell("a", answer=True), _cell("b", answer=True), _cell("ta", points=2),
                    {"cell_type": "markdown", "source": "", "metadata": {}},
                    _cell("tb", points=1), _cell("c", answer=True), _cell("tc", points=3)]}
    assert [(e.answers, e.tests) for e in exercises(nb)] == [
        (["a", "b"], {"ta": 2.0, "tb": 1.0}), (["c"], {"tc": 3.0})]


def test_students_are_validated():
    with pytest.raises(ValueError, match="not one of shortcut, naive, raises"):
        Student("a", "lazy", "")
    with pytest.raises(ValueError, match="needs breaks= and fails="):
        Student("a", "naive", "")


FAIL = Outcome(False, ("\u2717 x: expected 1, got 2", "Hint: add"))
HIDDEN = Outcome(False, (message("hidden"), "\u2717 x: expected 1, got 2", "Hint: add"))
STACK = Outcome(False, ("Traceback (most recent call last):", "ValueError: x"))
PASS = Outcome(True)


def _audit(results, tests=None):
    ex = Exercise(["a"], tests or {"t1": 2.0, "t2": 4.0})
    return NotebookAudit("nb.ipynb", [ex], results)


def test_a_contract_kept_has_no_problems_but_big_cells():
    audit = _audit([
        (Student("a", "shortcut", ""), {"t1": PASS, "t2": FAIL}),
        (Student("a", "naive", "", breaks="r1", fails="t1"), {"t1": FAIL, "t2": PASS}),
        (Student("a", "naive", "", breaks="r2", fails="t2"), {"t1": PASS, "t2": FAIL}),
        (Student("a", "raises", ""), {"t1": FAIL, "t2": FAIL}),
    ])
    assert audit.problems() == ["t2: worth more than 3 points"]
    assert audit.shortcut_points() == 2.0 and audit.hidden_only() == []


def test_each_broken_rule_is_named():
    audit = _audit([
        (Student("a", "shortcut", ""), {"t1": PASS, "t2": PASS}),
        (Student("a", "naive", "", breaks="r1", fails="t1"), {"t1": HIDDEN, "t2": PASS}),
        (Student("a", "raises", ""), {"t1": STACK, "t2": PASS}),
    ], tests={"t1": 1.0, "t2": 1.0})
    assert audit.problems() == [
        "a/shortcut: the shortcut earns full marks (2)",
        "a/naive (r1): passes the visible checks of t1, fails only a hidden one",
        "a/raises: a failed cell shows a stack or no hint",
        "t2: no naive student fails it",
    ]
    assert audit.hidden_only() == ["a"]
    assert audit.summary()["visible_pass_hidden_fail"] == 1


def test_missing_kinds_of_student_are_problems():
    assert _audit([], tests={"t1": 1.0}).problems() == [
        "a: no shortcut student", "a: no naive student", "a: no raises student",
        "t1: no naive student fails it"]
