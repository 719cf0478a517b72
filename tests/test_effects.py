"""hlm.effects: prediction rows by coefficient name, estimates with t limits, and the effect
of w along x with pointwise and Scheffé bands (values checked by hand and against scipy)."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hlm.effects import effect_bands, excluding_zero, predictions, scheffe, term_row


def test_effect_bands():
    fixef = {"(Intercept)": 10.0, "SES": 2.0, "SectorPublic": -1.5, "SES:SectorPublic": 0.8}
    V = np.diag([0.2, 0.05, 0.4, 0.1])
    V[2, 3] = V[3, 2] = -0.05
    xs = np.linspace(-2, 2, 41)
    b = effect_bands(fixef, V, ("SectorPublic", "SES:SectorPublic"), xs, df=38)
    assert np.allclose(b["est"], -1.5 + 0.8 * xs)
    at0 = b[b["x"] == 0].iloc[0]
    assert at0["est"] == pytest.approx(-1.5) and at0["se"] == pytest.approx(np.sqrt(0.4))
    assert at0["upper"] - at0["est"] == pytest.approx(stats.t.ppf(0.975, 38) * np.sqrt(0.4))
    assert np.allclose(b["se"] ** 2, 0.4 + 2 * xs * -0.05 + xs ** 2 * 0.1)
    assert (b["lower_sim"] < b["lower"]).all() and (b["upper"] < b["upper_sim"]).all()  # pointwise narrower
    assert np.allclose((b["upper_sim"] - b["est"]) / b["se"], np.sqrt(2 * stats.f.ppf(0.95, 2, 38)))


def test_scheffe_multiplier():
    assert scheffe(38) == pytest.approx(np.sqrt(2 * stats.f.ppf(0.95, 2, 38)))
    assert scheffe(38, k=1) == pytest.approx(stats.t.ppf(0.975, 38))
    assert scheffe(None) == pytest.approx(np.sqrt(stats.chi2.ppf(0.95, 2)))  # unknown df: large sample
    assert scheffe(10) > scheffe(1000) > scheffe(None)


def test_term_row_finds_coefficients_by_name_in_any_order():
    names = ["(Intercept)", "SES", "SectorPublic", "MinorityYes", "cvar_SES", "MinorityYes:SectorPublic"]
    row = term_row(names, {"SES": 2.0, "SectorPublic": 1.0, "MinorityYes": 1.0, "cvar_SES": 0.5})
    assert row.tolist() == [1, 2, 1, 1, 0.5, 1]
    assert term_row(names, {"SES": 2.0}).tolist() == [1, 2, 0, 0, 0, 0]
    fit = {"fixef": dict(zip(names, [10, 2, -1, -2, 1, -1.5])), "vcov": np.eye(6).tolist(),
           "df": dict(zip(names, [100, 100, 38, 100, 38, 100]))}
    gap = predictions(fit, term_row(names, {"SectorPublic": 1, "MinorityYes": 1}) - term_row(names, {"SectorPublic": 1}))
    assert gap["est"].iloc[0] == pytest.approx(-3.5) and gap["se"].iloc[0] == pytest.approx(np.sqrt(2))
    assert gap["upper"].iloc[0] - gap["est"].iloc[0] == pytest.approx(stats.t.ppf(0.975, 100) * np.sqrt(2))


def test_excluding_zero_finds_each_stretch():
    xs = np.linspace(-3, 3, 7)
    bands = pd.DataFrame({"x": xs, "lower": [1, 0.5, -1, -1, -1, -2, -3], "upper": [2, 1, 1, 1, 1, -0.5, -1],
                          "lower_sim": [-1] * 7, "upper_sim": [1] * 7})
    assert excluding_zero(bands) == [(-3.0, -2.0), (2.0, 3.0)]
    assert excluding_zero(bands, simultaneous=True) == []
