"""Show a figure with a description: the alt text a screen reader reads and the course site puts on ``<img alt>``.

``show(fig, alt)`` replaces ``plt.show()`` in the lessons. The description is built from the numbers the
cell computed, so it says what the figure shows, not just what kind of plot it is; it is stored with the PNG
in the notebook's output metadata (``metadata["image/png"]["alt"]``), which JupyterLab and the course site
(``docs/site/figure_alt_text.py``) read.

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 10, 100])
    >>> show(fig, "Gradient norm per layer, rising 100-fold from layer 0 to layer 2.")
    <IPython.core.display.Image object>
"""

import io

import matplotlib.pyplot as plt
import nbformat
from IPython.display import Image, display


def show(fig, alt):
    """Display ``fig`` as a PNG carrying the alt text ``alt`` (one or two sentences), then close it."""
    if not isinstance(alt, str) or len(alt.strip()) < 10:
        raise ValueError(f"alt should describe what the figure shows in a sentence, got {alt!r}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")  # what Jupyter's inline backend does
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png", alt=alt.strip()))


def stored_alt_texts(path):
    """The alt text of every PNG output of the notebook at ``path``, in order (``None`` where none is stored).

    What the course site puts on each figure's ``<img alt>``, and what its test looks for.
    """
    notebook = nbformat.read(path, as_version=4)
    return [
        output.get("metadata", {}).get("image/png", {}).get("alt")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
