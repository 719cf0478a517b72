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

import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from hlm.artifacts import Artifacts
from hlm.book.tables import pipe_table  # noqa: F401 (for chapters: a DataFrame as a Markdown table)
from hlm.config import ROOT, Profile, configfiles_from_env, get_profile, load_config, plural  # noqa: F401 (plural: for chapters)
from hlm.errors import HlmError
from hlm.io import read_json
from hlm.levels import read_schools, read_students
from hlm.sample import with_data
from hlm.fitstatus import FitStatus, explanation, reminder, status_of


class UndeclaredArtifact(HlmError):
    """A chapter read an artifact that its front matter does not list."""


class MissingArtifact(HlmError):
    """A chapter read an artifact that is not built (a plain `quarto render` before
    `make book`)."""


class FailedFit(dict):
    """The record of a fit that failed: reading a result from it says which model failed
    and why, instead of a bare KeyError deep in a chapter."""

    def __missing__(self, key):
        raise HlmError(f"the chapter reads '{key}' of model '{self.get('model')}', which could not be "
                       f"fitted on this dataset: {self.get('error')}. Read it inside an `if-fitted` "
                       "block (report/AUTHORING.md), which explains a fit that cannot be shown")


def declared_inputs(path: Path) -> dict[str, list[str]]:
    """The `hlm:` block of a chapter's front matter: fits, figures, tables, lab."""
    from hlm.book.project import read_front_matter
    block = read_front_matter(path).get("hlm") or {}
    return {key: list(block.get(key) or []) for key in ("fits", "figures", "tables", "lab")}


@dataclass
class BookData:
    """The artifacts of one dataset, as one chapter may read them."""

    profile: Profile
    config: dict
    root: Path = ROOT
    declared: dict | None = None  # None: no check (e.g. under a plain `quarto render`)
    _cache: dict = field(default_factory=dict, repr=False)
    _explained: set = field(default_factory=set, repr=False)  # models explained in full

    @classmethod
    def current(cls) -> "BookData":
        """The chapter's BookData (one per kernel, shared by `_common` and the guards)."""
        global _CURRENT
        if _CURRENT is None:
            _CURRENT = cls.from_env()
        return _CURRENT

    @classmethod
    def from_env(cls) -> "BookData":
        """Set up from the executor's environment (HLM_DATASET, HLM_CONFIGFILES, HLM_CHAPTER)."""
        root = Path(os.environ.get("HLM_ROOT", ROOT))
        cfg = load_config(configfiles_from_env())
        profile = with_data(get_profile(cfg, os.environ.get("HLM_DATASET") or cfg["dataset"]), root)
        chapter = os.environ.get("HLM_CHAPTER")
        declared = declared_inputs(root / chapter) if chapter else None
        return cls(profile=profile, config=cfg, root=root, declared=declared)

    @cached_property
    def artifacts(self) -> Artifacts:
        return Artifacts(self.profile.name, self.root)

    def _check(self, kind: str, name: str, path: Path | None = None) -> Path | None:
        """`path`, the artifact `name` of `kind` this chapter reads, once checked: declared
        in the chapter's front matter (under the pipeline) and built (under Quarto)."""
        if self.declared is not None and name not in self.declared[kind]:
            raise UndeclaredArtifact(
                f"this chapter reads {kind.rstrip('s')} '{name}' but its front matter does not list it; "
                f"add it under `hlm: {kind}:` so the DAG knows the dependency")
        if path is not None and not path.exists():
            default = self.profile.name == self.config.get("dataset")
            make = "make book" if default else f"make book DATASET={self.profile.name}"
            raise MissingArtifact(
                f"{path.relative_to(self.root) if path.is_relative_to(self.root) else path} is not built:"
                f" the chapters show what the pipeline computes for dataset '{self.profile.name}', so run"
                f" `{make}` at the project root first, then render again")
        return path

    def fit(self, model: str) -> dict:
        self._check("fits", model, self.artifacts.fit_path(model))
        if model not in self._cache:
            result = self.artifacts.fit(model)
            self._cache[model] = FailedFit(result) if "error" in result else result
        return self._cache[model]

    def lab(self, name: str) -> dict:
        """A Lab record: ``inference``, ``inference/<part>``, ``bootstrap/<test>`` or ``influence/<model>``."""
        self._check("lab", name, self.artifacts.lab_path(name))
        key = ("lab", name)
        if key not in self._cache:
            self._cache[key] = self.artifacts.lab(name)
        return self._cache[key]

    def status(self, model: str) -> FitStatus:
        """The fit's state (fitted, singular, not converged, not fitted) and why."""
        return status_of(self.fit(model))

    def usable(self, *models: str) -> bool:
        """All these fits can be shown."""
        return all(self.status(m).usable for m in models)

    def explain(self, *models: str) -> str:
        """Markdown saying why each of these models is not fitted or has a problem: in
        full the first time in a chapter, then as a short reminder."""
        parts = []
        for m in models:
            st = self.status(m)
            if not st.problem:
                continue
            parts.append(explanation(st) if m not in self._explained else reminder(st))
            self._explained.add(m)
        return "\n\n".join(parts)

    def _figure_fit_usable(self, model: str) -> bool:
        """Whether a fit a figure draws from can be shown (read once per chapter; the
        chapter itself need not declare it; a fit not built yet counts as usable)."""
        key = ("usable", model)
        if key not in self._cache:
            path = self.artifacts.fit_path(model)
            self._cache[key] = not path.exists() or status_of(read_json(path, kind="fit")).usable
        return self._cache[key]

    def students(self) -> pd.DataFrame:
        self._check("tables", "students.parquet", self.artifacts.students_path)
        if "students" not in self._cache:
            self._cache["students"] = read_students(self.artifacts.students_path)
        return self._cache["students"]

    def schools(self) -> pd.DataFrame:
        self._check("tables", "schools.csv", self.artifacts.schools_path)
        if "schools" not in self._cache:
            self._cache["schools"] = read_schools(self.artifacts.schools_path, self.profile)
        return self._cache["schools"]

    def merge_report(self) -> dict:
        """What the merge dropped or noticed (stored in merged.parquet's metadata)."""
        from hlm.data import read_merge_report
        return read_merge_report(self._check("tables", "merged.parquet", self.artifacts.table("merged.parquet")))

    def figure(self, name: str) -> str:
        """Markdown for a prebuilt figure, with its caption, a `fig-` label and its alt text
        (Quarto's `fig-alt`: what the image shows, where the caption says what it means)."""
        from hlm.figures import FIGURES, figure_names
        self._check("figures", name)
        label = "fig-" + name.replace("_", "-")
        spec = FIGURES[name]
        if name not in figure_names(self.profile):
            missing = ", ".join(spec.needs)
            return (f"*(Figure {name} is not drawn for this dataset: its profile has no "
                    f"{missing} role.)*")
        unusable = [m for m in spec.fits if not self._figure_fit_usable(m)]
        if unusable:
            return (f"*(Figure {name} is not drawn for this dataset: it needs "
                    f"{', '.join(f'`{m}`' for m in unusable)}, not fitted here.)*")
        # relative to the chapter's directory (the kernel's working directory, here and
        # under Quarto), so the link also works in a plain `quarto render`
        path = os.path.relpath(self._check("figures", name, self.artifacts.figure_path(name)), Path.cwd())
        meta = self.artifacts.figure_path(name, "json")  # what the figure job drew (cluster count)
        clusters = read_json(meta, kind="figure")["clusters"] if meta.exists() else None
        caption = spec.caption(self.profile, clusters)
        return f"![{caption}]({path}){{#{label} fig-alt={attribute(spec.alt(self.profile))}}}"


_CURRENT: BookData | None = None

#: The profile's attributes that echoed code shows as their values (`P.x` as "SES"),
#: as a reader of this build would type them: columns, coefficient names, labels, the
#: reference level of w and the raw files (relative to the project root).
SHOWN_ATTRIBUTES = ("y", "x", "w", "cluster", "cvar_x", "dvar_x", "sex", "female", "w_term", "xw_term",
                    "w_reference", "cluster_label", "unit_label", "clusters_label", "units_label",
                    "students", "schools")


def shown_names() -> str:
    """For the executor: JSON {"P.x": "SES", "profile.x": "SES", ...}, once the chapter
    has loaded its dataset (`_common`); {} before, and in books that read no dataset."""
    return json.dumps(_shown_names())


def _shown_names() -> dict:
    if _CURRENT is None:
        return {}
    names = {}
    for attr in SHOWN_ATTRIBUTES:
        value = getattr(_CURRENT.profile, attr)
        if isinstance(value, Path):
            value = project_path(value, _CURRENT.root)
            if value is None:  # outside the project: the code keeps `profile.students`, no machine path
                continue
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            names.update({f"P.{attr}": value, f"profile.{attr}": value})
    return names


def project_path(path, root=None) -> str | None:
    """`path` relative to the project root, with forward slashes, or None outside the project."""
    root = Path(root or ROOT).resolve()
    path = Path(path)
    path = (path if path.is_absolute() else root / path).resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else None


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    import hashlib
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_file(path, root=None) -> Markdown:
    """An input file as the book names it: its path relative to the project root, or, for a
    file outside the project, its name and SHA-256 (a book never shows the builder's file system)."""
    rel = project_path(path, root)
    if rel is not None:
        return code(rel)
    return md(f"`{Path(path).name}` (SHA-256 `{file_sha256(path)[:16]}…`, the start of its checksum)")


#: w's label or column when it is the units' sex (a growth study compares the sexes)
SEX_WORDS = ("sex", "gender")


def sex_place(profile: Profile, students: pd.DataFrame) -> str:
    """Where this build's data hold the units' sex, which the notes tabulate and plot within
    clusters: 'unit' (a sex role that varies within clusters, as in the notes), 'w' (the sex is
    w, the cluster-level variable: a sex role on w's column, or no sex role and w named sex),
    'cluster' (a sex role constant within every cluster) or 'none' (no sex role)."""
    if profile.has("sex"):
        if "w" in profile.roles_of(profile.sex):
            return "w"
        varies = students.groupby(profile.cluster, observed=True)[profile.sex].nunique() > 1
        return "unit" if bool(varies.any()) else "cluster"
    w = profile.roles["w"]
    return "w" if {w.label.casefold(), w.column.casefold()} & set(SEX_WORDS) else "none"


def sex_note(profile: Profile, students: pd.DataFrame, what: str) -> str:
    """Why this build leaves out `what` (e.g. 'the tables by sex'), which needs a sex that varies
    within clusters, in the dataset's words; '' when the data have one."""
    place = sex_place(profile, students)
    cl, cls, un = profile.cluster_label, profile.clusters_label, profile.unit_label
    if place == "w":
        return (f"Here sex is the {cl}-level variable that the book compares (`{profile.w}`): each "
                f"{cl} has a single sex, and a split by sex within {cls} would only repeat the split "
                f"by {profile.label('w')}. This build therefore leaves out {what}.")
    if place == "cluster":
        return (f"Here sex does not vary within {cls}: each {cl} has a single sex, so there is no mix "
                f"of sexes within a {cl} to show. This build therefore leaves out {what}.")
    if place == "none":
        return (f"The profile names no column for the sex of each {un} (the optional sex role), "
                f"so this build leaves out {what}.")
    return ""


def notes_data(book: "BookData") -> bool:
    """Whether this build reads the notes' own survey: the raw unit file of the notes' profile
    (`hsb40` in the configuration)."""
    notes = book.config.get("datasets", {}).get("hsb40")
    if notes is None:
        return False
    ours = Path(book.profile.students).resolve()
    theirs = Path(notes["students"])
    theirs = (theirs if theirs.is_absolute() else Path(book.root) / theirs).resolve()
    return ours == theirs


def code_shown(code: str) -> Markdown:
    """A Python code block for an `output: asis` cell, showing `code` as echoed code is
    shown: the profile's names as this build's values (`P.x` as "SES")."""
    from hlm.book.codeview import shown_code
    return md("```python\n" + shown_code(code.strip("\n"), _shown_names()) + "\n```\n")


def guard(models: list[str]) -> str:
    """For the executor's ``if-fitted`` blocks: JSON {"run": ..., "markdown": ...}.

    The first model is the block's own. Usable fits run the block, after a note if
    the block's own fit is singular; otherwise the explanation of each model that
    cannot be shown replaces it."""
    book = BookData.current()
    unusable = [m for m in models if not book.status(m).usable]
    return json.dumps({"run": not unusable, "markdown": book.explain(*(unusable or models[:1]))})


def attribute(text: str) -> str:
    """`text` as a quoted value of a Markdown attribute (`{#fig-x fig-alt="..."}`): pandoc and
    Quarto read a backslash-escaped quote or backslash inside the quotes as the character."""
    return '"' + " ".join(str(text).split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


def num(value, digits: int = 2) -> str:
    """A number with `digits` decimals (minus sign as a proper minus in prose; a value that
    rounds to zero has no sign: "0.00", never "−0.00")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    text = f"{value:,.{digits}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]
    return text.replace("-", "\u2212") if text.startswith("-") else text


class Markdown(str):
    """Text that is Markdown. An inline `{python} expr` shows a plain str literally
    (Quarto escapes its `*`, `` ` ``, `[`, ...), and a value of this type as formatted
    Markdown (its `text/markdown` form), under Quarto and the built-in executor alike."""

    def _repr_markdown_(self) -> str:
        return str(self)


def md(text) -> Markdown:
    """`text` as Markdown, for an inline expression (`{python} md(f"... {code(name)}")`)."""
    return Markdown(text)


def code(text) -> Markdown:
    """Text as inline Markdown code (for names computed in Python)."""
    return md(f"`{text}`")


def pfmt(p: float) -> str:
    """'p = 0.0195' or 'p < 0.0001'."""
    text = pval(p)
    return "p " + text if text.startswith("<") else "p = " + text


def call_block(result: dict) -> str:
    """The exact call the pipeline made for a fit, as a Python code block (or why it failed)."""
    if "error" in result:
        return f"*The model `{result.get('model')}` could not be fitted on this dataset: {result['error']}*"
    return "```python\n" + result["call"] + "\n```"


def pval(p: float) -> str:
    """A p-value as R prints it in prose: '< 0.0001' below that."""
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"
