"""exercises/ is generated from solutions/: it must be exactly what the generator writes."""

import nbformat
import pytest

from tools.make_exercises import EXERCISES, SOLUTIONS, expected_exercises, strip_solution

SOLUTION_PATHS = sorted(SOLUTIONS.glob("*.ipynb"))


def sources(notebook):
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_strip_solution_keeps_indentation_and_everything_outside_the_markers():
    source = "def f():\n    x = ____\n    # BEGIN SOLUTION\n    x = 1\n    y = 2\n    # END SOLUTION\n    return x\n# BEGIN SOLUTION\nz = 3\n# END SOLUTION"
    assert (
        strip_solution(source, "code") == "def f():\n    x = ____\n    # YOUR CODE HERE\n    return x\n# YOUR CODE HERE"
    )


def test_strip_solution_in_markdown_and_leaves_other_text_alone():
    source = "**Answer:**\n<!-- BEGIN SOLUTION -->\nB, because chi_1 > 1.\n<!-- END SOLUTION -->"
    assert strip_solution(source, "markdown") == "**Answer:**\n*Your answer here.*"
    assert strip_solution("print('# BEGIN SOLUTION')", "code") == "print('# BEGIN SOLUTION')"


def test_every_exercise_has_a_solution_and_vice_versa():
    assert sorted(p.name for p in EXERCISES.glob("*.ipynb")) == [p.name for p in SOLUTION_PATHS]


@pytest.mark.parametrize("path", list(expected_exercises()), ids=lambda p: p.name)
def test_exercise_is_up_to_date(path):
    generated = expected_exercises([SOLUTIONS / path.name])[path]
    committed = nbformat.read(path, as_version=4)
    assert sources(committed) == sources(generated), (
        f"{path.name} is out of date: run `python -m tools.refresh solutions/{path.name}`"
    )


@pytest.mark.parametrize("path", SOLUTION_PATHS, ids=lambda p: p.name)
def test_solutions_have_solution_blocks_and_exercises_none(path):
    solution = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    exercise = "\n".join(cell.source for cell in nbformat.read(EXERCISES / path.name, as_version=4).cells)
    assert solution.count("# BEGIN SOLUTION") == solution.count("# END SOLUTION") >= 3, "3-5 exercises per lesson"
    assert "BEGIN SOLUTION" not in exercise and "# YOUR CODE HERE" in exercise
