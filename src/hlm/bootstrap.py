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

import argparse
import math
from pathlib import Path

from hlm.artifacts import Artifacts
from hlm.catalog import model_spec
from hlm.config import Profile, add_profile_args
from hlm.errors import DataError
from hlm.io import read_json, write_json
from hlm.models import check_columns, lmm_call, load_students
from hlm.sample import profile_from_args


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


def _fits(cfg: dict, s: dict, profile: Profile, students):
    from hlm import lmm

    fits = []
    for name in (s["h0"], s["h1"]):
        spec = model_spec(cfg, name, profile)
        if spec.kind != "lmm":
            raise DataError(f"bootstrap: '{name}' is not a mixed model (kind: {spec.kind})")
        check_columns(students, spec, profile)
        fits.append(lmm.fit(students, **lmm_call(spec, profile, spec.method or "REML")[1]))
    return fits


def block(cfg: dict, test: str, k: int, profile: Profile, students) -> dict:
    """The bootstrap block record of test `test`, block `k`."""
    from hlm.errors import ModelError
    from hlm.lmm import bootstrap

    s = settings(cfg, test)
    if not 0 <= k < s["blocks"]:
        raise DataError(f"bootstrap '{test}' has blocks 0..{s['blocks'] - 1}, not {k}")
    first = k * s["block"]
    count = min(s["block"], s["replicates"] - first)
    head = {"dataset": profile.name, "test": test, "null": s["h0"], "alt": s["h1"], "seed": s["seed"],
            "first": first, "count": count}
    try:
        null, alt = _fits(cfg, s, profile, students)
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
    ap = argparse.ArgumentParser(prog="python -m hlm bootstrap-block")
    add_profile_args(ap)
    ap.add_argument("--test", required=True)
    ap.add_argument("--block", required=True, type=int)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--students", type=Path, help="default: data/processed/<dataset>/students.parquet")
    args = ap.parse_args(argv)
    cfg, profile = profile_from_args(args)
    settings(cfg, args.test)  # an unknown test fails before reading data
    students = load_students(args.students or Artifacts(profile.name).students_path)
    write_json(args.out, block(cfg, args.test, args.block, profile, students), kind="bootstrap_block")
    return 0


def run_merge(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m hlm bootstrap")
    add_profile_args(ap)
    ap.add_argument("--test", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("blocks", nargs="+", type=Path)
    args = ap.parse_args(argv)
    cfg, profile = profile_from_args(args)
    blocks = [read_json(p, kind="bootstrap_block") for p in args.blocks]
    write_json(args.out, merge(cfg, args.test, profile, blocks), kind="bootstrap")
    return 0
