"""The inference record's ``hausman`` part: the within against the random-intercept estimate
of the slope of x (:mod:`hlm.hausman`).

    python -m hlm inference-hausman --dataset D --students S --out data/fits/D/inference/hausman.json
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
    from hlm.hausman import hausman

    return safe(lambda: hausman(students, profile.y, [profile.x], profile.cluster))


def run(argv: list[str]) -> int:
    return run_part(argv, "hausman", compute, fits)
