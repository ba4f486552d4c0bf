"""The instructor's commands, driving nbgrader: release, release-sync check, grade.

``make release`` and ``make grade`` call these through ``labkit course ...``. nbgrader runs
as a subprocess with ``JUPYTER_CONFIG_PATH`` pointing at ``grader/``, so it reads the same
``nbgrader_config.py`` as the JupyterLab Validate button does.
"""

from __future__ import annotations

import csv
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .layout import CourseLayout

__all__ = ["NbgraderError", "nbgrader", "grading_env", "release", "release_diff", "grade",
           "GradeRow", "read_grades"]


class NbgraderError(RuntimeError):
    """An nbgrader step failed; the message holds the command and nbgrader's own log."""


def grading_env(layout: CourseLayout, **extra: str) -> dict[str, str]:
    """Environment for nbgrader and the kernels it starts.

    Grading is reproducible whatever the instructor's machine has: kernels run in sim mode
    and quick mode (``LABKIT_MODE``/``LABKIT_QUICK`` override the notebooks' parameters).
    """
    env = dict(os.environ)
    # nbgrader runs `alembic` to create the gradebook: it must find this venv's tools.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        filter(None, [str(layout.nbgrader_config.parent), env.get("JUPYTER_CONFIG_PATH")]))
    env["LABKIT_COURSE_ROOT"] = str(layout.root)
    env.setdefault("LABKIT_MODE", "sim")
    env.setdefault("LABKIT_QUICK", "1")
    env.update(extra)
    return env


def nbgrader(layout: CourseLayout, *args: str, env: dict[str, str] | None = None,
             timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course root; raise `NbgraderError` if it fails."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    proc = subprocess.run(cmd, cwd=layout.root, env=env or grading_env(layout),
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise NbgraderError(f"'nbgrader {' '.join(args)}' failed (exit {proc.returncode}):\n"
                            f"{proc.stdout[-3000:]}{proc.stderr[-6000:]}")
    return proc


def release(layout: CourseLayout, labs: list[str] | None = None, *,
            release_dir: Path | None = None, db_url: str | None = None) -> list[Path]:
    """``nbgrader generate_assignment`` for each lab; returns the student notebooks written.

    By default it writes labs/ and records the labs in the gradebook; ``release_dir`` and
    ``db_url`` redirect both (the sync check and the grader use scratch copies).
    """
    labs = labs or layout.lab_ids()
    extra = []
    if release_dir is not None:
        extra.append(f"--CourseDirectory.release_directory={release_dir}")
    layout.grader_build.mkdir(parents=True, exist_ok=True)
    extra.append(f"--CourseDirectory.db_url={db_url or layout.db_url()}")
    for lab in labs:
        nbgrader(layout, "generate_assignment", lab, "--force", *extra)
    out = Path(release_dir) if release_dir else layout.labs
    return sorted(p for lab in labs for p in (out / lab).glob("*.ipynb"))


def _tree(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts}


def release_diff(layout: CourseLayout) -> list[str]:
    """Regenerate the release in a scratch folder and list how labs/ differs from it.

    An empty list means labs/ is in sync with solutions/.
    """
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="labkit-release-") as tmp:
        fresh = Path(tmp) / "release"
        release(layout, release_dir=fresh, db_url=f"sqlite:///{tmp}/gradebook.db")
        for lab in layout.lab_ids():
            want, have = _tree(fresh / lab), _tree(layout.labs / lab)
            problems += [f"labs/{lab}/{f}: missing (run 'make release')" for f in want - have]
            problems += [f"labs/{lab}/{f}: not produced by solutions/ (stale?)"
                         for f in have - want]
            for name in sorted(want & have):
                a, b = fresh / lab / name, layout.labs / lab / name
                same = (json.loads(a.read_text()) == json.loads(b.read_text())
                        if name.endswith(".ipynb") else filecmp.cmp(a, b, shallow=False))
                if not same:
                    problems.append(f"labs/{lab}/{name}: differs from solutions/ "
                                    "(run 'make release' and commit labs/)")
        extra = set(p.name for p in layout.labs.iterdir() if p.is_dir()) - set(
            layout.lab_ids()) if layout.labs.is_dir() else set()
        problems += [f"labs/{name}: has no source in solutions/" for name in sorted(extra)]
    return problems


@dataclass(frozen=True)
class GradeRow:
    """One line of grades.csv: a student's score on a lab."""

    lab: str
    student: str
    score: float
    max_score: float


def grade(layout: CourseLayout, labs: list[str] | None = None, *,
          timeout: int | None = None) -> list[GradeRow]:
    """Autograde every submission under submitted/, write feedback HTML and grades.csv.

    ``timeout`` is the per-cell limit in seconds (default: the one in nbgrader_config.py);
    a cell that runs past it is interrupted, scored as failed, and grading goes on.
    """
    submissions = layout.submissions()
    asked = sorted(set(labs or []) - set(layout.lab_ids()))
    if asked:
        raise NbgraderError(f"--lab {', '.join(asked)}: not a lab of this course (labs: "
                            f"{', '.join(layout.lab_ids())})")
    labs = [lab for lab in (labs or sorted(submissions)) if lab in submissions]
    unknown = sorted(set(labs) - set(layout.lab_ids()))
    if unknown:
        raise NbgraderError(f"submitted/ holds work for {', '.join(unknown)}, which is not a "
                            f"lab of this course (labs: {', '.join(layout.lab_ids())})")
    if not labs:  # nothing to grade: leave the gradebook and build/grader/ alone
        return []
    scratch = layout.grader_build / "release"
    release(layout, labs, release_dir=scratch)  # records each lab's cells in the gradebook
    limits = [f"--Execute.timeout={timeout}"] if timeout else []
    for lab in labs:
        nbgrader(layout, "autograde", lab, "--force", *limits)
        nbgrader(layout, "generate_feedback", lab, "--force")
    layout.grades_csv.parent.mkdir(parents=True, exist_ok=True)
    nbgrader(layout, "export", f"--to={layout.grades_csv}")
    return read_grades(layout.grades_csv)


def read_grades(path: Path) -> list[GradeRow]:
    """Parse nbgrader's grades.csv (one row per assignment and student)."""
    with open(path, newline="") as fh:
        return [GradeRow(lab=row["assignment"], student=row["student_id"],
                         score=float(row["raw_score"] or 0), max_score=float(row["max_score"]))
                for row in csv.DictReader(fh)]
