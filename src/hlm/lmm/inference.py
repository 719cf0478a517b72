"""Tests on a fitted model: Wald / glh and Satterthwaite DF (``lrt``, which refits, is in ``api``)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from hlm.errors import ModelError
from hlm.lmm.design import RANK_TOL
from hlm.lmm.numdiff import jacobian
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
    keep = evals > RANK_TOL**2 * max(evals.max(), 1e-300)    # rank of V (eigenvalues: squared)
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
    dV = jacobian(lambda v: vcov_beta(cp, v[:-1], v[-1]), x, rel=1e-5)    # (p, p, n_par)
    g = np.einsum("ij,jka,ik->ai", L, dV, L)                               # (n_par, rows)
    V = np.einsum("ij,jk,ik->i", L, vcov_beta(cp, theta, sigma), L)
    return 2 * V**2 / np.einsum("ar,ab,br->r", g, A, g)

