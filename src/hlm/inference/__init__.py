"""The Lab's inference record of a dataset: the Hausman test, multilevel R², profile-likelihood
intervals of variance components, Satterthwaite DF, the preliminary OLS's diagnostics, the
sample against the other samples of its files, and the forward building of the random part
(rules/lab.smk).

Each part is its own module and its own DAG job, so that the parts run in parallel and an
edit to one part's code reruns that part only; one cheap job merges them into the record the
chapters read (:mod:`hlm.inference.merge`):

    python -m hlm inference-<part> --dataset D --students S --fits-dir data/fits/D --out data/fits/D/inference/<part>.json
    python -m hlm inference --dataset D --out data/fits/D/inference.json PART.json ...

- ``hausman`` (:mod:`hlm.inference.hausman`): the within against the random-intercept
  estimate of the slope of x (:mod:`hlm.hausman`);
- ``r2`` (:mod:`hlm.inference.r2`): for each mixed model of the catalog, Nakagawa-Schielzeth
  and Snijders-Bosker R² against the empty model ``y ~ 1 + (1 | cluster)``
  (:mod:`hlm.lmm.r2`), from the fit records;
- ``profile`` (:mod:`hlm.inference.profile`): for each model of ``lab: profile: models:``,
  lme4-style profile intervals (:mod:`hlm.lmm.profile`);
- ``satterthwaite`` (:mod:`hlm.inference.satterthwaite`): for each mixed model of the
  catalog, the Satterthwaite DF of the fixed effects (as lmerTest) beside the fit's nlme DF
  (its between/within rule), and the p-values with them;
- ``ols`` (:mod:`hlm.inference.ols`): the pooled OLS ``y ~ x * w + z * w`` and its unit and
  cluster influence (:mod:`hlm.olsdiag`; needs a z role);
- ``samples`` (:mod:`hlm.inference.samples`): this dataset's sample against the other
  samples of its raw files (:mod:`hlm.samplecompare`);
- ``stepwise`` (:mod:`hlm.inference.stepwise`): the random part built forward by LRTs
  (:mod:`hlm.stepwise`).

A part that cannot be computed on the data holds ``error`` (why) instead of numbers. A part's
module has ``fits(cfg)``, the catalog models whose fit records it reads (rule inputs;
:mod:`hlm.inference.fitted` works from them), ``settings(cfg, dataset)``, the part of the
configuration it depends on, ``compute(cfg, profile, students, fits)`` and the command's
``run``. Only what every part runs is here, so that an edit to one part reruns that part.
"""
from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Callable

#: the parts, in the order of the merged record
PARTS = ("hausman", "r2", "profile", "satterthwaite", "ols", "samples", "stepwise")


def safe(compute: Callable[[], dict]) -> dict:
    """compute(), or {"error": why} when the model cannot be fitted on the data."""
    from hlm.errors import ModelError

    try:
        return compute()
    except ModelError as err:
        return {"error": f"{type(err).__name__}: {err}"}


class FitRecords(Mapping):
    """The fit records a part reads, by model name, each read (and validated) when asked for
    and not kept: with many clusters a record holds every unit's fitted values (about 75 MB
    of JSON at 20,000 clusters), so a part holds one at a time."""

    def __init__(self, folder: Path, names: list[str]):
        self.folder, self.names = folder, list(names)

    def __getitem__(self, name: str) -> dict:
        from hlm.io import read_json

        if name not in self.names:
            raise KeyError(name)
        return read_json(self.folder / f"{name}.json", kind="fit")

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def run_part(argv: list[str], part: str, compute: Callable, fits: Callable[[dict], list[str]]) -> int:
    """The command of a part: its record, {"dataset", "part", <part>: ...}, written as kind
    ``inference_part``."""
    from hlm.artifacts import PATHS, Artifacts
    from hlm.config import add_profile_args
    from hlm.io import write_json
    from hlm.models import load_students
    from hlm.sample import profile_from_args

    ap = argparse.ArgumentParser(prog=f"python -m hlm inference-{part}")
    add_profile_args(ap)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--students", type=Path, help="default: data/processed/<dataset>/students.parquet")
    ap.add_argument("--fits-dir", type=Path, help="the fit records; default: data/fits/<dataset>")
    args = ap.parse_args(argv)
    cfg, profile = profile_from_args(args)
    artifacts = Artifacts(profile.name)
    students = load_students(args.students or artifacts.students_path)
    folder = args.fits_dir or artifacts.path(PATHS.fits)
    out = {"dataset": profile.name, "part": part, part: compute(cfg, profile, students, FitRecords(folder, fits(cfg)))}
    write_json(args.out, out, kind="inference_part")
    return 0
