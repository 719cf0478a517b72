"""The inference record's ``stepwise`` part: the random part built forward by LRTs
(:mod:`hlm.stepwise`): ``x``, random slope of x candidate in ``y ~ x * w``; ``x_z`` (with a z
role), candidates x and z in ``y ~ x * w + w * z + cvar_x + cvar_z`` (the fixed part of the
catalog's ``mino_*`` models).

    python -m hlm inference-stepwise --dataset D --students S --out data/fits/D/inference/stepwise.json
"""
from __future__ import annotations

from collections.abc import Mapping

from hlm.inference import run_part, safe

# the forward procedures: fixed part (role names), candidate random terms (roles)
STEPWISE = {"x": ("y ~ x * w", ("x",)), "x_z": ("y ~ x * w + w * z + cvar_x + cvar_z", ("x", "z"))}


def fits(cfg: dict) -> list[str]:
    return []


def settings(cfg: dict, dataset: str) -> tuple:
    """Nothing of the configuration but the profile's roles, which shape the student table."""
    return ()


def compute(cfg: dict, profile, students, fits: Mapping) -> dict:
    """The forward procedures of :data:`STEPWISE` that the profile's roles allow."""
    from hlm.catalog import formula
    from hlm.models import reference_levels
    from hlm.stepwise import forward

    reference = reference_levels(profile)
    columns = {"x": profile.x, "z": profile.z}
    return {key: safe(lambda: forward(students, formula(fixed, profile), [columns[t] for t in terms],
                                      profile.cluster, reference=reference))
            for key, (fixed, terms) in STEPWISE.items() if all(profile.has(t) for t in terms)}


def run(argv: list[str]) -> int:
    return run_part(argv, "stepwise", compute, fits)
