"""hlm.inference (the step): the Lab's inference record (Hausman, multilevel R², profile intervals)."""
import copy

import pytest

from hlm.inference import inference
from hlm.io import write_json
from hlm.records import validate


@pytest.fixture(scope="module")
def cfg(config):
    out = copy.deepcopy(config)
    out["lab"] = {**out.get("lab", {}), "profile": {"models": ["random_coef"]}}
    return out


def test_record_on_the_notes_data(cfg, hsb40, tables40, tmp_path):
    rec = inference(cfg, hsb40, tables40[0])
    validate("inference", rec)
    write_json(tmp_path / "i.json", rec, kind="inference")
    assert rec["hausman"]["statistic"] == pytest.approx(15.7587, rel=1e-4)  # R: tests/reference/lab
    assert set(rec["r2"]) == {m for m, s in cfg["models"].items() if s["kind"] == "lmm"}
    assert rec["r2"]["oneway"]["marginal"] == pytest.approx(0) and rec["r2"]["oneway"]["level1"] == pytest.approx(0)
    assert rec["r2"]["ints_slopes"]["marginal"] == pytest.approx(0.1024476, rel=1e-5)
    sd = rec["profile"]["random_coef"]["intervals"]["sd(SES)"]
    assert sd["lower"] == 0.0 and sd["upper"] == pytest.approx(1.29673, rel=1e-4)


def test_parts_that_cannot_be_computed_say_why(cfg, hsb40, tables40):
    rec = inference(cfg, hsb40, tables40[0].assign(SES=1.0))  # x constant
    validate("inference", rec)
    assert "error" in rec["hausman"] and "error" in rec["r2"]["random_coef"]
    assert "error" in rec["profile"]["random_coef"]
    assert "marginal" in rec["r2"]["oneway"]  # a model without x is still there
