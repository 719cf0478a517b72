"""The inference record's ``ols`` part: the pooled OLS ``y ~ x * w + z * w`` and its unit and
cluster influence (:mod:`hlm.olsdiag`; an error without a z role).

    python -m hlm inference-ols --dataset D --students S --out data/fits/D/inference/ols.json
"""
from __future__ import annotations

from collections.abc import Mapping

from hlm.inference import run_part, safe


def fits(cfg: dict) -> list[str]:
    return []


def settings(cfg: dict, dataset: str) -> tuple:
    """Nothing of the configuration but the profile's roles, which shape the student table."""
    return ()


def compute(cfg: dict, profile, students, fits: Mapping) -> dict:
    from hlm.olsdiag import ols_diagnostics

    return safe(lambda: ols_diagnostics(students, profile))


def run(argv: list[str]) -> int:
    return run_part(argv, "ols", compute, fits)
