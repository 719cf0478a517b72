"""Profile-likelihood confidence intervals for the variance components (sd scale).

As lme4's ``confint(fit, method = "profile")``: the model is refitted by ML (lme4's
``devfun2`` does so for REML fits too), and for each variance parameter ψ — the SD
of each random effect, the correlation of each pair, the residual SD σ — the
deviance is minimised over the other parameters at fixed ψ. The interval is where
the signed root ``ζ(ψ) = sign(ψ - ψ̂) √(dev(ψ) - dev(ψ̂))`` stays within
``±z_{(1+level)/2}``. A bound that the profile never reaches is the parameter's
limit: 0 for an SD, ±1 for a correlation (lme4 reports the same).

The other parameters are optimised on the sd scale within their limits (SDs ≥ 0,
correlations in [-1, 1]), so that a profile may pass through a singular G, as
lme4's Cholesky parametrisation allows; the profiled parameter steps outward on an
unconstrained scale (log SD, ``log((1+r)/(1-r))``, log σ). The likelihood is computed
on the user's columns (:func:`hlm.lmm.objective.full_loglik`).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from hlm.lmm.api import refit
from hlm.lmm.objective import cross_products, full_loglik, lambda_to_theta
from hlm.lmm.results import LmmResult

#: stop stepping outward when an SD has shrunk to this fraction of the largest SD (its
#: lower bound is 0) or a correlation has reached this absolute value (its bound is ±1)
SD_FLOOR, COR_LIMIT = 1e-4, 0.9999
MAX_STEPS = 60  # outward steps (growing by 1.6) before a bound is given up as NaN


def _names(z: list[str]) -> list[str]:
    iu = np.triu_indices(len(z), 1)
    return [f"sd({n})" for n in z] + [f"cor({z[i]},{z[j]})" for i, j in zip(*iu)] + ["sigma"]


def _psd_cholesky(R: np.ndarray) -> np.ndarray:
    """Lower factor L with L L' = R for a positive semi-definite R (zero pivots allowed)."""
    q = R.shape[0]
    L = np.zeros_like(R)
    for j in range(q):
        d = R[j, j] - L[j, :j] @ L[j, :j]
        L[j, j] = np.sqrt(max(d, 0.0))
        for i in range(j + 1, q):
            L[i, j] = (R[i, j] - L[i, :j] @ L[j, :j]) / L[j, j] if L[j, j] > 0 else 0.0
    return L


def _sd_scale(G: np.ndarray, sigma: float) -> np.ndarray:
    """(SDs, correlations of the pairs i < j, sigma) of G and sigma."""
    sd = np.sqrt(np.diag(G))
    with np.errstate(invalid="ignore", divide="ignore"):
        cor = np.nan_to_num(G / np.outer(sd, sd))
    iu = np.triu_indices(len(sd), 1)
    return np.concatenate([sd, np.clip(cor[iu], -1, 1), [sigma]])


def profile_intervals(fit: LmmResult, level: float = 0.95) -> dict[str, dict]:
    """{"sd((Intercept))": {"lower", "est", "upper"}, ..., "sigma": {...}} on the sd scale."""
    ml = refit(fit, "ML")
    d = ml.design
    cp = cross_products(d.X, d.Z, d.y, d.starts)
    q = d.q
    n_cor = q * (q - 1) // 2
    iu = np.triu_indices(q, 1)
    hat = _sd_scale(ml.G, ml.sigma)
    scale = max(float(hat[:q].max()), ml.sigma)
    limits = [(0.0, None)] * q + [(-1.0, 1.0)] * n_cor + [(1e-8 * scale, None)]

    def dev(psi: np.ndarray) -> float:
        R = np.eye(q)
        R[iu] = R[(iu[1], iu[0])] = psi[q:q + n_cor]
        lam = psi[:q, None] * _psd_cholesky(R) / psi[-1]
        with np.errstate(all="ignore"):
            value = -2.0 * full_loglik(cp, lambda_to_theta(lam), psi[-1], reml=False)
        return value if np.isfinite(value) else 1e300

    def to_t(k: int, v: float) -> float:  # the unconstrained scale of parameter k
        if q <= k < q + n_cor:
            v = np.clip(v, -1 + 1e-12, 1 - 1e-12)
            return float(np.log((1 + v) / (1 - v)))
        return float(np.log(max(v, 1e-300)))

    def from_t(k: int, t: float) -> float:
        return float(np.tanh(t / 2)) if q <= k < q + n_cor else float(np.exp(t))

    dev0 = dev(hat)
    z = stats.norm.ppf((1 + level) / 2)
    out = {}
    for k, name in enumerate(_names(list(ml.z_names))):
        others = [i for i in range(len(hat)) if i != k]
        start = {"x": hat[others]}

        def zeta(t: float) -> float:
            def inner(rest):
                psi = hat.copy()
                psi[others], psi[k] = rest, from_t(k, t)
                return dev(psi)
            res = optimize.minimize(inner, start["x"], method="Nelder-Mead", bounds=[limits[i] for i in others],
                                    options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000})
            start["x"] = res.x
            return float(np.sign(from_t(k, t) - hat[k]) * np.sqrt(max(res.fun - dev0, 0.0)))

        is_cor, is_sd = q <= k < q + n_cor, k < q
        limit = {-1: -1.0 if is_cor else 0.0, 1: 1.0}  # an SD or sigma has no upper limit

        def at_limit(value: float, side: int) -> bool:
            if is_cor:
                return side * value >= COR_LIMIT
            return is_sd and side < 0 and value <= SD_FLOOR * scale

        bounds = []
        for side in (-1, 1):
            start["x"] = hat[others]
            step, t_prev, f_prev = 0.05, to_t(k, hat[k]), -z   # zeta is 0 at the estimate
            bound = limit[side] if at_limit(hat[k], side) else None
            for _ in range(MAX_STEPS):
                if bound is not None:
                    break
                t = t_prev + side * step
                f_t = abs(zeta(t)) - z
                if f_t >= 0:
                    bound = from_t(k, _crossing(lambda s: abs(zeta(s)) - z, t_prev, f_prev, t, f_t))
                elif at_limit(from_t(k, t), side):
                    bound = limit[side]
                t_prev, f_prev, step = t, f_t, step * 1.6
            bounds.append(float("nan") if bound is None else bound)
        out[name] = {"lower": bounds[0], "est": float(hat[k]), "upper": bounds[1]}
    return out


def _crossing(f, a: float, fa: float, b: float, fb: float) -> float:
    """Where f crosses 0 between a (f < 0 there) and b (f >= 0). The inner optimizations
    start from the previous solution, so f evaluated again at a can land on the other
    side by a hair; then the crossing is interpolated from the two values already known."""
    try:
        return optimize.brentq(f, min(a, b), max(a, b), xtol=1e-10)
    except ValueError:  # f(a) and f(b) on one side when evaluated again
        return a + (b - a) * (-fa) / (fb - fa)
