"""Tests on a fitted model: Wald / glh and Satterthwaite DF (``lrt``, which refits, is in ``api``)."""

from __future__ import annotations

import numpy as np

from hlm.effects import wald_test
from hlm.lmm.design import RANK_TOL
from hlm.lmm.numdiff import jacobian
from hlm.lmm.objective import CrossProducts
from hlm.lmm.variance import varpar_cov, vcov_beta


def wald(result, L, rhs=None) -> dict:
    """Wald F test of L beta = rhs on a fitted model (the notes' glh / wald); see
    :func:`hlm.effects.wald_test`, which does the arithmetic on any estimates."""
    return wald_test(result.fixef, result.vcov, result.df, result.x_names, L, rhs, tol=RANK_TOL)


def satterthwaite_df(cp: CrossProducts, theta, sigma: float, reml: bool, L) -> np.ndarray:
    """Satterthwaite DF of each row of L (as lmerTest: varpar = (theta, sigma))."""
    L = np.atleast_2d(np.asarray(L, float))
    A = varpar_cov(cp, np.asarray(theta, float), sigma, reml)
    x = np.concatenate([theta, [sigma]])
    dV = jacobian(lambda v: vcov_beta(cp, v[:-1], v[-1]), x, rel=1e-5)    # (p, p, n_par)
    g = np.einsum("ij,jka,ik->ai", L, dV, L)                               # (n_par, rows)
    V = np.einsum("ij,jk,ik->i", L, vcov_beta(cp, theta, sigma), L)
    return 2 * V**2 / np.einsum("ar,ab,br->r", g, A, g)

