"""hlm.records: every record the steps write matches its schema, and a record that does not
is refused, when written and when read, with the file, the JSON path and the problem."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hlm import records
from tests.records_fakes import minimal
from hlm.artifacts import Artifacts
from hlm.catalog import lmm_names, model_names
from hlm.errors import DataError, RecordError
from hlm.io import read_json, write_json

ROOT = Path(__file__).resolve().parents[1]


# --- what the writers produce -----------------------------------------------------------------

@pytest.fixture(scope="module")
def fits40(config, hsb40, tables40) -> dict:
    """Every catalog model fitted on the notes' 40 schools, as the fit step does."""
    from hlm.models import fit_model
    students = tables40[0]
    return {name: fit_model(config, name, hsb40, students) for name in model_names(config)}


def _as_written(record):
    """The record as a reader sees it: written by hlm.io and parsed back."""
    from hlm.io import _clean
    return json.loads(json.dumps(_clean(record)))


def test_every_fit_the_fit_step_writes_is_valid(fits40):
    for name, fit in fits40.items():
        assert records.is_valid("fit", _as_written(fit)), name
        records.validate("lmm" if fit["kind"] == "lmm" else "ols", _as_written(fit), where=name)
    methods = {re.match(r"hlm\.classic\.(\w+)\(", f["call"]).group(1) for f in fits40.values() if f["kind"] == "ols"}
    assert methods == set(records.OLS_METHODS)  # each classical method's shape is exercised


def test_failure_records_and_statuses_are_valid(config, hsb40, tables40):
    from hlm.catalog import model_spec
    from hlm.fitstatus import diagnose
    from hlm.models import failure_record
    students = tables40[0]
    for name in ("oneway", "pooled", "three_effects"):
        rec = failure_record(model_spec(config, name, hsb40), ValueError("columns are linearly dependent"))
        rec["status"] = diagnose(rec, students, hsb40)
        records.validate("failure", _as_written(rec))
        records.validate("fit", _as_written(rec))


def test_comparison_is_valid(config, hsb40, tables40, fits40):
    from hlm.models import comparison, ml_refitter
    lmm = {n: fits40[n] for n in lmm_names(config)}
    table = comparison(lmm, ml_refitter(config, hsb40, tables40[0]), dataset="hsb40")
    records.validate("comparison", _as_written(table))
    assert any(row.get("boundary") for row in table["lrt"])  # the boundary LRT rows are exercised
    # a model that was not fitted keeps its row, with the reason, and takes part in no test
    failed = dict(lmm, random_coef=minimal("fit", model="random_coef", kind="lmm", error="E: x"))
    table = comparison(failed, ml_refitter(config, hsb40, tables40[0]), dataset="hsb40")
    records.validate("comparison", _as_written(table))


def test_reproduction_and_merge_report_are_valid(config, hsb40, merged40, tables40, fits40, tmp_path):
    from hlm.reproduce import build
    records.validate("merge_report", _as_written(merged40.report))
    art = Artifacts("hsb40", tmp_path)
    art.fit_path("x").parent.mkdir(parents=True)
    for name, fit in fits40.items():
        write_json(art.fit_path(name), fit, kind="fit")
    result = build(*tables40, art.fit, hsb40)  # the fits as the step reads them back
    assert result["applies"] and result["notes"] and result["r"]
    records.validate("reproduction", _as_written(result))
    write_json(art.fit_path("reproduction"), result, kind="reproduction")
    assert art.fit("reproduction")["applies"]  # the chapters read it (and the comparison) like a fit


def test_figure_sidecar_round_trip(tmp_path):
    path = tmp_path / "fig.json"
    write_json(path, {"clusters": 40}, kind="figure")
    assert read_json(path, kind="figure") == {"clusters": 40}
    write_json(path, {"clusters": None}, kind="figure")  # a simulated figure
    with pytest.raises(RecordError, match=r"\$\.clusters"):
        write_json(path, {"clusters": "40"}, kind="figure")


# --- the schemas --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", records.KINDS)
def test_schemas_are_valid_draft_2020_12(kind):
    import jsonschema
    jsonschema.Draft202012Validator.check_schema(records.schema(kind))


@pytest.mark.parametrize("kind", records.KINDS)
def test_minimal_records_are_valid(kind):
    assert records.is_valid(kind, minimal(kind))


@pytest.mark.parametrize("method", records.OLS_METHODS)
def test_each_ols_method_has_its_own_shape(method):
    rec = minimal("fit", kind="ols", call=records.OLS_CALL.format(method))
    own = set(records.OLS_OWN[method])
    assert own <= set(rec)
    other = next(m for m in records.OLS_METHODS if set(records.OLS_OWN[m]) - own)
    extra = sorted(set(records.OLS_OWN[other]) - own)[0]
    with pytest.raises(RecordError, match=f"'{extra}' was unexpected"):
        records.validate("fit", {**rec, extra: rec.get(extra, 0)})


def test_minimal_keeps_given_fields_and_completes_nested_ones():
    rec = minimal("lmm", model="m", singular=True, status={"why": "zero variance"})
    assert rec["model"] == "m" and rec["status"] == {"state": "singular", "why": "zero variance", "remedy": ""}
    assert minimal("lmm", converged=False)["status"]["state"] == "not_converged"
    assert minimal("fit", kind="lmm", error="E")["status"]["state"] == "not_fitted"


# --- refusing invalid records -------------------------------------------------------------------

def _required(kind: str) -> list[str]:
    return list(records.SCHEMAS[kind].get("required", []))


@pytest.mark.parametrize("kind", ["lmm", "failure", "comparison", "figure", "reproduction", "merge_report"])
def test_a_missing_required_key_is_named(kind):
    rec = minimal(kind)
    for key in _required(kind):
        bad = {k: v for k, v in rec.items() if k != key}
        with pytest.raises(RecordError, match=rf"'{key}' is a required property"):
            records.validate(kind, bad, where="x.json")


def test_a_wrong_type_is_named_with_its_path():
    rec = minimal("lmm", fixef={"(Intercept)": 1.0})
    with pytest.raises(RecordError, match=r"x\.json is not a valid mixed-model fit record: at \$\.n: "
                                          r"'12' is not of type 'integer'"):
        records.validate("lmm", {**rec, "n": "12"}, where="x.json")
    with pytest.raises(RecordError, match=r"at \$\.fixef\.\(Intercept\): 'a' is not of type"):
        records.validate("fit", {**rec, "fixef": {"(Intercept)": "a"}}, where="x.json")
    with pytest.raises(RecordError, match=r"at \$\.status\.state: 'done' is not one of"):
        records.validate("fit", {**rec, "status": {**rec["status"], "state": "done"}})
    with pytest.raises(RecordError, match=r"at \$\.obs\.resid\[1\]"):
        records.validate("fit", {**rec, "obs": {**rec["obs"], "resid": [1.0, "x", 2.0]}})
    with pytest.raises(RecordError, match=r"'extra' was unexpected"):
        records.validate("fit", {**rec, "extra": 1})


def test_a_state_that_contradicts_the_fit_is_refused():
    rec = minimal("lmm")
    with pytest.raises(RecordError, match=r"\$\.status\.state: 'not_converged' was expected"):
        records.validate("fit", {**rec, "converged": False})


def test_reading_an_invalid_record_fails_clearly(tmp_path):
    art = Artifacts("d", tmp_path)
    path = art.fit_path("m")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"model": "m", "kind": "lmm"}))
    with pytest.raises(RecordError, match=rf"{re.escape(str(path))} is not a valid .*'label' is a required "
                                          r"property.*rebuild") as err:
        art.fit("m")
    assert isinstance(err.value, DataError)  # the CLI prints it as an error, no traceback
    path.write_text("{not json")
    with pytest.raises(RecordError, match="is not valid JSON"):
        art.fit("m")


def test_an_invalid_record_is_never_written(tmp_path):
    path = tmp_path / "m.json"
    rec = minimal("fit", kind="ols")
    del rec["status"]
    with pytest.raises(RecordError, match=r"was not written: at \$: 'status' is a required property"):
        write_json(path, rec, kind="fit")
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_build_summary_refuses_an_invalid_fit(tmp_path):
    from hlm.fitstatus import build_summary
    (tmp_path / "m.json").write_text(json.dumps({"model": "m", "kind": "ols", "error": "E"}))
    with pytest.raises(RecordError, match="m.json"):
        build_summary(tmp_path)


# --- the documentation --------------------------------------------------------------------------

def test_architecture_doc_has_the_schemas_field_tables():
    """docs/architecture.md embeds records.doc_tables() between its markers (regenerate it there
    when a schema changes)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    begin, end = "<!-- records:begin -->\n", "<!-- records:end -->"
    assert begin in text and end in text
    embedded = text.split(begin, 1)[1].split(end, 1)[0]
    assert embedded.strip() == records.doc_tables().strip()
