"""fit() on other samples and datasets, and edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from hlm.lmm import fit

from lmm_helpers import load_hsb
from lmm_dense import simulate


def per_cluster_loglik(df, fixed_cols, z_cols, G, sigma2, reml=True):
    """REML/ML log-likelihood summed over clusters, V_j = Z_j G Z_j' + sigma^2 I (no engine code)."""
    XtVX, XtVy, parts = 0.0, 0.0, []
    for _, sub in df.groupby("g", sort=False):
        X = np.column_stack([np.ones(len(sub))] + [sub[c] for c in fixed_cols])
        Z = np.column_stack([np.ones(len(sub))] + [sub[c] for c in z_cols])
        V = Z @ G @ Z.T + sigma2 * np.eye(len(sub))
        Vi = np.linalg.inv(V)
        XtVX = XtVX + X.T @ Vi @ X
        XtVy = XtVy + X.T @ Vi @ sub["y"].to_numpy()
        parts.append((X, sub["y"].to_numpy(), Vi, np.linalg.slogdet(V)[1]))
    beta = np.linalg.solve(XtVX, XtVy)
    n, p = len(df), len(beta)
    ll = -0.5 * sum(ld + (y - X @ beta) @ Vi @ (y - X @ beta) for X, y, Vi, ld in parts)
    if reml:
        return ll - 0.5 * ((n - p) * np.log(2 * np.pi) + np.linalg.slogdet(XtVX)[1])
    return ll - 0.5 * n * np.log(2 * np.pi)


def _brute_force_max(df, fixed_cols, z_cols, start):
    """Maximise the dense likelihood over (log sigma, log-Cholesky of G) by Nelder-Mead."""
    q = len(z_cols) + 1
    il = np.tril_indices(q)

    def negll(v):
        L = np.zeros((q, q))
        L[il] = v[1:]
        L[np.diag_indices(q)] = np.exp(np.diag(L))
        return -per_cluster_loglik(df, fixed_cols, z_cols, L @ L.T, np.exp(2 * v[0]))

    res = minimize(negll, start, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxfev": 3000})
    return -res.fun


@pytest.mark.parametrize("seed", [11, 12])
def test_other_simulated_datasets_reach_the_dense_optimum(seed):
    rng = np.random.default_rng(seed)
    df = simulate(rng, 25, rng.poisson(12, size=25) + 2, 2, G=[[4.0, 1.0], [1.0, 1.0]], sigma=2.0)
    res = fit(df, "y ~ x + w", "~ 1 + x | g")
    G = np.asarray(res.G)
    ll = per_cluster_loglik(df, ["x", "w"], ["x"], G, res.sigma**2)
    assert res.logLik == pytest.approx(ll, abs=1e-8)
    L = np.linalg.cholesky(G)
    start = np.array([np.log(res.sigma), np.log(L[0, 0]), L[1, 0], np.log(L[1, 1])])
    start[1:] += 0.05
    assert _brute_force_max(df, ["x", "w"], ["x"], start) <= res.logLik + 1e-6


@pytest.fixture(scope="module")
def hs160():
    return load_hsb(None)


@pytest.mark.parametrize("fixed,random,re_formula", [
    ("MathAch ~ SES", "~ 1 | School", None),
    ("MathAch ~ SES * Sector", "~ 1 + SES | School", "~SES"),
])
def test_all_160_schools_against_statsmodels(hs160, fixed, random, re_formula):
    """statsmodels (with a robust optimizer chain) where it converges: same optimum or worse."""
    import statsmodels.formula.api as smf
    res = fit(hs160, fixed, random)
    assert res.n == 7185 and res.groups == 160 and res.converged
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = smf.mixedlm(fixed, hs160, groups="School", re_formula=re_formula).fit(
            reml=True, method=["powell", "lbfgs"])
    assert res.logLik >= sm.llf - 1e-6
    if abs(res.logLik - sm.llf) < 1e-6:
        fe = res.fixef_dict()
        for k, v in sm.fe_params.items():
            name = k.replace("Intercept", "(Intercept)").replace("[T.Public]", "Public")
            assert fe[name] == pytest.approx(v, rel=1e-3, abs=1e-4)


def test_a_random_sample_of_40_schools(hs160):
    ids = sorted(hs160["School"].unique())
    pick = list(np.random.default_rng(1).choice(ids, 40, replace=False))
    df = load_hsb(pick)
    res = fit(df, "MathAch ~ SES * Sector", "~ 1 + SES | School")
    sub = df.rename(columns={"School": "g", "MathAch": "y"}).assign(pub=(df["Sector"] == "Public") * 1.0)
    sub["xpub"] = sub["SES"] * sub["pub"]
    ll = per_cluster_loglik(sub, ["SES", "pub", "xpub"], ["SES"], np.asarray(res.G), res.sigma**2)
    assert res.logLik == pytest.approx(ll, abs=1e-7)
    assert res.groups == 40 and res.converged


def test_clusters_of_size_one():
    rng = np.random.default_rng(2)
    sizes = [1, 1, 1, 5, 6, 7, 1, 8, 4, 1]
    df = simulate(rng, len(sizes), sizes, 1, G=[[2.0]])
    res = fit(df, "y ~ x", "~ 1 | g")
    assert res.converged and res.cluster_n.tolist() == sizes
    ll = per_cluster_loglik(df, ["x"], [], np.asarray(res.G), res.sigma**2)
    assert res.logLik == pytest.approx(ll, abs=1e-8)
    # a singleton's BLUP shrinks its residual by G / (G + sigma^2)
    j = res.group_ids.index("c000")
    row = df[df["g"] == "c000"].iloc[0]
    r = row["y"] - res.fixef[0] - res.fixef[1] * row["x"]
    shrink = res.G[0, 0] / (res.G[0, 0] + res.sigma**2)
    assert res.ranef[j, 0] == pytest.approx(shrink * r, rel=1e-8)


def test_x_constant_within_a_cluster_with_a_random_slope():
    rng = np.random.default_rng(3)
    df = simulate(rng, 20, [10] * 20, 2, G=[[2.0, 0.3], [0.3, 1.0]], const_x_cluster=4)
    res = fit(df, "y ~ x", "~ 1 + x | g")
    assert res.converged and np.all(np.isfinite(res.ranef))
    ll = per_cluster_loglik(df, ["x"], ["x"], np.asarray(res.G), res.sigma**2)
    assert res.logLik == pytest.approx(ll, abs=1e-8)


def test_a_three_term_random_part():
    rng = np.random.default_rng(5)
    df = simulate(rng, 30, [12] * 30, 3, G=np.diag([3.0, 1.0, 0.5]), sigma=1.0)
    res = fit(df, "y ~ x + x2", "~ 1 + x + x2 | g")
    assert res.G.shape == (3, 3) and res.converged
    ll = per_cluster_loglik(df, ["x", "x2"], ["x", "x2"], np.asarray(res.G), res.sigma**2)
    assert res.logLik == pytest.approx(ll, abs=1e-8)
    assert len(res.intervals()["reStruct"]) == 6


def test_input_data_are_not_modified(hs):
    before = hs.copy()
    fit(hs, "MathAch ~ Sector", "~ 1 | School", reference={"Sector": "Public"})
    pd.testing.assert_frame_equal(hs, before)
