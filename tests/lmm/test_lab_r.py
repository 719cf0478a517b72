"""Multilevel R² (hlm.lmm.r2), influence by cluster deletion (hlm.lmm.influence) and
profile intervals (hlm.lmm.profile)
against R: tests/reference/lab/lab_r.json (lme4 fits and a loop of lme4 refits)."""
import json
from pathlib import Path

import pytest

from hlm import lmm
from hlm.lmm.influence import cluster_deletion
from hlm.lmm.r2 import nakagawa, snijders_bosker

R = json.loads((Path(__file__).parents[1] / "reference" / "lab" / "lab_r.json").read_text())
MODELS = {"ancova": ("MathAch ~ SES", "~ 1 | School"),
          "random_coef": ("MathAch ~ SES", "~ 1 + SES | School"),
          "ints_slopes": ("MathAch ~ SES * Sector", "~ 1 + SES | School")}


@pytest.fixture(scope="module")
def fits(tables40):
    s = tables40[0]
    out = {name: lmm.fit(s, f, r, reference={"Sector": "Catholic"}) for name, (f, r) in MODELS.items()}
    out["empty"] = lmm.fit(s, "MathAch ~ 1", "~ 1 | School")
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_r2_matches_the_formulas_in_r(fits, name):
    ref = R["r2"][name]
    ns, sb = nakagawa(fits[name]), snijders_bosker(fits[name], fits["empty"])
    for key in ("var_fixed", "var_random", "var_residual", "marginal", "conditional"):
        assert ns[key] == pytest.approx(ref[key], rel=2e-5), key
    for key in ("level1", "level2", "cluster_size"):
        assert sb[key] == pytest.approx(ref[key], rel=2e-5), key
    assert 0 < ns["marginal"] < ns["conditional"] < 1


def test_snijders_bosker_needs_the_same_data(fits, tables40):
    other = lmm.fit(tables40[0].iloc[:500], "MathAch ~ 1", "~ 1 | School")
    with pytest.raises(ValueError, match="same data"):
        snijders_bosker(fits["ancova"], other)


def test_cooks_distance_and_dfbetas_match_lme4_refits(fits):
    ref = R["influence_ints_slopes"]
    ours = {r["cluster"]: r for r in cluster_deletion(fits["ints_slopes"])}
    assert set(ours) == set(ref) and len(ours) == 40
    for school, r in ref.items():
        assert ours[school]["cook"] == pytest.approx(r["cook"], rel=1e-3, abs=1e-7), school
        for term, v in r["dfbetas"].items():
            assert ours[school]["dfbetas"][term] == pytest.approx(v, rel=1e-3, abs=1e-6), (school, term)
    top = max(ours.values(), key=lambda r: r["cook"])
    assert top["cluster"] == max(ref, key=lambda s: ref[s]["cook"])


def test_deletion_of_selected_clusters_only(fits):
    some = cluster_deletion(fits["ints_slopes"], clusters=[0, 5])
    assert [r["cluster"] for r in some] == [fits["ints_slopes"].group_ids[0], fits["ints_slopes"].group_ids[5]]


@pytest.mark.parametrize("name", ["random_coef", "ints_slopes"])
def test_profile_intervals_match_lme4_to_three_significant_digits(fits, name):
    """lme4's confint(method = "profile"): spline-interpolated, so agreement is to about
    4 digits; the issue asks 3. Bounds the profile never reaches are the limits 0 and ±1."""
    from hlm.lmm.profile import profile_intervals

    ref = R["profile"][name]
    ours = profile_intervals(fits[name])
    pairs = {"sd((Intercept))": ref["sd_intercept"], "sd(SES)": ref["sd_SES"],
             "cor((Intercept),SES)": ref["cor"], "sigma": ref["sigma"]}
    assert set(ours) == set(pairs)
    for key, (lo, hi) in pairs.items():
        assert ours[key]["lower"] == pytest.approx(lo, rel=1e-3, abs=1e-6), key
        assert ours[key]["upper"] == pytest.approx(hi, rel=1e-3, abs=1e-6), key
        assert ours[key]["lower"] <= ours[key]["est"] <= ours[key]["upper"], key


def test_profile_of_a_random_intercept_model(fits):
    from hlm.lmm.profile import profile_intervals

    ours = profile_intervals(fits["ancova"])
    assert list(ours) == ["sd((Intercept))", "sigma"]
    for v in ours.values():
        assert 0 < v["lower"] < v["est"] < v["upper"]


def test_profile_crossing_survives_a_noisy_profile():
    """The profile's inner fits start from the previous solution, so |zeta| - z evaluated again
    at the last point below z can land just above it (hsb160's random_coef did): the crossing
    is then interpolated from the two values already known instead of failing."""
    from hlm.lmm.profile import _crossing
    assert _crossing(lambda s: s - 1.0, 0.0, -1.0, 2.0, 1.0) == pytest.approx(1.0)
    flaky = iter([0.01, 0.5])                       # f(a) now reads +0.01 instead of -1
    assert _crossing(lambda s: next(flaky), 0.0, -1.0, 2.0, 1.0) == pytest.approx(1.0)
