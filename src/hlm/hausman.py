"""The Hausman test: the within (fixed-effects) against the random-effects estimates of
the level-1 slopes.

Under the random-intercept model ``y ~ x + (1 | cluster)`` both the within estimator
(OLS with one intercept per cluster, :func:`hlm.within.common_slopes`) and the mixed
model's GLS estimator are consistent for the slopes of x, and GLS is the efficient one.
When the cluster effects are correlated with x (a contextual effect: clusters with a
higher mean x have a different intercept), GLS is biased and the within estimator is
not. Hausman's statistic compares the two:

    H = (b_FE - b_RE)' [V_FE - V_RE]^-1 (b_FE - b_RE),  chi-squared with k DF (k slopes)

under the null of no correlation. ``V_FE`` is OLS's covariance (residual variance on
n - J - k DF, as R's ``lm`` with cluster dummies), ``V_RE`` the mixed model's. When
``V_FE - V_RE`` is not positive definite (it can happen in samples), the statistic
uses its Moore-Penrose inverse and the record says so, as R's ``plm::phtest`` warns.

When x has no between-cluster variation (every cluster has the same mean of x: a balanced
growth study, or x centred within clusters), GLS uses within-cluster variation only and *is*
the within estimator: the contrast is zero by construction and, when the two residual
variances agree too, ``H = 0/0``. The test is then undefined, not "no evidence": the record
has ``statistic`` and ``p`` null and ``error`` saying why (``undefined`` names the cause:
``no_between`` or ``coincide``, the latter when the estimates and their variances agree to
rounding for another reason).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from hlm import lmm
from hlm.catalog import quote
from hlm.within import Groups, common_slopes


def hausman(data: pd.DataFrame, y: str, xs: list[str], cluster: str, method: str = "REML") -> dict:
    """The Hausman test of the slopes of `xs` (level-1 columns) in a random-intercept
    model of `y` with clusters `cluster`; the random-effects fit is by `method`."""
    d = data[[y, *xs, cluster]]
    codes = pd.factorize(d[cluster], sort=True)[0]
    g = Groups(codes)
    k, J = len(xs), g.J
    names = ["(Intercept)"] + [f"cluster{j}" for j in range(1, J)] + list(xs)
    fe = common_slopes(g, d[xs].to_numpy(float), d[y].to_numpy(float), names)
    L = np.hstack([np.zeros((k, J)), np.eye(k)])
    b_fe, V_fe = fe.combine(L)
    re = lmm.fit(d, f"{quote(y)} ~ {' + '.join(map(quote, xs))}", f"~ 1 | {quote(cluster)}", method=method)
    idx = [re.x_names.index(x) for x in xs]
    b_re, V_re = re.fixef[idx], re.vcov[np.ix_(idx, idx)]
    diff, V = b_fe - b_re, V_fe - V_re
    head = {
        "slopes": list(xs),
        "fe": dict(zip(xs, map(float, b_fe))), "se_fe": dict(zip(xs, map(float, np.sqrt(np.diag(V_fe))))),
        "re": dict(zip(xs, map(float, b_re))), "se_re": dict(zip(xs, map(float, np.sqrt(np.diag(V_re))))),
        "re_method": method,
    }
    cause = undefined_cause(d, xs, cluster, diff, V, V_fe)
    if cause:
        why = {"no_between": "the mean of " + ", ".join(xs) + " is the same in every cluster, so the "
                             "random-intercept (GLS) estimate uses within-cluster variation only and is the "
                             "within estimate itself: the statistic is 0/0 and the test is undefined",
               "coincide": "the two estimates and their variances coincide, so the statistic is 0/0 and the "
                           "test is undefined"}[cause]
        return {**head, "statistic": None, "df": k, "p": None, "positive_definite": False,
                "error": f"undefined ({cause}): {why}"}
    eig = np.linalg.eigvalsh(V)
    tol = 1e-12 * max(abs(eig.max()), 1e-300)
    positive = bool(eig.min() > tol)
    stat = float(diff @ (np.linalg.solve(V, diff) if positive else np.linalg.pinv(V) @ diff))
    df = k if positive else int(np.sum(eig > tol))
    return {
        **head, "statistic": stat, "df": df,
        "p": float(stats.chi2.sf(stat, df)) if df > 0 else float("nan"),
        "positive_definite": positive,
    }


def between_share(data: pd.DataFrame, x: str, cluster: str) -> float:
    """The share of the sum of squares of x that lies between clusters (0: every cluster has
    the same mean of x; NaN when x does not vary at all)."""
    v = data[x].astype(float)
    total = float(((v - v.mean()) ** 2).sum())
    if not total > 0:
        return float("nan")
    means = v.groupby(data[cluster], observed=True).transform("mean")
    return float(((means - v.mean()) ** 2).sum()) / total


def undefined_cause(data: pd.DataFrame, xs: list[str], cluster: str, diff, V, V_fe, tol: float = 1e-10) -> str:
    """Why the Hausman statistic is 0/0 on these data ('' when it is defined): 'no_between' when
    some x has no between-cluster variation (GLS is then the within estimator), 'coincide'
    when the estimates and their variances agree to rounding."""
    if any(not between_share(data, x, cluster) > tol for x in xs):
        return "no_between"
    scale = np.sqrt(np.diag(V_fe))
    if np.all(np.abs(diff) <= 1e-8 * scale) and np.all(np.abs(V) <= 1e-8 * np.outer(scale, scale)):
        return "coincide"
    return ""
