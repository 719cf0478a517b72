"""The simulated example (the notes' Figs 8-17), built up one element at a time.

All ten figures draw the same simulated cluster (hlm.simulate.book_example: the
notes' parameters and design on the notes' sample, the dataset's own design and
moment estimates elsewhere; a fixed seed) on fixed axes, so read in sequence they form a
slide show: four in data space (mean line, true line, data, least-squares line),
six in beta space (mean point, ellipse of G, true point, sampling ellipse,
estimate, ellipse of V_j = G + sigma^2 (X'X)^-1).
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from hlm import ellipse as ell
from hlm.figures._base import (BLACK, BLUE, GREEN, GREY, PURPLE, VERMILLION, abline, draw_ellipse,
                               new_figure, styled)
from hlm.simulate import NOTES_SEED, NOTES_X_RANGE, Example, SimulatedSchool, book_example, simulate_school

DATA_STAGES = ("mean_line", "true_line", "data", "ls_line")
BETA_STAGES = ("beta_mean", "G_ellipse", "true_beta", "sampling_ellipse", "beta_hat", "V_ellipse")


def _example(students, profile, seed: int) -> Example:
    """The book's example for this dataset; the notes' when there is no data to follow."""
    if students is None or profile is None:
        s = simulate_school(seed=seed)
        return Example("notes", s, NOTES_X_RANGE, 0, (s.n, s.n))
    return book_example(students, profile, seed=seed)


def _labels(profile, e: Example | None = None):
    if profile is None or (e is not None and e.source == "notes" and e.reason):
        return "x", "y"          # the notes' example on data it cannot follow: abstract axes
    return profile.label("x"), profile.label("y")


def _line(a: float, b: float, digits: int) -> str:
    """'12 + 2x' or '16.3 − 0.5x' (never '+ -0.5x')."""
    fmt = f"{{:.{digits}f}}"
    head = fmt.format(a).replace("-", "−")
    return f"{head} {'−' if b < 0 else '+'} {fmt.format(abs(b))}x"


def _unit(profile) -> str:
    return profile.cluster_label if profile is not None else "cluster"


def _data_limits(s: SimulatedSchool, x_range=NOTES_X_RANGE):
    xs = np.array(x_range, dtype=float)
    ys = np.concatenate([s.y, s.gamma[0] + s.gamma[1] * xs, s.beta[0] + s.beta[1] * xs,
                         s.beta_hat[0] + s.beta_hat[1] * xs])
    pad = 0.05 * np.ptp(ys)
    return xs, (ys.min() - pad, ys.max() + pad)


def _data_figure(stage: str, profile, seed: int, students=None) -> Figure:
    e = _example(students, profile, seed)
    s = e.cluster
    k = DATA_STAGES.index(stage)
    xs, ylim = _data_limits(s, e.x_range)
    xl, yl = _labels(profile, e)
    # the notes' round parameters print without decimals; estimates from data with two
    d0, d1 = (0, 1) if e.source == "notes" else (2, 2)
    fig, axes = new_figure(width=5.6, height=3.9)
    ax = axes[0, 0]
    g0, g1 = s.gamma
    abline(ax, g0, g1, xs, color=GREEN, lw=2.2, label=rf"population mean line $\gamma$: {_line(g0, g1, d0)}")
    if k >= 1:
        b0, b1 = s.beta
        abline(ax, b0, b1, xs, color=BLUE, lw=2.0, label=rf"true line $\beta_j$ of {_unit(profile)} $j$: {_line(b0, b1, d1)}")
    if k >= 2:
        ax.plot(s.x, s.y, "o", color=BLACK, ms=4, label=f"its data (n = {s.n})")
        ax.vlines(s.x, s.beta[0] + s.beta[1] * s.x, s.y, color=GREY, lw=0.6)
    if k >= 3:
        h0, h1 = s.beta_hat
        abline(ax, h0, h1, xs, color=VERMILLION, lw=2.0, ls="--",
               label=rf"least-squares line $\hat{{\beta}}_j$: {_line(h0, h1, d1)}")
    ax.set_xlim(*xs)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.legend(loc="upper left")
    return fig


def _beta_limits(s: SimulatedSchool):
    pts = [ell.dispersion_ellipse(s.gamma, s.G).points(), ell.dispersion_ellipse(s.gamma, s.V).points(),
           ell.dispersion_ellipse(s.beta, s.sampling_cov).points(), np.array([s.beta, s.beta_hat])]
    P = np.vstack(pts)
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = 0.08 * (hi - lo)
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def _shadows(ax, e: ell.Ellipse, color):
    """Mark the ellipse's shadows on both axes: centre +/- 1 SD for a dispersion ellipse."""
    (x0, x1), (y0, y1) = e.shadow()
    for v in (x0, x1):
        ax.axvline(v, color=color, lw=0.8, ls=":")
    for v in (y0, y1):
        ax.axhline(v, color=color, lw=0.8, ls=":")
    trans_x = ax.get_xaxis_transform()
    trans_y = ax.get_yaxis_transform()
    ax.plot([x0, x1], [0.012, 0.012], color=color, lw=4, solid_capstyle="butt", transform=trans_x)
    ax.plot([0.012, 0.012], [y0, y1], color=color, lw=4, solid_capstyle="butt", transform=trans_y)


def _beta_figure(stage: str, profile, seed: int, students=None) -> Figure:
    e = _example(students, profile, seed)
    s = e.cluster
    k = BETA_STAGES.index(stage)
    xl, _ = _labels(profile, e)
    # fixed axes position and canvas: the six beta-space slides line up exactly
    fig = Figure(figsize=(6.5, 4.2))
    fig.hlm_fixed_canvas = True
    ax = fig.add_axes((0.09, 0.11, 0.5, 0.86))
    xlim, ylim = _beta_limits(s)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    handles = []
    ax.plot(*s.gamma, "o", color=GREEN, ms=8, zorder=5)
    handles.append(Line2D([], [], ls="", marker="o", color=GREEN, ms=7, label=r"$\gamma$: the population mean line"))
    if k >= 1:
        eg = ell.dispersion_ellipse(s.gamma, s.G)
        draw_ellipse(ax, eg, color=GREEN, lw=2.0)
        _shadows(ax, eg, GREEN)
        handles.append(Line2D([], [], color=GREEN, lw=2, label=r"dispersion ellipse of $G$ (shadows: $\gamma \pm$ 1 SD)"))
    if k >= 2:
        ax.plot(*s.beta, "o", color=BLUE, ms=8, zorder=5)
        handles.append(Line2D([], [], ls="", marker="o", color=BLUE, ms=7, label=rf"true $\beta_j$ of {_unit(profile)} $j$"))
    if k >= 3:
        draw_ellipse(ax, ell.dispersion_ellipse(s.beta, s.sampling_cov), color=BLUE, lw=1.6, ls="--")
        handles.append(Line2D([], [], color=BLUE, lw=1.6, ls="--", label=r"$\sigma^2(X_j'X_j)^{-1}$ around $\beta_j$"))
    if k >= 4:
        ax.plot(*s.beta_hat, "o", color=VERMILLION, ms=8, zorder=5)
        handles.append(Line2D([], [], ls="", marker="o", color=VERMILLION, ms=7, label=r"least-squares $\hat{\beta}_j$"))
    if k >= 5:
        draw_ellipse(ax, ell.dispersion_ellipse(s.gamma, s.V), color=PURPLE, lw=2.0)
        handles.append(Line2D([], [], color=PURPLE, lw=2, label=r"$V_j = G + \sigma^2(X_j'X_j)^{-1}$ around $\gamma$"))
    ax.set_xlabel(r"intercept $\beta_0$")
    ax.set_ylabel(rf"slope $\beta_1$ of {xl}")
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.6, 0.97), fontsize=8, frameon=False)
    return fig


def _make(stage, builder, doc):
    @styled
    def f(students=None, schools=None, fits=None, profile=None, *, seed: int = NOTES_SEED) -> Figure:
        return builder(stage, profile, seed, students)
    f.__name__ = f"sim_{stage}"
    f.__qualname__ = f.__name__
    f.__doc__ = doc
    return f


sim_mean_line = _make("mean_line", _data_figure, "Fig. 8: the population mean line γ.")
sim_true_line = _make("true_line", _data_figure, "Fig. 9: adds one cluster's true line β_j = γ + u_j.")
sim_data = _make("data", _data_figure, "Fig. 10: adds the cluster's data generated around its true line.")
sim_ls_line = _make("ls_line", _data_figure, "Fig. 11: adds the cluster's least-squares line β̂_j.")
sim_beta_mean = _make("beta_mean", _beta_figure, "Fig. 12: the mean line γ as a point in beta space.")
sim_G_ellipse = _make("G_ellipse", _beta_figure, "Fig. 13: adds the dispersion ellipse of G, shadows γ ± 1 SD.")
sim_true_beta = _make("true_beta", _beta_figure, "Fig. 14: adds the cluster's true (β0j, β1j).")
sim_sampling_ellipse = _make("sampling_ellipse", _beta_figure,
                             "Fig. 15: adds the ellipse of σ²(X_j'X_j)⁻¹ around the true β_j.")
sim_beta_hat = _make("beta_hat", _beta_figure, "Fig. 16: adds the observed β̂_j.")
sim_V_ellipse = _make("V_ellipse", _beta_figure, "Fig. 17: adds the ellipse of V_j = G + σ²(X_j'X_j)⁻¹ around γ.")
