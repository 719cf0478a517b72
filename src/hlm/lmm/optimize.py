"""Minimise the profiled deviance over theta: bounded quasi-Newton, then checks.

1. L-BFGS-B on theta with bounds (diagonal of Lambda >= 0) and the analytic
   gradient (``gradient.py``).
2. If it stops early (a projected gradient that is not small), a bounded
   Nelder-Mead polish from where it stopped, then L-BFGS-B again.  If the point
   is still not converged, or is on or near the boundary, restarts from other
   points (0.1 I, the point pushed off the boundary, 3 I): a boundary point can
   be a local optimum (the notes' ctx_w model from lme4's start).  The best wins.
3. Diagonal elements of Lambda that end near zero are set to zero (the
   boundary) when that does not worsen the deviance; such fits are singular.
   An interior optimum gets one Newton step (Hessian from differences of the
   analytic gradient) for the last digits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from hlm.lmm.objective import Objective, tril_index

BOUNDARY_TOL = 1e-4     # diagonal theta below this is tried at zero
THETA_MAX = 1e4        # sd of a random effect / sigma beyond this: degenerate fit
GRAD_TOL = 1e-3         # projected gradient (deviance scale) for "converged"


@dataclass(frozen=True)
class OptSummary:
    start: tuple
    final: tuple
    fval: float
    evaluations: int
    method: str
    messages: tuple
    converged: bool
    boundary: tuple     # indices of theta on the boundary (zero): the fit is singular

    def to_dict(self) -> dict:
        return {"start": [float(v) for v in self.start], "final": [float(v) for v in self.final],
                "fval": float(self.fval), "evaluations": int(self.evaluations),
                "method": self.method, "messages": list(self.messages),
                "converged": bool(self.converged), "boundary": [int(i) for i in self.boundary]}


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
    g = gradient(f, x, lower)
    at_bound = (x <= lower + 1e-12) & (g > 0)
    return np.where(at_bound, 0.0, g)


def default_start(q: int) -> np.ndarray:
    r, c = tril_index(q)
    return np.where(r == c, 1.0, 0.0)


def _lbfgsb(obj, x0, lower):
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    res = minimize(obj.value_and_grad, x0, method="L-BFGS-B", jac=True, bounds=bounds,
                   options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9})
    return np.maximum(res.x, lower), float(res.fun), bool(res.success), str(res.message)


def _nelder_mead(f, x0, lower):
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    step = 0.05 * np.maximum(np.abs(x0), 0.1)
    simplex = np.vstack([x0] + [x0 + np.eye(x0.size)[i] * step[i] for i in range(x0.size)])
    res = minimize(f, x0, method="Nelder-Mead", bounds=bounds,
                   options={"initial_simplex": simplex, "xatol": 1e-10, "fatol": 1e-12,
                            "maxfev": 4000})
    return np.maximum(res.x, lower), float(res.fun), bool(res.success), str(res.message)


def _converged(obj, x, lower) -> bool:
    """Projected (analytic) gradient small relative to the deviance's size (it grows with n)."""
    fx, g = obj.value_and_grad(x)
    g = np.where((x <= lower + 1e-12) & (g > 0), 0.0, g)
    tol = GRAD_TOL * max(1.0, abs(fx) / 1e4)
    return bool(np.isfinite(fx) and np.max(np.abs(g), initial=0.0) < tol)


def _to_boundary(f, x, fx, lower, messages):
    """Set near-zero diagonal elements to zero when the deviance does not get worse."""
    moved = []
    for i in np.flatnonzero(np.isfinite(lower) & (x < BOUNDARY_TOL) & (x != lower)):
        trial = x.copy()
        trial[i] = lower[i]
        ft = f(trial)
        if ft <= fx + 1e-9:
            messages.append(f"theta[{i}] = {x[i]:.3g} set to the boundary 0 (deviance {fx:.10g} -> {ft:.10g})")
            x, fx = trial, min(ft, fx)
            moved.append(int(i))
    return x, fx, moved


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


def _newton_polish(obj, x, fx, lower, messages):
    """One Newton step (analytic gradient, Hessian from its central differences).

    The deviance is flat near its minimum (a change of 1e-8 in theta moves it by
    1e-13), so quasi-Newton stops a few 1e-8 short; this recovers those digits."""
    if np.any(x - lower < 1e-3):
        return x, fx
    g = obj.value_and_grad(x)[1]
    H = np.empty((x.size, x.size))
    for i in range(x.size):
        h = 1e-5 * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        H[i] = (obj.value_and_grad(x + e)[1] - obj.value_and_grad(x - e)[1]) / (2 * h)
    H = (H + H.T) / 2
    if not np.all(np.isfinite(H)) or np.any(np.linalg.eigvalsh(H) <= 0):
        return x, fx
    step = np.linalg.solve(H, g)
    new = x - step
    if np.any(new - lower < 1e-3) or np.max(np.abs(step)) > 1e-3 * max(1.0, np.max(np.abs(x))):
        return x, fx
    fn = obj(new)
    if fn <= fx + 1e-12 * abs(fx) + 1e-8:
        messages.append(f"Newton step of size {np.max(np.abs(step)):.2g} (deviance {fx:.12g} -> {fn:.12g})")
        return new, min(fx, fn)
    return x, fx


def _alt_starts(x: np.ndarray, q: int) -> list[np.ndarray]:
    """Second starting points: small and large multiples of I, and x pushed off the boundary."""
    base = default_start(q)
    diag = base == 1.0
    bumped = x.copy()
    bumped[diag & (x < 0.05)] = max(0.5 * float(np.max(x[diag])), 0.1)
    return [0.1 * base, bumped, 3.0 * base]


def _polish(obj, x, fx, lower, messages, methods):
    """Nelder-Mead then L-BFGS-B again from where the first run stopped."""
    for method, runner in (("Nelder-Mead", _nelder_mead), ("L-BFGS-B", _lbfgsb)):
        x1, f1, _, msg1 = runner(obj, x, lower)
        methods.append(method)
        messages.append(f"{method}: {msg1} (deviance {fx:.10g} -> {f1:.10g})")
        if f1 < fx:
            x, fx = x1, f1
    return x, fx


def _restarts(obj, x, fx, lower, messages, methods):
    """Restart L-BFGS-B from other points when the fit is singular or not converged."""
    for s in _alt_starts(x, obj.cp.q):
        x1, f1, _, msg1 = _lbfgsb(obj, s, lower)
        methods.append("restart L-BFGS-B")
        messages.append(f"restart from {np.round(s, 4).tolist()}: {msg1} (deviance {f1:.10g})")
        if f1 < fx - 1e-10:
            messages.append(f"restart improved the deviance {fx:.10g} -> {f1:.10g}")
            x, fx = x1, f1
    return x, fx


def optimize_theta(obj: Objective, start=None) -> tuple[np.ndarray, OptSummary]:
    """Minimise ``obj`` over theta; returns (theta, OptSummary)."""
    lower = obj.lower
    x0 = default_start(obj.cp.q) if start is None else np.maximum(np.asarray(start, float), lower)
    messages, methods = [], ["L-BFGS-B"]
    x, fx, _, msg = _lbfgsb(obj, x0, lower)
    messages.append(f"L-BFGS-B: {msg}")
    conv = _converged(obj, x, lower)
    if not conv:
        x, fx = _polish(obj, x, fx, lower, messages, methods)
        conv = _converged(obj, x, lower)
    if not conv or np.any(np.isfinite(lower) & (x < BOUNDARY_TOL)):
        x, fx = _restarts(obj, x, fx, lower, messages, methods)
    x, fx, moved = _to_boundary(obj, x, fx, lower, messages)
    if not moved:
        x, fx = _newton_polish(obj, x, fx, lower, messages)
    conv = _converged(obj, x, lower)
    if np.max(np.abs(x)) > THETA_MAX:
        conv = False
        messages.append(f"theta = {np.round(x, 1).tolist()}: the residual variance is going to 0 and the "
                        "likelihood may be unbounded; the random part is too rich for these data")
    if not conv:
        messages.append("the projected gradient at the returned point is not small: check the fit")
    return x, OptSummary(start=tuple(x0), final=tuple(x), fval=fx, evaluations=obj.evaluations,
                         method=" + ".join(methods), messages=tuple(messages), converged=conv,
                         boundary=tuple(int(i) for i in np.flatnonzero(np.isfinite(lower) & (x <= 1e-10))))
