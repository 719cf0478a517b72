"""Influence of each cluster on a model's fixed effects, as DAG jobs (rules/lab.smk).

``lab: influence:`` in the configuration names the mixed models to examine, how many jobs
share the refits (``blocks``) and which clusters are refitted exactly:

- every cluster when the data have at most ``exact_max_clusters`` clusters: the model is
  refitted without each (:func:`hlm.lmm.influence.cluster_deletion`);
- otherwise every cluster's Cook's distance and DFBETAS come from the one-step deletion
  with the variance parameters held at the fit's (:func:`hlm.lmm.influence.one_step`, in
  closed form), and only the ``exact_top`` clusters of largest one-step Cook's distance
  are refitted exactly (exact refits cost J fits, O(J²) in all).

Each job fits the model and computes the one-step deletions (they are cheap), so every job
knows which clusters are exact; job ``k`` refits the exact clusters of rank ``i`` (by
position) with ``i % blocks == k`` and holds the one-step rows of the other clusters ``j``
with ``j % blocks == k``. The number of jobs is known before the data are; one job
merges them:

    python -m hlm influence-block --dataset D --model M --block K --out .../M/block-K.json
    python -m hlm influence --dataset D --model M --out .../M.json BLOCK.json ...

The merged record lists every cluster's Cook's distance and DFBETAS, whether each comes
from an exact refit (``exact``), how many do (``refits``), flags the clusters above the
usual ``4 / J``, and names the most influential. A model that cannot be fitted gives a
record that says why (``error``).
"""
from __future__ import annotations

from hlm import blockjobs
from hlm.config import Profile
from hlm.errors import DataError, ModelError


def settings(cfg: dict) -> dict:
    """{"models": [...], "blocks": k, "exact_top": t, "exact_max_clusters": m} of
    ``lab: influence:``."""
    inf = (cfg.get("lab") or {}).get("influence") or {}
    return {"models": list(inf.get("models") or []), "blocks": int(inf.get("blocks", 4)),
            "exact_top": int(inf.get("exact_top", 10)),
            "exact_max_clusters": int(inf.get("exact_max_clusters", 200))}


def exact_clusters(fit, approx: list[dict], top: int, max_clusters: int) -> list[int]:
    """The positions of the clusters to refit exactly, in order: all of them up to
    `max_clusters` clusters, else the `top` of largest one-step Cook's distance (`approx`,
    one row per cluster in position order; ties by position)."""
    if fit.groups <= max_clusters:
        return list(range(fit.groups))
    cook = [r.get("cook", -1.0) for r in approx]
    return sorted(sorted(range(fit.groups), key=lambda j: -cook[j])[:top])


def block(cfg: dict, model: str, k: int, profile: Profile, students) -> dict:
    """The influence block record of `model`, block `k`."""
    from hlm.lmm.influence import cluster_deletion, one_step
    from hlm.models import engine_fit  # here: the workflow imports settings() while it parses

    opts = settings(cfg)
    blocks = opts["blocks"]
    if not 0 <= k < blocks:
        raise DataError(f"influence has blocks 0..{blocks - 1}, not {k}")
    if model not in opts["models"]:
        raise DataError(f"'{model}' is not among the models of lab: influence: models: in the configuration")
    head = {"dataset": profile.name, "model": model, "block": k, "blocks": blocks}
    try:
        fit = engine_fit(cfg, model, profile, students)
    except ModelError as err:
        return {**head, "error": f"{type(err).__name__}: {err}"}
    approx = one_step(fit) if fit.groups > opts["exact_max_clusters"] else []
    exact = exact_clusters(fit, approx, opts["exact_top"], opts["exact_max_clusters"])
    rows = [{**r, "exact": True} for r in cluster_deletion(fit, exact[k::blocks])]
    skip = set(exact)
    rows += [{**approx[j], "exact": False} for j in range(k, len(approx), blocks) if j not in skip]
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
    return {**head, "clusters": J, "terms": parts[0]["terms"], "refits": sum(r["exact"] for r in rows),
            "cutoff": cutoff,
            "flagged": [r["cluster"] for r in rows if r.get("cook", 0.0) > cutoff],
            "failed": [r["cluster"] for r in rows if "error" in r], "rows": rows}


def run_block(argv: list[str]) -> int:
    return blockjobs.run_block(argv, "influence", "model", "influence_block", block)


def run_merge(argv: list[str]) -> int:
    return blockjobs.run_merge(argv, "influence", "model", "influence", merge)
