"""Build the course site: ``python -m tools.build_site`` writes ``artifacts/site/`` (open ``index.html``).

Offline and from the stored outputs only: the README becomes the landing page, followed by every lesson,
exercise and solution notebook and the instructor guide, rendered by Sphinx with myst-nb and the book
theme. MathJax is copied into the site (no CDN). Warnings are errors. Every figure carries the alt text
its notebook stored (``course_utils.figures``), through the ``figure_alt_text`` extension in ``docs/site``.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from sphinx.cmd.build import build_main

from tools.notebook_exec import NOTEBOOK_DIRS, ROOT, all_notebooks

CONFIG_DIR = ROOT / "docs" / "site"
OUTPUT_DIR = ROOT / "artifacts" / "site"
GUIDE = Path("docs") / "instructor_guide.md"
SECTIONS = {"notebooks": "Lessons", "exercises": "Exercises", "solutions": "Solutions"}


def toctree(caption, documents):
    entries = "\n".join(str(document.with_suffix("")) for document in documents)
    return f"\n```{{toctree}}\n:caption: {caption}\n:hidden:\n\n{entries}\n```\n"


def stage(source_dir):
    """Lay out the site's sources in ``source_dir``, keeping the repository's relative paths (so links hold)."""
    notebooks = [path.relative_to(ROOT) for path in all_notebooks()]
    for relative in notebooks + [GUIDE]:
        (source_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, source_dir / relative)
    index = (ROOT / "README.md").read_text(encoding="utf-8")
    for folder in NOTEBOOK_DIRS:
        index += toctree(SECTIONS[folder], [path for path in notebooks if path.parts[0] == folder])
    index += toctree("Teaching", [GUIDE])
    (source_dir / "index.md").write_text(index, encoding="utf-8")


def build(output_dir=OUTPUT_DIR):
    """Build the site into ``output_dir``; returns Sphinx's exit code (0: built with no warning)."""
    with tempfile.TemporaryDirectory() as source:
        stage(Path(source))
        shutil.rmtree(output_dir, ignore_errors=True)
        sys.path.insert(0, str(CONFIG_DIR))  # the figure_alt_text extension lives beside conf.py
        try:
            return build_main(
                [
                    "-b",
                    "html",
                    "-W",
                    "--keep-going",
                    "-q",
                    "-c",
                    str(CONFIG_DIR),
                    "-d",
                    str(Path(source) / "_doctrees"),
                    source,
                    str(output_dir),
                ]
            )
        finally:
            sys.path.remove(str(CONFIG_DIR))


def main():
    status = build()
    if status == 0:
        print(f"site built: {(OUTPUT_DIR / 'index.html').relative_to(ROOT)}")
    sys.exit(status)


if __name__ == "__main__":
    main()
