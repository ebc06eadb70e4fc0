"""Run lesson notebooks the way a learner does: in JupyterLab, in a real Chromium, via Playwright.

The pieces, each usable on its own:

- ``browser_unavailable_reason()`` says why the check cannot run here (no Playwright, no Chromium), or None;
- ``lesson_notebooks()`` lists the notebooks to check (``notebooks/*.ipynb``, or the folder named by the
  ``COURSE_BROWSER_NOTEBOOKS`` environment variable);
- ``JupyterLabServer`` starts ``jupyter lab`` on localhost with a token, a throwaway config/runtime/data dir
  and a kernel that is this Python; ``LabBrowser`` drives Chromium against it;
- ``LabBrowser.run_notebook`` opens a notebook, clears its outputs, runs all cells and returns a ``LabRun``:
  what the page shows for every code cell (execution count, errors, stderr, rendered images);
- ``problems(run, expected_figures)`` turns a ``LabRun`` into readable failure messages.

    >>> with JupyterLabServer(root_dir) as server, LabBrowser(server, find_chromium()) as lab:  # doctest: +SKIP
    ...     run = lab.run_notebook("notebooks/00_welcome.ipynb", screenshot=Path("00.png"))
    >>> problems(run, expected_figures=0)                                                     # doctest: +SKIP
    []
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_ENV_VAR = "COURSE_BROWSER_NOTEBOOKS"  # a folder of notebooks to check instead of notebooks/
REQUIRE_ENV_VAR = "COURSE_REQUIRE_BROWSER"  # "1": a missing Chromium/Playwright fails instead of skipping
CHROMIUM_CANDIDATES = ("/usr/bin/chromium",)
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 16000  # pixels; Chromium cannot capture much taller pages in one image
SERVER_START_TIMEOUT_SECONDS = 60
LAB_LOAD_TIMEOUT_SECONDS = 60
NOTEBOOK_TIMEOUT_SECONDS = 240  # open + run all cells of one notebook (each lesson aims at <= 30 s)
POLL_SECONDS = 0.25
EXPLORER_REDRAW_TIMEOUT_SECONDS = 20  # one redraw measures in < 1 s; generous for a loaded machine

# JupyterLab user settings for the check: attach every cell to the page (the default windowing leaves
# off-screen cells out of the DOM, so their outputs could not be inspected) and never fetch news.
LAB_USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
}


# --------------------------------------------------------------------------------------------------
# What to check, and whether we can


def find_chromium():
    """The path of a system Chromium, or None: /usr/bin/chromium, else ``chromium`` on PATH.

    >>> find_chromium()  # doctest: +SKIP
    '/usr/bin/chromium'
    """
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def browser_unavailable_reason():
    """Why the browser check cannot run on this machine, or None when it can.

    >>> browser_unavailable_reason()  # doctest: +SKIP
    'no Chromium: looked for /usr/bin/chromium and `chromium` on PATH (install it: apt-get install chromium)'
    """
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install 'playwright>=1.40')"
    if find_chromium() is None:
        return "no Chromium: looked for /usr/bin/chromium and `chromium` on PATH (install it: apt-get install chromium)"
    return None


def lesson_notebooks(environ=None):
    """The notebooks to check, sorted: ``notebooks/*.ipynb``, or the folder named by $COURSE_BROWSER_NOTEBOOKS.

    >>> [path.name for path in lesson_notebooks()][:1]  # doctest: +SKIP
    ['00_welcome.ipynb']
    """
    environ = os.environ if environ is None else environ
    folder = Path(environ.get(NOTEBOOKS_ENV_VAR) or ROOT / "notebooks")
    return sorted(folder.glob("*.ipynb"))


def expected_figure_count(notebook_path):
    """How many ``image/png`` outputs the notebook stores on disk: the figures a learner should see.

    >>> expected_figure_count("notebooks/00_welcome.ipynb")  # doctest: +SKIP
    0
    """
    notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
    )


# --------------------------------------------------------------------------------------------------
# What a run showed, and what is wrong with it


@dataclass
class CellResult:
    """What the page shows for one non-empty code cell after "Run All Cells"."""

    number: int  # 1-based position among all cells of the notebook
    first_line: str
    execution_count: int | None
    errors: list = field(default_factory=list)  # "ZeroDivisionError: division by zero", from error outputs
    stderr: list = field(default_factory=list)  # text of the visible stderr/error output areas
    images: list = field(default_factory=list)  # (natural width, natural height) of every rendered PNG
    expects_error: bool = False  # tagged "raises-exception": the error is part of the lesson (as in nbval)

    def label(self):
        return f"cell {self.number} ({self.first_line!r})"


@dataclass
class LabRun:
    """The outcome of running one notebook in JupyterLab."""

    notebook: str
    cells: list  # of CellResult
    kernel_status: str
    seconds: float
    timed_out: bool = False
    dialog: str | None = None  # text of a JupyterLab dialog that was open at the end (e.g. the kernel died)
    slider_moves: list = field(default_factory=list)  # of SliderMove, when the run was asked to move sliders


@dataclass
class ExplorerView:
    """What an explorer's output area (an ipywidgets Output) shows: its text, its figure and any stderr."""

    text: str
    image: str | None  # the figure's data URL (changes when the figure is redrawn)
    stderr: list


@dataclass
class SliderMove:
    """An explorer before and after a learner typed ``value`` into the slider labelled ``description``."""

    description: str
    value: float
    before: ExplorerView | None
    after: ExplorerView | None


def slider_problems(moves):
    """What went wrong when sliders were moved: no explorer, no redraw, unchanged text or figure, stderr.

    >>> view = ExplorerView("chi_1 = 2.38", "data:a", [])
    >>> slider_problems([SliderMove("sigma_w", 2.0, view, ExplorerView("chi_1 = 1.36", "data:b", []))])
    []
    >>> slider_problems([SliderMove("sigma_w", 2.0, view, view)])
    ["moving 'sigma_w' to 2.0 did not change the printed text", "moving 'sigma_w' to 2.0 did not redraw the figure"]
    """
    found = []
    for move in moves:
        what = f"moving {move.description!r} to {move.value}"
        if move.before is None or move.after is None:
            found.append(f"{what}: no explorer output on the page")
            continue
        if move.after.text == move.before.text:
            found.append(f"{what} did not change the printed text")
        if move.after.image is None or move.after.image == move.before.image:
            found.append(f"{what} did not redraw the figure")
        found += [f"{what} wrote to stderr: {_last_line(text)}" for text in move.after.stderr]
    return found


def problems(run, expected_figures):
    """Everything a learner would see go wrong in ``run``, as readable sentences (empty: all good).

    >>> ok = CellResult(number=1, first_line="print(1)", execution_count=1)
    >>> problems(LabRun("x.ipynb", [ok], "idle", 1.0), expected_figures=0)
    []
    >>> bad = CellResult(number=2, first_line="1/0", execution_count=2, errors=["ZeroDivisionError: oops"])
    >>> problems(LabRun("x.ipynb", [ok, bad], "idle", 1.0), expected_figures=0)
    ["cell 2 ('1/0') raised ZeroDivisionError: oops"]
    """
    found = []
    if run.timed_out:
        found.append(f"not finished after {run.seconds:.0f} s (kernel {run.kernel_status})")
    if run.dialog:
        found.append(f"JupyterLab showed a dialog: {' '.join(run.dialog.split())[:300]}")
    for cell in run.cells:
        if not cell.expects_error:
            found += [f"{cell.label()} raised {error}" for error in cell.errors]
        if not cell.errors:
            found += [
                f"{cell.label()} shows a traceback on stderr: {_last_line(text)}"
                for text in cell.stderr
                if "Traceback" in text
            ]
        broken = [size for size in cell.images if 0 in size]
        if broken:
            found.append(f"{cell.label()} shows {len(broken)} image(s) that did not load")
    not_run = [cell.number for cell in run.cells if cell.execution_count is None]
    if not_run:
        found.append(f"{len(not_run)} code cell(s) never ran: cells {', '.join(map(str, not_run))}")
    rendered = sum(0 not in size for cell in run.cells for size in cell.images)
    if rendered < expected_figures:
        found.append(f"{rendered} figure(s) rendered, but the notebook stores {expected_figures}")
    return found


def _last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


# --------------------------------------------------------------------------------------------------
# The Jupyter server


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JupyterLabServer:
    """``jupyter lab`` on 127.0.0.1 serving ``root_dir``; everything it writes goes to a temporary folder.

    Its kernel is this Python (``sys.executable``), whatever other kernels the machine has. Use it as a
    context manager: leaving the block shuts the server and its kernels down, killing them if need be.
    """

    def __init__(self, root_dir):
        self.root_dir = Path(root_dir)
        self.token = secrets.token_hex(16)
        self.port = None
        self.process = None
        self._home = None  # tempfile.TemporaryDirectory: config, data, runtime, IPython dirs, the log

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self):
        return Path(self._home.name) / "jupyter.log"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        self._home = tempfile.TemporaryDirectory(prefix="course-browser-lab-")
        home = Path(self._home.name)
        self.port = free_port()
        env = self._environment(home)
        self._write_config(Path(env["JUPYTER_CONFIG_DIR"]))
        self._write_kernelspec(Path(env["JUPYTER_DATA_DIR"]))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab"],
                cwd=self.root_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a stuck server can be killed whole
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _environment(self, home):
        env = dict(os.environ)
        for variable in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_PREFER_ENV_PATH"):
            env.pop(variable, None)
        for variable, name in [
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("IPYTHONDIR", "ipython"),
        ]:
            env[variable] = str(home / name)
            (home / name).mkdir()
        # Our python3 kernelspec (in JUPYTER_PATH, searched first) wins over the machine's and the venv's.
        env["JUPYTER_PATH"] = env["JUPYTER_DATA_DIR"]
        # The served notebooks may be copies outside the repository: let them import course_utils.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env

    def _write_config(self, config_dir):
        config = {
            "ServerApp": {
                "ip": "127.0.0.1",
                "port": self.port,
                "port_retries": 0,
                "open_browser": False,
                "allow_root": True,  # CI containers run as root
                "root_dir": str(self.root_dir),
                "terminals_enabled": False,
            },
            "IdentityProvider": {"token": self.token},
            "LabApp": {
                "expose_app_in_browser": True,  # window.jupyterapp: run JupyterLab commands from the test
                "news_url": None,
                "extension_manager": "readonly",
            },
        }
        for name in ("jupyter_server_config.json", "jupyter_lab_config.json"):
            (config_dir / name).write_text(json.dumps(config, indent=1))
        settings_dir = config_dir / "lab" / "user-settings"
        for plugin, settings in LAB_USER_SETTINGS.items():
            package, plugin_name = plugin.rsplit("/", 1)
            path = settings_dir / package / f"{plugin_name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))

    @staticmethod
    def _write_kernelspec(data_dir):
        spec_dir = data_dir / "kernels" / "python3"
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))

    def _wait_until_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with code {self.process.returncode} while starting:\n{self.log_tail()}"
                )
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (OSError, urllib.error.URLError):
                time.sleep(POLL_SECONDS)
        raise TimeoutError(
            f"jupyter lab did not answer on {self.base_url} within {SERVER_START_TIMEOUT_SECONDS} s:\n{self.log_tail()}"
        )

    def api(self, method, path, timeout=10):
        """Call the server's REST API and return the decoded JSON answer (None when empty)."""
        request = urllib.request.Request(
            self.base_url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, TypeError):
            return "(no log)"

    def shut_down_kernels(self):
        """Shut down every kernel the server runs (between notebooks, to free memory)."""
        if self.process.poll() is not None:
            raise RuntimeError(f"jupyter lab died (exit code {self.process.returncode}):\n{self.log_tail()}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def stop(self):
        """Shut the server and its kernels down; kill whatever is left after a grace period."""
        if self.process is not None and self.process.poll() is None:
            started_by_us = _descendants(self.process.pid)
            try:
                self.api("POST", "/api/shutdown", timeout=5)  # stops the kernels, then the server
                self.process.wait(timeout=20)
            except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
                self._kill_group(signal.SIGTERM, wait=10)
                self._kill_group(signal.SIGKILL, wait=5)
            for pid, command in started_by_us.items():  # kernels run in their own sessions: end survivors
                _kill_if_still(pid, command)
        if self._home is not None:
            self._home.cleanup()
            self._home = None

    def _kill_group(self, sig, wait):
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)  # the group start_new_session made for this server
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass


def _descendants(pid):
    """{process id: command line} of every live descendant of ``pid`` (Linux /proc; empty elsewhere)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, stack = {}, [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found[child] = _command_line(child)
            stack.append(child)
    return found


def _command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def _kill_if_still(pid, command):
    """SIGKILL ``pid`` if it still runs ``command`` (so a recycled process id is left alone)."""
    if command is None or _command_line(pid) != command:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------------------------------
# The browser

# The JavaScript below talks to JupyterLab through window.jupyterapp (LabApp.expose_app_in_browser).
# The notebook under test is kept in window.__courseNotebook between calls. Playwright's evaluate() has
# no timeout of its own, so every promise that could hang is raced against one.

_WITH_TIMEOUT = """const withTimeout = (promise, seconds, what) => Promise.race([promise, new Promise(
        (_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${seconds} s`)), seconds * 1000))]);"""

_LAB_RESTORED_JS = """async (seconds) => {
    WITH_TIMEOUT
    await withTimeout(window.jupyterapp.restored, seconds, 'JupyterLab restoring its layout');
    window.jupyterapp.shell.collapseLeft();  // no file browser: the notebook gets the whole width
}""".replace("WITH_TIMEOUT", _WITH_TIMEOUT)

_OPEN_NOTEBOOK_JS = """async ({path, seconds}) => {
    WITH_TIMEOUT
    const app = window.jupyterapp;
    const opening = (async () => {
        const widget = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
        await widget.context.ready;
        return widget;
    })();
    const widget = await withTimeout(opening, seconds, `JupyterLab opening ${path}`);
    app.shell.activateById(widget.id);
    window.__courseNotebook = widget;
}""".replace("WITH_TIMEOUT", _WITH_TIMEOUT)

_RUN_ALL_JS = """async () => {
    const app = window.jupyterapp;
    const widget = window.__courseNotebook;
    app.shell.activateById(widget.id);
    await app.commands.execute('notebook:clear-all-cell-outputs');
    void app.commands.execute('notebook:run-all-cells');  // resolves only when done: poll instead
}"""

# A code cell is settled when it has an execution count and no [*] prompt. The run is over when the
# kernel is idle and every cell is settled, or an error stopped the run (the cells after it stay [ ]).
_STATE_JS = """() => {
    const widget = window.__courseNotebook;
    const kernel = widget.sessionContext.session?.kernel;
    const cells = widget.content.widgets.filter(
        cell => cell.model.type === 'code' && cell.model.sharedModel.getSource().trim() !== '');
    const expectsError = cell => (cell.model.getMetadata('tags') ?? []).includes('raises-exception');
    const running = cell => cell.model.executionState === 'running'
        || (cell.promptNode?.textContent ?? '').includes('*');
    const errors = cells.filter(cell => !expectsError(cell)).filter(cell => {
        for (let i = 0; i < cell.model.outputs.length; i++) {
            if (cell.model.outputs.get(i).type === 'error') return true;
        }
        return false;
    }).length;
    const dialog = document.querySelector('.jp-Dialog');
    return {
        kernel: kernel ? kernel.status : 'no kernel',
        unsettled: cells.filter(cell => cell.model.executionCount === null || running(cell)).length,
        running: cells.filter(running).length,
        errors,
        dialog: dialog ? dialog.innerText : null,
    };
}"""

_REPORT_JS = """async () => {
    WITH_TIMEOUT
    const widget = window.__courseNotebook;
    const images = Array.from(widget.content.node.querySelectorAll('.jp-OutputArea-output img'));
    const loading = Promise.all(images.map(img => img.decode().catch(() => null)));
    await withTimeout(loading, 10, 'loading images').catch(() => null);  // unloaded ones report size 0
    const report = [];
    widget.content.widgets.forEach((cell, index) => {
        const source = cell.model.sharedModel.getSource();
        if (cell.model.type !== 'code' || source.trim() === '') return;
        const errors = [];
        for (let i = 0; i < cell.model.outputs.length; i++) {
            const output = cell.model.outputs.get(i).toJSON();
            if (output.output_type === 'error') errors.push(`${output.ename}: ${output.evalue}`);
        }
        const shown = selector => Array.from(cell.node.querySelectorAll(selector));
        report.push({
            number: index + 1,
            first_line: source.trim().split('\\n')[0].slice(0, 80),
            execution_count: cell.model.executionCount ?? null,
            expects_error: (cell.model.getMetadata('tags') ?? []).includes('raises-exception'),
            errors,
            stderr: shown('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                .map(node => node.innerText),
            images: shown('.jp-OutputArea-output[data-mime-type="image/png"] img')
                .map(img => [img.naturalWidth, img.naturalHeight]),
        });
    });
    return report;
}""".replace("WITH_TIMEOUT", _WITH_TIMEOUT)

_CLOSE_NOTEBOOK_JS = """async () => {
    WITH_TIMEOUT
    const widget = window.__courseNotebook;
    window.__courseNotebook = null;
    if (!widget || widget.isDisposed) return;
    await withTimeout(widget.sessionContext.shutdown(), 10, 'kernel shutdown').catch(() => null);
    widget.context.model.dirty = false;  // close without saving (and without a "save?" dialog)
    widget.dispose();
}""".replace("WITH_TIMEOUT", _WITH_TIMEOUT)

# The first explorer (an ipywidgets Output area) of the notebook: its text, figure and stderr.
_EXPLORER_JS = """() => {
    const area = window.__courseNotebook.content.node.querySelector('.widget-output');
    if (!area) return null;
    const image = area.querySelector('img');
    return {
        text: area.innerText,
        image: image ? image.src : null,
        stderr: Array.from(area.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
            .map(node => node.innerText),
    };
}"""

# How much taller than its scrolling area the notebook's content is, after scrolling to the top.
_HIDDEN_HEIGHT_JS = """() => {
    const notebook = window.__courseNotebook.content;
    const scroller = notebook.outerNode ?? notebook.node;
    const content = scroller.querySelector('.jp-WindowedPanel-inner') ?? scroller;
    scroller.scrollTop = 0;
    return content.scrollHeight - scroller.clientHeight;
}"""


class LabBrowser:
    """A headless system Chromium, driven by Playwright, with JupyterLab loaded from ``server``."""

    def __init__(self, server, chromium_path):
        self.server = server
        self.chromium_path = chromium_path
        self._playwright = self._browser = self.page = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        from playwright.sync_api import sync_playwright

        try:
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=self.chromium_path, args=list(CHROMIUM_ARGS)
            )
            self.page = self._browser.new_page(viewport=VIEWPORT)
            self.page.set_default_timeout(LAB_LOAD_TIMEOUT_SECONDS * 1000)  # page loads, waits, screenshots
            self.load_lab()
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None

    def load_lab(self):
        """(Re)load JupyterLab and wait until it has restored its layout."""
        self.page.goto(f"{self.server.base_url}/lab?token={self.server.token}")
        self.page.wait_for_function("() => window.jupyterapp !== undefined")
        self.page.evaluate(_LAB_RESTORED_JS, LAB_LOAD_TIMEOUT_SECONDS)

    def run_notebook(self, path, screenshot=None, timeout=NOTEBOOK_TIMEOUT_SECONDS, sliders=()):
        """Open ``path`` (relative to the server's root), Run All Cells, and report what the page shows.

        Then, for each ``(description, value)`` in ``sliders``, types the value into the explorer's slider
        of that label and records the explorer before and after (``LabRun.slider_moves``). Saves a
        screenshot of the whole notebook to ``screenshot`` if given. Closes the notebook without saving
        and shuts its kernel down, whatever happens.
        """
        start = time.monotonic()
        try:
            self.page.evaluate(_OPEN_NOTEBOOK_JS, {"path": str(path), "seconds": LAB_LOAD_TIMEOUT_SECONDS})
            state = self._wait_for_idle_kernel(start + timeout)
            if state["kernel"] == "idle":
                self.page.evaluate(_RUN_ALL_JS)
                state = self._wait_until_run_is_over(start + timeout)
            timed_out = time.monotonic() >= start + timeout
            cells = [CellResult(**cell) for cell in self.page.evaluate(_REPORT_JS)]
            moves = [] if timed_out else [self.move_slider(*slider) for slider in sliders]
            if screenshot is not None:
                self._screenshot_notebook(Path(screenshot))
            return LabRun(
                notebook=str(path),
                cells=cells,
                kernel_status=state["kernel"],
                seconds=time.monotonic() - start,
                timed_out=timed_out,
                dialog=state["dialog"],
                slider_moves=moves,
            )
        finally:
            self._close_notebook()

    def _state(self):
        return self.page.evaluate(_STATE_JS)

    def _explorer_view(self):
        view = self.page.evaluate(_EXPLORER_JS)
        return None if view is None else ExplorerView(**view)

    def move_slider(self, description, value, timeout=EXPLORER_REDRAW_TIMEOUT_SECONDS):
        """Type ``value`` into the readout of the slider labelled ``description``, as a learner can, and wait
        for the explorer to redraw (a new text and a new figure). Returns a ``SliderMove``."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        before = self._explorer_view()
        if before is None:
            return SliderMove(description, value, None, None)
        readout = self.page.locator(f'.widget-slider:has(.widget-label:text-is("{description}")) .widget-readout').first
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(str(value))
        self.page.keyboard.press("Enter")
        try:
            self.page.wait_for_function(  # a new text *and* a new figure: clear_output empties both first
                f"""(before) => {{
                    const now = ({_EXPLORER_JS})();
                    return now && now.text.trim() !== '' && now.text !== before.text
                        && now.image !== null && now.image !== before.image;
                }}""",
                arg={"text": before.text, "image": before.image},
                timeout=timeout * 1000,
            )
        except PlaywrightTimeoutError:
            pass  # reported by slider_problems as an unchanged explorer
        return SliderMove(description, value, before, self._explorer_view())

    def _wait_for_idle_kernel(self, deadline):
        state = self._state()
        while state["kernel"] not in ("idle", "dead") and not state["dialog"] and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            state = self._state()
        return state

    def _wait_until_run_is_over(self, deadline):
        # The run must look over on two polls in a row: between two cells the kernel is idle for a moment.
        over_before = False
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            state = self._state()
            if state["dialog"] or state["kernel"] in ("dead", "unknown"):
                return state
            over = (
                state["kernel"] == "idle" and state["running"] == 0 and (state["unsettled"] == 0 or state["errors"] > 0)
            )
            if over and over_before:
                return state
            over_before = over
        return self._state()

    def _screenshot_notebook(self, path):
        """Save the whole notebook as one image: grow the window to the notebook's height for the shot."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        path.parent.mkdir(parents=True, exist_ok=True)
        hidden = self.page.evaluate(_HIDDEN_HEIGHT_JS)
        height = min(VIEWPORT["height"] + max(hidden, 0), MAX_SCREENSHOT_HEIGHT)
        self.page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        try:
            self.page.wait_for_function(f"() => ({_HIDDEN_HEIGHT_JS})() <= 0", timeout=5000)
        except PlaywrightTimeoutError:  # taller than MAX_SCREENSHOT_HEIGHT: keep what fits
            pass
        try:
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(VIEWPORT)

    def _close_notebook(self):
        try:
            self.page.evaluate(_CLOSE_NOTEBOOK_JS)
            if self.page.query_selector(".jp-Dialog") is not None:
                self.load_lab()  # a dialog is stuck open (e.g. "kernel died"): start from a fresh page
        finally:
            self.server.shut_down_kernels()
