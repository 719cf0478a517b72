"""Where a dataset's artifacts live, and reading them back.

One place for the layout of DESIGN.md, used by the CLI steps and by the book's
chapters, so that a path is never spelled twice:

    data/processed/{dataset}/merged.parquet, students.parquet, schools.csv
    data/fits/{dataset}/{model}.json
    figures/{dataset}/{name}.svg | .png
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hlm.config import ROOT, Profile
from hlm.io import read_json


@dataclass(frozen=True)
class Artifacts:
    """The artifact paths of one dataset, relative to a project root."""

    dataset: str
    root: Path = ROOT

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed" / self.dataset

    def table(self, name: str) -> Path:
        return self.processed / name

    @property
    def students_path(self) -> Path:
        return self.table("students.parquet")

    @property
    def schools_path(self) -> Path:
        return self.table("schools.csv")

    def fit_path(self, model: str) -> Path:
        return self.root / "data" / "fits" / self.dataset / f"{model}.json"

    def figure_path(self, name: str, ext: str = "svg") -> Path:
        return self.root / "figures" / self.dataset / f"{name}.{ext}"

    def students(self) -> pd.DataFrame:
        from hlm.levels import read_students
        return read_students(self.students_path)

    def schools(self, profile: Profile) -> pd.DataFrame:
        from hlm.levels import read_schools
        return read_schools(self.schools_path, profile)

    def fit(self, model: str) -> dict:
        return read_json(self.fit_path(model))
