"""Influence of each cluster on the fixed effects, from exact refits without it.

For each cluster ``j`` the model is refitted on the data without ``j`` (same formula
and method, starting from the full fit's theta), giving ``b_(j)`` and its standard
errors ``se_(j)``. As R's influence.ME (``estex``, ``cooks.distance``, ``dfbetas``):

- Cook's distance ``D_j = (b - b_(j))' V^-1 (b - b_(j)) / p``, with ``V`` the full
  fit's covariance of ``b`` and ``p`` the number of fixed effects;
- DFBETAS ``(b_k - b_(j)k) / se_(j)k``, per coefficient.

A common rule of thumb flags ``D_j > 4 / J`` (J clusters). `clusters` selects which
deletions to compute, so that the refits can be split across jobs.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from hlm.errors import ModelError
from hlm.lmm.api import fit_design
from hlm.lmm.results import LmmResult


def cluster_deletion(fit: LmmResult, clusters: Sequence[int] | None = None) -> list[dict]:
    """One record per deleted cluster (by position in ``fit.group_ids``): its id, Cook's
    distance, DFBETAS, the refit's fixed effects, or the error that stopped the refit."""
    V_inv = np.linalg.inv(fit.vcov)
    p = len(fit.fixef)
    out = []
    for j in range(fit.groups) if clusters is None else clusters:
        gid = fit.design.group_ids[j]
        try:
            refit = fit_design(fit.design.without(j), fit.method, model=fit.model, start=fit.theta,
                               df_method=fit.df_method)
        except ModelError as err:
            out.append({"cluster": gid, "error": str(err)})
            continue
        delta = fit.fixef - refit.fixef
        out.append({
            "cluster": gid,
            "cook": float(delta @ V_inv @ delta / p),
            "dfbetas": dict(zip(fit.x_names, map(float, delta / refit.se))),
            "fixef": dict(zip(fit.x_names, map(float, refit.fixef))),
            "singular": bool(refit.singular), "converged": bool(refit.converged),
        })
    return out
