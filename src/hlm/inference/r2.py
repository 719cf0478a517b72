"""The inference record's ``r2`` part: for each mixed model of the catalog, Nakagawa-Schielzeth
and Snijders-Bosker R² against the empty model ``y ~ 1 + (1 | cluster)`` (:mod:`hlm.lmm.r2`).

    python -m hlm inference-r2 --dataset D --students S --fits-dir data/fits/D --out data/fits/D/inference/r2.json

The catalog's models are fitted by the fit jobs: their fixed effects, ``G`` and ``σ`` come
from the fit records, the design (fixed part, random-effect columns, cluster sizes) is
rebuilt from the student table; only the empty model is fitted here.

:func:`equivalent_models` tells the chapter which models share their fixed part (the same
column space, e.g. ``cvar_x + dvar_x`` and ``cvar_x + x``) and which are one model in two
parametrizations (the random parts' columns span the same space too), so that equal R² are
named together rather than ranked.
"""
from __future__ import annotations

from collections.abc import Mapping

from hlm.inference import run_part, safe
from hlm.inference.fitted import fitted_design, unusable


def fits(cfg: dict) -> list[str]:
    from hlm.catalog import lmm_names

    return lmm_names(cfg)


def settings(cfg: dict, dataset: str) -> dict:
    """The catalog's mixed models."""
    return {name: cfg["models"][name] for name in fits(cfg)}


def components(cfg: dict, name: str, profile, students, record: dict):
    """What the R² need of catalog model `name` (hlm.lmm.r2.Components), from its fit record."""
    import numpy as np

    from hlm.lmm.r2 import Components

    design = fitted_design(cfg, name, profile, students)
    return Components(design=design, fixef=np.array([record["fixef"][k] for k in design.x_names], dtype=float),
                      G=np.array(record["G"], dtype=float), sigma=record["sigma"])


def compute(cfg: dict, profile, students, fits: Mapping) -> dict:
    from hlm import lmm
    from hlm.catalog import formula

    empty = safe(lambda: {"fit": lmm.fit(students, formula("y ~ 1", profile), formula("~ 1 | cluster", profile))})
    out = {}
    for name, record in fits.items():
        if "error" in empty:
            out[name] = empty
            continue
        out[name] = unusable(cfg, name, profile, record) or safe(
            lambda: _r2(components(cfg, name, profile, students, record), empty["fit"]))
    return out


def _r2(fit, empty) -> dict:
    from hlm.lmm.r2 import nakagawa, snijders_bosker

    return {**nakagawa(fit), **snijders_bosker(fit, empty)}


def run(argv: list[str]) -> int:
    return run_part(argv, "r2", compute, fits)


def _same_span(A, B) -> bool:
    """Whether the columns of A and of B span the same space (ranks of A, B and [A B] equal)."""
    import numpy as np

    def rank(M):
        return int(np.linalg.matrix_rank(M)) if M.size else 0

    r = rank(A)
    return r == rank(B) == rank(np.hstack([A, B]))


def equivalent_models(cfg: dict, names, profile, students) -> dict:
    """For each catalog mixed model of `names`: the others with the same fixed part (their fixed
    columns span the same space, e.g. ``cvar_x + dvar_x`` and ``cvar_x + x``) under "fixed", and
    of those the ones with the same random part too (the same space of random-effect columns: the
    same model in another parametrization) under "model". Models whose design cannot be built
    (a role the profile lacks) have no equivalents."""
    designs = {}
    for name in names:
        try:
            designs[name] = fitted_design(cfg, name, profile, students)
        except Exception:  # noqa: BLE001 - a model without a design is equivalent to none
            continue
    out = {name: {"fixed": [], "model": []} for name in names}
    built = list(designs)
    for i, a in enumerate(built):
        for b in built[i + 1:]:
            da, db = designs[a], designs[b]
            if da.n != db.n or not _same_span(da.X, db.X):
                continue
            out[a]["fixed"].append(b)
            out[b]["fixed"].append(a)
            if _same_span(da.Z, db.Z):
                out[a]["model"].append(b)
                out[b]["model"].append(a)
    return out
