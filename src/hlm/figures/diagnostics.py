"""The Lab's diagnostics of a mixed model: level-1 residuals, BLUPs and the influence of clusters.

All read the fit record of ``ints_slopes``: its ``obs`` block (conditional fitted values and
residuals, in the row order of the students table), its BLUPs (``ranef``) and their conditional
covariances (``ranef_cov``); dx_influence also reads the model's influence record.

Colours: points by level of w (blue the reference level, vermillion the other) or blue, smooths
black, reference lines grey, flagged points vermillion.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import cbook
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from scipy import stats

from hlm.figures._base import (BLACK, BLUE, GREY, VERMILLION, MissingInput, abline, cluster_ids, cluster_table,
                               dense, drawn, need, new_figure, styled, w_color, w_title, x_name)
from hlm.residuals import standardized_blups

MODEL = "ints_slopes"
INFLUENCE = f"influence/{MODEL}"  # its Lab record
EXTREMES = 3  # points named in the QQ plots and the influence plot
FLAGGED = 5   # DFBETAS beyond 2/sqrt(J) drawn in vermillion: at most this many per coefficient


# ---------------------------------------------------------------- shared pieces (also lab.py)

def qq_panel(ax, values, names, k: int = EXTREMES, color=BLUE):
    """Normal QQ plot of `values` (non-finite left out) with R's qqline (through the quartiles),
    the k values largest in absolute value named by `names`."""
    v = np.asarray(values, float)
    ok = np.flatnonzero(np.isfinite(v))
    order = ok[np.argsort(v[ok], kind="stable")]
    n = order.size
    q = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    s = v[order]
    ax.plot(q, s, "o", ms=2.6 if n > 200 else 3.5, color=color, alpha=0.6, mew=0, rasterized=dense(n))
    if n >= 2:
        (q1, q3), (z1, z3) = np.percentile(s, [25, 75]), stats.norm.ppf([0.25, 0.75])
        slope = (q3 - q1) / (z3 - z1)
        abline(ax, q1 - slope * z1, slope, (q[0], q[-1]), color=GREY, lw=1.1, zorder=1)
    ax.set_xlabel("standard normal quantile")
    name_extremes(ax, q, s, np.asarray(names, dtype=object)[order], np.abs(s), k)


def name_extremes(ax, x, y, names, score, k: int = EXTREMES, gap: float = 2.0):
    """Name the k points of largest `score`, each tied by a short line to its point.

    A simple repel step, in display units after the figure's layout: each name (largest score
    first) takes the nearest of a ring of candidate places around its point, tried from close to
    far, whose box overlaps no name placed before it, no drawn point or line of the panel (`gap`
    points of margin) and stays inside the panel; when every candidate collides, the one with the
    fewest collisions. Names are kept out of the layout, so placing them moves nothing else."""
    x, y, score = (np.asarray(a, float) for a in (x, y, score))
    top = [i for i in np.argsort(-score, kind="stable") if np.isfinite(score[i])][:k]
    if not top:
        return
    fig = ax.figure
    ax.autoscale_view()
    fig.draw_without_rendering()  # the constrained layout: final positions of the panels
    to_pt = 72.0 / fig.dpi
    data = ax.transData
    obstacles = _drawn_points(ax) * to_pt
    frame = ax.get_window_extent()
    x0, y0, x1, y1 = (v * to_pt for v in (frame.x0, frame.y0, frame.x1, frame.y1))
    fs = 7.0
    placed = []  # boxes (x0, y0, x1, y1) in points
    rings = [(r, a) for r in (9, 14, 20, 27, 35, 45) for a in _ANGLES]
    for i in top:
        px, py = data.transform((x[i], y[i])) * to_pt
        w, h = 0.62 * fs * len(str(names[i])) + 2, 1.25 * fs
        best, best_bad = None, None
        for r, a in rings:
            cx, cy = px + r * np.cos(a), py + r * np.sin(a)
            ha = "left" if np.cos(a) > 0.3 else ("right" if np.cos(a) < -0.3 else "center")
            bx0 = cx if ha == "left" else (cx - w if ha == "right" else cx - w / 2)
            box = (bx0, cy - h / 2, bx0 + w, cy + h / 2)
            bad = _collisions(box, placed, obstacles, gap) + 100 * (box[0] < x0 or box[2] > x1 or box[1] < y0
                                                                     or box[3] > y1)
            if best_bad is None or bad < best_bad:
                best, best_bad = (cx - px, cy - py, ha, box), bad
            if bad == 0:
                break
        dx, dy, ha, box = best
        placed.append(box)
        ann = ax.annotate(str(names[i]), (x[i], y[i]), xytext=(dx, dy), textcoords="offset points",
                          ha=ha, va="center", fontsize=fs, color=BLACK,
                          arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.6, "shrinkA": 1, "shrinkB": 2.5})
        ann.set_in_layout(False)


# candidate directions for a name, the diagonals away from a QQ line first
_ANGLES = np.deg2rad([-30, 150, 30, -150, 0, 180, -60, 120, 60, -120, 90, -90])


def _drawn_points(ax) -> np.ndarray:
    """Every marker and (densified) line segment drawn in the panel, in display pixels."""
    out = []
    for line in ax.get_lines():
        xy = np.asarray(line.get_xydata(), float)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if not len(xy):
            continue
        if line.get_linestyle() not in ("None", "", " ") and len(xy) >= 2:
            t = np.linspace(0, 1, 40)[:, None]
            xy = np.vstack([a + t * (b - a) for a, b in zip(xy[:-1], xy[1:])] + [xy])
        out.append(line.get_transform().transform(xy))
    for coll in ax.collections:
        offs = np.asarray(coll.get_offsets(), float)
        if offs.ndim == 2 and len(offs):
            out.append(coll.get_offset_transform().transform(offs))
    return np.vstack(out) if out else np.empty((0, 2))


def _collisions(box, placed, points, gap) -> int:
    """How many placed names and drawn points the box (in points) touches, with a margin."""
    bx0, by0, bx1, by1 = box[0] - gap, box[1] - gap, box[2] + gap, box[3] + gap
    n = sum(not (bx1 < p[0] or p[2] < bx0 or by1 < p[1] or p[3] < by0) for p in placed) * 10
    if len(points):
        n += int(np.sum((points[:, 0] >= bx0) & (points[:, 0] <= bx1) & (points[:, 1] >= by0)
                        & (points[:, 1] <= by1)))
    return n


def constant(values) -> bool:
    """Whether the finite values are all the same (a plot against them has one position)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return v.size == 0 or float(np.ptp(v)) <= 1e-9 * max(1.0, float(np.abs(v).max()))


def constant_note(ax, value, what: str):
    """Say in the panel that the horizontal variable is constant (nothing to smooth)."""
    ax.text(0.5, 0.02, f"{what} is {value:.4g} for all:\nno trend can be drawn or seen", ha="center",
            va="bottom", fontsize=7, color=BLACK, transform=ax.transAxes,
            bbox={"boxstyle": "round", "fc": "white", "ec": GREY, "lw": 0.6})


def smooth(ax, x, y, frac: float = 2 / 3, **kw):
    """A lowess smooth of y on x (statsmodels, robust), drawn when x has a few distinct values."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if np.unique(x[ok]).size < 4:
        return None
    fit = lowess(y[ok], x[ok], frac=frac, delta=0.01 * float(np.ptp(x[ok])), return_sorted=True)
    kw = {"color": BLACK, "lw": 1.8, "label": "lowess smooth", **kw}
    return ax.plot(fit[:, 0], fit[:, 1], **kw)[0]


def scatter(ax, x, y, color=BLUE, **kw):
    """A point cloud, rasterized in the SVG when large."""
    n = np.size(x)
    kw = {"ms": 2.4 if n > 500 else 3.2, "alpha": 0.45 if n > 500 else 0.7, "mew": 0, **kw}
    return ax.plot(x, y, "o", color=color, rasterized=dense(n), **kw)[0]


def resid_vs_fitted(ax, fitted, std_resid):
    """Standardized residuals against fitted values, with a zero line and a lowess smooth."""
    scatter(ax, fitted, std_resid)
    ax.axhline(0, color=GREY, lw=1, zorder=1)
    smooth(ax, fitted, std_resid)
    ax.set_ylabel("standardized residual")


def legend(ax, **kw):
    """The panel's legend, when something in it is labelled (a smooth needs a few distinct x)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**{"loc": "upper right", **kw})


def w_legend(fig, profile, levels, extra=(), **kw):
    """A legend of the levels of w (their colours), with `extra` handles, above the panels."""
    handles = [Line2D([], [], color=w_color(lv, levels), marker="o", ls="", label=w_title(profile, lv))
               for lv in levels] + list(extra)
    kw = {"loc": "outside upper center", "ncol": len(handles), "frameon": False, "fontsize": 8, **kw}
    fig.legend(handles=handles, **kw)


def note_figure(text: str) -> Figure:
    """A figure that says why it has nothing to draw (a record holding an error)."""
    fig, axes = new_figure(height=1.2)
    ax = axes[0, 0]
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    return fig


# ---------------------------------------------------------------- residuals

def residuals(students, fits, profile, model: str = MODEL) -> pd.DataFrame:
    """One row per unit: cluster id, level of w, cluster mean of x, and the model's conditional
    fitted value and standardized residual."""
    obs = need(fits, model, "obs")
    fitted, std = (np.asarray(obs[k], float) for k in ("fitted", "std_resid"))
    if fitted.size != len(students) or std.size != len(students):
        raise MissingInput(f"the fit '{model}' has {fitted.size} fitted values for {len(students)} rows of the "
                           "students table; rerun the model stage (make book)")
    ids = cluster_ids(students, profile).to_numpy()
    return pd.DataFrame({"id": ids, "w": students[profile.w].astype(str).to_numpy(),
                         "cvar_x": students.groupby(ids, sort=False)[profile.x].transform("mean").to_numpy(float),
                         "fitted": fitted, "resid": std})


@styled
def dx_resid_qq(students, schools=None, fits=None, profile=None) -> Figure:
    """Normal QQ plot of the standardized level-1 residuals; the 3 most extreme named by cluster."""
    r = residuals(students, fits, profile)
    fig, axes = new_figure(width=4.8, height=4.0)
    axes[0, 0].set_ylabel(f"standardized residual (within {profile.cluster_label})")
    axes[0, 0].set_xlabel("standard normal quantile")
    qq_panel(axes[0, 0], r["resid"], r["id"])
    return fig


@styled
def dx_resid_fitted(students, schools=None, fits=None, profile=None) -> Figure:
    """Conditional residuals against fitted values, with a lowess smooth and a zero line."""
    r = residuals(students, fits, profile)
    fig, axes = new_figure(width=5.6, height=3.8)
    resid_vs_fitted(axes[0, 0], r["fitted"], r["resid"])
    axes[0, 0].set_xlabel(f"fitted value (fixed part + {profile.cluster_label} BLUPs)")
    legend(axes[0, 0])
    return fig


def _boxes(ax, groups, colors):
    """Compact box plots at 1..k: boxes, whiskers to 1.5 IQR, medians and outliers, each kind
    one artist (not one per cluster)."""
    st = cbook.boxplot_stats([np.asarray(g, float)[np.isfinite(g)] for g in groups], whis=1.5)
    pos = np.arange(1, len(st) + 1)
    q1, q3, med = (np.array([s[k] for s in st]) for k in ("q1", "q3", "med"))
    lo, hi = np.array([s["whislo"] for s in st]), np.array([s["whishi"] for s in st])
    ax.vlines(np.r_[pos, pos], np.r_[lo, q3], np.r_[q1, hi], color=colors + colors, lw=0.7)
    ax.bar(pos, q3 - q1, bottom=q1, width=0.7, color=colors, alpha=0.45, edgecolor=colors, lw=0.7)
    ax.hlines(med, pos - 0.35, pos + 0.35, color=BLACK, lw=1)
    fx = np.concatenate([np.full(len(s["fliers"]), p) for p, s in zip(pos, st)] or [[]])
    fy = np.concatenate([s["fliers"] for s in st] or [[]])
    fc = [c for c, s in zip(colors, st) for _ in s["fliers"]]
    ax.scatter(fx, fy, s=6, c=fc or None, linewidths=0)
    ax.set_xlim(0.3, len(st) + 0.7)


@styled
def dx_resid_cluster(students, schools=None, fits=None, profile=None) -> Figure:
    """Residuals by cluster, one box per cluster in informative-id order, coloured by w."""
    r = residuals(students, fits, profile)
    tab = cluster_table(students, profile)
    tab = tab[drawn(tab["id"], profile)]
    levels = profile.w_levels
    groups = dict(tuple(r.groupby("id", sort=False)["resid"]))
    fig, axes = new_figure(height=3.9)
    ax = axes[0, 0]
    _boxes(ax, [groups[c] for c in tab["id"]], [w_color(w, levels) for w in tab["w"]])
    ax.axhline(0, color=GREY, lw=1, zorder=0.5)
    if len(tab) <= 60:
        ax.set_xticks(np.arange(1, len(tab) + 1), tab["sid"].astype(str), rotation=90,
                      fontsize=7 if len(tab) <= 40 else 6)
        ax.grid(False, axis="x")
    ax.set_xlabel(f"{profile.cluster_label} (informative-id order)")
    ax.set_ylabel("standardized residual")
    w_legend(fig, profile, levels)
    return fig


@styled
def dx_resid_level2(students, schools=None, fits=None, profile=None) -> Figure:
    """Residuals against the cluster mean of x, one panel per level of w, with lowess smooths."""
    r = residuals(students, fits, profile)
    levels = profile.w_levels
    fig, axes = new_figure(height=3.6, ncols=len(levels), sharex=True, sharey=True)
    for ax, lv in zip(axes.flat, levels):
        d = r[r["w"] == str(lv)]
        scatter(ax, d["cvar_x"], d["resid"], color=w_color(lv, levels))
        ax.axhline(0, color=GREY, lw=1, zorder=1)
        smooth(ax, d["cvar_x"], d["resid"])
        ax.set_title(w_title(profile, lv))
        ax.set_xlabel(f"{profile.cluster_label} mean of {x_name(profile)}")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # half-width panels: fewer ticks, no overlap
        if len(d) and constant(d["cvar_x"]):
            constant_note(ax, float(d["cvar_x"].iloc[0]), f"the {profile.cluster_label} mean of {x_name(profile)}")
    axes[0, 0].set_ylabel("standardized residual")
    legend(axes[0, 0])
    return fig


# ---------------------------------------------------------------- BLUPs

def blups(students, fits, profile, model: str = MODEL) -> tuple[pd.DataFrame, list[str]]:
    """The cluster table (informative-id order) with each random effect's BLUP, and their names."""
    ranef, names = need(fits, model, "ranef"), list(need(fits, model, "re_names"))
    blup = pd.DataFrame.from_dict(ranef, orient="index", dtype=float).reindex(columns=names)
    tab = cluster_table(students, profile)
    return tab.join(blup, on="id"), names


def re_label(name: str, profile) -> str:
    """How the axes name a random effect: the intercept, the slope of x or the effect of z."""
    if name == "(Intercept)":
        return "random intercept"
    if name == profile.x:
        return f"random slope of {x_name(profile)}"
    if profile.z and name.startswith(profile.z):
        return f"random effect of {profile.label('z')}"
    return f"random effect of {name}"


@styled
def dx_blup_qq(students, schools=None, fits=None, profile=None) -> Figure:
    """One panel per random effect: normal QQ plot of the standardized BLUPs."""
    fit = need(fits, MODEL)
    z = standardized_blups(fit)
    fig, axes = new_figure(height=3.7, ncols=z.shape[1])
    axes[0, 0].set_ylabel("standardized BLUP")
    for ax, name in zip(axes.flat, z.columns):  # labels first: the names are placed in the final layout
        ax.set_title(re_label(name, profile))
        ax.set_xlabel("standard normal quantile")
    for ax, name in zip(axes.flat, z.columns):
        qq_panel(ax, z[name], z.index)
        if not z[name].notna().any():
            ax.text(0.5, 0.5, "variance 0: every BLUP is 0", ha="center", transform=ax.transAxes)
    return fig


@styled
def dx_blup_level2(students, schools=None, fits=None, profile=None) -> Figure:
    """Each random effect's BLUP against the cluster mean of x, coloured by w, with a lowess smooth."""
    tab, names = blups(students, fits, profile)
    levels = profile.w_levels
    fig, axes = new_figure(height=3.6, ncols=len(names), sharex=True)
    colors = [w_color(w, levels) for w in tab["w"]]
    drawn_any = False
    for ax, name in zip(axes.flat, names):
        ax.scatter(tab["mean_x"], tab[name], s=14 if len(tab) <= 200 else 5, c=colors, alpha=0.8,
                   rasterized=dense(len(tab)))
        ax.axhline(0, color=GREY, lw=1, zorder=1)
        drawn_any |= smooth(ax, tab["mean_x"], tab[name]) is not None
        ax.set_title(re_label(name, profile))
        ax.set_xlabel(f"{profile.cluster_label} mean of {x_name(profile)}")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.set_ylabel("BLUP")
        if constant(tab["mean_x"]):
            constant_note(ax, float(tab["mean_x"].iloc[0]), f"the {profile.cluster_label} mean of {x_name(profile)}")
    smooth_key = [Line2D([], [], color=BLACK, lw=1.8, label="lowess smooth")] if drawn_any else []
    w_legend(fig, profile, levels, smooth_key)
    return fig


# ---------------------------------------------------------------- influence

@styled
def dx_influence(students, schools=None, fits=None, profile=None) -> Figure:
    """Influence of each cluster on the fixed effects (refits without it, or the one-step deletion):
    Cook's distance as a dot chart, largest first, and the DFBETAS of each coefficient, those
    beyond 2/sqrt(J) marked."""
    rec = need(fits, INFLUENCE)
    rows = [r for r in need(fits, INFLUENCE, "rows") if r.get("cook") is not None and "error" not in r]
    terms = list(rec.get("terms") or (rows[0]["dfbetas"] if rows else []))
    J = int(rec.get("clusters") or len(rec["rows"]))
    cook = pd.Series({r["cluster"]: float(r["cook"]) for r in rows}).sort_values(kind="stable")
    fig, axes = new_figure(height=4.2, ncols=2, width_ratios=[1, 1.5])
    ax = axes[0, 0]
    pos = np.arange(1, len(cook) + 1)
    ax.hlines(pos, 0, cook.to_numpy(), color=GREY, lw=0.6)
    ax.plot(cook.to_numpy(), pos, "o", color=BLUE, ms=3.5 if len(cook) <= 200 else 2, mew=0)
    cutoff = rec.get("cutoff") or 4 / max(J, 1)
    ax.axvline(cutoff, color=VERMILLION, lw=1, ls="--", label=f"4/J = {cutoff:.3g}")
    ax.set_xlim(0, max(cutoff, float(cook.max()) if len(cook) else 0) * 1.1 or 1)
    ax.set_yticks([])
    ax.grid(False, axis="y")
    ax.set_xlabel("Cook's distance")
    ax.set_ylabel(f"{profile.clusters_label}, sorted by Cook's distance")
    ax.legend(loc="lower right")
    failed = rec.get("failed") or []
    if failed:
        ax.text(0.98, 0.3, f"{len(failed)} of the {J} {profile.clusters_label}\ncould not be refitted (not drawn)",
                ha="right", fontsize=7, transform=ax.transAxes)
    approx = J - rec.get("refits", J)
    if approx:
        ax.text(0.98, 0.16, f"{approx:,} of the {J:,}: one-step\napproximations (not refitted)",
                ha="right", fontsize=7, transform=ax.transAxes)
    _dfbetas(axes[0, 1], rows, terms, J)
    name_extremes(ax, cook.to_numpy(), pos, cook.index, cook.to_numpy())  # last: in the final layout
    return fig


def _dfbetas(ax, rows, terms, J):
    """A strip of DFBETAS per coefficient, |DFBETAS| > 2/sqrt(J) in vermillion (the FLAGGED largest at
    most: with thousands of clusters the cut-off flags hundreds whatever their influence)."""
    cut = 2 / np.sqrt(max(J, 1))
    rng = np.random.default_rng(0)  # fixed jitter: the same picture every time
    for i, term in enumerate(terms):
        v = np.array([r.get("dfbetas", {}).get(term, np.nan) for r in rows], dtype=float)
        v = v[np.isfinite(v)]
        x = i + rng.uniform(-0.18, 0.18, v.size)
        # beyond the cut, and among the FLAGGED largest: 2/sqrt(J) flags a fixed share of many clusters
        rank = np.argsort(np.argsort(-np.abs(v), kind="stable"), kind="stable")
        big = (np.abs(v) > cut) & (rank < FLAGGED)
        ax.plot(x[~big], v[~big], "o", color=BLUE, ms=3, alpha=0.6, mew=0)
        ax.plot(x[big], v[big], "o", color=VERMILLION, ms=4, mew=0)
    for s in (-cut, cut):
        ax.axhline(s, color=VERMILLION, lw=1, ls="--")
    ax.axhline(0, color=GREY, lw=1, zorder=1)
    ax.set_xticks(range(len(terms)), terms, rotation=25, ha="right")
    ax.set_xlim(-0.6, len(terms) - 0.4)
    ax.grid(False, axis="x")
    ax.set_ylabel("DFBETAS")
    ax.set_title(f"dashed: ±2/√J = ±{cut:.2f}", fontsize=8)
