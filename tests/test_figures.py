"""Every figure the course shows carries alt text, and the plot style is colour-blind safe."""

from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from course_utils.figures import show, stored_alt_texts
from course_utils.notebook_setup import LINE_STYLES, OKABE_ITO, PLOT_STYLE

ROOT = Path(__file__).resolve().parent.parent
STORED = sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("solutions/*.ipynb"))


@pytest.mark.parametrize("notebook", STORED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_stored_figure_has_alt_text(notebook):
    missing = [number for number, alt in enumerate(stored_alt_texts(notebook), start=1) if not alt]
    assert not missing, (
        f"{notebook.name}: figures {missing} (counting from 1) have no alt text: show them with figures.show"
    )


def test_show_stores_the_alt_text_with_the_png(monkeypatch):
    shown = []
    monkeypatch.setattr("course_utils.figures.display", shown.append)
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    show(fig, "A rising line from 1 to 2.")
    data, metadata = shown[0]._repr_png_()
    assert data and metadata["alt"] == "A rising line from 1 to 2."
    assert not plt.get_fignums(), "show closes the figure, so it is not drawn twice"


@pytest.mark.parametrize("alt", [None, "", "plot"])
def test_show_wants_a_real_description(alt):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="alt should describe"):
        show(fig, alt)
    plt.close(fig)


def test_each_colour_of_the_palette_has_its_own_line_style():
    cycle = list(PLOT_STYLE["axes.prop_cycle"])
    assert [entry["color"] for entry in cycle] == OKABE_ITO
    assert len({str(entry["linestyle"]) for entry in cycle}) == len(cycle) == len(LINE_STYLES)
