"""hlm.lmm.bootstrap: the parametric bootstrap of a variance component's LRT."""
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from hlm import lmm
from hlm.errors import ModelError
from hlm.lmm import bootstrap as bs

R_BOOT = Path(__file__).parents[1] / "reference" / "lab" / "lab_boot.json"


@pytest.fixture(scope="module")
def pair(tables40):
    s = tables40[0]
    return lmm.fit(s, "MathAch ~ SES", "~ 1 | School"), lmm.fit(s, "MathAch ~ SES", "~ 1 + SES | School")


def test_replicates_depend_only_on_seed_and_index(pair):
    null, alt = pair
    whole = bs.replicates(null, alt, seed=11, first=0, count=6)
    assert whole[2:5] == bs.replicates(null, alt, seed=11, first=2, count=3)  # any split, same numbers
    assert whole != bs.replicates(null, alt, seed=12, first=0, count=6)
    assert all(v >= 0 for v in whole)


def test_simulated_data_have_the_null_models_variances(pair):
    null, _ = pair
    rng = np.random.default_rng(3)
    d = null.design
    means = np.array([np.bincount(d.codes, weights=bs.simulate(null, rng)) / d.counts for _ in range(400)])
    expected = null.G[0, 0] + null.sigma ** 2 / d.counts  # Var of a cluster mean under the model
    assert np.mean(means.var(axis=0) / expected) == pytest.approx(1.0, abs=0.08)


def test_simulation_from_a_singular_g(pair):
    # a variance estimated at 0 (G singular) gives no Cholesky factor: the draw still works,
    # and the clusters' effects along the null direction are 0
    import dataclasses
    null, _ = pair
    flat = dataclasses.replace(null, G=np.zeros((1, 1)))
    y = bs.simulate(flat, np.random.default_rng(1))
    resid = y - null.design.X @ null.fixef
    means = np.bincount(null.design.codes, weights=resid) / null.design.counts
    assert np.isfinite(y).all() and abs(np.mean(means)) < 4 * null.sigma / np.sqrt(len(y))


def test_summary_p_values():
    out = bs.summary(2.0, [0.5, 2.5, 3.0, float("nan"), 1.0], df=2)
    assert out["replicates"] == 4 and out["failed"] == 1
    assert out["p"] == pytest.approx((1 + 2) / 5)
    assert out["p_mixture"] == pytest.approx(0.5 * stats.chi2.sf(2.0, 2) + 0.5 * stats.chi2.sf(2.0, 1))
    assert out["p_chisq"] == pytest.approx(stats.chi2.sf(2.0, 2))


def test_the_pair_must_be_nested_on_the_same_data(pair, tables40):
    null, alt = pair
    with pytest.raises(ModelError, match="more parameters"):
        bs.replicates(alt, null, 1, 0, 1)
    other = lmm.fit(tables40[0].iloc[:800], "MathAch ~ SES", "~ 1 + SES | School")
    with pytest.raises(ModelError, match="same data"):
        bs.replicates(null, other, 1, 0, 1)


@pytest.mark.slow
def test_p_value_within_monte_carlo_error_of_a_long_r_run(pair):
    """400 replicates here (a Monte Carlo error of about 0.02 on p) against 4,000 of lme4's
    simulate() and refit() (lab_boot.R): the p-values agree within three joint standard errors."""
    ref = json.loads(R_BOOT.read_text())
    null, alt = pair
    observed = bs.statistic(null, alt)
    assert observed == pytest.approx(ref["observed"], rel=1e-6)
    ours = bs.summary(observed, bs.replicates(null, alt, seed=20261202, first=0, count=400), df=2)
    assert ours["failed"] == 0
    assert abs(ours["p"] - ref["p"]) < 3 * np.hypot(ours["mc_se"], ref["mc_se"])
