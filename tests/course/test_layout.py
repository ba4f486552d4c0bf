import pytest

from labkit.course import CourseLayout


def test_layout_paths_follow_nbgrader_directories(layout):
    dirs = layout.nbgrader_directories()
    assert layout.solutions == layout.root / dirs["source_directory"]
    assert layout.labs == layout.root / dirs["release_directory"]
    assert layout.autograded == layout.root / dirs["autograded_directory"]
    assert layout.gradebook.parent == layout.grader_build
    assert layout.db_url() == f"sqlite:///{layout.gradebook}"


def test_labs_are_listed_in_course_order(layout):
    labs = layout.lab_ids()
    assert labs[0] == "00-environment" and labs == sorted(labs)
    assert layout.solution_notebooks("00-environment")[0].name == "00-environment-check.ipynb"


def test_find_from_a_subfolder_and_from_the_environment(layout, monkeypatch, tmp_path):
    assert CourseLayout.find(layout.solutions / "00-environment").root == layout.root
    monkeypatch.setenv("LABKIT_COURSE_ROOT", str(tmp_path))
    assert CourseLayout.find().root == tmp_path


def test_find_outside_a_checkout_still_finds_the_package_course(tmp_path, layout):
    assert CourseLayout.find(tmp_path).root == layout.root


def test_submissions_are_grouped_by_lab(tmp_path):
    course = CourseLayout(tmp_path)
    for student, lab in [("ana", "00-environment"), ("bo", "00-environment"), ("bo", "02-mig")]:
        (course.submitted / student / lab).mkdir(parents=True)
    assert course.submissions() == {"00-environment": ["ana", "bo"], "02-mig": ["bo"]}


@pytest.mark.parametrize("name", ["00-environment", "07-pipeline", "15-certification"])
def test_lab_pattern_accepts_course_names(name):
    from labkit.course import LAB_PATTERN
    assert LAB_PATTERN.match(name)
