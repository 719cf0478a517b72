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


# --- the book's example follows the dataset (hlm.simulate.book_example) ---------------------

class _Role:
    def __init__(self, column, label, reference=None):
        self.column, self.label, self.reference = column, label, reference


class _Profile:
    """The few profile attributes book_example reads."""
    cluster, x, y, w = "child", "age", "distance", "Sex"
    roles = {"w": _Role("Sex", "sex", "Female")}


def _growth(n_children=27, ages=(8, 10, 12, 14), seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(n_children):
        b0, b1 = 17 + rng.normal(0, 2), 0.6 + rng.normal(0, 0.2)
        for a in ages:
            rows.append({"child": f"C{j:02d}", "age": float(a), "distance": b0 + b1 * a + rng.normal(0, 1.2),
                         "Sex": "Female" if j % 2 else "Male"})
    return pd.DataFrame(rows)


def test_book_example_takes_the_design_of_the_data():
    from hlm.simulate import book_example
    d = _growth()
    e = book_example(d, _Profile())
    assert e.source == "data" and not e.reason
    assert e.clusters == 27 and e.sizes == (4, 4) and e.lines == 27
    assert e.cluster.n == 4                                  # not ~30 units at standard-normal x
    np.testing.assert_array_equal(np.sort(e.cluster.x), [8, 10, 12, 14])
    assert e.x_range[0] < 8 and e.x_range[1] > 14
    assert e.template in set(d["child"])
    assert np.all(np.linalg.eigvalsh(e.cluster.G) > 0)      # an ellipse to draw, a G to invert
    # parameters on the data's scale: the mean line is near the average line of the children
    assert 12 < e.cluster.gamma[0] < 22 and 0 < e.cluster.gamma[1] < 1.2
    assert e.cluster.sigma2 == pytest.approx(1.44, rel=0.35)
    assert "cluster" in e.design and "Poisson" not in e.design
    # seeded: the same data give the same example
    np.testing.assert_array_equal(book_example(d, _Profile()).cluster.y, e.cluster.y)


def test_book_example_falls_back_on_the_notes_when_no_cluster_has_a_line():
    from hlm.simulate import book_example
    d = _growth()
    d["age"] = d["child"].str[1:].astype(float)             # x constant within every child
    e = book_example(d, _Profile())
    assert e.source == "notes" and "no cluster" in e.reason
    np.testing.assert_allclose(e.cluster.gamma, NOTES_GAMMA)


def test_moments_recover_the_population_of_lines():
    from hlm.simulate import lines_moments
    d = simulate_two_level(1500, NOTES_GAMMA, NOTES_G, NOTES_SIGMA2, mean_n=30, seed=4)
    gamma, G, sigma2, ids, floored = lines_moments(d, "cluster", "x", "y")
    assert len(ids) == 1500 and not floored
    np.testing.assert_allclose(gamma, NOTES_GAMMA, atol=0.5)
    np.testing.assert_allclose(G, NOTES_G, rtol=0.15, atol=1.5)
    assert sigma2 == pytest.approx(NOTES_SIGMA2, rel=0.05)


def test_a_small_but_positive_slope_variance_is_kept_as_estimated():
    # slopes that vary little, but more than sampling error: G is positive definite and kept
    # as estimated (no floor); slopes that do not vary at all: G is floored in that direction
    from hlm.simulate import lines_moments
    d = simulate_two_level(400, NOTES_GAMMA, [[4.0, 0.0], [0.0, 0.05]], 1.0, mean_n=30, seed=5)
    gamma, G, sigma2, ids, floored = lines_moments(d, "cluster", "x", "y")
    assert not floored and G[1, 1] == pytest.approx(0.05, rel=0.5)
    d = simulate_two_level(400, NOTES_GAMMA, [[4.0, 0.0], [0.0, 0.0]], 1.0, mean_n=30, seed=5)
    gamma, G, sigma2, ids, floored = lines_moments(d, "cluster", "x", "y")
    assert floored and np.all(np.linalg.eigvalsh(G) > 0)


def test_the_notes_sample_is_recognised_only_with_the_notes_roles():
    from hlm.simulate import notes_sample
    assert not notes_sample(_growth(), _Profile())
