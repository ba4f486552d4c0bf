"""The README's course map follows labkit.course.coursemap, and the checkout decides "ready"."""

from __future__ import annotations

import re

import pytest

from labkit.course.coursemap import LABS, lab

# | 07 | `07-pipeline` | what you do | ready |
ROW = re.compile(r"^\| (\d\d) \| `([^`]+)` \| .+ \| (\w+) \|$")


def readme_course_map(text: str) -> list[tuple[str, str, str]]:
    """``(number, folder, status)`` per row of the table under "## Course map"."""
    section = text.split("\n## Course map\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| # | lab |"), "the table's header row"
    parsed = [ROW.match(line) for line in rows[1:] if not line.startswith("|---")]
    assert all(parsed), "every row reads | NN | `folder` | text | status |"
    return [m.groups() for m in parsed]


@pytest.fixture
def readme_rows(layout):
    return readme_course_map((layout.root / "README.md").read_text())


def test_readme_lists_every_lab_of_the_course_map_in_order(readme_rows):
    assert [(n, f) for n, f, _ in readme_rows] == [(e.number, e.folder) for e in LABS]


def test_a_lab_is_ready_exactly_when_its_solutions_folder_exists(readme_rows, layout):
    ready = set(layout.lab_ids())
    assert ready <= {e.folder for e in LABS}, "every solutions/<lab> folder is on the map"
    assert {f: s for _, f, s in readme_rows} == {
        e.folder: "ready" if e.folder in ready else "planned" for e in LABS}


def test_the_map_is_numbered_from_00_without_gaps():
    assert [e.number for e in LABS] == [f"{i:02d}" for i in range(len(LABS))]
    assert all(e.folder.startswith(e.number + "-") for e in LABS)
    assert lab(9).folder == "09-monitoring" and lab("15").folder == "15-certification"
    with pytest.raises(KeyError, match="no lab 16"):
        lab(16)


@pytest.mark.parametrize(("text", "problem"), [
    ("# x\n## Course map\n\n| # | lab | what | status |\n|---|---|---|---|\n"
     "| 08 | 08-monitoring | DCGM | planned |\n", "every row reads"),
    ("# x\n## Course map\n\n| lab | status |\n", "the table's header row"),
], ids=["folder-not-in-backticks", "wrong-header"])
def test_the_reader_refuses_a_malformed_table(text, problem):
    with pytest.raises(AssertionError, match=problem):
        readme_course_map(text)
