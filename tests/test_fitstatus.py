"""hlm.fitstatus: the state of a fit and why, in words tied to the data."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlm.fitstatus import build_summary, diagnose, explanation, status_of


@pytest.fixture()
def balanced(hsb40):
    """Four measurements at the same ages in each of 6 clusters (a balanced design)."""
    rng = np.random.default_rng(1)
    ages = [8.0, 10.0, 12.0, 14.0]
    rows = [{"child": f"C{j}", "age": a, "distance": 20 + 0.5 * a + rng.normal()} for j in range(6) for a in ages]
    d = pd.DataFrame(rows)
    d["cvar_age"] = d.groupby("child")["age"].transform("mean")
    roles = {"y": dataclasses.replace(hsb40.roles["y"], column="distance", label="distance"),
             "x": dataclasses.replace(hsb40.roles["x"], column="age", label="age"),
             "w": hsb40.roles["w"]}
    prof = dataclasses.replace(hsb40, cluster="child", cluster_label="child", unit_label="measurement",
                               roles=roles)
    return d, prof


def test_balanced_design_explained_in_terms_of_the_data(balanced):
    d, prof = balanced
    err = "ModelError: perfectly collinear fixed effects: 'cvar_age' = linear combination of ['(Intercept)']"
    st = diagnose({"model": "ctx_raw", "error": err}, d, prof)
    assert st["state"] == "not_fitted"
    assert "every child is observed at the same values of age (8, 10, 12, 14)" in st["why"]
    assert "the mean age of a child is 11 for all 6 children" in st["why"]
    assert "between-child" in st["why"] and "within-child" in st["why"]
    assert "children whose mean age differ" in st["remedy"]


def test_other_failures_keep_the_engine_message(balanced):
    d, prof = balanced
    st = diagnose({"error": "ModelError: 24 levels of 'child' for 24 rows"}, d, prof)
    assert "a single measurement" in st["why"]
    st = diagnose({"error": "ValueError: something odd"}, d, prof)
    assert st["why"] == "the fit stopped with: ValueError: something odd" and st["remedy"]


def test_states_of_fits(balanced):
    d, prof = balanced
    assert diagnose({"converged": True, "singular": False}, d, prof)["state"] == "fitted"
    nc = diagnose({"converged": False, "optimizer": {"messages": ["stopped early"]}}, d, prof)
    assert nc["state"] == "not_converged" and "stopped early" in nc["why"]
    sing = diagnose({"converged": True, "singular": True, "re_names": ["(Intercept)", "age"],
                     "re_sd": {"(Intercept)": 2.0, "age": 0.0}, "sigma": 1.0}, d, prof)
    assert sing["state"] == "singular" and "variance of the child age slopes is zero" in sing["why"]


def test_status_of_old_records_and_explanation():
    assert status_of({"model": "m", "error": "boom"}).state == "not_fitted"
    assert not status_of({"model": "m", "error": "boom"}).usable
    assert status_of({"model": "m", "converged": False}).state == "not_converged"
    assert status_of({"model": "m", "singular": True}).usable
    st = status_of({"model": "m", "label": "My model", "status": {"state": "not_fitted", "why": "x is constant",
                                                                   "remedy": "vary x"}})
    text = explanation(st)
    assert text.startswith("::: {.callout-warning}") and "*My model* (`m`) could not be fitted" in text
    assert "x is constant." in text and "What you could change: vary x." in text


def test_build_summary_lists_problem_models(tmp_path: Path):
    from tests.records_fakes import minimal
    (tmp_path / "ok.json").write_text(json.dumps(minimal("fit", model="ok", kind="lmm", converged=True)))
    (tmp_path / "bad.json").write_text(json.dumps(minimal("fit", model="bad", kind="ols", error="E: nope",
                                                          status={"why": "E: nope"})))
    (tmp_path / "comparison.json").write_text(json.dumps(minimal("comparison")))
    text = build_summary(tmp_path)
    assert "bad: could not be fitted: E: nope" in text and "ok" not in text.replace("book", "")
    (tmp_path / "bad.json").unlink()
    assert build_summary(tmp_path) == ""


# --- the shape of a singular G, from its eigenvalues -----------------------------------------

def test_g_geometry_of_the_notes_pancake():
    """mino_rs_z on hsb40: eigenvalues 1.668, 0.209 and ~0, a plane (rank 2 of 3), and no
    correlation of +-1 (-0.447, 0.987, -0.298): the words must not say 'line' or '+-1'."""
    from hlm.fitstatus import g_geometry, geometry_words

    G = [[1.4557312937883056, -0.2762457721051662, 0.476327116355571],
         [-0.27624577210516627, 0.2618560899676701, -0.06107612842047207],
         [0.476327116355571, -0.06107612842047205, 0.15996103503059897]]
    names = ["(Intercept)", "SES", "MinorityYes"]
    geo = g_geometry(G, names)
    assert geo["q"] == 3 and geo["rank"] == 2 and not geo["perfect"]
    assert geo["eigenvalues"][0] == pytest.approx(1.66835, rel=1e-4)
    assert geo["correlations"][("(Intercept)", "MinorityYes")] == pytest.approx(0.98709, rel=1e-4)
    text = geometry_words(G, names, "school")
    assert "rank is 2 of 3" in text and "plane" in text and "pancake" in text
    assert "line" not in text and "No estimated correlation is \u00b11" in text


def test_g_geometry_of_a_line_and_of_a_full_rank_g():
    from hlm.fitstatus import g_geometry, geometry_words

    line = [[1.0, -0.5], [-0.5, 0.25]]
    geo = g_geometry(line, ["(Intercept)", "x"])
    assert geo["rank"] == 1 and geo["perfect"] == [("(Intercept)", "x")]
    text = geometry_words(line, ["(Intercept)", "x"], "child")
    assert "rank is 1 of 2" in text and "a line through 0" in text and "\u22121.000" in text
    assert g_geometry([[2.0, 0.3], [0.3, 1.0]])["rank"] == 2
    assert g_geometry([[0.0, 0.0], [0.0, 0.0]])["rank"] == 0


def test_singular_status_words_come_from_g(balanced):
    d, prof = balanced
    rec = {"converged": True, "singular": True, "re_names": ["(Intercept)", "SES"],
           "re_sd": {"(Intercept)": 1.0, "SES": 0.5}, "sigma": 6.0, "G": [[1.0, 0.5], [0.5, 0.25]]}
    st = diagnose(rec, d, prof)
    assert st["state"] == "singular" and "rank is 1 of 2" in st["why"] and "+1.000" not in st["why"]
