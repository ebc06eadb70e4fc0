"""Generate ``exercises/NN_*.ipynb`` from ``solutions/NN_*.ipynb``, the single source.

In a solution's code cells, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION``
(markers included) become one ``# YOUR CODE HERE`` line at the same indentation;
in markdown cells, ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` becomes
``*Your answer here.*``. Outputs are cleared: ``python -m tools.refresh`` executes the
result so the stored outputs show the "not attempted" feedback.

    >>> strip_solution("x = ____\\n# BEGIN SOLUTION\\nx = 42\\n# END SOLUTION\\nq1.check(x)", "code")
    'x = ____\\n# YOUR CODE HERE\\nq1.check(x)'
"""

import re

import nbformat

from tools.notebook_exec import ROOT

SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

_BLOCKS = {
    "code": (
        re.compile(r"^([ \t]*)# BEGIN SOLUTION\n.*?^[ \t]*# END SOLUTION[ \t]*$", re.M | re.S),
        "{indent}# YOUR CODE HERE",
    ),
    "markdown": (
        re.compile(r"^([ \t]*)<!-- BEGIN SOLUTION -->\n.*?<!-- END SOLUTION -->[ \t]*$", re.M | re.S),
        "{indent}*Your answer here.*",
    ),
}


def strip_solution(source, cell_type):
    """``source`` with every solution block of a ``cell_type`` cell replaced by its blank."""
    if cell_type not in _BLOCKS:
        return source
    pattern, blank = _BLOCKS[cell_type]
    return pattern.sub(lambda match: blank.format(indent=match.group(1)), source)


def exercise_from_solution(solution):
    """The exercise notebook for a solution notebook (a new object; outputs cleared)."""
    exercise = nbformat.from_dict(solution)
    exercise = nbformat.v4.upgrade(exercise) if exercise.nbformat_minor < 5 else exercise
    for cell in exercise.cells:
        cell.source = strip_solution(cell.source, cell.cell_type)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return exercise


def expected_exercises(solutions=None):
    """``{exercise path: exercise notebook}`` for ``solutions`` (default: every solution notebook)."""
    solutions = sorted(SOLUTIONS.glob("*.ipynb")) if solutions is None else solutions
    return {EXERCISES / path.name: exercise_from_solution(nbformat.read(path, as_version=4)) for path in solutions}


def write_exercises(solutions=None):
    """Write the exercise notebooks generated from ``solutions`` (default: all), and return their paths."""
    EXERCISES.mkdir(exist_ok=True)
    written = []
    for path, notebook in expected_exercises(solutions).items():
        nbformat.write(notebook, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_exercises():
        print(f"wrote {path.relative_to(ROOT)}")
