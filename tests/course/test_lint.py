import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labkit.course.lint import lint_course, lint_notebook


def _nb(tmp_path, cells, name="lab.ipynb"):
    nb = new_notebook(cells=cells)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _params():
    cell = new_code_cell('MODE = "auto"\nQUICK = False\nSEED = 0')
    cell.metadata["tags"] = ["parameters"]
    return cell


def _cell(source, **grading):
    cell = new_code_cell(source)
    if grading:
        cell.metadata["nbgrader"] = {"schema_version": 3, **grading}
    return cell


GOOD_SOLUTION = _cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                      grade_id="f", solution=True, grade=False, locked=False)
GOOD_TEST = _cell("assert f() == 1", grade_id="t", solution=False, grade=True, locked=True,
                  points=1)


def test_a_well_formed_notebook_has_no_finding(tmp_path):
    assert lint_notebook(_nb(tmp_path, [_params(), GOOD_SOLUTION, GOOD_TEST])) == []


@pytest.mark.parametrize(("cells", "message"), [
    ([GOOD_SOLUTION, GOOD_TEST], "no cell tagged 'parameters'"),
    ([_params(), GOOD_SOLUTION], "no graded cell"),
    ([_params(), GOOD_TEST, _cell("x", grade_id="t", grade=True, locked=True, points=1)],
     "grade_id 't' is used twice"),
    ([_params(), _cell("assert 1", grade_id="t", grade=True, locked=True, points=0)],
     "graded cell 't' has no points"),
    ([_params(), _cell("assert 1", grade_id="t", grade=True, locked=False, points=1)],
     "test cell 't' is not locked"),
    ([_params(), GOOD_TEST, _cell("def f(): return 1", grade_id="s", solution=True)],
     "solution cell 's' lacks '### BEGIN SOLUTION'"),
    ([_params(), GOOD_TEST, _cell("x = 1", solution=False)], "nbgrader cell without a grade_id"),
], ids=["no-parameters", "no-graded-cell", "duplicate-grade-id", "no-points", "unlocked-test",
        "solution-without-markers", "missing-grade-id"])
def test_each_rule_names_the_problem(tmp_path, cells, message):
    findings = lint_notebook(_nb(tmp_path, cells))
    assert any(message in f.message for f in findings), [str(f) for f in findings]


def test_parameters_cell_must_define_mode_quick_seed(tmp_path):
    cell = new_code_cell('MODE = "auto"')
    cell.metadata["tags"] = ["parameters"]
    findings = lint_notebook(_nb(tmp_path, [cell, GOOD_TEST]))
    assert [f.message for f in findings] == ["parameters cell lacks QUICK, SEED"]


def test_outputs_are_findings_unless_kept(tmp_path):
    kept = _cell("print(1)")
    kept.metadata["keep_output"] = True
    kept.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    stray = _cell("print(2)")
    stray.execution_count = 3
    path = _nb(tmp_path, [_params(), GOOD_TEST, kept, stray])
    findings = lint_notebook(path)
    assert [(f.cell, "outputs" in f.message) for f in findings] == [(3, True)]


def test_unreadable_notebook_is_reported(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{")
    assert "not a readable notebook" in lint_notebook(path)[0].message


def test_the_course_itself_is_clean(layout):
    assert [str(f) for f in lint_course(layout)] == []


def test_release_notebooks_carry_no_solution_text(layout):
    for nb in layout.release_notebooks():
        text = json.dumps(json.loads(nb.read_text()))
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, nb
