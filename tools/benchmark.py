"""Wall time and peak memory of every notebook: ``python -m tools.benchmark [notebook ...]``.

Each notebook runs headlessly in a fresh kernel, as nbval runs it. The first row,
"floor", is a notebook that only starts a kernel and imports course_utils (and so
TensorFlow): no notebook can be faster. Prints a Markdown table for the README.
"""

import sys
import tempfile
from pathlib import Path

import nbformat

from tools.notebook_exec import ROOT, all_notebooks, execute_notebook

BUDGET_SECONDS = 30
BUDGET_MEMORY_MB = 2048


def floor_notebook(folder):
    path = Path(folder) / "floor.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells.append(nbformat.v4.new_code_cell("import course_utils"))
    nbformat.write(notebook, path)
    return path


def row(name, run):
    memory = "n/a" if run.peak_memory_mb is None else f"{run.peak_memory_mb:,.0f}"
    over = run.seconds > BUDGET_SECONDS or (run.peak_memory_mb or 0) > BUDGET_MEMORY_MB
    return f"| {name} | {run.seconds:.1f}{' (over budget)' if over else ''} | {memory} |"


def main(args):
    paths = [Path(arg).resolve() for arg in args] or all_notebooks()
    print(f"Budget per notebook: {BUDGET_SECONDS} s wall, {BUDGET_MEMORY_MB} MB peak kernel memory.\n")
    print("| notebook | wall time (s) | peak kernel memory (MB) |")
    print("|---|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        print(
            row("floor (kernel start + import course_utils/TensorFlow)", execute_notebook(floor_notebook(folder))),
            flush=True,
        )
    total = 0.0
    for path in paths:
        run = execute_notebook(path)
        total += run.seconds
        print(row(str(path.relative_to(ROOT)), run), flush=True)
    print(f"| **all {len(paths)} notebooks** | {total:.1f} | |")


if __name__ == "__main__":
    main(sys.argv[1:])
