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
on the user's columns from the design's cross-products, computed once
(:mod:`hlm.lmm.objective`), with its analytic gradient: the gradient in theta of the
profiled deviance (``deviance_gradient``, with ``n / r2`` replaced by ``1 / σ²`` for an
explicit σ) taken to the sd scale by the chain rule. The inner minimisation is
L-BFGS-B with that gradient, started from the previous point of the profile (the
first from the fit), with Nelder-Mead only where L-BFGS-B does not converge
(:func:`_minimize`): each point costs tens of evaluations rather than the thousands of
Nelder-Mead alone, which could also stop short of a minimum on a limit (an SD at 0, a
correlation at ±1) and so end an interval early.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import optimize, stats

from hlm.lmm.api import refit
from hlm.lmm.objective import (LOG2PI, CrossProducts, cross_products, deviance_gradient, evaluate, full_loglik,
                               lambda_to_theta)
from hlm.lmm.results import LmmResult

#: stop stepping outward when an SD has shrunk to this fraction of the largest SD (its
#: lower bound is 0) or a correlation has reached this absolute value (its bound is ±1)
SD_FLOOR, COR_LIMIT = 1e-4, 0.9999
MAX_STEPS = 60  # outward steps (growing by 1.6) before a bound is given up as NaN
RESTARTS = 5    # runs of L-BFGS-B per profile point before Nelder-Mead takes over


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


class _Deviance:
    """The ML deviance -2 log L at psi = (SDs, correlations of the pairs i < j, sigma), and its
    gradient, from the cross-products `cp` (computed once, whatever the number of points)."""

    def __init__(self, cp: CrossProducts):
        self.cp, self.q = cp, cp.q
        self.n_cor = self.q * (self.q - 1) // 2
        self.iu = np.triu_indices(self.q, 1)

    def factor(self, cor: np.ndarray) -> np.ndarray:
        """The lower factor of the correlation matrix with these pair correlations."""
        R = np.eye(self.q)
        R[self.iu] = R[(self.iu[1], self.iu[0])] = cor
        return _psd_cholesky(R)

    def theta(self, psi: np.ndarray) -> np.ndarray:
        q = self.q
        return lambda_to_theta(psi[:q, None] * self.factor(psi[q:q + self.n_cor]) / psi[-1])

    def __call__(self, psi: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = -2.0 * full_loglik(self.cp, self.theta(psi), psi[-1], reml=False)
        return value if np.isfinite(value) else 1e300

    def _jacobian(self, psi: np.ndarray) -> np.ndarray:
        """d theta / d psi: SDs and sigma in closed form, correlations by central differences
        (one-sided at ±1) of the factor, a q x q computation."""
        q, n_cor, sigma = self.q, self.n_cor, psi[-1]
        Lc = self.factor(psi[q:q + n_cor])
        cols = []
        for i in range(q):
            E = np.zeros((q, q))
            E[i] = Lc[i]
            cols.append(lambda_to_theta(E) / sigma)
        for m in range(n_cor):
            r, h = psi[q + m], 1e-6
            lo, hi = max(r - h, -1.0), min(r + h, 1.0)
            up, down = psi[q:q + n_cor].copy(), psi[q:q + n_cor].copy()
            up[m], down[m] = hi, lo
            dL = (self.factor(up) - self.factor(down)) / (hi - lo)
            cols.append(lambda_to_theta(psi[:q, None] * dL) / sigma)
        cols.append(-self.theta(psi) / sigma)
        return np.column_stack(cols)

    def value_and_grad(self, psi: np.ndarray) -> tuple[float, np.ndarray]:
        """The deviance and its gradient in psi: the gradient in theta of the profiled deviance
        with n / r2 replaced by 1 / sigma² (what it weighs r2's derivative by), then the chain
        rule, plus the derivative in sigma at fixed theta."""
        cp, sigma = self.cp, psi[-1]
        with np.errstate(all="ignore"):
            st = evaluate(cp, self.theta(psi))
        if st is None or not sigma > 0:
            return 1e300, np.zeros_like(psi)
        s2 = sigma * sigma
        value = st.ldL2 + cp.n * (LOG2PI + np.log(s2)) + st.r2 / s2
        grad = self._jacobian(psi).T @ deviance_gradient(cp, replace(st, r2=cp.n * s2), reml=False)
        grad[-1] += 2.0 * cp.n / sigma - 2.0 * st.r2 / (s2 * sigma)
        return float(value), grad


def _minimize(f: _Deviance, psi: np.ndarray, free: list[int], x0: np.ndarray, limits) -> tuple[np.ndarray, float]:
    """The minimum over psi[free] (from x0, within `limits`) with the other entries of psi
    fixed: L-BFGS-B with the analytic gradient.

    With many rows the deviance is large (about 10^6 for 150,000) and its last digits are
    rounding, so L-BFGS-B's line search can stop ("ABNORMAL") at a point that it cannot
    improve measurably; it is restarted from there with a fresh memory, and a restart that
    takes no step at all has reached the minimum as far as the deviance can tell. Otherwise
    (iterations exhausted) Nelder-Mead continues from the best point."""
    def value_and_grad(x):
        full = psi.copy()
        full[free] = x
        value, grad = f.value_and_grad(full)
        return value, grad[free]

    bounds = [limits[i] for i in free]
    x, fx = np.asarray(x0, dtype=float), np.inf
    for _ in range(RESTARTS):
        res = optimize.minimize(value_and_grad, x, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"ftol": 1e-15, "gtol": 1e-7, "maxiter": 1000})
        if res.fun <= fx:
            x, fx = res.x, float(res.fun)
        if res.success or (res.status == 2 and res.nit == 0):  # converged, or no step possible
            return x, fx
    polish = optimize.minimize(lambda v: value_and_grad(v)[0], x, method="Nelder-Mead", bounds=bounds,
                               options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000})
    return (polish.x, float(polish.fun)) if polish.fun < fx else (x, fx)


def profile_intervals(fit: LmmResult, level: float = 0.95) -> dict[str, dict]:
    """{"sd((Intercept))": {"lower", "est", "upper"}, ..., "sigma": {...}} on the sd scale."""
    ml = refit(fit, "ML")
    d = ml.design
    dev = _Deviance(cross_products(d.X, d.Z, d.y, d.starts))
    q, n_cor = dev.q, dev.n_cor
    hat = _sd_scale(ml.G, ml.sigma)
    scale = max(float(hat[:q].max()), ml.sigma)
    limits = [(0.0, None)] * q + [(-1.0, 1.0)] * n_cor + [(1e-8 * scale, None)]

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
            psi = hat.copy()
            psi[k] = from_t(k, t)
            start["x"], value = _minimize(dev, psi, others, start["x"], limits)
            return float(np.sign(psi[k] - hat[k]) * np.sqrt(max(value - dev0, 0.0)))

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
