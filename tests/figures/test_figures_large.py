"""Thousands of clusters: figures drawing one element per cluster draw a stated subset (or a
density), their captions say so, and at most MAX_CLUSTERS clusters nothing changes."""
import copy
import io
import os
import warnings
from dataclasses import replace
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from hlm.config import ROOT, load_profile
from hlm.figures import FIGURES, caption, render, save_figure
from hlm.figures._base import drawn
from hlm.figures.registry import MAX_CLUSTERS, SUBSET
import drawing
from synth import derive, make_fits, make_profile, schools_table, synthetic_students

K = 2000
PROFILE = make_profile(sex=True)
DATA_FIGURES = sorted(n for n, s in FIGURES.items() if s.group != "simulation" and s.applies(PROFILE))
# the figures whose display changes above MAX_CLUSTERS: their caption says how
LARGE = sorted(n for n in DATA_FIGURES if caption(n, PROFILE, K) != caption(n, PROFILE))
SUBSET_FIGURES = [n for n in LARGE if "drawn at random" in caption(n, PROFILE, K)]


@pytest.fixture(scope="module")
def many():
    students = synthetic_students(K, seed=5, profile=PROFILE)
    return {"students": students, "schools": schools_table(students, PROFILE),
            "fits": make_fits(students, PROFILE), "profile": PROFILE}


@pytest.fixture(scope="module")
def figure(many):
    """figure(name): the figure drawn from `many`, drawn once."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = render(name, **many)
        return cache[name]
    return get


def _points(fig, **props):
    """Number of marker points in lines whose properties match `props` (e.g. label="BLUE")."""
    return sum(len(ln.get_xdata()) for ax in fig.axes for ln in ax.lines
               if all(getattr(ln, f"get_{k}")() == v for k, v in props.items()))


def _thin_lines(fig, lw):
    """Lines without markers drawn with width lw: one per cluster."""
    return sum(1 for ax in fig.axes for ln in ax.lines if ln.get_marker() in ("None", None, "")
               and ln.get_linewidth() == lw)


# per figure: how many clusters it draws, counted from its artists
COUNTS = {
    "trellis": lambda f: sum(ax.get_visible() for ax in f.axes),
    "trellis_sex": lambda f: sum(ax.get_visible() for ax in f.axes),
    "three_effects": lambda f: _points(f, label="school means"),
    "m2_lines": lambda f: _thin_lines(f, 0.8),
    "m2_beta_schools": lambda f: _points(f, alpha=0.55),
    "m2_beta_means": lambda f: _points(f, alpha=0.55),
    "m3_manova": lambda f: _points(f, alpha=0.55),
    "ow_by_school": lambda f: len(np.unique(f.axes[0].lines[0].get_xdata())),
    "ow_by_school_zoom": lambda f: len(np.unique(f.axes[0].lines[0].get_xdata())),
    "ow_blue_blup": lambda f: _points(f, label="BLUE (school mean)"),
    "ow_shrinkage": lambda f: _points(f, label="BLUE"),
    "rs_blup_lines": lambda f: _thin_lines(f, 0.8),
    "rs_beta": lambda f: _points(f, color="#0072B2", marker="o"),
    "dx_resid_cluster": lambda f: len(f.axes[0].patches),
    "lab_marg_cond": lambda f: len(f.axes[1].collections[0].get_segments()),
}


def test_every_changed_figure_is_counted_and_checked_at_40_schools():
    assert set(SUBSET_FIGURES) == set(COUNTS)
    assert set(LARGE) == set(COUNTS) | {"ow_resid_fitted"}
    assert set(BEFORE) <= set(LARGE)  # the figures that existed before large data were handled


@pytest.mark.parametrize("name", DATA_FIGURES)
def test_every_figure_draws_with_thousands_of_clusters(name, figure):
    fig = figure(name)
    assert any(ax.lines or ax.collections for ax in fig.axes)
    artists = len(fig.axes) + sum(len(ax.lines) + len(ax.texts) + len(ax.collections) for ax in fig.axes)
    assert artists < K / 10  # not one per cluster
    if name in COUNTS:
        assert COUNTS[name](fig) == SUBSET


def _labels(fig):
    """The cluster labels along the axis of ow_blue_blup."""
    return {t.get_text() for t in fig.axes[0].get_xticklabels()}


def test_the_same_clusters_in_every_figure(figure):
    panels = {ax.get_title() for ax in figure("trellis").axes if ax.get_visible()}
    assert panels == _labels(figure("ow_blue_blup")) and len(panels) == SUBSET


def test_all_clusters_up_to_the_threshold():
    ids = pd.Series([f"c{i}" for i in range(MAX_CLUSTERS + 1)])
    assert drawn(ids[:MAX_CLUSTERS], PROFILE).all()
    assert drawn(ids, PROFILE).sum() == SUBSET


def test_overall_estimates_use_every_cluster(many, figure):
    ax = figure("ow_by_school").axes[0]
    means = many["students"].groupby("School", observed=True)["MathAch"].mean()
    assert any(np.isclose(ln.get_ydata()[0], means.mean()) for ln in ax.lines[1:])


def test_residuals_become_a_density(many, figure):
    hexes = [c for c in figure("ow_resid_fitted").axes[0].collections if isinstance(c, PolyCollection)]
    assert hexes and hexes[0].get_array().sum() == len(many["students"])
    assert "hexagon" in caption("ow_resid_fitted", many["profile"], K)


def test_subset_seed_comes_from_the_profile(many, figure):
    seeded = replace(PROFILE, sample={"random": K, "seed": 7})
    assert _labels(render("ow_blue_blup", **{**many, "profile": seeded})) != _labels(figure("ow_blue_blup"))
    assert "40 of the 2,000 schools, drawn at random (seed 7)" in caption("trellis", seeded, K)


@pytest.mark.parametrize("name", SUBSET_FIGURES)
def test_captions_say_what_is_drawn(name, nosex_inputs):
    assert "Only 40 of the 2,000 schools, drawn at random (seed 1), are shown" in caption(name, PROFILE, K)
    assert "40 of the 5,000 clinics" in caption(name, nosex_inputs["profile"], 5000)
    assert caption(name, PROFILE, MAX_CLUSTERS) == caption(name, PROFILE, 40) == caption(name, PROFILE)


# ------------------------------------------------------------------ nothing changes at 40 clusters

# What the figures that existed before large data were handled draw from the notes' 40 schools,
# read back by drawing.read: a figure changed on purpose needs the reference rewritten
# (HLM_REWRITE_DRAWN=1, see tests/reference/README.md). Compared with a tolerance (drawing.TOL),
# not as file hashes: an SVG's bytes change with the last digits of a fit, which differ
# between machines' BLAS builds (test_figures_output checks bytes on one machine).
DRAWN = Path(__file__).resolve().parents[1] / "reference" / "figures" / "notes40-drawn.json"
BEFORE = ("m2_beta_means", "m2_beta_schools", "m2_lines", "m3_manova", "ow_blue_blup", "ow_by_school",
          "ow_by_school_zoom", "ow_resid_fitted", "ow_shrinkage", "rs_beta", "rs_blup_lines", "three_effects",
          "trellis", "trellis_sex")


@pytest.fixture(scope="module")
def notes40():
    keep = [str(c) for c in load_profile("hsb40").sample["clusters"]]
    raw = pd.read_csv(ROOT / "data/raw/hsb_students.csv", dtype={"School": str})
    sch = pd.read_csv(ROOT / "data/raw/hsb_schools.csv", dtype={"School": str})
    raw = raw[raw["School"].isin(keep)].merge(sch[["School", "Sector", "Size"]], on="School")
    students = derive(raw[["School", "MathAch", "SES", "Sector", "Size", "Sex"]].reset_index(drop=True), PROFILE)
    return {"students": students, "schools": schools_table(students, PROFILE),
            "fits": make_fits(students, PROFILE), "profile": PROFILE}


@pytest.fixture(scope="module")
def reference(notes40):
    """The recorded drawings by figure; rewritten first when HLM_REWRITE_DRAWN=1."""
    if os.environ.get("HLM_REWRITE_DRAWN") == "1":
        drawing.write(DRAWN, {name: drawing.read(render(name, **notes40)) for name in BEFORE})
        warnings.warn(f"rewrote {DRAWN.name} (HLM_REWRITE_DRAWN=1): review its diff before committing")
    recorded = drawing.load(DRAWN)
    assert recorded["matplotlib"] == matplotlib.__version__, "the reference was drawn by another matplotlib"
    return recorded["figures"]


def test_the_reference_holds_the_figures_from_before(reference):
    assert sorted(reference) == sorted(BEFORE)


@pytest.mark.parametrize("name", BEFORE)
def test_the_notes_40_schools_draw_as_before(name, notes40, reference):
    drawing.compare(reference[name], drawing.read(render(name, **notes40)), name=name)


def _perturbed(obj, rng, rel=1e-10):
    """Every float of a fit record times (1 + rel*s), s = +-1 at random: another machine's last digits."""
    if isinstance(obj, dict):
        return {k: _perturbed(v, rng, rel) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_perturbed(v, rng, rel) for v in obj]
    if isinstance(obj, float):
        return obj * (1 + rel * rng.choice((-1.0, 1.0)))
    return obj


@pytest.fixture(scope="module")
def perturbed40(notes40):
    fits = _perturbed(notes40["fits"], np.random.default_rng(2024))
    assert fits != notes40["fits"]
    return {**notes40, "fits": fits}


@pytest.mark.parametrize("name", BEFORE)
def test_fits_differing_in_their_10th_digit_draw_the_same(name, perturbed40, reference):
    drawing.compare(reference[name], drawing.read(render(name, **perturbed40)), name=name)


def test_the_same_perturbation_changes_the_svg_bytes(notes40, perturbed40):
    """Why the reference is not a hash: the bytes move while the drawing does not."""
    svg = {}
    for key, inputs in (("notes", notes40), ("perturbed", perturbed40)):
        svg[key] = io.BytesIO()
        save_figure(render("rs_blup_lines", **inputs), svg=svg[key])
    assert svg["notes"].getvalue() != svg["perturbed"].getvalue()


def test_a_fixed_effect_changed_by_1_percent_is_seen(notes40, reference):
    fits = copy.deepcopy(notes40["fits"])
    fits["ints_slopes"]["fixef"]["(Intercept)"] *= 1.01
    drawn = drawing.read(render("rs_blup_lines", **{**notes40, "fits": fits}))
    # the lines move up with the limits, so the axes show it by their limits and tick labels
    with pytest.raises(AssertionError, match=r"differences in what rs_blup_lines draws[^\n]*\n"
                                             r"rs_blup_lines\.axes\[0\]\(sector: Catholic\)\.ylim: "):
        drawing.compare(reference["rs_blup_lines"], drawn, name="rs_blup_lines")


def test_a_changed_text_is_seen(notes40, reference):
    fig = render("ow_shrinkage", **notes40)
    fig.axes[0].set_xlabel("school size")
    assert drawing.differences(reference["ow_shrinkage"], drawing.read(fig), path="ow_shrinkage") == [
        "ow_shrinkage.axes[0].xlabel: 'school sample size' != 'school size'"]
