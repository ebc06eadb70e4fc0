"""Sphinx configuration of the course site, built by ``python -m tools.build_site`` (see that module).

The notebooks are rendered from their stored outputs (never re-executed: ``pytest --nbval`` already proves
them); MathJax is served from the site itself (sphinx-mathjax-offline), so the site works offline.
"""

project = "Taming Exploding Gradients"
author = "the course's authors"
copyright = "the course's authors, MIT licence"

extensions = ["myst_nb", "sphinx-mathjax-offline", "figure_alt_text"]
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

nb_execution_mode = "off"  # render the stored outputs
nb_output_stderr = "show"
# The explorers' widget state would make myst-nb load require.js and the widget embedder from CDNs. They need a
# live kernel anyway (the lesson says so), so the site shows no widget and fetches nothing from outside.
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]  # widget views (the explorers) have no static rendering

html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_download_button": False,  # no external services and nothing to fetch
    "use_fullscreen_button": False,
}
html_context = {"default_mode": "light"}
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_show_sourcelink = False
html_last_updated_fmt = None
