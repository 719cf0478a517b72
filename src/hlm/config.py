"""Dataset profiles: load the configuration, validate it, resolve a profile's roles.

A profile names the two raw files, the cluster id column and the roles the notes
use (y, x, w and optionally sex). Everything downstream asks the profile for
column names and labels, so a dataset swap needs no code change.
"""
from __future__ import annotations

import csv
import difflib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import jsonschema
import yaml

from hlm.errors import DataError

# The project root: where config/, data/ and the outputs live. Snakemake sets
# HLM_ROOT to its working directory so that every step agrees on it.
ROOT = Path(os.environ.get("HLM_ROOT") or Path(__file__).resolve().parents[2]).resolve()
DEFAULT_CONFIG = ROOT / "config" / "config.yaml"
SCHEMA = ROOT / "config" / "schema.json"


@dataclass(frozen=True)
class Role:
    """One role of a profile: the column that plays it and how the book names it."""

    column: str
    label: str
    reference: Any = None  # w and z: the reference level
    female: Any = None  # sex: the value coding female
    levels: tuple | None = None  # w: (reference, other) when known without the data
    unit: str | None = None  # y and x: the unit of measurement (points, mm), None for none
    plural: str | None = None  # the label's plural when not the regular one


def label_forms(spec, default: str) -> tuple[str, str | None]:
    """(singular, plural or None) from a profile's label: a word or {one: ..., many: ...}."""
    if spec is None:
        return default, None
    if isinstance(spec, dict):
        return spec["one"], spec.get("many")
    return spec, None


def plural(word: str) -> str:
    """English plural of a unit or cluster label (school -> schools, class -> classes, city -> cities,
    child -> children)."""
    irregular = {"child": "children", "person": "people", "man": "men", "woman": "women", "mouse": "mice"}
    last = word.rsplit(" ", 1)[-1]
    if last in irregular:
        return word[: len(word) - len(last)] + irregular[last]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


@dataclass(frozen=True)
class Profile:
    """A validated dataset profile (see config/config.yaml)."""

    name: str
    title: str
    students: Path
    schools: Path
    cluster: str
    sample: Any
    roles: dict[str, Role]
    missing: str = "drop"
    cluster_label: str = "cluster"
    unit_label: str = "unit"
    cluster_plural: str | None = None  # when the profile gives it ({one: child, many: children})
    unit_plural: str | None = None
    extra: dict = field(default_factory=dict, compare=False)
    # where w's levels come from when the profile does not give them (hlm.sample.with_data)
    w_levels_source: Callable[["Profile"], tuple[str, str]] | None = field(default=None, compare=False,
                                                                            repr=False)

    @property
    def y(self) -> str:
        return self.roles["y"].column

    @property
    def x(self) -> str:
        return self.roles["x"].column

    @property
    def w(self) -> str:
        return self.roles["w"].column

    @property
    def w_reference(self) -> Any:
        return self.roles["w"].reference

    @property
    def w_levels(self) -> tuple[str, str]:
        """(reference, other): the two levels of w as text, the reference first.

        The one definition every step, figure and chapter uses. The reference is the
        profile's `reference:`; the other level is the one the data hold, as the merge
        step found it (recorded in the merged table's metadata; read from the raw files,
        the way the pre-job check reads them, while no merged table exists yet): a profile
        bound to its data by `hlm.sample.with_data` knows where to look."""
        levels = self.roles["w"].levels
        if levels:
            return levels
        if self.w_levels_source is None:
            raise DataError(f"the levels of w ('{self.w}') of profile '{self.name}' are not known here: "
                            "bind the profile to its data with hlm.sample.with_data")
        return self.w_levels_source(self)

    def with_w_levels(self, levels) -> "Profile":
        """This profile with w's (reference, other) levels given (no data needed)."""
        roles = dict(self.roles)
        roles["w"] = replace(roles["w"], levels=tuple(str(v) for v in levels))
        return replace(self, roles=roles)

    @property
    def w_term(self) -> str:
        """The name of w's coefficient (treatment dummy of the other level), e.g. SectorPublic."""
        return f"{self.w}{self.w_levels[1]}"

    @property
    def xw_term(self) -> str:
        """The name of the x-by-w interaction's coefficient, e.g. SES:SectorPublic."""
        return f"{self.x}:{self.w_term}"

    @property
    def sex(self) -> str | None:
        role = self.roles.get("sex")
        return role.column if role else None

    @property
    def female(self) -> Any:
        """The sex column's value for female units (None without a sex role)."""
        role = self.roles.get("sex")
        return role.female if role else None

    @property
    def z(self) -> str | None:
        """The optional second binary level-1 variable (HSB: Minority), or None."""
        role = self.roles.get("z")
        return role.column if role else None

    @property
    def z_reference(self) -> Any:
        role = self.roles.get("z")
        return role.reference if role else None

    @property
    def cvar_z(self) -> str | None:
        """The derived column holding each cluster's proportion of z's other level."""
        return f"cvar_{self.z}" if self.z else None

    def has(self, role: str) -> bool:
        return role in self.roles

    def label(self, role: str) -> str:
        return self.roles[role].label

    def labels(self, role: str) -> str:
        """The plural of a role's label (sectors, sexes): the profile's, else the regular one."""
        r = self.roles[role]
        return r.plural or plural(r.label)

    def unit(self, role: str) -> str:
        """The unit of a role's values ('points', 'mm'), or '' when the profile gives none."""
        r = self.roles.get(role)
        return (r.unit or "") if r else ""

    def roles_of(self, column: str) -> list[str]:
        """The roles a column plays (a column may play two: sex as w and as sex)."""
        return [name for name, r in self.roles.items() if r.column == column]

    @property
    def clusters_label(self) -> str:
        return self.cluster_plural or plural(self.cluster_label)

    @property
    def units_label(self) -> str:
        return self.unit_plural or plural(self.unit_label)

    @property
    def cvar_x(self) -> str:
        return f"cvar_{self.x}"

    @property
    def dvar_x(self) -> str:
        return f"dvar_{self.x}"


def reference_first(levels, reference) -> tuple[str, ...]:
    """The rule for w's levels: as text, the reference level first, then the others sorted."""
    ref = str(reference)
    levels = sorted({str(v) for v in levels} - {ref})
    return (ref, *levels)


def _merge(base: dict, extra: dict) -> dict:
    """Recursive dict merge, as Snakemake merges --configfile over configfile."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(configfiles: list[str | Path] | None = None, overrides: dict | None = None) -> dict:
    """Read config/config.yaml, merge extra config files and overrides, validate."""
    cfg = _merge(read_config([DEFAULT_CONFIG, *(configfiles or [])]), overrides or {})
    validate_config(cfg)
    return cfg


def read_config(files: list[str | Path]) -> dict:
    """The YAML config files merged in order (later files win), not validated."""
    cfg: dict = {}
    for path in map(Path, files):
        if not path.exists():
            raise DataError(f"config file {path} does not exist; check the path given to CONFIG=")
        with open(path, encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh) or {}
        if not isinstance(loaded, dict):
            raise DataError(f"config file {path} must hold a YAML mapping (dataset:, datasets:)")
        cfg = _merge(cfg, loaded)
    return cfg


def configfiles_from_env() -> list[Path]:
    """Extra config files handed to chapters by the executor (HLM_CONFIGFILES)."""
    raw = os.environ.get("HLM_CONFIGFILES", "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


def validate_config(cfg: dict) -> None:
    """Check the configuration against config/schema.json; say where it is wrong."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(cfg), key=lambda e: list(e.path))
    if errors:
        lines = []
        for err in errors[:5]:
            where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
            lines.append(f"  at {where}: {err.message}")
        raise DataError("the configuration does not match config/schema.json:\n" + "\n".join(lines)
                        + "\nFix the profile (see README, 'Your own data').")
    if cfg["dataset"] not in cfg["datasets"]:
        raise DataError(_unknown_profile(cfg["dataset"], cfg["datasets"]))


def _unknown_profile(name: str, datasets: dict) -> str:
    close = difflib.get_close_matches(name, list(datasets), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (f"dataset profile '{name}' is not defined; known profiles: {', '.join(datasets)}.{hint}"
            " Add it under `datasets:` in a config file and pass CONFIG=<file>.")


def get_profile(cfg: dict, name: str | None = None) -> Profile:
    """The profile `name` (default: cfg['dataset']), paths resolved against the project root."""
    name = name or cfg["dataset"]
    if name not in cfg["datasets"]:
        raise DataError(_unknown_profile(name, cfg["datasets"]))
    raw = cfg["datasets"][name]
    roles = {}
    for role, spec in raw["roles"].items():
        label, many = label_forms(spec.get("label"), spec["column"])
        roles[role] = Role(column=spec["column"], label=label, plural=many,
                           reference=spec.get("reference"), female=spec.get("female"),
                           unit=spec.get("unit"))
    cluster_label, cluster_plural = label_forms(raw.get("cluster_label"), "cluster")
    unit_label, unit_plural = label_forms(raw.get("unit_label"), "unit")
    return Profile(
        name=name,
        title=raw.get("title", name),
        students=_resolve(raw["students"]),
        schools=_resolve(raw["schools"]),
        cluster=raw["cluster"],
        sample=raw["sample"],
        roles=roles,
        missing=raw.get("missing", "drop"),
        cluster_label=cluster_label, cluster_plural=cluster_plural,
        unit_label=unit_label, unit_plural=unit_plural,
    )


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else ROOT / p


def load_profile(name: str | None = None, configfiles: list[str | Path] | None = None) -> Profile:
    """Convenience: load the configuration and return one profile."""
    cfg = load_config(configfiles)
    return get_profile(cfg, name)


def add_profile_args(parser) -> None:
    """The two options every `python -m hlm <command>` takes to find its profile."""
    parser.add_argument("--dataset", required=True, help="profile name (config: datasets:)")
    parser.add_argument("--configfile", action="append", default=[],
                        help="extra config file merged over config/config.yaml (repeatable; "
                             "default: the files listed in HLM_CONFIGFILES)")


def read_header(path: Path, what: str) -> list[str]:
    """The column names of a CSV file (its first line only)."""
    if not path.exists():
        raise DataError(f"the {what} file {path} does not exist; check `{what}:` in the profile "
                        "(paths are relative to the project root)")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh), [])


def _columns_hint(column: str, present: list[str]) -> str:
    close = difflib.get_close_matches(column, present, n=1, cutoff=0.5)
    return f" Did you mean '{close[0]}'?" if close else ""


def check_profile_files(profile: Profile) -> None:
    """Check a profile's columns against the files' headers, before any job runs."""
    students = read_header(profile.students, "students")
    schools = read_header(profile.schools, "schools")
    for cols, path in ((students, profile.students), (schools, profile.schools)):
        if profile.cluster not in cols:
            raise DataError(f"cluster id column '{profile.cluster}' is not in {path}."
                            f"{_columns_hint(profile.cluster, cols)} Columns present: {', '.join(cols)}. "
                            "Both files need the cluster id column.")
    both = sorted(set(students) | set(schools))
    for role, spec in profile.roles.items():
        if spec.column not in both:
            raise DataError(f"column '{spec.column}' (role {role}) of profile '{profile.name}' is in neither "
                            f"{profile.students} nor {profile.schools}.{_columns_hint(spec.column, both)} "
                            f"Columns present: students: {', '.join(students)}; schools: {', '.join(schools)}.")
