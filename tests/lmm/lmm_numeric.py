"""Finite-difference gradients for the lmm tests (moved here from ``hlm.lmm.optimize``, where
only tests used them).  Deliberately independent of ``hlm.lmm.numdiff``: they check the
engine's analytic gradient and its optimum, so they do not share its code."""

from __future__ import annotations

import numpy as np


def gradient(f, x: np.ndarray, lower: np.ndarray, rel: float = 1e-6) -> np.ndarray:
    """Central differences; one-sided (inwards) at a lower bound."""
    x = np.asarray(x, dtype=float)
    g = np.empty_like(x)
    for i in range(x.size):
        h = rel * max(1.0, abs(x[i]))
        up, dn = x.copy(), x.copy()
        up[i] += h
        if x[i] - h < lower[i]:
            g[i] = (f(up) - f(x)) / h
        else:
            dn[i] -= h
            g[i] = (f(up) - f(dn)) / (2 * h)
    return g


def projected_gradient(f, x, lower) -> np.ndarray:
    """The gradient with the components that push against a lower bound set to 0."""
    g = gradient(f, x, lower)
    at_bound = (x <= lower + 1e-12) & (g > 0)
    return np.where(at_bound, 0.0, g)


def richardson_gradient(f, x: np.ndarray, lower=None, rel: float = 1e-4) -> np.ndarray:
    """Central differences at steps h and 2h combined to cancel the h^2 error
    (one-sided where a step would cross a lower bound)."""
    g = np.empty_like(x)
    for i in range(x.size):
        h = rel * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        if lower is not None and x[i] - 2 * h < lower[i]:
            g1 = (f(x + e) - f(x)) / h
            g2 = (f(x + 2 * e) - f(x)) / (2 * h)
            g[i] = 2 * g1 - g2
            continue
        g1 = (f(x + e) - f(x - e)) / (2 * h)
        g2 = (f(x + 2 * e) - f(x - 2 * e)) / (4 * h)
        g[i] = (4 * g1 - g2) / 3
    return g
