"""The basis the engine fits in, and the map back to the user's parametrisation.

The fit is exact under invertible affine changes of the columns, so it is done
on well-conditioned columns and reported for the user's:

    X_i = X_u T,    Z_i = Z_u T_z,    y_i = (y_u - c) / s.

T centres every non-intercept column of X on its mean when X has an intercept
column (a constant one), scales every column to unit root mean square (the
intercept column to 1), then orthonormalises the columns (times sqrt(n):
X_i'X_i = n I, by a Cholesky factor of the scaled X'X): centring alone leaves
e.g. x w nearly collinear with w when x is shifted far from 0.  T_z does the
same to Z, centring only when Z has an intercept column (G is unstructured, so
any invertible T_z is an exact reparametrisation); c is the mean of y when X
has an intercept column (else 0), s the root mean square of y - c.  With e the
intercept column's unit vector and v its constant value,

    beta_u = s T beta_i + (c / v) e,        vcov_u = s^2 T vcov_i T',
    sigma_u = s sigma_i,   G_u = s^2 T_z G_i T_z',   b_u = s T_z b_i,
    Lambda_u Lambda_u' = T_z Lambda_i Lambda_i' T_z'  (theta is relative: no s),
    ML:   logLik_u = logLik_i - n log s,
    REML: logLik_u = logLik_i + log|det T| - (n - p) log s

(V_u = s^2 V_i and X_u' V_u^-1 X_u = T^-T X_i' V_i^-1 X_i T^-1 / s^2).  The
lower-triangular Lambda_u comes from a QR factorisation of (T_z Lambda_i)',
signs fixed so that its diagonal is >= 0; it exists for singular fits too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlm.lmm.objective import CrossProducts, lambda_to_theta, theta_to_lambda


def _intercept(M: np.ndarray) -> int | None:
    """Index of the first constant, non-zero column of M (the intercept), if any."""
    for j in range(M.shape[1]):
        if M[0, j] != 0 and np.all(M[:, j] == M[0, j]):
            return j
    return None


def standardise(M: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int | None]:
    """(M_i, T, log|det T|, intercept column) with M_i = M T as described above.

    M_i is computed as (M - shift) W, W = D^-1 R^-1 (D the scales, R'R the
    scaled cross-product; without a positive definite one, R = I): centring
    first loses nothing to rounding, and W is upper triangular, so the product
    is formed in place, column by column."""
    n, k = M.shape[0], _intercept(M)
    shift = np.zeros(M.shape[1])
    if k is not None:
        shift = M.mean(axis=0)
        shift[k] = 0.0
    C = np.subtract(M, shift, order="F")
    CtC = C.T @ C / n
    scale = np.sqrt(np.diag(CtC))
    scale[scale == 0] = 1.0
    if k is not None:
        scale[k] = M[0, k]
    try:
        R = np.linalg.cholesky(CtC / np.outer(scale, scale)).T
    except np.linalg.LinAlgError:
        R = np.eye(M.shape[1])
    W = np.linalg.inv(R) / scale[:, None]
    for j in reversed(range(W.shape[1])):
        C[:, j] *= W[j, j]
        for i in range(j):
            C[:, j] += W[i, j] * C[:, i]
    T = W.copy()
    if k is not None:
        T[k] -= shift @ W / M[0, k]
    logdet = -float(np.sum(np.log(np.abs(scale))) + np.sum(np.log(np.diag(R))))
    return C, T, logdet, k


def lower_factor(A: np.ndarray) -> np.ndarray:
    """The lower-triangular L with L L' = A A' and diag(L) >= 0 (QR of A')."""
    R = np.linalg.qr(A.T, mode="r")
    sign = np.where(np.diag(R) < 0, -1.0, 1.0)
    return (R * sign[:, None]).T


@dataclass(frozen=True, eq=False)
class Basis:
    """X_i = X_u T, Z_i = Z_u Tz, y_i = (y_u - c) / s (see the module docstring)."""

    T: np.ndarray
    Tz: np.ndarray
    s: float
    logdet_T: float
    shift_beta: np.ndarray      # (c / v) e: y_u = s y_i + X_u shift_beta

    @classmethod
    def fit(cls, X: np.ndarray, Z: np.ndarray, y: np.ndarray):
        """(basis, X_i, Z_i, y_i)."""
        Xi, T, logdet, k = standardise(X)
        Zi, Tz, _, _ = standardise(Z)
        shift_beta = np.zeros(X.shape[1])
        c = 0.0
        if k is not None:
            c = float(np.mean(y))
            shift_beta[k] = c / X[0, k]
        yi = y - c
        s = float(np.sqrt(yi @ yi / y.size)) or 1.0
        yi /= s
        return cls(T, Tz, s, logdet, shift_beta), Xi, Zi, yi

    # ---- internal -> user ---------------------------------------------------
    def beta(self, beta_i: np.ndarray) -> np.ndarray:
        return self.s * (self.T @ beta_i) + self.shift_beta

    def vcov(self, vcov_i: np.ndarray) -> np.ndarray:
        return self.s**2 * (self.T @ vcov_i @ self.T.T)

    def theta(self, theta_i: np.ndarray) -> np.ndarray:
        """User theta; diagonal entries that are zero up to rounding are set to 0 when the
        internal Lambda is singular (the user's then has the same rank)."""
        lam_i = theta_to_lambda(theta_i, self.Tz.shape[0])
        lam = lower_factor(self.Tz @ lam_i)
        if np.any(np.diag(lam_i) == 0):
            norms = np.linalg.norm(lam, axis=1)
            d = np.arange(lam.shape[0])
            lam[d, d] = np.where(np.abs(lam[d, d]) <= 1e-10 * norms, 0.0, lam[d, d])
        return lambda_to_theta(lam)

    def G(self, G_i: np.ndarray) -> np.ndarray:
        return self.s**2 * (self.Tz @ G_i @ self.Tz.T)

    def ranef(self, b_i: np.ndarray, cov_i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.s * (b_i @ self.Tz.T), self.s**2 * np.einsum("ak,jkl,bl->jab", self.Tz, cov_i, self.Tz)

    def log_jacobian(self, n: int, p: int, reml: bool) -> float:
        """logLik_u - logLik_i."""
        if reml:
            return self.logdet_T - (n - p) * float(np.log(self.s))
        return float(-n * np.log(self.s))

    # ---- user -> internal ---------------------------------------------------
    def theta_internal(self, theta_u) -> np.ndarray:
        lam_u = theta_to_lambda(np.asarray(theta_u, dtype=float), self.Tz.shape[0])
        return lambda_to_theta(lower_factor(np.linalg.solve(self.Tz, lam_u)))

    def G_internal(self, G_u: np.ndarray, sigma_u: float) -> tuple[np.ndarray, float]:
        Ti = np.linalg.inv(self.Tz)
        return Ti @ G_u @ Ti.T / self.s**2, sigma_u / self.s

    def user_cross_products(self, cp: CrossProducts) -> CrossProducts:
        """The user's cross-products from the internal ones: [X_u y_u] = [X_i y_i] K, Z_u = Z_i Tz^-1."""
        p = cp.p
        K = np.zeros((p + 1, p + 1))
        K[:p, :p] = np.linalg.inv(self.T)
        K[:p, p] = K[:p, :p] @ self.shift_beta
        K[p, p] = self.s
        Ti = np.linalg.inv(self.Tz)
        return CrossProducts(n=cp.n, p=p, q=cp.q, ZtZ=np.einsum("ka,jkl,lb->jab", Ti, cp.ZtZ, Ti),
                             ZtXy=np.einsum("ka,jkl,lb->jab", Ti, cp.ZtXy, K), XytXy=K.T @ cp.XytXy @ K)
