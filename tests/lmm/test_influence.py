"""The one-step deletion of each cluster (hlm.lmm.influence.one_step): against refits without
the cluster with theta held at the fit's (exact computation on the reduced data), and against
lme4's refits (tests/reference/lab/lab_r.json) for the order of the clusters."""
import json
from pathlib import Path

import numpy as np
import pytest

from hlm import lmm
from hlm.lmm.influence import deletion_estimates, one_step
from hlm.lmm.objective import cross_products, evaluate

R = json.loads((Path(__file__).parents[1] / "reference" / "lab" / "lab_r.json").read_text())
CATHOLIC = {"Sector": "Catholic"}


def fixed_theta_refit(fit, j):
    """b and vcov of the data without cluster j at the fit's theta (no optimization): GLS on the
    reduced design, sigma² from its residual sum of squares as the engine's (REML: n - p)."""
    d = fit.design.without(j)
    st = evaluate(cross_products(d.X, d.Z, d.y, d.starts), fit.theta)
    s2 = st.r2 / (d.n - d.p if fit.method == "REML" else d.n)
    return st.beta, s2 * np.linalg.inv(st.RXtRX)


@pytest.fixture(scope="module")
def ints_slopes(tables40):
    return lmm.fit(tables40[0], "MathAch ~ SES * Sector", "~ 1 + SES | School", reference=CATHOLIC)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_one_step_is_the_refit_with_theta_fixed(tables40, method):
    fit = lmm.fit(tables40[0], "MathAch ~ SES * Sector", "~ 1 + SES | School", method, reference=CATHOLIC)
    est = deletion_estimates(fit)
    assert est["ok"].all()
    for j in range(fit.groups):
        b, V = fixed_theta_refit(fit, j)
        se = np.sqrt(np.diag(V))
        assert est["delta"][j] == pytest.approx(fit.fixef - b, abs=1e-8 * se.min()), j
        assert np.sqrt(np.diag(est["vcov"][j])) == pytest.approx(se, rel=1e-8), j


def test_rows_as_the_exact_refits_write_them(ints_slopes):
    fit = ints_slopes
    rows = one_step(fit, clusters=[3, 7])
    assert [r["cluster"] for r in rows] == [fit.group_ids[3], fit.group_ids[7]]
    b, V = fixed_theta_refit(fit, 7)
    delta = fit.fixef - b
    assert rows[1]["cook"] == pytest.approx(delta @ np.linalg.solve(fit.vcov, delta) / 4, rel=1e-8)
    assert list(rows[1]["dfbetas"].values()) == pytest.approx(delta / np.sqrt(np.diag(V)), rel=1e-7)
    assert list(rows[1]["fixef"].values()) == pytest.approx(b, rel=1e-10)
    assert set(rows[1]) == {"cluster", "cook", "dfbetas", "fixef"}  # no refit: no singular, converged


def test_one_step_ranks_the_clusters_as_lme4_refits(ints_slopes):
    """The variance components barely move without one of 40 schools: the one-step Cook's
    distances order the schools as lme4's refits do (the ten largest are the same ten)."""
    from scipy import stats

    ref = {s: r["cook"] for s, r in R["influence_ints_slopes"].items()}
    ours = {r["cluster"]: r["cook"] for r in one_step(ints_slopes)}
    assert set(ours) == set(ref)
    schools = sorted(ref)
    assert stats.spearmanr([ours[s] for s in schools], [ref[s] for s in schools]).statistic > 0.98
    top = lambda d, k: set(sorted(d, key=lambda s: -d[s])[:k])  # noqa: E731
    assert top(ours, 1) == top(ref, 1) and top(ours, 10) == top(ref, 10)


def test_a_cluster_the_fixed_effects_need_is_an_error_row(tables40):
    s = tables40[0].copy()
    public = sorted(s.loc[s["Sector"] == "Public", "School"].unique())
    s.loc[s["School"].isin(public[1:]), "Sector"] = "Catholic"   # one public school left
    fit = lmm.fit(s, "MathAch ~ SES + Sector", "~ 1 | School", reference=CATHOLIC)
    rows = {r["cluster"]: r for r in one_step(fit)}
    assert rows[public[0]] == {"cluster": public[0], "error": "without it the fixed effects cannot all be estimated"}
    assert sum("error" in r for r in rows.values()) == 1
