"""hlm.levels: derived variables reproduce the notes' printed values."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hlm.levels import cvar, derive, dvar, read_schools, tab, up


def test_cvar_dvar():
    x = pd.Series([1.0, 3.0, 10.0, 20.0, 30.0])
    g = pd.Series(["a", "a", "b", "b", "b"])
    assert cvar(x, g).tolist() == [2.0, 2.0, 20.0, 20.0, 20.0]
    assert dvar(x, g).tolist() == [-1.0, 1.0, -10.0, 0.0, 10.0]


def test_sex_composition(tables40, notes_values):
    students, schools = tables40
    d = notes_values["derived"]
    comp = schools.set_index("School")["sex_comp"]
    for school, value in d["sex_comp"].items():
        assert comp[str(school)] == pytest.approx(value, abs=0.5 * 10 ** -d["digits"])
    assert (students.loc[students.Sector == "Public", "sex_cat"] == "Coed").all()  # notes: all public coed


def test_informative_ids_and_order(tables40, notes_values):
    students, schools = tables40
    sid = schools.set_index("School")["sid"].astype(str)
    for school, value in notes_values["derived"]["sid"].items():
        assert sid[str(school)] == value
    # notes' reorder: Public first, then Catholic; within a sector by mean SES
    order = schools["Sector"].astype(str).tolist()
    assert order == ["Public"] * 19 + ["Catholic"] * 21
    for _, part in schools.groupby("Sector", observed=True):
        assert part["mean_SES"].is_monotonic_increasing
    assert list(students["sid"].cat.categories) == schools["sid"].astype(str).tolist()


def test_school_means(tables40, notes_values):
    _, schools = tables40
    d = notes_values["derived"]
    by = schools.set_index("School")
    for school, value in d["school_mean_mathach"].items():
        assert by.loc[str(school), "mean_MathAch"] == pytest.approx(value, abs=5e-7)
    for school, value in d["school_mean_ses"].items():
        assert by.loc[str(school), "mean_SES"] == pytest.approx(value, abs=5e-9)


def test_contextual_columns(tables40):
    students, _ = tables40
    mean = students.groupby("School")["SES"].transform("mean")
    assert np.allclose(students["cvar_SES"], mean)
    assert np.allclose(students["dvar_SES"] + students["cvar_SES"], students["SES"])
    assert np.allclose(students.groupby("School")["dvar_SES"].mean(), 0)
    assert (students["n"] == students.groupby("School")["SES"].transform("size")).all()


def test_up_level2_only_and_with_summaries(tables40, notes_values):
    students, _ = tables40
    short = up(students, "School")
    # only columns constant within schools; the notes' hs.sch has 40 rows
    assert len(short) == 40
    assert {"Sector", "Size", "PRACAD", "DISCLIM", "sid", "sex_comp"} <= set(short.columns)
    assert "SES" not in short.columns and "MathAch" not in short.columns
    full = up(students, "School", summaries=True).set_index("School")
    for school, value in notes_values["derived"]["school_mean_mathach"].items():
        assert full.loc[str(school), "MathAch"] == pytest.approx(value, abs=5e-7)
    # modes of categorical level-1 variables (notes: school 2629 is all male -> Male)
    assert full.loc["2629", "Sex"] == "Male"


def test_tab_with_totals(tables40, notes_values):
    students, _ = tables40
    t = tab(students, "Sex", "Sector")
    d = notes_values["data"]
    assert t.loc["Female", "Catholic"] == d["sex_by_sector"]["Catholic"]["Female"]
    assert t.loc["Total", "Total"] == 1977
    assert t.loc["Total", "Public"] == d["students_by_sector"]["Public"]


def test_schools_csv_roundtrip(tables40, hsb40, tmp_path):
    _, schools = tables40
    path = tmp_path / "schools.csv"
    schools.to_csv(path, index=False)
    back = read_schools(path, hsb40)
    assert list(back["Sector"].cat.categories) == ["Catholic", "Public"]
    assert back["School"].tolist() == schools["School"].tolist()
    assert list(back["sid"].cat.categories) == schools["sid"].astype(str).tolist()


def test_x_constant_within_a_cluster_deviates_by_exactly_zero(merged40, hsb40):
    # x = 0.1 three times has a floating-point mean of 0.10000000000000002: the deviations of a
    # constant x must be exactly 0 all the same, so that models of them are refused, not fitted
    frame = merged40.frame.copy()
    first = frame["School"] == frame["School"].iloc[0]
    frame.loc[first, "SES"] = 0.1
    students, _ = derive(frame, hsb40)
    assert (students.loc[first, "dvar_SES"] == 0).all()
    assert (students.loc[first, "cvar_SES"] == 0.1).all()


def test_without_sex_role(merged40, hsb40):
    import dataclasses
    roles = {k: v for k, v in hsb40.roles.items() if k != "sex"}
    prof = dataclasses.replace(hsb40, roles=roles)
    students, schools = derive(merged40.frame, prof)
    assert "sex_cat" not in students and "sex_comp" not in schools
    assert schools.set_index("School").loc["4530", "sid"] == "C4530"


def test_cluster_with_unknown_sex_gets_no_category(merged40, hsb40):
    frame = merged40.frame.copy()
    frame["Sex"] = frame["Sex"].astype(object)
    frame.loc[frame["School"] == "2626", "Sex"] = None
    students, schools = derive(frame, hsb40)
    row = schools.set_index("School").loc["2626"]
    assert np.isnan(row["sex_comp"]) and pd.isna(row["sex_cat"]) and row["sid"] == "P2626"


def test_informative_id_prefix_tells_levels_apart():
    from hlm.levels import w_prefix
    assert w_prefix(pd.Series(["Catholic", "Public"], dtype="string")).tolist() == ["C", "P"]
    assert w_prefix(pd.Series(["Public", "Private", "Public"], dtype="string")).tolist() == ["Pu", "Pr", "Pu"]
    assert w_prefix(pd.Series(["no", "yes"], dtype="string")).tolist() == ["N", "Y"]
