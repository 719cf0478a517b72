"""Where a dataset's artifacts live, and reading them back.

The one place for the layout (docs/architecture.md): the workflow's rules take
their paths from `PATHS` (patterns with Snakemake's `{wildcards}`), and the
steps and chapters from `Artifacts`, so that a path is never spelled twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hlm.config import ROOT, Profile
from hlm.io import read_json

if TYPE_CHECKING:
    import pandas as pd


class PATHS:
    """Every artifact's path relative to the project root, as a pattern."""

    merged = "data/processed/{dataset}/merged.parquet"
    students = "data/processed/{dataset}/students.parquet"
    schools = "data/processed/{dataset}/schools.csv"
    table = "data/processed/{dataset}/{table}"         # students.parquet or schools.csv
    fits = "data/fits/{dataset}"
    fit = "data/fits/{dataset}/{model}.json"
    comparison = "data/fits/{dataset}/comparison.json"
    reproduction = "data/fits/{dataset}/reproduction.json"
    bootstrap = "data/fits/{dataset}/bootstrap/{test}.json"                    # a bootstrap LRT
    bootstrap_block = "data/fits/{dataset}/bootstrap/{test}/block-{block}.json"  # one job's replicates
    influence = "data/fits/{dataset}/influence/{model}.json"                    # clusters' influence
    inference = "data/fits/{dataset}/inference.json"            # Hausman, multilevel R², profile intervals
    inference_part = "data/fits/{dataset}/inference/{part}.json"  # one part of it, one job (hlm.inference)
    influence_block = "data/fits/{dataset}/influence/{model}/block-{block}.json"  # one job's refits
    figure = "figures/{dataset}/{name}.{ext}"          # svg, png, and json (what was drawn)
    chapter = "build/{dataset}/book/{chapter}.md"     # an executed chapter
    book = "_book/{dataset}"                           # the rendered book
    log = "logs/{dataset}/{step}.log"
    settings = "build/{dataset}/settings/{name}.txt"   # what of the config a step depends on
    reference = "data/reference"                       # the notes' numbers and R's fits


def fill(pattern: str, **fields: str) -> str:
    """`pattern` with the given fields filled in and the others left as {wildcards}."""
    for key, value in fields.items():
        pattern = pattern.replace("{" + key + "}", value)
    return pattern


@dataclass(frozen=True)
class Artifacts:
    """The artifact paths of one dataset, relative to a project root."""

    dataset: str
    root: Path = ROOT

    def path(self, pattern: str, **fields: str) -> Path:
        """A pattern of `PATHS` filled in for this dataset."""
        return self.root / pattern.format(dataset=self.dataset, **fields)

    def table(self, name: str) -> Path:
        return self.path(PATHS.table, table=name)

    @property
    def students_path(self) -> Path:
        return self.path(PATHS.students)

    @property
    def schools_path(self) -> Path:
        return self.path(PATHS.schools)

    def fit_path(self, model: str) -> Path:
        return self.path(PATHS.fit, model=model)

    def figure_path(self, name: str, ext: str = "svg") -> Path:
        return self.path(PATHS.figure, name=name, ext=ext)

    def lab_path(self, name: str) -> Path:
        """A Lab record by name: ``inference``, ``inference/<part>``, ``bootstrap/<test>`` or
        ``influence/<model>``."""
        kind, _, item = name.partition("/")
        if kind == "inference":
            return self.path(PATHS.inference_part, part=item) if item else self.path(PATHS.inference)
        if kind == "bootstrap" and item:
            return self.path(PATHS.bootstrap, test=item)
        if kind == "influence" and item:
            return self.path(PATHS.influence, model=item)
        raise ValueError(f"unknown Lab record {name!r}: use inference, inference/<part>, bootstrap/<test> or "
                         "influence/<model>")

    def lab(self, name: str) -> dict:
        """A Lab record (see `lab_path`), validated against its schema (hlm.records)."""
        kind, _, item = name.partition("/")
        return read_json(self.lab_path(name), kind="inference_part" if kind == "inference" and item else kind)

    def fit(self, model: str) -> dict:
        """A record of data/fits/<dataset>/: a fit record, or the comparison or reproduction
        record (``model`` comparison, reproduction), validated against its schema (hlm.records)."""
        kind = model if model in ("comparison", "reproduction") else "fit"
        return read_json(self.fit_path(model), kind=kind)
