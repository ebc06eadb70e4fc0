"""What the course says matches what its cells print.

* Every approximate result (``≈...``, the form of ``course_utils.approx``) quoted in the README, the
  instructor guide or a lesson's prose appears in a stored output: prose cannot drift from the numbers.
* Lessons print measured numbers, not "claim: True": fewer than 10% of their printed lines end in a bare
  True/False (kept only where yes/no is itself the result, e.g. "diverged: True").
"""

import re
from pathlib import Path

import nbformat
import pytest

from course_utils.approx import APPROX_PATTERN

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "instructor_guide.md"]
MAX_BOOLEAN_SHARE = 0.10


def printed_lines(path):
    lines = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                lines += output.text.splitlines()
            elif "text/plain" in output.get("data", {}) and "image/png" not in output.data:
                lines += output.data["text/plain"].splitlines()
    return [line for line in lines if line.strip()]


def markdown(path):
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown")


def quoted(text):
    return set(re.findall(APPROX_PATTERN, text))


ALL_OUTPUTS = "\n".join(line for path in sorted(ROOT.glob("*/*.ipynb")) for line in printed_lines(path))


@pytest.mark.parametrize("document", DOCUMENTS + LESSONS, ids=lambda path: path.name)
def test_every_quoted_result_is_printed_by_a_cell(document):
    text = markdown(document) if document.suffix == ".ipynb" else document.read_text(encoding="utf-8")
    missing = sorted(value for value in quoted(text) if value not in quoted(ALL_OUTPUTS))
    assert not missing, f"{document.name} quotes results that no stored output prints: {missing}"


def test_lessons_print_numbers_not_booleans():
    lines = [line for path in LESSONS for line in printed_lines(path)]
    booleans = [line for line in lines if re.search(r"\b(True|False)\s*$", line)]
    assert len(booleans) < MAX_BOOLEAN_SHARE * len(lines), (
        f"{len(booleans)} of {len(lines)} printed lines end in True/False; print the measured value instead:\n"
        + "\n".join(booleans)
    )
