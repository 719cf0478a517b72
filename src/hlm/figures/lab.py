"""The Lab's figures: the estimated G as ellipses (a "pancake" when it is nearly singular), the
effect of w along x with pointwise and simultaneous bands, marginal against conditional
predictions, and the minority (z) models: the gap by w and the OLS diagnostics.

Predictions are linear combinations of the fixed effects: :func:`term_row` builds the row of
a prediction from the values of the variables, by coefficient name (an interaction a:b gets the
product of its parts), so no figure assumes an order of the coefficients.

Colours: levels of w blue (reference) and vermillion (other), z's other level dashed; ellipses
black; BLUPs coloured by w.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats

from hlm import ellipse as ell
from hlm.effects import effect_bands, predictions, term_row
from hlm.figures._base import (BLACK, VERMILLION, MissingInput, _fit_label, cluster_table, draw_ellipse, drawn,
                               is_other, need, new_figure, origin_cross, styled, w_color, w_title, x_name, y_name)
from hlm.figures.diagnostics import (MODEL, blups, legend, name_extremes, note_figure, re_label,
                                     resid_vs_fitted, scatter, w_legend)
from hlm.levels import z_levels

HALO = [patheffects.withStroke(linewidth=4.2, foreground="white")]  # a line drawn over many others


def _require(names, term: str, model: str):
    """Fail clearly when a coefficient a figure needs is not among the fit's (not silently 0)."""
    if not any(term in n.split(":") for n in names):
        raise MissingInput(f"the fit '{model}' has no coefficient {term!r} (it has {', '.join(names)})")


def _xs(students, profile, n: int = 101) -> np.ndarray:
    x = students[profile.x].to_numpy(float)
    return np.linspace(np.nanmin(x), np.nanmax(x), n)


def _band(ax, xs, pred: pd.DataFrame, color, label=None, ls="-"):
    ax.fill_between(xs, pred["lower"], pred["upper"], color=color, alpha=0.18, lw=0)
    ax.plot(xs, pred["est"], color=color, lw=2, ls=ls, label=label)


def _w_at(profile, level) -> dict:
    """The value of w's coefficient at a level of w."""
    return {profile.w_term: float(is_other(level, profile.w_levels))}


# ---------------------------------------------------------------- G

def _eigen_text(G) -> str:
    vals = np.clip(np.linalg.eigvalsh(G)[::-1], 0, None)
    ratio = vals[-1] / vals[0] if vals[0] > 0 else np.nan
    return f"eigenvalues of G: {', '.join(f'{v:.3g}' for v in vals)}\nsmallest / largest: {ratio:.3g}"


def _fixed(v: float, digits: int) -> str:
    """`v` with `digits` decimals, as the text prints it: no exponent, and -0 printed as 0."""
    text = f"{round(float(v), digits) + 0.0:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _eigen_title(G, digits: int = 4) -> str:
    """G's eigenvalues and the ratio of the smallest to the largest, at the precision the chapter
    prints them (a rounding error of 1e-16 prints as 0, never as 1.33e-16)."""
    vals = np.clip(np.linalg.eigvalsh(G)[::-1], 0, None)
    ratio = _fixed(vals[-1] / vals[0], digits) if vals[0] > 0 else "undefined (G is 0)"
    return f"eigenvalues of G: {', '.join(_fixed(v, digits) for v in vals)}; smallest / largest: {ratio}"


def _g_panel(ax, G, tab, i, j, radii, profile, names):
    """The ellipses of G's (i, j) block around 0 with the radii given ({label: r}) and the BLUPs."""
    levels = profile.w_levels
    ax.scatter(tab[names[i]], tab[names[j]], s=12 if len(tab) <= 200 else 4,
               c=[w_color(w, levels) for w in tab["w"]], alpha=0.75, zorder=3)
    sub = G[np.ix_([i, j], [i, j])]
    for (label, r), ls in zip(radii.items(), ("--", "-")[-len(radii):]):  # the outer one solid
        if np.all(np.isfinite(sub)):
            draw_ellipse(ax, ell.ellipse((0, 0), sub, r), color=BLACK, ls=ls, lw=1.3, label=label)
    origin_cross(ax)
    ax.set_xlabel(_fit_label(ax, re_label(names[i], profile)))
    ax.set_ylabel(_fit_label(ax, re_label(names[j], profile)))


def _g(fits, model, k: int):
    G = np.asarray(need(fits, model, "G"), float)
    if G.shape != (k, k):
        raise ValueError(f"{model}: G is {G.shape[0]} x {G.shape[1]}, this figure needs {k} x {k}")
    return (G + G.T) / 2


@styled
def lab_g_ellipse(students, schools=None, fits=None, profile=None) -> Figure:
    """The estimated G as the 50% and 95% ellipses of the random (intercept, slope), centred at 0,
    with the BLUPs, and G's eigenvalues."""
    G = _g(fits, MODEL, 2)
    tab, names = blups(students, fits, profile)
    fig, axes = new_figure(width=5.4, height=4.4)
    ax = axes[0, 0]
    radii = {f"{p:.0%} of the {profile.clusters_label}": np.sqrt(stats.chi2.ppf(p, 2)) for p in (0.5, 0.95)}
    _g_panel(ax, G, tab, 0, 1, radii, profile, names)
    ax.text(0.02, 0.98, _eigen_text(G), transform=ax.transAxes, va="top", fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "0.8", "alpha": 0.9})
    w_legend(fig, profile, profile.w_levels, [Line2D([], [], color=BLACK, ls=ls, label=f"{p} ellipse of G")
                                              for p, ls in (("50%", "--"), ("95%", "-"))], ncol=2)
    return fig


@styled
def mino_pancake(students, schools=None, fits=None, profile=None) -> Figure:
    """The three pairwise projections of the 95% ellipsoid of a 3 x 3 G, with the BLUPs."""
    model = "mino_rs_z"
    G = _g(fits, model, 3)
    tab, names = blups(students, fits, profile, model)
    fig, axes = new_figure(height=3.3, ncols=3)
    radii = {"95%": np.sqrt(stats.chi2.ppf(0.95, 3))}
    for ax, (i, j) in zip(axes.flat, ((0, 1), (0, 2), (1, 2))):
        _g_panel(ax, G, tab, i, j, radii, profile, names)
    fig.suptitle(_eigen_title(G), fontsize=9)
    w_legend(fig, profile, profile.w_levels, [Line2D([], [], color=BLACK, label="95% ellipsoid of G, projected")],
             loc="outside lower center")
    return fig


# ---------------------------------------------------------------- effects and predictions

@styled
def lab_w_bands(students, schools=None, fits=None, profile=None) -> Figure:
    """The effect of w (other level minus reference) along x, with 95% pointwise and simultaneous bands."""
    fit = need(fits, MODEL)
    _require(list(fit["fixef"]), profile.w_term, MODEL)
    xs = _xs(students, profile)
    df = fit.get("df", {}).get(profile.w_term)
    b = effect_bands(need(fits, MODEL, "fixef"), need(fits, MODEL, "vcov"), (profile.w_term, profile.xw_term),
                     xs, df)
    fig, axes = new_figure(width=5.6, height=3.9)
    ax = axes[0, 0]
    ax.fill_between(xs, b["lower_sim"], b["upper_sim"], color=VERMILLION, alpha=0.15, lw=0,
                    label="95% simultaneous band (Scheffé)")
    ax.fill_between(xs, b["lower"], b["upper"], color=VERMILLION, alpha=0.3, lw=0, label="95% pointwise band")
    ax.plot(xs, b["est"], color=VERMILLION, lw=2, label="estimated effect")
    ax.axhline(0, color=BLACK, lw=1)
    lo, other = profile.w_levels
    ax.set_xlabel(x_name(profile))
    ax.set_ylabel(f"difference in {y_name(profile)}\n({other} − {lo})")
    ax.legend(loc="best")
    return fig


def _marginal(fit, xs, profile, at: dict) -> pd.DataFrame:
    names = list(fit["fixef"])
    return predictions(fit, [term_row(names, {**at, profile.x: x}) for x in xs])


@styled
def lab_marg_cond(students, schools=None, fits=None, profile=None) -> Figure:
    """Left, the marginal (population) lines of each level of w with 95% bands; right, every
    cluster's conditional line (fixed + BLUPs) over its range of x, with the marginal lines."""
    fit, coef = need(fits, MODEL), need(fits, MODEL, "coef")
    levels, names, xs = profile.w_levels, list(need(fits, MODEL, "fixef")), _xs(students, profile)
    tab = cluster_table(students, profile)
    tab = tab[drawn(tab["id"], profile)]
    fig, axes = new_figure(height=3.8, ncols=2, sharex=True, sharey=True)
    left, right = axes.flat
    segs, colors = [], []
    for r in tab.itertuples():
        c = np.array([coef[str(r.id)].get(n, np.nan) for n in names], float)
        ends = [term_row(names, {**_w_at(profile, r.w), profile.x: x}) @ c for x in (r.xmin, r.xmax)]
        segs.append([(r.xmin, ends[0]), (r.xmax, ends[1])])
        colors.append(w_color(r.w, levels))
    right.add_collection(LineCollection(segs, colors=colors, lw=0.7, alpha=0.45))
    for lv in levels:
        pred = _marginal(fit, xs, profile, _w_at(profile, lv))
        _band(left, xs, pred, w_color(lv, levels), w_title(profile, lv))
        right.plot(xs, pred["est"], color=w_color(lv, levels), lw=2.6, path_effects=HALO)
    left.set_title("marginal: the population lines")
    right.set_title(f"conditional: each {profile.cluster_label}'s line")
    for ax in (left, right):
        ax.set_xlabel(x_name(profile))
    left.set_ylabel(y_name(profile))
    fig.legend(*left.get_legend_handles_labels(), loc="outside upper center", ncol=2, frameon=False)
    return fig


# ---------------------------------------------------------------- the minority models

def _contextual_means(students, profile) -> dict:
    """The cluster means of x and of z at their overall averages (a prediction's values)."""
    return {c: float(np.nanmean(students[c].to_numpy(float))) for c in (profile.cvar_x, profile.cvar_z)
            if c in students}


@styled
def mino_gap(students, schools=None, fits=None, profile=None) -> Figure:
    """The minority gap by level of w: left, the marginal lines of the four groups w x z with 95%
    bands; right, the effect of z (other minus reference) in each level of w with its 95% interval."""
    fit = need(fits, "mino_rs")
    names, levels, xs = list(need(fits, "mino_rs", "fixef")), profile.w_levels, _xs(students, profile)
    zref, zother = z_levels(students, profile)
    means, zterm = _contextual_means(students, profile), f"{profile.z}{zother}"  # z's coefficient
    _require(names, zterm, "mino_rs")
    fig, axes = new_figure(height=3.8, ncols=2, width_ratios=[1.6, 1])
    left, right = axes.flat
    effects = []
    for lv in levels:
        at = {**means, **_w_at(profile, lv)}
        for zv, ls in ((zref, "-"), (zother, "--")):
            pred = _marginal(fit, xs, profile, {**at, zterm: float(zv == zother)})
            _band(left, xs, pred, w_color(lv, levels), f"{lv}, {profile.label('z')}: {zv}", ls)
        effects.append(predictions(fit, term_row(names, {**at, zterm: 1.0}) - term_row(names, {**at, zterm: 0.0})))
    left.set_xlabel(x_name(profile))
    left.set_ylabel(y_name(profile))
    left.legend(loc="upper left", fontsize=7)
    for k, (lv, e) in enumerate(zip(levels, effects)):
        e = e.iloc[0]
        right.errorbar(e["est"], k, xerr=[[e["est"] - e["lower"]], [e["upper"] - e["est"]]], fmt="o",
                       color=w_color(lv, levels), capsize=4, ms=6, lw=1.6)
    right.axvline(0, color=BLACK, lw=1)
    right.set_yticks(range(len(levels)), [w_title(profile, lv) for lv in levels])
    right.set_ylim(len(levels) - 0.4, -0.6)  # the reference level on top
    right.grid(False, axis="y")
    right.set_xlabel(f"effect of {profile.label('z')}\n({zother} − {zref}), 95% interval")
    return fig


@styled
def mino_ols_diag(students, schools=None, fits=None, profile=None) -> Figure:
    """Diagnostics of the OLS fit of the inference record: standardized residuals against fitted
    values, and Cook's distance against leverage with the 5 most influential units named."""
    ols = need(fits, "inference", "ols")
    if "error" in ols:
        return note_figure(f"The OLS fit could not be computed: {ols['error']}")
    u = pd.DataFrame({k: ols["units"][k] for k in ("row", "cluster", "fitted", "std_resid", "leverage", "cooks")})
    u[["fitted", "std_resid", "leverage", "cooks"]] = u[["fitted", "std_resid", "leverage", "cooks"]].astype(float)
    fig, axes = new_figure(height=3.8, ncols=2)
    left, right = axes.flat
    resid_vs_fitted(left, u["fitted"], u["std_resid"])
    left.set_xlabel(f"fitted value (OLS, {y_name(profile)})")
    legend(left)
    scatter(right, u["leverage"], u["cooks"])
    name_extremes(right, u["leverage"], u["cooks"], u["cluster"].astype(str) + ":" + u["row"].astype(str),
                  u["cooks"], k=5)
    right.set_xlabel("leverage")
    right.set_ylabel("Cook's distance")
    right.set_ylim(bottom=0)
    return fig
