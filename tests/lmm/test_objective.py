"""The profiled deviance against dense likelihoods computed from V = Z G Z' + sigma^2 I."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, reject, settings, strategies as st

from hlm.errors import ModelError
from hlm.lmm import devfun
from hlm.lmm.design import build_design
from hlm.lmm.objective import (Objective, cross_products, deviance, evaluate, full_loglik,
                               lambda_to_theta, theta_to_lambda)

from lmm_dense import dense_loglik, simulate
from lmm_numeric import richardson_gradient

RANDOM = {1: "~ 1 | g", 2: "~ 1 + x | g", 3: "~ 1 + x + x2 | g"}


@st.composite
def problems(draw):
    q = draw(st.sampled_from([1, 2, 3]))
    J = draw(st.integers(3, 8))
    sizes = draw(st.lists(st.integers(1, 6), min_size=J, max_size=J))
    seed = draw(st.integers(0, 2**31 - 1))
    theta = np.array(draw(st.lists(st.floats(-2, 2), min_size=q * (q + 1) // 2,
                                   max_size=q * (q + 1) // 2)))
    reml = draw(st.booleans())
    return q, J, sizes, seed, theta, reml


@settings(max_examples=60, deadline=None)
@given(problems())
def test_profiled_deviance_equals_dense_likelihood(prob):
    q, J, sizes, seed, theta, reml = prob
    df = simulate(np.random.default_rng(seed), J, sizes, q)
    try:
        d = build_design(df, "y ~ x + w", RANDOM[q])
    except ModelError:      # too few rows, or w constant across the drawn clusters
        reject()
    cp = cross_products(d.X, d.Z, d.y, d.starts)
    dev = deviance(cp, theta, reml)
    st_ = evaluate(cp, theta)
    sigma2 = st_.r2 / (d.n - d.p if reml else d.n)
    lam = theta_to_lambda(theta, q)
    ll, beta, *_ = dense_loglik(d.X, d.Z, d.y, d.codes, sigma2 * lam @ lam.T, sigma2, reml)
    assert dev == pytest.approx(-2 * ll, rel=1e-9, abs=1e-8)
    assert st_.beta == pytest.approx(beta, rel=1e-7, abs=1e-8)
    # the unprofiled likelihood at the profiled sigma is the same number
    assert full_loglik(cp, theta, np.sqrt(sigma2), reml) == pytest.approx(ll, rel=1e-9, abs=1e-8)


def test_theta_lambda_round_trip_in_lme4_order():
    lam = theta_to_lambda(np.array([1.0, 2.0, 3.0]), 2)
    assert lam.tolist() == [[1.0, 0.0], [2.0, 3.0]]
    assert lambda_to_theta(lam).tolist() == [1.0, 2.0, 3.0]


def test_devfun_reproduces_lme4_at_its_optimum(hs, rref):
    """lme4's REML criterion at lme4's estimates (G / sigma^2 -> theta), from the R reference."""
    ref = rref["random_coef"]["lme4"]
    f = devfun(hs, "MathAch ~ 1 + SES", "~ 1 + SES | School")
    theta = lambda_to_theta(np.linalg.cholesky(np.array(ref["G"]) / ref["sigma"] ** 2))
    assert -f(theta) / 2 == pytest.approx(ref["logLik"], abs=1e-6)
    assert f.evaluations == 1


def test_deviance_does_not_depend_on_row_order(hs):
    f1 = devfun(hs, "MathAch ~ SES", "~ 1 + SES | School", "ML")
    f2 = devfun(hs.sample(frac=1.0, random_state=3), "MathAch ~ SES", "~ 1 + SES | School", "ML")
    th = np.array([0.4, -0.1, 0.2])
    assert f1(th) == pytest.approx(f2(th), rel=1e-12)


def test_undefined_points_are_infinite():
    rng = np.random.default_rng(0)
    df = simulate(rng, 4, [3, 3, 3, 3], 1)
    f = devfun(df, "y ~ x", "~ 1 | g")
    assert np.isfinite(f([0.0]))
    assert f([np.nan]) == np.inf


def test_undefined_points_give_gradient_methods_a_way_back(monkeypatch):
    """Where the deviance is undefined, value_and_grad returns a finite penalty above the last
    defined value, growing with the distance from that point, its gradient pointing back;
    so L-BFGS-B started where the deviance is undefined still reaches the optimum."""
    import hlm.lmm.objective as objective
    from hlm.lmm.optimize import optimize_theta
    df = simulate(np.random.default_rng(1), 30, [8] * 30, 1, G=[[0.25]])
    best = devfun(df, "y ~ x", "~ 1 | g")
    theta, _ = optimize_theta(best)
    obj = devfun(df, "y ~ x", "~ 1 | g")
    f0 = obj(theta)
    defined = objective.evaluate
    monkeypatch.setattr(objective, "evaluate",
                        lambda cp, th, with_u=False: None if np.any(np.abs(th) > 2 * theta) else defined(cp, th, with_u))
    f1, g1 = obj.value_and_grad(3 * theta)            # nothing defined seen yet: back to theta = 0
    assert np.isfinite(f1) and g1[0] > 0
    assert obj.value_and_grad(theta)[0] == pytest.approx(f0)
    f2, g2 = obj.value_and_grad(4 * theta)
    f3, g3 = obj.value_and_grad(6 * theta)
    assert f0 < f2 < f3 and 0 < g2[0] < g3[0]
    f4, g4 = obj.value_and_grad([np.nan])
    assert np.isfinite(f4) and np.all(np.isfinite(g4))
    th, opt = optimize_theta(devfun(df, "y ~ x", "~ 1 | g"), start=[3 * theta[0]])
    assert opt.converged and th == pytest.approx(theta, rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_analytic_gradient_equals_finite_differences(prob):
    q, J, sizes, seed, theta, reml = prob
    df = simulate(np.random.default_rng(seed), J, sizes, q)
    try:
        d = build_design(df, "y ~ x + w", RANDOM[q])
    except ModelError:
        reject()
    obj = Objective(cross_products(d.X, d.Z, d.y, d.starts), "REML" if reml else "ML")
    f, g = obj.value_and_grad(theta)
    if not np.isfinite(f):
        reject()
    fd = richardson_gradient(obj, theta, rel=1e-4)
    assert f == pytest.approx(obj(theta), rel=1e-14)
    assert g == pytest.approx(fd, rel=1e-5, abs=1e-5 * max(1.0, abs(f)))
