"""hlm.data: the merge reproduces the notes' sample; bad input fails clearly, writing nothing."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from hlm.data import merge, merge_to, read_merged, run
from hlm.errors import DataError

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


# --- the notes' sample (values from data/reference/notes_values.yaml) -----------------

def test_sample_counts(merged40, notes_values, hsb40):
    d = notes_values["data"]
    frame = merged40.frame
    assert len(frame) == d["n_students"] == 1977
    assert frame[hsb40.cluster].nunique() == d["n_schools"]
    by_school = frame.groupby(hsb40.cluster).size()
    assert {int(k): int(v) for k, v in by_school.items()} == d["students_per_school"]
    assert (by_school.min(), by_school.max()) == tuple(d["school_size_range"])


def test_sector_and_sex_counts(merged40, notes_values):
    d = notes_values["data"]
    frame = merged40.frame
    assert frame["Sector"].value_counts().to_dict() == d["students_by_sector"]
    assert frame["Sex"].value_counts().to_dict() == d["students_by_sex"]
    schools = frame.drop_duplicates("School")["Sector"].value_counts().to_dict()
    assert schools == {"Catholic": d["n_catholic_schools"], "Public": d["n_public_schools"]}
    for sector, counts in d["sex_by_sector"].items():
        assert frame.loc[frame["Sector"] == sector, "Sex"].value_counts().to_dict() == counts


def test_merge_keeps_row_numbers_and_reference_level(merged40):
    frame = merged40.frame
    raw = pd.read_csv(RAW / "hsb_students.csv", dtype={"School": str})
    # the notes' column X is the student's 1-based row in the raw file
    back = raw.iloc[frame["row"].to_numpy() - 1]
    assert (back["MathAch"].to_numpy() == frame["MathAch"].to_numpy()).all()
    assert (back["School"].to_numpy() == frame["School"].to_numpy()).all()
    assert list(frame["Sector"].cat.categories) == ["Catholic", "Public"]
    # MEANSES is in both files: it is checked to agree and kept once
    assert "MEANSES" in frame and not any(c.endswith("__student") for c in frame)
    assert merged40.report["rows_dropped"] == 0


def test_other_samples(hsb160, config):
    from hlm.config import get_profile
    from hlm.sample import with_data
    full = merge(hsb160).frame
    assert (len(full), full["School"].nunique()) == (7185, 160)
    rand = with_data(get_profile(config, "hsb-random"))
    a, b = merge(rand).frame, merge(rand).frame
    assert a["School"].nunique() == 40 and a.equals(b)
    other = dataclasses.replace(rand, sample={"random": 40, "seed": 2})
    assert set(merge(other).frame["School"]) != set(a["School"])


def test_run_writes_parquet_with_report(tmp_path):
    out = tmp_path / "merged.parquet"
    assert run(["--dataset", "hsb40", "--out", str(out)]) == 0
    back = read_merged(out)
    assert len(back.frame) == 1977 and back.report["clusters"] == 40


# --- bad input: DataError naming what is wrong; no output left ---------------------------

def _write(tmp_path: Path, students: pd.DataFrame, schools: pd.DataFrame):
    s, c = tmp_path / "students.csv", tmp_path / "schools.csv"
    students.to_csv(s, index=False)
    schools.to_csv(c, index=False)
    return s, c


@pytest.fixture()
def raw_frames():
    students = pd.read_csv(RAW / "hsb_students.csv", dtype={"School": str})
    schools = pd.read_csv(RAW / "hsb_schools.csv", dtype={"School": str})
    keep = ["1317", "1906", "2626", "2639"]
    return students[students.School.isin(keep)].copy(), schools[schools.School.isin(keep)].copy()


def _profile(hsb40, s, c, **changes):
    return dataclasses.replace(hsb40, students=s, schools=c, sample="all", **changes)


def _expect(profile, tmp_path, *words):
    """The merge step fails with a DataError naming `words`, and writes nothing."""
    out = tmp_path / "out" / "merged.parquet"
    with pytest.raises(DataError) as info:
        merge_to(profile, out)
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert not out.exists() and not (tmp_path / "out").exists()
    return message


def test_missing_file(hsb40, tmp_path):
    prof = _profile(hsb40, tmp_path / "nope.csv", RAW / "hsb_schools.csv")
    _expect(prof, tmp_path, "nope.csv", "does not exist")


def test_misspelled_column_suggests_closest(hsb40, raw_frames, tmp_path):
    s, c = _write(tmp_path, *raw_frames)
    roles = dict(hsb40.roles)
    roles["y"] = dataclasses.replace(roles["y"], column="MathAc")
    _expect(_profile(hsb40, s, c, roles=roles), tmp_path, "MathAc", "Did you mean 'MathAch'", "Columns present")


def test_non_numeric_y(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    students["MathAch"] = students["MathAch"].astype(object)
    students.iloc[3, students.columns.get_loc("MathAch")] = "twelve"
    s, c = _write(tmp_path, students, schools)
    _expect(_profile(hsb40, s, c), tmp_path, "MathAch", "numeric", "twelve", "lines 5")


def test_missing_cluster_id(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    students.iloc[0, students.columns.get_loc("School")] = None
    s, c = _write(tmp_path, students, schools)
    _expect(_profile(hsb40, s, c), tmp_path, "cluster id 'School' is missing", "lines 2")


def test_duplicate_school_ids(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    s, c = _write(tmp_path, students, pd.concat([schools, schools.iloc[[1]]]))
    _expect(_profile(hsb40, s, c), tmp_path, "duplicate cluster ids", "1906")


def test_students_without_school(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    s, c = _write(tmp_path, students, schools[schools.School != "2639"])
    _expect(_profile(hsb40, s, c), tmp_path, "absent from", "2639")


def test_schools_without_students_are_reported(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    s, c = _write(tmp_path, students[students.School != "2639"], schools)
    report = merge(_profile(hsb40, s, c)).report
    assert report["clusters_without_students"] == ["2639"]


def test_level2_variable_varies_within_cluster(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    students.iloc[0, students.columns.get_loc("MEANSES")] = 9.9
    s, c = _write(tmp_path, students, schools)
    _expect(_profile(hsb40, s, c), tmp_path, "MEANSES", "varies within clusters", "1317")


def test_w_not_binary(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    schools.loc[schools.School == "2626", "Sector"] = "Private"
    s, c = _write(tmp_path, students, schools)
    _expect(_profile(hsb40, s, c), tmp_path, "Sector", "binary", "3 levels")


def test_w_lacks_reference(hsb40, raw_frames, tmp_path):
    s, c = _write(tmp_path, *raw_frames)
    roles = dict(hsb40.roles)
    roles["w"] = dataclasses.replace(roles["w"], reference="Catolic")
    _expect(_profile(hsb40, s, c, roles=roles), tmp_path, "reference level 'Catolic'", "Catholic, Public")


def test_sample_names_unknown_clusters(hsb40, tmp_path):
    prof = dataclasses.replace(hsb40, sample={"clusters": [1317, 99999]})
    _expect(prof, tmp_path, "not in the data", "99999")


def test_empty_sample(hsb40, tmp_path):
    prof = dataclasses.replace(hsb40, sample={"clusters": []})
    _expect(prof, tmp_path, "empty")


def test_missing_values_dropped_by_policy(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    students.iloc[[0, 5], students.columns.get_loc("SES")] = None
    students.iloc[[7], students.columns.get_loc("MathAch")] = None
    s, c = _write(tmp_path, students, schools)
    merged = merge(_profile(hsb40, s, c))
    assert len(merged.frame) == len(students) - 3
    assert merged.report["rows_dropped"] == 3
    assert merged.report["missing_by_column"] == {"MathAch": 1, "SES": 2, "Minority": 0}
    _expect(_profile(hsb40, s, c, missing="error"), tmp_path, "3 rows", "missing", "missing: drop")


def test_missing_z_dropped_and_counted(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    students.iloc[[3, 4], students.columns.get_loc("Minority")] = None
    s, c = _write(tmp_path, students, schools)
    merged = merge(_profile(hsb40, s, c))
    assert merged.report["rows_dropped"] == 2 and merged.report["missing_by_column"]["Minority"] == 2
    assert list(merged.frame["Minority"].cat.categories) == ["No", "Yes"]  # the reference first


def test_z_must_be_binary_with_its_reference(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    students.loc[students.index[:3], "Minority"] = "Unknown"
    s, c = _write(tmp_path, students, schools)
    _expect(_profile(hsb40, s, c), tmp_path, "z column 'Minority' must be binary", "Unknown")
    prof = _profile(hsb40, *_write(tmp_path, *raw_frames))
    roles = dict(prof.roles)
    roles["z"] = dataclasses.replace(roles["z"], reference="Maybe")
    _expect(dataclasses.replace(prof, roles=roles), tmp_path, "reference level 'Maybe'")


def test_cli_failure_leaves_no_file(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("dataset: bad\ndatasets:\n  bad:\n    students: nowhere.csv\n    schools: data/raw/hsb_schools.csv\n"
                   "    cluster: School\n    sample: all\n    roles:\n      y: {column: MathAch}\n"
                   "      x: {column: SES}\n      w: {column: Sector, reference: Catholic}\n")
    out = tmp_path / "merged.parquet"
    from hlm.cli import main
    assert main(["merge", "--dataset", "bad", "--configfile", str(cfg), "--out", str(out)]) == 1
    assert "nowhere.csv" in capsys.readouterr().err
    assert not out.exists()


def test_raw_column_clashing_with_a_derived_name(hsb40, raw_frames, tmp_path):
    students, schools = raw_frames
    s, c = _write(tmp_path, students.rename(columns={"MEANSES": "n"}), schools.drop(columns="MEANSES"))
    _expect(_profile(hsb40, s, c), tmp_path, "columns n of", "derived variables", "rename")


def test_female_value_must_occur(hsb40, raw_frames, tmp_path):
    s, c = _write(tmp_path, *raw_frames)
    roles = dict(hsb40.roles)
    roles["sex"] = dataclasses.replace(roles["sex"], female="female")
    _expect(_profile(hsb40, s, c, roles=roles), tmp_path, "female value 'female' never occurs",
            "Female, Male")


def test_numeric_codes_read_as_float(hsb40, raw_frames, tmp_path):
    # 0/1 codes with a missing value are read as floats; "1" must still match 1.0
    students, schools = raw_frames
    students["Fem"] = (students["Sex"] == "Female").astype(float)
    students.iloc[0, students.columns.get_loc("Fem")] = None
    schools["Cath"] = (schools["Sector"] == "Catholic").astype(float)
    s, c = _write(tmp_path, students, schools)
    roles = dict(hsb40.roles)
    roles["sex"] = dataclasses.replace(roles["sex"], column="Fem", female="1")
    roles["w"] = dataclasses.replace(roles["w"], column="Cath", reference="0")
    merged = merge(_profile(hsb40, s, c, roles=roles)).frame
    assert list(merged["Cath"].cat.categories) == ["0", "1"]
    from hlm.levels import derive
    _, schools_out = derive(merged, _profile(hsb40, s, c, roles=roles))
    comp = schools_out.set_index("School")["sex_comp"]
    assert comp["1317"] == 1.0 and comp["2626"] == pytest.approx(18 / 38)  # notes: 2626 has 18 F of 38


def test_preflight_w_with_one_level_in_the_sample(hsb40, raw_frames, tmp_path):
    from hlm.sample import preflight
    students, schools = raw_frames
    s, c = _write(tmp_path, students, schools)
    preflight(_profile(hsb40, s, c))  # both sectors among the four schools: fine
    one = schools[schools.Sector == "Public"].School.tolist()
    with pytest.raises(DataError, match=r"w column 'Sector' has only one level \('Public'\) in the 2 clusters"):
        preflight(dataclasses.replace(_profile(hsb40, s, c), sample={"clusters": one}))
    # w in the unit file is read from there
    s2, c2 = _write(tmp_path, students.merge(schools[["School", "Sector"]]), schools.drop(columns="Sector"))
    with pytest.raises(DataError, match="only one level"):
        preflight(dataclasses.replace(_profile(hsb40, s2, c2), sample={"clusters": one}))
