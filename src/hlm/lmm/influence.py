"""Influence of each cluster on the fixed effects: exact refits without it, and the
one-step (closed-form) deletion for every cluster.

**Exact** (:func:`cluster_deletion`): for each cluster ``j`` the model is refitted on the
data without ``j`` (same formula and method, starting from the full fit's theta), giving
``b_(j)`` and its standard errors ``se_(j)``. As R's influence.ME (``estex``,
``cooks.distance``, ``dfbetas``):

- Cook's distance ``D_j = (b - b_(j))' V^-1 (b - b_(j)) / p``, with ``V`` the full
  fit's covariance of ``b`` and ``p`` the number of fixed effects;
- DFBETAS ``(b_k - b_(j)k) / se_(j)k``, per coefficient.

**One-step** (:func:`one_step`): the variance parameters are held at the full fit's theta
(Christensen, Pearson and Johnson 1992; Demidenko and Stukel 2005; R's HLMdiag), so that
deleting ``j`` is a GLS deletion in closed form. With ``V`` block-diagonal,

    b_(j) = b - (X'V^-1X - X_j'V_j^-1X_j)^-1 X_j'V_j^-1 (y_j - X_j b),

and ``se_(j)`` comes from that reduced information matrix, scaled as the engine scales
``vcov``: ``sigma_(j)^2 (X'V*^-1X - X_j'V*_j^-1X_j)^-1`` (``V* = V / sigma^2``), with
``sigma_(j)^2`` the residual variance of the data without ``j`` at the same theta (REML:
over ``n - n_j - p``; ML: ``n - n_j``). That is exactly what a refit without ``j`` with
theta fixed gives. Each cluster's ``X_j'V*_j^-1[X_j y_j]`` comes from its cross-products
(``W_j = Lambda' Z_j'[X_j y_j]``, ``M_j = Lambda' Z_j'Z_j Lambda + I``:
``[X_j y_j]'[X_j y_j] - W_j' M_j^-1 W_j``, as in ``objective.py``), so all the deletions
cost O(J p^3), not J refits. Cook's distance and DFBETAS are then computed as above.

A common rule of thumb flags ``D_j > 4 / J`` (J clusters). `clusters` selects which
deletions to compute, so that the refits can be split across jobs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from hlm.errors import ModelError
from hlm.lmm.api import fit_design
from hlm.lmm.basis import Basis
from hlm.lmm.design import RANK_TOL
from hlm.lmm.objective import cross_products, theta_to_lambda
from hlm.lmm.results import LmmResult


def cluster_deletion(fit: LmmResult, clusters: Sequence[int] | None = None) -> list[dict]:
    """One record per deleted cluster (by position in ``fit.group_ids``): its id, Cook's
    distance, DFBETAS, the refit's fixed effects, or the error that stopped the refit."""
    V_inv = np.linalg.inv(fit.vcov)
    p = len(fit.fixef)
    out = []
    for j in range(fit.groups) if clusters is None else clusters:
        gid = fit.design.group_ids[j]
        try:
            refit = fit_design(fit.design.without(j), fit.method, model=fit.model, start=fit.theta,
                               df_method=fit.df_method)
        except ModelError as err:
            out.append({"cluster": gid, "error": str(err)})
            continue
        delta = fit.fixef - refit.fixef
        out.append({
            "cluster": gid,
            "cook": float(delta @ V_inv @ delta / p),
            "dfbetas": dict(zip(fit.x_names, map(float, delta / refit.se))),
            "fixef": dict(zip(fit.x_names, map(float, refit.fixef))),
            "singular": bool(refit.singular), "converged": bool(refit.converged),
        })
    return out


def _cluster_blocks(X: np.ndarray, Z: np.ndarray, y: np.ndarray, starts: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """(J, p + 1, p + 1): each cluster's [X_j y_j]' V*_j^-1 [X_j y_j] at the relative factor `lam`."""
    cp = cross_products(X, Z, y, starts)
    p = cp.p
    cols = [X[:, k] for k in range(p)] + [y]
    XytXy = np.empty((cp.J, p + 1, p + 1))
    for a in range(p + 1):
        for b in range(a, p + 1):
            XytXy[:, a, b] = XytXy[:, b, a] = np.add.reduceat(cols[a] * cols[b], starts)
    M = np.matmul(lam.T, np.matmul(cp.ZtZ, lam)) + np.eye(cp.q)
    W = np.matmul(lam.T, cp.ZtXy)
    return XytXy - np.einsum("jac,jad->jcd", W, np.linalg.solve(M, W))


def deletion_estimates(fit: LmmResult) -> dict:
    """The one-step deletion of every cluster (see the module docstring), in the user's
    parametrisation: ``delta`` (J, p) = b - b_(j), ``vcov`` (J, p, p) the covariance of
    b_(j), and ``ok`` (J,) False where the fixed effects are not estimable without j.

    Computed on the engine's centred, scaled and orthonormalised columns (``basis.py``),
    where the cross-products are well conditioned, and mapped back."""
    d = fit.design
    basis, Xi, Zi, yi = Basis.fit(d.X, d.Z, d.y)
    lam = theta_to_lambda(basis.theta_internal(fit.theta), d.q)
    A_j = _cluster_blocks(Xi, Zi, yi, d.starts, lam)
    A = A_j.sum(axis=0)
    p = d.p
    b = np.linalg.solve(A[:p, :p], A[:p, p])
    r2 = float(A[p, p] - A[p, :p] @ b)
    red = A[None, :p, :p] - A_j[:, :p, :p]                          # X'V*^-1X without j
    g = A_j[:, :p, p] - A_j[:, :p, :p] @ b                          # X_j'V*_j^-1 (y_j - X_j b)
    w = np.linalg.eigvalsh(red) if p else np.ones((d.J, 1))
    ok = w[:, 0] > RANK_TOL ** 2 * w[:, -1]                       # as the rank checks of design.py
    red[~ok] = np.eye(p)
    inv = np.linalg.inv(red)
    delta = np.einsum("jab,jb->ja", inv, g)
    bb = np.append(-b, 1.0)
    # residual sum of squares without j at b, less the gain of moving to b_(j)
    r2_j = r2 - np.einsum("a,jab,b->j", bb, A_j, bb) - np.einsum("ja,ja->j", delta, g)
    dof = d.n - d.counts - (p if fit.method == "REML" else 0)
    vcov_i = (r2_j / dof)[:, None, None] * inv
    delta_u = basis.s * delta @ basis.T.T
    vcov_u = basis.s ** 2 * np.einsum("ak,jkl,bl->jab", basis.T, vcov_i, basis.T)
    delta_u[~ok], vcov_u[~ok] = np.nan, np.nan
    return {"delta": delta_u, "vcov": vcov_u, "ok": ok}


def one_step(fit: LmmResult, clusters: Sequence[int] | None = None) -> list[dict]:
    """One record per deleted cluster, as :func:`cluster_deletion`'s, from the one-step
    deletion with theta held at the fit's (no refit: no ``singular`` or ``converged``)."""
    est = deletion_estimates(fit)
    V_inv = np.linalg.inv(fit.vcov)
    p = len(fit.fixef)
    out = []
    for j in range(fit.groups) if clusters is None else clusters:
        gid = fit.design.group_ids[j]
        if not est["ok"][j]:
            out.append({"cluster": gid, "error": "without it the fixed effects cannot all be estimated"})
            continue
        delta = est["delta"][j]
        se = np.sqrt(np.diag(est["vcov"][j]))
        out.append({
            "cluster": gid,
            "cook": float(delta @ V_inv @ delta / p),
            "dfbetas": dict(zip(fit.x_names, map(float, delta / se))),
            "fixef": dict(zip(fit.x_names, map(float, fit.fixef - delta))),
        })
    return out
