"""One syllabus: the README's table is the source, and every other copy must agree with it.

The lessons are the notebooks in notebooks/. The README's syllabus links each one with its title; the
instructor guide's run-time table and lesson 00's course map repeat the titles, and the guide's objectives
table lists every lesson. A lesson added, renamed or reordered in one place and not the others fails here.
"""

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))


def readme_syllabus():
    """{number: (title, linked notebook)} from the README's syllabus table."""
    rows = re.findall(r"^\| (\d\d) \| \[([^\]]+)\]\(notebooks/([^)]+)\) \|", (ROOT / "README.md").read_text(), re.M)
    return {number: (title, notebook) for number, title, notebook in rows}


def guide_rows(heading):
    """The first cell of each row of the table under ``heading`` in the instructor guide."""
    text = (ROOT / "docs" / "instructor_guide.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| (\d\d) ([^|]+?) \|", section, re.M)


def test_the_readme_links_every_lesson_in_order():
    syllabus = readme_syllabus()
    assert [notebook for _, notebook in syllabus.values()] == LESSONS
    assert list(syllabus) == [name[:2] for name in LESSONS]


def test_the_guides_tables_follow_the_readme():
    titles = {number: title for number, (title, _) in readme_syllabus().items()}
    run_times = guide_rows("Run times (measured, 2-core CPU, no GPU)")
    assert dict(run_times) == titles
    assert [number for number, _ in guide_rows("Learning objectives")] == list(titles)


def test_lesson_00s_map_follows_the_readme():
    titles = {number: title for number, (title, _) in readme_syllabus().items()}
    welcome = nbformat.read(ROOT / "notebooks" / "00_welcome.ipynb", as_version=4)
    course_map = next(cell.source for cell in welcome.cells if "The map of the course" in cell.source)
    rows = dict(re.findall(r"^\| (\d\d) \| ([^|]+?) \|", course_map, re.M))
    assert rows == titles
