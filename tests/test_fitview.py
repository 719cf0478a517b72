"""hlm.fitview: values and tables the chapters compute from fit records."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from hlm.config import Profile, Role
from hlm.fitview import FitView, fe_table, lincomb, lrt_pvalue, lrt_row
from _fixtures_models import students40  # noqa: F401

PROFILE = Profile(name="t", title="t", students=None, schools=None, cluster="School", sample="all",
                  roles={"y": Role("MathAch", "math"), "x": Role("SES", "SES"),
                         "w": Role("Sector", "sector", reference="Catholic", levels=("Catholic", "Public"))},
                  cluster_label="school")

FIT = {"model": "m", "fixed": "MathAch ~ SES * Sector", "random": "~ 1 + SES | School",
       "fixef": {"(Intercept)": 12.0, "SES": 2.0, "SectorPublic": -1.0, "SES:SectorPublic": 0.5},
       "se": {"(Intercept)": 0.5, "SES": 0.2, "SectorPublic": 0.7, "SES:SectorPublic": 0.3},
       "df": {"(Intercept)": 36.0, "SES": 1933.2, "SectorPublic": 38.0, "SES:SectorPublic": 1933.0},
       "t": {"(Intercept)": 24.0, "SES": 10.0, "SectorPublic": -1.4, "SES:SectorPublic": 1.7},
       "p": {"(Intercept)": 1e-9, "SES": 1e-8, "SectorPublic": 0.17, "SES:SectorPublic": 0.09},
       "vcov": np.diag([0.25, 0.04, 0.49, 0.09]).tolist(),
       "G": [[4.0, 0.5], [0.5, 1.0]], "re_sd": {"(Intercept)": 2.0, "SES": 1.0}, "re_cor": [[1, 0.25], [0.25, 1]],
       "re_names": ["(Intercept)", "SES"], "sigma": 6.0, "summary": "Linear mixed model\n",
       "intervals": {"reStruct": {"sd(SES)": {"lower": 0.25, "est": 1.0, "upper": 1.9}}}}
COMPARISON = {"lrt": [{"null": "a", "alt": "m", "statistic": 4.2, "df": 2, "p": 0.12, "p_boundary": 0.08,
                       "criterion": "REML"},
                      {"null": "b", "alt": "m", "statistic": 9.0, "df": 1, "p": 0.003, "criterion": "ML"}]}


def book(**fits):
    fits = {"m": FIT, "a": FIT, "b": FIT, "c": FIT, "comparison": COMPARISON, **fits}
    return SimpleNamespace(fit=fits.__getitem__, usable=lambda m: "error" not in fits[m], profile=PROFILE)


def test_lincomb_estimate_and_se():
    est, se = lincomb(FIT, {"(Intercept)": 1, "SectorPublic": 1})
    assert est == pytest.approx(11.0) and se == pytest.approx(math.sqrt(0.25 + 0.49))


def test_fe_table_as_nlme_prints_it():
    tab = fe_table(FIT)
    assert list(tab.columns) == ["Value", "Std.Error", "DF", "t-value", "p-value"]
    assert tab.loc["SES", "DF"] == 1933 and tab.loc["(Intercept)", "p-value"] == "< 0.0001"
    assert list(fe_table({"error": "boom"})["note"]) == ["fit failed: boom"]


def test_lrt_rows_and_p_values():
    assert lrt_row(COMPARISON, "a", "m")["statistic"] == 4.2 and lrt_row(COMPARISON, "x", "m") is None
    assert lrt_pvalue(lrt_row(COMPARISON, "a", "m")) == 0.08  # boundary corrected
    assert lrt_pvalue(lrt_row(COMPARISON, "b", "m")) == 0.003 and math.isnan(lrt_pvalue(None))


def test_readings_by_model_name():
    v = FitView(book(bad={"model": "bad", "error": "too few rows"}))
    assert v.ok("m") and not v.ok("bad")
    assert v.fe("m", "SES") == 2.0 and math.isnan(v.fe("bad", "SES")) and math.isnan(v.fe("m", "nope"))
    assert v.se("m", "SES") == 0.2 and v.g("m", 0, 1) == 0.5 and v.sd("m", "SES") == 1.0
    assert v.cor("m") == 0.25 and v.sigma2("m") == 36.0
    assert v.pv("m", "SectorPublic") == "p = 0.1700"
    assert v.pv("bad", "SES") == "not available (`bad` is not fitted on this dataset)"
    assert v.shift("m", "m") == 0.0 and math.isnan(v.shift("m", "bad"))
    assert v.combo("m", {"SES": 1, "SES:SectorPublic": 1})[0] == pytest.approx(2.5)


def test_text_in_words():
    v = FitView(book(bad={"model": "bad", "error": "x"}))
    assert v.vc_text("m") == ("SD of the school intercepts 2.000, SD of the school SES slopes 1.000, "
                              "their correlation 0.250, residual SD σ̂ 6.000")
    assert v.vc_text("bad") == "not available (the fit failed)"
    assert v.lrt_text("a", "m") == "likelihood ratio 4.20 on 2 df, p = 0.0800 (with the boundary correction)"
    assert v.lrt_text("b", "m") == "likelihood ratio 9.00 on 1 df, p = 0.0030 (ML)"
    assert v.lrt_text("c", "m") == "(no likelihood-ratio test of this pair in the comparison)"
    assert v.lrt_text("bad", "m").startswith("no likelihood-ratio test (`bad`")
    assert v.verdict(0.001).endswith("between schools.")


def test_equivalents_in_r_and_sas():
    v = FitView(book(bad={"model": "bad", "error": "x"}))
    assert v.sas_terms(FIT) == "SES Sector SES*Sector"
    text = v.equivalents("m")
    assert "lme(MathAch ~ SES * Sector, data, random = ~ 1 + SES | School)" in text
    assert "CLASS School Sector;" in text and "RANDOM INTERCEPT SES / SUBJECT = School TYPE = UN;" in text
    assert text.endswith("Linear mixed model\n```\n:::") and v.equivalents("bad") == ""


def test_sd_interval_or_nans():
    view = FitView(book(m=FIT))
    assert view.sd_interval("m", "SES") == (0.25, 1.9)
    assert all(math.isnan(v) for v in view.sd_interval("m", "(Intercept)"))


def test_wald_on_a_record_matches_the_engine(students40):
    """A Wald test from a fit's record (what a chapter has) equals the engine's on the fit."""
    from hlm.fitview import matching, wald
    from hlm.lmm import fit
    res = fit(students40, "MathAch ~ SES * Sector", "~ 1 + SES | School", reference={"Sector": "Catholic"})
    record = {"fixef": res.fixef_dict(), "vcov": res.vcov.tolist(), "df": dict(zip(res.x_names, res.df))}
    assert matching(res.x_names, "Sector") == ["SectorPublic", "SES:SectorPublic"]
    ours, engine = wald(record, "Sector"), res.wald(["SectorPublic", "SES:SectorPublic"])
    assert ours["F"] == pytest.approx(engine["F"], rel=1e-12) and ours["numDF"] == 2
    assert ours["denDF"] == engine["denDF"] and ours["p"] == pytest.approx(engine["p"], rel=1e-12)
    L = {"Public at SES 1": {"SectorPublic": 1.0, "SES:SectorPublic": 1.0}}
    row = wald(record, L)["rows"]["Public at SES 1"]
    assert row["estimate"] == pytest.approx(res.fixef[2] + res.fixef[3])
    with pytest.raises(ValueError, match="no coefficient matches"):
        matching(res.x_names, "Minority")


# --- words that hold on any data (issue "true words for any data") ------------------------------

def test_gap_and_amount_use_the_unit_and_say_when_there_is_no_difference():
    from hlm.fitview import amount, gap
    assert amount(-1.234, "points") == "1.23 points" and amount(1.5) == "1.50"
    assert gap(1.17, "points") == "1.17 points higher" and gap(-0.4, "") == "0.40 lower"
    assert gap(0.001, "mm") == "at the same level" and gap(float("nan")) == "not estimated"


def test_variance_change_names_a_rise_a_drop_and_a_zero_base():
    from hlm.fitview import variance_change
    assert variance_change(0.661, 0.394, "the variance", "sex") == \
        "the variance drops from 0.661 to 0.394: sex accounts for 40% of it"
    up = variance_change(0.661, 1.6, "the variance", "age")
    assert up.startswith("the variance rises from 0.661 to 1.600") and "accounts for none of it" in up
    assert "does not change" in variance_change(0.5, 0.5001, "v", "w")
    assert "estimated at 0 in both models" in variance_change(0.0, 0.0, "v", "w")
    assert "nothing to reduce" in variance_change(0.0, 0.2, "v", "w")  # never a ZeroDivisionError


def test_position_of_an_estimate_between_two_others():
    from hlm.fitview import position
    assert position(2.4, 2.2, 4.0, "within effect", "between effect") == \
        "lies between them, closer to the within effect"
    assert position(3.9, 2.2, 4.0, "within effect", "between effect").endswith("between effect")
    assert position(5.0, 2.2, 4.0, "a", "b") == "lies outside the interval between them"
    assert position(1.0, 1.0, 1.0, "a", "b").startswith("is the same as both")
    # mirrored data (every effect flips sign): the same words
    assert position(-2.4, -2.2, -4.0, "within effect", "between effect") == \
        "lies between them, closer to the within effect"


def test_x_spread_flags_balanced_and_within_constant_designs():
    import pandas as pd
    from hlm.fitview import x_spread
    prof = SimpleNamespace(x="x", cluster="c")
    balanced = pd.DataFrame({"c": [1, 1, 2, 2], "x": [8.0, 10.0, 8.0, 10.0]})
    assert x_spread(balanced, prof)["no_between"] and not x_spread(balanced, prof)["no_within"]
    constant = pd.DataFrame({"c": [1, 1, 2, 2], "x": [1.0, 1.0, 3.0, 3.0]})
    assert x_spread(constant, prof)["no_within"] and not x_spread(constant, prof)["no_between"]


def test_slope_verdict_holds_for_any_number_of_clusters():
    v = FitView(book())
    assert "this many" not in v.verdict(0.5) and "not evidence that they are equal" in v.verdict(0.5)
    assert v.verdict(0.001).endswith("between schools.") and v.verdict(float("nan")) == ""


def test_a_rise_under_one_percent_is_still_called_a_rise():
    from hlm.fitview import variance_change
    text = variance_change(17.399, 17.445, "the variance", "SES")
    assert "rises from 17.399 to 17.445 (by less than 1%)" in text and "no change" not in text
