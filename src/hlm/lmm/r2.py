"""Multilevel R²: how much variance a mixed model's fixed part explains.

Two families, both from the fitted variance components:

- **Snijders and Bosker** (Multilevel Analysis, 2nd ed., sec. 7.1): the proportional
  reduction of the prediction error variance against the empty model (``y ~ 1 +
  (1 | cluster)``, the same data and method). Level 1, for an observation:
  ``R²₁ = 1 - (σ² + τ²)_model / (σ² + τ²)_empty``; level 2, for a cluster mean of ``n``
  observations: ``R²₂ = 1 - (σ²/n + τ²)_model / (σ²/n + τ²)_empty``, with ``n`` the
  clusters' harmonic mean size (S&B's choice for unequal sizes). ``τ²`` is the level-2
  variance at the observations' values: the mean of ``z_i' G z_i`` over the rows (for
  a random intercept alone, ``g₀₀``), so that random slopes count at the data's x.
- **Nakagawa and Schielzeth** (2013), with Johnson's (2014) extension to random slopes:
  ``σ²_f`` is the variance of the fixed-part predictions ``X b`` (n - 1 denominator,
  as R's ``var``), ``σ²_r`` the mean of ``z_i' G z_i``, and
  ``R²_marginal = σ²_f / (σ²_f + σ²_r + σ²)``, ``R²_conditional = (σ²_f + σ²_r) /
  (σ²_f + σ²_r + σ²)``.

Both read of a fit only its design, fixed effects, ``G`` and ``σ``: an
:class:`~hlm.lmm.results.LmmResult`, or the same read from a fit record with the design
rebuilt from the data (:class:`Components`), so that the catalog's fits are not redone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from hlm.lmm.design import Design
from hlm.lmm.results import LmmResult


@dataclass(frozen=True, eq=False)
class Components:
    """What the R² need of a fit, e.g. from its record: the design it was fitted on (rows
    sorted by cluster, as the engine's), the fixed effects in the design's column order,
    ``G`` and ``σ``."""

    design: Design
    fixef: np.ndarray
    G: np.ndarray
    sigma: float

    @property
    def n(self) -> int:
        return self.design.n

    @property
    def groups(self) -> int:
        return self.design.J


def level2_variance(fit: LmmResult | Components) -> float:
    """The mean over the rows of ``z_i' G z_i``: the random part's variance at the data."""
    Z = fit.design.Z
    return float(np.mean(np.einsum("ij,jk,ik->i", Z, fit.G, Z)))


def nakagawa(fit: LmmResult | Components) -> dict:
    """Marginal and conditional R² (Nakagawa-Schielzeth, Johnson's random slopes)."""
    var_f = float(np.var(fit.design.X @ fit.fixef, ddof=1))
    var_r = level2_variance(fit)
    total = var_f + var_r + fit.sigma ** 2
    return {"var_fixed": var_f, "var_random": var_r, "var_residual": fit.sigma ** 2,
            "marginal": var_f / total, "conditional": (var_f + var_r) / total}


def snijders_bosker(fit: LmmResult | Components, empty: LmmResult | Components) -> dict:
    """Level-1 and level-2 R² of `fit` against the `empty` model on the same data."""
    if fit.n != empty.n or fit.groups != empty.groups:
        raise ValueError("snijders_bosker: the two fits are not on the same data")
    n_h = float(stats.hmean(fit.design.counts))
    tau_m, tau_0 = level2_variance(fit), level2_variance(empty)
    s2_m, s2_0 = fit.sigma ** 2, empty.sigma ** 2
    return {"cluster_size": n_h,
            "level1": 1 - (s2_m + tau_m) / (s2_0 + tau_0),
            "level2": 1 - (s2_m / n_h + tau_m) / (s2_0 / n_h + tau_0)}
