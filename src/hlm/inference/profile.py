"""The inference record's ``profile`` part: for each model of ``lab: profile: models:``,
lme4-style profile intervals of the variance components (:mod:`hlm.lmm.profile`).

    python -m hlm inference-profile --dataset D --students S --fits-dir data/fits/D --out data/fits/D/inference/profile.json

The profile is of the ML likelihood (as lme4's): a REML fit record is refitted by ML from its
theta, on the design rebuilt from the student table; an ML fit is redone as the fit step did.
"""
from __future__ import annotations

from collections.abc import Mapping

from hlm.inference import run_part, safe
from hlm.inference.fitted import fitted_design, unusable


def fits(cfg: dict) -> list[str]:
    return list(((cfg.get("lab") or {}).get("profile") or {}).get("models") or [])


def settings(cfg: dict, dataset: str) -> dict:
    """The models to profile, and their catalog entries."""
    return {name: cfg["models"].get(name) for name in fits(cfg)}


def ml_fit(cfg: dict, name: str, profile, students, record: dict):
    """The ML fit of catalog model `name`, from its fit record."""
    from hlm import lmm

    design = fitted_design(cfg, name, profile, students)
    if record["method"] == "ML":
        return lmm.fit_design(design, "ML", model=name)
    return lmm.fit_design(design, "ML", model=name, start=record["theta"])


def compute(cfg: dict, profile, students, fits: Mapping) -> dict:
    from hlm.lmm.profile import profile_intervals

    return {name: unusable(cfg, name, profile, record) or safe(
                lambda: {"intervals": profile_intervals(ml_fit(cfg, name, profile, students, record))})
            for name, record in fits.items()}


def run(argv: list[str]) -> int:
    return run_part(argv, "profile", compute, fits)
