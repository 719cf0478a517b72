"""Least squares with one intercept (and possibly one slope) per cluster, without dummies.

The fixed-effects fits of :mod:`hlm.classic` are OLS on designs with one or two
dummy columns per cluster. Their algebra separates by cluster, so this module
computes them from per-cluster sums (``np.bincount`` over the rows' cluster
codes): O(n + J) time and memory instead of an n x J design and a J x J solve.

- :class:`Groups`: cluster codes, sizes, per-cluster sums, means, ranges;
- :func:`per_cluster_lines`: each cluster's own least-squares line;
- :func:`separate_lines`: ``y ~ cluster / x - 1`` (an intercept per cluster and a
  slope per cluster whose x varies), one residual variance;
- :func:`common_slopes`: ``y ~ cluster + X`` in R's treatment coding (the first
  cluster is ``(Intercept)``, the others differences from it): the slopes from the
  within-cluster deviations (Frisch-Waugh-Lovell), the intercepts from the cluster
  means, which are uncorrelated with those slopes;
- :class:`LinearFit`: coefficients with their covariance kept factored,
  ``V = M C M'`` (M sparse, C block diagonal), so standard errors and any ``L V L'``
  cost O(J) and the dense K x K matrix is formed only on request; it answers
  statsmodels' attribute names (``params``, ``bse``, ``rsquared``, ...), which
  :func:`hlm.rprint.lm_summary` reads.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse, stats

from hlm.errors import ModelError
from hlm.lmm.design import RANK_TOL


@dataclass(frozen=True)
class Groups:
    """Rows' cluster codes 0..J-1 (every cluster has a row) and per-cluster reductions."""

    codes: np.ndarray

    @cached_property
    def size(self) -> np.ndarray:
        return np.bincount(self.codes)

    @property
    def J(self) -> int:
        return len(self.size)

    def sum(self, v: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=v, minlength=self.J)

    def mean(self, v: np.ndarray) -> np.ndarray:
        return self.sum(v) / self.size

    def within(self, v: np.ndarray) -> np.ndarray:
        """Deviations from the cluster means."""
        return v - self.mean(v)[self.codes]

    @cached_property
    def order(self) -> np.ndarray:
        """Row indices sorted by cluster, rows of a cluster in their original order."""
        return np.argsort(self.codes, kind="stable")

    @cached_property
    def starts(self) -> np.ndarray:
        """Where each cluster begins in ``order``."""
        return np.cumsum(self.size) - self.size

    @property
    def first(self) -> np.ndarray:
        """Each cluster's first row."""
        return self.order[self.starts]

    def reduce(self, ufunc: np.ufunc, v: np.ndarray) -> np.ndarray:
        """``ufunc.reduce`` over each cluster's rows (e.g. np.maximum)."""
        return ufunc.reduceat(v[self.order], self.starts)


def line_ok(g: Groups, x: np.ndarray) -> np.ndarray:
    """Clusters where a line is identified: x varies (range > 1e-12 * max(1, max |x|))."""
    ptp = g.reduce(np.maximum, x) - g.reduce(np.minimum, x)
    return ptp > 1e-12 * np.maximum(1.0, g.reduce(np.maximum, np.abs(x)))


def per_cluster_lines(g: Groups, x: np.ndarray, y: np.ndarray, ok: np.ndarray) -> dict:
    """Each cluster's OLS line ``y ~ x`` (where ``ok``; elsewhere slope 0, intercept the mean)
    with what its covariance needs: mean of x, 1 / sum of squared x deviations, residuals."""
    xbar, ybar = g.mean(x), g.mean(y)
    dx, dy = x - xbar[g.codes], y - ybar[g.codes]
    inv_sxx = np.divide(1.0, g.sum(dx * dx), out=np.zeros(g.J), where=ok)
    slope = g.sum(dx * dy) * inv_sxx
    return {"intercept": ybar - slope * xbar, "slope": slope, "xbar": xbar, "inv_sxx": inv_sxx,
            "resid": dy - slope[g.codes] * dx}


def _df_resid(n: int, k: int) -> int:
    if n <= k:
        raise ModelError(f"{n} observations cannot estimate {k} coefficients and a variance.")
    return n - k


def separate_lines(g: Groups, x: np.ndarray, y: np.ndarray, ok: np.ndarray,
                   names: list[str]) -> tuple[LinearFit, np.ndarray]:
    """``y ~ cluster / x - 1``: coefficients are the J intercepts, then the slopes of the
    ``ok`` clusters; ``names`` in that order. Also returns each cluster's 2 x 2 covariance
    block of (intercept, slope) (J x 2 x 2; zero slope entries where not ``ok``)."""
    fit = per_cluster_lines(g, x, y, ok)
    J, slopes = g.J, np.flatnonzero(ok)
    df = _df_resid(len(y), J + len(slopes))
    s2 = float(fit["resid"] @ fit["resid"]) / df
    xbar, inv = fit["xbar"], fit["inv_sxx"]
    blocks = s2 * np.stack([1 / g.size + xbar ** 2 * inv, -xbar * inv, -xbar * inv, inv], axis=1).reshape(J, 2, 2)
    pos = J + np.arange(len(slopes))  # the slopes' positions among the coefficients
    rows = np.concatenate([np.arange(J), pos, slopes, pos])
    cols = np.concatenate([np.arange(J), pos, pos, slopes])
    vals = np.concatenate([blocks[:, 0, 0], blocks[slopes, 1, 1], blocks[slopes, 0, 1], blocks[slopes, 1, 0]])
    K = J + len(slopes)
    C = sparse.csr_array((vals, (rows, cols)), shape=(K, K))
    coef = np.concatenate([fit["intercept"], fit["slope"][slopes]])
    return LinearFit(names, coef, sparse.eye_array(K, format="csr"), C, fit["resid"], df, _tss(y)), blocks


def common_slopes(g: Groups, X: np.ndarray, y: np.ndarray, names: list[str]) -> LinearFit:
    """``y ~ cluster + X`` with an intercept: coefficients ``(Intercept)`` (the first
    cluster's), the J - 1 other clusters' differences from it, then X's p slopes;
    ``names`` in that order."""
    J, p = g.J, X.shape[1]
    df = _df_resid(len(y), J + p)
    Xbar = np.column_stack([g.mean(col) for col in X.T])
    Xd, yd = X - Xbar[g.codes], g.within(y)
    G = Xd.T @ Xd
    varies = np.diag(G) > RANK_TOL**2 * (X * X).sum(axis=0)  # beyond rounding of the cluster means
    norms = np.sqrt(np.diag(G))
    ev = np.linalg.eigvalsh(G / np.outer(norms, norms)) if varies.all() else np.zeros(1)
    if ev.min() <= RANK_TOL**2 * ev.max():
        raise ModelError(f"the within-cluster variation of {', '.join(names[J:])} is linearly dependent "
                         "(or absent): the slopes are not identified.")
    Ginv = np.linalg.inv(G)
    beta = Ginv @ (Xd.T @ yd)
    resid = yd - Xd @ beta
    s2 = float(resid @ resid) / df
    alpha = g.mean(y) - Xbar @ beta  # each cluster's intercept
    # coef = M u, u = (cluster means of y, beta), uncorrelated: Var(u) = diag(s2 / n_j) (+) s2 G^-1
    A = -(Xbar - Xbar[0] * (np.arange(J) > 0)[:, None])  # d coef_j / d beta for the intercept rows
    M = sparse.block_array([[_treatment(J), sparse.csr_array(A)],
                            [None, sparse.eye_array(p)]], format="csr")
    C = sparse.block_diag([sparse.diags_array(s2 / g.size), sparse.csr_array(s2 * Ginv)], format="csr")
    coef = np.concatenate([[alpha[0]], alpha[1:] - alpha[0], beta])
    return LinearFit(names, coef, M, C, resid, df, _tss(y))


def _treatment(J: int) -> sparse.csr_array:
    """Treatment contrasts: row 0 picks level 0, row j > 0 is level j minus level 0."""
    rows = np.concatenate([np.arange(J), np.arange(1, J)])
    cols = np.concatenate([np.arange(J), np.zeros(J - 1, int)])
    vals = np.concatenate([np.ones(J), -np.ones(J - 1)])
    return sparse.csr_array((vals, (rows, cols)), shape=(J, J))


def _tss(y: np.ndarray) -> float:
    return float(((y - y.mean()) ** 2).sum())


@dataclass(frozen=True)
class LinearFit:
    """An OLS fit with covariance ``M C M'``; the design has a constant (explicit, or the
    sum of the cluster dummies), so R-squared is centred and the F test leaves it out."""

    names: list[str]
    coef: np.ndarray
    M: sparse.csr_array
    C: sparse.csr_array
    resid: np.ndarray
    df_resid: int
    tss: float
    k_constant = 1

    @cached_property
    def params(self) -> pd.Series:
        return pd.Series(self.coef, index=self.names)

    @cached_property
    def bse(self) -> pd.Series:
        var = (self.M @ self.C).multiply(self.M).sum(axis=1)
        return pd.Series(np.sqrt(np.asarray(var).ravel()), index=self.names)

    @cached_property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    @cached_property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * stats.t.sf(self.tvalues.abs().to_numpy(), self.df_resid), index=self.names)

    @cached_property
    def ssr(self) -> float:
        return float(self.resid @ self.resid)

    @property
    def scale(self) -> float:
        return self.ssr / self.df_resid

    @property
    def df_model(self) -> int:
        return len(self.names) - self.k_constant

    @property
    def rsquared(self) -> float:
        return 1 - self.ssr / self.tss

    @property
    def rsquared_adj(self) -> float:
        return 1 - (len(self.resid) - self.k_constant) / self.df_resid * (1 - self.rsquared)

    @property
    def fvalue(self) -> float:
        return (self.tss - self.ssr) / self.df_model / self.scale

    @property
    def f_pvalue(self) -> float:
        return float(stats.f.sf(self.fvalue, self.df_model, self.df_resid))

    def cov_params(self) -> pd.DataFrame:
        """The dense K x K covariance (K^2 memory: only for small K)."""
        return pd.DataFrame((self.M @ self.C @ self.M.T).toarray(), index=self.names, columns=self.names)

    def combine(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``L b`` and ``L V L'`` for the rows of L, without forming V."""
        LM = (self.M.T @ L.T).T
        return L @ self.coef, LM @ (self.C @ LM.T)

    def take(self, idx) -> LinearFit:
        """The fit with its coefficients reordered by position (a subset: for its covariance only)."""
        idx = np.asarray(idx)
        return replace(self, names=[self.names[i] for i in idx], coef=self.coef[idx], M=self.M[idx])
