"""Regenerate every stored output: ``python -m tools.refresh [notebook ...]``.

Without arguments: regenerates ``exercises/`` from ``solutions/``, then re-executes
every notebook in notebooks/, solutions/ and exercises/ in place, so what nbval
compares is what the code prints now. With arguments: re-executes just those
notebooks, plus the exercises generated from any solution among them.
"""

import sys
from pathlib import Path

import nbformat

from tools.make_exercises import SOLUTIONS, write_exercises
from tools.notebook_exec import ROOT, all_notebooks, execute_notebook


def refresh(paths):
    for path in paths:
        print(f"executing {path.relative_to(ROOT)} ...", end=" ", flush=True)
        run = execute_notebook(path)
        nbformat.write(run.notebook, path)
        print(f"{run.seconds:.1f} s")


def main(args):
    paths = [Path(arg).resolve() for arg in args]
    missing = [path for path in paths if not path.exists()]
    if missing:
        sys.exit(f"no such notebook: {', '.join(map(str, missing))}")
    if not args:
        write_exercises()
        paths = all_notebooks()
    else:  # the exercises of the named solutions are regenerated and re-executed too
        generated = write_exercises([path for path in paths if path.parent == SOLUTIONS])
        paths += [path for path in generated if path not in paths]
    refresh(paths)


if __name__ == "__main__":
    main(sys.argv[1:])
