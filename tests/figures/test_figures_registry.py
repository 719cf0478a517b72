"""Every registered figure draws on synthetic data; the registry and captions are sound."""
import io

import pytest
from matplotlib.figure import Figure

from hlm.figures import FIGURES, caption, figure_names, render, save_figure

from hlm.catalog import model_names
from hlm.config import load_config

ALL = sorted(FIGURES)  # every registered figure


def test_registry_numbers_its_figures():
    assert all(spec.name == name for name, spec in FIGURES.items())
    numbered = {s.number: n for n, s in FIGURES.items() if s.number}
    assert sorted(numbered) == list(range(1, 20))


def test_specs_list_known_tables_and_fits():
    models = set(model_names(load_config()))  # the catalog's models
    for spec in FIGURES.values():
        assert set(spec.tables) <= {"students.parquet", "schools.csv"}
        assert set(spec.fits) <= models
        if spec.group == "simulation":  # the simulated example follows the data's design, no fit
            assert spec.tables == ("students.parquet",) and spec.fits == ()


# the z (minority) figures are drawn in test_lab_figures.py, on data with a z role
Z_FIGURES = sorted(n for n, s in FIGURES.items() if "z" in s.needs)


def test_figures_needing_sex_are_skipped_without_it(profile, nosex_inputs):
    names = figure_names(nosex_inputs["profile"])
    assert "trellis_sex" not in names and "scatter_sector_sex" not in names
    assert sorted(figure_names(profile)) == sorted(set(ALL) - set(Z_FIGURES))


@pytest.mark.parametrize("name", sorted(set(ALL) - set(Z_FIGURES)))
def test_each_figure_draws(name, inputs):
    spec = FIGURES[name]
    only = {k: v for k, v in inputs.items() if k != "fits"}
    if not spec.tables:
        only["students"] = only["schools"] = None
    fig = render(name, **only, fits={m: inputs["fits"][m] for m in spec.fits + spec.lab})  # what it declares
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert axes
    assert any(ax.lines or ax.collections or ax.patches for ax in axes)
    assert all(ax.get_xlabel() or ax.get_ylabel() or ax.get_title() for ax in axes) or fig.get_supxlabel()
    buf = io.BytesIO()
    save_figure(fig, svg=buf)
    assert buf.getvalue().startswith(b"<?xml")


@pytest.mark.parametrize("name", sorted(set(ALL) - {"trellis_sex", "scatter_sector_sex"} - set(Z_FIGURES)))
def test_each_figure_works_with_other_column_names_and_no_sex(name, nosex_inputs):
    fig = render(name, **nosex_inputs)
    text = " ".join(ax.get_xlabel() + ax.get_ylabel() for ax in fig.axes)
    if FIGURES[name].group != "simulation" and name not in ("quantile_plot", "trellis"):
        assert "SES" not in text and "math" not in text


@pytest.mark.parametrize("name", ALL)
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


@pytest.mark.parametrize("name", ALL)
def test_alt_text_describes_the_image_not_the_caption(name, profile, nosex_inputs):
    """Every figure has an alt text (the HTML's alt, Quarto's fig-alt) saying what is drawn: it is
    not the caption again, reads in the dataset's words, and differs from every other figure's."""
    from hlm.figures.registry import alt
    text = alt(name, profile)
    assert 40 < len(text) < 300 and "{" not in text and text[0].isupper() and text.endswith(".")
    assert text != caption(name, profile) and text not in caption(name, profile)
    assert not caption(name, profile).startswith(text[:40])
    other = alt(name, nosex_inputs["profile"])
    if "SES" in text:
        assert "dose" in other and "SES" not in other
    assert sum(alt(n, profile) == text for n in ALL) == 1


def test_every_registered_figure_has_its_own_alt_text():
    from hlm.figures import registry
    assert set(registry._ALTS) == set(FIGURES)
    with pytest.raises(KeyError):
        registry._add("unregistered", "explore.scatter_ols")
