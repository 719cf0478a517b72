"""Analytic gradient of the profiled deviance in theta.

With K_j = Lambda M_j^-1 Lambda', A = [X y]'[X y] - sum_j C_j' K_j C_j
(C_j = Z_j'[X_j y_j]) and the deviance
    d = sum_j log|M_j| + log|A_XX| + (n - p) log r2      (REML; ML: no log|A_XX|, n)
the derivative along theta_i (the (r, c) element of Lambda, E = e_r e_c') is
    d_i = sum_j [2 (S_j Lambda M_j^-1)[r, c] - tr(dK_j D_j)],
    tr(dK_j D_j) = 2 (M_j^-1 Lambda' D_j)[c, r] - 2 (S_j Lambda P_j)[r, c],
where S_j = Z_j'Z_j, D_j = C_j B C_j', P_j = M_j^-1 Lambda' D_j Lambda M_j^-1, and
B = [A_XX^-1 0; 0 0] + (n - p) / r2 * bb' with b = (-beta, 1) (ML: n / r2 * bb').
Per-cluster q x q matrices are held as (q, q, J) arrays, so every step is a
vectorised operation over clusters: the gradient costs about one deviance evaluation.
"""

from __future__ import annotations

import numpy as np

from hlm.lmm.objective import CrossProducts, State, tril_index


def _inverse(M: np.ndarray) -> np.ndarray:
    """Inverse of each M[:, :, j] (closed forms for q = 1, 2)."""
    q = M.shape[0]
    if q == 1:
        return 1.0 / M
    if q == 2:
        det = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
        return np.stack([np.stack([M[1, 1], -M[0, 1]]), np.stack([-M[1, 0], M[0, 0]])]) / det
    return np.linalg.inv(M.transpose(2, 0, 1)).transpose(1, 2, 0)


def _weight_matrix(cp: CrossProducts, st: State, reml: bool) -> np.ndarray:
    p = cp.p
    b = np.append(-st.beta, 1.0)
    if reml:
        B = (cp.n - p) / st.r2 * np.outer(b, b)
        B[:p, :p] += np.linalg.inv(st.A[:p, :p])
        return B
    return cp.n / st.r2 * np.outer(b, b)


def deviance_gradient(cp: CrossProducts, st: State, reml: bool) -> np.ndarray:
    lam = st.lam
    S, C = cp.ZtZ_T, cp.ZtXy_T
    SL = np.einsum("abj,bc->acj", S, lam)
    M = np.einsum("ba,bcj->acj", lam, SL) + np.eye(cp.q)[:, :, None]
    Minv = _inverse(M)
    CB = np.einsum("lk,alj->akj", _weight_matrix(cp, st, reml), C)
    D = np.einsum("akj,bkj->abj", CB, C)
    X = np.einsum("abj,cb,cdj->adj", Minv, lam, D)          # M^-1 Lambda' D
    P = np.einsum("abj,bc,cdj->adj", X, lam, Minv)          # M^-1 Lambda' D Lambda M^-1
    T1 = np.einsum("abj,bcj->ac", SL, Minv)
    T2 = X.sum(axis=2)
    T3 = np.einsum("abj,bcj->ac", SL, P)
    r, c = tril_index(cp.q)
    return 2.0 * (T1[r, c] - T2[c, r] + T3[r, c])
