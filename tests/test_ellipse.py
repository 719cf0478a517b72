"""hlm.ellipse: each ellipse's shadows are the intervals it claims."""
import numpy as np
import pytest
from scipy import stats

from hlm import ellipse as ell

V = np.array([[4.0, 1.8], [1.8, 2.5]])
C = np.array([12.0, 2.0])


def _extent(e, n=20001):
    p = e.points(n)
    return np.array([[p[:, 0].min(), p[:, 0].max()], [p[:, 1].min(), p[:, 1].max()]])


@pytest.mark.parametrize("kind", ["dispersion", "coverage", "shadow"])
def test_drawn_points_project_onto_the_exact_shadow(kind):
    e = ell.ellipse(C, V, ell.radius(kind), kind)
    np.testing.assert_allclose(_extent(e), e.shadow(), atol=1e-6)


def test_dispersion_ellipse_of_G_projects_to_mean_plus_minus_one_sd():
    G = np.array([[16.0, 8.0], [8.0, 25.0]])
    e = ell.dispersion_ellipse((12, 2), G)
    np.testing.assert_allclose(_extent(e), [[8.0, 16.0], [-3.0, 7.0]], atol=1e-6)


def test_shadow_ellipse_projects_to_the_95_percent_z_and_t_intervals():
    se = np.sqrt(np.diag(V))
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(_extent(ell.shadow_ellipse(C, V)), np.c_[C - z * se, C + z * se], atol=1e-6)
    t = stats.t.ppf(0.975, 38)
    np.testing.assert_allclose(_extent(ell.shadow_ellipse(C, V, df=38)), np.c_[C - t * se, C + t * se], atol=1e-6)
    assert ell.shadow_radius(0.95) == pytest.approx(np.sqrt(stats.chi2.ppf(0.95, 1)))


def test_shadow_on_any_direction_is_the_interval_of_that_linear_combination():
    e = ell.shadow_ellipse(C, V)
    p = e.points(20001)
    for a in ([1, -1], [0.3, 2.0], [1, 1]):
        a = np.asarray(a, float)
        proj = p @ a
        half = stats.norm.ppf(0.975) * np.sqrt(a @ V @ a)
        assert proj.min() == pytest.approx(a @ C - half, abs=1e-5)
        assert proj.max() == pytest.approx(a @ C + half, abs=1e-5)


def test_coverage_radius_is_chi2_with_two_df_and_covers_95_percent():
    assert ell.coverage_radius(0.95) == pytest.approx(np.sqrt(stats.chi2.ppf(0.95, 2)))
    assert ell.coverage_radius(0.95, df=20) == pytest.approx(np.sqrt(2 * stats.f.ppf(0.95, 2, 20)))
    assert ell.coverage_radius(0.95) > ell.shadow_radius(0.95)
    e = ell.confidence_ellipse(C, V)
    draws = np.random.default_rng(1).multivariate_normal(C, V, size=20000)
    inside = np.mean([e.contains(d) for d in draws[:4000]])
    assert inside == pytest.approx(0.95, abs=0.012)


def test_ellipse_is_centred_on_its_centre():
    e = ell.confidence_ellipse(C, V)
    p = e.points(4001)[:-1]
    np.testing.assert_allclose(p.mean(axis=0), C, atol=1e-9)


def test_data_ellipse_uses_sample_mean_and_covariance():
    xy = np.random.default_rng(2).normal(size=(50, 2))
    e = ell.data_ellipse(xy)
    np.testing.assert_allclose(e.center, xy.mean(axis=0))
    np.testing.assert_allclose(e.cov, np.cov(xy, rowvar=False))


def test_singular_variance_gives_a_segment():
    e = ell.dispersion_ellipse((0, 0), [[1.0, 1.0], [1.0, 1.0]])
    p = e.points()
    np.testing.assert_allclose(p[:, 0], p[:, 1], atol=1e-12)
    np.testing.assert_allclose(e.shadow(), [[-1, 1], [-1, 1]])


@pytest.mark.parametrize("bad", [np.eye(3), [[1, 0.5], [0.2, 1]], [[1, 2], [2, 1]]])
def test_bad_variance_matrices_are_rejected(bad):
    with pytest.raises(ValueError):
        ell.dispersion_ellipse((0, 0), bad)


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown ellipse kind"):
        ell.radius("wide")
