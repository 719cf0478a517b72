"""Simulating two-level data from the hierarchical model of the notes.

Within cluster j:  y_ij = beta_0j + beta_1j x_ij + e_ij,   e_ij ~ N(0, sigma2)
Between clusters:  beta_j = gamma + w_j * w_effect + u_j,  u_j ~ N(0, G)
Design:            n_j ~ Poisson(mean_n) (redrawn below min_n), x_ij ~ N(x_mean, x_sd^2)

The notes' example uses gamma = (12, 2), G = [[16, 8], [8, 25]], sigma2 = 20,
n_j ~ Poisson(30) and x ~ N(0, 1). :func:`simulate_school` draws the single
school shown step by step in the simulated-example figures;
:func:`simulate_two_level` draws whole data sets for tests and benchmarks.
Everything is driven by a seeded ``numpy.random.Generator``: same seed, same data.

The book's simulated example (:func:`book_example`) follows the dataset it is built on.
On the notes' own sample it is the notes' example, parameters and design (the notes fix
both, and the chapter reproduces their figures). On any other dataset the notes' numbers
would describe a different world (about 30 units per cluster at standard-normal x, for a
growth study of 27 children measured at four ages), so both come from the data instead:

- the design: the simulated cluster takes the size and the x values of one of the
  dataset's own clusters, drawn at random (seeded) among those where a line can be
  fitted (3 units or more, 2 distinct x values or more), so its n_j and its spread of x
  are those of the data; the data-space axis spans the data's range of x;
- the parameters: gamma is the mean of those clusters' least-squares lines, sigma2 the
  pooled within-cluster residual variance, and G the covariance of the lines minus their
  average sampling variance sigma2 (X_j'X_j)^-1 (a moment estimate). A direction in which
  that difference is at or below zero (the lines vary no more than sampling error makes
  them) is kept at 1% of the lines' own spread, so that G has an ellipse to draw;
  ``Example.floored`` says when that happened.

When fewer than 3 clusters have a line of their own (x constant within clusters, or
clusters of 1 or 2 units), the data give nothing to estimate a population of lines from,
and the example falls back on the notes' parameters and design, with ``Example.reason``
saying why.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["NOTES_GAMMA", "NOTES_G", "NOTES_SIGMA2", "NOTES_MEAN_N", "NOTES_SEED",
           "SimulatedSchool", "simulate_school", "simulate_two_level", "Example", "book_example",
           "lines_moments", "notes_sample"]

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


# --- the book's example: the notes' on their sample, the data's design elsewhere ---------------

NOTES_X_RANGE = (-3.0, 3.0)
FLOOR = 0.01          # share of the lines' own spread kept in a direction where G is estimated at <= 0


@dataclass(frozen=True)
class Example:
    """The simulated example of the book, and where its parameters and design come from."""

    source: str                      # "notes" (the notes' example) or "data" (from this dataset)
    cluster: SimulatedSchool         # the simulated cluster
    x_range: tuple[float, float]     # the data-space axis
    clusters: int                    # clusters in the dataset
    sizes: tuple[int, int]           # smallest and largest cluster in the dataset
    lines: int = 0                   # clusters with a least-squares line of their own
    template: str = ""               # the data cluster whose size and x values the example takes
    floored: bool = False            # G kept at FLOOR of the lines' spread in some direction
    reason: str = ""                 # why the notes' example is used on another dataset

    @property
    def design(self) -> str:
        """The design in one line: the notes' distributions, or the data cluster it copies."""
        if self.source == "notes":
            return f"n_j ~ Poisson({NOTES_MEAN_N}), x ~ N(0, 1)"
        return f"n_j = {self.cluster.n} and the x values of cluster {self.template} of the data"


def lines_moments(students: pd.DataFrame, cluster: str, x: str, y: str):
    """Moment estimates of (gamma, G, sigma2) from the clusters' own least-squares lines.

    Returns (gamma, G, sigma2, ids, floored): ids are the clusters that have a line
    (3 units or more, 2 distinct x values or more); None for gamma when fewer than 3 do."""
    betas, covs, ids, ss, df = [], [], [], 0.0, 0
    for cid, part in students.groupby(cluster, observed=True, sort=True):
        xv = part[x].to_numpy(float)
        yv = part[y].to_numpy(float)
        if len(xv) < 3 or np.unique(xv).size < 2:
            continue
        X = np.column_stack([np.ones(len(xv)), xv])
        XtX_inv = np.linalg.inv(X.T @ X)
        b = XtX_inv @ X.T @ yv
        r = yv - X @ b
        betas.append(b)
        covs.append(XtX_inv)
        ids.append(str(cid))
        ss += float(r @ r)
        df += len(xv) - 2
    if len(ids) < 3 or df == 0 or not ss > 0:
        return None, None, None, ids, False
    B = np.array(betas)
    sigma2 = ss / df
    S = np.cov(B, rowvar=False)
    G = S - sigma2 * np.mean(covs, axis=0)
    G = (G + G.T) / 2
    vals, vecs = np.linalg.eigh(G)
    # a direction where the lines vary no more than sampling error makes them (G at or below 0
    # there) keeps FLOOR of the lines' own spread in that direction, so that G can be drawn
    spread = np.array([float(v @ S @ v) for v in vecs.T])
    at_or_below_zero = vals <= 0
    floored = bool(at_or_below_zero.any())
    vals = np.where(at_or_below_zero, FLOOR * np.maximum(spread, np.finfo(float).tiny), vals)
    G = vecs @ np.diag(vals) @ vecs.T
    return B.mean(axis=0), (G + G.T) / 2, float(sigma2), ids, floored


# The notes' analysis (as in hlm.reproduce.notes_apply, which this mirrors without importing
# it: the simulated figures must not rerun when the reproduction code changes).
_NOTES_ROLES = ("MathAch", "SES", "Sector", "Catholic")


def notes_sample(students: pd.DataFrame, profile) -> bool:
    """Whether this is the notes' own sample analysed with their roles (their example applies)."""
    import yaml

    from hlm.artifacts import PATHS
    from hlm.config import ROOT
    try:
        values = yaml.safe_load((ROOT / PATHS.reference / "notes_values.yaml").read_text(encoding="utf-8"))
        reference = profile.roles["w"].reference
        ids = set(students[profile.cluster].astype(str))
        return (ids == {str(s) for s in values["sample_schools"]}
                and len(students) == values["data"]["n_students"]
                and (profile.y, profile.x, profile.w, str(reference)) == _NOTES_ROLES)
    except (OSError, KeyError, TypeError, AttributeError):
        return False


def book_example(students: pd.DataFrame, profile, seed: int = NOTES_SEED) -> Example:
    """The simulated cluster the book shows, built for this dataset (see the module's notes)."""
    sizes = students.groupby(profile.cluster, observed=True).size()
    J, smallest, largest = int(sizes.size), int(sizes.min()), int(sizes.max())
    if notes_sample(students, profile):
        return Example("notes", simulate_school(seed=seed), NOTES_X_RANGE, J, (smallest, largest))
    gamma, G, sigma2, ids, floored = lines_moments(students, profile.cluster, profile.x, profile.y)
    if gamma is None:
        reason = (f"only {len(ids)} of the {J:,} clusters have a least-squares line of their own (3 units "
                  f"or more, and 2 distinct values of x)" if ids else
                  "no cluster has a least-squares line of its own (that needs 3 units or more and 2 "
                  "distinct values of x in the cluster)")
        return Example("notes", simulate_school(seed=seed), NOTES_X_RANGE, J, (smallest, largest),
                       lines=len(ids), reason=reason)
    rng = np.random.default_rng(seed)
    template = ids[int(rng.integers(len(ids)))]
    part = students[students[profile.cluster].astype(str) == template]
    xv = part[profile.x].to_numpy(float)
    u = rng.multivariate_normal(np.zeros(2), G, method="eigh")
    eps = np.sqrt(sigma2) * rng.standard_normal(xv.size)
    beta = gamma + u
    school = SimulatedSchool(gamma=gamma, G=G, sigma2=sigma2, u=u, x=xv, eps=eps,
                             y=beta[0] + beta[1] * xv + eps)
    allx = students[profile.x].to_numpy(float)
    lo, hi = float(np.nanmin(allx)), float(np.nanmax(allx))
    pad = 0.05 * (hi - lo)
    return Example("data", school, (lo - pad, hi + pad), J, (smallest, largest), lines=len(ids),
                   template=template, floored=floored)
