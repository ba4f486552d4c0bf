"""labkit.course.nbgrader's guards, which answer before nbgrader is ever started."""

from __future__ import annotations

import pytest

from labkit.course import CourseLayout
from labkit.course.nbgrader import NbgraderError, grade


@pytest.fixture
def course(tmp_path) -> CourseLayout:
    (tmp_path / "solutions" / "00-demo").mkdir(parents=True)
    return CourseLayout(tmp_path)


def test_nothing_submitted_grades_nothing_and_touches_nothing(course):
    assert grade(course) == []
    assert not course.grader_build.exists()  # no gradebook, no scratch release


def test_a_lab_with_no_submissions_grades_nothing(course):
    (course.submitted / "alice" / "00-other").mkdir(parents=True)
    assert grade(course, ["00-demo"]) == []
    assert not course.grader_build.exists()


def test_an_unknown_lab_is_named(course):
    with pytest.raises(NbgraderError, match=r"--lab 99-x: not a lab of this course "
                                            r"\(labs: 00-demo\)"):
        grade(course, ["99-x"])


def test_work_for_a_lab_the_course_lacks_is_named(course):
    (course.submitted / "alice" / "42-stray").mkdir(parents=True)
    with pytest.raises(NbgraderError, match="submitted/ holds work for 42-stray"):
        grade(course)
