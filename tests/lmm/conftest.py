"""Fixtures: the notes' 40-school sample and the R reference values."""

from __future__ import annotations

import json

import pytest
import yaml

from lmm_helpers import MODELS, REF, load_hsb


@pytest.fixture(scope="session")
def notes():
    return yaml.safe_load((REF / "notes_values.yaml").read_text())


@pytest.fixture(scope="session")
def rref():
    return json.loads((REF / "hs40_r_reference.json").read_text())


@pytest.fixture(scope="session")
def hs(notes):
    return load_hsb(notes["sample_schools"])


@pytest.fixture(scope="session")
def hs_fits(hs):
    from hlm.lmm import fit
    return {name: fit(hs, fixed=f, random=r, model=name) for name, (f, r) in MODELS.items()}
