"""Execute a notebook headlessly in a fresh kernel of this Python environment.

>>> run = execute_notebook(Path("notebooks/00_welcome.ipynb"))   # doctest: +SKIP
>>> run.seconds, run.peak_memory_mb                              # doctest: +SKIP
(9.1, 610.0)
"""

import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("notebooks", "solutions", "exercises")
CELL_TIMEOUT_SECONDS = 600


@dataclass
class NotebookRun:
    notebook: nbformat.NotebookNode
    seconds: float  # wall time, kernel start and shutdown included
    peak_memory_mb: float | None  # the kernel's peak resident memory (Linux only)


def all_notebooks(dirs=NOTEBOOK_DIRS):
    """Every committed notebook, in teaching order within each folder."""
    return [path for folder in dirs for path in sorted((ROOT / folder).glob("*.ipynb"))]


def _peak_memory_mb(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):  # high-water mark of resident memory, in kB
            return int(line.split()[1]) / 1024
    return None


class _MeasuringClient(NotebookClient):
    """A NotebookClient that reads its kernel's peak memory just before shutting it down."""

    peak_memory_mb = None

    async def _async_cleanup_kernel(self):
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if process is not None:
            self.peak_memory_mb = _peak_memory_mb(process.pid)
        await super()._async_cleanup_kernel()


def execute_notebook(path):
    """Run every cell of the notebook at ``path`` (in its own folder) and return the executed notebook."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = _MeasuringClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        record_timing=False,  # no per-cell timestamps in stored notebooks: re-running changes only what changed
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return NotebookRun(notebook, time.perf_counter() - start, client.peak_memory_mb)
