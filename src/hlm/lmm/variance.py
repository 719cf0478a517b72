"""Curvature of the likelihood in the variance parameters.

- ``ap_var``: nlme's approximate covariance of the variance parameters
  (``lmeApVar``): the inverse negative Hessian of the (restricted)
  log-likelihood in nlme's natural parametrisation, log sd of each random
  effect, log((1 + r) / (1 - r)) of each correlation, and log sigma.
- ``varpar_cov``: covariance of (theta, sigma) from the Hessian of the
  deviance, for Satterthwaite's degrees of freedom (as lmerTest).

Both Hessians are central differences (``numdiff.hessian``).
"""

from __future__ import annotations

import numpy as np

from hlm.lmm.numdiff import hessian
from hlm.lmm.objective import CrossProducts, evaluate, full_loglik, lambda_to_theta


def natural_pars(G: np.ndarray, sigma: float) -> np.ndarray:
    """(log sd_1..q, log((1+r)/(1-r)) for each pair i < j, log sigma)."""
    sd = np.sqrt(np.diag(G))
    cor = G / np.outer(sd, sd)
    iu = np.triu_indices(G.shape[0], 1)
    r = cor[iu]
    return np.concatenate([np.log(sd), np.log((1 + r) / (1 - r)), [np.log(sigma)]])


def from_natural(pars: np.ndarray, q: int) -> tuple[np.ndarray, float]:
    sd = np.exp(pars[:q])
    cor = np.eye(q)
    iu = np.triu_indices(q, 1)
    z = pars[q:q + len(iu[0])]
    cor[iu] = np.tanh(z / 2)
    cor[(iu[1], iu[0])] = cor[iu]
    return cor * np.outer(sd, sd), float(np.exp(pars[-1]))


def _loglik_natural(cp: CrossProducts, pars: np.ndarray, reml: bool, to_cp=None) -> float:
    G, sigma = from_natural(pars, cp.q)
    if to_cp is not None:
        G, sigma = to_cp(G, sigma)
    try:
        lam = np.linalg.cholesky(G / sigma**2)
    except np.linalg.LinAlgError:
        return -np.inf
    return full_loglik(cp, lambda_to_theta(lam), sigma, reml)


def ap_var(cp: CrossProducts, G: np.ndarray, sigma: float, reml: bool, to_cp=None):
    """(natural parameters, their approximate covariance) or (pars, None) if not a maximum.

    ``to_cp`` maps (G, sigma) to the parametrisation of ``cp`` when that differs
    from the one of G and sigma (the user's G, the internal basis's cross-products):
    the likelihood differs by a constant, the Hessian not."""
    if np.any(np.diag(G) <= 0):
        return None, None
    with np.errstate(divide="ignore", invalid="ignore"):
        pars = natural_pars(G, sigma)
        if not np.all(np.isfinite(pars)):
            return pars, None
        H = hessian(lambda v: _loglik_natural(cp, v, reml, to_cp), pars, rel=1e-4)
    if not np.all(np.isfinite(H)) or np.any(np.linalg.eigvalsh(H) >= 0):
        return pars, None
    return pars, np.linalg.inv(-H)


def varpar_cov(cp: CrossProducts, theta: np.ndarray, sigma: float, reml: bool):
    """Asymptotic covariance of (theta, sigma): 2 H^-1, H the Hessian of the deviance."""
    x = np.concatenate([theta, [sigma]])

    def dev(v):
        return -2.0 * full_loglik(cp, v[:-1], v[-1], reml)

    H = hessian(dev, x, rel=1e-4)
    try:
        return 2.0 * np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return 2.0 * np.linalg.pinv(H)


def vcov_beta(cp: CrossProducts, theta: np.ndarray, sigma: float) -> np.ndarray:
    """sigma^2 (X' V*^-1 X)^-1 at theta."""
    st = evaluate(cp, theta)
    return sigma**2 * np.linalg.inv(st.RXtRX)
