"""Ellipses in beta space: confidence, coverage, dispersion and "shadow" ellipses.

An ellipse is the set ``{c + r * L z : |z| = 1}`` where ``L L' = V`` (a 2x2
variance matrix), ``c`` is the centre and ``r`` the radius. Its shadow
(projection) on axis ``i`` is the interval ``c_i +/- r * sqrt(V_ii)``, which is
what makes the radius meaningful:

- ``r = 1`` with ``V`` a variance of a random vector: the *dispersion* ellipse,
  whose shadows are mean +/- 1 SD (the notes' ellipse of G);
- ``r = sqrt(qchisq(level, 2))`` with ``V`` the variance of an estimate: a
  joint *coverage* (confidence) region with the nominal 2-D coverage;
- ``r = sqrt(qchisq(level, 1))`` (or the t quantile with ``df``): the smaller
  *shadow* ellipse, whose shadows are the usual 1-D confidence intervals for
  each coefficient (and for every linear combination of them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Ellipse", "radius", "coverage_radius", "shadow_radius", "ellipse",
           "dispersion_ellipse", "confidence_ellipse", "shadow_ellipse", "shadow", "points",
           "data_ellipse"]


def _as_cov(cov) -> np.ndarray:
    V = np.asarray(cov, dtype=float)
    if V.shape != (2, 2):
        raise ValueError(f"an ellipse needs a 2x2 variance matrix, got shape {V.shape}")
    if not np.allclose(V, V.T, rtol=1e-8, atol=1e-12):
        raise ValueError("the variance matrix of an ellipse must be symmetric")
    V = (V + V.T) / 2
    if np.linalg.eigvalsh(V)[0] < -1e-12 * max(1.0, np.abs(V).max()):
        raise ValueError("the variance matrix of an ellipse must be positive semi-definite")
    return V


def coverage_radius(level: float = 0.95, df: float | None = None) -> float:
    """Radius giving a 2-D region with joint coverage `level`.

    Large-sample: sqrt(qchisq(level, 2)); with residual `df`: sqrt(2 qf(level, 2, df)).
    """
    if df is None or not np.isfinite(df):
        return float(np.sqrt(stats.chi2.ppf(level, 2)))
    return float(np.sqrt(2 * stats.f.ppf(level, 2, df)))


def shadow_radius(level: float = 0.95, df: float | None = None) -> float:
    """Radius whose shadows are the 1-D `level` intervals: the z (or t with `df`) quantile."""
    if df is None or not np.isfinite(df):
        return float(np.sqrt(stats.chi2.ppf(level, 1)))
    return float(stats.t.ppf(0.5 + level / 2, df))


def radius(kind: str, level: float = 0.95, df: float | None = None) -> float:
    """Radius of an ellipse of `kind` 'dispersion' (1), 'coverage' or 'shadow'."""
    if kind == "dispersion":
        return 1.0
    if kind in ("coverage", "confidence"):
        return coverage_radius(level, df)
    if kind == "shadow":
        return shadow_radius(level, df)
    raise ValueError(f"unknown ellipse kind {kind!r}: use 'dispersion', 'coverage' or 'shadow'")


@dataclass(frozen=True)
class Ellipse:
    """centre + radius * (unit circle mapped by a square root of cov)."""

    center: tuple[float, float]
    cov: np.ndarray
    radius: float = 1.0
    kind: str = "dispersion"

    def points(self, n: int = 181) -> np.ndarray:
        """(n, 2) points on the ellipse, closed (first point repeated last)."""
        return points(self.center, self.cov, self.radius, n)

    def shadow(self) -> np.ndarray:
        """(2, 2) array: row i is the (low, high) projection on axis i."""
        return shadow(self.center, self.cov, self.radius)

    def contains(self, p) -> bool:
        d = np.asarray(p, float) - np.asarray(self.center, float)
        return bool(d @ np.linalg.pinv(self.cov) @ d <= self.radius ** 2 * (1 + 1e-9))


def ellipse(center, cov, radius: float = 1.0, kind: str = "dispersion") -> Ellipse:
    c = np.asarray(center, dtype=float)
    if c.shape != (2,):
        raise ValueError(f"an ellipse centre has 2 coordinates, got {c.shape}")
    return Ellipse((float(c[0]), float(c[1])), _as_cov(cov), float(radius), kind)


def dispersion_ellipse(center, cov) -> Ellipse:
    """Ellipse of a variance matrix: shadows are centre +/- 1 SD."""
    return ellipse(center, cov, 1.0, "dispersion")


def confidence_ellipse(center, cov, level: float = 0.95, df: float | None = None) -> Ellipse:
    """Joint `level` coverage region for an estimate with variance `cov`."""
    return ellipse(center, cov, coverage_radius(level, df), "coverage")


def shadow_ellipse(center, cov, level: float = 0.95, df: float | None = None) -> Ellipse:
    """Smaller ellipse whose shadows are the 1-D `level` confidence intervals."""
    return ellipse(center, cov, shadow_radius(level, df), "shadow")


def data_ellipse(xy, radius: float = 1.0) -> Ellipse:
    """Dispersion ellipse of a 2-column sample: its mean and (n-1) covariance."""
    xy = np.asarray(xy, dtype=float)
    return ellipse(xy.mean(axis=0), np.cov(xy, rowvar=False), radius, "dispersion")


def _sqrt(V: np.ndarray) -> np.ndarray:
    """A square root L with L L' = V, valid for singular V too."""
    vals, vecs = np.linalg.eigh(V)
    return vecs * np.sqrt(np.clip(vals, 0, None))


def points(center, cov, radius: float = 1.0, n: int = 181) -> np.ndarray:
    """(n, 2) points c + r L (cos t, sin t), closed."""
    V = _as_cov(cov)
    t = np.linspace(0.0, 2 * np.pi, n)
    circle = np.column_stack([np.cos(t), np.sin(t)])
    return np.asarray(center, float) + radius * circle @ _sqrt(V).T


def shadow(center, cov, radius: float = 1.0) -> np.ndarray:
    """Exact projections of the ellipse on the two axes: c_i +/- r sqrt(V_ii)."""
    V = _as_cov(cov)
    c = np.asarray(center, float)
    half = radius * np.sqrt(np.diag(V))
    return np.column_stack([c - half, c + half])
