"""The course as a whole: its layout, nbgrader's release and grading, and lint.

Instructors reach these through ``make release``, ``make grade`` and ``labkit course``.
"""

from .layout import LAB_PATTERN, CourseLayout

__all__ = ["CourseLayout", "LAB_PATTERN"]
