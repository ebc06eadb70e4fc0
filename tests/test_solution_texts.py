"""One source for each solution: ``qK.solution()`` shows the code of the solution notebook's marked block.

For every code cell of ``solutions/NN_*.ipynb`` that checks one question (``qK.check(...)``), the code between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` must be the code of ``course_utils.exercises.lessonNN.qK.solution_text``
(comments, blank lines, spaces, line breaks and trailing commas aside): a changed solution cannot leave its text behind.
"""

import importlib
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^[ \t]*# BEGIN SOLUTION\n(.*?)^[ \t]*# END SOLUTION", re.M | re.S)
CHECKED = re.compile(r"\b(q\d+)\.check\(")


def code(text):
    """The code of ``text`` without comments, blank lines and layout (the formatter may wrap the notebook's copy)."""
    lines = [line.split("  # ")[0] for line in textwrap.dedent(text).splitlines() if not line.strip().startswith("#")]
    return re.sub(r",(?=[)\]}])", "", re.sub(r"\s+", "", "".join(lines)))


def solution_blocks():
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        module = importlib.import_module(f"course_utils.exercises.lesson{path.name[:2]}")
        for cell in nbformat.read(path, as_version=4).cells:
            blocks = BLOCK.findall(cell.source) if cell.cell_type == "code" else []
            questions = set(CHECKED.findall(cell.source))
            if blocks and len(questions) == 1:
                name = questions.pop()
                yield pytest.param(getattr(module, name), "".join(blocks), id=f"{path.stem}-{name}")


@pytest.mark.parametrize("question, block", list(solution_blocks()))
def test_solution_text_is_the_solution_notebooks_block(question, block):
    assert code(question.solution_text) == code(block)
