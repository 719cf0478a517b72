"""hlm.inference (the step): the Lab's inference record (Hausman, multilevel R², profile
intervals, Satterthwaite DF, the preliminary OLS, the sample comparison, the forward
building of the random part), each part computed as its job does and merged."""
import copy
import importlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from hlm import lmm
from hlm.catalog import formula, lmm_names
from hlm.errors import DataError
from hlm.inference import PARTS
from hlm.inference.merge import merge
from hlm.io import write_json
from hlm.models import engine_fit, fit_model
from hlm.olsdiag import NO_Z
from hlm.records import SCHEMAS, validate

LAB = Path(__file__).parent / "reference" / "lab"
R_SATTERTHWAITE = json.loads((LAB / "satterthwaite_r.json").read_text())  # lmerTest: satterthwaite_r.R
R_OLS = json.loads((LAB / "ols_r.json").read_text())  # lm: ols_r.R
R_NLME = json.loads((Path(__file__).parents[1] / "data" / "reference" / "hs40_r_reference.json").read_text())


def parts(cfg, profile, students):
    """Each part's record, as its job writes it: from the fit records the fit step writes."""
    modules = [importlib.import_module(f"hlm.inference.{p}") for p in PARTS]
    fits = {name: fit_model(cfg, name, profile, students) for m in modules for name in m.fits(cfg)}
    out = [{"dataset": profile.name, "part": p, p: m.compute(cfg, profile, students, {n: fits[n] for n in m.fits(cfg)})}
           for p, m in zip(PARTS, modules)]
    for rec in out:
        validate("inference_part", rec)
    return out


def inference(cfg, profile, students):
    return merge(profile.name, parts(cfg, profile, students))


@pytest.fixture(scope="module")
def cfg(config):
    out = copy.deepcopy(config)
    out["lab"] = {**out.get("lab", {}), "profile": {"models": ["random_coef"]}}
    return out


@pytest.fixture(scope="module")
def rec(cfg, hsb40, tables40):
    return inference(cfg, hsb40, tables40[0])


def test_parts_are_the_record_s_fields():
    assert ("dataset",) + PARTS == tuple(SCHEMAS["inference"]["properties"])


def test_merge_needs_each_part_once(cfg, hsb40, tables40, rec):
    records = [{"dataset": "hsb40", "part": p, p: rec[p]} for p in PARTS]
    assert merge("hsb40", records[::-1]) == rec and list(merge("hsb40", records[::-1])) == ["dataset", *PARTS]
    with pytest.raises(DataError, match="expected each of"):
        merge("hsb40", records[1:])
    with pytest.raises(DataError, match="expected each of"):
        merge("hsb160", records)


def test_parts_from_the_fit_records_equal_the_refits(cfg, hsb40, tables40, rec):
    """R² and Satterthwaite DF from the fit records (no refit of the catalog) equal those of
    the models fitted here, and the profile starts its ML fit from the record's theta as the
    ML refit of the REML fit does."""
    from hlm.lmm.profile import profile_intervals
    from hlm.lmm.r2 import nakagawa, snijders_bosker

    s = tables40[0]
    empty = lmm.fit(s, formula("y ~ 1", hsb40), formula("~ 1 | cluster", hsb40))
    for name in lmm_names(cfg):
        fit = engine_fit(cfg, name, hsb40, s)
        direct = {**nakagawa(fit), **snijders_bosker(fit, empty)}
        assert rec["r2"][name] == pytest.approx(direct, rel=1e-10, abs=1e-12), name
        sat = lmm.fit_design(fit.design, fit.method, model=name, start=fit.theta, df_method="satterthwaite")
        assert list(rec["satterthwaite"][name]["df"].values()) == sat.df.tolist(), name
        assert list(rec["satterthwaite"][name]["nlme_df"].values()) == fit.df.tolist(), name
    intervals = profile_intervals(engine_fit(cfg, "random_coef", hsb40, s))
    assert rec["profile"]["random_coef"]["intervals"] == intervals


def test_record_on_the_notes_data(cfg, rec, tmp_path):
    validate("inference", rec)
    write_json(tmp_path / "i.json", rec, kind="inference")
    assert rec["hausman"]["statistic"] == pytest.approx(15.7587, rel=1e-4)  # R: tests/reference/lab
    assert set(rec["r2"]) == {m for m, s in cfg["models"].items() if s["kind"] == "lmm"}
    assert rec["r2"]["oneway"]["marginal"] == pytest.approx(0) and rec["r2"]["oneway"]["level1"] == pytest.approx(0)
    assert rec["r2"]["ints_slopes"]["marginal"] == pytest.approx(0.1024476, rel=1e-5)
    sd = rec["profile"]["random_coef"]["intervals"]["sd(SES)"]
    assert sd["lower"] == 0.0 and sd["upper"] == pytest.approx(1.29673, rel=1e-4)


@pytest.mark.parametrize("model", [k for k in R_SATTERTHWAITE if isinstance(R_SATTERTHWAITE[k], dict)])
def test_satterthwaite_matches_lmertest(rec, model):
    """lmerTest's DF and p-values to 3 significant digits."""
    ours, ref = rec["satterthwaite"][model], R_SATTERTHWAITE[model]
    assert list(ours["df"]) == list(ref["df"])
    for term in ref["df"]:
        assert ours["df"][term] == pytest.approx(ref["df"][term], rel=1e-3), term
        assert ours["p"][term] == pytest.approx(ref["p"][term], rel=1e-3), term


def test_satterthwaite_beside_nlme_df(cfg, rec):
    assert set(rec["satterthwaite"]) == {m for m, s in cfg["models"].items() if s["kind"] == "lmm"}
    # nlme: the cluster-level term on J - 2 = 38 DF, the others on N - J - 2 = 1935
    assert rec["satterthwaite"]["ints_slopes"]["nlme_df"] == {
        "(Intercept)": 1935, "SES": 1935, "SectorPublic": 38, "SES:SectorPublic": 1935}


def test_ols_part(rec):
    ols = rec["ols"]
    assert ols["formula"] == "MathAch ~ SES * Sector + Minority * Sector" and ols["n"] == R_OLS["n"]
    assert ols["coef"] == pytest.approx(R_OLS["coef"], rel=1e-6)
    assert len(ols["units"]["row"]) == ols["n"] and len(ols["top_units"]) == 5 and len(ols["clusters"]) == 40


def test_samples_part(rec):
    samples = rec["samples"]
    assert samples["this"] == "hsb40"
    rows = {r["name"]: r for r in samples["rows"]}
    assert list(rows) == ["hsb40", "hsb160", "hsb-random"]  # hsb160 takes every cluster of the files
    assert [r["this"] for r in samples["rows"]] == [True, False, False]
    assert (rows["hsb40"]["clusters"], rows["hsb40"]["units"]) == (40, 1977)
    assert (rows["hsb160"]["clusters"], rows["hsb160"]["units"]) == (160, 7185)
    assert rows["hsb40"]["share_w_other"] == pytest.approx(19 / 40)


def test_stepwise_part(rec):
    """The random slope of SES in y ~ x * w: nonrandom_slopes against ints_slopes, whose REML
    log-likelihoods nlme gives (data/reference/hs40_r_reference.json)."""
    x = rec["stepwise"]["x"]
    ll0, ll1 = R_NLME["nonrandom_slopes"]["nlme"]["logLik"], R_NLME["ints_slopes"]["nlme"]["logLik"]
    (step,) = x["steps"]
    assert x["start"]["logLik"] == pytest.approx(ll0, abs=1e-5) and step["logLik"] == pytest.approx(ll1, abs=1e-5)
    assert step["LRT"] == pytest.approx(2 * (ll1 - ll0), abs=1e-4) and step["df"] == 2
    assert not step["accepted"] and x["final"] == "~ 1 | School"
    xz = rec["stepwise"]["x_z"]
    assert xz["fixed"] == "MathAch ~ SES * Sector + Sector * Minority + cvar_SES + cvar_Minority"
    assert xz["candidates"] == ["SES", "Minority"] and set(xz["steps"][0]["tried"]) == {"SES", "Minority"}


def test_parts_that_cannot_be_computed_say_why(cfg, hsb40, tables40):
    plain = replace(hsb40, roles={k: v for k, v in hsb40.roles.items() if k != "z"})
    rec = inference(cfg, plain, tables40[0].assign(SES=1.0))  # x constant, no z role
    validate("inference", rec)
    assert "error" in rec["hausman"] and "error" in rec["r2"]["random_coef"]
    assert "error" in rec["profile"]["random_coef"]
    assert "marginal" in rec["r2"]["oneway"]  # a model without x is still there
    assert "error" in rec["satterthwaite"]["random_coef"] and "df" in rec["satterthwaite"]["oneway"]
    assert rec["ols"] == {"error": NO_Z}
    assert list(rec["stepwise"]) == ["x"] and "error" in rec["stepwise"]["x"]


def test_equivalent_models_by_the_spans_of_their_parts(cfg, hsb40, tables40):
    """ctx_cwg (cvar_x + dvar_x) and ctx_raw (cvar_x + x) are one model in two parametrizations;
    ctx_ri and rs_raw share their fixed part only; ints_slopes and nonrandom_slopes share theirs."""
    from hlm.inference.r2 import equivalent_models

    names = ["ctx_cwg", "ctx_raw", "ctx_ri", "rs_raw", "ctx_w", "ints_slopes", "nonrandom_slopes"]
    eq = equivalent_models(cfg, names, hsb40, tables40[0])
    assert eq["ctx_cwg"]["model"] == ["ctx_raw"] and eq["ctx_raw"]["model"] == ["ctx_cwg"]
    assert sorted(eq["ctx_cwg"]["fixed"]) == ["ctx_raw", "ctx_ri", "rs_raw"]
    assert eq["ctx_ri"]["model"] == [] and eq["rs_raw"]["model"] == []   # random x, not dvar_x
    assert eq["ctx_w"] == {"fixed": [], "model": []}
    assert eq["ints_slopes"] == {"fixed": ["nonrandom_slopes"], "model": []}


def test_equivalent_models_skip_a_model_without_a_design(cfg, hsb40, tables40):
    from hlm.inference.r2 import equivalent_models

    students = tables40[0].drop(columns=[hsb40.cvar_x])
    eq = equivalent_models(cfg, ["ctx_cwg", "ctx_raw", "ints_slopes"], hsb40, students)
    assert eq == {m: {"fixed": [], "model": []} for m in ("ctx_cwg", "ctx_raw", "ints_slopes")}
