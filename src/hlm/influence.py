"""Influence of each cluster on a model's fixed effects, as DAG jobs (rules/lab.smk).

``lab: influence:`` in the configuration names the mixed models to examine and how
many jobs share the refits (``blocks``): job ``k`` refits the model without each
cluster ``j`` with ``j % blocks == k`` (:func:`hlm.lmm.influence.cluster_deletion`), so
the number of jobs is known before the data are; one job merges them:

    python -m hlm influence-block --dataset D --model M --block K --out .../M/block-K.json
    python -m hlm influence --dataset D --model M --out .../M.json BLOCK.json ...

The merged record lists every cluster's Cook's distance and DFBETAS, flags the
clusters above the usual ``4 / J``, and names the most influential. A model that
cannot be fitted gives a record that says why (``error``).
"""
from __future__ import annotations

from hlm import blockjobs
from hlm.config import Profile
from hlm.errors import DataError, ModelError
from hlm.models import engine_fit


def settings(cfg: dict) -> dict:
    """{"models": [...], "blocks": k} of ``lab: influence:``."""
    inf = (cfg.get("lab") or {}).get("influence") or {}
    return {"models": list(inf.get("models") or []), "blocks": int(inf.get("blocks", 4))}


def block(cfg: dict, model: str, k: int, profile: Profile, students) -> dict:
    """The influence block record of `model`, block `k`."""
    from hlm.lmm.influence import cluster_deletion

    blocks = settings(cfg)["blocks"]
    if not 0 <= k < blocks:
        raise DataError(f"influence has blocks 0..{blocks - 1}, not {k}")
    if model not in settings(cfg)["models"]:
        raise DataError(f"'{model}' is not among the models of lab: influence: models: in the configuration")
    head = {"dataset": profile.name, "model": model, "block": k, "blocks": blocks}
    try:
        fit = engine_fit(cfg, model, profile, students)
    except ModelError as err:
        return {**head, "error": f"{type(err).__name__}: {err}"}
    rows = cluster_deletion(fit, range(k, fit.groups, blocks))
    return {**head, "clusters": fit.groups, "terms": list(fit.x_names), "rows": rows}


def merge(cfg: dict, model: str, profile: Profile, parts: list[dict]) -> dict:
    """The model's influence record from all its blocks (each exactly once)."""
    blocks = settings(cfg)["blocks"]
    if sorted(p["block"] for p in parts) != list(range(blocks)) or any(p["model"] != model for p in parts):
        raise DataError(f"influence of '{model}': the blocks given are {sorted(p['block'] for p in parts)}, "
                        f"expected 0..{blocks - 1}; rerun the blocks (the settings changed?)")
    head = {"dataset": profile.name, "model": model}
    errors = [p["error"] for p in parts if "error" in p]
    if errors:
        return {**head, "error": errors[0]}
    J = parts[0]["clusters"]
    rows = sorted((r for p in parts for r in p["rows"]), key=lambda r: -r.get("cook", -1.0))
    cutoff = 4 / J
    return {**head, "clusters": J, "terms": parts[0]["terms"], "cutoff": cutoff,
            "flagged": [r["cluster"] for r in rows if r.get("cook", 0.0) > cutoff],
            "failed": [r["cluster"] for r in rows if "error" in r], "rows": rows}


def run_block(argv: list[str]) -> int:
    return blockjobs.run_block(argv, "influence", "model", "influence_block", block)


def run_merge(argv: list[str]) -> int:
    return blockjobs.run_merge(argv, "influence", "model", "influence", merge)
