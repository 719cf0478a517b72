"""The preliminary OLS of the Minority example, ``y ~ x * w + z * w``, and its diagnostics.

Before a mixed model, the notes fit the pooled regression with the second level-1
variable z (HSB: Minority) and look for the units and the clusters that move it. This
module fits it (statsmodels, treatment coding with the profile's reference levels of w
and z, coefficients named as R's ``lm``) and returns, for a figure:

- per unit: fitted value, residual, standardised residual (R's ``rstandard``), leverage
  (``hatvalues``) and Cook's distance (``cooks.distance``), keyed by the student table's
  ``row``; the five most influential units;
- per cluster: the Cook's distance of deleting the whole cluster,
  ``D_J = (b - b_(J))' X'X (b - b_(J)) / (p s²)`` with the full fit's ``s²``. ``b_(J)`` is
  the exact refit without the cluster, from the cross-products: ``b - b_(J) =
  (X'X - X_J'X_J)^-1 X_J' e_J``, which costs O(n p² + J p³), however large the clusters.
  A cluster without which the design is rank deficient (R's refit would have an NA
  coefficient) has ``null``.

On a profile without a z role the record is ``{"error": ...}`` (:data:`NO_Z`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from hlm.catalog import formula
from hlm.classic import coef_record, ols, prepare
from hlm.config import Profile, reference_first
from hlm.data import ROW
from hlm.errors import DataError, ModelError
from hlm.lmm.design import RANK_TOL, r_name
from hlm.models import formula_columns

FIXED = "y ~ x * w + z * w"
NO_Z = ("the profile has no z role (a second binary level-1 variable, e.g. Minority), which the model "
        f"{FIXED} needs; add `z: {{column: ..., reference: ...}}` to the profile's roles")
TOP = 5


def r_names(columns, variables: list[str]) -> list[str]:
    """formulaic's column names as R's ``lm`` names them: ``(Intercept)``, ``SectorPublic``
    (:func:`hlm.lmm.design.r_name`), and the factors of an interaction in the order their
    variables first appear in the formula (R's ``terms``: ``y ~ x * w + z * w`` has ``w:z``,
    ``SectorPublic:MinorityYes``)."""
    rank = {v: i for i, v in enumerate(variables)}

    def order(part: str) -> int:
        return rank.get(re.sub(r"\[.*\]$", "", part).strip("`"), len(rank))

    return [r_name(":".join(sorted(str(c).split(":"), key=order))) for c in columns]


def _z_levels(values: pd.Series, profile: Profile) -> tuple[str, str]:
    """z's (reference, other): the Categorical's order, else the profile's reference first;
    both must occur in the rows."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = tuple(str(c) for c in values.cat.categories)
    else:
        levels = reference_first(values.astype(str).unique(), profile.z_reference)
    present = set(values.astype(str).unique())
    if len(levels) != 2 or not set(levels) <= present:
        raise ModelError(f"z ('{profile.z}') must take two levels in the data, its reference "
                         f"'{profile.z_reference}' and one other; it takes {sorted(present)}.")
    return levels


def design(students: pd.DataFrame, profile: Profile):
    """(rows used, the y vector, X with R's column names, the formula in the columns)."""
    if profile.z not in students.columns:
        raise DataError(f"the student table of '{profile.name}' lacks z's column '{profile.z}'; rebuild it "
                        "with the derive step.")
    used = students.dropna(subset=[profile.y, profile.x, profile.w, profile.cluster, profile.z])
    d = prepare(used, profile)  # the classical methods' checks of y, x, w and the cluster
    frame = d.frame.assign(**{profile.w: pd.Categorical(d.frame[profile.w], categories=list(d.levels))})
    z = used[profile.z].reset_index(drop=True)
    frame[profile.z] = pd.Categorical(z.astype(str), categories=list(_z_levels(z, profile)))
    fixed = formula(FIXED, profile)
    from formulaic import model_matrix

    try:
        X = model_matrix(fixed.split("~", 1)[1], frame, na_action="raise")
    except Exception as err:  # formulaic raises many types
        raise ModelError(f"cannot build the design of {fixed!r}: {err}") from err
    X = pd.DataFrame(np.asarray(X, float), columns=r_names(X.columns, formula_columns(fixed)[1:]))
    return used, frame[profile.y].to_numpy(float), frame[profile.cluster].to_numpy(), X, fixed


def cluster_cooks(X: np.ndarray, resid: np.ndarray, codes: np.ndarray, s2: float) -> np.ndarray:
    """Cook's distance of deleting each cluster (codes 0..J-1), by exact refits from the
    cross-products; NaN where the design without the cluster is rank deficient."""
    n, p = X.shape
    J = int(codes.max()) + 1
    A = X.T @ X
    XtX_J = np.empty((J, p, p))
    for k in range(p):
        for m in range(k + 1):
            XtX_J[:, k, m] = XtX_J[:, m, k] = np.bincount(codes, X[:, k] * X[:, m], minlength=J)
    Xe_J = np.stack([np.bincount(codes, X[:, k] * resid, minlength=J) for k in range(p)], axis=1)
    A_J = A[None] - XtX_J
    scale = np.sqrt(np.clip(np.einsum("jkk->jk", A_J), 0, None))
    ok = np.all(scale > 0, axis=1)
    C = A_J / np.where(ok[:, None, None], scale[:, :, None] * scale[:, None, :], 1.0)
    ev = np.linalg.eigvalsh(C)
    ok &= ev[:, 0] > RANK_TOL**2 * ev[:, -1]
    out = np.full(J, np.nan)
    if ok.any():
        delta = np.linalg.solve(A_J[ok], Xe_J[ok][:, :, None])[:, :, 0]
        out[ok] = np.einsum("jk,kl,jl->j", delta, A, delta) / (p * s2)
    return out


def ols_diagnostics(students: pd.DataFrame, profile: Profile) -> dict:
    """The OLS of ``y ~ x * w + z * w`` and its unit and cluster diagnostics (module
    docstring); ``{"error": NO_Z}`` on a profile without a z role."""
    if not profile.has("z"):
        return {"error": NO_Z}
    used, y, cluster, X, fixed = design(students, profile)
    res = ols(y, X)
    infl = res.get_influence()
    coef = coef_record(res)
    cooks, leverage = np.asarray(infl.cooks_distance[0]), np.asarray(infl.hat_matrix_diag)
    std_resid = np.asarray(infl.resid_studentized_internal)
    rows = used[ROW].to_numpy(int) if ROW in used.columns else np.arange(1, len(used) + 1)
    codes, ids = pd.factorize(cluster)
    by_cluster = cluster_cooks(X.to_numpy(), np.asarray(res.resid), codes, float(res.scale))
    top = np.argsort(-cooks, kind="stable")[:TOP]
    ranked = sorted(range(len(ids)), key=lambda j: (np.isnan(by_cluster[j]), -np.nan_to_num(by_cluster[j])))
    return {
        "formula": fixed, "n": len(y),
        "coef": coef["fixef"], "se": coef["se"], "p": coef["p"],
        "r2": float(res.rsquared), "sigma": float(np.sqrt(res.scale)),
        "units": {"row": rows.tolist(), "cluster": [str(c) for c in cluster],
                  "fitted": np.asarray(res.fittedvalues).tolist(), "resid": np.asarray(res.resid).tolist(),
                  "std_resid": std_resid.tolist(), "leverage": leverage.tolist(), "cooks": cooks.tolist()},
        "top_units": [{"row": int(rows[i]), "cluster": str(cluster[i]), "cooks": float(cooks[i]),
                       "leverage": float(leverage[i]), "std_resid": float(std_resid[i])} for i in top],
        "clusters": [{"cluster": str(ids[j]), "cook": float(by_cluster[j])} for j in ranked],
    }
