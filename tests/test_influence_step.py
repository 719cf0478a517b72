"""hlm.influence (the step): the clusters' influence as blocks of refits and their merge."""
import copy

import pytest

from hlm import lmm
from hlm.errors import DataError
from hlm.influence import block, merge, settings
from hlm.lmm.influence import cluster_deletion


@pytest.fixture(scope="module")
def cfg(config):
    out = copy.deepcopy(config)
    out["lab"] = {"influence": {"models": ["random_coef", "pooled"], "blocks": 3}}
    return out


def test_settings(cfg, config):
    assert settings(cfg) == {"models": ["random_coef", "pooled"], "blocks": 3}
    assert settings(config) == {"models": ["ints_slopes"], "blocks": 4}  # the shipped configuration


def test_blocks_merge_into_every_cluster_once(cfg, hsb40, tables40):
    s = tables40[0]
    parts = [block(cfg, "random_coef", k, hsb40, s) for k in (1, 2, 0)]
    assert sum(len(p["rows"]) for p in parts) == 40
    out = merge(cfg, "random_coef", hsb40, parts)
    direct = cluster_deletion(lmm.fit(s, "MathAch ~ 1 + SES", "~ 1 + SES | School"))
    assert {r["cluster"]: r["cook"] for r in out["rows"]} == pytest.approx({r["cluster"]: r["cook"] for r in direct})
    cooks = [r["cook"] for r in out["rows"]]
    assert cooks == sorted(cooks, reverse=True) and out["cutoff"] == pytest.approx(0.1)
    assert out["flagged"] == [r["cluster"] for r in out["rows"] if r["cook"] > 0.1]
    with pytest.raises(DataError, match="blocks given are \\[0, 2\\], expected 0..2"):
        merge(cfg, "random_coef", hsb40, parts[1:])  # block 1 missing


def test_refusals_and_explained_failures(cfg, hsb40, tables40):
    with pytest.raises(DataError, match="'ancova' is not among the models"):
        block(cfg, "ancova", 0, hsb40, tables40[0])
    with pytest.raises(DataError, match="'pooled' is not a mixed model"):
        block(cfg, "pooled", 0, hsb40, tables40[0])
    with pytest.raises(DataError, match="blocks 0..2, not 5"):
        block(cfg, "random_coef", 5, hsb40, tables40[0])
    flat = tables40[0].assign(SES=1.0)  # the slope of x cannot be fitted
    parts = [block(cfg, "random_coef", k, hsb40, flat) for k in range(3)]
    assert all("error" in p for p in parts)
    assert "error" in merge(cfg, "random_coef", hsb40, parts)
