"""Mixed-model figures: the one-way random-effects model (GLS mean, BLUE vs BLUP,
shrinkage) and the random-slopes model (BLUP lines, BLUEs and BLUPs in beta space).

Colours: BLUEs blue, BLUPs orange (vermillion; the notes draw them red), the GLS / population mean green.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from hlm import ellipse as ell
from hlm.figures._base import (BLACK, BLUE, GREEN, GREY, MAX_CLUSTERS, VERMILLION, abline, beta_axes,
                               cluster_ids, cluster_table, dense, draw_ellipse, drawn, is_other, mixed_line,
                               need, new_figure, styled, w_color, w_title, x_name, y_name)

BLUE_C, BLUP_C, GLS_C = BLUE, VERMILLION, GREEN


def _oneway(students, fits, profile):
    """Cluster table with BLUE (cluster mean) and BLUP (fixed + random intercept), and the GLS mean."""
    fit = need(fits, "oneway")
    tab = cluster_table(students, profile)
    gls = float(fit["fixef"]["(Intercept)"])
    coef = fit.get("coef")
    if coef:
        tab["blup"] = [float(coef[str(c)]["(Intercept)"]) for c in tab["id"]]
    else:
        tab["blup"] = [gls + float(fit["ranef"][str(c)]["(Intercept)"]) for c in tab["id"]]
    tab["blue"] = tab["mean_y"]
    return tab, gls


@styled
def ow_resid_fitted(students, schools=None, fits=None, profile=None) -> Figure:
    """Standardized within-cluster residuals against fitted values (fixed + BLUP)."""
    obs = need(fits, "oneway", "obs")
    fitted = np.asarray(obs["fitted"], float)
    resid = np.asarray(obs.get("std_resid") or obs["resid"], float)
    fig, axes = new_figure(width=5.6, height=3.6)
    ax = axes[0, 0]
    if cluster_ids(students, profile).nunique() > MAX_CLUSTERS:  # the stripes merge: a density
        hb = ax.hexbin(fitted, resid, gridsize=50, bins="log", mincnt=1, cmap="Blues", linewidths=0,
                       rasterized=True)
        fig.colorbar(hb, ax=ax, label=f"{profile.units_label} per hexagon")
    else:
        ax.plot(fitted, resid, "o", ms=2.4, color=BLUE, alpha=0.45, mew=0, rasterized=dense(len(fitted)))
    ax.axhline(0, color=BLACK, lw=1)
    ax.set_xlabel(f"fitted value ({profile.cluster_label} BLUP)")
    ax.set_ylabel("standardized residual" if obs.get("std_resid") else "residual")
    return fig


def _by_school(students, fits, profile, zoom: bool) -> Figure:
    tab, gls = _oneway(students, fits, profile)
    y = students[profile.y].to_numpy(float)
    overall, mean_means = float(np.mean(y)), float(tab["mean_y"].mean())
    tab = tab[drawn(tab["id"], profile)]
    pos = {c: i + 1 for i, c in enumerate(tab["id"])}
    ids = cluster_ids(students, profile).map(pos).to_numpy(float)
    keep = ~np.isnan(ids)
    fig, axes = new_figure(height=4.1)
    ax = axes[0, 0]
    ax.plot(ids[keep], y[keep], "o", ms=3.2 if zoom else 2.2, color=GREY, alpha=0.6, mew=0,
            rasterized=dense(keep.sum()))
    lines = ((gls, GLS_C, 2.2, f"mixed-model GLS estimate ({gls:.2f})"),
             (overall, BLACK, 1.6, f"overall mean of {profile.units_label} ({overall:.2f})"),
             (mean_means, VERMILLION, 1.6, f"mean of {profile.cluster_label} means ({mean_means:.2f})"))
    for v, color, lw, label in lines:
        ax.axhline(v, color=color, lw=lw, label=label)
    if zoom:
        vals = [v for v, *_ in lines]
        span = max(max(vals) - min(vals), 0.05)
        ax.set_ylim(min(vals) - 0.6 * span, max(vals) + 0.6 * span)
    _cluster_ticks(ax, tab)
    ax.set_ylabel(y_name(profile))
    ax.set_xlabel(f"{profile.cluster_label} (informative-id order)")
    fig.legend(loc="outside upper center", ncol=3, fontsize=8, frameon=False)
    return fig


def _cluster_ticks(ax, tab):
    k = len(tab)
    ax.set_xlim(0.3, k + 0.7)
    if k <= 50:
        ax.set_xticks(np.arange(1, k + 1), tab["sid"].astype(str), rotation=90, fontsize=8)
        ax.grid(False, axis="x")
    # longer lists keep the numeric index: labels would overlap


@styled
def ow_by_school(students, schools=None, fits=None, profile=None) -> Figure:
    """Every unit's y by cluster, with the GLS estimate, the overall mean and the mean of means."""
    return _by_school(students, fits, profile, zoom=False)


@styled
def ow_by_school_zoom(students, schools=None, fits=None, profile=None) -> Figure:
    """The same, zoomed in on the three estimates of the overall level."""
    return _by_school(students, fits, profile, zoom=True)


@styled
def ow_blue_blup(students, schools=None, fits=None, profile=None) -> Figure:
    """Each cluster's BLUE (its mean) and BLUP, with the GLS estimate of the overall mean."""
    tab, gls = _oneway(students, fits, profile)
    tab = tab[drawn(tab["id"], profile)]
    fig, axes = new_figure(height=3.9)
    ax = axes[0, 0]
    pos = np.arange(1, len(tab) + 1)
    ax.axhline(gls, color=GLS_C, lw=1.6, label="overall GLS estimate")
    ax.vlines(pos, tab["blue"], tab["blup"], color=GREY, lw=0.7)
    ax.plot(pos, tab["blue"], "o", color=BLUE_C, ms=5.5, label=f"BLUE ({profile.cluster_label} mean)")
    ax.plot(pos, tab["blup"], "o", color=BLUP_C, ms=4, label="BLUP")
    _cluster_ticks(ax, tab)
    ax.set_ylabel(y_name(profile))
    fig.legend(loc="outside upper center", ncol=3, fontsize=8, frameon=False)
    return fig


@styled
def ow_shrinkage(students, schools=None, fits=None, profile=None) -> Figure:
    """Shrinkage from BLUE to BLUP against cluster sample size: arrows point to the GLS mean."""
    tab, gls = _oneway(students, fits, profile)
    tab = tab[drawn(tab["id"], profile)]
    fig, axes = new_figure(height=4.0)
    ax = axes[0, 0]
    ax.axhline(gls, color=GLS_C, lw=2, label=r"GLS estimate $\hat{\gamma}_{00}$")
    # every cluster of the same size: sample size is a constant, no axis; spread the clusters
    # across in order of their BLUE instead, and say so on the axis
    equal = tab["n"].nunique() == 1
    tab = tab.sort_values("blue").assign(at=np.arange(1, len(tab) + 1)) if equal else tab.assign(at=tab["n"])
    ax.plot(tab["at"], tab["blue"], "o", color=BLUE_C, ms=5.5, label="BLUE")
    ax.plot(tab["at"], tab["blup"], "o", color=BLUP_C, ms=4, label="BLUP")
    tiny = 0.015 * float(np.ptp(np.r_[tab["blue"], tab["blup"]]) or 1.0)
    for r in tab.itertuples():
        if abs(r.blup - r.blue) > tiny:  # shorter moves: the two dots already touch
            ax.annotate("", xy=(r.at, r.blup), xytext=(r.at, r.blue),
                        arrowprops={"arrowstyle": "-|>", "mutation_scale": 7, "color": BLACK, "lw": 0.8,
                                    "shrinkA": 0, "shrinkB": 0})
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color=BLACK, lw=1, marker=">", ms=4, label="shrinkage"))
    fig.legend(handles=handles, loc="outside upper center", ncol=4, fontsize=8, frameon=False)
    if equal:
        n = int(tab["n"].iloc[0])
        ax.set_xlabel(f"{profile.clusters_label} in order of BLUE (all of {n:,} "
                      f"{profile.unit_label if n == 1 else profile.units_label})")
    else:
        ax.set_xlabel(f"{profile.cluster_label} sample size")
    ax.set_ylabel(y_name(profile))
    return fig


# ------------------------------------------------------------------ random slopes

def _random_slopes(students, fits, profile, with_blue: bool = False):
    """Per cluster: BLUP line (ints_slopes), BLUE line (fe_lines, if asked), level of w; the mean lines."""
    fit = need(fits, "ints_slopes")
    blue = need(fits, "fe_lines", "clusters") if with_blue else {}
    levels = profile.w_levels
    tab = cluster_table(students, profile)
    rows = []
    for r in tab.itertuples():
        other = is_other(r.w, levels)
        b0, b1 = mixed_line(fit, profile, other, fit["ranef"].get(str(r.id), {}))
        c = blue.get(str(r.id), {})
        rows.append((b0, b1, c.get("intercept", np.nan), c.get("slope", np.nan)))
    arr = np.array(rows, float)
    tab["blup0"], tab["blup1"], tab["blue0"], tab["blue1"] = arr.T
    means = {lv: mixed_line(fit, profile, is_other(lv, levels)) for lv in levels}
    return tab, levels, means


@styled
def rs_blup_lines(students, schools=None, fits=None, profile=None) -> Figure:
    """Fig. 18: each cluster's BLUP line from the random-slopes model, by level of w."""
    tab, levels, means = _random_slopes(students, fits, profile)
    tab = tab[drawn(tab["id"], profile)]
    fig, axes = new_figure(height=3.5, ncols=len(levels), sharex=True, sharey=True)
    lim = (students[profile.x].min(), students[profile.x].max())
    for ax, lv in zip(axes.flat, levels):
        color = w_color(lv, levels)
        for r in tab[tab["w"].astype(str) == str(lv)].itertuples():
            abline(ax, r.blup0, r.blup1, (r.xmin, r.xmax), color=color, lw=0.8, alpha=0.7)
        abline(ax, *means[lv], lim, color=BLACK, lw=2.2, label="estimated mean line")
        ax.set_title(w_title(profile, lv))
        ax.set_xlabel(x_name(profile))
        ax.legend(loc="lower right")
    axes[0, 0].set_ylabel(y_name(profile))
    return fig


@styled
def rs_beta(students, schools=None, fits=None, profile=None) -> Figure:
    """Fig. 19: BLUEs (blue) and BLUPs (orange) in beta space with their dispersion ellipses,
    and the estimated mean line of each level of w (green) with the ellipse of G."""
    tab, levels, means = _random_slopes(students, fits, profile, with_blue=True)
    G = np.asarray(need(fits, "ints_slopes", "G"), float)
    tab["shown"] = drawn(tab["id"], profile)
    fig, axes = new_figure(height=3.9, ncols=len(levels), sharex=True, sharey=True)
    for ax, lv in zip(axes.flat, levels):
        d = tab[(tab["w"].astype(str) == str(lv)) & tab["blue1"].notna()]  # the ellipses use all clusters
        p = d[d["shown"]]
        ax.plot(np.c_[p["blue0"], p["blup0"]].T, np.c_[p["blue1"], p["blup1"]].T, color=GREY, lw=0.5, alpha=0.6)
        ax.plot(p["blue0"], p["blue1"], "o", color=BLUE_C, ms=3.5, alpha=0.8, mew=0)
        ax.plot(p["blup0"], p["blup1"], "o", color=BLUP_C, ms=3.5, alpha=0.8, mew=0)
        if len(d) >= 3:
            draw_ellipse(ax, ell.data_ellipse(d[["blue0", "blue1"]].to_numpy()), color=BLUE_C, lw=1.6)
            draw_ellipse(ax, ell.data_ellipse(d[["blup0", "blup1"]].to_numpy()), color=BLUP_C, lw=1.6)
        if G.shape == (2, 2):
            draw_ellipse(ax, ell.dispersion_ellipse(means[lv], G), color=GLS_C, lw=1.4, ls="--")
        ax.plot(*means[lv], "o", color=GLS_C, ms=8, mec="white", zorder=5)
        ax.set_title(w_title(profile, lv))
        beta_axes(ax, profile)
        if ax is not axes.flat[0]:
            ax.set_ylabel("")
    handles = [Line2D([], [], color=BLUE_C, marker="o", lw=1.6, label="BLUEs and their dispersion ellipse"),
               Line2D([], [], color=BLUP_C, marker="o", lw=1.6, label="BLUPs and their dispersion ellipse"),
               Line2D([], [], color=GLS_C, marker="o", lw=1.4, ls="--",
                      label="estimated mean line, with the ellipse of G")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig
