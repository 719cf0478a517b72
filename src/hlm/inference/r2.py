"""The inference record's ``r2`` part: for each mixed model of the catalog, Nakagawa-Schielzeth
and Snijders-Bosker R² against the empty model ``y ~ 1 + (1 | cluster)`` (:mod:`hlm.lmm.r2`).

    python -m hlm inference-r2 --dataset D --students S --fits-dir data/fits/D --out data/fits/D/inference/r2.json

The catalog's models are fitted by the fit jobs: their fixed effects, ``G`` and ``σ`` come
from the fit records, the design (fixed part, random-effect columns, cluster sizes) is
rebuilt from the student table; only the empty model is fitted here.
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
