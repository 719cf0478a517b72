"""Simulating two-level data from the hierarchical model of the notes.

Within cluster j:  y_ij = beta_0j + beta_1j x_ij + e_ij,   e_ij ~ N(0, sigma2)
Between clusters:  beta_j = gamma + w_j * w_effect + u_j,  u_j ~ N(0, G)
Design:            n_j ~ Poisson(mean_n) (redrawn below min_n), x_ij ~ N(x_mean, x_sd^2)

The notes' example uses gamma = (12, 2), G = [[16, 8], [8, 25]], sigma2 = 20,
n_j ~ Poisson(30) and x ~ N(0, 1). :func:`simulate_school` draws the single
school shown step by step in the simulated-example figures;
:func:`simulate_two_level` draws whole data sets for tests and benchmarks.
Everything is driven by a seeded ``numpy.random.Generator``: same seed, same data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["NOTES_GAMMA", "NOTES_G", "NOTES_SIGMA2", "NOTES_MEAN_N", "NOTES_SEED",
           "SimulatedSchool", "simulate_school", "simulate_two_level"]

NOTES_GAMMA = (12.0, 2.0)
NOTES_G = ((16.0, 8.0), (8.0, 25.0))
NOTES_SIGMA2 = 20.0
NOTES_MEAN_N = 30
NOTES_SEED = 20  # a school that is somewhat atypical but plausible, as in the notes


@dataclass(frozen=True)
class SimulatedSchool:
    """One simulated cluster with everything the notes' Figs 8-17 show."""

    gamma: np.ndarray        # (2,) population mean line
    G: np.ndarray            # (2, 2) variance of the true lines
    sigma2: float            # within-cluster error variance
    u: np.ndarray            # (2,) this cluster's random effect
    x: np.ndarray            # (n,) predictor values
    eps: np.ndarray          # (n,) errors
    y: np.ndarray            # (n,) responses

    @property
    def n(self) -> int:
        return int(self.x.size)

    @property
    def beta(self) -> np.ndarray:
        """The cluster's true (intercept, slope): gamma + u."""
        return self.gamma + self.u

    @property
    def X(self) -> np.ndarray:
        return np.column_stack([np.ones(self.n), self.x])

    @property
    def beta_hat(self) -> np.ndarray:
        """Least-squares (intercept, slope) from this cluster's data."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    @property
    def sampling_cov(self) -> np.ndarray:
        """sigma2 (X'X)^-1: variance of beta_hat given the true beta."""
        return self.sigma2 * np.linalg.inv(self.X.T @ self.X)

    @property
    def V(self) -> np.ndarray:
        """G + sigma2 (X'X)^-1: variance of beta_hat around gamma."""
        return self.G + self.sampling_cov


def _params(gamma, G, sigma2):
    gamma = np.asarray(gamma, dtype=float).reshape(2)
    G = np.asarray(G, dtype=float).reshape(2, 2)
    if not np.allclose(G, G.T) or np.linalg.eigvalsh(G)[0] < -1e-12:
        raise ValueError("G must be a symmetric positive semi-definite 2x2 matrix")
    if not sigma2 > 0:
        raise ValueError("sigma2 must be positive")
    return gamma, G, float(sigma2)


def _draw_cluster(rng, G, sigma2, mean_n, min_n, x_mean, x_sd):
    """u, x, eps for one cluster, in a fixed order of draws."""
    u = rng.multivariate_normal(np.zeros(2), G, method="eigh")
    n = int(rng.poisson(mean_n))
    while n < min_n:
        n = int(rng.poisson(mean_n))
    x = x_mean + x_sd * rng.standard_normal(n)
    eps = np.sqrt(sigma2) * rng.standard_normal(n)
    return u, x, eps


def simulate_school(gamma=NOTES_GAMMA, G=NOTES_G, sigma2: float = NOTES_SIGMA2,
                    mean_n: float = NOTES_MEAN_N, seed: int = NOTES_SEED,
                    min_n: int = 3) -> SimulatedSchool:
    """One school drawn from the notes' model (the first cluster of that seed's draw)."""
    gamma, G, sigma2 = _params(gamma, G, sigma2)
    rng = np.random.default_rng(seed)
    u, x, eps = _draw_cluster(rng, G, sigma2, mean_n, min_n, 0.0, 1.0)
    beta = gamma + u
    y = beta[0] + beta[1] * x + eps
    return SimulatedSchool(gamma=gamma, G=G, sigma2=sigma2, u=u, x=x, eps=eps, y=y)


def simulate_two_level(n_clusters: int, gamma=NOTES_GAMMA, G=NOTES_G,
                       sigma2: float = NOTES_SIGMA2, mean_n: float = NOTES_MEAN_N,
                       w_effect=(0.0, 0.0), seed: int | None = 0, *, min_n: int = 2,
                       x_mean: float = 0.0, x_sd: float = 1.0,
                       w_share: float = 0.5) -> pd.DataFrame:
    """A two-level data set: one row per unit.

    Columns: ``cluster`` (string id), ``w`` (0/1 cluster-level indicator; a share
    `w_share` of clusters, placed at random, have w = 1), ``x``, ``y``, and the
    cluster's true coefficients ``beta0``, ``beta1`` (for checks). For clusters
    with w = 1 the mean line is ``gamma + w_effect``.
    """
    if n_clusters < 1:
        raise ValueError("n_clusters must be at least 1")
    gamma, G, sigma2 = _params(gamma, G, sigma2)
    delta = np.asarray(w_effect if w_effect is not None else (0.0, 0.0), float).reshape(2)
    rng = np.random.default_rng(seed)
    n_w = int(round(w_share * n_clusters))
    w = np.zeros(n_clusters, dtype=int)
    w[rng.permutation(n_clusters)[:n_w]] = 1
    width = len(str(n_clusters))
    parts = []
    for j in range(n_clusters):
        u, x, eps = _draw_cluster(rng, G, sigma2, mean_n, min_n, x_mean, x_sd)
        beta = gamma + w[j] * delta + u
        parts.append(pd.DataFrame({
            "cluster": f"c{j + 1:0{width}d}", "w": w[j], "x": x,
            "y": beta[0] + beta[1] * x + eps, "beta0": beta[0], "beta1": beta[1]}))
    out = pd.concat(parts, ignore_index=True)
    out["w"] = out["w"].astype(int)
    return out
