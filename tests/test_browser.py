"""The course works the way a learner uses it: lessons run in JupyterLab in a real Chromium.

One ``jupyter lab`` and one headless Chromium (Debian's, driven by Playwright; nothing is downloaded)
serve the lessons in ``notebooks/``. Each lesson is opened from a temporary copy of that folder, cleared,
run with "Run All Cells", and must end with every code cell executed, no error or traceback on the page,
and at least as many rendered figures as the notebook stores. A screenshot of each lesson goes to
``artifacts/browser/``. Self-tests run small notebooks with a known fault through the same check to
prove it can fail.

Live here: the welcome notebook (a learner's first run) and every lesson with an explorer, whose widgets
only work with a live kernel. The other lessons show nothing a kernel must draw: nbval executes each of them
in the same kind of kernel and compares every output, and ``tests/test_site.py`` renders those outputs in the
same Chromium; running them here too would repeat both (about 150 s of a 2-core suite). Name a folder in
$COURSE_BROWSER_NOTEBOOKS to run every notebook in it live (``COURSE_BROWSER_NOTEBOOKS=notebooks`` for all lessons).

Skipped with a reason when Chromium or Playwright is missing (set COURSE_REQUIRE_BROWSER=1 to fail
instead, as CI does). Check other notebooks with COURSE_BROWSER_NOTEBOOKS=/some/folder; deselect the
whole check with ``-m "not browser"``.
"""

import copy
import os
import shutil
import sys

import nbformat
import pytest

from tests.browser_support import (
    NOTEBOOKS_ENV_VAR,
    REQUIRE_ENV_VAR,
    ROOT,
    CellResult,
    JupyterLabServer,
    LabBrowser,
    LabRun,
    browser_unavailable_reason,
    expected_figure_count,
    find_chromium,
    lesson_notebooks,
    problems,
    slider_problems,
)

LESSONS = lesson_notebooks()
SCREENSHOT_DIR = ROOT / "artifacts" / "browser"
UNAVAILABLE = browser_unavailable_reason()
needs_browser = pytest.mark.skipif(
    UNAVAILABLE is not None and os.environ.get(REQUIRE_ENV_VAR) != "1",
    reason=f"real-browser check skipped: {UNAVAILABLE}",
)


@pytest.fixture(scope="module")
def served_root(tmp_path_factory):
    """A throwaway copy of the lessons' folder, so running them in the browser never touches the repo."""
    root = tmp_path_factory.mktemp("jupyterlab-root")
    if LESSONS:
        shutil.copytree(LESSONS[0].parent, root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "selftest").mkdir()
    return root


@pytest.fixture(scope="module")
def lab(served_root):
    """One JupyterLab server and one Chromium page for every test of this module."""
    if UNAVAILABLE is not None:
        pytest.fail(f"{REQUIRE_ENV_VAR}=1 but the real-browser check cannot run: {UNAVAILABLE}")
    with JupyterLabServer(served_root) as server, LabBrowser(server, find_chromium()) as browser:
        yield browser


# A lesson that shows an explorer gets one of its sliders moved, as a learner would: (label, new value).
EXPLORER_SLIDERS = {"explore_depth(": ("sigma_w", 2.0), "explore_time(": ("spectral radius", 0.9)}


def sliders_to_move(notebook):
    text = notebook.read_text(encoding="utf-8")
    return [slider for call, slider in EXPLORER_SLIDERS.items() if call in text]


def needs_a_live_kernel(notebook):
    """A notebook whose outputs a kernel must draw for the learner: its widgets (explorers) are not stored outputs."""
    return "ipywidgets" in notebook.read_text(encoding="utf-8") or bool(sliders_to_move(notebook))


LIVE = (
    LESSONS
    if os.environ.get(NOTEBOOKS_ENV_VAR)
    else [path for path in LESSONS if path.name.startswith("00_") or needs_a_live_kernel(path)]
)


def test_the_live_run_covers_the_welcome_and_every_lesson_with_an_explorer():
    assert [path.name[:2] for path in LIVE][:1] == ["00"]
    assert all(path in LIVE for path in LESSONS if needs_a_live_kernel(path))
    assert sum(needs_a_live_kernel(path) for path in LESSONS) >= 3, "lessons 01, 02 and 05 show explorers"


@pytest.mark.parametrize("notebook", LIVE, ids=[path.stem for path in LIVE])
@pytest.mark.browser
@needs_browser
def test_lesson_runs_cleanly_in_jupyterlab(lab, notebook):
    screenshot = SCREENSHOT_DIR / f"{notebook.stem}.png"
    run = lab.run_notebook(f"notebooks/{notebook.name}", screenshot=screenshot, sliders=sliders_to_move(notebook))
    found = problems(run, expected_figures=expected_figure_count(notebook)) + slider_problems(run.slider_moves)
    assert not found, (
        f"{notebook.name}, run in JupyterLab ({run.seconds:.0f} s; see {screenshot.relative_to(ROOT)}):\n- "
        + "\n- ".join(found)
    )


# --------------------------------------------------------------------------------------------------
# Self-tests: the check passes a healthy notebook and catches each kind of fault.

ONE_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
SAME_PYTHON = f"import os, sys\nassert os.path.realpath(sys.prefix) == {os.path.realpath(sys.prefix)!r}, sys.prefix"
PLOT = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()"
PRINT_TRACEBACK = "import traceback\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    traceback.print_exc()"

SELF_TESTS = {
    # name: (cell sources, figures stored on disk, what problems() must say: [] means no problem at all)
    "healthy": ([SAME_PYTHON, PLOT], 1, []),  # and its kernel is this Python
    "error-cell": (
        ["print('before')", "1 / 0", "print('after')"],
        0,
        ["cell 2 ('1 / 0') raised ZeroDivisionError", "1 code cell(s) never ran: cells 3"],
    ),
    "traceback-on-stderr": ([PRINT_TRACEBACK], 0, ["shows a traceback on stderr: ZeroDivisionError"]),
    "figure-missing": (["print('no plot')"], 1, ["0 figure(s) rendered, but the notebook stores 1"]),
    "expected-error": (  # tagged raises-exception, as nbval wants: the run goes on, nothing to report
        [nbformat.v4.new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}), "print('after')"],
        0,
        [],
    ),
}


EXPLORER = "import course_utils\nfrom course_utils.explorer import explore_time\nexplore_time(timesteps=10)"
FROZEN_EXPLORER = """import ipywidgets as widgets
slider, output = widgets.FloatSlider(1.5, description="spectral radius", continuous_update=False), widgets.Output()
with output:
    print("drawn once, never again")
widgets.VBox([slider, output])"""


@pytest.mark.parametrize(
    "case, source, expected",
    [
        ("explorer", EXPLORER, []),
        (
            "frozen-explorer",
            FROZEN_EXPLORER,
            [
                "moving 'spectral radius' to 0.9 did not change the printed text",
                "moving 'spectral radius' to 0.9 did not redraw the figure",
            ],
        ),
    ],
)
@pytest.mark.browser
@needs_browser
def test_browser_check_moves_a_slider_and_sees_the_explorer_redraw(lab, served_root, case, source, expected):
    path = write_notebook(served_root / "selftest" / f"{case}.ipynb", [source])
    run = lab.run_notebook(f"selftest/{path.name}", sliders=[("spectral radius", 0.9)])
    found = problems(run, expected_figures=0) + slider_problems(run.slider_moves)
    assert found == expected
    if not expected:
        assert "s_max(U) = 0.90" in run.slider_moves[0].after.text


def write_notebook(path, sources, stored_figures=0):
    """A notebook of code cells (sources or cells); the last one stores ``stored_figures`` PNG outputs."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for index, source in enumerate(sources):
        cell = copy.deepcopy(source) if isinstance(source, dict) else nbformat.v4.new_code_cell(source)
        cell.execution_count = index + 1
        cell.id = f"cell-{index}"
        notebook.cells.append(cell)
    notebook.cells[-1].outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": ONE_PIXEL_PNG, "text/plain": "<Figure>"})
        for _ in range(stored_figures)
    ]
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize("case", SELF_TESTS)
@pytest.mark.browser
@needs_browser
def test_browser_check_passes_a_healthy_notebook_and_catches_faults(lab, served_root, case):
    sources, stored_figures, expected = SELF_TESTS[case]
    path = write_notebook(served_root / "selftest" / f"{case}.ipynb", sources, stored_figures)
    found = problems(lab.run_notebook(f"selftest/{path.name}"), expected_figure_count(path))
    if not expected:
        assert found == [], f"a notebook without faults was flagged: {found}"
    for sentence in expected:
        assert any(sentence in problem for problem in found), f"missing {sentence!r} in {found}"


# --------------------------------------------------------------------------------------------------
# Unit tests of the pieces that need no browser.


def test_problems_reports_errors_tracebacks_unrun_cells_and_missing_figures():
    cells = [
        CellResult(1, "plot()", 1, images=[(640, 480)]),
        CellResult(2, "warn()", 2, stderr=["UserWarning: careful"]),  # a warning is nbval's business
        CellResult(3, "log()", 3, stderr=["Traceback (most recent call last):\n  ...\nKeyError: 'x'"]),
        CellResult(4, "boom()", 4, errors=["ValueError: bad"], stderr=["Traceback ... ValueError: bad"]),
        CellResult(5, "broken_image()", 5, images=[(0, 0)]),
        CellResult(6, "1 / 0", 6, errors=["ZeroDivisionError: division by zero"], expects_error=True),
        CellResult(7, "later()", None),
    ]
    found = problems(LabRun("x.ipynb", cells, "idle", 3.0), expected_figures=2)
    assert found == [
        "cell 3 ('log()') shows a traceback on stderr: KeyError: 'x'",
        "cell 4 ('boom()') raised ValueError: bad",
        "cell 5 ('broken_image()') shows 1 image(s) that did not load",
        "1 code cell(s) never ran: cells 7",
        "1 figure(s) rendered, but the notebook stores 2",
    ]


def test_problems_reports_a_timeout_and_a_dialog():
    run = LabRun("x.ipynb", [], "busy", 240.0, timed_out=True, dialog="Kernel Restarting\nThe kernel died.")
    assert problems(run, expected_figures=0) == [
        "not finished after 240 s (kernel busy)",
        "JupyterLab showed a dialog: Kernel Restarting The kernel died.",
    ]


def test_lesson_notebooks_reads_the_folder_named_by_the_environment(tmp_path):
    for name in ("01_b.ipynb", "00_a.ipynb", "notes.txt"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in lesson_notebooks({NOTEBOOKS_ENV_VAR: str(tmp_path)})] == ["00_a.ipynb", "01_b.ipynb"]
    assert lesson_notebooks({}) == sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_expected_figure_count_counts_stored_png_outputs(tmp_path):
    assert expected_figure_count(write_notebook(tmp_path / "a.ipynb", ["x = 1", "plot()"], stored_figures=3)) == 3
    assert expected_figure_count(write_notebook(tmp_path / "b.ipynb", ["x = 1"])) == 0
