"""Values and tables the chapters compute from fit records: estimates by model and term,
variance components in words, fixed-effects tables, linear combinations and Wald tests
of linear hypotheses (by L matrix or by a pattern of coefficient names), likelihood-ratio
tests from the comparison, and the same model written for R and SAS.

:class:`FitView` reads fits through a chapter's ``book`` (``fit``, ``usable`` and
``profile``: a :class:`hlm.bookdata.BookData`), so a failed or unfitted model gives
NaN or a sentence instead of an error; ``report/_common.py`` exposes its methods.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from hlm.bookdata import Markdown, code, md, num, pfmt, pval
from hlm.effects import predictions, wald_test
from hlm.prose import excerpt as _excerpt
from hlm.prose import reduction, reduction_text, same
from hlm.prose import verdict as _verdict

NAN = float("nan")


# --- words for values that hold on any data (balanced, mirrored, huge, degenerate) ----------------

def amount(v: float, unit: str = "", digits: int = 2) -> str:
    """|v| with y's unit when the profile has one: '1.17 points', '1.17'."""
    return num(abs(v), digits) + (f" {unit}" if unit else "")


def gap(v: float, unit: str = "", digits: int = 2, pos: str = "higher", neg: str = "lower",
        zero: str = "at the same level") -> str:
    """A signed difference in words: '1.17 points higher', '0.40 lower', or `zero` when it prints as 0."""
    if not v == v:
        return "not estimated"
    if num(abs(v), digits) == num(0.0, digits):
        return zero
    return f"{amount(v, unit, digits)} {pos if v > 0 else neg}"


def variance_change(before: float, after: float, what: str, by: str, digits: int = 3) -> str:
    """How a variance component moves when a model gains `by` (a predictor), in words that hold
    on any data: '... drops from 0.661 to 0.394: sex accounts for 40% of it'; a rise is called a
    rise (the share is then not a share), and a variance estimated at 0 in the first model leaves
    nothing to reduce."""
    a, b = num(before, digits), num(after, digits)
    if not (before == before and after == after):
        return f"{what} cannot be compared (a fit is missing)"
    zero = num(0.0, digits)
    if a == zero:  # nothing to reduce
        if b == zero:
            return (f"{what} is estimated at 0 in both models, so there is nothing for {by} to "
                    "account for")
        return f"{what} goes from {a} to {b}: {reduction_text(0.0, after, what)}"
    if a == b:
        return f"{what} does not change ({a})"
    r = reduction(before, after)
    if r > 0:
        if num(r, 0) == "0":
            return f"{what} drops from {a} to {b}, by less than 1%"
        return f"{what} drops from {a} to {b}: {by} accounts for {num(r, 0)}% of it"
    rise = "by less than 1%" if num(-r, 0) == "0" else reduction_text(before, after, what)
    return f"{what} rises from {a} to {b} ({rise}), so {by} accounts for none of it"


def position(v: float, a: float, b: float, a_name: str, b_name: str, digits: int = 2) -> str:
    """Where `v` lies relative to two estimates `a` and `b`, as printed."""
    if not all(t == t for t in (v, a, b)):
        return "cannot be placed (an estimate is missing)"
    if same(a, b, digits):
        return (f"is the same as both ({num(a, digits)})" if same(v, a, digits)
                else f"differs from both, which are the same ({num(a, digits)})")
    if same(v, a, digits):
        return f"is the same as the {a_name}"
    if same(v, b, digits):
        return f"is the same as the {b_name}"
    if min(a, b) <= v <= max(a, b):
        da, db = abs(v - a), abs(v - b)
        if num(da, digits) == num(db, digits):
            return "lies halfway between them"
        return f"lies between them, closer to the {a_name if da < db else b_name}"
    return "lies outside the interval between them"


def x_spread(students: pd.DataFrame, profile) -> dict:
    """How x varies between and within clusters: the range and SD of the cluster means, the SD
    of the deviations from them, and flags for the designs that make a contextual model
    undefined (`no_between`: every cluster has the same mean x, as in a balanced design;
    `no_within`: x is constant within every cluster)."""
    x = students[profile.x].astype(float)
    means = x.groupby(students[profile.cluster]).transform("mean")
    cm = x.groupby(students[profile.cluster]).mean()
    dev = x - means
    scale = max(float(x.abs().max()), 1.0)
    lo, hi = float(cm.min()), float(cm.max())
    return {"lo": lo, "hi": hi, "sd_between": float(cm.std(ddof=1)) if len(cm) > 1 else 0.0,
            "sd_within": float(dev.std(ddof=1)) if len(dev) > 1 else 0.0,
            "no_between": (hi - lo) <= 1e-9 * scale, "no_within": float(dev.abs().max()) <= 1e-9 * scale}


def lincomb(fit: dict, weights: dict) -> tuple[float, float]:
    """(estimate, standard error) of the combination `weights` {term: weight} of a fit's
    fixed effects, from its covariance matrix `vcov`."""
    row = predictions(fit, [weights.get(k, 0.0) for k in fit["fixef"]]).iloc[0]
    return float(row["est"]), float(row["se"])


def matching(names, pattern: str) -> list[str]:
    """The coefficient names a regular expression finds (spida's ``wald(fit, "pattern")``:
    every coefficient whose name contains a match)."""
    found = [k for k in names if re.search(pattern, k)]
    if not found:
        raise ValueError(f"no coefficient matches {pattern!r}; coefficients are {', '.join(names)}")
    return found


def wald(fit: dict, L, rhs=None) -> dict:
    """The Wald test of L beta = rhs on a fit's record, with nlme's DF, as
    `hlm.lmm.inference.wald` computes it on a fitted model. L is a regular expression
    (the coefficients it matches, all zero), a list of coefficient names, a dict
    {row: {coefficient: weight}} or a matrix."""
    names = list(fit["fixef"])
    if isinstance(L, str):
        L = matching(names, L)
    return wald_test([fit["fixef"][k] for k in names], fit["vcov"], [fit["df"][k] for k in names], names, L, rhs)


def inside(block: dict, df, point=(0.0, 0.0), kind: str = "coverage") -> bool:
    """Whether `point` lies inside the 95% ellipse of an estimate {coef, vcov}."""
    from hlm.ellipse import ellipse, radius
    e = ellipse(block["coef"], np.array(block["vcov"]), radius(kind, 0.95, df), kind)
    return e.contains(point)


def fe_table(f: dict) -> pd.DataFrame:
    """A fit's fixed effects as nlme prints them: Value, Std.Error, DF, t-value, p-value."""
    if "error" in f:
        return pd.DataFrame({"note": [f"fit failed: {f['error']}"]})
    names = list(f["fixef"])
    return pd.DataFrame({
        "Value": [f["fixef"][k] for k in names],
        "Std.Error": [f["se"][k] for k in names],
        "DF": [int(round(f["df"][k])) for k in names],
        "t-value": [f["t"][k] for k in names],
        "p-value": [pval(f["p"][k]) for k in names],
    }, index=pd.Index(names, name="coefficient"))


def lrt_row(comparison: dict, null: str, alt: str) -> dict | None:
    """The comparison's LRT row for this pair (None when the catalog has no such test)."""
    for row in comparison["lrt"]:
        if row["null"] == null and row["alt"] == alt and "statistic" in row:
            return row
    return None


def lrt_pvalue(row: dict | None) -> float:
    """A test's p-value: with the boundary correction when it has one."""
    if row is None:
        return NAN
    return row["p_boundary"] if row.get("p_boundary") is not None else row["p"]


class FitView:
    """The chapters' readings of fits, by model name (see the module docstring)."""

    def __init__(self, book, comparison: str = "comparison"):
        self.book = book
        self._comparison = comparison

    @property
    def profile(self):
        return self.book.profile

    def fit(self, name: str) -> dict:
        return self.book.fit(name)

    def ok(self, name: str) -> bool:
        """The fit did not fail."""
        return "error" not in self.fit(name)

    def fe(self, name: str, term: str) -> float:
        """A fixed effect (NaN when the fit failed or lacks the term)."""
        return self.fit(name).get("fixef", {}).get(term, NAN)

    def se(self, name: str, term: str) -> float:
        """A fixed effect's standard error (NaN when the fit failed or lacks the term)."""
        return self.fit(name).get("se", {}).get(term, NAN)

    def pv(self, name: str, term: str) -> str | Markdown:
        """A fixed effect's p-value in prose ('p = ...'), or why there is none."""
        if not self.book.usable(name):
            return md(f"not available ({code(name)} is not fitted on this dataset)")
        return pfmt(self.fit(name)["p"][term])

    def g(self, name: str, i: int = 0, j: int = 0) -> float:
        """An element of the random effects' covariance matrix G."""
        f = self.fit(name)
        return f["G"][i][j] if "G" in f else NAN

    def sd(self, name: str, term: str = "(Intercept)") -> float:
        """The standard deviation of a random effect."""
        return self.fit(name).get("re_sd", {}).get(term, NAN)

    def sd_interval(self, name: str, term: str) -> tuple[float, float]:
        """The approximate 95% interval (nlme's `intervals`) of a random effect's standard
        deviation; NaNs when the fit has none (e.g. a singular fit)."""
        block = ((self.fit(name).get("intervals") or {}).get("reStruct") or {}).get(f"sd({term})") or {}
        return block.get("lower", NAN), block.get("upper", NAN)

    def cor(self, name: str) -> float:
        """The correlation of the two random effects."""
        f = self.fit(name)
        return f["re_cor"][0][1] if "re_cor" in f and len(f["re_cor"]) > 1 else NAN

    def sigma2(self, name: str) -> float:
        """The residual variance."""
        return self.fit(name).get("sigma", NAN) ** 2

    def shift(self, a: str, b: str) -> float:
        """Largest change of a common fixed effect from fit a to fit b, in standard errors of a."""
        fa, fb = self.fit(a), self.fit(b)
        if "error" in fa or "error" in fb:
            return NAN
        return max(abs(fa["fixef"][k] - fb["fixef"][k]) / fa["se"][k] for k in fa["fixef"] if k in fb["fixef"])

    def fe_table(self, name: str) -> pd.DataFrame:
        """The fixed-effects table of a model (see :func:`fe_table`)."""
        return fe_table(self.fit(name))

    def wald(self, name: str, L, rhs=None) -> dict:
        """The Wald test of L beta = rhs on a model's fit (see :func:`wald`)."""
        return wald(self.fit(name), L, rhs)

    def combo(self, name: str, weights: dict) -> tuple[float, float]:
        """(estimate, SE) of a combination of a model's fixed effects (see :func:`lincomb`)."""
        return lincomb(self.fit(name), weights)

    def vc_text(self, name: str) -> str:
        """The variance components of a fit, in words."""
        f = self.fit(name)
        if "error" in f:
            return "not available (the fit failed)"
        P = self.profile
        xl = P.label("x")
        names = {P.x: xl, P.dvar_x: f"{xl} (centred within {P.cluster_label})"}
        what = {k: "intercepts" if k == "(Intercept)" else f"{names.get(k, k)} slopes" for k in f["re_sd"]}
        parts = [f"SD of the {self.profile.cluster_label} {what[k]} {num(v, 3)}" for k, v in f["re_sd"].items()]
        if len(f["re_names"]) > 1:
            parts.append(f"their correlation {num(f['re_cor'][0][1], 3)}")
        parts.append(f"residual SD σ̂ {num(f['sigma'], 3)}")
        out = ", ".join(parts)
        if f.get("singular"):
            out += " (a singular fit: a variance or a correlation is on the edge of its range)"
        return out

    def sas_terms(self, f: dict) -> str:
        """The fixed terms of a fit as SAS's MODEL statement writes them."""
        names = [k for k in f["fixef"] if k != "(Intercept)"]
        return " ".join(k.replace(self.profile.w_term, self.profile.w).replace(":", "*") for k in names)

    def equivalents(self, name: str) -> str:
        """A collapsed callout with the same model in R and SAS and the fit's full output
        (empty when the fit failed)."""
        f, P = self.fit(name), self.profile
        if "error" in f:
            return ""
        rnd = " ".join("INTERCEPT" if k == "(Intercept)" else k for k in f["re_names"])
        typ = " TYPE = UN" if len(f["re_names"]) > 1 else ""
        cls = f"{P.cluster} {P.w}" if P.w in f["fixed"] else P.cluster
        return ("::: {.callout-note collapse=\"true\"}\n## The same model in R and SAS, and the full output\n\n"
                + "```r\n" + f"lme({f['fixed']}, data, random = {f['random']})" + "\n```\n\n"
                + "```sas\nPROC MIXED DATA = data;\n  CLASS " + cls + ";\n  MODEL " + P.y + " = "
                + self.sas_terms(f) + ";\n  RANDOM " + rnd + " / SUBJECT = " + P.cluster + typ + ";\nRUN;\n```\n\n"
                + "```\n" + f["summary"].rstrip() + "\n```\n:::")

    def lrt(self, null: str, alt: str) -> dict | None:
        """The comparison's LRT row for this pair (None when the catalog has no such test)."""
        return lrt_row(self.fit(self._comparison), null, alt)

    def lrt_p(self, null: str, alt: str) -> float:
        """The p-value of the LRT of this pair (NaN when there is none)."""
        return lrt_pvalue(self.lrt(null, alt))

    def lrt_text(self, null: str, alt: str) -> str | Markdown:
        """The LRT of this pair in words, or why there is none."""
        missing = [m for m in (null, alt) if not self.book.usable(m)]
        if missing:
            return md(f"no likelihood-ratio test ({' and '.join(map(code, missing))} not fitted on this dataset)")
        row = self.lrt(null, alt)
        if row is None:
            return "(no likelihood-ratio test of this pair in the comparison)"
        how = "with the boundary correction" if row.get("p_boundary") is not None else row["criterion"]
        return (f"likelihood ratio {num(row['statistic'], 2)} on {row['df']} df, "
                f"{pfmt(lrt_pvalue(row))} ({how})")

    def verdict(self, p: float) -> str:
        """What a test of a random slope says, in words."""
        return _verdict(p, self.profile.clusters_label)

    def excerpt(self, text: str, keep: int = 3) -> str:
        """A fit summary with the per-cluster rows cut (see :func:`hlm.prose.excerpt`)."""
        return _excerpt(text, self.profile.cluster, keep)
