"""Dense reference computations (V = Z G Z' + sigma^2 I), independent of the engine."""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate(rng, J, sizes, q, p_extra=1, G=None, sigma=1.0, const_x_cluster=None):
    """A small two-level dataset with columns y, x1.., w (cluster level), g."""
    rows = []
    for j in range(J):
        nj = sizes[j]
        x = rng.normal(size=nj)
        if const_x_cluster is not None and j == const_x_cluster:
            x = np.full(nj, x[0])
        rows.append(pd.DataFrame({"g": f"c{j:03d}", "x": x, "x2": rng.normal(size=nj),
                                  "w": float(rng.integers(0, 2)) + 0.0 * x}))
    df = pd.concat(rows, ignore_index=True)
    Gm = np.eye(q) if G is None else np.asarray(G)
    b = rng.multivariate_normal(np.zeros(q), Gm, size=J)
    codes = pd.factorize(df["g"])[0]
    Z = np.column_stack([np.ones(len(df)), df["x"], df["x2"]])[:, :q]
    df["y"] = 1.0 + 0.5 * df["x"] - 0.3 * df["w"] + np.sum(Z * b[codes], 1) + sigma * rng.normal(size=len(df))
    return df


def dense_loglik(X, Z, y, codes, G, sigma2, reml):
    """Log-likelihood (restricted for REML) with beta at its GLS estimate."""
    n, p = X.shape
    J = codes.max() + 1
    Zfull = np.zeros((n, J * Z.shape[1]))
    for j in range(J):
        rows = codes == j
        Zfull[np.ix_(rows, np.arange(j * Z.shape[1], (j + 1) * Z.shape[1]))] = Z[rows]
    Gfull = np.kron(np.eye(J), G)
    V = Zfull @ Gfull @ Zfull.T + sigma2 * np.eye(n)
    Vi = np.linalg.inv(V)
    XtViX = X.T @ Vi @ X
    beta = np.linalg.solve(XtViX, X.T @ Vi @ y)
    r = y - X @ beta
    ll = -0.5 * (np.linalg.slogdet(V)[1] + r @ Vi @ r)
    if reml:
        return ll - 0.5 * ((n - p) * np.log(2 * np.pi) + np.linalg.slogdet(XtViX)[1]), beta, Vi, Zfull
    return ll - 0.5 * n * np.log(2 * np.pi), beta, Vi, Zfull
