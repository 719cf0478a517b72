"""hlm.olsdiag: the preliminary OLS y ~ x * w + z * w and its unit and cluster influence,
against R (tests/reference/lab/ols_r.R made ols_r.json: lm, hatvalues, rstandard,
cooks.distance and a loop of lm refits without each school, on hsb40)."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlm.config import Role
from hlm.olsdiag import NO_Z, cluster_cooks, ols_diagnostics, r_names

R = json.loads((Path(__file__).parent / "reference" / "lab" / "ols_r.json").read_text())
REL = 1e-6


def _with_z(profile):
    return replace(profile, roles={**profile.roles, "z": Role("Minority", "minority status", reference="No")})


@pytest.fixture(scope="module")
def profile(hsb40):
    return _with_z(hsb40)


@pytest.fixture(scope="module")
def students(tables40):
    s = tables40[0].copy()
    s["Minority"] = pd.Categorical(s["Minority"].astype(str), categories=["No", "Yes"])
    return s


@pytest.fixture(scope="module")
def rec(students, profile):
    return ols_diagnostics(students, profile)


def test_fit_matches_lm(rec):
    assert rec["formula"] == "MathAch ~ SES * Sector + Minority * Sector"
    assert rec["n"] == R["n"]
    assert list(rec["coef"]) == list(R["coef"])  # R's names, in R's order
    for key in ("coef", "se", "p"):
        for term, value in R[key].items():
            assert rec[key][term] == pytest.approx(value, rel=REL), (key, term)
    assert rec["r2"] == pytest.approx(R["r2"], rel=REL)
    assert rec["sigma"] == pytest.approx(R["sigma"], rel=REL)


def test_unit_diagnostics_match_r(rec):
    ours, ref = rec["units"], R["units"]
    assert ours["row"] == ref["row"] and ours["cluster"] == ref["cluster"]
    for key in ("fitted", "resid", "std_resid", "leverage", "cooks"):
        np.testing.assert_allclose(ours[key], ref[key], rtol=REL, err_msg=key)


def test_top_units_are_the_largest_cooks_distances_in_r(rec):
    ref = R["units"]
    order = np.argsort(ref["cooks"])[::-1][:5]
    assert [u["row"] for u in rec["top_units"]] == [ref["row"][i] for i in order]
    first = rec["top_units"][0]
    i = order[0]
    assert first["cluster"] == ref["cluster"][i]
    assert (first["cooks"], first["leverage"], first["std_resid"]) == pytest.approx(
        (ref["cooks"][i], ref["leverage"][i], ref["std_resid"][i]), rel=REL)


def test_cluster_deletion_matches_r_refits(rec):
    ours = {c["cluster"]: c["cook"] for c in rec["clusters"]}
    assert set(ours) == set(R["clusters"])
    for school, value in R["clusters"].items():
        assert ours[school] == pytest.approx(value, rel=REL), school
    cooks = [c["cook"] for c in rec["clusters"]]
    assert cooks == sorted(cooks, reverse=True)


def test_z_as_text_uses_the_profiles_reference(students, profile, rec):
    text = students.assign(Minority=students["Minority"].astype(str))
    assert ols_diagnostics(text, profile)["coef"] == pytest.approx(rec["coef"], rel=1e-12)


def test_a_profile_without_z_says_why(students, hsb40):
    plain = replace(hsb40, roles={k: v for k, v in hsb40.roles.items() if k != "z"})
    rec = ols_diagnostics(students, plain)
    assert rec == {"error": NO_Z} and NO_Z.startswith("the profile has no z role (a second binary level-1 variable")


def test_deleting_a_cluster_that_identifies_a_coefficient_gives_null():
    """Exact refits by least squares; the only cluster with a column's non-zero values cannot
    be deleted (R's refit would have an NA coefficient)."""
    rng = np.random.default_rng(3)
    codes = np.repeat(np.arange(6), 5)
    X = np.column_stack([np.ones(30), rng.normal(size=30), (codes == 2).astype(float) * rng.normal(size=30)])
    y = X @ [1.0, 2.0, 0.5] + rng.normal(size=30)
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ b
    s2 = e @ e / (30 - 3)
    got = cluster_cooks(X, e, codes, s2)
    for j in range(6):
        if j == 2:
            assert np.isnan(got[j])
            continue
        keep = codes != j
        bj, *_ = np.linalg.lstsq(X[keep], y[keep], rcond=None)
        d = b - bj
        assert got[j] == pytest.approx(d @ X.T @ X @ d / (3 * s2), rel=1e-9)


def test_names_follow_r():
    cols = ["Intercept", "SES", "Sector[T.Public]", "Minority[T.Yes]", "SES:Sector[T.Public]",
            "Minority[T.Yes]:Sector[T.Public]"]
    assert r_names(cols, ["SES", "Sector", "Minority"]) == [
        "(Intercept)", "SES", "SectorPublic", "MinorityYes", "SES:SectorPublic", "SectorPublic:MinorityYes"]
