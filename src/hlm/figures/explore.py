"""Looking at the data: quantile plots, trellis plots, scatterplots, three effects of x."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from hlm.figures._base import (BLACK, BLUE, GREEN, GREY, SEX_COLORS, VERMILLION, abline, cluster_ids,
                               cluster_table, dense, drawn, grid_shape, ls_line, need, new_figure,
                               styled, w_color, w_title, x_name, y_name)

DERIVED = {"row", "n", "sex_comp", "sex_cat", "sid"}
MAX_QUANTILES = 1000


def is_id(students: pd.DataFrame, column: str, profile) -> bool:
    """Whether a column identifies rows or clusters rather than measuring anything: the cluster
    id, or a column other than a float that holds a different value on every row (a unit id)."""
    if column == profile.cluster:
        return True
    values = students[column]
    return not pd.api.types.is_float_dtype(values) and values.nunique(dropna=False) == len(values) > 1


def _variables(students: pd.DataFrame, profile) -> list[str]:
    """The raw columns that are variables (derived ones and identifiers left out), the response
    and x first."""
    cols = [c for c in students.columns
            if c not in DERIVED and not c.startswith(("cvar_", "dvar_")) and not c.startswith("_")
            and not is_id(students, c, profile)]
    first = [c for c in (profile.y, profile.x) if c in cols]
    return first + [c for c in cols if c not in first]


def _as_numeric(s: pd.Series):
    """(values, tick labels or None): categories become their codes 0..k-1."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float).to_numpy(), ["False", "True"]
    if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
        return s.to_numpy(float), None
    num = pd.to_numeric(s.astype(str), errors="coerce") if not isinstance(s.dtype, pd.CategoricalDtype) else None
    if num is not None and num.notna().all():
        return num.to_numpy(float), None
    cat = s.astype("category") if not isinstance(s.dtype, pd.CategoricalDtype) else s
    cats = [str(c) for c in cat.cat.categories]
    return cat.cat.codes.to_numpy(float), cats


@styled
def quantile_plot(students, schools=None, fits=None, profile=None) -> Figure:
    """Each variable sorted and plotted against its quantile rank (i - 1/2)/n."""
    names = _variables(students, profile)
    rows, cols = grid_shape(len(names), max_cols=4)
    fig, axes = new_figure(height=1.55 * rows + 0.3, nrows=rows, ncols=cols)
    for ax, name in zip(axes.flat, names):
        vals, ticks = _as_numeric(students[name])
        vals = np.sort(vals[~np.isnan(vals)])
        q = (np.arange(1, vals.size + 1) - 0.5) / vals.size
        if vals.size > MAX_QUANTILES:  # evenly spaced ranks, keeping both extremes: same curve, small file
            keep = np.unique(np.linspace(0, vals.size - 1, MAX_QUANTILES).round().astype(int))
            q, vals = q[keep], vals[keep]
        ax.plot(q, vals, ".", ms=1.8, color=BLUE, rasterized=dense(len(students)))
        ax.set_title(name, fontsize=9, pad=2)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.5, 1])
        if ticks is not None and len(ticks) <= 6:
            ax.set_yticks(range(len(ticks)), [t[:10] for t in ticks])
        elif ticks is not None:
            ax.set_ylabel(f"{len(ticks)} levels", fontsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.supxlabel("quantile rank (proportion of values below)", fontsize=9)
    return fig


def _trellis_frame(k, max_cols):
    cols = min(max_cols, int(np.ceil(np.sqrt(k * 1.6))))
    rows = int(np.ceil(k / cols))
    panel = 6.5 / cols
    fig = Figure(figsize=(6.5, min(9.0, rows * panel * 1.05 + 0.7)))
    # no sharex/sharey: with 100+ panels matplotlib's shared-axis bookkeeping is quadratic;
    # _same_scales gives every panel the same limits and ticks instead
    axes = fig.subplots(rows, cols, squeeze=False,
                        gridspec_kw={"hspace": 0.32 if k <= 60 else 0.38, "wspace": 0.06})
    fig.subplots_adjust(left=0.08, right=0.99, bottom=0.07 if rows < 8 else 0.05,
                        top=0.93 if rows < 8 else 0.955)
    return fig, axes


def _ticks(loc, lim, nbins):
    """At most nbins + 1 ticks inside lim, keeping 0 when it is one of them."""
    ticks = [float(t) for t in loc.tick_values(*lim) if lim[0] <= t <= lim[1]]
    if len(ticks) > nbins + 1:
        start = ticks.index(0.0) % 2 if 0.0 in ticks else 0
        ticks = ticks[start::2]
    return ticks


def _same_scales(axes, k, x, y, nbins):
    """Common limits and ticks on all k panels; tick labels on the left column and bottom panels."""
    rows, cols = axes.shape
    pad = lambda v: (np.nanmin(v) - 0.05 * np.ptp(v), np.nanmax(v) + 0.05 * np.ptp(v))  # noqa: E731
    xlim, ylim = pad(x), pad(y)
    loc = MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10], min_n_ticks=2)
    xt, yt = _ticks(loc, xlim, nbins), _ticks(loc, ylim, nbins)
    for i, ax in enumerate(axes.flat[:k]):
        r, c = divmod(i, cols)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xticks(xt)
        ax.set_yticks(yt)
        bottom = i + cols >= k  # no panel below this one
        ax.tick_params(labelleft=c == 0, labelbottom=bottom)


def _trellis(students, fits, profile, color_by_sex: bool) -> Figure:
    levels = profile.w_levels
    tab = cluster_table(students, profile)
    tab = tab[drawn(tab["id"], profile)]
    ids = cluster_ids(students, profile)
    keep = ids.isin(tab["id"]).to_numpy()  # a panel per drawn cluster
    students, ids = students[keep], ids[keep]
    fig, axes = _trellis_frame(len(tab), max_cols=8 if len(students) < 4000 else 12)
    lines = need(fits, "fe_lines", "clusters")
    small = len(tab) > 60
    ms = 0.8 if small else 1.6
    for ax, row in zip(axes.flat, tab.itertuples()):
        d = students[ids.to_numpy() == row.id]
        x, y = d[profile.x].to_numpy(float), d[profile.y].to_numpy(float)
        if color_by_sex:
            fem = (d[profile.sex].astype(str) == str(profile.female)).to_numpy()
            ax.plot(x[fem], y[fem], "o", ms=ms, color=SEX_COLORS[0], mew=0)
            ax.plot(x[~fem], y[~fem], "o", ms=ms, color=SEX_COLORS[1], mew=0)
        else:
            ax.plot(x, y, "o", ms=ms, color=w_color(row.w, levels), alpha=0.7, mew=0)
        line = lines.get(str(row.id))
        if line is not None and line.get("slope") is not None:
            abline(ax, line["intercept"], line["slope"], (row.xmin, row.xmax), color=BLACK, lw=1.0)
        ax.set_title(str(row.sid), fontsize=8, pad=1.5, color=w_color(row.w, levels))
        ax.grid(False)
        ax.tick_params(labelsize=8, length=2, pad=1)
    for ax in list(axes.flat)[len(tab):]:
        ax.set_visible(False)
    _same_scales(axes, len(tab), students[profile.x].to_numpy(float), students[profile.y].to_numpy(float),
                 nbins=2 if small else 3)
    fig.hlm_fixed_canvas = True  # margins are set by hand; skipping the tight bbox saves a full draw
    fig.supxlabel(x_name(profile), fontsize=9)
    fig.supylabel(y_name(profile), fontsize=9)
    if color_by_sex:
        labels = _sex_levels(students, profile)
        handles = [Line2D([], [], ls="", marker="o", color=c, label=lb)
                   for c, lb in zip(SEX_COLORS, labels)]
    else:
        handles = [Line2D([], [], ls="", marker="o", color=w_color(lv, levels), label=w_title(profile, lv))
                   for lv in levels]
    handles.append(Line2D([], [], color=BLACK, lw=1, label=f"least-squares line of the {profile.cluster_label}"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, 1.0))
    return fig


def _sex_levels(students, profile) -> list[str]:
    female = str(profile.female)
    others = sorted({str(v) for v in students[profile.sex].dropna()} - {female})
    return [female] + others


@styled
def trellis(students, schools=None, fits=None, profile=None) -> Figure:
    """y against x in one small panel per cluster, in informative-id order, with its LS line."""
    return _trellis(students, fits, profile, color_by_sex=False)


@styled
def trellis_sex(students, schools=None, fits=None, profile=None) -> Figure:
    """The trellis plot with each point coloured by the unit's sex."""
    return _trellis(students, fits, profile, color_by_sex=True)


@styled
def scatter_ols(students, schools=None, fits=None, profile=None) -> Figure:
    """All units pooled: y against x with the single least-squares line."""
    line = need(fits, "three_effects", "lines", "pooled")
    fig, axes = new_figure(height=3.8)
    ax = axes[0, 0]
    x, y = students[profile.x].to_numpy(float), students[profile.y].to_numpy(float)
    ax.plot(x, y, "o", ms=2.2, color=BLUE, alpha=0.35, mew=0, label=f"{profile.units_label}",
            rasterized=dense(len(x)))
    abline(ax, line["intercept"], line["slope"], (x.min(), x.max()), color=BLACK, lw=1.8,
           label=f"least-squares line (slope {line['slope']:.2f})")
    ax.set_xlabel(x_name(profile))
    ax.set_ylabel(y_name(profile))
    ax.legend(loc="lower right")
    return fig


@styled
def scatter_sector_sex(students, schools=None, fits=None, profile=None) -> Figure:
    """One panel per w level, units grouped by sex, a least-squares line per group."""
    levels = profile.w_levels
    sexes = _sex_levels(students, profile)
    fig, axes = new_figure(height=3.4, ncols=len(levels), sharex=True, sharey=True)
    wcol = students[profile.w].astype(str).to_numpy()
    scol = students[profile.sex].astype(str).to_numpy()
    for ax, lv in zip(axes.flat, levels):
        for sex, color in zip(sexes, SEX_COLORS):
            keep = (wcol == str(lv)) & (scol == sex)
            if not keep.any():
                continue
            x = students.loc[keep, profile.x].to_numpy(float)
            y = students.loc[keep, profile.y].to_numpy(float)
            ax.plot(x, y, "o", ms=2, color=color, alpha=0.45, mew=0, rasterized=dense(len(students)))
            b0, b1 = ls_line(x, y)
            if np.isfinite(b1):
                abline(ax, b0, b1, (x.min(), x.max()), color=color, lw=2, label=f"{sex} (slope {b1:.2f})")
        ax.set_title(w_title(profile, lv))
        ax.set_xlabel(x_name(profile))
        ax.legend(loc="lower right")
    axes[0, 0].set_ylabel(y_name(profile))
    return fig


@styled
def three_effects(students, schools=None, fits=None, profile=None) -> Figure:
    """Within, between and pooled effects of x drawn in data space."""
    te = need(fits, "three_effects")
    lines = te["lines"]
    tab = cluster_table(students, profile)
    tab = tab[drawn(tab["id"], profile)]
    fig, axes = new_figure(height=4.3)
    ax = axes[0, 0]
    x, y = students[profile.x].to_numpy(float), students[profile.y].to_numpy(float)
    ax.plot(x, y, "o", ms=1.8, color=GREY, alpha=0.25, mew=0, rasterized=dense(len(x)))
    bw = lines["within"]["slope"]
    for r in tab.itertuples():
        xs = np.array([r.xmin, r.xmax])
        ax.plot(xs, r.mean_y + bw * (xs - r.mean_x), color=BLUE, lw=0.9, alpha=0.8)
    ax.plot(tab["mean_x"], tab["mean_y"], "o", ms=4, color=BLACK, mew=0,
            label=f"{profile.cluster_label} means")
    lim = (x.min(), x.max())
    names = {"within": (BLUE, f"within {profile.clusters_label}"),
             "between": (VERMILLION, f"between {profile.clusters_label}"),
             "pooled": (GREEN, "pooled (ignoring clusters)")}
    for key, (color, text) in names.items():
        ln = lines[key]
        est = te.get(key, {}).get("estimate", ln["slope"])
        abline(ax, ln["intercept"], ln["slope"], lim, color=color, lw=2.4,
               label=f"{text}: slope {est:.2f}")
    ax.set_xlabel(x_name(profile))
    ax.set_ylabel(y_name(profile))
    ax.legend(loc="upper left")
    return fig
