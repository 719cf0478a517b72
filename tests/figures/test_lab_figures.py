"""The Lab's figures (hlm.figures.diagnostics and hlm.figures.lab): their pure computations,
and that each draws on small synthetic fits (fitted here by the engine), on odd fits (a zero
variance, a singular G, three clusters, failed refits), with thousands of clusters, and on the
hsb40 artifacts when they are built."""
from __future__ import annotations

import io
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from hlm.config import ROOT, Role, load_profile
from hlm.errors import HlmError
from hlm.figures import FIGURES, caption, render, save_figure
from hlm.figures._base import MissingInput
from hlm.residuals import standardized_blups
from hlm.figures.registry import MAX_CLUSTERS, SUBSET
from hlm.lmm import fit as lmm_fit
from synth import make_profile, synthetic_students
from tests.records_fakes import minimal

LAB = sorted(n for n, s in FIGURES.items() if s.group == "lab")
Z_FIGURES = sorted(n for n in LAB if "z" in FIGURES[n].needs)
FIXED = {"ints_slopes": "y ~ x * w", "mino_rs": "y ~ x * w + w * z + cvar_x + cvar_z",
         "mino_rs_z": "y ~ x * w + w * z + cvar_x + cvar_z"}
RANDOM = {"ints_slopes": "~ 1 + x | cluster", "mino_rs": "~ 1 + x | cluster",
          "mino_rs_z": "~ 1 + x + z | cluster"}


# ------------------------------------------------------------------ synthetic inputs

def z_profile():
    """The synthetic profile with a z role (Minority, reference No)."""
    p = make_profile(sex=False)
    return replace(p, roles={**p.roles, "z": Role("Minority", "minority status", reference="No")})


def with_z(students, profile, seed=0):
    """Add z (a Categorical [No, Yes]) and its cluster proportion cvar_z, as the data stage does."""
    s = students.copy()
    rng = np.random.default_rng(seed)
    s[profile.z] = pd.Categorical(np.where(rng.random(len(s)) < 0.3, "Yes", "No"), categories=["No", "Yes"])
    s[profile.cvar_z] = (s[profile.z] == "Yes").astype(float).groupby(s[profile.cluster]).transform("mean")
    return s


def formula(text, p):
    """A catalog formula in the profile's columns."""
    names = {"cvar_x": p.cvar_x, "cvar_z": p.cvar_z, "cluster": p.cluster, "y": p.y, "x": p.x, "w": p.w, "z": p.z}
    return re.sub(r"\b(cvar_x|cvar_z|cluster|y|x|w|z)\b", lambda m: names[m.group(1)], text)


def engine_fit(students, profile, model):
    """The model's record as the fit step writes it (the parts the figures read)."""
    res = lmm_fit(students, formula(FIXED[model], profile), formula(RANDOM[model], profile), model=model,
                  reference={profile.w: profile.w_levels[0], profile.z: "No"})
    return {**res.to_dict(obs=True), "model": model, "status": {"state": "fitted", "why": "", "remedy": ""}}


def influence_record(fit, failed=(), refits=None):
    """An influence record with made-up but plausible numbers; `failed` clusters without a refit;
    the first `refits` rows exact (default: all), the others one-step."""
    ids = list(fit["ranef"])
    refits = len(ids) if refits is None else refits
    rng = np.random.default_rng(1)
    rows = [{"cluster": c, "exact": i < refits, "error": "ModelError: singular"} if c in failed else
            {"cluster": c, "exact": i < refits, "cook": float(rng.gamma(1, 0.05)),
             "dfbetas": {t: float(rng.normal(0, 0.3)) for t in fit["fixef"]}} for i, c in enumerate(ids)]
    return minimal("influence", dataset="synth", model="ints_slopes", clusters=len(ids), terms=list(fit["fixef"]),
                   refits=refits, cutoff=4 / len(ids), failed=list(failed), rows=rows)


def ols_block(students, profile):
    """The inference record's `ols` block for the pooled y ~ x * w + z * w (plain numpy)."""
    x = students[profile.x].to_numpy(float)
    w = (students[profile.w].astype(str) == profile.w_levels[1]).to_numpy(float)
    z = (students[profile.z] == "Yes").to_numpy(float)
    X = np.column_stack([np.ones_like(x), x, w, z, x * w, w * z])
    y = students[profile.y].to_numpy(float)
    XtXi = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, XtXi, X)
    e = y - X @ (XtXi @ X.T @ y)
    s2 = e @ e / (len(y) - X.shape[1])
    r = e / np.sqrt(s2 * (1 - h))
    cooks = r ** 2 * h / ((1 - h) * X.shape[1])
    units = {"row": students["row"].tolist(), "cluster": students[profile.cluster].astype(str).tolist(),
             "fitted": (y - e).tolist(), "resid": e.tolist(), "std_resid": r.tolist(), "leverage": h.tolist(),
             "cooks": cooks.tolist()}
    top = np.argsort(-cooks)[:5]
    return {"formula": "y ~ x * w + z * w", "n": len(y), "coef": {}, "se": {}, "p": {}, "r2": 0.2,
            "sigma": float(np.sqrt(s2)), "units": units,
            "top_units": [{"row": units["row"][i], "cluster": units["cluster"][i], "cooks": cooks[i],
                           "leverage": h[i], "std_resid": r[i]} for i in top], "clusters": []}


def lab_inputs(n_clusters, seed):
    """Synthetic students with z and the fits and Lab records of every Lab figure; a model the
    engine cannot fit on so few clusters is left out (the book shows why instead of the figure)."""
    profile = z_profile()
    students = with_z(synthetic_students(n_clusters, seed=seed, sex=False, profile=profile), profile, seed)
    fits = {}
    for model in FIXED:
        try:
            fits[model] = engine_fit(students, profile, model)
        except HlmError:
            pass
    fits["influence/ints_slopes"] = influence_record(fits["ints_slopes"])
    fits["inference"] = {"dataset": "synth", "ols": ols_block(students, profile)}
    return {"students": students, "schools": None, "fits": fits, "profile": profile}


@pytest.fixture(scope="module")
def lab():
    return lab_inputs(8, seed=3)


def draw(name, inputs) -> Figure:
    spec = FIGURES[name]
    fig = render(name, inputs["students"], inputs["schools"],
                 {k: inputs["fits"][k] for k in spec.fits + spec.lab}, inputs["profile"])  # only what it declares
    assert isinstance(fig, Figure)
    assert any(ax.lines or ax.collections for ax in fig.axes)
    save_figure(fig, svg=io.BytesIO())
    return fig


# ------------------------------------------------------------------ the registry

def test_lab_figures_are_registered():
    assert set(LAB) == {"dx_resid_qq", "dx_resid_fitted", "dx_resid_cluster", "dx_resid_level2", "dx_blup_qq",
                        "dx_blup_level2", "dx_influence", "lab_g_ellipse", "lab_w_bands", "lab_marg_cond",
                        "mino_pancake", "mino_gap", "mino_ols_diag"}
    assert FIGURES["dx_influence"].lab == ("influence/ints_slopes",)
    assert FIGURES["mino_ols_diag"].lab == ("inference",)
    assert set(Z_FIGURES) == {"mino_pancake", "mino_gap", "mino_ols_diag"}
    assert all(not FIGURES[n].lab for n in LAB if n not in ("dx_influence", "mino_ols_diag"))


@pytest.mark.parametrize("name", LAB)
def test_captions_use_the_roles(name, lab):
    text = caption(name, lab["profile"])
    assert len(text) > 80 and "{" not in text
    assert "SES" in text or "minority status" in text or "school" in text
    other = make_profile(sex=False, names={"cluster": "clinic", "x": "dose", "y": "score", "w": "arm"})
    assert "SES" not in caption(name, other) and "school" not in caption(name, other)


def test_lab_records_have_paths():
    from hlm.artifacts import Artifacts

    for spec in FIGURES.values():
        for name in spec.lab:
            assert Artifacts("d", ROOT).lab_path(name).is_relative_to(ROOT / "data/fits/d")


# ------------------------------------------------------------------ drawing

@pytest.mark.parametrize("name", LAB)
def test_each_lab_figure_draws(name, lab):
    draw(name, lab)


@pytest.fixture(scope="module")
def three():
    return lab_inputs(3, seed=11)


@pytest.mark.parametrize("name", LAB)
def test_each_lab_figure_draws_on_three_clusters(name, three):
    """The engine refuses the Minority models on three clusters (their cluster-level terms are
    collinear with the intercept): those figures name the missing fit, the others draw."""
    assert sorted(set(FIXED) - set(three["fits"])) == ["mino_rs", "mino_rs_z"]
    missing = [m for m in FIGURES[name].fits if m not in three["fits"]]
    if missing:
        with pytest.raises(MissingInput, match=f"needs the fit '{missing[0]}'"):
            render(name, three["students"], None, three["fits"], three["profile"])
    else:
        draw(name, three)


def test_labels_name_the_extremes(lab):
    fig = draw("dx_resid_qq", lab)
    ids = set(lab["students"][lab["profile"].cluster].astype(str))
    assert len(fig.axes[0].texts) == 3 and {t.get_text() for t in fig.axes[0].texts} <= ids
    fig = draw("mino_ols_diag", lab)
    assert len(fig.axes[1].texts) == 5 and all(":" in t.get_text() for t in fig.axes[1].texts)


def test_influence_leaves_out_failed_refits(lab):
    fits = dict(lab["fits"])
    failed = list(fits["ints_slopes"]["ranef"])[:2]
    fits["influence/ints_slopes"] = influence_record(fits["ints_slopes"], failed=failed)
    fig = draw("dx_influence", {**lab, "fits": fits})
    dots = [ln for ln in fig.axes[0].lines if ln.get_marker() == "o"]
    assert len(dots[0].get_xdata()) == len(fits["ints_slopes"]["ranef"]) - 2
    assert any("2 of the 8 schools\ncould not be refitted" in t.get_text() for t in fig.axes[0].texts)


def test_influence_says_how_many_are_one_step(lab):
    fits = dict(lab["fits"])
    fits["influence/ints_slopes"] = influence_record(fits["ints_slopes"], refits=3)
    fig = draw("dx_influence", {**lab, "fits": fits})
    assert any(t.get_text() == "5 of the 8: one-step\napproximations (not refitted)" for t in fig.axes[0].texts)
    fits["influence/ints_slopes"] = influence_record(fits["ints_slopes"])
    fig = draw("dx_influence", {**lab, "fits": fits})
    assert not any("one-step" in t.get_text() for t in fig.axes[0].texts)


def test_zero_variance_and_singular_g(lab):
    """A slope variance of 0: the ellipses are segments, the scaled BLUPs of the slope NaN."""
    fit = {**lab["fits"]["ints_slopes"], "G": [[2.0, 0.0], [0.0, 0.0]]}
    x = lab["profile"].x
    fit["ranef"] = {c: {**r, x: 0.0} for c, r in fit["ranef"].items()}
    fit["ranef_cov"] = {c: [[v[0][0], 0.0], [0.0, 0.0]] for c, v in fit["ranef_cov"].items()}
    inputs = {**lab, "fits": {**lab["fits"], "ints_slopes": fit}}
    for name in ("lab_g_ellipse", "dx_blup_qq", "dx_blup_level2"):
        draw(name, inputs)
    assert standardized_blups(fit)[x].isna().all()
    G3 = np.outer([1.0, 0.2, 0.5], [1.0, 0.2, 0.5])  # rank 1: a needle, flatter than a pancake
    draw("mino_pancake", {**lab, "fits": {**lab["fits"], "mino_rs_z": {**lab["fits"]["mino_rs_z"], "G": G3.tolist()}}})


def test_a_missing_coefficient_is_an_error_not_a_zero(lab):
    fit = lab["fits"]["mino_rs"]
    zterm = "MinorityYes"
    fixef = {k.replace(zterm, "MinorityOther"): v for k, v in fit["fixef"].items()}
    with pytest.raises(MissingInput, match=zterm):
        render("mino_gap", lab["students"], None, {"mino_rs": {**fit, "fixef": fixef}}, lab["profile"])


def test_ols_error_is_said(lab):
    fits = {**lab["fits"], "inference": {"dataset": "synth", "ols": {"error": "no z role"}}}
    fig = render("mino_ols_diag", lab["students"], None, fits, lab["profile"])
    assert "no z role" in fig.axes[0].texts[0].get_text()


def test_w_bands_match_effect_bands(lab):
    fig = draw("lab_w_bands", lab)
    fit, p = lab["fits"]["ints_slopes"], lab["profile"]
    line = [ln for ln in fig.axes[0].lines if ln.get_label() == "estimated effect"][0]
    x0, y0 = line.get_xdata()[0], line.get_ydata()[0]
    assert y0 == pytest.approx(fit["fixef"][p.w_term] + fit["fixef"][p.xw_term] * x0)


def test_boxes_follow_the_subset_rule(lab):
    """Above MAX_CLUSTERS clusters, dx_resid_cluster draws SUBSET boxes (and lab_marg_cond SUBSET lines)."""
    profile = lab["profile"]
    students = synthetic_students(MAX_CLUSTERS + 50, seed=5, sex=False, profile=profile)
    n = len(students)
    obs = {k: np.zeros(n).tolist() for k in ("fitted_pop", "fitted", "resid_pop", "resid")}
    obs["std_resid"] = np.random.default_rng(0).normal(size=n).tolist()
    fig = render("dx_resid_cluster", students, None, {"ints_slopes": {"obs": obs}}, profile)
    assert len(fig.axes[0].patches) == SUBSET
    assert "Only 40 of the" in caption("dx_resid_cluster", profile, MAX_CLUSTERS + 50)
    assert caption("dx_resid_cluster", profile, 40) == caption("dx_resid_cluster", profile)


# ------------------------------------------------------------------ the hsb40 artifacts

@pytest.mark.slow
@pytest.mark.parametrize("name", LAB)
def test_each_lab_figure_draws_on_hsb40(name, hsb40_book):
    """The Lab figures on the records the DAG wrote for hsb40 (the session's build)."""
    from hlm.figures.cli import load_inputs
    from hlm.fitstatus import status_of

    spec, profile = FIGURES[name], load_profile("hsb40")
    assert spec.applies(profile), f"hsb40's profile lacks {spec.needs}"
    inputs = load_inputs(spec, "hsb40", profile, root=hsb40_book)
    assert all(status_of(rec).usable for rec in inputs["fits"].values())
    assert set(spec.lab) <= set(inputs["fits"])  # the Lab records reach the figure
    draw(name, inputs)


def test_the_pancake_title_prints_as_the_text_no_exponent_no_negative_zero(lab):
    """A singular G's eigenvalue of 1e-16 (or -1e-17) prints as 0.0000, never as 1.33e-16 or -0.0000."""
    from hlm.figures.lab import _eigen_title, _fixed

    assert _fixed(-1e-17, 4) == "0.0000" and _fixed(1.33e-16, 4) == "0.0000" and _fixed(-0.25, 2) == "-0.25"
    u, v = np.array([1.0, 0.2, 0.5]), np.array([0.3, -1.0, 0.1])
    G3 = np.outer(u, u) + np.outer(v, v)   # rank 2: a pancake, its third eigenvalue a rounding error
    title = _eigen_title(G3)
    assert "e-" not in title and "-0.0000" not in title and title.endswith("smallest / largest: 0.0000")
    fig = draw("mino_pancake", {**lab, "fits": {**lab["fits"], "mino_rs_z": {**lab["fits"]["mino_rs_z"],
                                                                           "G": G3.tolist()}}})
    assert fig._suptitle.get_text() == title
