"""Fixtures of the fit stage (imported by test_classic.py and test_models.py).

The student tables come from the lead's conftest (``tables40``: hlm.data.merge +
hlm.levels.derive on the hsb40 profile). Reference values:

- data/reference/notes_values.yaml: numbers printed in the course notes;
- data/reference/hs40_r_reference.json: R (nlme 3.1, lme4) fits of the same 40
  schools, with the roles renamed y/x/w (see :data:`R_NAMES`).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hlm.catalog import lmm_names
from hlm.config import load_config
from hlm.data import merge
from hlm.levels import derive

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"

# hs40_r_reference.json was produced in R with the columns renamed to roles:
# y = MathAch, x = SES, w = Sector (so the dummy is wPublic), x.m = cvar(x),
# x.d = dvar(x). Our names are R's with the dataset's columns.
R_NAMES = {"(Intercept)": "(Intercept)", "x": "SES", "wPublic": "SectorPublic",
           "x:wPublic": "SES:SectorPublic", "x.m": "cvar_SES", "x.d": "dvar_SES",
           "x.m:wPublic": "cvar_SES:SectorPublic", "x.d:wPublic": "dvar_SES:SectorPublic"}

LMM_MODELS = lmm_names(load_config())  # the catalog's mixed models


def ours(r_dict: dict) -> dict:
    """An R-reference dict keyed by our coefficient names."""
    return {R_NAMES[k]: v for k, v in r_dict.items()}


@pytest.fixture(scope="session")
def r_ref() -> dict:
    """R's fits of the notes' 40 schools (data/reference/hs40_r_reference.json)."""
    return json.loads((REFERENCE / "hs40_r_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def students40(tables40):
    return tables40[0]


@pytest.fixture(scope="session")
def students160(hsb160):
    return derive(merge(hsb160).frame, hsb160)[0]


@pytest.fixture(scope="session")
def parquet40(students40, tmp_path_factory) -> Path:
    """students.parquet of hsb40, as the derive step writes it."""
    path = tmp_path_factory.mktemp("processed") / "students.parquet"
    students40.to_parquet(path, index=False)
    return path
