"""hlm.reproduce: every number the notes print, and every R fit, reproduced on hsb40.

The fits are made in-process with the same function the `fit` rule calls
(hlm.models.fit_model), then checked by the same code the book's appendix uses.
Sources: data/reference/notes_values.yaml (the notes) and
data/reference/hs40_r_reference.json (R: nlme 3.1-162, lme4 1.1-31).
"""
from __future__ import annotations

import dataclasses

import pytest

from hlm.models import fit_model
from hlm.catalog import lmm_names
from hlm.reproduce import NOTES_FITS, _check, _decimals, build, notes_apply


@pytest.fixture(scope="module")
def reproduction(config, hsb40, tables40):
    students, schools = tables40
    fits = {m: fit_model(config, m, hsb40, students) for m in sorted(set(NOTES_FITS + lmm_names(config)))}
    return build(students, schools, fits.__getitem__, hsb40)


def test_every_notes_value_reproduced(reproduction):
    assert reproduction["applies"]
    failed = [c for c in reproduction["notes"] if not c["ok"]]
    assert not failed, failed
    sections = {c["section"] for c in reproduction["notes"]}
    assert sections == {"data", "derived", "method1_pooled_ols", "method2a_fixed_effects",
                        "method2b_fixed_effects", "method3_two_stage", "method4_between_school",
                        "oneway_random_effects"}
    assert len(reproduction["notes"]) > 200


def test_every_mixed_model_matches_r(reproduction, config):
    rows = reproduction["r"]
    # every mixed model of the notes (the Lab's are checked in tests/test_models.py)
    notes_models = set(lmm_names(config)) - {"ctx_ri", "rs_raw", "mino_ri", "mino_rs", "mino_rs_z"}
    assert {r["model"] for r in rows} == notes_models
    failed = [r for r in rows if not r["ok"]]
    assert not failed, failed


def test_tolerance_from_printed_digits():
    assert _decimals("13.5579")[0] == pytest.approx(0.00005, rel=1e-6)
    assert _decimals("2.84e-05")[0] == pytest.approx(0.005e-5, rel=1e-6)
    assert _check("s", "a", "1.1100", 1.11004).ok and not _check("s", "a", "1.1100", 1.11006).ok
    assert _check("s", "sid", "C4530G", "C4530G").ok and not _check("s", "sid", "C4530G", "C4530B").ok


def test_other_samples_do_not_apply(hsb40, tables40, notes_values):
    students, _ = tables40
    assert notes_apply(students, hsb40, notes_values)
    assert not notes_apply(students.iloc[:-1], hsb40, notes_values)
    mirrored = students.assign(MathAch=-students["MathAch"])  # the notes' sample, another outcome
    assert not notes_apply(mirrored, hsb40, notes_values)
    roles = dict(hsb40.roles)
    roles["w"] = dataclasses.replace(roles["w"], reference="Public")  # same data, flipped contrasts
    assert not notes_apply(students, dataclasses.replace(hsb40, roles=roles), notes_values)


def test_known_discrepancy_at_three_significant_digits():
    from hlm.reproduce import _significant
    # notes: 3.633338, nlme 3.1-162: 3.633174 (notes_values.yaml header)
    assert _significant("s", "i", "3.633338", 3.633174).ok
    assert _significant("s", "i", "3.633338", 3.6379).ok
    assert not _significant("s", "i", "3.633338", 3.6396).ok


def test_appendix_names_groups_and_items_in_words(config, hsb40, reproduction):
    """The appendix titles each group by its catalog label in the dataset's words, never by an
    internal key, and shows each item so that a narrow column can wrap it."""
    from hlm.reproduce import SECTION_FITS, in_words, item_text, model_title, section_title
    assert set(SECTION_FITS.values()) == set(NOTES_FITS)
    titles = {s: section_title(s, config, hsb40) for s in {c["section"] for c in reproduction["notes"]}}
    assert titles["method2a_fixed_effects"] == "Method 2a: a line per school"
    assert titles["method2b_fixed_effects"] == "Method 2b: school intercepts, SES by sector"
    assert titles["data"] == "The data: students and schools"
    assert model_title("ctx_cwg", config, hsb40) == "Contextual: school mean and CWG SES, random CWG slopes"
    assert model_title("ctx_w", config, hsb40) == "Contextual with sector: intercepts and slopes as outcomes"
    shown = [*titles.values(), *(model_title(r["model"], config, hsb40) for r in reproduction["r"])]
    assert not any("_" in t or " x" in t or "cluster" in t for t in shown)
    assert len(set(titles.values())) == len(titles)
    assert in_words("z by w, random x slopes", hsb40) == "Minority status by sector, random SES slopes"
    assert in_words("clusters and x:w, not xw or max", hsb40) == "Schools and SES by sector, not xw or max"
    items = {c["item"]: item_text(c) for c in reproduction["notes"]}
    assert items["students_per_school.1317"] == "students per school, 1317"
    assert items["residual_quantiles[0]"] == "residual quantiles [0]"
    # where the tolerance is not the printed digits' (the known discrepancy), the row says so
    assert items["intervals.sd_intercept[0]"] == "intervals, sd intercept [0], within ±0.005 (3 significant digits)"
    assert sum("within" in t for t in items.values()) == 2
