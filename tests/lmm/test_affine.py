"""Exactness under affine changes of the data: x -> a (x + b), y -> s (y + c).

The engine fits in a centred, scaled and orthonormalised basis (``hlm.lmm.basis``)
and reports in the user's; here the expected changes are computed independently,
from the data transformation only:

- ML logLik: -n log|s|; REML logLik: -(n - p) log|s| + log|det T|, where
  X_old = X_new T (T by least squares on the two design matrices; so T maps the
  new columns to the old, and det T = 1 / a^k for k columns proportional to x);
- fixed effects: beta_new = s T beta_old + s c e_intercept, vcov_new = s^2 T vcov_old T';
- sigma_new = |s| sigma_old, G_new = s^2 T_z G_old T_z' (Z_old = Z_new T_z).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hlm.lmm import fit, refit

from lmm_helpers import MODELS, load_hsb

DATA = Path(__file__).parent / "data"


def transform(df: pd.DataFrame, x: str, y: str, a=1.0, b=0.0, s=1.0, c=0.0) -> pd.DataFrame:
    out = df.copy()
    out[x] = a * (df[x] + b)
    out[y] = s * (df[y] + c)
    return out


def solve(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """T with A T = B, by least squares on A's columns scaled to unit norm (x + 1e6 next to
    the intercept makes A's condition number about 1e13)."""
    norms = np.linalg.norm(A, axis=0)
    return np.linalg.lstsq(A / norms, B, rcond=None)[0] / norms[:, None]


def expected_loglik(old, new, s: float) -> float:
    if old.method == "ML":
        return old.logLik - old.n * np.log(abs(s))
    T = solve(new.design.X, old.design.X)
    return old.logLik - (old.n - len(old.x_names)) * np.log(abs(s)) + np.linalg.slogdet(T)[1]


def check_affine(old, new, s: float, c: float, tol: float = 1e-6) -> None:
    """new is old's model fitted to the transformed data: everything maps exactly."""
    assert old.converged and new.converged
    assert new.logLik == pytest.approx(expected_loglik(old, new, s), rel=1e-9, abs=1e-7)
    T = solve(new.design.X, old.design.X)
    e = np.array([name == "(Intercept)" for name in new.x_names], dtype=float)
    beta = s * T @ np.asarray(old.fixef) + s * c * e
    vcov = s**2 * T @ np.asarray(old.vcov) @ T.T
    se = np.sqrt(np.diag(vcov))
    assert np.all(np.abs(np.asarray(new.fixef) - beta) <= tol * (np.abs(beta) + se))
    assert np.asarray(new.se) == pytest.approx(se, rel=tol)
    assert new.sigma == pytest.approx(abs(s) * old.sigma, rel=tol)
    Tz = solve(new.design.Z, old.design.Z)
    G = s**2 * Tz @ np.asarray(old.G) @ Tz.T
    sd = np.sqrt(np.diag(G))
    assert np.all(np.abs(np.asarray(new.G) - G) <= 1e-5 * (np.outer(sd, sd) + 1e-12 * sd.max() ** 2))
    assert new.singular == old.singular


# ---- strategies -----------------------------------------------------------------------------

def _signed(lo, hi):
    return st.tuples(st.floats(np.log10(lo), np.log10(hi)), st.sampled_from([-1.0, 1.0])).map(
        lambda t: t[1] * 10 ** t[0])


SCALES = _signed(1e-4, 1e4)
SHIFTS = st.one_of(st.just(0.0), _signed(1e-2, 1e6))


@st.composite
def affine(draw):
    return {"a": draw(SCALES), "b": draw(SHIFTS), "s": draw(SCALES), "c": draw(SHIFTS)}


def _fits(df, fixed, random, method, tr, x="x", y="y"):
    old = fit(df, fixed, random, method)
    return old, fit(transform(df, x, y, **tr), fixed, random, method)


# ---- the notes' 40 schools ------------------------------------------------------------------

@pytest.fixture(scope="module")
def hs40_ml(hs_fits):
    return {name: refit(hs_fits[name], "ML") for name in ("ancova", "random_coef", "ints_slopes")}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["ancova", "random_coef", "ints_slopes"]), method=st.sampled_from(["REML", "ML"]),
       tr=affine())
def test_notes_sample_is_affine_exact(hs, hs_fits, hs40_ml, name, method, tr):
    old = hs_fits[name] if method == "REML" else hs40_ml[name]
    new = fit(transform(hs, "SES", "MathAch", **tr), *MODELS[name], method)
    check_affine(old, new, tr["s"], tr["c"])


# ---- simulated: unbalanced clusters, and a balanced growth design ----------------------------

def clusters(seed: int, J: int, q: int) -> pd.DataFrame:
    """Clusters of 4 to 15 rows, x ~ N(0, 1), w at cluster level, a real random part."""
    rng = np.random.default_rng(seed)
    n = rng.integers(4, 16, size=J)
    g = np.repeat(np.arange(J), n)
    x = rng.normal(size=g.size)
    w = rng.integers(0, 2, size=J)[g]
    L = np.linalg.cholesky([[1.0, 0.3], [0.3, 0.5]])[:q, :q]
    b = rng.normal(size=(J, q)) @ L.T
    y = 1 + 0.5 * x - 0.3 * w + b[g, 0] + (b[g, 1] * x if q == 2 else 0) + rng.normal(size=g.size)
    return pd.DataFrame({"g": g, "x": x, "w": w, "y": y})


def growth(seed: int, J: int = 27) -> pd.DataFrame:
    """A balanced growth study: ages 8, 10, 12, 14 for every child (as nlme's Orthodont)."""
    rng = np.random.default_rng(seed)
    age = np.tile([8.0, 10.0, 12.0, 14.0], J)
    k = np.repeat(np.arange(J), 4)
    b = rng.normal(size=(J, 2)) @ np.linalg.cholesky([[4.0, -0.24], [-0.24, 0.04]]).T
    y = 24 + 0.66 * (age - 11) + b[k, 0] + b[k, 1] * (age - 11) + rng.normal(scale=1.4, size=age.size)
    return pd.DataFrame({"Subject": [f"S{j:02d}" for j in k], "age": age, "distance": np.round(y, 1)})


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), J=st.integers(15, 40), model=st.sampled_from(["1", "x", "x*w"]),
       method=st.sampled_from(["REML", "ML"]), tr=affine())
def test_simulated_clusters_are_affine_exact(seed, J, model, method, tr):
    q = 1 if model == "1" else 2
    fixed = "y ~ x * w" if model == "x*w" else "y ~ x + w"
    random = "~ 1 | g" if q == 1 else "~ 1 + x | g"
    check_affine(*_fits(clusters(seed, J, q), fixed, random, method, tr), tr["s"], tr["c"])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), J=st.integers(12, 40), method=st.sampled_from(["REML", "ML"]), tr=affine())
def test_balanced_growth_design_is_affine_exact(seed, J, method, tr):
    old, new = _fits(growth(seed, J), "distance ~ age", "~ 1 + age | Subject", method, tr, "age", "distance")
    check_affine(old, new, tr["s"], tr["c"])


# ---- the issue's cases ----------------------------------------------------------------------

def test_growth_study_shifted_age_and_response_reach_the_same_optimum():
    """The issue: age + 2000 collapsed the slope variance (converged: false, logLik 0.6 low);
    y + 1e6 also failed.  Neither shift changes the REML likelihood (det T = 1)."""
    df = growth(0)
    old = fit(df, "distance ~ age", "~ 1 + age | Subject")
    assert not old.singular
    for tr in ({"b": 2000.0}, {"c": 1e6}, {"b": 2000.0, "c": 1e6}):
        new = fit(transform(df, "age", "distance", **tr), "distance ~ age", "~ 1 + age | Subject")
        assert new.converged and not new.singular
        assert new.logLik == pytest.approx(old.logLik, abs=1e-8)
        check_affine(old, new, 1.0, tr.get("c", 0.0))


@pytest.fixture(scope="module")
def hsb160():
    return load_hsb(None)


@pytest.mark.parametrize("name", ["random_coef", "ints_slopes"])
@pytest.mark.parametrize("tr", [{"c": 1e5}, {"a": 100.0, "b": 500.0}, {"s": 1e-4, "c": 5e6}],
                         ids=["y+1e5", "x*100+5e4", "y*1e-4+500"])
def test_all_160_schools_under_the_issue_transformations(hsb160, name, tr):
    old = fit(hsb160, *MODELS[name])
    new = fit(transform(hsb160, "SES", "MathAch", **tr), *MODELS[name])
    assert new.converged
    assert new.logLik == pytest.approx(expected_loglik(old, new, tr.get("s", 1.0)), abs=1e-7)
    check_affine(old, new, tr.get("s", 1.0), tr.get("c", 0.0))


# ---- at scale: the optimum itself ------------------------------------------------------------

def notes_design(J: int, seed: int) -> pd.DataFrame:
    """The notes' simulated design (gamma = (12, 2), G = [[16, 8], [8, 25]], sigma^2 = 20,
    n_j ~ Poisson(30), a school-level w with effects 1 and 0.5), as bench/engine.py."""
    rng = np.random.default_rng(seed)
    n = np.maximum(rng.poisson(30, size=J), 1)
    g = np.repeat(np.arange(J), n)
    b = rng.standard_normal((J, 2)) @ np.linalg.cholesky([[16.0, 8.0], [8.0, 25.0]]).T
    w = rng.integers(0, 2, size=J)[g]
    x = rng.standard_normal(g.size)
    y = 12 + 2 * x + w + 0.5 * x * w + b[g, 0] + b[g, 1] * x + rng.normal(scale=np.sqrt(20), size=g.size)
    return pd.DataFrame({"g": g, "y": y, "x": x, "w": w})


def test_ten_thousand_clusters_reach_lme4s_optimum():
    """lme4's REML logLik on the same data (tests/lmm/data/lme4_large.json, see README there)."""
    ref = json.loads((DATA / "lme4_large.json").read_text())["notes_design_10000"]
    res = fit(notes_design(10000, ref["seed"]), ref["fixed"], ref["random"])
    assert res.n == ref["n"] and res.converged
    assert res.logLik >= ref["lme4_logLik"] - 1e-4
    assert res.logLik <= ref["lme4_logLik"] + 1e-2
