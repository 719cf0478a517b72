"""hlm.residuals: BLUPs standardized by their own SD under the model, sqrt(G - C_j)."""
import numpy as np
import pytest

from hlm.residuals import standardized_blups


def test_standardized_blups_divide_by_the_sd_of_the_blup():
    fit = {"re_names": ["(Intercept)", "SES"], "G": [[5.0, 0.2], [0.2, 0.1]],
           "ranef": {"a": {"(Intercept)": 2.0, "SES": 0.3}, "b": {"(Intercept)": -1.0, "SES": 0.0}},
           "ranef_cov": {"a": [[1.0, 0.1], [0.1, 0.01]], "b": [[4.75, 0.0], [0.0, 0.1]]}}
    z = standardized_blups(fit)
    assert list(z.columns) == ["(Intercept)", "SES"] and list(z.index) == ["a", "b"]
    assert z.loc["a"].tolist() == pytest.approx([2.0 / np.sqrt(4.0), 0.3 / np.sqrt(0.09)])
    assert z.loc["b", "(Intercept)"] == pytest.approx(-1.0 / np.sqrt(0.25))
    assert np.isnan(z.loc["b", "SES"])  # nothing left of G after conditioning: no scale


def test_standardized_blups_are_standard_normal_when_the_model_holds():
    """Random intercepts with known variances: the BLUP of cluster j is G n_j / (n_j G + s2)
    times the cluster mean's deviation, its variance G - C_j with C_j = G s2 / (n_j G + s2)."""
    rng = np.random.default_rng(3)
    G, s2, n = 2.0, 4.0, rng.integers(2, 30, 4000)
    u = rng.normal(0, np.sqrt(G), n.size)
    ybar = u + rng.normal(0, np.sqrt(s2 / n))
    shrink = n * G / (n * G + s2)
    C = G * s2 / (n * G + s2)
    fit = {"re_names": ["(Intercept)"], "G": [[G]],
           "ranef": {str(j): {"(Intercept)": shrink[j] * ybar[j]} for j in range(n.size)},
           "ranef_cov": {str(j): [[C[j]]] for j in range(n.size)}}
    z = standardized_blups(fit)["(Intercept)"]
    assert z.mean() == pytest.approx(0, abs=0.05) and z.std() == pytest.approx(1, abs=0.04)
