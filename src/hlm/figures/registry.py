"""The registry of figures: what each reads, which roles it needs, its caption and its alt text."""
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
    # Lab records it reads (hlm.artifacts.Artifacts.lab_path): "inference", "bootstrap/<test>",
    # "influence/<model>"; the figure function finds them in `fits` under these names
    lab: tuple[str, ...] = ()
    # What the image shows, for a reader who cannot see it (the HTML's alt text, Quarto's fig-alt):
    # the kind of plot, its axes and the marks drawn, where the caption says what they mean
    alt: Callable = field(default=lambda p: "", repr=False)  # (profile)

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
            "u": p.unit_label, "z": p.label("z") if p.has("z") else "z",
            "cs": p.clusters_label, "us": p.units_label, "ws": p.labels("w")}


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


def _alt(text: str) -> Callable:
    """The alt text, from the profile: what is drawn, in the dataset's words."""
    def alt(p) -> str:
        out = text.format(**_L(p), beta=_BETA.format(**_L(p)), diff=_DIFF.format(**_L(p)))
        return out[:1].upper() + out[1:]
    return alt


# Shared wording of the alt texts: the axes of beta space and of the difference plots
_BETA = "intercept across, slope of {x} up"
_DIFF = "difference in intercept across, difference in {x} slope up, a cross at zero"

# What each figure shows (the alt text; the caption says what it means). {beta} and {diff} are
# the axes above; every registered figure has one (`_add` fails without it).
_ALTS = {
    # looking at the data
    "quantile_plot": ("Grid of small panels, one per variable of the {u} table, each a rising curve of "
                      "dots: the sorted values up, the quantile rank from 0 to 1 across."),
    "trellis": ("Grid of small scatterplots, one per {c}, titled with the {c} id and coloured by {w}: "
                "{y} up, {x} across, and a short black line through each panel's points."),
    "trellis_sex": ("Grid of small scatterplots, one per {c}, of {y} against {x}, the points in two "
                    "colours by sex, with a short black line in each panel."),
    "scatter_ols": "Scatterplot of {y} (up) against {x} (across) for every {u}, with one black straight line.",
    "scatter_sector_sex": ("Two scatterplots side by side, one per {w}, of {y} against {x}, points and "
                           "straight lines in two colours by sex."),
    "three_effects": ("Scatterplot of {y} against {x} in light grey, with black dots at the {c} means, a "
                      "short blue segment through each, and three long lines, blue, vermillion and green, "
                      "of different slopes."),
    # the classical methods
    "m1_lines": ("Scatterplot of {y} against {x}, the points coloured by {w}, with one thick straight "
                 "line per {w} in its colour."),
    "m1_beta": "Plot of lines as points ({beta}): one dot and one ellipse around it per {w}, in its colour.",
    "m1_diff": "Plot of differences ({diff}): one dot with a solid ellipse and a smaller dashed one around it.",
    "m2_lines": ("Two panels, one per {w}, of {y} against {x}: many thin coloured segments, one per {c}, "
                 "with a thick solid black line and a dashed black line across each panel."),
    "m2_beta_schools": ("Plot of lines as points ({beta}): a cloud of small dots, one per {c}, coloured by "
                        "{w}, with a small dotted ellipse around a square marker for each {w}."),
    "m2_beta_means": ("The same cloud of {c} dots ({beta}), with a solid ellipse around each {w}'s "
                      "average added beside the small dotted ones."),
    "m2_diff": ("Plot of differences ({diff}): a green dot with a solid and a smaller dashed green "
                "ellipse, and a grey dot with a single grey ellipse."),
    "m3_manova": ("Plot of lines as points ({beta}): the cloud of {c} dots coloured by {w}, with two "
                  "ellipses around a shared centre for each {w}, one solid, one dashed."),
    "m3_shadows": ("Plot of differences ({diff}), in magenta: a dot inside a solid ellipse and a smaller "
                   "dashed one, whose extent on each axis is shaded as a vertical and a horizontal band."),
    "m3_diff": ("Plot of differences ({diff}): a magenta dot with a solid and a dashed magenta ellipse, "
                "and a green dot with a solid and a dashed green one."),
    "m4_between": ("Plot of lines as points ({beta}): for each {w}, in its colour, three ellipses with a "
                   "circle, a square and a diamond at their centres, joined by a thin curve."),
    "m4_arc": ("Plot of differences ({diff}): a green ellipse with a circle, a grey one with a square and "
               "an orange one with a diamond, the three centres joined by a thin black curve."),
    # the simulated example: a slide show on fixed axes
    "sim_mean_line": "Line chart of {y} (up) against {x} (across) with a single green straight line.",
    "sim_true_line": "The same axes with the green line and a blue line.",
    "sim_data": ("The green and blue lines with black data points scattered around the blue one, each "
                 "joined to it by a thin vertical grey segment."),
    "sim_ls_line": "The same picture with a dashed vermillion line fitted through the black points.",
    "sim_beta_mean": "Plot of lines as points (intercept β0 across, slope of {x} up) with a single green dot.",
    "sim_G_ellipse": ("The green dot inside a large tilted green ellipse, with dotted lines and thick bars "
                      "marking the ellipse's extent on each axis."),
    "sim_true_beta": "The green dot and ellipse, with a blue dot added.",
    "sim_sampling_ellipse": "The same picture with a dashed blue ellipse around the blue dot.",
    "sim_beta_hat": "The same picture with a vermillion dot added.",
    "sim_V_ellipse": "The same picture with a purple ellipse around the green dot, beside the green ellipse.",
    # mixed models
    "ow_resid_fitted": ("Scatterplot of standardized residuals (up) against fitted values (across): the "
                        "points stand in vertical stripes, one per {c}, around a black line at zero."),
    "ow_by_school": ("Strip chart of every {u}'s {y} (up): a column of grey dots per {c} (across, "
                     "labelled with {c} ids), crossed by three horizontal lines, green, black and "
                     "vermillion."),
    "ow_by_school_zoom": ("The same strip chart with the vertical axis zoomed in on the three "
                          "horizontal lines, green, black and vermillion."),
    "ow_blue_blup": ("Dot chart with one column per {c} (across) and {y} up: a blue dot and a smaller "
                     "vermillion dot joined by a grey segment, around a horizontal green line."),
    "ow_shrinkage": ("Scatterplot of {y} (up) against {c} sample size (across; the {cs} in order of "
                     "their BLUE when all have the same size): pairs of blue and vermillion dots joined by "
                     "small black arrows pointing toward a horizontal green line."),
    "rs_blup_lines": ("Two panels, one per {w}, of {y} against {x}: many thin coloured segments, one per "
                      "{c}, and one thick black line in each."),
    "rs_beta": ("Two panels of lines as points, one per {w} ({beta}): a blue and a vermillion cloud of "
                "dots joined in pairs by grey segments, each cloud with its ellipse, and a green dot with a "
                "dashed green ellipse."),
    # the Lab
    "dx_resid_qq": ("Normal quantile plot: standardized residuals (up) against standard normal quantiles "
                    "(across), blue points along a grey straight line, three points labelled."),
    "dx_resid_fitted": ("Scatterplot of standardized residuals (up) against fitted values (across), with "
                        "a grey line at zero and a black smooth curve."),
    "dx_resid_cluster": ("A row of narrow box plots of standardized residuals (up), one per {c} "
                         "(across), blue or vermillion by {w}, around a grey line at zero."),
    "dx_resid_level2": ("Two scatterplots, one per {w}, of standardized residuals (up) against the {c} "
                        "mean of {x} (across), each with a grey line at zero and a black smooth curve."),
    "dx_blup_qq": ("Normal quantile plots side by side, one per random effect: standardized BLUPs (up) "
                   "against standard normal quantiles (across), points along a grey line, three labelled."),
    "dx_blup_level2": ("Scatterplots side by side, one per random effect, of each {c}'s BLUP (up) against "
                       "the {c} mean of {x} (across): dots coloured by {w}, a grey line at zero and a black "
                       "smooth curve."),
    "dx_influence": ("Two panels. Left, a dot chart of Cook's distance (across), one row per {c}, sorted, "
                     "with a dashed vermillion cut-off line and three labels. Right, a strip of jittered "
                     "dots per coefficient (DFBETAS up) between two dashed vermillion lines, dots beyond "
                     "them in vermillion."),
    "lab_g_ellipse": ("Plot of random intercept (across) against random slope of {x} (up): two black "
                      "ellipses centred at zero, dashed inside solid, BLUP dots coloured by {w}, and a "
                      "box of eigenvalues in a corner."),
    "lab_w_bands": ("Line chart of the difference in {y} between the {ws} (up) against {x} (across): a "
                    "vermillion straight line inside a darker narrow band and a lighter wider band, with a "
                    "black line at zero."),
    "lab_marg_cond": ("Two panels of {y} against {x}. Left, two coloured lines with shaded bands, one "
                      "per {w}. Right, many thin segments coloured by {w}, one per {c}, under the same "
                      "two thick lines."),
    "mino_pancake": ("Three panels, each a pair of the random effects (intercept, {x} slope, {z} effect): "
                     "a black ellipse centred at zero and BLUP dots coloured by {w}; eigenvalues in the title."),
    "mino_gap": ("Two panels. Left, four lines of predicted {y} against {x} with shaded bands, coloured by "
                 "{w}, solid or dashed by {z}. Right, one dot per {w} with a horizontal interval bar, beside "
                 "a vertical black line at zero."),
    "mino_ols_diag": ("Two scatterplots. Left, standardized residuals against fitted values, with a grey "
                      "line at zero and a black smooth curve. Right, Cook's distance against leverage, "
                      "five points labelled."),
}

_SPECS: list[FigureSpec] = []


def _add(name, func, fits=(), tables=(STUDENTS,), needs=(), caption="", number=None, group="", large="",
         lab=(), alt=""):
    _SPECS.append(FigureSpec(name, func, tuple(fits), tuple(tables), tuple(needs),
                             _cap(caption, large) if isinstance(caption, str) else caption, number, group,
                             tuple(lab), _alt(alt or _ALTS[name])))


# ---- looking at the data
_add("quantile_plot", "explore.quantile_plot", number=1, group="data", caption=(
    "Every variable of the {u}-level table (the ids left out), sorted from smallest to largest and "
    "plotted against its quantile rank: flat stretches are repeated values, steps are categories, and the "
    "{c}-level variables show as long runs shared by all {us} of a {c}."))
_add("trellis", "explore.trellis", fits=("fe_lines",), number=2, group="data", caption=(
    "{y} against {x} in each {c}, with the {c}'s least-squares line. Panels are in informative-id "
    "order (by {w}, then by the {c}'s mean {x} where those differ). The lines differ both because each {c} has its own "
    "relationship and because each line is estimated from a small sample."), large=_SUBSET)
_add("trellis_sex", "explore.trellis_sex", fits=("fe_lines",), needs=("sex",), number=3, group="data",
     caption=("The same trellis with {us} coloured by sex, which shows at a glance which {cs} are "
              "single-sex and which are mixed."), large=_SUBSET)
_add("scatter_ols", "explore.scatter_ols", fits=("three_effects",), group="data", caption=(
    "All {us} pooled, ignoring {cs}: {y} against {x} with one least-squares line."))
_add("scatter_sector_sex", "explore.scatter_sector_sex", needs=("sex",), group="data", caption=(
    "One panel per {w}, {us} grouped by sex, each group with its own least-squares line."))
_add("three_effects", "explore.three_effects", fits=("three_effects",), group="methods", caption=(
    "Three effects of {x} in one picture: the within-{c} slope (short blue segments through each "
    "{c} mean), the between-{c} slope (the line through the {c} means) and the pooled slope that "
    "ignores {cs} and mixes the other two."), large=_SUBSET_REST)


# ---- the classical methods
_add("m1_lines", "methods.m1_lines", fits=("pooled",), group="methods", caption=(
    "Method 1, pooling all {us} of a {w}: the least-squares line of each {w}, drawn over the data."))
_add("m1_beta", "methods.m1_beta", fits=("pooled",), number=4, group="methods", caption=(
    "The same two lines in beta space, where a line is a point (intercept, slope of {x}); each "
    "ellipse is a 95% confidence region for its {w}'s line under the pooled model."))
_add("m1_diff", "methods.m1_diff", fits=("pooled",), group="methods", caption=(
    "The difference between the two {ws}' lines in beta space under pooling. The solid ellipse is a "
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
              "size reflects only the variation of {us} within {cs}."), large=_SUBSET_REST)
_add("m2_diff", "methods.m2_diff", fits=("fe_lines", "pooled"), number=7, group="methods", caption=(
    "The difference between {ws} in beta space: averaging the {c} lines (green) against pooling "
    "(grey). The averaged-lines ellipse would keep its size however far apart the {cs} were."))
_add("m3_manova", "methods.m3_manova", fits=("fe_lines", "two_stage"), group="methods", caption=(
    "Method 3, two stages: the {c} lines treated as a multivariate sample. Both ellipses share a "
    "centre; the two-stage (MANOVA) ellipse (solid) is usually larger than the fixed-effects one (dashed) "
    "because it generalizes to new {cs}, not just new {us} of the same {cs}."), large=_SUBSET_REST)
_add("m3_shadows", "methods.m3_shadows", fits=("two_stage",), group="methods", caption=(
    "The two-stage difference between {ws}: the solid ellipse covers the pair of differences with "
    "95% confidence; the dashed ellipse's shadows (shaded bands) are the 95% intervals for the "
    "difference in intercepts and in {x} slopes. A band that misses zero is significant at 5%."))
_add("m3_diff", "methods.m3_diff", fits=("fe_lines", "two_stage"), group="methods", caption=(
    "Differences between {ws}: the two-stage ellipses (magenta) generalize to the population of "
    "{cs}; the fixed-effects ellipses (green) only to new {us} in the same {cs}."))
_add("m4_between", "methods.m4_between", fits=("fe_lines", "pooled", "between"), group="methods", caption=(
    "Method 4 added: the between-{c} line (regressing {c} means of {y} on {c} means of {x}) next "
    "to the within-{c} and the pooled estimates in each {w}. The pooled estimate typically sits "
    "between the other two; the thin curve joins the three."))
_add("m4_arc", "methods.m4_arc", fits=("fe_lines", "pooled", "between"), group="methods", caption=(
    "The same for the differences between {ws}: the pooled difference lies on an arc from the "
    "within-{c} difference to the between-{c} difference."))

# ---- the simulated example (hlm.simulate.book_example: the notes' example on their sample, the
# dataset's design and moment estimates elsewhere; it reads the unit table for that)
_SIM = (
    ("sim_mean_line", 8, "A simulated population of {cs}: its mean line γ."),
    ("sim_true_line", 9, "One {c} drawn from that population, with its true line β_j = γ + u_j (the "
                         "{c}'s random effect u_j moves both intercept and slope)."),
    ("sim_data", 10, "The {c}'s data, generated around its true line with independent normal errors."),
    ("sim_ls_line", 11, "The least-squares line estimated from those data, beside the true line it estimates."),
    ("sim_beta_mean", 12, "Beta space: the population mean line becomes the point γ."),
    ("sim_G_ellipse", 13, "The dispersion ellipse of G, the variance of the true lines around γ. "
                          "Its shadows on the axes are γ ± one standard deviation."),
    ("sim_true_beta", 14, "The true (intercept, slope) of the simulated {c}: one draw from the population."),
    ("sim_sampling_ellipse", 15, "Around the true line, the dispersion ellipse of σ²(X′X)⁻¹: how far "
                                 "a least-squares estimate from this {c}'s design typically falls."),
    ("sim_beta_hat", 16, "The least-squares estimate actually observed for this {c}."),
    ("sim_V_ellipse", 17, "The ellipse of V_j = G + σ²(X′X)⁻¹ around γ: the spread of estimated "
                          "lines over {cs} of this design. The closer it lies to the ellipse of G, the "
                          "smaller the within-{c} sampling error is next to G."),
)
for _name, _num, _text in _SIM:
    _add(_name, f"simulated.{_name}", number=_num, group="simulation", caption=_text)

# ---- mixed models
_add("ow_resid_fitted", "mixed.ow_resid_fitted", fits=("oneway",), group="mixed", caption=(
    "One-way random-effects model: standardized residuals against fitted values. Each vertical "
    "stripe is a {c}; the fitted value is the {c}'s BLUP."), large=_DENSITY)
_add("ow_by_school", "mixed.ow_by_school", fits=("oneway",), group="mixed", caption=(
    "{y} of every {u}, {c} by {c}, with three estimates of the overall level: the mixed-model GLS "
    "estimate, the mean of all {us} and the mean of the {c} means."), large=_SUBSET_REST)
_add("ow_by_school_zoom", "mixed.ow_by_school_zoom", fits=("oneway",), group="mixed", caption=(
    "The previous figure zoomed in on the three estimates: the GLS estimate usually lies between the "
    "{u} mean (weights by {c} size) and the mean of {c} means (equal weights)."), large=_SUBSET_REST)
_add("ow_blue_blup", "mixed.ow_blue_blup", fits=("oneway",), group="mixed", caption=(
    "For each {c}, the BLUE (its sample mean, blue) and the BLUP (orange), which is pulled toward "
    "the GLS estimate of the overall mean."), large=_SUBSET_REST)
_add("ow_shrinkage", "mixed.ow_shrinkage", fits=("oneway",), group="mixed", caption=(
    "Shrinkage: each arrow goes from a {c}'s BLUE to its BLUP, toward the GLS estimate, with the "
    "{cs} spread across by sample size (by BLUE when all have the same size). Arrows are longer for "
    "BLUEs far from the mean and for {cs} with fewer {us}."), large=_SUBSET_REST)
_add("rs_blup_lines", "mixed.rs_blup_lines", fits=("ints_slopes",), number=18, group="mixed", caption=(
    "Each {c}'s BLUP line from the model with random intercepts and {x} slopes and {w} effects "
    "on both, with the estimated mean line of each {w}."), large=_SUBSET_REST)
_add("rs_beta", "mixed.rs_beta", fits=("ints_slopes", "fe_lines"), number=19, group="mixed", caption=(
    "Beta space: the least-squares lines of the {cs} (BLUEs, blue) and BLUPs (orange), each cloud with its "
    "dispersion ellipse, and each {w}'s estimated mean line (green) with the ellipse of G. On "
    "average over samples, the BLUPs vary less than G and the BLUEs more."),
     large=_SUBSET_REST)


# ---- the Lab: diagnostics, G, effects of w, the minority models (fits ints_slopes unless said)
_IS = ("ints_slopes",)
_add("dx_resid_qq", "diagnostics.dx_resid_qq", fits=_IS, group="lab", caption=(
    "Normal quantile plot of the level-1 residuals of the model with random intercepts and {x} slopes "
    "and {w} effects on both (each {u}'s {y} minus its {c}'s fitted line, divided by the residual "
    "standard deviation). Points near the grey line through the quartiles are consistent with normal "
    "errors; curved tails mean heavy or light tails. The three most extreme residuals are labelled "
    "with their {c}."))
_add("dx_resid_fitted", "diagnostics.dx_resid_fitted", fits=_IS, group="lab", caption=(
    "Standardized level-1 residuals against fitted values (fixed part plus the {c}'s BLUPs), with a "
    "lowess smooth (black). A flat smooth near the zero line and an even vertical spread support a "
    "linear mean and a constant error variance; a funnel shape would suggest the variance changes with "
    "the level of {y}."))
_add("dx_resid_cluster", "diagnostics.dx_resid_cluster", fits=_IS, group="lab", caption=(
    "Standardized level-1 residuals {c} by {c}, one box per {c} in informative-id order, blue for the "
    "reference {w} and vermillion for the other. Boxes show the quartiles and median, whiskers reach 1.5 "
    "times the interquartile range. Boxes centred near zero with similar heights support a common "
    "within-{c} variance."), large=_SUBSET)
_add("dx_resid_level2", "diagnostics.dx_resid_level2", fits=_IS, group="lab", caption=(
    "Standardized level-1 residuals against the {c} mean of {x}, one panel per {w}, with lowess smooths "
    "(black) where that mean varies. A trend would mean the model misses a contextual effect of the {c} "
    "mean of {x}."))
_add("dx_blup_qq", "diagnostics.dx_blup_qq", fits=_IS, group="lab", caption=(
    "Normal quantile plots of the BLUPs of the {cs}, one panel per random effect, each BLUP divided by "
    "its own standard deviation under the model, the square root of G minus its conditional variance "
    "(BLUPs shrink, the more so for {cs} with few {us}), so that they are about standard normal when the "
    "model holds. Points near the grey line support normal random effects; the three most extreme "
    "{cs} are labelled."))
_add("dx_blup_level2", "diagnostics.dx_blup_level2", fits=_IS, group="lab", caption=(
    "Each {c}'s BLUPs (random intercept and random {x} slope) against the {c}'s mean {x}, blue for the "
    "reference {w} and vermillion for the other, with a lowess smooth (black) where that mean varies. A "
    "trend means the {c} mean of {x} explains part of the random effects and belongs in the fixed part."))
_add("dx_influence", "diagnostics.dx_influence", fits=_IS, lab=("influence/ints_slopes",), group="lab",
     caption=("The influence of each {c} on the fixed effects, from the model without it (refitted, or "
              "the one-step deletion: the text says which). "
              "Left, Cook's distance of every {c}, largest at the top, with the usual flag 4/J (dashed; J "
              "{cs}) and the three largest labelled. Right, the DFBETAS of each coefficient, the change "
              "in the estimate in standard errors; points beyond ±2/√J (dashed) are vermillion, at most the five "
              "largest of each coefficient."))
_add("lab_g_ellipse", "lab.lab_g_ellipse", fits=_IS, group="lab", caption=(
    "The estimated variance G of the random intercepts and {x} slopes as ellipses centred at 0 that "
    "contain 50% (dashed) and 95% (solid) of the true deviations of the {cs} under normality, with the "
    "BLUPs (blue for the reference {w}, vermillion for the other), which shrink inside. The box gives "
    "G's eigenvalues and the ratio of the smallest to the largest, which changes with the units of {x}; "
    "a ratio of exactly 0 is a singular G, a flat ellipse."))
_add("lab_w_bands", "lab.lab_w_bands", fits=_IS, group="lab", caption=(
    "The estimated difference in {y} between the two {ws} as a function of {x} (a line, because of "
    "the {x}-by-{w} interaction), with a 95% pointwise band (darker) and a 95% Scheffé band (lighter) "
    "that covers the whole line at once. Where the simultaneous band excludes zero (black line) the "
    "{ws} differ at those values of {x}, even allowing for having looked at every value of {x}."))
_add("lab_marg_cond", "lab.lab_marg_cond", fits=_IS, group="lab", caption=(
    "Marginal and conditional predictions. Left, the population line of each {w} with its 95% "
    "confidence band: the expected {y} of a {u} of a typical {c}. Right, each {c}'s own line (fixed "
    "part plus its BLUPs) over its range of {x}, under the population lines (thick); blue for the "
    "reference {w}, vermillion for the other."), large=_SUBSET_REST)
_add("mino_pancake", "lab.mino_pancake", fits=("mino_rs_z",), needs=("z",), group="lab", caption=(
    "The 3 x 3 variance G of the random intercepts, {x} slopes and {z} effects: each panel is a "
    "projection of its 95% ellipsoid on two of the three, with the BLUPs of the {cs} (blue for the "
    "reference {w}, vermillion for the other). The title gives G's eigenvalues and the ratio of the "
    "smallest to the largest: an eigenvalue near 0 flattens the ellipsoid into a pancake, a G close "
    "to singular, which the data cannot fully estimate."))
_add("mino_gap", "lab.mino_gap", fits=("mino_rs",), needs=("z",), group="lab", caption=(
    "The {z} gap by {w}, from the model with random intercepts and {x} slopes and contextual "
    "effects. Left, predicted {y} against {x} for the four groups of {w} (blue the reference, "
    "vermillion the other) and {z} (solid the reference, dashed the other), with 95% bands, the {c} "
    "mean of {x} and the {c} share of the other {z} held at their overall averages. Right, the "
    "difference between the levels of {z} in each {w}, with its 95% interval; an interval that "
    "misses zero (black line) is a gap."))
_add("mino_ols_diag", "lab.mino_ols_diag", needs=("z",), lab=("inference",), group="lab", caption=(
    "Diagnostics of the ordinary least-squares fit that ignores {cs}. Left, standardized residuals "
    "against fitted values with a lowess smooth (black). Right, Cook's distance of each {u} against "
    "its leverage; the five most influential {us} are labelled {c}:row."))

FIGURES: dict[str, FigureSpec] = {s.name: s for s in _SPECS}


def figure_names(profile=None) -> list[str]:
    """Names of the figures that apply to `profile` (all figures when None)."""
    return [n for n, s in FIGURES.items() if profile is None or s.applies(profile)]


def caption(name: str, profile, clusters: int | None = None) -> str:
    return FIGURES[name].caption(profile, clusters)


def alt(name: str, profile) -> str:
    """The figure's alt text: what the image shows (the caption says what it means)."""
    return FIGURES[name].alt(profile)


def render(name: str, students=None, schools=None, fits=None, profile=None):
    """Draw figure `name` from its inputs (no file I/O). `fits` holds the fit records by model
    name and the Lab records the spec names (`lab`) by their names, e.g. "influence/ints_slopes"."""
    return FIGURES[name].func(students, schools, fits or {}, profile)
