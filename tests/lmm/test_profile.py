"""Profile intervals (hlm.lmm.profile): the deviance's gradient on the sd scale, and each
bound where an independent minimization over the other parameters puts ζ at ±z (the
bounds against lme4 are in test_lab_r.py)."""
import numpy as np
import pytest
from scipy import optimize, stats

from hlm import lmm
from hlm.data import merge
from hlm.levels import derive
from hlm.lmm.objective import cross_products
from hlm.lmm.profile import _Deviance, _sd_scale, profile_intervals

Z = stats.norm.ppf(0.975)


def ml_deviance(fit):
    ml = lmm.refit(fit, "ML")
    d = ml.design
    return ml, _Deviance(cross_products(d.X, d.Z, d.y, d.starts))


def zeta_at(dev, hat, k, value):
    """|ζ| with parameter k at `value`: Nelder-Mead over the others from three starts (the
    correlations at -0.9, 0 and 0.9), the best taken; no gradient, no warm start."""
    q = dev.q
    others = [i for i in range(len(hat)) if i != k]
    limits = [(0.0, None)] * q + [(-1.0, 1.0)] * dev.n_cor + [(1e-8, None)]

    def f(x):
        psi = hat.copy()
        psi[others], psi[k] = x, value
        return dev(psi)
    best = np.inf
    for c in (-0.9, 0.0, 0.9):
        x0 = hat[others].copy()
        x0[[i for i, o in enumerate(others) if q <= o < q + dev.n_cor]] = c
        res = optimize.minimize(f, x0, method="Nelder-Mead", bounds=[limits[i] for i in others],
                                options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 20000, "maxfev": 20000})
        best = min(best, res.fun)
    return np.sqrt(max(best - dev(hat), 0.0))


@pytest.fixture(scope="module")
def random_coef(tables40):
    return lmm.fit(tables40[0], "MathAch ~ SES", "~ 1 + SES | School")


def test_gradient_on_the_sd_scale(random_coef):
    ml, dev = ml_deviance(random_coef)
    psi = _sd_scale(ml.G, ml.sigma) * np.array([1.2, 0.7, 0.5, 0.95])
    value, grad = dev.value_and_grad(psi)
    h = 1e-5
    numeric = [(dev(psi + h * e) - dev(psi - h * e)) / (2 * h) for e in np.eye(len(psi))]
    assert value == pytest.approx(dev(psi), rel=1e-14)
    assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def check_bounds(fit, intervals):
    ml, dev = ml_deviance(fit)
    hat = _sd_scale(ml.G, ml.sigma)
    for k, (name, iv) in enumerate(intervals.items()):
        assert iv["est"] == pytest.approx(hat[k], rel=1e-12), name
        for side in ("lower", "upper"):
            if iv[side] in (0.0, -1.0, 1.0):   # the profile never reaches z: the limit
                assert zeta_at(dev, hat, k, iv[side]) < Z + 1e-6, (name, side)
            else:
                assert zeta_at(dev, hat, k, iv[side]) == pytest.approx(Z, abs=1e-6), (name, side)


def test_bounds_are_where_zeta_is_z(random_coef):
    check_bounds(random_coef, profile_intervals(random_coef))


@pytest.mark.slow
def test_bounds_of_a_profile_through_a_boundary(hsb160):
    """hsb160's ints_slopes: the estimated correlation is 1 (a singular G) and along its profile
    the minimum over the others moves off that boundary; an inner Nelder-Mead used to stop
    short there and put the lower bound where ζ was well above z."""
    s = derive(merge(hsb160).frame, hsb160)[0]
    fit = lmm.fit(s, "MathAch ~ SES * Sector", "~ 1 + SES | School", reference={"Sector": "Catholic"})
    check_bounds(fit, profile_intervals(fit))
