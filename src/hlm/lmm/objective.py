"""Profiled REML / ML deviance of a two-level LMM, a pure function of theta.

Model: y = X beta + Z b + e, b_j ~ N(0, sigma^2 Lambda Lambda'), e ~ N(0, sigma^2 I),
with Lambda the lower-triangular relative covariance factor.  theta holds the
lower triangle of Lambda column by column (lme4's order): for q = 2,
theta = (L11, L21, L22).

The data enter only through per-cluster cross-products, computed once
(``cross_products``), so one evaluation costs O(J q^2 p^2 + p^3) whatever n is.
With M_j = Lambda' Z_j'Z_j Lambda + I and W_j = Lambda' Z_j'[X_j y_j]:

    A = [X y]'[X y] - sum_j W_j' M_j^-1 W_j   (= [X y]' V*^-1 [X y], V* = V / sigma^2)
    RX'RX = A[:p, :p],  beta = RX'RX^-1 A[:p, p],  r2 = A[p, p] - A[p, :p] beta
    ML:   ldL2 + n (1 + log(2 pi r2 / n))
    REML: ldL2 + ldRX2 + (n - p) (1 + log(2 pi r2 / (n - p)))

where ldL2 = sum_j log|M_j| and ldRX2 = log|RX'RX|: the same deviance as
lme4's, whose half negative is nlme's and lme4's logLik.  It is undefined
(``evaluate`` returns None, the deviance inf) where RX'RX is not positive
definite or r2 <= 0 in floating point; ``Objective.value_and_grad`` returns a
finite penalty there instead, so that gradient-based optimizers step back.

``deviance_gradient`` is its analytic gradient in theta (derived below), which
``Objective.value_and_grad`` returns with the deviance.

``fit`` minimises it on centred, scaled and orthonormalised columns (``basis.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

LOG2PI = np.log(2.0 * np.pi)


@dataclass(frozen=True, eq=False)
class CrossProducts:
    """Per-cluster cross-products: everything the deviance needs from the data."""

    n: int
    p: int
    q: int
    ZtZ: np.ndarray     # (J, q, q)
    ZtXy: np.ndarray    # (J, q, p + 1): Z_j'[X_j y_j]
    XytXy: np.ndarray   # (p + 1, p + 1): [X y]'[X y]
    ZtZ_T: np.ndarray = None    # (q, q, J) contiguous copy, for the closed forms
    ZtXy_T: np.ndarray = None   # (q, p + 1, J) contiguous copy

    def __post_init__(self):
        if self.ZtZ_T is None:
            object.__setattr__(self, "ZtZ_T", np.ascontiguousarray(self.ZtZ.transpose(1, 2, 0)))
            object.__setattr__(self, "ZtXy_T", np.ascontiguousarray(self.ZtXy.transpose(1, 2, 0)))

    @property
    def J(self) -> int:
        return self.ZtZ.shape[0]

    @property
    def n_theta(self) -> int:
        return self.q * (self.q + 1) // 2


def cross_products(X: np.ndarray, Z: np.ndarray, y: np.ndarray, starts: np.ndarray) -> CrossProducts:
    """One pass over rows sorted by cluster (``starts`` = first row of each cluster)."""
    n, p = X.shape
    q = Z.shape[1]
    J = starts.shape[0]
    cols = [X[:, k] for k in range(p)] + [y]
    ZtZ = np.empty((J, q, q))
    ZtXy = np.empty((J, q, p + 1))
    for a in range(q):
        za = Z[:, a]
        for b in range(a, q):
            ZtZ[:, a, b] = ZtZ[:, b, a] = np.add.reduceat(za * Z[:, b], starts)
        for k, col in enumerate(cols):
            ZtXy[:, a, k] = np.add.reduceat(za * col, starts)
    XytXy = np.empty((p + 1, p + 1))
    XytXy[:p, :p] = X.T @ X
    XytXy[:p, p] = XytXy[p, :p] = X.T @ y
    XytXy[p, p] = y @ y
    return CrossProducts(n=n, p=p, q=q, ZtZ=ZtZ, ZtXy=ZtXy, XytXy=XytXy)


def tril_index(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of theta's elements in Lambda (column-major lower triangle)."""
    rows, cols = [], []
    for c in range(q):
        for r in range(c, q):
            rows.append(r)
            cols.append(c)
    return np.array(rows), np.array(cols)


def theta_to_lambda(theta: np.ndarray, q: int) -> np.ndarray:
    lam = np.zeros((q, q))
    r, c = tril_index(q)
    lam[r, c] = theta
    return lam


def lambda_to_theta(lam: np.ndarray) -> np.ndarray:
    r, c = tril_index(lam.shape[0])
    return np.asarray(lam)[r, c].copy()


def theta_lower(q: int) -> np.ndarray:
    """Bounds: diagonal elements of Lambda >= 0, off-diagonal free."""
    r, c = tril_index(q)
    return np.where(r == c, 0.0, -np.inf)


def _reduce_q1(cp: CrossProducts, lam: np.ndarray):
    a = lam[0, 0]
    m = (a * a) * cp.ZtZ_T[0, 0] + 1.0
    Z0 = cp.ZtXy_T[0]
    return (Z0 * ((a * a) / m)) @ Z0.T, float(np.sum(np.log(m)))


def _reduce_q2(cp: CrossProducts, lam: np.ndarray):
    """Closed form: sum_j W_j' M_j^-1 W_j as three weighted cross-products of Z_j'[X y]."""
    a, b, c = lam[0, 0], lam[1, 0], lam[1, 1]
    s00, s01, s11 = cp.ZtZ_T[0, 0], cp.ZtZ_T[0, 1], cp.ZtZ_T[1, 1]
    m00 = (a * a) * s00 + (2 * a * b) * s01 + (b * b) * s11 + 1.0
    m01 = (a * c) * s01 + (b * c) * s11
    m11 = (c * c) * s11 + 1.0
    det = m00 * m11 - m01 * m01
    u, v, w = m11 / det, m01 / det, m00 / det
    alpha = (a * a) * u
    beta = (a * b) * u - (a * c) * v
    gamma = (b * b) * u - (2 * b * c) * v + (c * c) * w
    Z0, Z1 = cp.ZtXy_T[0], cp.ZtXy_T[1]
    cross = (Z0 * beta) @ Z1.T
    red = (Z0 * alpha) @ Z0.T + cross + cross.T + (Z1 * gamma) @ Z1.T
    return red, float(np.sum(np.log(det)))


def _reduce_general(cp: CrossProducts, lam: np.ndarray):
    M = np.matmul(lam.T, np.matmul(cp.ZtZ, lam)) + np.eye(cp.q)
    W = np.matmul(lam.T, cp.ZtXy)
    L = np.linalg.cholesky(M)
    S = np.linalg.solve(M, W)
    A = np.einsum("jac,jad->cd", W, S)
    return A, float(2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2))))


def _reduce(cp: CrossProducts, lam: np.ndarray):
    """sum_j W_j' M_j^-1 W_j and sum_j log|M_j| (closed forms for q = 1, 2)."""
    if cp.q == 1:
        return _reduce_q1(cp, lam)
    if cp.q == 2:
        return _reduce_q2(cp, lam)
    return _reduce_general(cp, lam)


def spherical_effects(cp: CrossProducts, lam: np.ndarray, beta: np.ndarray):
    """u_j = M_j^-1 Lambda' Z_j'(y_j - X_j beta) and M_j^-1, per cluster."""
    M = np.matmul(lam.T, np.matmul(cp.ZtZ, lam)) + np.eye(cp.q)
    Minv = np.linalg.inv(M)
    r = cp.ZtXy[:, :, -1] - cp.ZtXy[:, :, :-1] @ beta          # Z_j'(y_j - X_j beta)
    u = np.einsum("jab,jb->ja", Minv, r @ lam)
    return u, Minv


@dataclass(frozen=True, eq=False)
class State:
    """Everything computed at one theta (used for the deviance and for results)."""

    theta: np.ndarray
    lam: np.ndarray
    beta: np.ndarray
    r2: float          # penalized residual sum of squares
    ldL2: float
    ldRX2: float
    RXtRX: np.ndarray  # X' V*^-1 X
    u: np.ndarray      # (J, q) spherical random effects, b_j = Lambda u_j
    Minv: np.ndarray   # (J, q, q) (Lambda' Z_j'Z_j Lambda + I)^-1
    A: np.ndarray = None  # (p + 1, p + 1) [X y]' V*^-1 [X y]


def evaluate(cp: CrossProducts, theta, with_u: bool = False) -> State | None:
    """State at theta, or None where the deviance is undefined."""
    theta = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(theta)):
        return None
    lam = theta_to_lambda(theta, cp.q)
    with np.errstate(divide="ignore", invalid="ignore"):
        red, ldL2 = _reduce(cp, lam)
    A = cp.XytXy - red
    p = cp.p
    RXtRX = A[:p, :p]
    if p:
        try:
            R = np.linalg.cholesky(RXtRX)
        except np.linalg.LinAlgError:
            return None
        beta = scipy.linalg.cho_solve((R, True), A[:p, p], check_finite=False)
        ldRX2 = float(2.0 * np.sum(np.log(np.diag(R))))
    else:
        beta, ldRX2 = np.zeros(0), 0.0
    r2 = float(A[p, p] - A[:p, p] @ beta)
    if not (np.isfinite(r2) and r2 > 0 and np.isfinite(ldL2) and np.isfinite(ldRX2)):
        return None
    u = Minv = None
    if with_u:
        u, Minv = spherical_effects(cp, lam, beta)
    return State(theta, lam, beta, r2, ldL2, ldRX2, RXtRX, u, Minv, A)


def deviance_from_state(cp: CrossProducts, st: State | None, reml: bool) -> float:
    if st is None:
        return np.inf
    if reml:
        nmp = cp.n - cp.p
        return st.ldL2 + st.ldRX2 + nmp * (1.0 + LOG2PI + np.log(st.r2 / nmp))
    return st.ldL2 + cp.n * (1.0 + LOG2PI + np.log(st.r2 / cp.n))


def deviance(cp: CrossProducts, theta, reml: bool = True) -> float:
    """Profiled deviance (-2 log-likelihood, sigma and beta profiled out) at theta."""
    return deviance_from_state(cp, evaluate(cp, theta), reml)


def full_loglik(cp: CrossProducts, theta, sigma: float, reml: bool = True) -> float:
    """Log-likelihood (restricted for REML) at theta and an explicit sigma (beta profiled)."""
    st = evaluate(cp, theta)
    if st is None or sigma <= 0:
        return -np.inf
    s2 = sigma * sigma
    if reml:
        return -0.5 * (st.ldL2 + st.ldRX2 + (cp.n - cp.p) * (LOG2PI + np.log(s2)) + st.r2 / s2)
    return -0.5 * (st.ldL2 + cp.n * (LOG2PI + np.log(s2)) + st.r2 / s2)


# ---- the analytic gradient in theta ------------------------------------------
# With K_j = Lambda M_j^-1 Lambda', A = [X y]'[X y] - sum_j C_j' K_j C_j
# (C_j = Z_j'[X_j y_j]) and the deviance
#     d = sum_j log|M_j| + log|A_XX| + (n - p) log r2      (REML; ML: no log|A_XX|, n)
# the derivative along theta_i (the (r, c) element of Lambda, E = e_r e_c') is
#     d_i = sum_j [2 (S_j Lambda M_j^-1)[r, c] - tr(dK_j D_j)],
#     tr(dK_j D_j) = 2 (M_j^-1 Lambda' D_j)[c, r] - 2 (S_j Lambda P_j)[r, c],
# where S_j = Z_j'Z_j, D_j = C_j B C_j', P_j = M_j^-1 Lambda' D_j Lambda M_j^-1, and
# B = [A_XX^-1 0; 0 0] + (n - p) / r2 * bb' with b = (-beta, 1) (ML: n / r2 * bb').
# Per-cluster q x q matrices are held as (q, q, J) arrays, so every step is a
# vectorised operation over clusters: the gradient costs about one deviance evaluation.


def _inverse(M: np.ndarray) -> np.ndarray:
    """Inverse of each M[:, :, j] (closed forms for q = 1, 2)."""
    q = M.shape[0]
    if q == 1:
        return 1.0 / M
    if q == 2:
        det = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
        return np.stack([np.stack([M[1, 1], -M[0, 1]]), np.stack([-M[1, 0], M[0, 0]])]) / det
    return np.linalg.inv(M.transpose(2, 0, 1)).transpose(1, 2, 0)


def _weight_matrix(cp: CrossProducts, st: State, reml: bool) -> np.ndarray:
    p = cp.p
    b = np.append(-st.beta, 1.0)
    if reml:
        B = (cp.n - p) / st.r2 * np.outer(b, b)
        B[:p, :p] += np.linalg.inv(st.A[:p, :p])
        return B
    return cp.n / st.r2 * np.outer(b, b)


def deviance_gradient(cp: CrossProducts, st: State, reml: bool) -> np.ndarray:
    """Gradient of the profiled deviance in theta at the state ``st`` (see above)."""
    lam = st.lam
    S, C = cp.ZtZ_T, cp.ZtXy_T
    SL = np.einsum("abj,bc->acj", S, lam)
    M = np.einsum("ba,bcj->acj", lam, SL) + np.eye(cp.q)[:, :, None]
    Minv = _inverse(M)
    CB = np.einsum("lk,alj->akj", _weight_matrix(cp, st, reml), C)
    D = np.einsum("akj,bkj->abj", CB, C)
    X = np.einsum("abj,cb,cdj->adj", Minv, lam, D)          # M^-1 Lambda' D
    P = np.einsum("abj,bc,cdj->adj", X, lam, Minv)          # M^-1 Lambda' D Lambda M^-1
    T1 = np.einsum("abj,bcj->ac", SL, Minv)
    T2 = X.sum(axis=2)
    T3 = np.einsum("abj,bcj->ac", SL, P)
    r, c = tril_index(cp.q)
    return 2.0 * (T1[r, c] - T2[c, r] + T3[r, c])


class Objective:
    """The profiled deviance as a callable of theta (lme4's ``devFunOnly``).

    ``Objective(cp, "REML")(theta)`` -> deviance (inf where undefined);
    ``.evaluations`` counts calls."""

    def __init__(self, cp: CrossProducts, method: str = "REML"):
        if method not in ("REML", "ML"):
            raise ValueError(f"method must be 'REML' or 'ML', not {method!r}")
        self.cp = cp
        self.method = method
        self.reml = method == "REML"
        self.lower = theta_lower(cp.q)
        self.evaluations = 0
        self._last = None       # (theta, deviance) at the last point where it was defined

    def __call__(self, theta) -> float:
        self.evaluations += 1
        return deviance(self.cp, theta, self.reml)

    def value_and_grad(self, theta) -> tuple[float, np.ndarray]:
        """Deviance and its analytic gradient in theta.

        Where the deviance is undefined, a penalty for gradient-based optimizers:
        f0 + (1 + |f0|) (1 + |theta - theta0|^2), with its gradient, theta0 the last
        point where the deviance was defined (at first theta = 0, no random effects),
        f0 the deviance there: larger than f0, and its gradient points back."""
        self.evaluations += 1
        theta = np.asarray(theta, dtype=float)
        st = evaluate(self.cp, theta)
        if st is not None:
            f = deviance_from_state(self.cp, st, self.reml)
            self._last = (theta.copy(), f)
            return f, deviance_gradient(self.cp, st, self.reml)
        if self._last is None:
            zero = np.zeros(self.cp.n_theta)
            self._last = (zero, np.nan_to_num(deviance(self.cp, zero, self.reml), posinf=0.0))
        theta0, f0 = self._last
        d = np.nan_to_num(theta - theta0, nan=1.0, posinf=1.0, neginf=-1.0)
        w = 1.0 + abs(f0)
        return f0 + w * (1.0 + d @ d), 2.0 * w * d

    def state(self, theta) -> State | None:
        return evaluate(self.cp, theta, with_u=True)
