"""hlm.hausman against R (tests/reference/lab/lab_r.json: lm with dummies, lme and lmer)."""
import json
from pathlib import Path

import numpy as np
import pytest

from hlm.hausman import hausman

R = json.loads((Path(__file__).parent / "reference" / "lab" / "lab_r.json").read_text())


@pytest.fixture(scope="module")
def students40(tables40):
    return tables40[0]


def test_hausman_matches_r(students40):
    h = hausman(students40, "MathAch", ["SES"], "School")
    ref = R["hausman"]["nlme"]
    assert h["fe"]["SES"] == pytest.approx(ref["fe"], rel=1e-9)
    assert h["se_fe"]["SES"] == pytest.approx(ref["se_fe"], rel=1e-9)
    assert h["re"]["SES"] == pytest.approx(ref["re"], rel=1e-6)
    assert h["statistic"] == pytest.approx(ref["statistic"], rel=1e-5)
    assert h["p"] == pytest.approx(ref["p"], rel=1e-4) and h["df"] == 1 and h["positive_definite"]


def test_hausman_is_undefined_without_between_variation(students40):
    """Remove each school's mean SES: x has no between-school variation, so GLS is the within
    estimator itself and H is 0/0: the test is undefined, not 'no evidence' (no H = 0, p = 1)."""
    d = students40.copy()
    d["x_within"] = d["SES"] - d.groupby("School", observed=True)["SES"].transform("mean")
    h = hausman(d, "MathAch", ["x_within"], "School")
    assert np.isclose(h["fe"]["x_within"], h["re"]["x_within"], rtol=1e-5)
    assert h["statistic"] is None and h["p"] is None and h["error"].startswith("undefined (no_between)")


def test_hausman_is_undefined_on_a_balanced_growth_study():
    """Every child measured at the same ages: the mean age is the same for all, the two
    estimates and their SEs coincide (0/0)."""
    import pandas as pd

    rng = np.random.default_rng(1)
    ages = np.array([8.0, 10, 12, 14])
    d = pd.DataFrame({"child": np.repeat(np.arange(27), 4), "age": np.tile(ages, 27)})
    d["distance"] = 20 + 0.6 * d["age"] + np.repeat(rng.normal(0, 2, 27), 4) + rng.normal(0, 1.4, len(d))
    h = hausman(d, "distance", ["age"], "child")
    assert h["statistic"] is None and "undefined" in h["error"]
    assert h["fe"]["age"] == pytest.approx(h["re"]["age"], rel=1e-9)
    assert h["se_fe"]["age"] == pytest.approx(h["se_re"]["age"], rel=1e-5)


def test_two_slopes_give_two_df(students40):
    d = students40.assign(SES2=students40["SES"] ** 2)
    h = hausman(d, "MathAch", ["SES", "SES2"], "School")
    assert h["df"] == 2 and set(h["fe"]) == {"SES", "SES2"} and 0 <= h["p"] <= 1
