"""Minimise the profiled deviance over theta: bounded quasi-Newton, then Newton.

1. L-BFGS-B on theta with bounds (diagonal of Lambda >= FLOOR) and the
   analytic gradient (``objective.py``), then Newton steps (below).
2. If that does not converge, or ends on or near the boundary, restarts from
   other points (0.1 I, the point pushed off the boundary, 3 I, and the point with a
   zero column of Lambda refilled from the later ones): a boundary
   point can be a local optimum, or a saddle (an indefinite Hessian).  The
   best wins.  If still not converged, a bounded Nelder-Mead polish, then
   L-BFGS-B again.
3. Diagonal elements of Lambda that end near zero are set to zero (the
   boundary) when that does not worsen the deviance; such fits are singular.

Newton steps and the convergence test work on the free coordinates (all but
those held at their bound, or at FLOOR, by a positive gradient), with the
Hessian from central differences of the analytic gradient (``numdiff.py``).
Converged means: that Hessian is positive (semi-)definite and the Newton
decrement g'H^-1 g / 2, the deviance still to gain to second order, is below
``NEWTON_TOL`` -- a criterion in deviance units that does not grow with n or
depend on how theta is scaled.  Each Newton step is accepted only if it lowers
the deviance (backtracking; the last one, taken once converged, if it does not
raise it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from hlm.lmm.numdiff import jacobian
from hlm.lmm.objective import Objective, tril_index

BOUNDARY_TOL = 1e-4     # diagonal theta below this is tried at zero
THETA_MAX = 1e4        # sd of a random effect / sigma beyond this: degenerate fit
NEWTON_TOL = 1e-6      # Newton decrement (deviance scale) for "converged"
FLOOR = 1e-8            # lower bound of the diagonal of Lambda for L-BFGS-B
FLAT = 1e-6             # Hessian eigenvalues below FLAT * largest count as flat (saddle if < -FLAT)


@dataclass(frozen=True)
class OptSummary:
    """The optimizer's record (``fit`` reports it in the user's parametrisation)."""

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


def default_start(q: int) -> np.ndarray:
    r, c = tril_index(q)
    return np.where(r == c, 1.0, 0.0)


def _lbfgsb(obj, x0, lower):
    """L-BFGS-B with the diagonal of Lambda kept >= FLOOR, not 0: at 0 the gradient in
    the last diagonal element is 0 (the deviance is even in it), so L-BFGS-B could stop
    at a saddle there.  The boundary itself is tried afterwards (``_to_boundary``)."""
    bounds = [(lo + FLOOR if np.isfinite(lo) else None, None) for lo in lower]
    x0 = np.maximum(x0, lower + FLOOR)
    res = minimize(obj.value_and_grad, x0, method="L-BFGS-B", jac=True, bounds=bounds,
                   options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-9})
    return np.maximum(res.x, lower), float(res.fun), bool(res.success), str(res.message)


def _nelder_mead(f, x0, lower):
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    step = 0.05 * np.maximum(np.abs(x0), 0.1)
    simplex = np.vstack([x0] + [x0 + np.eye(x0.size)[i] * step[i] for i in range(x0.size)])
    res = minimize(f, x0, method="Nelder-Mead", bounds=bounds,
                   options={"initial_simplex": simplex, "xatol": 1e-10, "fatol": 1e-12,
                            "maxfev": 4000})
    return np.maximum(res.x, lower), float(res.fun), bool(res.success), str(res.message)


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


def _newton(obj, x, lower):
    """(Newton step, Newton decrement) on the free coordinates at x; decrement inf at a
    saddle or where the Hessian is not finite.

    Eigenvalues of the Hessian below FLAT times the largest are raised to that
    floor (a flat direction, as along a rank-deficient Lambda's rotations)."""
    g = obj.value_and_grad(x)[1]
    free = (x > lower + FLOOR) | (g < 1e-8)
    step = np.zeros_like(x)
    if not free.any():
        return step, 0.0
    H = jacobian(lambda v: obj.value_and_grad(v)[1], x, rel=1e-5)
    H = (H + H.T)[np.ix_(free, free)] / 2
    if not np.all(np.isfinite(H)):
        return step, np.inf
    w, V = np.linalg.eigh(H)
    floor = FLAT * max(w[-1], 0.0)
    if w[-1] <= 0 or w[0] < -floor:
        return step, np.inf
    gv = V.T @ g[free]
    step[free] = -V @ (gv / np.maximum(w, floor))
    return step, float(-g[free] @ step[free] / 2)


def _newton_polish(obj, x, fx, lower, messages, max_steps: int = 50):
    """Newton steps until the decrement is below NEWTON_TOL, then one more unless it raises
    the deviance (the last digits); returns (x, fx, converged).

    The deviance is flat near its minimum (a change of 1e-8 in theta moves it by
    1e-13), so quasi-Newton stops short, by more the larger n is."""
    f_start, steps = fx, 0
    while True:
        step, dec = _newton(obj, x, lower)
        if not np.isfinite(dec) or steps == max_steps:
            break
        done = dec < NEWTON_TOL
        for t in [1.0] if done else 0.5 ** np.arange(30):
            new = np.maximum(x + t * step, lower)
            fn = obj(new)
            if fn < fx or (done and fn <= fx):     # the last step may be below rounding
                break
        else:
            break
        x, fx, steps = new, fn, steps + 1
        if done:
            break
    if steps:
        messages.append(f"Newton: {steps} step(s) (deviance {f_start:.12g} -> {fx:.12g})")
    if dec >= NEWTON_TOL:
        messages.append(f"Newton decrement {dec:.3g} at the returned point" if np.isfinite(dec)
                        else "the Hessian at the returned point is not positive semi-definite")
    return x, fx, bool(dec < NEWTON_TOL)


def _alt_starts(x: np.ndarray, q: int) -> list[np.ndarray]:
    """Second starting points: small and large multiples of I, x pushed off the boundary,
    and x with each zero column of Lambda refilled (`_refilled`)."""
    base = default_start(q)
    diag = base == 1.0
    bumped = x.copy()
    bumped[diag & (x < 0.05)] = max(0.5 * float(np.max(x[diag])), 0.1)
    return [0.1 * base, bumped, 3.0 * base, *_refilled(x, q)]


def _refilled(x: np.ndarray, q: int) -> list[np.ndarray]:
    """Starts that leave the face where a diagonal element k of Lambda is 0.

    There the first k random effects carry no variance of their own, and every G of
    that face is a local optimum to L-BFGS-B, which stays on it even from a point pushed
    off it. A G of the same rank with a variance in direction k lies elsewhere: each
    later row's weight is moved into column k (its length kept), so the start is a
    factor of that kind."""
    rows, cols = tril_index(q)
    L = np.zeros((q, q))
    L[rows, cols] = x
    out = []
    for k in range(q - 1):
        if L[k, k] > BOUNDARY_TOL:
            continue
        M = L.copy()
        for i in range(k + 1, q):
            M[i, k] = np.linalg.norm(L[i, k:])
            M[i, k + 1:] = 0.0
        out.append(M[rows, cols])
    return out


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
    x, fx, conv = _newton_polish(obj, x, fx, lower, messages)
    if not conv or np.any(np.isfinite(lower) & (x < BOUNDARY_TOL)):
        x1, f1 = _restarts(obj, x, fx, lower, messages, methods)
        if x1 is not x:
            x, fx, conv = _newton_polish(obj, x1, f1, lower, messages)
    if not conv:
        x1, f1 = _polish(obj, x, fx, lower, messages, methods)
        if x1 is not x:
            x, fx, conv = _newton_polish(obj, x1, f1, lower, messages)
    x1, f1, moved = _to_boundary(obj, x, fx, lower, messages)
    if moved:
        x, fx, conv = _newton_polish(obj, x1, f1, lower, messages)
    if np.max(np.abs(x)) > THETA_MAX:
        conv = False
        messages.append(f"theta = {np.round(x, 1).tolist()}: the residual variance is going to 0 and the "
                        "likelihood may be unbounded; the random part is too rich for these data")
    if not conv:
        messages.append("the optimum was not reached: check the fit")
    return x, OptSummary(start=tuple(x0), final=tuple(x), fval=fx, evaluations=obj.evaluations,
                         method=" + ".join(methods), messages=tuple(messages), converged=conv,
                         boundary=tuple(int(i) for i in np.flatnonzero(np.isfinite(lower) & (x <= 1e-10))))
