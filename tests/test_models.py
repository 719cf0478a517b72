"""hlm.models: the fit stage (`python -m hlm fit`) and the comparison table (`compare`).

References: data/reference/hs40_r_reference.json (R: nlme 3.1 `lme` and lme4
`lmer` on the notes' 40 schools; roles renamed, see _fixtures_models.R_NAMES).
The engine criterion (engine issue): logLik >= lme4's - 1e-6; fixed effects
within 1e-4 relative of lme4's; SEs within 1e-3 relative of nlme's where nlme
reached the optimum; nlme's denominator DF exactly.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from _fixtures_models import LMM_MODELS, ours, parquet40, r_ref, students160, students40  # noqa: F401
from hlm import lmm, models
from hlm.cli import main
from hlm.errors import DataError, ModelError
from hlm.io import read_json


def fit_cli(tmp_path, parquet, model, dataset="hsb40"):
    out = tmp_path / f"{model}.json"
    code = main(["fit", "--dataset", dataset, "--model", model, "--students", str(parquet), "--out", str(out)])
    return code, out


# --- classical methods through the CLI ------------------------------------------------------------

@pytest.mark.parametrize("model", ["pooled", "fe_lines", "fe_common_slope", "two_stage", "between",
                                   "three_effects"])
def test_run_fit_writes_ols_json(tmp_path, parquet40, r_ref, config, model):
    code, out = fit_cli(tmp_path, parquet40, model)
    assert code == 0
    fit = read_json(out)
    assert fit["model"] == model and fit["kind"] == "ols" and fit["n"] == 1977 and fit["groups"] == 40
    assert fit["label"] == config["models"][model]["label"]
    assert fit["call"] == f"hlm.classic.{model}(students, profile)"
    if model == "pooled":  # R: lm(y ~ x * w) -> r_ref pooled
        for key, value in ours(r_ref["pooled"]).items():
            assert fit["fixef"][key] == pytest.approx(value, rel=1e-8)
        assert fit["fixed"] == "MathAch ~ SES * Sector"
    if model == "fe_lines":  # R: r_ref fe2a
        assert fit["wald"]["rows"]["slope_diff"]["se"] == pytest.approx(r_ref["fe2a"]["slope_se"], rel=1e-8)
    if model == "two_stage":  # R: r_ref twostage
        assert fit["coef"]["slope"]["SectorPublic"]["se"] == pytest.approx(
            r_ref["twostage"]["se"]["slope"]["wPublic"], rel=1e-8)
    if model == "between":  # R: r_ref ecological
        assert fit["fixef"]["SES"] == pytest.approx(r_ref["ecological"]["est"]["x"], rel=1e-8)
        assert fit["fixed"] == "mean_MathAch ~ mean_SES"


def test_unknown_model_and_missing_data_exit_nonzero(tmp_path, parquet40, capsys):
    code, out = fit_cli(tmp_path, parquet40, "no_such_model")
    assert code == 1 and not out.exists()
    assert "not in the catalog" in capsys.readouterr().err
    code, out = fit_cli(tmp_path, tmp_path / "absent.parquet", "pooled")
    assert code == 1 and not out.exists()


def test_invalid_data_exit_nonzero_without_output(tmp_path, students40, capsys):
    bad = tmp_path / "students.parquet"
    students40.drop(columns=["cvar_SES"]).to_parquet(bad, index=False)
    code, out = fit_cli(tmp_path, bad, "ctx_cwg")
    assert code == 1 and not out.exists()
    assert "cvar_SES" in capsys.readouterr().err
    code, out = fit_cli(tmp_path, bad, "pooled")  # the columns it needs are there
    assert code == 0 and out.exists()


def test_failed_fit_is_a_record(tmp_path, students40, capsys):
    bad = tmp_path / "students.parquet"
    students40[students40["Sector"] == "Catholic"].to_parquet(bad, index=False)  # one level of w only
    code, out = fit_cli(tmp_path, bad, "two_stage")
    assert code == 0
    rec = read_json(out)
    assert rec["converged"] is False and "ModelError" in rec["error"] and "two levels" in rec["error"]
    assert rec["model"] == "two_stage" and rec["kind"] == "ols" and "fixef" not in rec
    assert rec["status"]["state"] == "not_fitted" and rec["status"]["why"] and rec["status"]["remedy"]
    err = capsys.readouterr().err
    assert "warning: model 'two_stage'" in err
    # the step says what it is doing before it does it (the log of a killed step ends there)
    lines = err.splitlines()
    assert lines[0].startswith("[hlm] fit --dataset hsb40 --model two_stage") and lines[0].endswith("started")
    assert "[hlm] fitting 'two_stage' (ols) on 1144 rows in 21 clusters" in lines
    assert lines[-1].startswith("[hlm] fit: done in")


def test_formula_columns():
    assert models.formula_columns("MathAch ~ 1 + (cvar_SES + dvar_SES) * Sector", "~ 1 + dvar_SES | School") \
        == ["MathAch", "cvar_SES", "dvar_SES", "Sector", "School"]
    assert models.formula_columns("y ~ log(x) + I(z^2)") == ["y", "x", "z"]


# --- the comparison's logic (no engine needed) -----------------------------------------------------

def _fake(fixef, re, npar, ll, method="REML"):
    return {"fixef": dict.fromkeys(fixef, 0.0), "re_names": re, "npar": npar, "logLik": ll, "AIC": 0.0,
            "BIC": 0.0, "method": method, "n": 10, "random": f"~ {' + '.join(re)} | g", "fixed": "y ~ ."}


def test_nested_pairs_are_adjacent():
    fits = {"a": _fake(["(Intercept)"], ["(Intercept)"], 3, -10),
            "b": _fake(["(Intercept)", "x"], ["(Intercept)"], 4, -8),
            "c": _fake(["(Intercept)", "x"], ["(Intercept)", "x"], 6, -7),
            "d": _fake(["(Intercept)", "w"], ["(Intercept)"], 4, -9)}
    assert models.nested_pairs(fits) == [("a", "b"), ("a", "d"), ("b", "c")]


def test_lrt_rows():
    fits = {"b": _fake(["(Intercept)", "x"], ["(Intercept)"], 4, -8),
            "c": _fake(["(Intercept)", "x"], ["(Intercept)", "x"], 6, -7),
            "e": _fake(["(Intercept)", "x", "w"], ["(Intercept)"], 5, -6)}
    row = models.lrt_row("b", "c", fits, ml_loglik=None)  # same fixed part: REML logLiks
    assert row["criterion"] == "REML" and row["df"] == 2 and row["statistic"] == pytest.approx(2.0)
    assert row["p"] == pytest.approx(stats.chi2.sf(2.0, 2))
    assert row["p_boundary"] == pytest.approx(0.5 * stats.chi2.sf(2.0, 2) + 0.5 * stats.chi2.sf(2.0, 1))
    row = models.lrt_row("b", "e", fits, ml_loglik={"b": -8.5, "e": -7.0}.get)  # fixed parts differ: ML
    assert row["criterion"] == "ML" and row["statistic"] == pytest.approx(3.0) and "boundary" not in row
    row = models.lrt_row("b", "e", fits, ml_loglik=lambda name: 1 / 0)
    assert "ZeroDivisionError" in row["error"]
    assert models.boundary_p(2.0, 1) == pytest.approx(0.5 * stats.chi2.sf(2.0, 1))


# --- mixed models with the engine -------------------------------------------------------------------

@pytest.fixture(scope="module")
def lmm_fits(tmp_path_factory, parquet40):
    outdir = tmp_path_factory.mktemp("fits")
    for model in LMM_MODELS:
        code, _ = fit_cli(outdir, parquet40, model)
        assert code == 0
    return outdir


#: The notes' mixed models (data/reference/hs40_r_reference.json); the Lab's models of the
#: catalog are checked against tests/reference/lab/lab_models.json (lab_models.R).
NOTES_MODELS = LMM_MODELS[:LMM_MODELS.index("ctx_w") + 1]
LAB_MODELS = LMM_MODELS[len(NOTES_MODELS):]
LAB_REF = Path(__file__).parent / "reference" / "lab" / "lab_models.json"


@pytest.mark.parametrize("model", LAB_MODELS)
def test_lab_models_match_lme4(lmm_fits, model):
    """rs_raw and the Minority models against lme4 (REML) and nlme's DF, from lab_models.R."""
    ref = json.loads(LAB_REF.read_text(encoding="utf-8"))[model]
    fit = read_json(lmm_fits / f"{model}.json")
    assert fit["status"]["state"] in ("fitted", "singular")
    assert fit["logLik"] == pytest.approx(ref["logLik"], abs=1e-4)
    assert fit["logLik"] >= ref["logLik"] - 1e-6
    assert set(fit["fixef"]) == set(ref["fixef"])
    for key, value in ref["fixef"].items():
        assert fit["fixef"][key] == pytest.approx(value, rel=1e-3, abs=1e-3), key
        assert fit["df"][key] == ref["df"][key], key
    assert fit["sigma"] == pytest.approx(ref["sigma"], rel=1e-3)
    assert np.allclose(fit["G"], ref["G"], rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("model", NOTES_MODELS)
def test_lmm_json_matches_r(lmm_fits, r_ref, model):
    fit = read_json(lmm_fits / f"{model}.json")
    nlme, lme4 = r_ref[model]["nlme"], r_ref[model]["lme4"]
    assert "error" not in fit and fit["converged"] is True
    assert fit["kind"] == "lmm" and fit["model"] == model and fit["method"] == "REML"
    assert fit["n"] == r_ref["n"] == 1977 and fit["groups"] == r_ref["groups"] == 40
    assert fit["logLik"] >= lme4["logLik"] - 1e-6
    assert set(fit["fixef"]) == set(ours(lme4["fixef"]))
    for key, value in ours(lme4["fixef"]).items():
        assert fit["fixef"][key] == pytest.approx(value, rel=1e-4, abs=1e-10), key
    nlme_at_optimum = nlme["logLik"] >= lme4["logLik"] - 1e-6
    se_ref = ours(nlme["se"]) if nlme_at_optimum else ours(lme4["se"])
    for key, value in se_ref.items():
        assert fit["se"][key] == pytest.approx(value, rel=1e-3), key
    for key, value in ours(nlme["df"]).items():
        assert fit["df"][key] == value, key
    assert fit["sigma"] == pytest.approx(lme4["sigma"], rel=1e-3)
    re_names = nlme["re_names"] if isinstance(nlme["re_names"], list) else [nlme["re_names"]]
    assert fit["re_names"] == list(ours(dict.fromkeys(re_names)))
    assert set(fit["ranef"]) == set(r_ref["group_order"])
    assert fit["call"].startswith("hlm.lmm.fit(students, fixed=")
    assert fit["label"] and fit["summary"] and "obs" in fit


def test_lmm_fixed_uses_columns(lmm_fits):
    fit = read_json(lmm_fits / "ctx_w.json")
    assert fit["fixed"] == "MathAch ~ 1 + (cvar_SES + dvar_SES) * Sector"
    assert fit["random"] == "~ 1 + dvar_SES | School"
    assert "dvar_SES:SectorPublic" in fit["fixef"]


def test_compare_writes_table(lmm_fits, parquet40, r_ref, tmp_path):
    out = tmp_path / "comparison.json"
    code = main(["compare", "--dataset", "hsb40", "--fits-dir", str(lmm_fits), "--students", str(parquet40),
                 "--out", str(out)])
    assert code == 0
    table = read_json(out)
    rows = {r["name"]: r for r in table["models"]}
    assert list(rows) == LMM_MODELS
    for name, row in rows.items():
        fit = read_json(lmm_fits / f"{name}.json")
        assert (row["logLik"], row["AIC"], row["BIC"], row["npar"]) == (fit["logLik"], fit["AIC"], fit["BIC"],
                                                                       fit["npar"])
        assert row["REML"] is True and row["fixed"] == fit["fixed"] and row["random"] == fit["random"]
        if name in NOTES_MODELS:
            assert row["AIC"] == pytest.approx(r_ref[name]["nlme"]["AIC"], abs=1e-3)  # nlme's AIC
    tests = {(t["null"], t["alt"]): t for t in table["lrt"]}
    # same fixed part: REML LRT, with the boundary footnote (notes: random_coef vs ancova)
    t = tests[("ancova", "random_coef")]
    assert t["criterion"] == "REML" and t["df"] == 2 and t["boundary"] is True
    assert t["statistic"] == pytest.approx(2 * (rows["random_coef"]["logLik"] - rows["ancova"]["logLik"]))
    assert t["p_boundary"] < t["p"]
    assert tests[("nonrandom_slopes", "ints_slopes")]["criterion"] == "REML"
    # fixed parts differ: ML refits, checked against lme4's ML logLik
    for (a, b), t in tests.items():
        if t["criterion"] == "ML" and {a, b} <= set(NOTES_MODELS):
            assert t["logLik_null"] >= r_ref[a]["lme4"]["ML_logLik"] - 1e-6, a
            assert t["logLik_alt"] >= r_ref[b]["lme4"]["ML_logLik"] - 1e-6, b
            assert t["logLik_alt"] == pytest.approx(r_ref[b]["lme4"]["ML_logLik"], abs=1e-4)
    assert tests[("parallel", "ints_slopes")]["criterion"] == "ML"
    assert ("ctx_cwg", "ctx_raw") not in tests and ("oneway", "ints_slopes") not in tests
    assert "ancova vs random_coef" in table["table"]


def test_compare_needs_every_fit(tmp_path, parquet40, capsys):
    code = main(["compare", "--dataset", "hsb40", "--fits-dir", str(tmp_path), "--students", str(parquet40),
                 "--out", str(tmp_path / "comparison.json")])
    assert code == 1 and not (tmp_path / "comparison.json").exists()
    assert "does not exist" in capsys.readouterr().err


def test_compare_reports_failed_fits(lmm_fits, parquet40, tmp_path):
    fits = {name: read_json(lmm_fits / f"{name}.json") for name in LMM_MODELS}
    fits["ctx_w"] = {"model": "ctx_w", "kind": "lmm", "label": "x", "fixed": "f", "random": "r",
                     "method": "REML", "converged": False, "error": "ModelError: boom"}
    table = models.comparison(fits, ml_loglik=lambda name: fits[name]["logLik"])
    row = [r for r in table["models"] if r["name"] == "ctx_w"][0]
    assert row["error"] == "ModelError: boom" and "logLik" not in row
    assert all("ctx_w" not in (t["null"], t["alt"]) for t in table["lrt"])


def test_lmm_failure_and_nonconvergence_are_records(monkeypatch, students40, hsb40, config, capsys):

    def boom(*args, **kwargs):
        raise ModelError("the design is singular")

    monkeypatch.setattr(lmm, "fit", boom)
    rec = models.fit_model(config, "ints_slopes", hsb40, students40)
    assert rec["error"] == "ModelError: the design is singular" and rec["converged"] is False
    assert rec["random"] == "~ 1 + SES | School"
    assert "could not be fitted" in capsys.readouterr().err

    class Stuck:
        x_names = ("(Intercept)",)

        def to_dict(self, obs=False):
            return {"model": "ints_slopes", "kind": "lmm", "logLik": -1.0, "converged": False}

        def wald(self, L):
            return {"F": 1.0}

    monkeypatch.setattr(lmm, "fit", lambda *a, **k: Stuck())
    rec = models.fit_model(config, "ints_slopes", hsb40, students40)
    assert rec["converged"] is False and "error" not in rec and rec["logLik"] == -1.0
    assert "did not converge" in capsys.readouterr().err


def test_data_error_is_not_swallowed(monkeypatch, students40, hsb40, config):
    monkeypatch.setattr(lmm, "fit", lambda *a, **k: (_ for _ in ()).throw(DataError("bad data")))
    with pytest.raises(DataError):
        models.fit_model(config, "oneway", hsb40, students40)


def test_hsb160_mixed_models_run(students160, hsb160, config):
    """The same catalog on all 160 schools (the classical methods: test_classic.py)."""
    fits = {name: models.fit_model(config, name, hsb160, students160) for name in models.lmm_names(config)}
    for name, fit in fits.items():
        assert "error" not in fit, (name, fit.get("error"))
        assert (fit["n"], fit["groups"]) == (7185, 160), name
        assert fit["converged"] is True and np.isfinite(fit["logLik"]), name
        assert fit["fixed"] == models.model_spec(config, name, hsb160).fixed
    json.dumps(fits)  # JSON-ready
    table = models.comparison(fits, models.ml_refitter(config, hsb160, students160), dataset="hsb160")
    assert len(table["models"]) == len(models.lmm_names(config)) and all("error" not in t for t in table["lrt"])


def test_oneway_matches_notes(lmm_fits, notes_values):
    fit = read_json(lmm_fits / "oneway.json")
    ref = notes_values["oneway_random_effects"]  # notes: summary(fit.oneway.re), glh(fit.oneway.re)
    assert abs(fit["AIC"] - ref["AIC"]) <= 0.005 and abs(fit["BIC"] - ref["BIC"]) <= 0.005
    assert abs(fit["logLik"] - ref["logLik"]) <= 0.0005
    assert abs(fit["sigma"] - ref["sd_residual"]) <= 5e-7
    assert abs(fit["fixef"]["(Intercept)"] - ref["fixed"]["estimate"]) <= 5e-6
    assert abs(fit["se"]["(Intercept)"] - ref["fixed"]["se"]) <= 5e-8
    assert fit["df"]["(Intercept)"] == ref["fixed"]["df"]
    assert abs(fit["glh"]["F"] - ref["glh_F"]) <= 0.0005
    assert fit["glh"]["numDF"] == 1 and fit["glh"]["denDF"] == 1937


def test_glh_of_every_mixed_model(lmm_fits):
    for model in LMM_MODELS:
        fit = read_json(lmm_fits / f"{model}.json")
        assert fit["glh"]["numDF"] == len(fit["fixef"])
        assert set(fit["glh"]["rows"]) == set(fit["fixef"])


def test_a_model_using_an_absent_role_is_explained_not_fitted(students40, hsb40, config, capsys):
    """mino_ri uses z and cvar_z: on a profile without z it is a not-fitted record that says
    why, with no warning (the profile's choice, not a failure of the data)."""
    import dataclasses
    no_z = dataclasses.replace(hsb40, roles={k: v for k, v in hsb40.roles.items() if k != "z"})
    rec = models.fit_model(config, "mino_ri", no_z, students40)
    assert rec["status"]["state"] == "not_fitted" and "error" in rec
    assert "no z role" in rec["status"]["why"] and "roles: z:" in rec["status"]["remedy"]
    assert rec["fixed"] == "y ~ x * w + w * z + cvar_x + cvar_z"  # role names: nothing to substitute
    assert "warning" not in capsys.readouterr().err
    assert models.fit_model(config, "mino_ri", hsb40, students40)["status"]["state"] == "fitted"


def test_a_column_zero_up_to_rounding_is_not_identified(students40, hsb40, config, capsys):
    """x constant within every cluster: the within-cluster deviation is 0 up to rounding, which
    can slip past the engine's collinearity check; the fit is a record saying why instead."""
    d = students40.copy()
    d[hsb40.x] = d.groupby(hsb40.cluster)[hsb40.x].transform("mean")
    d[hsb40.dvar_x] = (d[hsb40.x] - d[hsb40.cvar_x]) * 1e-3 + 1e-17  # rounding noise, never exactly 0
    d[hsb40.dvar_x] = 1e-16 * np.sign(d[hsb40.dvar_x])
    rec = models.fit_model(config, "ctx_cwg", hsb40, d)
    assert rec["status"]["state"] == "not_fitted" and "identically zero" in rec["error"]
    assert "does not vary within any school" in rec["status"]["why"]
    assert models.zero_columns(students40, models.model_spec(config, "ctx_cwg", hsb40), hsb40) == []
