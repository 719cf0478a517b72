"""The notes' classical Methods 1-4 in data space and in beta space.

Beta space puts a line's intercept on the horizontal axis and its slope on the
vertical axis: a line is a point, and the uncertainty of an estimated line is an
ellipse (see hlm.ellipse). Colours: one per level of w; Method 3's MANOVA
ellipses in magenta, the fixed-effects ones in green where both are compared.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from hlm import ellipse as ell
from hlm.figures._base import (BLACK, GREEN, GREY, MAGENTA, ORANGE, abline, beta_axes, by_level, dense,
                               cluster_table, draw_ellipse, drawn, need, new_figure, origin_cross, styled,
                               w_color, w_title, x_name, y_name)


# ------------------------------------------------------------------ helpers

def _df(fits, model):
    fit = fits[model]
    df = fit.get("df")
    if isinstance(df, (int, float)):
        return float(df)
    if isinstance(df, dict) and df:
        return float(min(df.values()))
    if model == "two_stage":
        return float(len(fit["clusters"]) - 2)
    if model == "fe_lines":
        cl = fit["clusters"].values()
        return float(sum(c["n"] for c in cl) - 2 * len(fit["clusters"]))
    return None


def _cov_ellipse(block, kind="coverage", df=None):
    r = ell.radius(kind, 0.95, df)
    return ell.ellipse(block["coef"], block["vcov"], r, kind)


def _sector_ellipses(ax, fits, model, levels, ls="-", lw=1.6, label=None, mark="o", kind="coverage"):
    """For each level: the estimate (marker) and its 95% ellipse from fits[model].by_w."""
    block = need(fits, model, "by_w")
    df = _df(fits, model)
    for lv in levels:
        b = by_level(block, lv)
        color = w_color(lv, levels)
        draw_ellipse(ax, _cov_ellipse(b, kind, df), color=color, ls=ls, lw=lw)
        ax.plot(*b["coef"], mark, color=color, ms=6, mec="white", mew=0.6, zorder=4)
    if label:
        return Line2D([], [], color=GREY, ls=ls, lw=lw, marker=mark, label=label)
    return None


def _school_points(ax, fits, levels, profile, size=3.5):
    cl = need(fits, "fe_lines", "clusters")
    shown = [c for c, keep in zip(cl.values(), drawn(list(cl), profile)) if keep]
    for lv in levels:
        pts = np.array([[c["intercept"], c["slope"]] for c in shown
                        if str(c["w"]) == str(lv) and c.get("slope") is not None])
        if len(pts):
            ax.plot(pts[:, 0], pts[:, 1], "o", ms=size, color=w_color(lv, levels), alpha=0.55, mew=0)


def _level_handles(profile, levels):
    return [Line2D([], [], color=w_color(lv, levels), lw=2, label=w_title(profile, lv)) for lv in levels]


def _legend_below(fig, handles, ncol=2):
    """Legend under the axes, so it never hides the origin or an ellipse."""
    fig.legend(handles=[h for h in handles if h is not None], loc="outside lower center", ncol=ncol,
               fontsize=8, frameon=False)


def _diff_panel(ax, fits, model, color, label, shadow=True, lw=1.8):
    """The other-minus-reference difference: 95% coverage ellipse, and the shadow ellipse."""
    d = need(fits, model, "diff")
    df = _df(fits, model)
    draw_ellipse(ax, _cov_ellipse(d, "coverage", df), color=color, lw=lw)
    if shadow:
        draw_ellipse(ax, _cov_ellipse(d, "shadow", df), color=color, lw=1.0, ls="--")
    ax.plot(*d["coef"], "o", color=color, ms=6, mec="white", mew=0.6, zorder=4)
    return Line2D([], [], color=color, lw=lw, marker="o", label=label)


def _diff_axes(ax, profile, levels):
    origin_cross(ax)
    ax.plot([0], [0], "+", color=BLACK, ms=10, mew=1.5, zorder=5)
    beta_axes(ax, profile, diff=True, levels=levels)


_SHADOW_NOTE = Line2D([], [], color=GREY, ls="--", lw=1.0, label="ellipse with 95% shadows")


# ------------------------------------------------------------------ Method 1: pooled OLS

@styled
def m1_lines(students, schools=None, fits=None, profile=None) -> Figure:
    """Method 1 in data space: the pooled least-squares line of each level of w."""
    levels = profile.w_levels
    block = need(fits, "pooled", "by_w")
    fig, axes = new_figure(height=3.8)
    ax = axes[0, 0]
    wcol = students[profile.w].astype(str).to_numpy()
    x, y = students[profile.x].to_numpy(float), students[profile.y].to_numpy(float)
    for lv in levels:
        keep = wcol == str(lv)
        ax.plot(x[keep], y[keep], "o", ms=2, alpha=0.3, mew=0, color=w_color(lv, levels), rasterized=dense(len(x)))
    for lv in levels:
        b0, b1 = by_level(block, lv)["coef"]
        abline(ax, b0, b1, (x.min(), x.max()), color=w_color(lv, levels), lw=2.4,
               label=f"{w_title(profile, lv)}: {b0:.2f} {'−' if b1 < 0 else '+'} {abs(b1):.2f} × {x_name(profile)}")
    ax.set_xlabel(x_name(profile))
    ax.set_ylabel(y_name(profile))
    ax.legend(loc="lower right")
    return fig


@styled
def m1_beta(students, schools=None, fits=None, profile=None) -> Figure:
    """Fig. 4: each level's pooled (intercept, slope) with its 95% confidence ellipse."""
    levels = profile.w_levels
    fig, axes = new_figure(width=5.2, height=4.2)
    ax = axes[0, 0]
    _sector_ellipses(ax, fits, "pooled", levels)
    beta_axes(ax, profile)
    _legend_below(fig, _level_handles(profile, levels))
    return fig


@styled
def m1_diff(students, schools=None, fits=None, profile=None) -> Figure:
    """The difference between levels of w (pooled OLS) in beta space, against the origin."""
    levels = profile.w_levels
    fig, axes = new_figure(width=5.2, height=4.2)
    ax = axes[0, 0]
    h = _diff_panel(ax, fits, "pooled", w_color(levels[1], levels),
                    f"{levels[1]} − {levels[0]}: 95% confidence ellipse")
    _diff_axes(ax, profile, levels)
    _legend_below(fig, [h, _SHADOW_NOTE])
    return fig


# ------------------------------------------------------------------ Method 2: a line per cluster

@styled
def m2_lines(students, schools=None, fits=None, profile=None) -> Figure:
    """Each cluster's least-squares line, by level of w, with the average and the pooled line."""
    levels = profile.w_levels
    tab = cluster_table(students, profile)
    tab = tab[drawn(tab["id"], profile)]
    cl = need(fits, "fe_lines", "clusters")
    fe, pooled = need(fits, "fe_lines", "by_w"), need(fits, "pooled", "by_w")
    fig, axes = new_figure(height=3.5, ncols=len(levels), sharex=True, sharey=True)
    lim = (students[profile.x].min(), students[profile.x].max())
    for ax, lv in zip(axes.flat, levels):
        color = w_color(lv, levels)
        for r in tab[tab["w"].astype(str) == str(lv)].itertuples():
            c = cl.get(str(r.id))
            if c is not None and c.get("slope") is not None:
                abline(ax, c["intercept"], c["slope"], (r.xmin, r.xmax), color=color, lw=0.8, alpha=0.6)
        b = by_level(fe, lv)["coef"]
        abline(ax, b[0], b[1], lim, color=BLACK, lw=2.2, label=f"average of {profile.cluster_label} lines")
        p = by_level(pooled, lv)["coef"]
        abline(ax, p[0], p[1], lim, color=BLACK, lw=1.6, ls="--", label="pooled OLS line")
        ax.set_title(w_title(profile, lv))
        ax.set_xlabel(x_name(profile))
        ax.legend(loc="lower right")
    axes[0, 0].set_ylabel(y_name(profile))
    return fig


def _m2_base(students, fits, profile, with_means: bool) -> Figure:
    levels = profile.w_levels
    fig, axes = new_figure(width=5.6, height=4.9)
    ax = axes[0, 0]
    _school_points(ax, fits, levels, profile)
    handles = _level_handles(profile, levels)
    handles.append(_sector_ellipses(ax, fits, "pooled", levels, ls=":", lw=1.4,
                                    label="pooled OLS: 95% confidence ellipse", mark="s"))
    if with_means:
        handles.append(_sector_ellipses(ax, fits, "fe_lines", levels, lw=2.0,
                                        label=f"average of {profile.clusters_label}: 95% ellipse"))
    handles.append(Line2D([], [], ls="", marker="o", color=GREY, alpha=0.6,
                          label=f"one {profile.cluster_label}'s least-squares line"))
    beta_axes(ax, profile)
    _legend_below(fig, handles, ncol=2)
    return fig


@styled
def m2_beta_schools(students, schools=None, fits=None, profile=None) -> Figure:
    """Fig. 5: every cluster's (intercept, slope) with the pooled OLS confidence ellipses."""
    return _m2_base(students, fits, profile, with_means=False)


@styled
def m2_beta_means(students, schools=None, fits=None, profile=None) -> Figure:
    """Fig. 6: adds each level's mean of cluster lines and its fixed-effects ellipse."""
    return _m2_base(students, fits, profile, with_means=True)


@styled
def m2_diff(students, schools=None, fits=None, profile=None) -> Figure:
    """Fig. 7: the difference between levels from the cluster averages vs pooled OLS."""
    levels = profile.w_levels
    fig, axes = new_figure(width=5.2, height=4.2)
    ax = axes[0, 0]
    h1 = _diff_panel(ax, fits, "pooled", GREY, "pooled OLS", shadow=False, lw=1.2)
    h2 = _diff_panel(ax, fits, "fe_lines", GREEN, f"average of {profile.cluster_label} lines")
    _diff_axes(ax, profile, levels)
    _legend_below(fig, [h1, h2, _SHADOW_NOTE], ncol=3)
    return fig


# ------------------------------------------------------------------ Method 3: two-stage (MANOVA)

@styled
def m3_manova(students, schools=None, fits=None, profile=None) -> Figure:
    """MANOVA ellipses (solid) and fixed-effects ellipses (dashed) around the same centres."""
    levels = profile.w_levels
    fig, axes = new_figure(width=5.6, height=4.9)
    ax = axes[0, 0]
    _school_points(ax, fits, levels, profile)
    handles = _level_handles(profile, levels)
    handles.append(_sector_ellipses(ax, fits, "two_stage", levels, lw=2.0,
                                    label=f"two-stage (MANOVA): new {profile.clusters_label}"))
    handles.append(_sector_ellipses(ax, fits, "fe_lines", levels, ls="--", lw=1.4,
                                    label=f"fixed effects: same {profile.clusters_label}"))
    beta_axes(ax, profile)
    _legend_below(fig, handles, ncol=2)
    return fig


@styled
def m3_shadows(students, schools=None, fits=None, profile=None) -> Figure:
    """The two-stage difference: 95% coverage ellipse and the ellipse with 95% shadows."""
    levels = profile.w_levels
    d = need(fits, "two_stage", "diff")
    df = _df(fits, "two_stage")
    fig, axes = new_figure(width=5.4, height=4.3)
    ax = axes[0, 0]
    cover = _cov_ellipse(d, "coverage", df)
    shad = _cov_ellipse(d, "shadow", df)
    draw_ellipse(ax, cover, color=MAGENTA, lw=2.0)
    draw_ellipse(ax, shad, color=MAGENTA, lw=1.4, ls="--")
    ax.plot(*d["coef"], "o", color=MAGENTA, ms=6, mec="white", zorder=4)
    (x0, x1), (y0, y1) = shad.shadow()
    for lo, hi in ((x0, x1),):
        ax.axvspan(lo, hi, color=MAGENTA, alpha=0.07, lw=0)
    ax.axhspan(y0, y1, color=MAGENTA, alpha=0.07, lw=0)
    _diff_axes(ax, profile, levels)
    _legend_below(fig, [Line2D([], [], color=MAGENTA, lw=2, label="95% coverage ellipse"),
                        Line2D([], [], color=MAGENTA, lw=1.4, ls="--", label="ellipse with 95% shadows"),
                        Line2D([], [], color=MAGENTA, lw=6, alpha=0.15, label="its shadows: 95% intervals")],
                  ncol=3)
    return fig


@styled
def m3_diff(students, schools=None, fits=None, profile=None) -> Figure:
    """Difference ellipses: two-stage (generalises to new clusters) vs fixed effects (same clusters)."""
    levels = profile.w_levels
    fig, axes = new_figure(width=5.2, height=4.2)
    ax = axes[0, 0]
    h1 = _diff_panel(ax, fits, "two_stage", MAGENTA, f"two-stage: new {profile.clusters_label}")
    h2 = _diff_panel(ax, fits, "fe_lines", GREEN, f"fixed effects: same {profile.clusters_label}")
    _diff_axes(ax, profile, levels)
    _legend_below(fig, [h1, h2, _SHADOW_NOTE], ncol=3)
    return fig


# ------------------------------------------------------------------ Method 4: between clusters

def between_by_w(fits, levels) -> dict:
    """Between-cluster lines (mean y on mean x) per level of w, and their difference.

    Uses ``between.by_w`` / ``between.diff`` when the fit has them; otherwise derives
    them from ``between.clusters`` by least squares on the cluster means.
    """
    bt = need(fits, "between")
    if "by_w" in bt and "diff" in bt:
        return {"by_w": bt["by_w"], "diff": bt["diff"]}
    cl = list(bt["clusters"].values())
    mx = np.array([c["mean_x"] for c in cl], float)
    my = np.array([c["mean_y"] for c in cl], float)
    wv = np.array([str(c["w"]) == str(levels[1]) for c in cl], float)
    X = np.column_stack([np.ones_like(mx), mx, wv, mx * wv])
    XtX_inv = np.linalg.inv(X.T @ X)
    b = XtX_inv @ X.T @ my
    r = my - X @ b
    V = (r @ r / (len(my) - 4)) * XtX_inv
    L = {levels[0]: np.array([[1, 0, 0, 0], [0, 1, 0, 0.]]),
         levels[1]: np.array([[1, 0, 1, 0], [0, 1, 0, 1.]])}
    Ld = np.array([[0, 0, 1, 0], [0, 0, 0, 1.]])
    out = {"by_w": {str(lv): {"coef": (L[lv] @ b).tolist(), "vcov": (L[lv] @ V @ L[lv].T).tolist()}
                    for lv in levels},
           "diff": {"coef": (Ld @ b).tolist(), "vcov": (Ld @ V @ Ld.T).tolist()}}
    return out


def _arc(ax, p_start, p_mid, p_end, **kw):
    """A smooth quadratic curve from p_start through p_mid to p_end."""
    P = np.array([p_start, p_mid, p_end], float)
    d1, d2 = np.linalg.norm(P[1] - P[0]), np.linalg.norm(P[2] - P[1])
    tm = d1 / (d1 + d2) if d1 + d2 > 0 else 0.5
    A = np.array([[0, 0, 1], [tm ** 2, tm, 1], [1, 1, 1]])
    coef = np.linalg.solve(A, P)
    t = np.linspace(0, 1, 60)
    C = np.column_stack([t ** 2, t, np.ones_like(t)]) @ coef
    ax.plot(C[:, 0], C[:, 1], **kw)


_KINDS = (("fe_lines", "within (average of lines)", "o", "-"),
          ("pooled", "pooled OLS", "s", ":"),
          ("between", "between (cluster means)", "D", "--"))


@styled
def m4_between(students, schools=None, fits=None, profile=None) -> Figure:
    """Within, pooled and between estimates per level of w: pooled lies between the other two."""
    levels = profile.w_levels
    bw = between_by_w(fits, levels)
    fig, axes = new_figure(width=5.8, height=5.0)
    ax = axes[0, 0]
    blocks = {"fe_lines": need(fits, "fe_lines", "by_w"), "pooled": need(fits, "pooled", "by_w"),
              "between": bw["by_w"]}
    dfs = {"fe_lines": _df(fits, "fe_lines"), "pooled": _df(fits, "pooled"),
           "between": float(len(need(fits, "between", "clusters")) - 4)}
    for lv in levels:
        color = w_color(lv, levels)
        pts = {}
        for model, _, mark, ls in _KINDS:
            b = by_level(blocks[model], lv)
            draw_ellipse(ax, _cov_ellipse(b, "coverage", dfs[model]), color=color, ls=ls, lw=1.3)
            ax.plot(*b["coef"], mark, color=color, ms=6, mec="white", mew=0.6, zorder=4)
            pts[model] = b["coef"]
        _arc(ax, pts["fe_lines"], pts["pooled"], pts["between"], color=color, lw=0.9, alpha=0.7)
    handles = _level_handles(profile, levels)
    handles += [Line2D([], [], color=GREY, marker=m, ls=ls, lw=1.3,
                       label=text.replace("cluster", profile.cluster_label)) for _, text, m, ls in _KINDS]
    beta_axes(ax, profile)
    _legend_below(fig, handles, ncol=2)
    return fig


@styled
def m4_arc(students, schools=None, fits=None, profile=None) -> Figure:
    """Differences between levels: the pooled difference lies on an arc from within to between."""
    levels = profile.w_levels
    bw = between_by_w(fits, levels)
    fig, axes = new_figure(width=5.4, height=4.3)
    ax = axes[0, 0]
    diffs = {"fe_lines": need(fits, "fe_lines", "diff"), "pooled": need(fits, "pooled", "diff"),
             "between": bw["diff"]}
    dfs = {"fe_lines": _df(fits, "fe_lines"), "pooled": _df(fits, "pooled"),
           "between": float(len(need(fits, "between", "clusters")) - 4)}
    colors = {"fe_lines": GREEN, "pooled": GREY, "between": ORANGE}
    handles = []
    for model, text, mark, ls in _KINDS:
        d = diffs[model]
        draw_ellipse(ax, _cov_ellipse(d, "coverage", dfs[model]), color=colors[model], ls=ls, lw=1.5)
        ax.plot(*d["coef"], mark, color=colors[model], ms=7, mec="white", mew=0.6, zorder=4)
        handles.append(Line2D([], [], color=colors[model], marker=mark, ls=ls,
                              label=text.replace("cluster", profile.cluster_label)))
    _arc(ax, diffs["fe_lines"]["coef"], diffs["pooled"]["coef"], diffs["between"]["coef"],
         color=BLACK, lw=1.0)
    _diff_axes(ax, profile, levels)
    _legend_below(fig, handles, ncol=3)
    return fig
