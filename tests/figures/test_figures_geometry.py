"""Key geometry of the figures: ellipse centres and shadows, BLUPs, shrinkage arrows."""
import numpy as np
import pytest
from scipy import stats

from hlm.figures import render
from hlm.figures.methods import between_by_w
from hlm.simulate import simulate_school


def _closed_curves(ax):
    """Lines drawn as closed curves (the ellipses): their points."""
    out = []
    for ln in ax.lines:
        x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
        if x.size > 20 and np.isclose(x[0], x[-1]) and np.isclose(y[0], y[-1]):
            out.append(np.c_[x, y])
    return out


def _centre(p):
    return p[:-1].mean(axis=0)


def _extent(p):
    return np.array([[p[:, 0].min(), p[:, 0].max()], [p[:, 1].min(), p[:, 1].max()]])


def test_m1_ellipses_are_centred_on_the_pooled_coefficients(inputs):
    ax = render("m1_beta", **inputs).axes[0]
    centres = [_centre(p) for p in _closed_curves(ax)]
    for block in inputs["fits"]["pooled"]["by_w"].values():
        assert min(np.linalg.norm(c - block["coef"]) for c in centres) < 1e-9


def test_m3_manova_and_fixed_effects_ellipses_share_centres(inputs):
    ax = render("m3_manova", **inputs).axes[0]
    curves = _closed_curves(ax)
    assert len(curves) == 4
    centres = np.array([_centre(p) for p in curves])
    for block in inputs["fits"]["two_stage"]["by_w"].values():
        assert np.sum(np.linalg.norm(centres - block["coef"], axis=1) < 1e-9) == 2


def test_m3_shadow_ellipse_projects_to_the_t_intervals(inputs):
    d = inputs["fits"]["two_stage"]["diff"]
    df = len(inputs["fits"]["two_stage"]["clusters"]) - 2
    ax = render("m3_shadows", **inputs).axes[0]
    curves = sorted(_closed_curves(ax), key=lambda p: np.ptp(p[:, 0]))
    half = stats.t.ppf(0.975, df) * np.sqrt(np.diag(d["vcov"]))
    want = np.c_[np.subtract(d["coef"], half), np.add(d["coef"], half)]
    np.testing.assert_allclose(_extent(curves[0]), want, rtol=1e-4)
    # the larger one is the joint 95% region: radius sqrt(2 F(.95, 2, df))
    r = np.sqrt(2 * stats.f.ppf(0.95, 2, df))
    np.testing.assert_allclose(_extent(curves[1])[:, 1] - d["coef"], r * np.sqrt(np.diag(d["vcov"])), rtol=1e-4)


def test_sim_G_ellipse_shadows_are_gamma_plus_minus_one_sd():
    s = simulate_school()
    fig = render("sim_G_ellipse")
    ax = fig.axes[0]
    (curve,) = _closed_curves(ax)
    sd = np.sqrt(np.diag(s.G))
    np.testing.assert_allclose(_extent(curve), np.c_[s.gamma - sd, s.gamma + sd], rtol=1e-4)


def test_sim_V_ellipse_has_G_sampling_and_V_ellipses():
    s = simulate_school()
    curves = _closed_curves(render("sim_V_ellipse").axes[0])
    assert len(curves) == 3
    centres = sorted(tuple(np.round(_centre(p), 9)) for p in curves)
    assert centres.count(tuple(np.round(s.gamma, 9))) == 2
    assert tuple(np.round(s.beta, 9)) in centres


def test_sim_slides_share_axes_limits():
    lims = {n: render(n).axes[0].get_xlim() for n in ("sim_beta_mean", "sim_true_beta", "sim_V_ellipse")}
    assert len(set(lims.values())) == 1


def _oneway_points(ax):
    """(BLUE y, BLUP y, GLS level) from the drawn artists."""
    blue = next(ln for ln in ax.lines if ln.get_label().startswith("BLUE"))
    blup = next(ln for ln in ax.lines if ln.get_label().startswith("BLUP"))
    gls = next(ln for ln in ax.lines if "GLS" in ln.get_label())
    return np.asarray(blue.get_ydata(), float), np.asarray(blup.get_ydata(), float), gls.get_ydata()[0]


@pytest.mark.parametrize("name", ["ow_blue_blup", "ow_shrinkage"])
def test_blup_lies_between_blue_and_the_gls_mean(name, inputs):
    blue, blup, gls = _oneway_points(render(name, **inputs).axes[0])
    assert gls == pytest.approx(inputs["fits"]["oneway"]["fixef"]["(Intercept)"])
    assert np.all((blup - gls) * (blue - gls) >= 0)
    assert np.all(np.abs(blup - gls) <= np.abs(blue - gls) + 1e-12)


def test_shrinkage_arrows_point_from_blue_toward_the_mean(inputs):
    ax = render("ow_shrinkage", **inputs).axes[0]
    gls = inputs["fits"]["oneway"]["fixef"]["(Intercept)"]
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert arrows
    for a in arrows:
        (x0, y0), (x1, y1) = a.xyann, a.xy
        assert x0 == x1                                     # vertical, at the cluster's n
        assert abs(y1 - gls) < abs(y0 - gls)                # the head is nearer the mean
        assert np.sign(y1 - y0) == np.sign(gls - y0)        # and points toward it


def test_shrinkage_x_positions_are_cluster_sizes(inputs):
    ax = render("ow_shrinkage", **inputs).axes[0]
    blue = next(ln for ln in ax.lines if ln.get_label() == "BLUE")
    sizes = inputs["students"].groupby(inputs["profile"].cluster).size()
    assert sorted(blue.get_xdata()) == sorted(sizes.tolist())


def test_ow_zoom_shows_the_three_estimates(inputs):
    ax = render("ow_by_school_zoom", **inputs).axes[0]
    lo, hi = ax.get_ylim()
    levels = [ln.get_ydata()[0] for ln in ax.lines if ln.get_label() and not ln.get_label().startswith("_")]
    assert len(levels) == 3 and all(lo < v < hi for v in levels)
    y = inputs["students"]["MathAch"]
    means = inputs["students"].groupby("School")["MathAch"].mean()
    assert np.any(np.isclose(levels, np.mean(y))) and np.any(np.isclose(levels, means.mean()))


def test_trellis_has_a_panel_per_cluster_in_informative_order(inputs):
    fig = render("trellis", **inputs)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    order = [s for s in inputs["students"]["sid"].cat.categories]
    assert titles == order


def test_rs_beta_blups_vary_less_than_blues(inputs):
    fig = render("rs_beta", **inputs)
    for ax in fig.axes:
        blue = next(ln for ln in ax.lines if ln.get_color() == "#0072B2" and ln.get_marker() == "o")
        red = next(ln for ln in ax.lines if ln.get_color() == "#D55E00" and ln.get_marker() == "o")
        assert np.var(red.get_ydata()) < np.var(blue.get_ydata())


def test_rs_blup_lines_are_fixed_plus_random_effects(inputs):
    fit, prof = inputs["fits"]["ints_slopes"], inputs["profile"]
    fig = render("rs_blup_lines", **inputs)
    ax = fig.axes[0]                        # reference level: intercept + ranef only
    ref_ids = inputs["schools"].loc[inputs["schools"]["Sector"].astype(str) == "Catholic", "School"]
    slopes = sorted(fit["fixef"][prof.x] + fit["ranef"][c][prof.x] for c in ref_ids)
    drawn = sorted(np.diff(ln.get_ydata())[0] / np.diff(ln.get_xdata())[0] for ln in ax.lines[:len(slopes)])
    np.testing.assert_allclose(drawn, slopes, rtol=1e-9)


def test_between_by_w_falls_back_to_cluster_means(inputs):
    fits = inputs["fits"]
    levels = ("Catholic", "Public")
    out = between_by_w(fits, levels)
    cl = [c for c in fits["between"]["clusters"].values() if c["w"] == "Catholic"]
    b = np.polyfit([c["mean_x"] for c in cl], [c["mean_y"] for c in cl], 1)[::-1]
    np.testing.assert_allclose(out["by_w"]["Catholic"]["coef"], b, rtol=1e-9)
    given = {**fits, "between": {**fits["between"], "by_w": {"x": 1}, "diff": {"y": 2}}}
    assert between_by_w(given, levels) == {"by_w": {"x": 1}, "diff": {"y": 2}}


def test_quantile_plot_never_plots_an_identifier(inputs):
    """The cluster id and a unit id are names, not variables: no panel of theirs."""
    students = inputs["students"].copy()
    students["unit_id"] = [f"u{i}" for i in range(len(students))]
    fig = render("quantile_plot", **{**inputs, "students": students})
    titles = {ax.get_title() for ax in fig.axes if ax.get_visible()}
    profile = inputs["profile"]
    assert profile.cluster not in titles and "unit_id" not in titles
    assert {profile.y, profile.x} <= titles
