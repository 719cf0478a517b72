"""Shared pieces of the figures: style, colours, layout, cluster tables, saving.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state),
inside the book's style (``hlm/hlm.mplstyle``), and saved deterministically:
fixed ``svg.hashsalt``, no date or software version in the metadata.
"""
from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from hlm import ellipse as ell
from hlm.sample import select_sample, sorted_ids
from hlm.errors import DataError
from hlm.figures.registry import MAX_CLUSTERS, SUBSET, subset_seed

STYLE = Path(__file__).resolve().parents[1] / "hlm.mplstyle"

# Okabe-Ito colours, chosen to survive greyscale printing and colour blindness.
BLUE, VERMILLION, GREEN, PURPLE = "#0072B2", "#D55E00", "#009E73", "#CC79A7"
ORANGE, SKY, BLACK, GREY = "#E69F00", "#56B4E9", "#000000", "#7f7f7f"
MAGENTA = "#B8338F"
W_COLORS = (BLUE, VERMILLION)          # reference level, other level
SEX_COLORS = (PURPLE, SKY, GREY)       # female, male, other
PAGE_WIDTH = 6.5                       # inches: the PDF text block


def styled(func):
    """Run a figure function inside the book's style, so sizes are fixed at creation."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(fname=str(STYLE)):
            return func(*args, **kwargs)
    return wrapper


def new_figure(width: float = PAGE_WIDTH, height: float = 4.2, nrows: int = 1, ncols: int = 1,
               **subplot_kw):
    """A Figure (not registered with pyplot) and its axes, with constrained layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def save_figure(fig: Figure, svg: str | Path | None = None, png: str | Path | None = None) -> None:
    """Write the figure as SVG and/or PNG, byte-identical for identical input."""
    # figures of a sequence (the simulated example) keep their full canvas so they line up
    bbox = None if getattr(fig, "hlm_fixed_canvas", False) else "tight"
    with mpl.rc_context(fname=str(STYLE)):
        if svg is not None:
            fig.savefig(svg, format="svg", bbox_inches=bbox, metadata={"Date": None, "Creator": None})
        if png is not None:
            fig.savefig(png, format="png", bbox_inches=bbox, metadata={"Software": None})


# ---------------------------------------------------------------- roles and levels

def w_color(level, levels) -> str:
    return W_COLORS[[str(lv) for lv in levels].index(str(level)) % 2]


def w_title(profile, level) -> str:
    return f"{profile.label('w')}: {level}"


def x_name(profile) -> str:
    return profile.label("x")


def y_name(profile) -> str:
    return profile.label("y")


def cluster_ids(students: pd.DataFrame, profile) -> pd.Series:
    return students[profile.cluster].astype(str)


def cluster_table(students: pd.DataFrame, profile) -> pd.DataFrame:
    """One row per cluster in the informative-id order: id, sid, w, n, x/y means and ranges."""
    df = pd.DataFrame({"id": cluster_ids(students, profile), "x": students[profile.x].to_numpy(float),
                       "y": students[profile.y].to_numpy(float),
                       "w": students[profile.w].astype(object).to_numpy()})
    df["sid"] = students["sid"].astype(str).to_numpy() if "sid" in students else df["id"]
    g = df.groupby("id", sort=False)
    tab = pd.DataFrame({"sid": g["sid"].first(), "w": g["w"].first(), "n": g.size(),
                        "mean_x": g["x"].mean(), "mean_y": g["y"].mean(),
                        "xmin": g["x"].min(), "xmax": g["x"].max()})
    tab.index.name = "id"
    order = _sid_order(students)
    if order is not None:
        rank = {s: i for i, s in enumerate(order)}
        tab = tab.assign(_r=tab["sid"].map(rank)).sort_values(["_r"], kind="stable").drop(columns="_r")
    return tab.reset_index()


def drawn(ids, profile) -> np.ndarray:
    """Which of the clusters `ids` a per-cluster figure draws, as a boolean mask: all of them up
    to MAX_CLUSTERS; above, the SUBSET that a profile's `sample: {random: SUBSET, seed: S}` draws
    from the ids in sorted order, with S = subset_seed(profile): the same in every figure."""
    if len(ids) <= MAX_CLUSTERS:
        return np.ones(len(ids), dtype=bool)
    ids = pd.Series(ids, dtype=str).reset_index(drop=True)
    sample = {"random": SUBSET, "seed": subset_seed(profile)}
    return ids.isin(select_sample(sorted_ids(ids), sample, profile)).to_numpy()


def _sid_order(students: pd.DataFrame):
    if "sid" in students and isinstance(students["sid"].dtype, pd.CategoricalDtype):
        return [str(s) for s in students["sid"].cat.remove_unused_categories().cat.categories]
    return None


def is_other(level, levels) -> bool:
    return str(level) == str(levels[1]) if len(levels) > 1 else False


# ---------------------------------------------------------------- fit access

class MissingInput(DataError, KeyError):
    """A fit or key a figure needs is absent (a DataError for the CLI, a KeyError for code)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def need(fits: dict, model: str, *keys):
    """fits[model][k1][k2]..., with an error naming what is missing."""
    if fits is None or model not in fits:
        raise MissingInput(f"this figure needs the fit '{model}' (data/fits/<dataset>/{model}.json)")
    obj = fits[model]
    path = model
    for k in keys:
        path += f".{k}"
        if not isinstance(obj, dict) or k not in obj:
            raise MissingInput(f"the fit JSON lacks '{path}'; rerun the model stage (make book)")
        obj = obj[k]
    return obj


def by_level(block: dict, level):
    """by_w[level] with the level matched as a string."""
    for k, v in block.items():
        if str(k) == str(level):
            return v
    raise KeyError(f"no entry for level {level!r} (have {list(block)})")


def fixef_terms(fit: dict, profile) -> dict:
    """Names of the fixed-effect terms for intercept, x, w and x:w (None when absent)."""
    names = list(fit["fixef"])
    x, w = profile.x, profile.w
    out = {"int": "(Intercept)" if "(Intercept)" in names else None,
           "x": x if x in names else None, "w": None, "xw": None}
    for nm in names:
        parts = nm.split(":")
        if len(parts) == 1 and nm.startswith(w) and nm != x:
            out["w"] = nm
        elif len(parts) == 2 and any(p == x for p in parts) and any(p.startswith(w) and p != x for p in parts):
            out["xw"] = nm
    return out


def mixed_line(fit: dict, profile, other: bool, ranef: dict | None = None) -> tuple[float, float]:
    """(intercept, slope) of a random-slope model's line for w = reference/other (+ ranef)."""
    fe, t = fit["fixef"], fixef_terms(fit, profile)
    b0 = fe[t["int"]] + (fe[t["w"]] if other and t["w"] else 0.0)
    b1 = fe[t["x"]] + (fe[t["xw"]] if other and t["xw"] else 0.0)
    if ranef:
        b0 += ranef.get("(Intercept)", 0.0)
        b1 += ranef.get(profile.x, 0.0)
    return float(b0), float(b1)


# ---------------------------------------------------------------- drawing helpers

def draw_ellipse(ax, e: ell.Ellipse, **kw):
    p = e.points()
    kw.setdefault("lw", 1.4)
    return ax.plot(p[:, 0], p[:, 1], **kw)[0]


def _fit_label(ax, text: str) -> str:
    """Wrap an axis label to the width of its panel (long role labels in narrow panels)."""
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    return textwrap.fill(text, max(24, int(width_in * 14)))


def beta_axes(ax, profile, diff: bool = False, levels=None):
    if diff and levels:
        ax.set_xlabel(_fit_label(ax, f"difference in intercept ({levels[1]} − {levels[0]})"))
        ax.set_ylabel(_fit_label(ax, f"difference in {x_name(profile)} slope"))
    else:
        ax.set_xlabel(_fit_label(ax, f"intercept ({y_name(profile)} at {x_name(profile)} = 0)"))
        ax.set_ylabel(_fit_label(ax, f"slope of {x_name(profile)}"))


def origin_cross(ax):
    ax.axhline(0, color=GREY, lw=0.8, zorder=1)
    ax.axvline(0, color=GREY, lw=0.8, zorder=1)


def abline(ax, intercept, slope, xlim, **kw):
    xs = np.asarray(xlim, dtype=float)
    return ax.plot(xs, intercept + slope * xs, **kw)[0]


def ls_line(x, y) -> tuple[float, float]:
    """Least-squares (intercept, slope) of a panel, as lattice's panel.lmline draws it."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.size < 2 or np.ptp(x) == 0:
        return float(np.mean(y)) if y.size else np.nan, np.nan
    X = np.column_stack([np.ones_like(x), x])
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    return float(b[0]), float(b[1])


DENSE = 2500  # point clouds larger than this are rasterized inside the SVG (PNG is unaffected)


def dense(n: int) -> bool:
    """Whether a cloud of n points should be rasterized so SVGs stay small for the web."""
    return int(n) > DENSE


def grid_shape(k: int, max_cols: int = 8) -> tuple[int, int]:
    """(rows, cols) for k small panels on a page."""
    cols = min(max_cols, max(1, int(np.ceil(np.sqrt(k * 1.4)))))
    return int(np.ceil(k / cols)), cols
