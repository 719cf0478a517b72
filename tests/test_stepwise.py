"""hlm.stepwise: forward building of the random part by LRTs, on simulated data whose slope
variance is large (the slope is accepted) or zero (rejected)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hlm.simulate import simulate_two_level
from hlm.stepwise import forward, random_part


def _data(G, seed):
    data = simulate_two_level(60, G=G, sigma2=4.0, mean_n=20, seed=seed)
    data["x2"] = np.random.default_rng([seed, 1]).normal(size=len(data))  # no effect at all
    return data


@pytest.fixture(scope="module")
def slopes():
    """Random slopes of x with variance 9; no random slope of x2."""
    return forward(_data(((4.0, 0.0), (0.0, 9.0)), 1), "y ~ x + x2", ["x2", "x"], "cluster")


def test_a_large_slope_variance_is_accepted_then_the_null_one_rejected(slopes):
    first, second = slopes["steps"]
    assert first["added"] == "x" and set(first["tried"]) == {"x", "x2"}
    assert first["tried"]["x"] > first["tried"]["x2"] and first["logLik"] == first["tried"]["x"]
    assert first["accepted"] and first["p_mixture"] < 1e-10
    assert second["added"] == "x2" and not second["accepted"] and second["p_mixture"] >= 0.05
    assert second["random"] == "~ 1 + x + x2 | cluster"
    assert slopes["final"] == "~ 1 + x | cluster"
    assert slopes["start"]["random"] == "~ 1 | cluster"


def test_the_lrt_and_its_mixture(slopes):
    """A slope added to q random effects adds its variance and q covariances: df = q + 1;
    p of the 50:50 mixture of chi2(df - 1) and chi2(df)."""
    start, (first, second) = slopes["start"], slopes["steps"]
    assert first["df"] == 2 and second["df"] == 3
    assert first["LRT"] == pytest.approx(2 * (first["logLik"] - start["logLik"]))
    T = second["LRT"]
    assert T == pytest.approx(max(0.0, 2 * (second["logLik"] - first["logLik"])), abs=1e-9)
    assert second["p_chisq"] == pytest.approx(stats.chi2.sf(T, 3))
    assert second["p_mixture"] == pytest.approx(0.5 * stats.chi2.sf(T, 3) + 0.5 * stats.chi2.sf(T, 2))


def test_a_zero_slope_variance_is_rejected():
    rec = forward(_data(((4.0, 0.0), (0.0, 0.0)), 2), "y ~ x", ["x"], "cluster")
    (step,) = rec["steps"]
    assert not step["accepted"] and step["p_mixture"] >= 0.05
    assert rec["final"] == "~ 1 | cluster"


def test_a_failed_refit_ends_the_procedure_with_its_error():
    data = _data(((4.0, 0.0), (0.0, 9.0)), 3)
    rec = forward(data, "y ~ x", ["x", "nonexistent"], "cluster")
    (step,) = rec["steps"]
    assert step["random"] == "~ 1 + nonexistent | cluster" and "nonexistent" in step["error"]
    assert rec["final"] == "~ 1 | cluster"


def test_random_part_quotes_odd_names():
    assert random_part(["x", "my x"], "the cluster") == "~ 1 + x + `my x` | `the cluster`"
