"""hlm.sample: the clusters of a profile's sample, and the check before any job."""
from __future__ import annotations

import dataclasses

import pytest

from hlm.errors import DataError
from hlm.sample import select_sample, sorted_ids


def test_sorted_ids_numbers_by_value_else_text():
    assert sorted_ids(["10", "9", "100", "1317", "1906"]) == ["9", "10", "100", "1317", "1906"]
    assert sorted_ids(["b", "C01", "a"]) == ["C01", "a", "b"]
    assert sorted_ids(["10", "9", "b", "a"]) == ["10", "9", "a", "b"]  # not all numbers: as text
    assert sorted_ids([1906, "1317"]) == ["1317", "1906"]


def test_select_sample(hsb40):
    ids = ["1", "2", "3", "4"]
    assert select_sample(ids, "all", hsb40) == ids
    assert select_sample(ids, {"clusters": [2, 4]}, hsb40) == ["2", "4"]
    drawn = select_sample(ids, {"random": 2, "seed": 3}, hsb40)
    assert len(drawn) == 2 and drawn == select_sample(ids, {"random": 2, "seed": 3}, hsb40)
    with pytest.raises(DataError, match="names clusters not in the data: 7"):
        select_sample(ids, {"clusters": [7]}, hsb40)
    with pytest.raises(DataError, match="asks for 9 random clusters but the data have 4"):
        select_sample(ids, {"random": 9}, hsb40)


def test_preflight_reads_w_as_the_merge_does(hsb40, tmp_path):
    from hlm.sample import preflight
    (tmp_path / "u.csv").write_text("g,y,x\n1,1,1\n1,2,2\n2,1,1\n3,4,4\n")
    (tmp_path / "c.csv").write_text("g,w\n1,0.0\n2,0\n3,1\n")
    prof = dataclasses.replace(hsb40, students=tmp_path / "u.csv", schools=tmp_path / "c.csv", cluster="g", sample="all",
                               roles={**hsb40.roles, "w": dataclasses.replace(hsb40.roles["w"], column="w")})
    preflight(prof)
    with pytest.raises(DataError, match=r"only one level \('0'\) in the 2 clusters"):
        preflight(dataclasses.replace(prof, sample={"clusters": [1, 2]}))
