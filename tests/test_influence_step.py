"""hlm.influence (the step): the clusters' influence as blocks of refits and their merge."""
import copy

import pytest

from hlm import lmm
from hlm.errors import DataError
from hlm.influence import block, merge, settings
from hlm.lmm.influence import cluster_deletion, one_step


@pytest.fixture(scope="module")
def cfg(config):
    out = copy.deepcopy(config)
    out["lab"] = {"influence": {"models": ["random_coef", "pooled"], "blocks": 3}}
    return out


def test_settings(cfg, config):
    assert settings(cfg) == {"models": ["random_coef", "pooled"], "blocks": 3, "exact_top": 10,
                             "exact_max_clusters": 200}
    # the shipped configuration
    assert settings(config) == {"models": ["ints_slopes"], "blocks": 4, "exact_top": 10, "exact_max_clusters": 200}


def test_blocks_merge_into_every_cluster_once(cfg, hsb40, tables40):
    s = tables40[0]
    parts = [block(cfg, "random_coef", k, hsb40, s) for k in (1, 2, 0)]
    assert sum(len(p["rows"]) for p in parts) == 40
    out = merge(cfg, "random_coef", hsb40, parts)
    direct = cluster_deletion(lmm.fit(s, "MathAch ~ 1 + SES", "~ 1 + SES | School"))
    assert {r["cluster"]: r["cook"] for r in out["rows"]} == pytest.approx({r["cluster"]: r["cook"] for r in direct})
    assert out["refits"] == 40 and all(r["exact"] for r in out["rows"])  # 40 clusters: all refitted
    cooks = [r["cook"] for r in out["rows"]]
    assert cooks == sorted(cooks, reverse=True) and out["cutoff"] == pytest.approx(0.1)
    assert out["flagged"] == [r["cluster"] for r in out["rows"] if r["cook"] > 0.1]
    with pytest.raises(DataError, match="blocks given are \\[0, 2\\], expected 0..2"):
        merge(cfg, "random_coef", hsb40, parts[1:])  # block 1 missing


def test_above_the_size_only_the_top_one_step_clusters_are_refitted(cfg, hsb40, tables40):
    """With more clusters than exact_max_clusters, every row is the one-step deletion but the
    exact_top of largest one-step Cook's distance, which are the refits; the blocks share them."""
    small = copy.deepcopy(cfg)
    small["lab"]["influence"].update(exact_top=5, exact_max_clusters=39)
    s = tables40[0]
    parts = [block(small, "random_coef", k, hsb40, s) for k in range(3)]
    assert sorted(sum(r["exact"] for r in p["rows"]) for p in parts) == [1, 2, 2]
    out = merge(small, "random_coef", hsb40, parts)
    fit = lmm.fit(s, "MathAch ~ 1 + SES", "~ 1 + SES | School")
    approx = {r["cluster"]: r for r in one_step(fit)}
    top = sorted(approx, key=lambda c: -approx[c]["cook"])[:5]
    rows = {r["cluster"]: r for r in out["rows"]}
    assert len(rows) == 40 and out["refits"] == 5 and {c for c, r in rows.items() if r["exact"]} == set(top)
    exact = {r["cluster"]: r for r in cluster_deletion(fit, [fit.group_ids.index(c) for c in top])}
    for c, r in rows.items():
        want = {**exact[c], "exact": True} if c in exact else {**approx[c], "exact": False}
        assert r == want, c  # the same computations


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
