"""The parametric-bootstrap LRTs of the configuration, as DAG jobs (rules/lab.smk).

``lab: bootstrap:`` in the configuration names each test (a null and a larger catalog
model, both mixed models on the same data), the replicates per test, the replicates
per job and the seed. Each job computes one block of replicates; one job merges them:

    python -m hlm bootstrap-block --dataset D --test T --block K --out .../T/block-K.json
    python -m hlm bootstrap --dataset D --test T --out .../T.json BLOCK.json ...

Replicate ``i`` depends only on the seed and ``i`` (:mod:`hlm.lmm.bootstrap`), so the
result is the same however the blocks are run: here, or as cluster jobs. When the two
models cannot be fitted on the data, the blocks and the result say why (``error``)
instead of failing: the book explains it.
"""
from __future__ import annotations

import math

from hlm import blockjobs
from hlm.config import Profile
from hlm.errors import DataError, ModelError


def settings(cfg: dict, test: str) -> dict:
    """The test's settings: {h0, h1 (the null and the larger model), replicates, block,
    seed, blocks}."""
    boot = (cfg.get("lab") or {}).get("bootstrap") or {}
    tests = boot.get("tests") or {}
    if test not in tests:
        raise DataError(f"no bootstrap test '{test}' in the configuration (lab: bootstrap: tests:); "
                        f"known: {', '.join(tests) or 'none'}")
    out = {**tests[test], "replicates": int(boot.get("replicates", 1000)), "block": int(boot.get("block", 100)),
           "seed": int(boot.get("seed", 0))}
    out["blocks"] = math.ceil(out["replicates"] / out["block"])
    return out


def block(cfg: dict, test: str, k: int, profile: Profile, students) -> dict:
    """The bootstrap block record of test `test`, block `k`."""
    from hlm.lmm import bootstrap
    from hlm.models import engine_fit  # here: the workflow imports settings() while it parses

    s = settings(cfg, test)
    if not 0 <= k < s["blocks"]:
        raise DataError(f"bootstrap '{test}' has blocks 0..{s['blocks'] - 1}, not {k}")
    first = k * s["block"]
    count = min(s["block"], s["replicates"] - first)
    head = {"dataset": profile.name, "test": test, "null": s["h0"], "alt": s["h1"], "seed": s["seed"],
            "first": first, "count": count}
    try:
        null, alt = (engine_fit(cfg, name, profile, students) for name in (s["h0"], s["h1"]))
        stats = bootstrap.replicates(null, alt, s["seed"], first, count)
    except ModelError as err:
        return {**head, "error": f"{type(err).__name__}: {err}"}
    return {**head, "statistics": [None if math.isnan(v) else v for v in stats],
            "observed": bootstrap.statistic(null, alt), "df": alt.npar - null.npar}


def merge(cfg: dict, test: str, profile: Profile, blocks: list[dict]) -> dict:
    """The test's record from all its blocks (each exactly once)."""
    from hlm.lmm import bootstrap

    s = settings(cfg, test)
    firsts = sorted(b["first"] for b in blocks)
    expected = [k * s["block"] for k in range(s["blocks"])]
    if firsts != expected or any(b["test"] != test or b["seed"] != s["seed"] for b in blocks):
        raise DataError(f"bootstrap '{test}': the blocks given start at {firsts}, expected {expected} "
                        f"with seed {s['seed']}; rerun the blocks (the settings changed?)")
    head = {"dataset": profile.name, "test": test, "null": s["h0"], "alt": s["h1"], "seed": s["seed"],
            "blocks": s["blocks"]}
    errors = [b["error"] for b in blocks if "error" in b]
    if errors:
        return {**head, "error": errors[0]}
    ordered = sorted(blocks, key=lambda b: b["first"])
    stats = [float("nan") if v is None else v for b in ordered for v in b["statistics"]]
    return {**head, **bootstrap.summary(ordered[0]["observed"], stats, ordered[0]["df"])}


def run_block(argv: list[str]) -> int:
    return blockjobs.run_block(argv, "bootstrap", "test", "bootstrap_block", block)


def run_merge(argv: list[str]) -> int:
    return blockjobs.run_merge(argv, "bootstrap", "test", "bootstrap", merge)


def at_floor(result: dict) -> bool:
    """Whether the bootstrap p-value of a test's record is its floor 1/(B + 1): no replicate
    reached the observed statistic, so the p-value is only known to be below that bound."""
    B = int(result["replicates"])
    return B > 0 and round(result["p"] * (B + 1)) <= 1


def floor_bound(replicates: int, digits: int = 4) -> float:
    """1/(B + 1) rounded *up* at `digits` decimals, so that "p < bound" stays true as printed
    (1/301 = 0.003322 prints as 0.0034, not 0.0033)."""
    scale = 10 ** digits
    return math.ceil(scale / (int(replicates) + 1)) / scale
