"""Tests on fitted models: Wald / glh, Satterthwaite DF, likelihood-ratio tests."""

from __future__ import annotations

import numpy as np
from scipy import stats

from hlm.errors import ModelError
from hlm.lmm.objective import CrossProducts
from hlm.lmm.variance import varpar_cov, vcov_beta


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


def wald(result, L, rhs=None) -> dict:
    """Wald F test of L beta = rhs (the notes' glh / wald).

    The DF of a row is the smallest DF of the coefficients it involves, the
    denominator DF the smallest over rows (as spida's ``wald``)."""
    M, rows = hypothesis_matrix(L, result.x_names)
    rhs = np.zeros(M.shape[0]) if rhs is None else np.broadcast_to(np.asarray(rhs, float), (M.shape[0],))
    est = M @ result.fixef
    V = M @ result.vcov @ M.T
    se = np.sqrt(np.diag(V))
    row_df = np.array([np.min(result.df[np.abs(m) > 0]) if np.any(m) else np.inf for m in M])
    diff = est - rhs
    evals, evecs = np.linalg.eigh(V)
    keep = evals > 1e-10 * max(evals.max(), 1e-300)
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


def satterthwaite_df(cp: CrossProducts, theta, sigma: float, reml: bool, L) -> np.ndarray:
    """Satterthwaite DF of each row of L (as lmerTest: varpar = (theta, sigma))."""
    L = np.atleast_2d(np.asarray(L, float))
    A = varpar_cov(cp, np.asarray(theta, float), sigma, reml)
    x = np.concatenate([theta, [sigma]])
    h = 1e-5 * np.maximum(np.abs(x), 1.0)
    grads = []
    for i in range(x.size):
        up, dn = x.copy(), x.copy()
        up[i] += h[i]
        dn[i] -= h[i]
        Vu, Vd = (vcov_beta(cp, v[:-1], v[-1]) for v in (up, dn))
        grads.append(np.einsum("ij,jk,ik->i", L, (Vu - Vd) / (2 * h[i]), L))
    g = np.array(grads)                       # (n_par, rows)
    V = np.einsum("ij,jk,ik->i", L, vcov_beta(cp, theta, sigma), L)
    return 2 * V**2 / np.einsum("ar,ab,br->r", g, A, g)


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
    from hlm.lmm.api import refit
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
