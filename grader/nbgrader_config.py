# nbgrader configuration for the NCP-AI Infrastructure Labs course.
#
# nbgrader finds this file through JUPYTER_CONFIG_PATH=<repo>/grader, which `make grade`,
# `make release`, `make lab` and `labkit course ...` set for you. To run nbgrader by hand:
#     export JUPYTER_CONFIG_PATH=$PWD/grader && nbgrader generate_assignment 00-environment
# Paths are owned by labkit.course.CourseLayout; nothing here builds a path by hand.
import os
from pathlib import Path

from labkit.course import CourseLayout

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

layout = CourseLayout(Path(os.environ.get("LABKIT_COURSE_ROOT", Path(__file__).parents[1])))

c.CourseDirectory.course_id = "ncp-ai-labs"
c.CourseDirectory.root = str(layout.root)
for trait, value in layout.nbgrader_directories().items():
    setattr(c.CourseDirectory, trait, value)
c.CourseDirectory.db_url = layout.db_url()
# Data files beside a lab's notebooks are released with it; build outputs are not.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "build", "outputs"]

# Per-cell execution limit for autograding and Validate, in seconds. A student's infinite
# loop is interrupted at this limit, the cell is scored as failed, and grading continues.
# nbgrader's own Execute preprocessor and nbconvert's ExecutePreprocessor read different
# config sections, so the limit is set in both.
GRADE_CELL_TIMEOUT = int(os.environ.get("LABKIT_GRADE_TIMEOUT", "120"))
c.Execute.timeout = GRADE_CELL_TIMEOUT
c.ExecutePreprocessor.timeout = GRADE_CELL_TIMEOUT
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "python3"

# Student notebooks: hidden tests are removed, solutions replaced by the stub below.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
# Student notebooks start with no outputs at all.
c.ClearOutput.enabled = True
