"""Every registered figure draws on synthetic data; the registry and captions are sound."""
import io

import pytest
from matplotlib.figure import Figure

from hlm.figures import FIGURES, caption, figure_names, render, save_figure

EXPECTED = {
    "quantile_plot", "trellis", "trellis_sex", "scatter_ols", "scatter_sector_sex", "m1_lines", "m1_beta",
    "m1_diff", "m2_lines", "m2_beta_schools", "m2_beta_means", "m2_diff", "m3_manova", "m3_shadows",
    "m3_diff", "m4_between", "m4_arc", "three_effects", "sim_mean_line", "sim_true_line", "sim_data",
    "sim_ls_line", "sim_beta_mean", "sim_G_ellipse", "sim_true_beta", "sim_sampling_ellipse",
    "sim_beta_hat", "sim_V_ellipse", "ow_resid_fitted", "ow_by_school", "ow_by_school_zoom",
    "ow_blue_blup", "ow_shrinkage", "rs_blup_lines", "rs_beta"}


def test_registry_has_every_figure_of_the_issue():
    assert set(FIGURES) == EXPECTED
    numbered = {s.number: n for n, s in FIGURES.items() if s.number}
    assert sorted(numbered) == list(range(1, 20))


def test_specs_list_known_tables_and_fits():
    models = {"pooled", "fe_lines", "two_stage", "between", "three_effects", "oneway", "ints_slopes"}
    for spec in FIGURES.values():
        assert set(spec.tables) <= {"students.parquet", "schools.csv"}
        assert set(spec.fits) <= models
        if spec.group == "simulation":
            assert spec.tables == () and spec.fits == ()


def test_figures_needing_sex_are_skipped_without_it(profile, nosex_inputs):
    names = figure_names(nosex_inputs["profile"])
    assert "trellis_sex" not in names and "scatter_sector_sex" not in names
    assert set(figure_names(profile)) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_figure_draws(name, inputs):
    spec = FIGURES[name]
    only = {k: v for k, v in inputs.items() if k != "fits"}
    if not spec.tables:
        only["students"] = only["schools"] = None
    fig = render(name, **only, fits={m: inputs["fits"][m] for m in spec.fits})  # only what it declares
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert axes
    assert any(ax.lines or ax.collections or ax.patches for ax in axes)
    assert all(ax.get_xlabel() or ax.get_ylabel() or ax.get_title() for ax in axes) or fig.get_supxlabel()
    buf = io.BytesIO()
    save_figure(fig, svg=buf)
    assert buf.getvalue().startswith(b"<?xml")


@pytest.mark.parametrize("name", sorted(EXPECTED - {"trellis_sex", "scatter_sector_sex"}))
def test_each_figure_works_with_other_column_names_and_no_sex(name, nosex_inputs):
    fig = render(name, **nosex_inputs)
    text = " ".join(ax.get_xlabel() + ax.get_ylabel() for ax in fig.axes)
    if FIGURES[name].group != "simulation" and name not in ("quantile_plot", "trellis"):
        assert "SES" not in text and "math" not in text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_captions_use_role_labels(name, profile, nosex_inputs):
    text = caption(name, profile)
    assert len(text) > 40 and "{" not in text
    other = caption(name, nosex_inputs["profile"])
    if "SES" in text:
        assert "dose" in other and "SES" not in other


def test_axis_labels_come_from_roles(inputs):
    fig = render("m1_beta", **inputs)
    ax = fig.axes[0]
    assert "SES" in ax.get_ylabel() and "math achievement" in ax.get_xlabel()
