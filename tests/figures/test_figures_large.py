"""Thousands of clusters: figures drawing one element per cluster draw a stated subset (or a
density), their captions say so, and at most MAX_CLUSTERS clusters nothing changes."""
import hashlib
import io
from dataclasses import replace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from hlm.config import ROOT, load_profile
from hlm.figures import FIGURES, caption, render, save_figure
from hlm.figures._base import drawn
from hlm.figures.registry import MAX_CLUSTERS, SUBSET
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

# SHA-256 of the SVGs drawn from the notes' 40 schools before large data were handled
# (matplotlib 3.11.2); a figure changed on purpose needs its hash updated here.
MPL = "3.11.2"
BEFORE = {
    "m2_beta_means": "a90d61e1e21abae58ece2a8cbe3466ec01ee8a7cd8d9a9f95e13ebeb28db6f41",
    "m2_beta_schools": "4d553478fcb38a590725a66bb210f87a3729b44f791f8f5dd8033e2a7e7f5ec6",
    "m2_lines": "4b71d008cfb330719b204628e80dd3eada776bc3b6114255c302409433bd617b",
    "m3_manova": "57cee94c77fc2f607e0ff39f322948aeeae4b500b2bb8154afea4c08e425df21",
    "ow_blue_blup": "8cde7230a0fcd6c3ecc5d706ae908f88b41ad5569eaf1fdfeb3f3e305af81b12",
    "ow_by_school": "11259faac386d651a96941e892428f5cc092e3cbe2d94648fa289e960e960b12",
    "ow_by_school_zoom": "da72eb544a7e04d3d9f1ad4ef84d464b74f20775eee3d1bb0a9f5444d88b9c6b",
    "ow_resid_fitted": "fad3b91e7a0fc33c4c3c6bce779a5f6a23751cde027575f91954d59de9486c16",
    "ow_shrinkage": "aa60c2f13a92c4cdf0a1ab53737c790e7ac18a54aec8e1f927ab70b2948ecefe",
    "rs_beta": "0247862b6d9e156494be49d14706974c2473e1c64d863055e5f43ecba9246501",
    "rs_blup_lines": "51f5cfdfd627c655014c1d438f71bea516991e6e985bb677942c418ba49ec8db",
    "three_effects": "57a1557267e966acf6f425b9aeae4b52f2cae77807c508bd41a0e00af5a30187",
    "trellis": "cc0d1d35761d4473ca9c7c96ef5ebe56fa8b99020f2d2be5e6287aed402dbb4a",
    "trellis_sex": "84f9eec80f208f6ef8e5a61f2c253931cfd15e436d9db99fde6b03bf52dd1b8f",
}


@pytest.fixture(scope="module")
def notes40():
    keep = [str(c) for c in load_profile("hsb40").sample["clusters"]]
    raw = pd.read_csv(ROOT / "data/raw/hsb_students.csv", dtype={"School": str})
    sch = pd.read_csv(ROOT / "data/raw/hsb_schools.csv", dtype={"School": str})
    raw = raw[raw["School"].isin(keep)].merge(sch[["School", "Sector", "Size"]], on="School")
    students = derive(raw[["School", "MathAch", "SES", "Sector", "Size", "Sex"]].reset_index(drop=True), PROFILE)
    return {"students": students, "schools": schools_table(students, PROFILE),
            "fits": make_fits(students, PROFILE), "profile": PROFILE}


@pytest.mark.skipif(matplotlib.__version__ != MPL, reason=f"hashes recorded with matplotlib {MPL}")
@pytest.mark.parametrize("name", sorted(BEFORE))
def test_the_notes_40_schools_draw_as_before(name, notes40):
    svg = io.BytesIO()
    save_figure(render(name, **notes40), svg=svg)
    assert hashlib.sha256(svg.getvalue()).hexdigest() == BEFORE[name]
