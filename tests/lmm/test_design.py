"""Formulas -> X, Z, groups; R-style names; nlme's denominator DF; input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hlm.errors import ModelError
from hlm.lmm import fit
from hlm.lmm.design import build_design, nlme_df, r_name, split_random


def test_r_style_names(hs):
    d = build_design(hs, "MathAch ~ SES * Sector", "~ 1 + SES | School")
    assert d.x_names == ("(Intercept)", "SES", "SectorPublic", "SES:SectorPublic")
    assert d.z_names == ("(Intercept)", "SES")
    assert d.terms == {"(Intercept)": [0], "SES": [1], "Sector": [2], "SES:Sector": [3]}
    assert r_name("x:w[T.b]") == "x:wb" and r_name("Intercept") == "(Intercept)"
    assert split_random("~ 1 + x | g") == ("1 + x", "g")
    assert split_random("~0 + x|School") == ("0 + x", "School")


def test_reference_level_is_the_first_category_or_chosen(hs):
    h2 = hs.assign(Sector=hs["Sector"].cat.reorder_categories(["Public", "Catholic"]))
    assert build_design(h2, "MathAch ~ Sector", "~ 1 | School").x_names == ("(Intercept)", "SectorCatholic")
    r1 = fit(hs, "MathAch ~ Sector", "~ 1 | School")
    r2 = fit(hs, "MathAch ~ Sector", "~ 1 | School", reference={"Sector": "Public"})
    assert r2.x_names == ("(Intercept)", "SectorCatholic")
    assert r2.fixef[1] == pytest.approx(-r1.fixef[1], rel=1e-7)
    assert r2.logLik == pytest.approx(r1.logLik, abs=1e-7)


def test_no_intercept_and_zero_intercept_random_part(hs):
    d = build_design(hs, "MathAch ~ Sector - 1", "~ 0 + SES | School")
    assert d.x_names == ("SectorCatholic", "SectorPublic")
    assert d.z_names == ("SES",)
    assert nlme_df(d)[0] == {"SectorCatholic": 38, "SectorPublic": 38}


def test_rows_sorted_by_cluster_and_mapped_back(hs):
    shuffled = hs.sample(frac=1.0, random_state=1)
    d = build_design(shuffled, "MathAch ~ SES", "~ 1 | School")
    assert np.all(np.diff(d.codes) >= 0)
    assert d.group_ids[:3] == ("1317", "1906", "2208")
    assert np.array_equal(d.unsort(d.y), shuffled["MathAch"].to_numpy())
    assert d.counts.sum() == 1977 and d.counts[0] == 48


def test_missing_values_are_dropped(hs):
    h2 = hs.copy()
    h2.loc[[0, 5], "SES"] = np.nan
    res = fit(h2, "MathAch ~ SES", "~ 1 | School")
    assert res.n == 1975 and len(res.resid) == 1975


def test_collinear_fixed_effects_name_the_columns(hs):
    h2 = hs.assign(SES2=2 * hs["SES"] + 1)
    with pytest.raises(ModelError, match=r"'SES2'.*linear combination of.*'\(Intercept\)'.*'SES'"):
        fit(h2, "MathAch ~ SES + SES2", "~ 1 | School")
    with pytest.raises(ModelError, match="cvar_SES"):
        fit(hs, "MathAch ~ cvar_SES + dvar_SES + SES", "~ 1 | School")


@pytest.mark.parametrize("random", ["1 | School", "~ 1 + SES", "~ 1 | School | x", "~ | School"])
def test_bad_random_part(hs, random):
    with pytest.raises(ModelError):
        fit(hs, "MathAch ~ SES", random)


def test_bad_fixed_formula_and_columns(hs):
    with pytest.raises(ModelError):
        fit(hs, "MathAch ~ nosuchcolumn", "~ 1 | School")
    with pytest.raises(ModelError, match="grouping column"):
        fit(hs, "MathAch ~ SES", "~ 1 | Nope")
    with pytest.raises(ModelError):
        fit(hs, "MathAch ~ SES", "~ 1 | School", method="OLS")


def test_nlme_df_rule():
    """Between terms (constant within every cluster) get J - 1 - #between; others N - J - #within."""
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(6), 5)
    df = pd.DataFrame({"g": g.astype(str), "y": rng.normal(size=30), "x": rng.normal(size=30),
                       "w": (g % 2).astype(float), "m": np.repeat(rng.normal(size=6), 5)})
    col, term = nlme_df(build_design(df, "y ~ x * w + m", "~ 1 | g"))
    assert col == {"(Intercept)": 22, "x": 22, "w": 3, "m": 3, "x:w": 22}
    assert term == col
    # a column that varies within a single cluster is a within column
    df.loc[0, "m"] += 1.0
    col, _ = nlme_df(build_design(df, "y ~ x + m", "~ 1 | g"))
    assert col == {"(Intercept)": 22, "x": 22, "m": 22}


def test_backquoted_grouping_column():
    # a cluster column that is not a Python identifier (an ordinary name in R), as the
    # catalog writes it: backquoted
    import numpy as np
    import pandas as pd
    from hlm.lmm import fit
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(12), 8)
    df = pd.DataFrame({"School.ID": g.astype(str), "ses score": rng.normal(size=g.size)})
    df["y"] = 2 + df["ses score"] + rng.normal(size=12)[g] + rng.normal(size=g.size)
    r = fit(df, fixed="y ~ `ses score`", random="~ 1 | `School.ID`")
    assert r.groups == 12 and set(r.fixef_dict()) == {"(Intercept)", "ses score"}


def test_unidentifiable_variance_components_refused():
    import numpy as np
    import pandas as pd
    import pytest
    from hlm.errors import ModelError
    from hlm.lmm import fit
    rng = np.random.default_rng(4)
    one = pd.DataFrame({"g": np.arange(30).astype(str), "x": rng.normal(size=30)})
    one["y"] = one["x"] + rng.normal(size=30)
    with pytest.raises(ModelError, match="one row per cluster"):
        fit(one, fixed="y ~ x", random="~ 1 | g")
    two = pd.DataFrame({"g": np.repeat(np.arange(15), 2).astype(str), "x": rng.normal(size=30)})
    two["y"] = two["x"] + rng.normal(size=30)
    with pytest.raises(ModelError, match="too few for 30 random effects"):
        fit(two, fixed="y ~ x", random="~ 1 + x | g")


def test_design_without_a_cluster_is_the_design_of_the_data_without_it():
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"g": rng.choice(list("abcd"), 60), "x": rng.normal(size=60)})
    d["y"] = d["x"] + rng.normal(size=60)
    d.index = [f"r{i}" for i in range(60)]
    full = build_design(d, "y ~ x", "~ 1 + x | g")
    j = full.group_ids.index("c")
    small, direct = full.without(j), build_design(d[d["g"] != "c"], "y ~ x", "~ 1 + x | g")
    for field in ("y", "X", "Z", "starts", "counts", "codes"):
        assert np.array_equal(getattr(small, field), getattr(direct, field)), field
    assert small.group_ids == direct.group_ids and list(small.row_labels) == list(direct.row_labels)
    assert np.array_equal(small.unsort(small.y), direct.unsort(direct.y))  # back in input order
