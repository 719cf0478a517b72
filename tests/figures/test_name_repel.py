"""The names of extreme points (hlm.figures.diagnostics.name_extremes): a repel step keeps them
apart from each other and off the drawn points (the notes' 7172/8854 overlap in the BLUP QQ plot)."""
import numpy as np
import pytest
from matplotlib.text import Text

from hlm.figures._base import new_figure, styled
from hlm.figures.diagnostics import qq_panel


@styled
def _qq(values, names):
    fig, axes = new_figure(width=3.2, height=3.0)
    axes[0, 0].set_ylabel("standardized BLUP")
    qq_panel(axes[0, 0], values, names)
    return fig, axes[0, 0]


def _boxes(fig, ax):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    return [Text.get_window_extent(t, r) for t in ax.texts]  # the name itself, not its leader line


@pytest.mark.parametrize("tail", [[-2.6, -2.4, -2.3], [-2.6, -2.55, -2.5], [2.2, 2.25, -2.6]])
def test_names_do_not_overlap_each_other_or_points(tail):
    rng = np.random.default_rng(3)
    v = np.r_[rng.normal(0, 0.8, 37), tail]
    names = [f"{7000 + i}" for i in range(v.size)]
    fig, ax = _qq(v, names)
    boxes = _boxes(fig, ax)
    assert len(boxes) == 3
    for i in range(3):
        for j in range(i + 1, 3):
            assert not boxes[i].overlaps(boxes[j]), (i, j)
    line = ax.get_lines()[0]  # the points of the QQ plot
    xy = line.get_transform().transform(line.get_xydata())
    for b in boxes:
        inside = (xy[:, 0] > b.x0) & (xy[:, 0] < b.x1) & (xy[:, 1] > b.y0) & (xy[:, 1] < b.y1)
        assert not inside.any()
