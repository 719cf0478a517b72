"""The Lab's inference record of a dataset: the Hausman test, multilevel R², and the
profile-likelihood intervals of variance components (rules/lab.smk).

    python -m hlm inference --dataset D --students S --out data/fits/D/inference.json

- ``hausman``: the within against the random-intercept estimate of the slope of x
  (:mod:`hlm.hausman`);
- ``r2``: for each mixed model of the catalog, Nakagawa-Schielzeth and Snijders-Bosker
  R² against the empty model ``y ~ 1 + (1 | cluster)`` (:mod:`hlm.lmm.r2`);
- ``profile``: for each model of ``lab: profile: models:``, lme4-style profile
  intervals (:mod:`hlm.lmm.profile`).

A part that cannot be computed on the data holds ``error`` (why) instead of numbers.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from hlm.artifacts import Artifacts
from hlm.catalog import formula, lmm_names
from hlm.config import Profile, add_profile_args
from hlm.errors import ModelError
from hlm.io import write_json
from hlm.models import engine_fit, load_students
from hlm.sample import profile_from_args


def _safe(compute) -> dict:
    try:
        return compute()
    except ModelError as err:
        return {"error": f"{type(err).__name__}: {err}"}


def inference(cfg: dict, profile: Profile, students) -> dict:
    """The inference record of `profile`'s data (see the module docstring)."""
    from hlm import lmm
    from hlm.hausman import hausman
    from hlm.lmm.profile import profile_intervals
    from hlm.lmm.r2 import nakagawa, snijders_bosker

    fits = {}

    def fitted(name):
        if name not in fits:
            fits[name] = engine_fit(cfg, name, profile, students)
        return fits[name]

    empty = _safe(lambda: {"fit": lmm.fit(students, formula("y ~ 1", profile), formula("~ 1 | cluster", profile))})
    r2 = {}
    for name in lmm_names(cfg):
        if "error" in empty:
            r2[name] = empty
            continue
        r2[name] = _safe(lambda: {**nakagawa(fitted(name)), **snijders_bosker(fitted(name), empty["fit"])})
    models = ((cfg.get("lab") or {}).get("profile") or {}).get("models") or []
    return {
        "dataset": profile.name,
        "hausman": _safe(lambda: hausman(students, profile.y, [profile.x], profile.cluster)),
        "r2": r2,
        "profile": {name: _safe(lambda: {"intervals": profile_intervals(fitted(name))}) for name in models},
    }


def run(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m hlm inference")
    add_profile_args(ap)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--students", type=Path, help="default: data/processed/<dataset>/students.parquet")
    args = ap.parse_args(argv)
    cfg, profile = profile_from_args(args)
    students = load_students(args.students or Artifacts(profile.name).students_path)
    write_json(args.out, inference(cfg, profile, students), kind="inference")
    return 0
