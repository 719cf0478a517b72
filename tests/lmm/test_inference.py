"""Wald / glh tests, likelihood-ratio tests with ML refits, Satterthwaite DF."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hlm.errors import ModelError
from hlm.lmm import fit, lrt, refit, wald

from lmm_helpers import MODELS


def test_glh_of_the_intercept_as_in_the_notes(hs_fits, notes):
    """The notes' one-way glh prints F = 715.589 for (Intercept) = 0."""
    w = wald(hs_fits["oneway"], {"(Intercept)": {"(Intercept)": 1.0}})
    assert round(w["F"], 3) == notes["oneway_random_effects"]["glh_F"]
    assert (w["numDF"], w["denDF"]) == (1, 1937)
    row = w["rows"]["(Intercept)"]
    assert row["estimate"] == pytest.approx(12.60468, abs=5e-6)
    assert row["se"] == pytest.approx(0.4711941, abs=5e-8)
    assert (row["lower"], row["upper"]) == pytest.approx((11.68057, 13.52878), abs=5e-6)


def test_wald_rows_and_joint_test(hs_fits):
    res = hs_fits["ints_slopes"]
    L = {"sector int": {"SectorPublic": 1.0}, "sector slope": {"SES:SectorPublic": 1.0}}
    w = res.wald(L)
    V = np.asarray(res.vcov)[2:, 2:]
    b = np.asarray(res.fixef)[2:]
    assert w["F"] == pytest.approx(b @ np.linalg.solve(V, b) / 2, rel=1e-12)
    assert (w["numDF"], w["denDF"]) == (2, 38)
    assert w["p"] == pytest.approx(stats.f.sf(w["F"], 2, 38))
    assert w["rows"]["sector int"]["t"] == pytest.approx(res.t[2])
    assert w["rows"]["sector slope"]["df"] == 1935
    # matrix form, a right-hand side, and a row that combines coefficients
    M = np.array([[0, 1, 0, 1.0]])
    w2 = wald(res, M, rhs=[1.0])
    est = res.fixef[1] + res.fixef[3]
    se = np.sqrt(M @ np.asarray(res.vcov) @ M.T)[0, 0]
    assert w2["rows"]["L1"]["estimate"] == pytest.approx(est)
    assert w2["rows"]["L1"]["t"] == pytest.approx((est - 1) / se)
    assert w2["F"] == pytest.approx(((est - 1) / se) ** 2)
    with pytest.raises(ModelError, match="not a coefficient"):
        wald(res, {"bad": {"Nope": 1}})


def test_ml_refits_match_lme4(hs_fits, rref):
    for name in MODELS:
        ml = refit(hs_fits[name], "ML")
        assert ml.method == "ML"
        assert ml.logLik >= rref[name]["lme4"]["ML_logLik"] - 1e-6
        assert ml.logLik == pytest.approx(rref[name]["lme4"]["ML_logLik"], abs=1e-4)
        assert ml.BIC == pytest.approx(-2 * ml.logLik + ml.npar * np.log(ml.n))


def test_lrt_same_fixed_part_uses_reml(hs_fits):
    out = lrt(hs_fits["nonrandom_slopes"], hs_fits["ints_slopes"])
    assert out["method"] == "REML" and not out["refitted_ML"]
    assert out["df"] == 2
    assert out["chisq"] == pytest.approx(2 * (-6419.69471301439 + 6419.97608096645), abs=1e-6)
    assert out["p"] == pytest.approx(stats.chi2.sf(out["chisq"], 2))


def test_lrt_different_fixed_parts_refits_ml(hs_fits, rref):
    out = lrt(hs_fits["means_outcomes"], hs_fits["oneway"])
    assert out["refitted_ML"] and out["method"] == "ML"
    ll0, ll1 = rref["oneway"]["lme4"]["ML_logLik"], rref["means_outcomes"]["lme4"]["ML_logLik"]
    assert out["chisq"] == pytest.approx(2 * (ll1 - ll0), abs=1e-5)
    assert out["df"] == 1


def test_lrt_rejects_non_nested(hs_fits):
    with pytest.raises(ModelError, match="not nested"):
        lrt(hs_fits["means_outcomes"], hs_fits["ancova"])


def test_satterthwaite_balanced_one_way_is_j_minus_1():
    """Balanced one-way random effects: the Satterthwaite DF of the mean is exactly J - 1."""
    rng = np.random.default_rng(4)
    J, m = 12, 7
    g = np.repeat(np.arange(J), m)
    df = pd.DataFrame({"g": g, "y": np.repeat(rng.normal(scale=2, size=J), m) + rng.normal(size=J * m)})
    res = fit(df, "y ~ 1", "~ 1 | g", df_method="satterthwaite")
    assert res.df_method == "satterthwaite"
    assert res.df[0] == pytest.approx(J - 1, rel=1e-4)
    assert res.p[0] == pytest.approx(2 * stats.t.sf(abs(res.t[0]), res.df[0]))
    assert res.to_dict()["df_method"] == "satterthwaite"


def test_satterthwaite_between_and_within_terms(hs):
    res = fit(hs, *MODELS["ints_slopes"], df_method="satterthwaite")
    df = dict(zip(res.x_names, res.df))
    assert 30 < df["SectorPublic"] < 45          # a cluster-level term: near J - 2
    assert df["SES"] < 1935                      # random slope: far fewer than the within DF


@pytest.mark.parametrize("name", ["oneway", "means_outcomes", "random_coef", "ints_slopes", "ctx_w"])
def test_satterthwaite_matches_lmertest(hs, name):
    """lmerTest 3.1-3 on the notes' sample (tests/lmm/data/lmertest_satterthwaite.json)."""
    import json
    from pathlib import Path
    ref = json.loads((Path(__file__).parent / "data" / "lmertest_satterthwaite.json").read_text())
    res = fit(hs, *MODELS[name], df_method="satterthwaite")
    for k, v in ref[name]["df"].items():
        assert dict(zip(res.x_names, res.df))[k] == pytest.approx(v, rel=1e-4)
