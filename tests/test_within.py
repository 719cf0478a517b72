"""hlm.within: the per-cluster algebra against statsmodels OLS on the dense dummy design.

Small random data: unbalanced clusters including clusters of one and two rows
and one with a constant x. Every quantity a fit reports must equal the dense
fit's to 1e-10 relative (absolute 1e-12 of the largest entry for matrices whose
exact zeros statsmodels' pseudo-inverse fills with rounding noise).
"""
from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from hlm.errors import ModelError
from hlm.within import Groups, common_slopes, line_ok, per_cluster_lines, separate_lines

RTOL = 1e-10


def close(ours, ref) -> None:
    ref = np.asarray(ref, dtype=float)
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=1e-12 * max(np.abs(ref).max(), 1.0))


@pytest.fixture(scope="module")
def data():
    """Rows in shuffled order; cluster 0 has one row, 1 and 2 two, 3 a constant x."""
    rng = np.random.default_rng(7)
    sizes = np.concatenate([[1, 2, 2, 4], rng.integers(3, 12, size=16)])
    codes = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    x = rng.normal(rng.normal(size=len(sizes))[codes], 1.0)
    x[codes == 3] = 0.7
    w = (np.arange(len(sizes)) % 3 == 0).astype(float)[codes]  # constant within a cluster
    y = 5 + 2 * x - w + 1.5 * w * x + rng.normal(size=len(sizes))[codes] + rng.normal(size=len(codes))
    D = (codes[:, None] == np.arange(len(sizes))).astype(float)
    return {"g": Groups(codes), "x": x, "y": y, "w": w, "D": D}


def check_fit(ours, dense) -> None:
    """Every statistic hlm.classic and hlm.rprint read, against statsmodels'."""
    for attr in ("params", "bse", "tvalues", "pvalues"):
        close(getattr(ours, attr).to_numpy(), np.asarray(getattr(dense, attr)))
    assert ours.df_resid == dense.df_resid and ours.df_model == dense.df_model
    assert ours.k_constant == dense.k_constant == 1
    for attr in ("scale", "rsquared", "rsquared_adj", "fvalue", "f_pvalue"):
        close(getattr(ours, attr), getattr(dense, attr))
    close(ours.resid, dense.resid)
    V = dense.cov_params()
    close(ours.cov_params().to_numpy(), V)
    L = np.random.default_rng(1).normal(size=(3, len(ours.names)))
    est, cov = ours.combine(L)
    close(est, L @ dense.params)
    close(cov, L @ V @ L.T)


def test_line_ok_and_per_cluster_lines(data):
    g, x, y = data["g"], data["x"], data["y"]
    ok = line_ok(g, x)
    assert ok.tolist() == [False, True, True, False] + [True] * 16
    assert g.size[:4].tolist() == [1, 2, 2, 4]
    fit = per_cluster_lines(g, x, y, ok)
    for j in range(g.J):
        rows = g.codes == j
        if ok[j]:
            slope, intercept = np.polyfit(x[rows], y[rows], 1)
        else:
            slope, intercept = 0.0, y[rows].mean()
        close([fit["intercept"][j], fit["slope"][j]], [intercept, slope])
    close(fit["resid"][g.codes <= 2], 0.0)  # one row, or a line through two points


def test_line_ok_tolerance():
    g = Groups(np.array([0, 0, 1, 1, 2, 2]))
    x = np.array([1e6, 1e6 + 1e-7, 3.0, 3.0 + 1e-9, 0.0, 1e-13])
    assert line_ok(g, x).tolist() == [False, True, False]


def test_separate_lines_match_the_dense_design(data):
    g, x, y, D = data["g"], data["x"], data["y"], data["D"]
    ok = line_ok(g, x)
    X = np.hstack([D, D[:, ok] * x[:, None]])
    names = [f"c{j}" for j in range(g.J)] + [f"c{j}:x" for j in np.flatnonzero(ok)]
    ours, blocks = separate_lines(g, x, y, ok, names)
    dense = sm.OLS(y, X).fit()
    check_fit(ours, dense)
    assert list(ours.params.index) == names
    V, pos = dense.cov_params(), g.J + np.cumsum(ok) - 1
    for j in range(g.J):
        idx = [j, pos[j]] if ok[j] else [j]
        close(blocks[j][np.ix_(range(len(idx)), range(len(idx)))], V[np.ix_(idx, idx)])
        if not ok[j]:
            assert blocks[j][1].tolist() == [0.0, 0.0]


def test_common_slopes_match_the_dense_design(data):
    """``y ~ x + cluster + x:w`` (R's treatment coding) and ``y ~ cluster + x``."""
    g, x, y, w, D = data["g"], data["x"], data["y"], data["w"], data["D"]
    names = ["(Intercept)"] + [f"c{j}" for j in range(1, g.J)] + ["x", "x:w"]
    ours = common_slopes(g, np.column_stack([x, x * w]), y, names)
    dense = sm.OLS(y, np.column_stack([np.ones(len(y)), D[:, 1:], x, x * w])).fit()
    check_fit(ours, dense)
    order = [0, g.J, *range(1, g.J), g.J + 1]  # reordered as R prints y ~ x + cluster + x:w
    moved = ours.take(order)
    assert moved.names[:3] == ["(Intercept)", "x", "c1"] and moved.names[-1] == "x:w"
    close(moved.bse.to_numpy(), np.asarray(dense.bse)[order])
    close(moved.cov_params().to_numpy(), dense.cov_params()[np.ix_(order, order)])
    one = common_slopes(g, x[:, None], y, names[:-1])
    check_fit(one, sm.OLS(y, np.column_stack([np.ones(len(y)), D[:, 1:], x])).fit())


def test_unidentified_fits_are_model_errors(data):
    g, x, y = data["g"], data["x"], data["y"]
    with pytest.raises(ModelError, match="not identified"):  # x:w is x when every cluster has w = 1
        common_slopes(g, np.column_stack([x, x]), y, ["a"] * (g.J + 1))
    with pytest.raises(ModelError, match="not identified"):  # no within-cluster variation at all
        common_slopes(g, g.mean(x)[g.codes][:, None], y, ["a"] * g.J)
    pairs = Groups(np.repeat(np.arange(3), 2))  # 6 rows, 3 intercepts + 3 slopes: no residual df
    with pytest.raises(ModelError, match="6 observations cannot estimate 6 coefficients"):
        separate_lines(pairs, np.arange(6.0), np.arange(6.0) ** 2, np.ones(3, bool), ["a"] * 6)
