"""The inference record's ``satterthwaite`` part: for each mixed model of the catalog, the
Satterthwaite DF of its fixed effects (as lmerTest) beside the fit's nlme DF (nlme's
between/within rule, not SAS's containment method), and the two-sided p-values of its t
statistics on them.

    python -m hlm inference-satterthwaite --dataset D --students S --fits-dir data/fits/D --out data/fits/D/inference/satterthwaite.json

The DF are the engine's ``df_method="satterthwaite"`` at the fit's optimum: the model is
refitted from the fit record's theta (where the optimizer stops at once) on the design
rebuilt from the student table.
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


def satterthwaite(cfg: dict, name: str, profile, students, record: dict) -> dict:
    """{"df", "nlme_df", "p"} of catalog model `name`, from its fit record."""
    import numpy as np
    from scipy import stats

    from hlm import lmm

    design = fitted_design(cfg, name, profile, students)
    sat = lmm.fit_design(design, record["method"], model=name, start=record["theta"], df_method="satterthwaite")
    t = np.array([record["t"][k] for k in design.x_names], dtype=float)
    p = 2 * stats.t.sf(abs(t), sat.df)
    return {"df": dict(zip(design.x_names, sat.df.tolist())),
            "nlme_df": {k: float(record["df"][k]) for k in design.x_names},
            "p": dict(zip(design.x_names, p.tolist()))}


def compute(cfg: dict, profile, students, fits: Mapping) -> dict:
    return {name: unusable(cfg, name, profile, record) or safe(lambda: satterthwaite(cfg, name, profile, students,
                                                                                     record))
            for name, record in fits.items()}


def run(argv: list[str]) -> int:
    return run_part(argv, "satterthwaite", compute, fits)
