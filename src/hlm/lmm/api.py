"""``fit(data, fixed, random, method)``: the engine's entry point; ``refit`` and ``lrt``,
which refits REML fits by ML."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from hlm.errors import ModelError
from hlm.lmm.basis import Basis
from hlm.lmm.design import Design, build_design
from hlm.lmm.objective import Objective, cross_products
from hlm.lmm.optimize import optimize_theta
from hlm.lmm.results import LmmResult, build_result


def _relevel(data: pd.DataFrame, reference: dict | None) -> pd.DataFrame:
    """Put each factor's chosen reference level first (treatment contrasts use the first)."""
    if not reference:
        return data
    data = data.copy()
    for col, ref in reference.items():
        if col not in data.columns:
            raise ModelError(f"reference: column {col!r} is not in the data")
        cat = data[col].astype("category") if not isinstance(data[col].dtype, pd.CategoricalDtype) else data[col]
        levels = list(cat.cat.categories)
        if ref not in levels:
            raise ModelError(f"reference: {ref!r} is not a level of {col!r} (levels: {levels})")
        data[col] = cat.cat.reorder_categories([ref] + [v for v in levels if v != ref])
    return data


def fit_design(design: Design, method: str = "REML", model: str | None = None,
               start=None, df_method: str = "nlme") -> LmmResult:
    """Fit a prepared Design (used by ``fit`` and for ML refits).

    The deviance is minimised on centred, scaled and orthonormalised columns
    (``basis.py``); the result, and the optimizer's record, are in the user's
    parametrisation (``optsum.start`` is the ``start`` given, else the identity
    that the optimizer starts from in the internal basis)."""
    if method not in ("REML", "ML"):
        raise ModelError(f"method must be 'REML' or 'ML', not {method!r}")
    basis, Xi, Zi, yi = Basis.fit(design.X, design.Z, design.y)
    obj = Objective(cross_products(Xi, Zi, yi, design.starts), method)
    theta, opt = optimize_theta(obj, None if start is None else basis.theta_internal(start))
    jac = basis.log_jacobian(design.n, design.p, obj.reml)
    final = basis.theta(theta)
    opt = replace(opt, start=opt.start if start is None else tuple(map(float, start)),
                  final=tuple(final), fval=opt.fval - 2 * jac,
                  boundary=tuple(int(i) for i in np.flatnonzero(np.isfinite(obj.lower) & (final == 0))),
                  messages=(f"the deviances below are those of centred, scaled, orthonormalised columns; "
                            f"add {-2 * jac:,.4f} to get those of the model's own columns",) + opt.messages)
    return build_result(design, basis, obj, theta, opt, model=model, df_method=df_method)


def design(data: pd.DataFrame, fixed: str, random: str, reference: dict | None = None) -> Design:
    """The sorted design that ``fit`` fits (the same arguments): for the steps that work from a
    fit record (its theta, its fixed effects) without fitting again."""
    return build_design(_relevel(data, reference), fixed, random)


def fit(data: pd.DataFrame, fixed: str, random: str, method: str = "REML", *,
        model: str | None = None, reference: dict | None = None, start=None,
        df_method: str = "nlme") -> LmmResult:
    """Fit a two-level linear mixed model by REML (default) or ML.

    ``fixed``: R formula (``"MathAch ~ SES * Sector"``); ``random``: ``"~ 1 | g"``,
    ``"~ 1 + x | g"`` or ``"~ 0 + x | g"`` (unstructured covariance).
    ``reference``: {factor column: reference level}; otherwise the first category.
    ``start``: theta to start from (lower Cholesky factor of G / sigma^2, by column).
    ``df_method``: ``"nlme"`` (within/between DF) or ``"satterthwaite"``."""
    return fit_design(design(data, fixed, random, reference), method, model=model, start=start,
                      df_method=df_method)


def refit(result: LmmResult, method: str) -> LmmResult:
    """The same model refitted with another method (REML <-> ML)."""
    if result.method == method:
        return result
    return fit_design(result.design, method, model=result.model, start=result.theta,
                      df_method=result.df_method)


def devfun(data: pd.DataFrame, fixed: str, random: str, method: str = "REML") -> Objective:
    """The profiled deviance as a function of theta, as lme4's ``devFunOnly = TRUE``."""
    design = build_design(data, fixed, random)
    return Objective(cross_products(design.X, design.Z, design.y, design.starts), method)


def _nested(small, big) -> None:
    if small.n != big.n or small.groups != big.groups:
        raise ModelError("lrt: the two fits are not on the same data (n or number of groups differ)")
    if not (set(small.x_names) <= set(big.x_names) and set(small.z_names) <= set(big.z_names)):
        raise ModelError(
            f"lrt: models are not nested: fixed {list(small.x_names)} vs {list(big.x_names)}, "
            f"random {list(small.z_names)} vs {list(big.z_names)}")


def lrt(fit0, fit1) -> dict:
    """Likelihood-ratio test between nested fits (smaller first or second, either order).

    When the fixed effects differ, REML fits are refitted by ML (REML likelihoods
    of different fixed parts are not comparable)."""
    small, big = sorted([fit0, fit1], key=lambda r: r.npar)
    _nested(small, big)
    refitted = False
    if set(small.x_names) != set(big.x_names) and "REML" in (small.method, big.method):
        small, big, refitted = refit(small, "ML"), refit(big, "ML"), True
    elif small.method != big.method:
        raise ModelError("lrt: fits with the same fixed part must use the same method")
    df = big.npar - small.npar
    chisq = max(0.0, 2.0 * (big.logLik - small.logLik))
    p = float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan")
    return {"method": big.method, "refitted_ML": refitted,
            "models": [small.model, big.model], "npar": [small.npar, big.npar],
            "logLik": [small.logLik, big.logLik], "AIC": [small.AIC, big.AIC],
            "BIC": [small.BIC, big.BIC], "chisq": chisq, "df": int(df), "p": p,
            "note": "p is conservative when a variance component is tested at its boundary (0)"}
