"""Lint for the course's notebooks: nbgrader metadata and stored outputs.

``make test`` runs it first. Rules (each finding names the notebook and the cell):

- every graded cell has a ``grade_id`` unique within its lab, and ``points`` > 0;
- every autograded test cell is locked (read-only), so nbgrader can restore it;
- every code solution cell holds ``### BEGIN SOLUTION`` / ``### END SOLUTION``;
- every lab has at least one graded cell and a ``parameters``-tagged cell (papermill);
- code cells are stored without outputs, except cells whose metadata has ``keep_output``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .layout import CourseLayout

__all__ = ["Finding", "lint_notebook", "lint_course", "has_outputs"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PARAMETERS = ("MODE", "QUICK", "SEED")


@dataclass(frozen=True)
class Finding:
    path: Path
    cell: int | None
    message: str

    def __str__(self) -> str:
        where = f" cell {self.cell}" if self.cell is not None else ""
        return f"{self.path}{where}: {self.message}"


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def has_outputs(cell: dict) -> bool:
    """True when a code cell carries outputs or an execution count it should not."""
    if cell.get("cell_type") != "code" or cell.get("metadata", {}).get("keep_output"):
        return False
    return bool(cell.get("outputs")) or cell.get("execution_count") is not None


def lint_notebook(path: Path, *, source: bool = True,
                  seen_ids: dict[str, Path] | None = None) -> list[Finding]:
    """Findings for one notebook; ``source=False`` skips the rules for solution notebooks."""
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return [Finding(path, None, f"not a readable notebook ({exc})")]
    seen = seen_ids if seen_ids is not None else {}
    found: list[Finding] = []
    graded = 0
    has_parameters = False
    for index, cell in enumerate(nb.get("cells", [])):
        meta = cell.get("metadata", {})
        text = _source(cell)
        if has_outputs(cell):
            found.append(Finding(path, index, "stored with outputs (strip them, or mark the "
                                              "cell keep_output if nbval checks it)"))
        if "parameters" in meta.get("tags", []):
            has_parameters = True
            missing = [name for name in PARAMETERS if f"{name} =" not in text]
            if missing:
                found.append(Finding(path, index, "parameters cell lacks "
                                                  + ", ".join(missing)))
        grading = meta.get("nbgrader")
        if not grading:
            continue
        grade_id = grading.get("grade_id")
        if not grade_id:
            found.append(Finding(path, index, "nbgrader cell without a grade_id"))
        elif grade_id in seen and seen[grade_id] != (path, index):
            found.append(Finding(path, index, f"grade_id '{grade_id}' is used twice"))
        else:
            seen[grade_id] = (path, index)
        if grading.get("grade"):
            graded += 1
            if not (grading.get("points") or 0) > 0:
                found.append(Finding(path, index, f"graded cell '{grade_id}' has no points"))
            if not grading.get("solution") and not grading.get("locked"):
                found.append(Finding(path, index, f"test cell '{grade_id}' is not locked"))
        if (source and grading.get("solution") and cell.get("cell_type") == "code"
                and not (BEGIN in text and END in text)):
            found.append(Finding(path, index, f"solution cell '{grade_id}' lacks "
                                              f"'{BEGIN}' / '{END}'"))
    if source and graded == 0:
        found.append(Finding(path, None, "no graded cell (every lab is autograded)"))
    if source and not has_parameters:
        found.append(Finding(path, None, "no cell tagged 'parameters' (papermill needs it)"))
    return found


def lint_course(layout: CourseLayout) -> list[Finding]:
    """Lint every solution notebook (all rules) and every release notebook (outputs)."""
    found: list[Finding] = []
    for lab in layout.lab_ids():
        seen: dict[str, Path] = {}
        for nb in layout.solution_notebooks(lab):
            found += lint_notebook(nb, seen_ids=seen)
        for nb in layout.release_notebooks(lab):
            found += [f for f in lint_notebook(nb, source=False) if "outputs" in f.message]
    return found
