"""One syllabus: the README's table is the source, and every other copy must agree with it.

The lessons are the notebooks in notebooks/. The README's syllabus links each one with its title; the
instructor guide's run-time table and lesson 00's course map repeat the titles, and the guide's objectives
table lists every lesson. A lesson added, renamed or reordered in one place and not the others fails here.
"""

import re
from pathlib import Path

import nbformat
import pytest

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


def header_minutes(path):
    """The 'about N minutes' a notebook's header promises."""
    first_markdown = next(
        cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"
    )
    return int(re.search(r"\*\*Time:\*\* about (\d+) minutes", first_markdown).group(1))


def notebooks_named(cell):
    """'lesson 03' -> ['notebooks/03...'], 'exercises 01-09' -> nine exercise notebooks, 'break' -> []."""
    match = re.fullmatch(r"(lessons?|exercises) ([\d, -]+)", cell)
    if not match:
        return []
    folder = "exercises" if match.group(1) == "exercises" else "notebooks"
    numbers = []
    for part in match.group(2).split(","):
        first, _, last = part.strip().partition("-")
        numbers += [f"{n:02d}" for n in range(int(first), int(last or first) + 1)]
    return [path for n in numbers for path in sorted((ROOT / folder).glob(f"{n}_*.ipynb"))]


def plan_rows(heading):
    """(start, notebook, header, minutes in the room, homework) for each row of a workshop plan."""
    text = (ROOT / "docs" / "instructor_guide.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| ")
    ]
    return [(row[0], row[1], row[2], row[3], row[5]) for row in rows[1:] if len(row) == 6]


@pytest.mark.parametrize("heading, length", [("A 3-hour workshop", "3:00"), ("A 90-minute version", "1:30")])
def test_a_workshop_plan_adds_up_and_says_what_is_homework(heading, length):
    def minutes(clock):
        hours, mins = clock.split(":")
        return 60 * int(hours) + int(mins)

    rows = plan_rows(heading)
    clock, covered = 0, set()
    for start, notebook, header, in_room, homework in rows:
        paths = notebooks_named(notebook)
        covered.update(path.relative_to(ROOT).as_posix() for path in paths)
        if len(paths) == 1:
            assert int(header) == header_minutes(paths[0]), (
                f"{notebook}: its header says {header_minutes(paths[0])} min"
            )
            if int(in_room) < int(header):
                assert homework and homework != "-", f"{notebook} gets {in_room} of {header} min: say what is homework"
        if start == "after":
            assert int(in_room) == 0 and homework, f"{notebook}: homework rows take no time in the room"
            continue
        assert minutes(start) == clock, f"{notebook} starts at {start}; the rows above end at {clock} min"
        if notebook == "end":
            assert start == length
        else:
            clock += int(in_room)
    assert clock == minutes(length)
    every_notebook = {
        p.relative_to(ROOT).as_posix() for folder in ("notebooks", "exercises") for p in (ROOT / folder).glob("*.ipynb")
    }
    assert covered == every_notebook, f"not in the plan: {sorted(every_notebook - covered)}"
