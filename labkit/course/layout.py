"""The one owner of the course's directory layout.

Notebooks, the nbgrader config, the Makefile's commands and the tests all ask `CourseLayout`
for a path instead of building one by hand (nbgrader's ``CourseDirectory`` is the model)::

    solutions/<lab>/*.ipynb        nbgrader source: instructor notebooks
    labs/<lab>/*.ipynb             nbgrader release: student notebooks (committed)
    submitted/<student>/<lab>/     students' work, collected by the instructor (not committed)
    build/grader/                  gradebook.db, autograded/, feedback/, grades.csv
    build/notebooks/               notebooks executed by the tests, kept for inspection
    build/audit/                   solution notebooks replayed with adversarial students
    tests/grader/students/         those students, one module per notebook
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CourseLayout", "LAB_PATTERN"]

LAB_PATTERN = re.compile(r"^\d\d-[a-z0-9-]+$")

# Relative to the course root: the form nbgrader's CourseDirectory traits take.
_NBGRADER_DIRS = {
    "source_directory": "solutions",
    "release_directory": "labs",
    "submitted_directory": "submitted",
    "autograded_directory": "build/grader/autograded",
    "feedback_directory": "build/grader/feedback",
}


@dataclass(frozen=True)
class CourseLayout:
    """Paths of one course checkout, all derived from its ``root``."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> CourseLayout:
        """``LABKIT_COURSE_ROOT``, else the nearest folder above ``start`` (or the current
        directory, then this package) that holds ``solutions/`` and ``pyproject.toml``."""
        env = os.environ.get("LABKIT_COURSE_ROOT")
        if env:
            return cls(Path(env).resolve())
        here = Path(__file__).resolve()
        for origin in (start or Path.cwd(), here):
            for folder in (origin, *origin.parents):
                if (folder / "solutions").is_dir() and (folder / "pyproject.toml").is_file():
                    return cls(folder.resolve())
        raise FileNotFoundError(
            "no course checkout found above the current directory; run from the repository "
            "or set LABKIT_COURSE_ROOT")

    # nbgrader's folders
    @property
    def solutions(self) -> Path:
        return self.root / _NBGRADER_DIRS["source_directory"]

    @property
    def labs(self) -> Path:
        return self.root / _NBGRADER_DIRS["release_directory"]

    @property
    def submitted(self) -> Path:
        return self.root / _NBGRADER_DIRS["submitted_directory"]

    @property
    def autograded(self) -> Path:
        return self.root / _NBGRADER_DIRS["autograded_directory"]

    @property
    def feedback(self) -> Path:
        return self.root / _NBGRADER_DIRS["feedback_directory"]

    # the project's own folders
    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def grader_build(self) -> Path:
        return self.build / "grader"

    @property
    def gradebook(self) -> Path:
        return self.grader_build / "gradebook.db"

    @property
    def grades_csv(self) -> Path:
        return self.grader_build / "grades.csv"

    @property
    def executed(self) -> Path:
        return self.build / "notebooks"

    @property
    def nbgrader_config(self) -> Path:
        return self.root / "grader" / "nbgrader_config.py"

    @property
    def students(self) -> Path:
        """Adversarial students of every graded exercise (``make grade-audit``)."""
        return self.root / "tests" / "grader" / "students"

    @property
    def audit_report(self) -> Path:
        return self.grader_build / "audit.md"

    @property
    def scripts(self) -> Path:
        return self.root / "scripts"

    def nbgrader_directories(self) -> dict[str, str]:
        """CourseDirectory trait values (relative to the root), for nbgrader_config.py."""
        return dict(_NBGRADER_DIRS)

    def db_url(self) -> str:
        return f"sqlite:///{self.gradebook}"

    def lab_ids(self) -> list[str]:
        """Lab folders in solutions/, in course order (``00-environment``, ...)."""
        return sorted(p.name for p in self.solutions.iterdir()
                      if p.is_dir() and LAB_PATTERN.match(p.name))

    def solution_notebooks(self, lab: str | None = None) -> list[Path]:
        labs = [lab] if lab else self.lab_ids()
        return [nb for lab_id in labs for nb in sorted((self.solutions / lab_id).glob("*.ipynb"))]

    def release_notebooks(self, lab: str | None = None) -> list[Path]:
        labs = [lab] if lab else self.lab_ids()
        return [nb for lab_id in labs for nb in sorted((self.labs / lab_id).glob("*.ipynb"))]

    def submissions(self) -> dict[str, list[str]]:
        """``{lab: [student, ...]}`` for every ``submitted/<student>/<lab>/`` folder."""
        found: dict[str, list[str]] = {}
        if not self.submitted.is_dir():
            return found
        for student in sorted(p for p in self.submitted.iterdir() if p.is_dir()):
            for lab in sorted(p.name for p in student.iterdir() if p.is_dir()):
                found.setdefault(lab, []).append(student.name)
        return found
