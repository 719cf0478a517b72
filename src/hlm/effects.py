"""Predictions, effects and linear hypotheses from a fit's fixed effects: Wald tests of
L beta = rhs (the engine's ``wald`` and the chapters' tests on fit records both use
:func:`wald_test`), and confidence bands: the row of L
of a prediction at given values of the variables (by coefficient name, an interaction a:b
getting the product of its parts, so no order of the coefficients is assumed), estimates
with pointwise t limits, and the effect of w along x with pointwise and simultaneous
(Scheffé) bands. Used by the Lab's figures and chapters alike (numbers and pictures
from one computation).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from hlm.errors import ModelError

LEVEL = 0.95

def term_row(names, at: dict) -> np.ndarray:
    """The row L of a prediction, L @ fixef, at the variables' values `at` ({coefficient part:
    value}, e.g. {"SES": 1.5, "SectorPublic": 1}): the intercept counts 1, a coefficient a:b
    the product of its parts' values, a part not in `at` 0."""
    return np.array([1.0 if n == "(Intercept)" else float(np.prod([at.get(p, 0.0) for p in n.split(":")]))
                     for n in names])


def t_quantile(df, level: float = LEVEL) -> float:
    """The two-sided t quantile on df (the normal one when df is unknown or infinite)."""
    ok = df is not None and np.isfinite(df) and df > 0
    return float(stats.t.ppf(0.5 + level / 2, df) if ok else stats.norm.ppf(0.5 + level / 2))


def scheffe(df, k: int = 2, level: float = LEVEL) -> float:
    """Scheffé's multiplier for every linear combination of k coefficients: sqrt(k F(level; k, df))."""
    ok = df is not None and np.isfinite(df) and df > 0
    return float(np.sqrt(k * stats.f.ppf(level, k, df)) if ok else np.sqrt(stats.chi2.ppf(level, k)))


def predictions(fit: dict, L) -> pd.DataFrame:
    """Estimates, standard errors and 95% limits of the rows of L (on fit's fixef, in its order);
    the t quantile uses the smallest df of the coefficients involved."""
    names = list(fit["fixef"])
    b = np.array([fit["fixef"][n] for n in names], float)
    L = np.atleast_2d(np.asarray(L, float))
    V = np.asarray(fit["vcov"], float)
    est, se = L @ b, np.sqrt(np.einsum("ij,jk,ik->i", L, V, L))
    dfs = [fit.get("df", {}).get(n) for n, used in zip(names, np.any(L != 0, axis=0)) if used]
    t = t_quantile(min((d for d in dfs if d is not None), default=None))
    return pd.DataFrame({"est": est, "se": se, "lower": est - t * se, "upper": est + t * se})


def effect_bands(fixef: dict, vcov, terms: tuple[str, str], xs, df, level: float = LEVEL) -> pd.DataFrame:
    """The effect of w at each x, fixef[w_term] + fixef[xw_term] * x (terms = (w_term, xw_term);
    an absent xw_term counts 0), its standard error and two `level` bands: pointwise (t quantile
    on df) and simultaneous over every x (Scheffé, sqrt(k F(level; k, df)) with k the terms present)."""
    names = list(fixef)
    xs = np.asarray(xs, float)
    present = [t for t in terms if t in names]
    L = np.zeros((xs.size, len(names)))
    for t, col in zip(terms, (np.ones_like(xs), xs)):
        if t in names:
            L[:, names.index(t)] = col
    b, V = np.array([fixef[n] for n in names], float), np.asarray(vcov, float)
    est, se = L @ b, np.sqrt(np.einsum("ij,jk,ik->i", L, V, L))
    t, s = t_quantile(df, level), scheffe(df, len(present), level)
    return pd.DataFrame({"x": xs, "est": est, "se": se, "lower": est - t * se, "upper": est + t * se,
                         "lower_sim": est - s * se, "upper_sim": est + s * se})


def excluding_zero(bands: pd.DataFrame, simultaneous: bool = False) -> list[tuple[float, float]]:
    """The stretches of x (first and last grid point of each run) where a band of
    `effect_bands` lies wholly above or below zero."""
    lo, hi = ("lower_sim", "upper_sim") if simultaneous else ("lower", "upper")
    off = ((bands[lo] > 0) | (bands[hi] < 0)).to_numpy()
    xs = bands["x"].to_numpy()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], off.astype(int), [0]])))
    return [(float(xs[a]), float(xs[b - 1])) for a, b in zip(edges[::2], edges[1::2])]


def hypothesis_matrix(L, names) -> tuple[np.ndarray, list[str]]:
    """L as {row: {coef: weight}}, a list of coefficient names, or a matrix with p columns."""
    names = list(names)
    if isinstance(L, dict):
        rows, M = list(L), np.zeros((len(L), len(names)))
        for i, r in enumerate(rows):
            for k, w in L[r].items():
                if k not in names:
                    raise ModelError(f"wald: {k!r} is not a coefficient; coefficients are {names}")
                M[i, names.index(k)] = w
        return M, [str(r) for r in rows]
    if isinstance(L, (list, tuple)) and L and all(isinstance(v, str) for v in L):
        return hypothesis_matrix({k: {k: 1.0} for k in L}, names)
    M = np.atleast_2d(np.asarray(L, dtype=float))
    if M.shape[1] != len(names):
        raise ModelError(f"wald: L has {M.shape[1]} columns but the model has {len(names)} coefficients")
    return M, [f"L{i + 1}" for i in range(M.shape[0])]


def wald_test(fixef, vcov, df, names, L, rhs=None, tol: float = 1e-7) -> dict:
    """Wald F test of L beta = rhs for estimates `fixef` (in the order of `names`) with
    covariance `vcov` and per-coefficient DF `df` (the notes' glh / wald). L is given as
    :func:`hypothesis_matrix` reads it.

    The DF of a row is the smallest DF of the coefficients it involves, the
    denominator DF the smallest over rows (as spida's ``wald``); the numerator DF is the
    rank of L's covariance (eigenvalues below `tol`² of the largest count as zero)."""
    fixef, vcov, df = (np.asarray(a, float) for a in (fixef, vcov, df))
    M, rows = hypothesis_matrix(L, names)
    rhs = np.zeros(M.shape[0]) if rhs is None else np.broadcast_to(np.asarray(rhs, float), (M.shape[0],))
    est = M @ fixef
    V = M @ vcov @ M.T
    se = np.sqrt(np.diag(V))
    row_df = np.array([np.min(df[np.abs(m) > 0]) if np.any(m) else np.inf for m in M])
    diff = est - rhs
    evals, evecs = np.linalg.eigh(V)
    keep = evals > tol**2 * max(evals.max(), 1e-300)    # rank of V (eigenvalues: squared)
    rank = int(keep.sum())
    proj = evecs[:, keep].T @ diff
    F = float(np.sum(proj**2 / evals[keep]) / rank)
    den = float(np.min(row_df))
    out_rows = {}
    for i, r in enumerate(rows):
        tval = diff[i] / se[i]
        half = stats.t.ppf(0.975, row_df[i]) * se[i]
        out_rows[r] = {"estimate": float(est[i]), "se": float(se[i]), "df": float(row_df[i]),
                       "t": float(tval), "p": float(2 * stats.t.sf(abs(tval), row_df[i])),
                       "lower": float(est[i] - half), "upper": float(est[i] + half)}
    return {"F": F, "numDF": rank, "denDF": den, "p": float(stats.f.sf(F, rank, den)), "rows": out_rows}
