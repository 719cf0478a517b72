"""The whole DAG, book included, on a dataset that is not HSB (patients in clinics).

The project is copied to a temporary folder and Snakemake runs there with the
fixture's profile, as a user would with `make book CONFIG=clinics.yaml` (the
session's `clinics_book`, which the reader, PDF and publishing tests also read).
"""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.fixtures.clinics import MISSING_AGE, MISSING_SBP
from tests.fixtures.project import snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(clinics_project):
    return clinics_project


@pytest.fixture(scope="module")
def built(clinics_book):
    return clinics_book


def test_book_builds_for_own_data(built):
    work, _ = built
    book = work / "_book" / "clinics"
    assert (book / "index.html").exists()
    pdfs = list(book.glob("*.pdf"))
    assert pdfs and pdfs[0].stat().st_size > 10_000
    html = "".join(p.read_text(encoding="utf-8") for p in book.glob("*.html"))
    # the text speaks of the user's roles, not of HSB
    assert "systolic blood pressure" in html and "clinic" in html
    assert "MathAch" not in html and "SectorPublic" not in html
    assert "names no column for the sex of each patient" in html  # said, not a section left blank


def test_missing_rows_counted(built):
    work, fixture = built
    from hlm.data import read_merge_report
    report = read_merge_report(work / "data" / "processed" / "clinics" / "merged.parquet")
    assert report["rows_dropped"] == len(MISSING_SBP) + len(MISSING_AGE)
    assert report["missing_by_column"] == {"sbp": len(MISSING_SBP), "age_std": len(MISSING_AGE)}


def test_fits_agree_with_direct_engine_fits(built):
    work, _ = built
    from hlm.lmm import fit
    students = pd.read_parquet(work / "data" / "processed" / "clinics" / "students.parquet")
    for model, fixed, random in [("ints_slopes", "sbp ~ age_std * urban", "~ 1 + age_std | clinic_id"),
                                 ("oneway", "sbp ~ 1", "~ 1 | clinic_id")]:
        stored = json.loads((work / "data" / "fits" / "clinics" / f"{model}.json").read_text())
        direct = fit(students, fixed=fixed, random=random).to_dict()
        assert stored["fixed"] == fixed and stored["random"] == random
        assert set(stored["fixef"]) == set(direct["fixef"])
        assert "urbanyes" in stored["fixef"] or model == "oneway"
        for name, value in direct["fixef"].items():
            assert stored["fixef"][name] == pytest.approx(value, rel=1e-8)
        assert stored["logLik"] == pytest.approx(direct["logLik"], rel=1e-10)
        assert stored["n"] == len(students)


def _jobs(dry_run_output: str) -> set[str]:
    """Rule names of the jobs that a dry run would execute."""
    return set(re.findall(r"^\s*(?:local)?rule (\w+):", dry_run_output, flags=re.M))


def _figures(dry_run_output: str, dataset: str) -> set[str]:
    """Names of the figures that a dry run would redraw."""
    return set(re.findall(rf"output: figures/{dataset}/(\w+)\.svg", dry_run_output))


def test_noop_and_seed_change(built, tmp_path):
    work, fixture = built
    noop = snakemake(work, "--configfile", str(fixture["config"]), "-n")
    assert "Nothing to be done" in noop.stdout + noop.stderr
    # change only the sample: the stages that depend on it rerun, and nothing else
    # (in a copy of the profile: the shared book's own stays as it was built)
    cfg = tmp_path / "clinics.yaml"
    cfg.write_text(fixture["config"].read_text().replace("sample: all", "sample: {random: 20, seed: 7}"))
    dry = snakemake(work, "--configfile", str(cfg), "-n")
    out = dry.stdout + dry.stderr
    assert {"merge", "derive", "fit", "figure", "chapter", "book"} <= _jobs(out)
    redrawn = _figures(out, "clinics")
    assert {"quantile_plot", "trellis", "m1_beta", "ow_shrinkage", "rs_beta"} <= redrawn
    assert "sim_data" in redrawn  # the simulated example follows the data's design
    # a label is wording only: figures and chapters rerun, the merge and the fits do not
    cfg.write_text(cfg.read_text().replace("sample: {random: 20, seed: 7}", "sample: all")
                   .replace("label: standardized age", "label: age (standardized)"))
    dry = snakemake(work, "--configfile", str(cfg), "-n")
    out = dry.stdout + dry.stderr
    assert "sim_mean_line" in _figures(out, "clinics") and "chapter" in _jobs(out)
    assert not {"merge", "derive", "fit"} & _jobs(out)


def test_mapping_mistake_caught_before_any_job(project, tmp_path):
    work, fixture = project
    bad = tmp_path / "bad.yaml"
    bad.write_text(fixture["config"].read_text().replace("column: age_std", "column: age"))
    proc = snakemake(work, "--configfile", str(bad), "-n", check=False)
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "column 'age' (role x)" in err and "Did you mean 'age_std'" in err
    assert "Columns present" in err and "sbp" in err and "urban" in err
    assert "rule merge" not in err  # no job was scheduled
