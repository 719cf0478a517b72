"""hlm.simulate: seeded, reproducible, and faithful to its parameters."""
import numpy as np
import pandas as pd
import pytest

from hlm.simulate import (NOTES_G, NOTES_GAMMA, NOTES_SIGMA2, simulate_school, simulate_two_level)


def test_school_is_reproducible_and_consistent():
    a, b = simulate_school(seed=5), simulate_school(seed=5)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.y, simulate_school(seed=6).y)
    np.testing.assert_allclose(a.beta, a.gamma + a.u)
    np.testing.assert_allclose(a.y, a.beta[0] + a.beta[1] * a.x + a.eps)
    np.testing.assert_allclose(a.beta_hat, np.polyfit(a.x, a.y, 1)[::-1])
    np.testing.assert_allclose(a.sampling_cov, NOTES_SIGMA2 * np.linalg.inv(a.X.T @ a.X))
    np.testing.assert_allclose(a.V, np.asarray(NOTES_G) + a.sampling_cov)
    assert a.n >= 3


def test_notes_example_school_is_plausible_but_not_central():
    s = simulate_school()
    d2 = s.u @ np.linalg.solve(np.asarray(NOTES_G), s.u)
    assert 1.0 < np.sqrt(d2) < 2.5       # outside the dispersion ellipse of G, not extreme
    assert 10 <= s.n <= 50


def test_two_level_is_reproducible():
    a = simulate_two_level(20, seed=3)
    pd.testing.assert_frame_equal(a, simulate_two_level(20, seed=3))
    assert not a["y"].equals(simulate_two_level(20, seed=4)["y"])
    assert list(a.columns) == ["cluster", "w", "x", "y", "beta0", "beta1"]
    assert a.groupby("cluster")["w"].nunique().max() == 1
    assert a.groupby("cluster")["w"].first().sum() == 10


def test_two_level_moments_match_the_parameters():
    J = 3000
    d = simulate_two_level(J, NOTES_GAMMA, NOTES_G, NOTES_SIGMA2, mean_n=30, seed=11)
    lines = d.groupby("cluster")[["beta0", "beta1"]].first().to_numpy()
    G = np.asarray(NOTES_G)
    se = np.sqrt(np.diag(G) / J)
    assert np.all(np.abs(lines.mean(axis=0) - NOTES_GAMMA) < 4 * se)
    np.testing.assert_allclose(np.cov(lines, rowvar=False), G, rtol=0.1, atol=1.0)
    eps = d["y"] - d["beta0"] - d["beta1"] * d["x"]
    assert eps.var() == pytest.approx(NOTES_SIGMA2, rel=0.03)
    assert d["x"].mean() == pytest.approx(0, abs=0.02)
    assert d["x"].std() == pytest.approx(1, rel=0.02)
    assert d.groupby("cluster").size().mean() == pytest.approx(30, rel=0.02)


def test_w_effect_shifts_the_mean_line_of_w_clusters():
    d = simulate_two_level(2000, w_effect=(-3.0, 1.5), seed=2)
    per = d.groupby("cluster")[["w", "beta0", "beta1"]].first()
    diff = per[per.w == 1][["beta0", "beta1"]].mean() - per[per.w == 0][["beta0", "beta1"]].mean()
    assert diff["beta0"] == pytest.approx(-3.0, abs=0.5)
    assert diff["beta1"] == pytest.approx(1.5, abs=0.6)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError):
        simulate_two_level(0)
    with pytest.raises(ValueError):
        simulate_two_level(5, G=[[1, 2], [2, 1]])
    with pytest.raises(ValueError):
        simulate_two_level(5, sigma2=0)
