"""What a chapter sees: the dataset profile, its artifacts, and number formatting.

Chapters never fit models or draw figures; they read the artifacts the DAG made.
Each chapter declares what it reads in its front matter::

    ---
    hlm:
      fits: [oneway, ancova]
      figures: [quantile_plot]
      tables: [students.parquet, schools.csv]
    ---

The Snakemake `chapter` rule turns that list into the job's inputs, and this
module refuses to read anything undeclared, so the DAG's dependencies stay
complete: change a fit and exactly the chapters that read it re-execute.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from hlm.artifacts import Artifacts
from hlm.config import ROOT, Profile, configfiles_from_env, get_profile, load_config
from hlm.errors import HlmError


class UndeclaredArtifact(HlmError):
    """A chapter read an artifact that its front matter does not list."""


class FailedFit(dict):
    """The record of a fit that failed: reading a result from it says which model failed
    and why, instead of a bare KeyError deep in a chapter."""

    def __missing__(self, key):
        raise HlmError(f"the chapter reads '{key}' of model '{self.get('model')}', which could not be "
                       f"fitted on this dataset: {self.get('error')}")


def declared_inputs(path: Path) -> dict[str, list[str]]:
    """The `hlm:` block of a chapter's front matter: fits, figures, tables."""
    from hlm.book.project import read_front_matter
    block = read_front_matter(path).get("hlm") or {}
    return {key: list(block.get(key) or []) for key in ("fits", "figures", "tables")}


@dataclass
class BookData:
    """The artifacts of one dataset, as one chapter may read them."""

    profile: Profile
    config: dict
    root: Path = ROOT
    declared: dict | None = None  # None: no check (e.g. under a plain `quarto render`)
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls) -> "BookData":
        """Set up from the executor's environment (HLM_DATASET, HLM_CONFIGFILES, HLM_CHAPTER)."""
        root = Path(os.environ.get("HLM_ROOT", ROOT))
        cfg = load_config(configfiles_from_env())
        profile = get_profile(cfg, os.environ.get("HLM_DATASET") or cfg["dataset"])
        chapter = os.environ.get("HLM_CHAPTER")
        declared = declared_inputs(root / chapter) if chapter else None
        return cls(profile=profile, config=cfg, root=root, declared=declared)

    @cached_property
    def artifacts(self) -> Artifacts:
        return Artifacts(self.profile.name, self.root)

    def _check(self, kind: str, name: str) -> None:
        if self.declared is not None and name not in self.declared[kind]:
            raise UndeclaredArtifact(
                f"this chapter reads {kind[:-1]} '{name}' but its front matter does not list it; "
                f"add it under `hlm: {kind}:` so the DAG knows the dependency")

    def fit(self, model: str) -> dict:
        self._check("fits", model)
        if model not in self._cache:
            result = self.artifacts.fit(model)
            self._cache[model] = FailedFit(result) if "error" in result else result
        return self._cache[model]

    def students(self) -> pd.DataFrame:
        self._check("tables", "students.parquet")
        if "students" not in self._cache:
            self._cache["students"] = self.artifacts.students()
        return self._cache["students"]

    def schools(self) -> pd.DataFrame:
        self._check("tables", "schools.csv")
        if "schools" not in self._cache:
            self._cache["schools"] = self.artifacts.schools(self.profile)
        return self._cache["schools"]

    def merge_report(self) -> dict:
        """What the merge dropped or noticed (stored in merged.parquet's metadata)."""
        from hlm.data import read_merge_report
        self._check("tables", "merged.parquet")
        return read_merge_report(self.artifacts.table("merged.parquet"))

    def figure(self, name: str) -> str:
        """Markdown for a prebuilt figure, with its caption and a `fig-` label."""
        from hlm.figures import FIGURES, figure_names
        self._check("figures", name)
        label = "fig-" + name.replace("_", "-")
        if name not in figure_names(self.profile):
            missing = ", ".join(FIGURES[name].needs)
            return (f"*(Figure {name} is not drawn for this dataset: its profile has no "
                    f"{missing} role.)*")
        # relative to the chapter's directory (the kernel's working directory, here and
        # under Quarto), so the link also works in a plain `quarto render`
        path = os.path.relpath(self.artifacts.figure_path(name), Path.cwd())
        caption = FIGURES[name].caption(self.profile)
        return f"![{caption}]({path}){{#{label}}}"


def num(value, digits: int = 2) -> str:
    """A number with `digits` decimals (minus sign as a proper minus in prose)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    text = f"{value:,.{digits}f}"
    return text.replace("-", "\u2212") if text.startswith("-") else text


def code(text) -> str:
    """Text as inline Markdown code (for names computed in Python)."""
    return f"`{text}`"


def pfmt(p: float) -> str:
    """'p = 0.0195' or 'p < 0.0001'."""
    text = pval(p)
    return "p " + text if text.startswith("<") else "p = " + text


def call_block(result: dict) -> str:
    """The exact call the pipeline made for a fit, as a Python code block (or why it failed)."""
    if "error" in result:
        return f"*The model `{result.get('model')}` could not be fitted on this dataset: {result['error']}*"
    return "```python\n" + result["call"] + "\n```"


def plural(word: str) -> str:
    """English plural of a unit or cluster label (school -> schools, class -> classes, city -> cities)."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def pval(p: float) -> str:
    """A p-value as R prints it in prose: '< 0.0001' below that."""
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"
