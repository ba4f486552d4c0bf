"""Adversarial students for every graded exercise: the exercise contract, measured.

``make grade-audit`` (``labkit course audit``) and ``tests/grader/test_adversaries.py`` run
each solution notebook once, top to bottom in sim and quick mode, then replay its graded
exercises with the answers of adversarial students, one at a time, in the same kernel:

- a **shortcut**: the one- or two-line answer that calls labkit or a name the notebook
  imports; it must score below full marks (the goal is zero);
- a **naive** answer per stated requirement: it breaks that requirement only, and must fail a
  *visible* check of the test cell that grades it, with a hint;
- an answer that **raises**: the test cell shows its hint, and no Python stack.

After each student the solution's answer is run again, so the next one starts from the same
state. Students live in ``tests/grader/students/<name>.py``: each module names its
``NOTEBOOK`` (relative to ``solutions/``) and lists its ``STUDENTS``.

A failed check is rendered by `labkit.checks.CheckFailure` alone (no stack); one raised in a
hidden-tests block starts with the ``[hidden test]`` line, which is how a visible pass that
meets a hidden failure is counted.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.messages import message
from .layout import CourseLayout
from .notebooks import execute

__all__ = ["Student", "Exercise", "Outcome", "NotebookAudit", "exercises", "load_students",
           "audit_notebook", "audit_course", "render_report", "KINDS", "MAX_POINTS"]

KINDS = ("shortcut", "naive", "raises")
MAX_POINTS = 3  # the contract: no graded cell is worth more
_HIDDEN_LINE = message("hidden")


@dataclass(frozen=True)
class Student:
    """One adversarial answer to one exercise.

    ``exercise`` is the grade_id of the answer cell it replaces. A naive answer names the
    requirement it ``breaks`` and the test cell that must then ``fail`` visibly. ``setup``
    runs first, for exercises operated on a tool (a known node state, say).
    """

    exercise: str
    kind: str
    source: str
    breaks: str = ""
    fails: str | None = None
    setup: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"student kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "naive" and not (self.breaks and self.fails):
            raise ValueError(f"naive student for {self.exercise} needs breaks= and fails=")

    @property
    def label(self) -> str:
        return f"{self.exercise}/{self.kind}" + (f" ({self.breaks})" if self.breaks else "")


@dataclass
class Exercise:
    """Answer cells and the graded test cells after them (grade_id -> points)."""

    answers: list[str] = field(default_factory=list)
    tests: dict[str, float] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return sum(self.tests.values())


@dataclass(frozen=True)
class Outcome:
    """What one test cell showed for one student."""

    passed: bool
    lines: tuple[str, ...] = ()

    @property
    def hidden(self) -> bool:
        return bool(self.lines) and self.lines[0] == _HIDDEN_LINE

    @property
    def has_hint(self) -> bool:
        return any(line.startswith(message("hint", hint="").strip()) for line in self.lines)

    @property
    def has_stack(self) -> bool:
        text = "\n".join(self.lines)
        return "Traceback" in text or 'File "' in text or "---------" in text


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_answer(cell: dict) -> bool:
    return cell["cell_type"] == "code" and bool(_nbgrader(cell).get("solution"))


def _is_test(cell: dict) -> bool:
    m = _nbgrader(cell)
    return cell["cell_type"] == "code" and bool(m.get("grade")) and not m.get("solution")


def exercises(nb: dict) -> list[Exercise]:
    """The notebook's exercises: each run of answer cells with the test cells after it."""
    found: list[Exercise] = []
    for cell in nb["cells"]:
        if _is_answer(cell):
            if not found or found[-1].tests:
                found.append(Exercise())
            found[-1].answers.append(_nbgrader(cell)["grade_id"])
        elif _is_test(cell):
            if not found:
                found.append(Exercise())
            found[-1].tests[_nbgrader(cell)["grade_id"]] = float(_nbgrader(cell).get("points", 0))
    return found


def load_students(path: Path) -> tuple[str, list[Student]]:
    """``(NOTEBOOK, STUDENTS)`` of one students module."""
    spec = importlib.util.spec_from_file_location(f"_students_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NOTEBOOK, list(module.STUDENTS)


def _code(source: str, **meta) -> dict:
    return {"cell_type": "code", "execution_count": None, "outputs": [], "source": source,
            "metadata": {"tags": ["raises-exception"], "labkit_probe": meta}}


def _probe_notebook(nb: dict, students: list[Student]) -> dict:
    """The solution notebook followed by one replay per student."""
    by_id = {_nbgrader(c)["grade_id"]: c for c in nb["cells"] if _nbgrader(c).get("grade_id")}
    owner = {a: ex for ex in exercises(nb) for a in ex.answers}
    probe = json.loads(json.dumps(nb))
    for i, student in enumerate(students):
        if student.exercise not in owner:
            raise ValueError(f"{student.label}: no answer cell with grade_id {student.exercise}")
        if student.setup:
            probe["cells"].append(_code(student.setup, student=i, role="setup"))
        probe["cells"].append(_code(student.source, student=i, role="answer"))
        for test in owner[student.exercise].tests:
            probe["cells"].append(_code("".join(by_id[test]["source"]), student=i, test=test))
        if student.setup:
            probe["cells"].append(_code(student.setup, student=i, role="restore"))
        probe["cells"].append(_code("".join(by_id[student.exercise]["source"]), student=i,
                                    role="restore"))
    return probe


def _outcome(cell: dict) -> Outcome:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            lines = [line for entry in out.get("traceback", []) for line in entry.splitlines()]
            return Outcome(False, tuple(lines))
    return Outcome(True)


@dataclass
class NotebookAudit:
    """One notebook's exercises, its students' outcomes, and the contract's findings."""

    notebook: str
    exercises: list[Exercise]
    results: list[tuple[Student, dict[str, Outcome]]]
    error: str | None = None

    def shortcut_points(self) -> float:
        tests = {t: p for ex in self.exercises for t, p in ex.tests.items()}
        return sum(tests[t] for s, res in self.results if s.kind == "shortcut"
                   for t, o in res.items() if o.passed)

    def hidden_only(self) -> list[str]:
        """Exercises where an answer passed every visible check and failed a hidden one."""
        owner = {a: ex for ex in self.exercises for a in ex.answers}
        return sorted({owner[s.exercise].answers[0] for s, res in self.results
                       if any(o.hidden for o in res.values())})

    def big_cells(self) -> list[str]:
        return [t for ex in self.exercises for t, p in ex.tests.items() if p > MAX_POINTS]

    def problems(self) -> list[str]:
        """Every way the notebook breaks the exercise contract, one line each."""
        if self.error:
            return [f"the notebook did not run: {self.error}"]
        found = [f"{t}: worth more than {MAX_POINTS} points" for t in self.big_cells()]
        owner = {a: ex for ex in self.exercises for a in ex.answers}
        for student, res in self.results:
            ex = owner[student.exercise]
            if student.kind == "shortcut" and all(o.passed for o in res.values()):
                found.append(f"{student.label}: the shortcut earns full marks ({ex.points:g})")
            elif student.kind == "naive":
                if student.fails not in ex.tests:
                    found.append(f"{student.label}: {student.fails} is not a test cell of "
                                 f"this exercise ({', '.join(ex.tests)})")
                    continue
                o = res[student.fails]
                if o.passed:
                    found.append(f"{student.label}: passes {student.fails}")
                elif o.hidden:
                    found.append(f"{student.label}: passes the visible checks of "
                                 f"{student.fails}, fails only a hidden one")
                elif not o.has_hint:
                    found.append(f"{student.label}: {student.fails} fails with no hint")
            elif student.kind == "raises":
                failed = [o for o in res.values() if not o.passed]
                if not failed:
                    found.append(f"{student.label}: passes every test cell")
                elif any(o.has_stack or not o.has_hint for o in failed):
                    found.append(f"{student.label}: a failed cell shows a stack or no hint")
        for ex in self.exercises:
            mine = [s for s, _ in self.results if s.exercise in ex.answers]
            kinds = {s.kind for s in mine}
            for kind in KINDS:
                if kind not in kinds:
                    found.append(f"{ex.answers[0]}: no {kind} student")
            targets = {s.fails for s in mine if s.kind == "naive"}
            found += [f"{t}: no naive student fails it" for t in ex.tests if t not in targets]
        return found

    def summary(self) -> dict:
        return {"notebook": self.notebook, "exercises": len(self.exercises),
                "graded_cells": sum(len(ex.tests) for ex in self.exercises),
                "points": sum(ex.points for ex in self.exercises),
                "shortcut_points": self.shortcut_points(),
                "visible_pass_hidden_fail": len(self.hidden_only()),
                "cells_over_max": len(self.big_cells()), "students": len(self.results),
                "problems": self.problems()}


def audit_notebook(layout: CourseLayout, notebook: str, students: list[Student], *,
                   cell_timeout: int = 300) -> NotebookAudit:
    """Run ``solutions/NOTEBOOK`` and replay every student; see `NotebookAudit`."""
    source = layout.solutions / notebook
    nb = json.loads(source.read_text())
    scratch = layout.build / "audit" / source.parent.name
    scratch.mkdir(parents=True, exist_ok=True)
    probe_path = scratch / f"probe-{source.name}"
    probe_path.write_text(json.dumps(_probe_notebook(nb, students)))
    run = execute(probe_path, layout, mode="sim", quick=True, cell_timeout=cell_timeout,
                  out_dir=layout.build / "audit" / "executed", cwd=source.parent)
    results: list[tuple[Student, dict[str, Outcome]]] = [(s, {}) for s in students]
    # papermill reports the replays' expected failures too: only the notebook's own cells
    # decide whether it ran.
    error = None if run.output.is_file() else run.error
    if run.output.is_file():
        for index, cell in enumerate(json.loads(run.output.read_text())["cells"]):
            meta = cell.get("metadata", {}).get("labkit_probe")
            if meta is None and error is None and not _outcome(cell).passed:
                error = f"cell {index}: " + " ".join(_outcome(cell).lines)[:500]
            elif meta and "test" in meta:
                results[meta["student"]][1][meta["test"]] = _outcome(cell)
    if error is None and any(not res for _, res in results):
        error = "some students were not replayed"
    return NotebookAudit(notebook, exercises(nb), results, error)


def audit_course(layout: CourseLayout, labs: list[str] | None = None) -> list[NotebookAudit]:
    """Audit every students module (or those of ``labs``) in course order."""
    audits = []
    for path in sorted(layout.students.glob("*.py")):
        if path.name.startswith("_"):
            continue
        notebook, students = load_students(path)
        if labs and notebook.split("/")[0] not in labs:
            continue
        audits.append(audit_notebook(layout, notebook, students))
    return audits


def render_report(audits: list[NotebookAudit], layout: CourseLayout) -> str:
    """The Markdown table of ``make grade-audit``, with each notebook's problems after it."""
    covered = {a.notebook for a in audits}
    rows = ["| notebook | exercises | graded cells | points | shortcut points (goal 0) "
            "| visible ✓ hidden ✗ (goal 0) | cells > 3 points (goal 0) | problems |",
            "|---|---|---|---|---|---|---|---|"]
    for a in audits:
        s = a.summary()
        rows.append(f"| {a.notebook} | {s['exercises']} | {s['graded_cells']} | "
                    f"{s['points']:g} | {s['shortcut_points']:g} | "
                    f"{s['visible_pass_hidden_fail']} | {s['cells_over_max']} | "
                    f"{len(s['problems'])} |")
    for nb in layout.solution_notebooks():
        rel = str(nb.relative_to(layout.solutions))
        if rel not in covered:
            rows.append(f"| {rel} | no students module | | | | | | |")
    lines = rows
    for a in audits:
        for problem in a.problems():
            lines.append(f"- {a.notebook}: {problem}")
    return "\n".join(lines) + "\n"
