"""The optimizer: optimum reached (gradient ~ 0), boundary handling, singular fits, BLUPs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, reject, settings, strategies as st

from hlm.errors import ModelError
from hlm.lmm import fit
from hlm.lmm.objective import Objective
from hlm.lmm.optimize import OptSummary

from lmm_dense import dense_loglik, simulate
from lmm_numeric import projected_gradient

RANDOM = {1: "~ 1 | g", 2: "~ 1 + x | g"}


@st.composite
def datasets(draw):
    q = draw(st.sampled_from([1, 2]))
    J = draw(st.integers(4, 10))
    # well-posed problems: q = 2 needs clusters larger than 2, q = 1 some clusters of 2+
    sizes = draw(st.lists(st.integers(1 if q == 1 else 3, 8), min_size=J, max_size=J))
    if sum(s > 1 for s in sizes) < 3:
        reject()
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from([0.0, 0.3, 1.0, 3.0]))
    return q, J, sizes, seed, scale, draw(st.sampled_from(["REML", "ML"]))


def _fit(prob):
    q, J, sizes, seed, scale, method = prob
    G = scale**2 * (np.eye(q) + 0.3 * (1 - np.eye(q)))
    df = simulate(np.random.default_rng(seed), J, sizes, q, G=G)
    try:
        return df, fit(df, "y ~ x + w", RANDOM[q], method)
    except ModelError:
        reject()


@settings(max_examples=25, deadline=None)
@given(datasets())
def test_gradient_is_zero_at_the_optimum_unless_on_the_boundary(prob):
    _, res = _fit(prob)
    obj = Objective(res.cp, res.method)
    lower = obj.lower
    g = projected_gradient(obj, np.asarray(res.theta), lower)
    interior = np.asarray(res.theta) - lower > 1e-6
    assert np.all(np.abs(g[interior]) < 1e-3)
    # nothing better nearby, on or off the boundary
    rng = np.random.default_rng(0)
    for _ in range(20):
        trial = np.maximum(np.asarray(res.theta) + rng.normal(scale=1e-2, size=g.size), lower)
        assert obj(trial) >= -2 * res.logLik - 1e-7


@settings(max_examples=25, deadline=None)
@given(datasets())
def test_blups_equal_g_zt_vinv_residual(prob):
    df, res = _fit(prob)
    d = res.design
    G = np.asarray(res.G)
    _, beta, Vi, Zfull = dense_loglik(d.X, d.Z, d.y, d.codes, G, res.sigma**2, res.method == "REML")
    q = d.q
    b = np.kron(np.eye(d.J), G) @ Zfull.T @ Vi @ (d.y - d.X @ beta)
    assert np.asarray(res.ranef).ravel() == pytest.approx(b, abs=1e-7 * max(1.0, np.abs(b).max()))
    # conditional covariance: G - G Z_j' V_j^-1 Z_j G
    for j in range(d.J):
        rows = d.codes == j
        Zj = d.Z[rows]
        Vj = Zj @ G @ Zj.T + res.sigma**2 * np.eye(rows.sum())
        expect = G - G @ Zj.T @ np.linalg.solve(Vj, Zj @ G)
        assert np.asarray(res.ranef_cov[j]) == pytest.approx(expect, abs=1e-7 * max(1.0, np.abs(G).max()))
    assert res.ranef.shape == (d.J, q)


def _no_cluster_effect(seed=3, J=30):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(J), 20)
    x = rng.normal(size=g.size)
    return pd.DataFrame({"g": g, "x": x, "y": 1 + 2 * x + rng.normal(size=g.size)})


def test_variance_at_zero_is_returned_on_the_boundary_with_ols_fixed_effects():
    df = _no_cluster_effect()
    res = fit(df, "y ~ x", "~ 1 | g")
    ols = sm.OLS(df["y"], sm.add_constant(df["x"])).fit()
    if res.theta[0] == 0.0:
        assert res.singular and res.converged
        assert res.fixef == pytest.approx(ols.params.to_numpy(), rel=1e-10)
        assert res.se == pytest.approx(ols.bse.to_numpy(), rel=1e-10)
        assert res.sigma == pytest.approx(np.sqrt(ols.scale), rel=1e-10)
        assert res.intervals()["reStruct"] is None
        assert "singular fit" in res.summary()
    else:   # an interior optimum must be a true one (a rare draw)
        assert res.theta[0] > 1e-4


def test_singular_random_slope_fit_is_flagged():
    df = _no_cluster_effect(seed=5)
    rng = np.random.default_rng(9)
    df["y"] += np.repeat(rng.normal(scale=2.0, size=30), 20)   # intercept variance only
    res = fit(df, "y ~ x", "~ 1 + x | g")
    ri = fit(df, "y ~ x", "~ 1 | g")
    assert res.logLik >= ri.logLik - 1e-8
    if res.singular:
        assert np.min(np.linalg.eigvalsh(np.asarray(res.G))) == pytest.approx(0.0, abs=1e-8)
        assert res.converged


def test_optsummary_record(hs_fits):
    o = hs_fits["ints_slopes"].optsum
    assert isinstance(o, OptSummary)
    assert o.start == (1.0, 0.0, 1.0) and len(o.final) == 3 and o.evaluations > 10
    assert o.method.startswith("L-BFGS-B") and o.converged and o.messages
    assert o.fval == pytest.approx(-2 * hs_fits["ints_slopes"].logLik)


def test_restarts_escape_the_boundary_local_optimum(hs_fits, rref):
    """From lme4's start, L-BFGS-B alone lands on a boundary point of ctx_w (logLik -6433.7);
    the restarts find the optimum (-6409.612)."""
    res = hs_fits["ctx_w"]
    assert "restart" in res.optsum.method
    assert res.logLik == pytest.approx(rref["ctx_w"]["lme4"]["logLik"], abs=1e-6)


def test_start_values_are_used(hs, hs_fits):
    res = fit(hs, "MathAch ~ SES", "~ 1 + SES | School", start=hs_fits["random_coef"].theta)
    assert res.optsum.start == pytest.approx(tuple(hs_fits["random_coef"].theta))
    assert res.logLik == pytest.approx(hs_fits["random_coef"].logLik, abs=1e-8)


def test_singular_fit_names_its_boundary_parameters():
    # all 160 HSB schools: lme4 also reports this intercepts-and-slopes fit as singular
    from pathlib import Path

    import pandas as pd

    from hlm.config import get_profile, load_config

    from hlm.sample import with_data
    from hlm.data import merge
    from hlm.levels import derive
    from hlm.lmm import fit

    cfg = load_config()
    profile = with_data(get_profile(cfg, "hsb160"))
    students, _ = derive(merge(profile).frame, profile)
    r = fit(students, fixed="MathAch ~ SES * Sector", random="~ 1 + SES | School")
    assert r.singular and r.optsum.boundary == (2,)  # theta[2]: the slope's own Cholesky entry
    assert r.to_dict()["optimizer"]["boundary"] == [2]


def test_leaves_the_face_of_a_zero_first_column():
    """Found by hypothesis: L-BFGS-B stopped where the first diagonal element of Lambda
    is 0 (the intercepts carry no variance of their own), 0.0036 of deviance above a rank-one
    G with both variances; the restart that refills that column finds it."""
    df, res = _fit((2, 4, [8, 5, 6, 5], 51964420, 0.3, "REML"))
    obj = Objective(res.cp, res.method)
    g = projected_gradient(obj, np.asarray(res.theta), obj.lower)
    interior = np.asarray(res.theta) - obj.lower > 1e-6
    assert np.all(np.abs(g[interior]) < 1e-3)
    assert -2 * res.logLik < 74.1034  # the better optimum (74.10333), not the face (74.10693)
    assert any("restart improved" in m for m in res.to_dict()["optimizer"]["messages"])
