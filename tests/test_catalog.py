"""hlm.catalog: role formulas become the dataset's column formulas."""
from __future__ import annotations

import dataclasses

import pytest

from hlm.catalog import formula, model_spec
from hlm.config import Role
from hlm.errors import DataError


def test_role_substitution(config, hsb40):
    spec = model_spec(config, "ints_slopes", hsb40)
    assert (spec.fixed, spec.random) == ("MathAch ~ SES * Sector", "~ 1 + SES | School")
    ctx = model_spec(config, "ctx_w", hsb40)
    assert ctx.fixed == "MathAch ~ 1 + (cvar_SES + dvar_SES) * Sector"
    assert ctx.random == "~ 1 + dvar_SES | School"
    assert formula("mean_y ~ mean_x", hsb40) == "mean_MathAch ~ mean_SES"
    assert formula("ymax ~ x_1", hsb40) == "ymax ~ x_1"  # only whole role names


def test_other_columns_and_quoting(hsb40):
    roles = {"y": Role("sys bp", "blood pressure"), "x": Role("age", "age"), "w": Role("urban", "urban", "no")}
    prof = dataclasses.replace(hsb40, roles=roles, cluster="clinic")
    assert formula("y ~ x * w", prof) == "`sys bp` ~ age * urban"
    assert formula("~ 1 + dvar_x | cluster", prof) == "~ 1 + dvar_age | clinic"


def test_unknown_model(config, hsb40):
    with pytest.raises(DataError, match="not in the catalog"):
        model_spec(config, "nope", hsb40)
