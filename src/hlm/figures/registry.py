"""The registry of figures: what each reads, which roles it needs, and its caption."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

STUDENTS, SCHOOLS = "students.parquet", "schools.csv"
HERE = Path(__file__).resolve().parent

# Figures drawing one mark, line or panel per cluster draw all of them up to MAX_CLUSTERS clusters
# (HSB's 160 schools stay whole). With more, they draw SUBSET clusters drawn at random with
# subset_seed(profile), the same in every figure (hlm.figures._base.drawn), or a density, and
# their caption says so; overall estimates (mean lines, ellipses) still use every cluster.
MAX_CLUSTERS = 200
SUBSET = 40
SUBSET_SEED = 1


def subset_seed(profile) -> int:
    """The seed of the drawn subset: the profile's `sample: {seed: S}`, else SUBSET_SEED."""
    sample = profile.sample
    return int(sample.get("seed", SUBSET_SEED)) if isinstance(sample, dict) else SUBSET_SEED


@dataclass(frozen=True)
class FigureSpec:
    """One figure: the function drawing it and the artifacts it reads."""

    name: str
    target: str                           # "module.function" in hlm.figures, imported on use
    fits: tuple[str, ...] = ()
    tables: tuple[str, ...] = (STUDENTS,)
    needs: tuple[str, ...] = ()           # optional roles the figure needs (e.g. "sex")
    caption: Callable = field(default=lambda p, clusters=None: "", repr=False)  # (profile, clusters)
    number: int | None = None             # the notes' figure number, where it has one
    group: str = ""

    def applies(self, profile) -> bool:
        return all(profile.has(r) for r in self.needs)

    @property
    def module(self) -> str:
        return self.target.split(".")[0]

    @property
    def source(self) -> Path:
        """The file that draws the figure (a rule input: editing it redraws the figure)."""
        return HERE / f"{self.module}.py"

    @property
    def func(self) -> Callable:
        module = importlib.import_module(f"hlm.figures.{self.module}")
        return getattr(module, self.target.split(".")[1])


def _L(p):
    """Role labels used in captions."""
    return {"y": p.label("y"), "x": p.label("x"), "w": p.label("w"), "c": p.cluster_label,
            "u": p.unit_label}


# What the caption of a figure drawing one element per cluster adds above MAX_CLUSTERS clusters
_SHOWN = "Only {n} of the {k:,} {cs}, drawn at random (seed {seed}), are shown"
_SUBSET = _SHOWN + "."
_SUBSET_REST = _SHOWN + "; the overall estimates use all {k:,}."
_DENSITY = "With {k:,} {cs} the stripes merge; the shading counts the {us} in each hexagon."


def _cap(text: str, large: str = "") -> Callable:
    """The caption, from the profile and the number of clusters in the data (the figure job
    writes it beside the SVG); `large` is what it adds above MAX_CLUSTERS clusters."""
    def caption(p, clusters: int | None = None) -> str:
        out = text.format(**_L(p))
        if large and clusters is not None and clusters > MAX_CLUSTERS:
            out += " " + large.format(n=SUBSET, k=clusters, seed=subset_seed(p), cs=p.clusters_label,
                                      us=p.units_label)
        return out[:1].upper() + out[1:]
    return caption


_SPECS: list[FigureSpec] = []


def _add(name, func, fits=(), tables=(STUDENTS,), needs=(), caption="", number=None, group="", large=""):
    _SPECS.append(FigureSpec(name, func, tuple(fits), tuple(tables), tuple(needs),
                             _cap(caption, large) if isinstance(caption, str) else caption, number, group))


# ---- looking at the data
_add("quantile_plot", "explore.quantile_plot", number=1, group="data", caption=(
    "Every variable of the {u}-level table, sorted from smallest to largest and plotted against "
    "its quantile rank: flat stretches are repeated values, steps are categories, and the "
    "{c}-level variables show as long runs shared by all {u}s of a {c}."))
_add("trellis", "explore.trellis", fits=("fe_lines",), number=2, group="data", caption=(
    "{y} against {x} in each {c}, with the {c}'s least-squares line. Panels are in informative-id "
    "order (by {w}, then by the {c}'s mean {x}). The lines differ both because each {c} has its own "
    "relationship and because each line is estimated from a small sample."), large=_SUBSET)
_add("trellis_sex", "explore.trellis_sex", fits=("fe_lines",), needs=("sex",), number=3, group="data",
     caption=("The same trellis with {u}s coloured by sex, which shows at a glance which {c}s are "
              "single-sex and which are mixed."), large=_SUBSET)
_add("scatter_ols", "explore.scatter_ols", fits=("three_effects",), group="data", caption=(
    "All {u}s pooled, ignoring {c}s: {y} against {x} with one least-squares line."))
_add("scatter_sector_sex", "explore.scatter_sector_sex", needs=("sex",), group="data", caption=(
    "One panel per {w}, {u}s grouped by sex, each group with its own least-squares line."))
_add("three_effects", "explore.three_effects", fits=("three_effects",), group="methods", caption=(
    "Three effects of {x} in one picture: the within-{c} slope (short blue segments through each "
    "{c} mean), the between-{c} slope (the line through the {c} means) and the pooled slope that "
    "ignores {c}s and mixes the other two."), large=_SUBSET_REST)


# ---- the classical methods
_add("m1_lines", "methods.m1_lines", fits=("pooled",), group="methods", caption=(
    "Method 1, pooling all {u}s of a {w}: the least-squares line of each {w}, drawn over the data."))
_add("m1_beta", "methods.m1_beta", fits=("pooled",), number=4, group="methods", caption=(
    "The same two lines in beta space, where a line is a point (intercept, slope of {x}); each "
    "ellipse is a 95% confidence region for its {w}'s line under the pooled model."))
_add("m1_diff", "methods.m1_diff", fits=("pooled",), group="methods", caption=(
    "The difference between the two {w}s' lines in beta space under pooling. The solid ellipse is a "
    "95% confidence region; the dashed one has shadows equal to the 95% intervals of each coordinate. "
    "The cross marks no difference."))
_add("m2_lines", "methods.m2_lines", fits=("fe_lines", "pooled"), group="methods", caption=(
    "Method 2: every {c}'s own least-squares line, in one panel per {w}, with the average of the "
    "{c} lines (solid) and the pooled line of Method 1 (dashed)."), large=_SUBSET_REST)
_add("m2_beta_schools", "methods.m2_beta_schools", fits=("fe_lines", "pooled"), number=5, group="methods",
     caption=("Each {c}'s least-squares line as a point in beta space, with the pooled estimates and "
              "their 95% confidence ellipses (dotted)."), large=_SUBSET_REST)
_add("m2_beta_means", "methods.m2_beta_means", fits=("fe_lines", "pooled"), number=6, group="methods",
     caption=("Adding the average of the {c} lines in each {w} and its 95% confidence ellipse, whose "
              "size reflects only the variation of {u}s within {c}s."), large=_SUBSET_REST)
_add("m2_diff", "methods.m2_diff", fits=("fe_lines", "pooled"), number=7, group="methods", caption=(
    "The difference between {w}s in beta space: averaging the {c} lines (green) against pooling "
    "(grey). The averaged-lines ellipse would keep its size however far apart the {c}s were."))
_add("m3_manova", "methods.m3_manova", fits=("fe_lines", "two_stage"), group="methods", caption=(
    "Method 3, two stages: the {c} lines treated as a multivariate sample. Both ellipses share a "
    "centre; the two-stage (MANOVA) ellipse (solid) is usually larger than the fixed-effects one (dashed) "
    "because it generalizes to new {c}s, not just new {u}s of the same {c}s."), large=_SUBSET_REST)
_add("m3_shadows", "methods.m3_shadows", fits=("two_stage",), group="methods", caption=(
    "The two-stage difference between {w}s: the solid ellipse covers the pair of differences with "
    "95% confidence; the dashed ellipse's shadows (shaded bands) are the 95% intervals for the "
    "difference in intercepts and in {x} slopes. A band that misses zero is significant at 5%."))
_add("m3_diff", "methods.m3_diff", fits=("fe_lines", "two_stage"), group="methods", caption=(
    "Differences between {w}s: the two-stage ellipses (magenta) generalize to the population of "
    "{c}s; the fixed-effects ellipses (green) only to new {u}s in the same {c}s."))
_add("m4_between", "methods.m4_between", fits=("fe_lines", "pooled", "between"), group="methods", caption=(
    "Method 4 added: the between-{c} line (regressing {c} means of {y} on {c} means of {x}) next "
    "to the within-{c} and the pooled estimates in each {w}. The pooled estimate typically sits "
    "between the other two; the thin curve joins the three."))
_add("m4_arc", "methods.m4_arc", fits=("fe_lines", "pooled", "between"), group="methods", caption=(
    "The same for the differences between {w}s: the pooled difference lies on an arc from the "
    "within-{c} difference to the between-{c} difference."))

# ---- the simulated example (no data file)
_SIM = (
    ("sim_mean_line", 8, "A simulated population of {c}s: its mean line γ = (12, 2), the notes' example."),
    ("sim_true_line", 9, "One {c} drawn from that population, with its true line β_j = γ + u_j (the "
                         "{c}'s random effect u_j moves both intercept and slope)."),
    ("sim_data", 10, "The {c}'s data, generated around its true line with independent normal errors."),
    ("sim_ls_line", 11, "The least-squares line estimated from those data, beside the true line it estimates."),
    ("sim_beta_mean", 12, "Beta space: the population mean line becomes the point γ."),
    ("sim_G_ellipse", 13, "The dispersion ellipse of G, the variance of the true lines around γ. "
                          "Its shadows on the axes are γ ± one standard deviation."),
    ("sim_true_beta", 14, "The true (intercept, slope) of the simulated {c}: a little unusual, but plausible."),
    ("sim_sampling_ellipse", 15, "Around the true line, the dispersion ellipse of σ²(X′X)⁻¹: how far "
                                 "a least-squares estimate from this {c}'s design typically falls."),
    ("sim_beta_hat", 16, "The least-squares estimate actually observed for this {c}."),
    ("sim_V_ellipse", 17, "The ellipse of V_j = G + σ²(X′X)⁻¹ around γ: the spread of estimated "
                          "lines over {c}s. Here it almost coincides with the ellipse of G, because the "
                          "within-{c} sampling error is small next to G."),
)
for _name, _num, _text in _SIM:
    _add(_name, f"simulated.{_name}", tables=(), number=_num, group="simulation", caption=_text)

# ---- mixed models
_add("ow_resid_fitted", "mixed.ow_resid_fitted", fits=("oneway",), group="mixed", caption=(
    "One-way random-effects model: standardized residuals against fitted values. Each vertical "
    "stripe is a {c}; the fitted value is the {c}'s BLUP."), large=_DENSITY)
_add("ow_by_school", "mixed.ow_by_school", fits=("oneway",), group="mixed", caption=(
    "{y} of every {u}, {c} by {c}, with three estimates of the overall level: the mixed-model GLS "
    "estimate, the mean of all {u}s and the mean of the {c} means."), large=_SUBSET_REST)
_add("ow_by_school_zoom", "mixed.ow_by_school_zoom", fits=("oneway",), group="mixed", caption=(
    "The previous figure zoomed in on the three estimates: the GLS estimate usually lies between the "
    "{u} mean (weights by {c} size) and the mean of {c} means (equal weights)."), large=_SUBSET_REST)
_add("ow_blue_blup", "mixed.ow_blue_blup", fits=("oneway",), group="mixed", caption=(
    "For each {c}, the BLUE (its sample mean, blue) and the BLUP (orange), which is pulled toward "
    "the GLS estimate of the overall mean."), large=_SUBSET_REST)
_add("ow_shrinkage", "mixed.ow_shrinkage", fits=("oneway",), group="mixed", caption=(
    "Shrinkage against {c} sample size: each arrow goes from a {c}'s BLUE to its BLUP, toward the "
    "GLS estimate. Arrows are longer for BLUEs far from the mean and for small {c}s."), large=_SUBSET_REST)
_add("rs_blup_lines", "mixed.rs_blup_lines", fits=("ints_slopes",), number=18, group="mixed", caption=(
    "Each {c}'s BLUP line from the model with random intercepts and {x} slopes and {w} effects "
    "on both, with the estimated mean line of each {w}."), large=_SUBSET_REST)
_add("rs_beta", "mixed.rs_beta", fits=("ints_slopes", "fe_lines"), number=19, group="mixed", caption=(
    "Beta space: the {c}s' least-squares lines (BLUEs, blue) and BLUPs (orange), each cloud with its "
    "dispersion ellipse, and each {w}'s estimated mean line (green) with the ellipse of G. As "
    "theory predicts, the BLUPs tend to vary less than G and the BLUEs more, especially in slope."),
     large=_SUBSET_REST)


FIGURES: dict[str, FigureSpec] = {s.name: s for s in _SPECS}


def figure_names(profile=None) -> list[str]:
    """Names of the figures that apply to `profile` (all figures when None)."""
    return [n for n, s in FIGURES.items() if profile is None or s.applies(profile)]


def caption(name: str, profile, clusters: int | None = None) -> str:
    return FIGURES[name].caption(profile, clusters)


def render(name: str, students=None, schools=None, fits=None, profile=None):
    """Draw figure `name` from its inputs (no file I/O)."""
    return FIGURES[name].func(students, schools, fits or {}, profile)
