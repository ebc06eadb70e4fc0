"""Sphinx extension: every notebook figure keeps the alt text its notebook stored.

``course_utils.figures.show`` stores a figure's description in the output's metadata
(``metadata["image/png"]["alt"]``); myst-nb renders the image without it. After myst-nb has
read a notebook, this copies each description onto the matching image node, in order.
"""

import nbformat
from docutils import nodes


def stored_alt_texts(path):
    """The alt text of every PNG output of the notebook at ``path``, in order (None where none is stored)."""
    notebook = nbformat.read(path, as_version=4)
    return [
        output.get("metadata", {}).get("image/png", {}).get("alt")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]


def add_alt_texts(app, doctree):
    path = app.env.doc2path(app.env.docname)
    if path.suffix != ".ipynb":
        return
    images = [node for node in doctree.findall(nodes.image) if str(node.get("uri", "")).endswith(".png")]
    for image, alt in zip(images, stored_alt_texts(path)):
        if alt:
            image["alt"] = alt


def setup(app):
    app.connect("doctree-read", add_alt_texts)
    return {"parallel_read_safe": True}
