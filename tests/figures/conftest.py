"""Fixtures for the figure tests: a small synthetic data set with its fits."""
import matplotlib

matplotlib.use("agg")

import pytest  # noqa: E402

from synth import make_fits, make_profile, schools_table, synthetic_students  # noqa: E402


@pytest.fixture(scope="session")
def profile():
    return make_profile(sex=True)


@pytest.fixture(scope="session")
def inputs(profile):
    students = synthetic_students(8, seed=3, profile=profile)
    return {"students": students, "schools": schools_table(students, profile),
            "fits": make_fits(students, profile), "profile": profile}


@pytest.fixture(scope="session")
def nosex_inputs():
    """Other column names, string ids, no sex role."""
    prof = make_profile(sex=False, names={"cluster": "clinic", "x": "dose", "y": "score", "w": "arm"})
    students = synthetic_students(6, seed=9, sex=False, profile=prof)
    return {"students": students, "schools": schools_table(students, prof),
            "fits": make_fits(students, prof), "profile": prof}
