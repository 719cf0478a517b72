"""hlm.bootstrap (the step): the bootstrap tests of the configuration, as blocks and their merge."""
import copy

import pytest

from hlm.bootstrap import block, merge, settings
from hlm.errors import DataError

SMALL = {"replicates": 7, "block": 3, "seed": 9, "tests": {"random_slope": {"h0": "ancova", "h1": "random_coef"},
                                                          "not_lmm": {"h0": "pooled", "h1": "random_coef"}}}


@pytest.fixture(scope="module")
def cfg(config):
    out = copy.deepcopy(config)
    out["lab"] = {"bootstrap": SMALL}
    return out


def test_settings(cfg, config):
    s = settings(cfg, "random_slope")
    assert (s["h0"], s["h1"], s["replicates"], s["block"], s["seed"], s["blocks"]) == \
        ("ancova", "random_coef", 7, 3, 9, 3)
    assert settings(config, "random_slope")["replicates"] == 1000  # the shipped configuration
    with pytest.raises(DataError, match="no bootstrap test 'nope'.*known: random_slope"):
        settings(cfg, "nope")


def test_blocks_merge_into_the_test(cfg, hsb40, tables40):
    s = tables40[0]
    blocks = [block(cfg, "random_slope", k, hsb40, s) for k in (2, 0, 1)]
    assert [b["count"] for b in blocks] == [1, 3, 3] and blocks[0]["first"] == 6
    out = merge(cfg, "random_slope", hsb40, blocks)
    assert out["replicates"] == 7 and out["blocks"] == 3 and out["df"] == 2
    assert out["observed"] == pytest.approx(1.7702515, rel=1e-6)
    with pytest.raises(DataError, match="blocks given start at \\[0, 3\\], expected \\[0, 3, 6\\]"):
        merge(cfg, "random_slope", hsb40, blocks[1:])
    with pytest.raises(DataError, match="blocks 0..2, not 3"):
        block(cfg, "random_slope", 3, hsb40, s)


def test_models_that_cannot_be_fitted_give_an_explained_result(cfg, hsb40, tables40):
    flat = tables40[0].assign(SES=1.0)  # x constant: its slope is not identified
    b = block(cfg, "random_slope", 0, hsb40, flat)
    assert "error" in b and "statistics" not in b
    out = merge(cfg, "random_slope", hsb40, [b, {**b, "first": 3}, {**b, "first": 6}])
    assert out["error"] == b["error"] and "p" not in out


def test_only_mixed_models_are_bootstrapped(cfg, hsb40, tables40):
    with pytest.raises(DataError, match="'pooled' is not a mixed model"):
        block(cfg, "not_lmm", 0, hsb40, tables40[0])


def test_a_p_value_at_its_floor_is_a_bound():
    from hlm.bootstrap import at_floor, floor_bound

    assert at_floor({"replicates": 999, "p": 1 / 1000}) and at_floor({"replicates": 199, "p": 1 / 200})
    assert not at_floor({"replicates": 999, "p": 2 / 1000})
    assert floor_bound(199) == 0.005 and floor_bound(999) == 0.001 and floor_bound(1000) == 0.001
    assert floor_bound(300) == 0.0034 >= 1 / 301   # rounded up: "p < 0.0034" holds
