"""hlm.classic: the notes' Methods 1-4 against the notes' printed numbers and R's fits.

Sources: `notes` = data/reference/notes_values.yaml (values printed in the
course notes, compared to the printed decimals); `r_ref` =
data/reference/hs40_r_reference.json (R's lm on the same 40 schools, compared to
1e-8 relative). Catholic is the reference level of Sector, as in the notes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from _fixtures_models import ours, r_ref, students160, students40  # noqa: F401
from hlm import classic
from hlm.errors import DataError, ModelError
from hlm.rprint import lm_summary

REL = 1e-8


def printed(ours_value: float, notes_value: float, decimals: int) -> None:
    """`ours_value` rounds to the number printed with `decimals` decimals."""
    assert abs(ours_value - notes_value) <= 0.5 * 10 ** -decimals + 1e-12, (ours_value, notes_value)


def printed_sig(ours_value: float, notes_value: float, sig: int) -> None:
    """Same, for a number printed with `sig` significant digits (e.g. 2.84e-05)."""
    unit = 10 ** (np.floor(np.log10(abs(notes_value))) - sig + 1)
    assert abs(ours_value - notes_value) <= 0.5 * unit * (1 + 1e-9), (ours_value, notes_value)


@pytest.fixture(scope="module")
def fits(students40, hsb40):
    return {name: getattr(classic, name)(students40, hsb40).to_dict() for name in classic.LABELS}


# --- Method 1 ---------------------------------------------------------------------------------

def test_pooled_matches_notes(fits, notes_values):
    ref, fit = notes_values["method1_pooled_ols"], fits["pooled"]  # notes: summary(fit.pooled)
    for name, value in ref["coef"].items():
        key = name.replace("ses", "SES")
        printed(fit["fixef"][key], value, 4)
        printed(fit["se"][key], ref["se"][name], 4)
        printed(fit["t"][key], ref["t"][name], 3)
    for ours_q, notes_q in zip(fit["resid_quantiles"], ref["residual_quantiles"]):
        printed(ours_q, notes_q, 4)
    printed(fit["sigma"], ref["residual_se"], 3)
    assert fit["df_resid"] == ref["residual_df"] == 1973
    printed(fit["r2"], ref["r_squared"], 4)
    printed(fit["adj_r2"], ref["adj_r_squared"], 4)
    printed(fit["F"], ref["f_statistic"], 1)
    assert fit["F_df"] == [3, 1973]


def test_pooled_matches_r(fits, r_ref):
    fit = fits["pooled"]  # R: lm(y ~ x * w) -> r_ref pooled, pooled_se, pooled_sigma, pooled_r2
    assert list(fit["fixef"]) == ["(Intercept)", "SES", "SectorPublic", "SES:SectorPublic"]
    for key, value in ours(r_ref["pooled"]).items():
        assert fit["fixef"][key] == pytest.approx(value, rel=REL)
    for key, value in ours(r_ref["pooled_se"]).items():
        assert fit["se"][key] == pytest.approx(value, rel=REL)
    assert fit["sigma"] == pytest.approx(r_ref["pooled_sigma"], rel=REL)
    assert fit["r2"] == pytest.approx(r_ref["pooled_r2"], rel=REL)


def test_pooled_sector_lines(fits):
    fit = fits["pooled"]
    b = fit["fixef"]
    assert fit["by_w"]["Catholic"]["coef"] == pytest.approx([b["(Intercept)"], b["SES"]])
    assert fit["by_w"]["Public"]["coef"] == pytest.approx(
        [b["(Intercept)"] + b["SectorPublic"], b["SES"] + b["SES:SectorPublic"]])
    assert fit["diff"]["coef"] == pytest.approx([b["SectorPublic"], b["SES:SectorPublic"]])
    V = np.array(fit["vcov"])
    assert np.array(fit["diff"]["vcov"]) == pytest.approx(V[2:, 2:])
    assert np.array(fit["by_w"]["Catholic"]["vcov"]) == pytest.approx(V[:2, :2])
    assert np.sqrt(np.diag(V)) == pytest.approx(list(fit["se"].values()))


def test_pooled_summary_reads_like_r(fits):
    text = fits["pooled"]["summary"]  # the notes print summary(fit.pooled)
    assert "lm(formula = MathAch ~ SES * Sector, data = students)" in text
    assert "-19.1774" in text and "15.7836" in text
    assert "SES:SectorPublic   1.6051     0.3845   4.174 3.12e-05 ***" in text
    assert "Residual standard error: 6.344 on 1973 degrees of freedom" in text
    assert "Multiple R-squared:  0.1404,\tAdjusted R-squared:  0.1391" in text
    assert "F-statistic: 107.4 on 3 and 1973 DF,  p-value: < 2.2e-16" in text


# --- Method 2 ---------------------------------------------------------------------------------

def test_fe_lines_wald_matches_notes(fits, notes_values):
    ref, fit = notes_values["method2a_fixed_effects"], fits["fe_lines"]  # notes: wald(lml, diffmat %*% L)
    wald = fit["wald"]
    printed(wald["F"], ref["wald_F"], 5)
    assert wald["df"] == ref["wald_df"] == [2, 1897]
    for key in ("int_diff", "slope_diff"):
        row = wald["rows"][key]
        printed(row["estimate"], ref[key]["estimate"], 6)
        printed(row["se"], ref[key]["se"], 6)
        printed(row["t"], ref[key]["t"], 6)
        assert row["df"] == 1897
    printed(wald["rows"]["slope_diff"]["p"], ref["slope_diff"]["p"], 4)


def test_fe_lines_matches_r(fits, r_ref):
    ref, fit = r_ref["fe2a"], fits["fe_lines"]  # R: wald(lm(y ~ factor(school)/x - 1), diffmat %*% L)
    rows = fit["wald"]["rows"]
    assert rows["int_diff"]["estimate"] == pytest.approx(ref["int_diff"], rel=REL)
    assert rows["int_diff"]["se"] == pytest.approx(ref["int_se"], rel=REL)
    assert rows["slope_diff"]["estimate"] == pytest.approx(ref["slope_diff"], rel=REL)
    assert rows["slope_diff"]["se"] == pytest.approx(ref["slope_se"], rel=REL)
    assert fit["df_resid"] == ref["df"]


def test_fe_lines_clusters_and_means(fits, students40):
    fit = fits["fe_lines"]
    assert len(fit["fixef"]) == 80 and list(fit["fixef"])[:2] == ["School1317", "School1906"]
    assert list(fit["fixef"])[40] == "School1317:SES"
    assert len(fit["clusters"]) == 40 and fit["failed"] == []
    one = fit["clusters"]["4530"]
    sub = students40[students40["School"] == "4530"]
    slope, intercept = np.polyfit(sub["SES"], sub["MathAch"], 1)
    assert (one["intercept"], one["slope"]) == pytest.approx((intercept, slope), rel=1e-9)
    assert one["n"] == 63 and one["w"] == "Catholic"
    X = np.column_stack([np.ones(len(sub)), sub["SES"]])
    assert np.array(one["vcov"]) == pytest.approx(fit["sigma"] ** 2 * np.linalg.inv(X.T @ X), rel=1e-9)
    for level in ("Catholic", "Public"):
        members = [c for c in fit["clusters"].values() if c["w"] == level]
        assert fit["by_w"][level]["coef"] == pytest.approx(
            [np.mean([c["intercept"] for c in members]), np.mean([c["slope"] for c in members])])
    diff = np.subtract(fit["by_w"]["Public"]["coef"], fit["by_w"]["Catholic"]["coef"])
    assert fit["diff"]["coef"] == pytest.approx(diff)
    assert fit["diff"]["coef"] == pytest.approx([fit["wald"]["rows"][k]["estimate"]
                                                 for k in ("int_diff", "slope_diff")])
    assert "21.03533" in fit["summary"] and "2.444309" in fit["summary"]


def test_fe_common_slope_matches_notes_and_r(fits, notes_values, r_ref):
    fit = fits["fe_common_slope"]
    ref = notes_values["method2b_fixed_effects"]["ses:Sector"]  # notes: wald(fit2, "ses:Sector")
    row = fit["effect"]
    assert fit["term"] == "SES:SectorPublic"
    for key in ("estimate", "se", "t"):
        printed(row[key], ref[key], 6)
    printed(row["p"], ref["p"], 5)
    assert row["df"] == ref["df"] == 1935
    assert fit["fixef"]["SES:SectorPublic"] == pytest.approx(r_ref["fe2b"]["est"], rel=REL)  # R: fe2b
    assert fit["se"]["SES:SectorPublic"] == pytest.approx(r_ref["fe2b"]["se"], rel=REL)
    assert fit["df"]["SES:SectorPublic"] == r_ref["fe2b"]["df"]
    assert list(fit["fixef"])[:3] == ["(Intercept)", "SES", "School1906"]


# --- Method 3 ---------------------------------------------------------------------------------

def test_two_stage_matches_notes(fits, notes_values):
    ref, fit = notes_values["method3_two_stage"]["slope"], fits["two_stage"]  # notes: summary(lm.mult)
    for term, row in ref.items():
        ours_row = fit["coef"]["slope"][term]
        printed(ours_row["estimate"], row["estimate"], 4)
        printed(ours_row["se"], row["se"], 4)
        printed(ours_row["t"], row["t"], 3)
    printed_sig(fit["coef"]["slope"]["(Intercept)"]["p"], ref["(Intercept)"]["p"], 3)
    printed(fit["coef"]["slope"]["SectorPublic"]["p"], ref["SectorPublic"]["p"], 4)


def test_two_stage_matches_r(fits, r_ref):
    fit = fits["two_stage"]  # R: lm(as.matrix(coef(lmList(y ~ x | school))) ~ w) -> r_ref twostage
    for part in ("intercept", "slope"):
        for term, value in ours(r_ref["twostage"]["coef"][part]).items():
            assert fit["coef"][part][term]["estimate"] == pytest.approx(value, rel=REL)
        for term, value in ours(r_ref["twostage"]["se"][part]).items():
            assert fit["coef"][part][term]["se"] == pytest.approx(value, rel=REL)
    assert fit["fixef"]["SES:SectorPublic"] == fit["coef"]["slope"]["SectorPublic"]["estimate"]
    assert list(fit["fixef"]) == ["(Intercept):(Intercept)", "(Intercept):SectorPublic",
                                  "SES:(Intercept)", "SES:SectorPublic"]


def test_two_stage_blocks_are_consistent(fits):
    fit = fits["two_stage"]
    S = np.array(fit["resid_cov"])
    m = {lv: fit["by_w"][lv]["clusters"] for lv in ("Catholic", "Public")}
    assert m == {"Catholic": 21, "Public": 19}  # notes: 21 Catholic, 19 Public schools
    assert np.array(fit["by_w"]["Public"]["vcov"]) == pytest.approx(S / 19)
    assert np.array(fit["diff"]["vcov"]) == pytest.approx(S * (1 / 21 + 1 / 19))
    assert np.sqrt(np.diag(fit["diff"]["vcov"])) == pytest.approx(
        [fit["coef"][k]["SectorPublic"]["se"] for k in ("intercept", "slope")])
    assert np.sqrt(np.diag(fit["vcov"])) == pytest.approx(list(fit["se"].values()))
    assert fit["groups"] == 40 and fit["n"] == 1977 and fit["failed"] == []
    assert fit["df"]["SES:SectorPublic"] == 38


def test_two_stage_reports_clusters_without_a_line(students40, hsb40):
    data = students40.copy()
    data.loc[data["School"] == "1317", "SES"] = 0.25  # x constant in one school
    keep = ~((data["School"] == "2208") & (data.groupby("School").cumcount() > 0))
    data = data[keep]  # school 2208 keeps a single student
    fit = classic.two_stage(data, hsb40).to_dict()
    failed = {f["cluster"]: f for f in fit["failed"]}
    assert set(failed) == {"1317", "2208"}
    assert "constant" in failed["1317"]["reason"] and failed["1317"]["n"] == 48
    assert failed["2208"]["n"] == 1 and "only 1 observation" in failed["2208"]["reason"]
    assert fit["groups"] == 38 and fit["groups_total"] == 40
    assert fit["n"] == 1977 - 48 - 60 and fit["df"]["SES:SectorPublic"] == 36
    assert "1317" not in fit["clusters"] and "Clusters without a line" in fit["summary"]
    lines = classic.fe_lines(data, hsb40).to_dict()  # the same clusters get no slope in 2a
    assert {f["cluster"] for f in lines["failed"]} == {"1317", "2208"}
    assert "School1317:SES" not in lines["fixef"] and "School1317" in lines["fixef"]


# --- Method 4 and the three effects ------------------------------------------------------------

def test_between_matches_notes_and_r(fits, notes_values, r_ref):
    ref, fit = notes_values["method4_between_school"], fits["between"]  # notes: summary(fit.eco)
    for name, value in ref["coef"].items():
        key = name.replace("ses", "SES")
        printed(fit["fixef"][key], value, 4)
        printed(fit["se"][key], ref["se"][name], 4)
        printed(fit["t"][key], ref["t"][name], 3)
    printed_sig(fit["p"]["SES"], ref["p_ses"], 2)
    for key, value in ours(r_ref["ecological"]["est"]).items():  # R: r_ref ecological
        assert fit["fixef"][key] == pytest.approx(value, rel=REL)
    for key, value in ours(r_ref["ecological"]["se"]).items():
        assert fit["se"][key] == pytest.approx(value, rel=REL)
    assert fit["df_resid"] == 38 and len(fit["clusters"]) == 40
    # school means printed in the notes (up(hs, ~ school, all = TRUE))
    means = notes_values["derived"]
    for school, value in means["school_mean_mathach"].items():
        printed(fit["clusters"][str(school)]["mean_y"], value, 6)
    for school, value in means["school_mean_ses"].items():
        printed(fit["clusters"][str(school)]["mean_x"], value, 8)


def test_three_effects(fits, students40):
    fit = fits["three_effects"]
    assert fit["between"]["estimate"] == fits["between"]["fixef"]["SES"]
    assert fit["between"]["se"] == fits["between"]["se"]["SES"]
    slope, intercept = np.polyfit(students40["SES"], students40["MathAch"], 1)
    assert fit["pooled"]["estimate"] == pytest.approx(slope, rel=1e-10)
    assert fit["lines"]["pooled"]["intercept"] == pytest.approx(intercept, rel=1e-10)
    # within: the slope on within-school deviations (y ~ school + x)
    dx = students40["dvar_SES"]
    dy = students40["MathAch"] - students40.groupby("School")["MathAch"].transform("mean")
    assert fit["within"]["estimate"] == pytest.approx((dx @ dy) / (dx @ dx), rel=1e-10)
    assert fit["within"]["estimate"] < fit["pooled"]["estimate"] < fit["between"]["estimate"]
    assert fit["fixef"] == {k: fit[k]["estimate"] for k in ("within", "between", "pooled")}
    assert fit["vcov"][0][1] is None and fit["vcov"][0][0] == pytest.approx(fit["within"]["se"] ** 2)


# --- the result schema --------------------------------------------------------------------------

COMMON = ["model", "kind", "label", "fixed", "call", "n", "groups", "fixef", "se", "t", "p", "df",
          "vcov", "summary"]
EXTRA = {"pooled": ["sigma", "df_resid", "r2", "adj_r2", "F", "resid_quantiles", "by_w", "diff"],
         "fe_lines": ["clusters", "by_w", "diff", "wald", "failed"],
         "fe_common_slope": ["effect", "term"],
         "two_stage": ["coef", "clusters", "failed", "resid_cov", "by_w", "diff"],
         "between": ["clusters"],
         "three_effects": ["within", "between", "pooled", "lines"]}


@pytest.mark.parametrize("name", list(classic.LABELS))
def test_schema(fits, name):
    fit = fits[name]
    for key in COMMON + EXTRA[name]:
        assert key in fit, key
    assert fit["kind"] == "ols" and fit["model"] == name
    assert fit["call"] == f"hlm.classic.{name}(students, profile)"
    assert fit["n"] == 1977 and fit["groups"] == 40
    assert list(fit["fixef"]) == list(fit["se"]) == list(fit["t"]) == list(fit["p"]) == list(fit["df"])
    assert len(fit["vcov"]) == len(fit["fixef"])
    assert "Estimate" in fit["summary"] and "Std. Error" in fit["summary"]


def test_hsb160_runs_without_code_change(students160, hsb160):
    out = {name: getattr(classic, name)(students160, hsb160).to_dict() for name in classic.LABELS}
    for name, fit in out.items():
        assert (fit["n"], fit["groups"]) == (7185, 160), name
        assert all(np.isfinite(list(fit["se"].values()))), name
    assert out["fe_lines"]["wald"]["df"] == [2, 7185 - 320]
    assert out["two_stage"]["failed"] == [] and sum(v["clusters"] for v in out["two_stage"]["by_w"].values()) == 160
    eff = out["three_effects"]
    assert eff["within"]["estimate"] < eff["pooled"]["estimate"] < eff["between"]["estimate"]
    assert 0 < out["pooled"]["r2"] < 1


# --- bad input ----------------------------------------------------------------------------------

def test_missing_column_is_a_data_error(students40, hsb40):
    with pytest.raises(DataError, match="SES"):
        classic.pooled(students40.drop(columns=["SES"]), hsb40)


def test_w_varying_within_a_cluster_is_a_data_error(students40, hsb40):
    data = students40.copy()
    data["Sector"] = data["Sector"].astype(str)
    data.loc[data.index[:3], "Sector"] = "Public"  # first rows are school 1317, Catholic
    with pytest.raises(DataError, match="varies within"):
        classic.pooled(data, hsb40)


def test_a_single_level_of_w_is_a_model_error(students40, hsb40):
    data = students40[students40["Sector"] == "Catholic"]
    with pytest.raises(ModelError, match="two levels"):
        classic.pooled(data, hsb40)


def test_collinear_design_is_a_model_error(hsb40):
    data = pd.DataFrame({"School": ["1", "1", "2", "2", "3", "3"], "SES": [0.0, 1.0, 0.0, 1.0, 2.0, 3.0],
                         "MathAch": [1.0, 2.0, 3.0, 5.0, 4.0, 4.0],
                         "Sector": ["Catholic", "Catholic", "Public", "Public", "Public", "Public"]})
    data["SES"] = data["SES"] * 0  # x identically 0: its column is empty
    with pytest.raises(ModelError):
        classic.pooled(data, hsb40)


def test_between_lines_by_w(fits):
    fit = fits["between"]  # the between line within each level of w, for the figures
    for level in ("Catholic", "Public"):
        pts = [c for c in fit["clusters"].values() if c["w"] == level]
        slope, intercept = np.polyfit([c["mean_x"] for c in pts], [c["mean_y"] for c in pts], 1)
        assert fit["by_w"][level]["coef"] == pytest.approx([intercept, slope], rel=1e-9)
    diff = np.subtract(fit["by_w"]["Public"]["coef"], fit["by_w"]["Catholic"]["coef"])
    assert fit["diff"]["coef"] == pytest.approx(diff)


def test_own_data_with_other_names(tmp_path):
    """A profile that is not HSB: text ids, w coded yes/no, reference "no" (the lead's fixture)."""
    from hlm.config import get_profile, load_config
    from hlm.sample import with_data
    from hlm.data import merge
    from hlm.levels import derive
    from tests.fixtures.clinics import MISSING_AGE, MISSING_SBP, N_CLINICS, make_clinics

    paths = make_clinics(tmp_path)
    profile = with_data(get_profile(load_config([paths["config"]]), "clinics"))
    students = derive(merge(profile).frame, profile)[0]
    n = paths["n_patients"] - len(MISSING_SBP) - len(MISSING_AGE)
    out = {name: getattr(classic, name)(students, profile).to_dict() for name in classic.LABELS}
    for name, fit in out.items():
        assert (fit["n"], fit["groups"]) == (n, N_CLINICS), name
    assert list(out["pooled"]["fixef"]) == ["(Intercept)", "age_std", "urbanyes", "age_std:urbanyes"]
    assert out["pooled"]["fixed"] == "sbp ~ age_std * urban"
    assert set(out["pooled"]["by_w"]) == {"no", "yes"}
    assert "clinic_idCL-01" in out["fe_lines"]["fixef"] and "clinic_idCL-24:age_std" in out["fe_lines"]["fixef"]
    assert out["fe_common_slope"]["term"] == "age_std:urbanyes"
    assert set(out["two_stage"]["coef"]["slope"]) == {"(Intercept)", "urbanyes"}
    assert out["between"]["fixed"] == "mean_sbp ~ mean_age_std"


# --- the fixed-effects methods without a dummy design (hlm.within) -------------------------------

def random_students(seed: int) -> pd.DataFrame:
    """Unbalanced clusters, w constant within each; 101 has one row, 102 and 103 two (103 with
    equal x), 104 a constant x; rows in shuffled order."""
    rng = np.random.default_rng(seed)
    sizes = np.concatenate([[1, 2, 2, 5], rng.integers(3, 25, size=26)])
    g = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    w = np.where(np.arange(len(sizes)) % 2 == 0, "Public", "Catholic")
    x = rng.normal(rng.normal(size=len(sizes))[g], 1.0)
    x[g == 3] = 0.5
    x[g == 2] = -1.25
    y = 12 + 2 * x + (w[g] == "Public") * (1 - x) + rng.normal(size=len(sizes))[g] * 2 + rng.normal(size=len(g)) * 3
    return pd.DataFrame({"School": (101 + g).astype(str), "SES": x, "MathAch": y, "Sector": w[g]})


def dense_dummies(data: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    ids = sorted(data["School"].unique(), key=int)
    return ids, (data["School"].to_numpy()[:, None] == np.array(ids)[None, :]).astype(float)


def same(fit: dict, dense) -> None:
    """fixef/se/t/p/df and vcov of a result equal a statsmodels fit's, name by name."""
    names = list(dense.params.index)
    assert list(fit["fixef"]) == names
    for key, ref in (("fixef", dense.params), ("se", dense.bse), ("t", dense.tvalues), ("p", dense.pvalues)):
        np.testing.assert_allclose([fit[key][k] for k in names], ref.to_numpy(), rtol=1e-10)
    assert set(fit["df"].values()) == {int(dense.df_resid)}
    V = dense.cov_params().to_numpy()
    np.testing.assert_allclose(fit["vcov"], V, rtol=1e-10, atol=1e-12 * np.abs(V).max())


@pytest.mark.parametrize("seed", [1, 2])
def test_fe_lines_equals_the_dense_design(seed, hsb40):
    data = random_students(seed)
    fit = classic.fe_lines(data, hsb40).to_dict()
    ids, D = dense_dummies(data)
    lined = [j for j, c in enumerate(ids) if j not in (0, 2, 3)]  # 101: one row; 103, 104: constant x
    X = pd.DataFrame(np.hstack([D, D[:, lined] * data[["SES"]].to_numpy()]),
                     columns=[f"School{c}" for c in ids] + [f"School{ids[j]}:SES" for j in lined])
    dense = sm.OLS(data["MathAch"].to_numpy(), X).fit()
    same(fit, dense)
    assert [f["cluster"] for f in fit["failed"]] == ["101", "103", "104"]
    assert [f["n"] for f in fit["failed"]] == [1, 2, 5]
    assert "x is constant (-1.25)" in fit["failed"][1]["reason"]
    fs = classic.fit_stats(dense)
    assert fit["sigma"] == pytest.approx(fs["sigma"], rel=1e-10) and fit["df_resid"] == fs["df_resid"]
    lm_text, rest = fit["summary"].split("\n\nClusters without a line (an intercept only, left out of the means): ")
    assert lm_text == lm_summary("MathAch ~ School / SES - 1", "students", dense, fs)
    assert rest.startswith("101 (only 1 observation") and "nan" not in fit["summary"].lower()
    V = dense.cov_params()
    for cid, c in fit["clusters"].items():
        pair = [f"School{cid}", f"School{cid}:SES"]
        np.testing.assert_allclose(c["vcov"], V.loc[pair, pair].to_numpy(), rtol=1e-10)
    L = np.zeros((2, len(X.columns)))  # Public - Catholic means of the lines (the notes' diffmat %*% L)
    public = set(data.loc[data["Sector"] == "Public", "School"])
    for sign in (1, -1):
        members = [j for j in lined if (ids[j] in public) == (sign == 1)]
        for j in members:
            L[0, j] = L[1, len(ids) + lined.index(j)] = sign / len(members)
    ref = classic.wald(dense, L, ["int_diff", "slope_diff"])
    for key in ("F", "p"):
        assert fit["wald"][key] == pytest.approx(ref[key], rel=1e-10)
    assert fit["wald"]["df"] == ref["df"]
    for row in ("int_diff", "slope_diff"):
        for key in ("estimate", "se", "t", "p"):
            assert fit["wald"]["rows"][row][key] == pytest.approx(ref["rows"][row][key], rel=1e-10)
    np.testing.assert_allclose(fit["diff"]["vcov"], L @ V.to_numpy() @ L.T, rtol=1e-10)


def test_fe_common_slope_and_within_effect_equal_the_dense_design(hsb40):
    data = random_students(3)
    ids, D = dense_dummies(data)
    x, public = data["SES"].to_numpy(), (data["Sector"] == "Public").to_numpy(float)
    X = pd.DataFrame(np.column_stack([np.ones(len(x)), x, D[:, 1:], x * public]),
                     columns=["(Intercept)", "SES"] + [f"School{c}" for c in ids[1:]] + ["SES:SectorPublic"])
    dense = sm.OLS(data["MathAch"].to_numpy(), X).fit()
    fit = classic.fe_common_slope(data, hsb40).to_dict()
    same(fit, dense)
    fs = classic.fit_stats(dense)
    assert fit["summary"] == lm_summary("MathAch ~ SES + School + SES:Sector", "students", dense, fs)
    for key in ("sigma", "r2", "adj_r2", "F", "F_p"):
        assert fit[key] == pytest.approx(fs[key], rel=1e-10), key
    np.testing.assert_allclose(fit["resid_quantiles"], fs["resid_quantiles"], rtol=1e-10, atol=1e-12)
    assert (fit["df_resid"], fit["F_df"]) == (fs["df_resid"], fs["F_df"])
    assert fit["effect"]["se"] == pytest.approx(dense.bse["SES:SectorPublic"], rel=1e-10)
    V = dense.cov_params().loc[["SES", "SES:SectorPublic"], ["SES", "SES:SectorPublic"]].to_numpy()
    np.testing.assert_allclose(fit["vcov_slopes"]["vcov"], V, rtol=1e-10)
    within = sm.OLS(data["MathAch"].to_numpy(), np.column_stack([np.ones(len(x)), D[:, 1:], x])).fit()
    eff = classic.three_effects(data, hsb40).to_dict()["within"]
    assert [eff[k] for k in ("estimate", "se", "t", "p")] == pytest.approx(
        [within.params[-1], within.bse[-1], within.tvalues[-1], within.pvalues[-1]], rel=1e-10)
    assert eff["df"] == within.df_resid == len(x) - len(ids) - 1


def test_many_coefficients_store_blocks_not_the_full_vcov(hsb40, monkeypatch):
    data = random_students(4)
    small = {m: getattr(classic, m)(data, hsb40).to_dict() for m in ("fe_lines", "fe_common_slope")}
    monkeypatch.setattr(classic, "FULL_VCOV_MAX", 20)  # both fits have more coefficients than this
    for name, full in small.items():
        fit = getattr(classic, name)(data, hsb40).to_dict()
        assert fit["vcov"] is None and len(full["vcov"]) == len(fit["fixef"]) > 20
        assert {k: v for k, v in fit.items() if k != "vcov"} == {k: v for k, v in full.items() if k != "vcov"}
    V = np.array(small["fe_lines"]["vcov"])
    names = list(small["fe_lines"]["fixef"])
    for cid, c in small["fe_lines"]["clusters"].items():  # the blocks are the whole of the matrix
        i, j = names.index(f"School{cid}"), names.index(f"School{cid}:SES")
        assert np.array(c["vcov"]) == pytest.approx(V[np.ix_([i, j], [i, j])], rel=1e-12)
        V[np.ix_([i, j], [i, j])] = 0
    for f in small["fe_lines"]["failed"]:
        i = names.index(f"School{f['cluster']}")
        assert V[i, i] == pytest.approx(small["fe_lines"]["se"][f"School{f['cluster']}"] ** 2)
        V[i, i] = 0
    assert not V.any()


def test_fe_lines_without_residual_df_is_a_model_error(hsb40):
    data = pd.DataFrame({"School": ["1", "1", "2", "2", "3", "3"], "SES": [0.0, 1.0, 0.0, 1.0, 2.0, 3.0],
                         "MathAch": [1.0, 2.0, 3.0, 5.0, 4.0, 4.0],
                         "Sector": ["Catholic", "Catholic", "Public", "Public", "Public", "Public"]})
    with pytest.raises(ModelError, match="6 observations cannot estimate 6 coefficients"):
        classic.fe_lines(data, hsb40)
    assert classic.two_stage(data, hsb40).to_dict()["groups"] == 3  # each cluster still has its line


def test_no_lines_when_x_is_constant_within_clusters_said_in_the_datasets_words(students40, hsb40):
    # every school's SES replaced by its mean: no school has a line of its own
    data = students40.copy()
    data["SES"] = data.groupby("School", observed=True)["SES"].transform("mean")
    with pytest.raises(ModelError, match=r"SES takes a single value in all 21 Catholic schools"):
        classic.fe_lines(data, hsb40)
    with pytest.raises(ModelError, match=r"SES does not vary within any of the Catholic schools"):
        classic.fe_common_slope(data, hsb40)
    with pytest.raises(ModelError, match=r"here 0 Catholic and 0 Public schools have one"):
        classic.two_stage(data, hsb40)
    with pytest.raises(ModelError, match=r"SES does not vary within any school"):
        classic.three_effects(data, hsb40)
