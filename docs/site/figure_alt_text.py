"""Sphinx extension: every notebook figure keeps the alt text its notebook stored.

``course_utils.figures.show`` stores a figure's description in the output's metadata
(``metadata["image/png"]["alt"]``); myst-nb renders the image without it. After myst-nb has
read a notebook, this copies each description onto the matching image node, in order.
"""

from docutils import nodes

from course_utils.figures import stored_alt_texts


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
