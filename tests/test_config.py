"""hlm.config: profiles validate against the schema; mistakes read clearly."""
from __future__ import annotations

import pytest

from hlm.config import get_profile, load_config
from hlm.errors import DataError


def test_default_profiles(config):
    assert config["dataset"] == "hsb40"
    assert {"hsb40", "hsb160", "hsb-random"} <= set(config["datasets"])
    p = get_profile(config, "hsb40")
    assert (p.y, p.x, p.w, p.w_reference, p.sex, p.cluster) == ("MathAch", "SES", "Sector", "Catholic", "Sex", "School")
    assert (p.cvar_x, p.dvar_x) == ("cvar_SES", "dvar_SES")
    assert p.students.exists() and p.schools.exists()
    # the notes' 40 schools (data/reference/notes_values.yaml: sample_schools)
    assert len(p.sample["clusters"]) == 40


def test_user_file_merges_over_default(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("dataset: mine\ndatasets:\n  mine:\n    students: a.csv\n    schools: b.csv\n"
                    "    cluster: clinic\n    sample: all\n    roles:\n      y: {column: bp}\n"
                    "      x: {column: age}\n      w: {column: urban, reference: \"no\"}\n")
    cfg = load_config([mine])
    assert cfg["dataset"] == "mine" and "hsb40" in cfg["datasets"] and "oneway" in cfg["models"]
    p = get_profile(cfg)
    assert p.sex is None and not p.has("sex") and p.w_reference == "no"


def test_schema_violation_names_the_place(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets:\n  hsb40:\n    roles:\n      y: {colum: MathAch}\n")
    with pytest.raises(DataError) as info:
        load_config([bad])
    msg = str(info.value)
    assert "schema" in msg and "datasets/hsb40/roles/y" in msg and "colum" in msg


def test_w_needs_a_reference(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets:\n  mine:\n    students: a.csv\n    schools: b.csv\n    cluster: g\n"
                   "    sample: all\n    roles:\n      y: {column: a}\n      x: {column: b}\n"
                   "      w: {column: Sector}\n")
    with pytest.raises(DataError, match="reference"):
        load_config([bad])


def test_unknown_profile_suggests(config):
    with pytest.raises(DataError, match="Did you mean 'hsb160'"):
        get_profile(config, "hsb16")


def test_missing_config_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_config([tmp_path / "nope.yaml"])


def test_labels_with_plurals_and_units(tmp_path):
    from hlm.config import get_profile
    import yaml
    user = tmp_path / "mine.yaml"
    user.write_text(yaml.safe_dump({"dataset": "growth", "datasets": {"growth": {
        "students": "u.csv", "schools": "c.csv", "cluster": "Subject", "sample": "all",
        "cluster_label": {"one": "child", "many": "children"}, "unit_label": "measurement",
        "roles": {"y": {"column": "distance", "label": "distance", "unit": "mm"},
                  "x": {"column": "age", "label": "age"},
                  "w": {"column": "Sex", "label": {"one": "sex", "many": "sexes"}, "reference": "Female"},
                  "sex": {"column": "Sex", "female": "Female"}}}}}))
    from hlm.config import load_config
    prof = get_profile(load_config([user]))
    assert (prof.cluster_label, prof.clusters_label, prof.units_label) == ("child", "children", "measurements")
    assert (prof.unit("y"), prof.unit("x"), prof.labels("w")) == ("mm", "", "sexes")
    assert sorted(prof.roles_of("Sex")) == ["sex", "w"]
