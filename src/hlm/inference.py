"""The Lab's inference record of a dataset: the Hausman test, multilevel R², profile-likelihood
intervals of variance components, Satterthwaite DF, the preliminary OLS's diagnostics, the
sample against the other samples of its files, and the forward building of the random part
(rules/lab.smk).

    python -m hlm inference --dataset D --students S --out data/fits/D/inference.json

- ``hausman``: the within against the random-intercept estimate of the slope of x
  (:mod:`hlm.hausman`);
- ``r2``: for each mixed model of the catalog, Nakagawa-Schielzeth and Snijders-Bosker
  R² against the empty model ``y ~ 1 + (1 | cluster)`` (:mod:`hlm.lmm.r2`);
- ``profile``: for each model of ``lab: profile: models:``, lme4-style profile
  intervals (:mod:`hlm.lmm.profile`);
- ``satterthwaite``: for each mixed model of the catalog, the Satterthwaite DF of the fixed
  effects (as lmerTest) beside the fit's nlme DF, and the p-values with them;
- ``ols``: the pooled OLS ``y ~ x * w + z * w`` and its unit and cluster influence
  (:mod:`hlm.olsdiag`; needs a z role);
- ``samples``: this dataset's sample against the other samples of its raw files
  (:mod:`hlm.samplecompare`);
- ``stepwise``: the random part built forward by LRTs (:mod:`hlm.stepwise`): ``x``, random
  slope of x candidate in ``y ~ x * w``; ``x_z`` (with a z role), candidates x and z in
  ``y ~ x * w + w * z + cvar_x + cvar_z`` (the fixed part of the catalog's ``mino_*`` models).

A part that cannot be computed on the data holds ``error`` (why) instead of numbers.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from hlm.artifacts import Artifacts
from hlm.catalog import formula, lmm_names, model_spec
from hlm.config import Profile, add_profile_args
from hlm.errors import ModelError
from hlm.io import write_json
from hlm.models import engine_fit, load_students, reference_levels
from hlm.sample import profile_from_args

# the forward procedures of ``stepwise``: fixed part (role names), candidate random terms (roles)
STEPWISE = {"x": ("y ~ x * w", ("x",)), "x_z": ("y ~ x * w + w * z + cvar_x + cvar_z", ("x", "z"))}


def _safe(compute) -> dict:
    try:
        return compute()
    except ModelError as err:
        return {"error": f"{type(err).__name__}: {err}"}


def settings(cfg: dict, dataset: str) -> tuple:
    """The part of the configuration the record depends on (rules/lab.smk): the catalog,
    the models to profile, and the profiles sharing the dataset's raw files."""
    from hlm.samplecompare import settings as sample_settings

    return cfg["models"], (cfg.get("lab") or {}).get("profile"), sample_settings(cfg, dataset)


def satterthwaite(fit) -> dict:
    """Satterthwaite DF of each fixed effect of a fitted model (the engine's
    ``df_method="satterthwaite"``, as lmerTest, computed at the fit's optimum) beside the
    fit's nlme DF, and the two-sided p-values of its t statistics on them."""
    from scipy import stats

    from hlm import lmm

    sat = lmm.fit_design(fit.design, fit.method, model=fit.model, start=fit.theta, df_method="satterthwaite")
    p = 2 * stats.t.sf(abs(fit.t), sat.df)
    return {"df": dict(zip(fit.x_names, sat.df.tolist())), "nlme_df": dict(zip(fit.x_names, fit.df.tolist())),
            "p": dict(zip(fit.x_names, p.tolist()))}


def stepwise(profile: Profile, students) -> dict:
    """The forward procedures of :data:`STEPWISE` that the profile's roles allow."""
    from hlm.stepwise import forward

    reference = reference_levels(profile)
    columns = {"x": profile.x, "z": profile.z}
    return {key: _safe(lambda: forward(students, formula(fixed, profile), [columns[t] for t in terms],
                                       profile.cluster, reference=reference))
            for key, (fixed, terms) in STEPWISE.items() if all(profile.has(t) for t in terms)}


def inference(cfg: dict, profile: Profile, students) -> dict:
    """The inference record of `profile`'s data (see the module docstring)."""
    from hlm import lmm
    from hlm.hausman import hausman
    from hlm.lmm.profile import profile_intervals
    from hlm.lmm.r2 import nakagawa, snijders_bosker
    from hlm.olsdiag import ols_diagnostics
    from hlm.samplecompare import compare_samples

    fits = {}

    def fitted(name):
        if name not in fits:
            absent = model_spec(cfg, name, profile).absent_roles(profile)
            if absent:  # the fit step's record says the same (hlm.models.absent_role_record)
                raise ModelError(f"the model uses the {', '.join(absent)} role, which profile "
                                 f"'{profile.name}' does not have")
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
        "satterthwaite": {name: _safe(lambda: satterthwaite(fitted(name))) for name in lmm_names(cfg)},
        "ols": _safe(lambda: ols_diagnostics(students, profile)),
        "samples": compare_samples(cfg, profile),
        "stepwise": stepwise(profile, students),
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
