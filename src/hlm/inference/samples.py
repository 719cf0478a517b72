"""The inference record's ``samples`` part: the dataset's sample against the other samples of
its raw files (:mod:`hlm.samplecompare`).

    python -m hlm inference-samples --dataset D --students S --out data/fits/D/inference/samples.json
"""
from __future__ import annotations

from collections.abc import Mapping

from hlm.inference import run_part


def fits(cfg: dict) -> list[str]:
    return []


def settings(cfg: dict, dataset: str) -> dict:
    """The profiles sharing the dataset's raw files, as configured."""
    from hlm.samplecompare import settings as sample_settings

    return sample_settings(cfg, dataset)


def compute(cfg: dict, profile, students, fits: Mapping) -> dict:
    from hlm.samplecompare import compare_samples

    return compare_samples(cfg, profile)


def run(argv: list[str]) -> int:
    return run_part(argv, "samples", compute, fits)
