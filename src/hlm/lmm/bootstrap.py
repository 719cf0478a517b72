"""Parametric bootstrap of a likelihood-ratio test between nested mixed models.

The classical LRT of a variance component (is the random slope needed?) is not χ²:
the null value is on the boundary of the parameter space. The parametric bootstrap
simulates the test's null distribution instead: draw data from the fitted null model
(``y* = X b + Z u* + e*``, ``u*_j ~ N(0, G)``, ``e* ~ N(0, σ²)``), fit both models to
each draw, and take the share of replicate statistics at least as large as the one
observed, ``p = (1 + #{T* ≥ T}) / (B + 1)`` (as R's pbkrtest ``PBmodcomp``).

Replicate ``i`` draws from ``numpy.random.default_rng([seed, i])``: its value does not
depend on how the replicates are split into jobs, so blocks computed anywhere (one
process, many cluster jobs) give the same numbers. The usual approximation is beside
it: for a variance and its covariances added to a model, a 50:50 mixture of χ² with
df and df - 1 degrees of freedom (Self and Liang; Stram and Lee).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from hlm.errors import ModelError
from hlm.lmm.api import fit_design
from hlm.lmm.results import LmmResult


def statistic(null: LmmResult, alt: LmmResult) -> float:
    """``2 (logLik_alt - logLik_null)``, at least 0 (same data, same method)."""
    return max(0.0, 2.0 * (alt.logLik - null.logLik))


def _check(null: LmmResult, alt: LmmResult) -> None:
    same_rows = null.n == alt.n and null.design.group_ids == alt.design.group_ids and (
        (null.design.order is None and alt.design.order is None)
        or np.array_equal(null.design.order, alt.design.order))
    if not same_rows:
        raise ModelError("bootstrap: the two fits are not on the same data")
    if null.method != alt.method:
        raise ModelError("bootstrap: the two fits use different methods")
    if alt.npar <= null.npar:
        raise ModelError(f"bootstrap: '{alt.model}' must have more parameters than '{null.model}'")


def simulate(fit: LmmResult, rng: np.random.Generator) -> np.ndarray:
    """One response drawn from the fitted model, in the design's (cluster-sorted) row order.

    The random effects are drawn through G's Cholesky factor, or its eigen-decomposition when G
    is singular (a variance estimated at 0), where no Cholesky factor exists."""
    d = fit.design
    q = d.Z.shape[1]
    if q:
        method = "cholesky" if np.all(np.linalg.eigvalsh(fit.G) > 0) else "eigh"
        u = rng.multivariate_normal(np.zeros(q), fit.G, size=d.J, method=method)
    else:
        u = np.zeros((d.J, 0))
    return d.X @ fit.fixef + np.einsum("ij,ij->i", d.Z, u[d.codes]) + rng.normal(0.0, fit.sigma, d.n)


def replicates(null: LmmResult, alt: LmmResult, seed: int, first: int, count: int) -> list[float]:
    """Statistics of replicates ``first .. first + count - 1`` (NaN where a fit failed)."""
    _check(null, alt)
    out = []
    for i in range(first, first + count):
        y = simulate(null, np.random.default_rng([seed, i]))
        try:
            f0 = fit_design(replace(null.design, y=y), null.method, start=null.theta)
            f1 = fit_design(replace(alt.design, y=y), alt.method, start=alt.theta)
            out.append(statistic(f0, f1))
        except ModelError:
            out.append(float("nan"))
    return out


def summary(observed: float, stats_: list[float], df: int) -> dict:
    """The bootstrap p-value with its Monte Carlo standard error, and the χ² mixture p."""
    t = np.asarray(stats_, dtype=float)
    ok = t[np.isfinite(t)]
    B = len(ok)
    p = (1 + int(np.sum(ok >= observed - 1e-10))) / (B + 1)
    mixture = 0.5 * stats.chi2.sf(observed, df) + (0.5 * stats.chi2.sf(observed, df - 1) if df > 1
                                                     else 0.5 * float(observed <= 0))
    return {"observed": observed, "replicates": B, "failed": int(len(t) - B), "p": p,
            "mc_se": float(np.sqrt(p * (1 - p) / max(B, 1))), "df": df,
            "p_chisq": float(stats.chi2.sf(observed, df)), "p_mixture": float(mixture)}
