"""Finite differences: the one place in hlm where derivatives are taken numerically.

Both use central differences with the step ``h_i = rel * max(|x_i|, 1)`` in
coordinate i (relative to x_i, absolute near zero):

- ``jacobian(f, x)``: derivatives of an array-valued f, shape ``f(x).shape + (k,)``
  (the Hessian of the deviance from its analytic gradient in ``optimize.py``;
  the derivatives of the fixed effects' covariance for Satterthwaite's DF in
  ``inference.py``);
- ``hessian(f, x)``: second derivatives of a scalar f, from f alone (the
  curvature of the likelihood in the variance parameters, ``variance.py``).
"""

from __future__ import annotations

import numpy as np


def steps(x: np.ndarray, rel: float) -> np.ndarray:
    """The step in each coordinate: rel * max(|x_i|, 1)."""
    return rel * np.maximum(np.abs(x), 1.0)


def jacobian(f, x, rel: float = 1e-5) -> np.ndarray:
    """Central-difference derivatives of f (scalar- or array-valued) at x:
    ``out[..., i] = (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)``."""
    x = np.asarray(x, dtype=float)
    h = steps(x, rel)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h[i]))
    return np.stack(cols, axis=-1)


def hessian(f, x, rel: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a scalar f at x (3 points on the diagonal, 4 off it)."""
    x = np.asarray(x, dtype=float)
    k = x.size
    h = steps(x, rel)
    H = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * h[i] * h[j])
    return H
