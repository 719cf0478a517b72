"""hlm.samplecompare: a dataset's sample against the other samples of the same raw files,
on four small clusters whose numbers are worked out by hand below."""
from __future__ import annotations

import math

import pytest

from hlm.config import get_profile
from hlm.samplecompare import ALL, compare_samples, describe_sample, same_files, settings

# cluster: (Sector, [(MathAch, SES), ...]); cluster C has a unit without MathAch (dropped)
CLUSTERS = {"A": ("Catholic", [(1, 0), (3, 2)]),
            "B": ("Public", [(5, 1), (7, 1), (9, 4)]),
            "C": ("Public", [(2, 3), (4, 5), (None, 7)]),
            "D": ("Catholic", [(10, 6)])}


@pytest.fixture()
def cfg(tmp_path):
    units = ["School,MathAch,SES"] + [f"{c},{'' if y is None else y},{x}"
                                      for c, (_, rows) in CLUSTERS.items() for y, x in rows]
    (tmp_path / "units.csv").write_text("\n".join(units) + "\n")
    (tmp_path / "clusters.csv").write_text("School,Sector\n" + "".join(f"{c},{w}\n" for c, (w, _) in CLUSTERS.items()))
    (tmp_path / "other.csv").write_text((tmp_path / "units.csv").read_text())

    def profile(sample, students="units.csv", title="t"):
        return {"title": title, "students": str(tmp_path / students), "schools": str(tmp_path / "clusters.csv"),
                "cluster": "School", "sample": sample, "missing": "drop",
                "roles": {"y": {"column": "MathAch"}, "x": {"column": "SES"},
                          "w": {"column": "Sector", "reference": "Catholic"}}}

    return {"dataset": "mine", "datasets": {
        "mine": profile({"clusters": ["A", "B"]}, title="mine"),
        "elsewhere": profile("all", students="other.csv"),  # other files: not compared
        "others": profile({"clusters": ["B", "C", "D"]}, title="others"),
        "broken": profile({"clusters": ["A", "Z"]}, title="broken"),
    }}


def _same(row: dict, expected: dict) -> None:
    assert set(row) == set(expected)
    for key, value in expected.items():
        assert row[key] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value), key


def test_compares_the_samples_of_the_same_files(cfg):
    rec = compare_samples(cfg, get_profile(cfg, "mine"))
    assert rec["this"] == "mine"
    assert [r["name"] for r in rec["rows"]] == ["mine", "others", "broken", ALL]
    assert [r["this"] for r in rec["rows"]] == [True, False, False, False]
    mine, _, broken, every = rec["rows"]
    _same(mine, {
        "name": "mine", "title": "mine", "this": True, "sample": "2 listed clusters",
        "clusters": 2, "units": 5, "rows_dropped": 0, "w_other": "Public", "share_w_other": 0.5,
        "size_mean": 2.5, "size_sd": math.sqrt(0.5), "mean_y": 5.0, "mean_x": 1.6,
        "sd_cluster_mean_y": math.sqrt(12.5), "sd_cluster_mean_x": math.sqrt(0.5),
        "mean_within_sd_x": (math.sqrt(2) + math.sqrt(3)) / 2})
    # all four clusters, C's unit without y dropped; D (one unit) has no within SD
    _same(every, {
        "name": ALL, "title": ALL, "this": False, "sample": "all clusters",
        "clusters": 4, "units": 8, "rows_dropped": 1, "w_other": "Public", "share_w_other": 0.5,
        "size_mean": 2.0, "size_sd": math.sqrt(2 / 3), "mean_y": 41 / 8, "mean_x": 22 / 8,
        "sd_cluster_mean_y": math.sqrt(41 / 3), "sd_cluster_mean_x": math.sqrt(14.75 / 3),
        "mean_within_sd_x": (2 * math.sqrt(2) + math.sqrt(3)) / 3})
    assert "clusters" not in broken and "Z" in broken["error"]


def test_a_profile_taking_every_cluster_is_not_repeated(cfg):
    cfg["datasets"]["others"]["sample"] = "all"
    rec = compare_samples(cfg, get_profile(cfg, "mine"))
    assert [r["name"] for r in rec["rows"]] == ["mine", "others", "broken"]
    assert rec["rows"][1]["clusters"] == 4


def test_settings_are_the_profiles_of_the_same_files(cfg):
    assert same_files(cfg, get_profile(cfg, "mine")) == ["mine", "others", "broken"]
    assert list(settings(cfg, "mine")) == ["mine", "others", "broken"]
    assert list(settings(cfg, "elsewhere")) == ["elsewhere"]


def test_describe_sample(cfg):
    cfg["datasets"]["others"]["sample"] = {"random": 3, "seed": 7}
    assert describe_sample(get_profile(cfg, "others")) == "3 clusters drawn at random (seed 7)"
