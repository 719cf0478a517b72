"""Read and validate the two raw files, select the sample, merge them.

The notes build their data set with ``merge(schoolfile, studentfile)``. Here the
same merge is checked first: every problem raises :class:`DataError` naming the
file, the column, the rows or ids, and how to fix it, before anything is
written. Rows with a missing y or x are dropped only by the profile's policy
(``missing: drop``), and the count is logged and stored with the merged table.
"""
from __future__ import annotations

import argparse
import difflib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hlm.config import Profile, add_profile_args, check_profile_files, reference_first
from hlm.sample import profile_from_args, select_sample, sorted_ids
from hlm.errors import DataError, show_values as _show
from hlm.io import atomic_path
from hlm.records import validate

ROW = "row"
META_KEY = b"hlm"


@dataclass(frozen=True)
class Merged:
    """The merged student-level table and a record of what the merge dropped."""

    frame: pd.DataFrame
    report: dict = field(default_factory=dict)


def read_csv(path: Path, what: str, id_column: str) -> pd.DataFrame:
    """Read one raw CSV, the id column as text so that 1224 and "1224" agree."""
    if not path.exists():
        raise DataError(f"the {what} file {path} does not exist; check `{what}:` in the profile "
                        "(paths are relative to the project root)")
    try:
        frame = pd.read_csv(path, dtype={id_column: "string"}, keep_default_na=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"the {what} file {path} is not a readable CSV: {err}") from err
    if frame.empty:
        raise DataError(f"the {what} file {path} has no rows")
    return frame


def require_columns(frame: pd.DataFrame, columns: dict[str, str], path: Path) -> None:
    """Each needed column must exist; suggest the closest name when one is misspelled."""
    for role, column in columns.items():
        if column in frame.columns:
            continue
        close = difflib.get_close_matches(column, list(frame.columns), n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise DataError(f"column '{column}' (role {role}) is not in {path}.{hint} "
                        f"Columns present: {', '.join(map(str, frame.columns))}. "
                        "Fix the column name in the profile's roles.")


def as_text(values: pd.Series) -> pd.Series:
    """Values as text for matching a level named in the profile: a 0/1 column read as
    float (because of a missing value) gives "0"/"1", not "0.0"/"1.0"."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if (whole == np.round(whole)).all():
            return values.astype("Int64").astype("string")
    return values.astype("string")


def reserved_columns(profile: Profile) -> set[str]:
    """Names the derive step adds: a raw column may not already use them."""
    derived = {ROW, "n", "sid", "sex_comp", "sex_cat", profile.cvar_x, profile.dvar_x,
               f"mean_{profile.y}", f"mean_{profile.x}"}
    return derived | ({profile.cvar_z} if profile.z else set())


def check_reserved(frames: dict[Path, pd.DataFrame], profile: Profile) -> None:
    for path, frame in frames.items():
        clash = sorted(reserved_columns(profile) & set(frame.columns))
        if clash:
            raise DataError(f"columns {', '.join(clash)} of {path} have names that the pipeline gives to "
                            "derived variables (row number, cluster size, informative id, composition, "
                            "cluster means); rename them in the file.")


def check_sex(merged: pd.DataFrame, profile: Profile) -> None:
    """The value coding female must occur in the sex column, or compositions would be wrong."""
    female = str(profile.female)
    seen = sorted(set(as_text(merged[profile.sex]).dropna()))
    if female not in seen:
        raise DataError(f"the sex role's female value '{female}' never occurs in column '{profile.sex}' "
                        f"(values: {_show(seen)}); set `female:` to the value that codes female.")


def check_numeric(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Convert a y/x column to float; text that is not a number is an error naming the rows."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy()) + 2).tolist()  # +1 header, +1 for 1-based lines
        examples = _show(raw[bad].astype(str).unique())
        raise DataError(f"column '{column}' in {path} must be numeric, but lines {_show(rows)} "
                        f"hold {examples}. Fix or blank those values.")
    return values.astype(float)


def check_schools(schools: pd.DataFrame, profile: Profile) -> None:
    ids = schools[profile.cluster]
    if ids.isna().any():
        rows = (np.flatnonzero(ids.isna().to_numpy()) + 2).tolist()
        raise DataError(f"the cluster id '{profile.cluster}' is missing on lines {_show(rows)} "
                        f"of {profile.schools}; every cluster row needs an id.")
    dup = ids[ids.duplicated(keep=False)]
    if not dup.empty:
        raise DataError(f"duplicate cluster ids in {profile.schools}: {_show(sorted(set(dup)))}. "
                        "Each cluster must appear once in the cluster-level file.")


def check_students(students: pd.DataFrame, profile: Profile) -> None:
    ids = students[profile.cluster]
    if ids.isna().any():
        rows = (np.flatnonzero(ids.isna().to_numpy()) + 2).tolist()
        raise DataError(f"the cluster id '{profile.cluster}' is missing on lines {_show(rows)} "
                        f"of {profile.students}; give each row the id of its cluster.")


def _level2_consistency(merged: pd.DataFrame, students: pd.DataFrame, schools: pd.DataFrame,
                        profile: Profile) -> pd.DataFrame:
    """Columns in both files must agree; the student copy must be constant within clusters."""
    shared = [c for c in schools.columns if c in students.columns and c != profile.cluster]
    for col in shared:
        left, right = merged[f"{col}__student"], merged[f"{col}__school"]
        varies = merged.groupby(profile.cluster, observed=True)[f"{col}__student"].nunique(dropna=False) > 1
        if varies.any():
            raise DataError(f"column '{col}' is in both files, but its student-level copy in "
                            f"{profile.students} varies within clusters {_show(varies[varies].index)}; "
                            "a level-2 variable must be constant within a cluster.")
        differ = ~((left == right) | (left.isna() & right.isna()))
        if differ.any():
            bad = sorted(set(merged.loc[differ, profile.cluster]))
            raise DataError(f"column '{col}' disagrees between {profile.students} and {profile.schools} "
                            f"for clusters {_show(bad)}; keep one copy or make them equal.")
        merged = merged.drop(columns=[f"{col}__student"]).rename(columns={f"{col}__school": col})
    return merged


def check_w(merged: pd.DataFrame, profile: Profile) -> pd.Series:
    """w must be constant within clusters, binary, and include its reference level."""
    w, ref = profile.w, profile.w_reference
    if isinstance(ref, bool):
        raise DataError(f"the reference level of w ('{w}') reads as a YAML boolean ({ref}); "
                        "quote it in the profile, e.g. reference: \"no\".")
    values = as_text(merged[w])
    if values.isna().any():
        bad = sorted(set(merged.loc[values.isna(), profile.cluster]))
        raise DataError(f"w column '{w}' is missing for clusters {_show(bad)}; give every cluster a value.")
    varies = values.groupby(merged[profile.cluster]).nunique() > 1
    if varies.any():
        raise DataError(f"w column '{w}' varies within clusters {_show(varies[varies].index)}; "
                        "w must be a cluster-level (level-2) variable.")
    levels = sorted(values.unique())
    if len(levels) != 2:
        raise DataError(f"w column '{w}' must be binary, but it has {len(levels)} levels in the sample: "
                        f"{_show(levels)}. Recode it or choose another w.")
    if str(ref) not in levels:
        raise DataError(f"the reference level '{ref}' of w ('{w}') is not among its levels "
                        f"{', '.join(levels)}; set `reference:` to one of them.")
    return pd.Categorical(values, categories=list(reference_first(levels, ref)))


def check_z(merged: pd.DataFrame, profile: Profile) -> pd.Categorical:
    """z is a level-1 binary variable holding its reference level: a Categorical
    [reference, other] (the order that names z's coefficient, e.g. MinorityYes)."""
    z, ref = profile.z, profile.z_reference
    if isinstance(ref, bool):
        raise DataError(f"the reference level of z ('{z}') reads as a YAML boolean ({ref}); "
                        "quote it in the profile, e.g. reference: \"No\".")
    values = as_text(merged[z])
    levels = sorted(values.dropna().unique())
    if len(levels) != 2 or str(ref) not in levels:
        raise DataError(f"z column '{z}' must be binary with its reference level '{ref}' among its values, "
                        f"but it takes {_show(levels)} in the sample. Recode it, fix `reference:`, or "
                        "remove the z role from the profile.")
    return pd.Categorical(values, categories=list(reference_first(levels, ref)))


def drop_missing(frame: pd.DataFrame, profile: Profile) -> tuple[pd.DataFrame, dict]:
    """Apply the missing-value policy to y, x and z (when the profile has one); count what
    is dropped."""
    columns = [profile.y, profile.x] + ([profile.z] if profile.z else [])
    counts = {c: int(frame[c].isna().sum()) for c in columns}
    mask = frame[columns].isna().any(axis=1)
    if mask.any() and profile.missing == "error":
        rows = frame.loc[mask, ROW].tolist()
        raise DataError(f"{int(mask.sum())} rows of {profile.students} have a missing "
                        f"{' or '.join(columns)} (rows {_show(rows)}); fill them, or set "
                        "`missing: drop` in the profile to drop them.")
    return frame.loc[~mask].copy(), {"rows_dropped": int(mask.sum()), "missing_by_column": counts,
                                     "rows_dropped_ids": frame.loc[mask, ROW].tolist()[:100]}


def merge(profile: Profile) -> Merged:
    """Validate both files, select the sample and merge them (the notes' `merge`)."""
    students = read_csv(profile.students, "students", profile.cluster)
    schools = read_csv(profile.schools, "schools", profile.cluster)
    require_columns(students, {"cluster": profile.cluster}, profile.students)
    require_columns(schools, {"cluster": profile.cluster}, profile.schools)
    check_profile_files(profile)
    check_schools(schools, profile)
    check_students(students, profile)
    check_reserved({profile.students: students, profile.schools: schools}, profile)
    students.insert(0, ROW, np.arange(1, len(students) + 1))
    for role in ("y", "x"):
        col = profile.roles[role].column
        require_columns(students, {role: col}, profile.students)
        students[col] = check_numeric(students, col, profile.students)
    if profile.z:  # a level-1 variable: a column of the unit file
        require_columns(students, {"z": profile.z}, profile.students)

    orphans = sorted(set(students[profile.cluster]) - set(schools[profile.cluster]))
    if orphans:
        n = int(students[profile.cluster].isin(orphans).sum())
        raise DataError(f"{n} students in {profile.students} belong to clusters absent from "
                        f"{profile.schools}: {_show(orphans)}. Add those clusters to the cluster file "
                        "or remove their students.")
    empty = sorted(set(schools[profile.cluster]) - set(students[profile.cluster]))
    n_raw = len(students)
    ids = sorted_ids(set(students[profile.cluster]))
    chosen = select_sample(ids, profile.sample, profile)
    students = students[students[profile.cluster].isin(set(chosen))]
    schools_in = schools[schools[profile.cluster].isin(set(chosen))]

    merged = schools_in.merge(students, on=profile.cluster, how="inner", suffixes=("__school", "__student"))
    merged = _level2_consistency(merged, students, schools_in, profile)
    merged, dropped = drop_missing(merged, profile)
    lost = sorted(set(chosen) - set(merged[profile.cluster]))
    if lost:
        raise DataError(f"clusters {_show(lost)} have no students left after dropping rows with "
                        f"missing {profile.y}/{profile.x}; remove them from the sample.")
    merged[profile.w] = check_w(merged, profile)
    if profile.z:
        merged[profile.z] = check_z(merged, profile)
    if profile.sex:
        check_sex(merged, profile)
    rank = {c: i for i, c in enumerate(ids)}
    merged = merged.sort_values([profile.cluster, ROW], key=lambda s: s.map(rank) if s.name == profile.cluster else s)
    front = [ROW, profile.cluster]
    merged = merged[front + [c for c in merged.columns if c not in front]].reset_index(drop=True)
    report = {"dataset": profile.name, "n_students_raw": int(n_raw), "n": int(len(merged)),
              "clusters": int(merged[profile.cluster].nunique()), **dropped,
              "clusters_without_students": empty, "w_levels": list(merged[profile.w].cat.categories)}
    return Merged(merged, report)


def write_merged(merged: Merged, path: Path) -> None:
    """Parquet with the merge report in the file's metadata (key 'hlm')."""
    table = pa.Table.from_pandas(merged.frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[META_KEY] = json.dumps(validate("merge_report", merged.report, where=path, writing=True)).encode()
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(meta), tmp)


def read_merged(path: Path) -> Merged:
    table = pq.read_table(path)
    report = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
    return Merged(table.to_pandas(), validate("merge_report", report, where=f"{path} (metadata)"))


def read_merge_report(path: Path) -> dict:
    """The merge report alone, from the parquet schema (no data read)."""
    report = json.loads((pq.read_schema(path).metadata or {}).get(META_KEY, b"{}"))
    return validate("merge_report", report, where=f"{path} (metadata)")


def log_report(report: dict) -> None:
    print(f"[merge] {report['dataset']}: {report['n']} rows in {report['clusters']} clusters", file=sys.stderr)
    if report.get("rows_dropped"):
        by = ", ".join(f"{k}: {v}" for k, v in report["missing_by_column"].items() if v)
        print(f"[merge] dropped {report['rows_dropped']} rows with missing values ({by}) "
              "by the profile's `missing: drop` policy", file=sys.stderr)
    if report.get("clusters_without_students"):
        print(f"[merge] {len(report['clusters_without_students'])} clusters in the cluster file have no "
              f"students: {_show(report['clusters_without_students'])}", file=sys.stderr)


def merge_to(profile: Profile, out: Path) -> Merged:
    """The `merge` step: validate, merge, log what was dropped, write `out` (or nothing)."""
    merged = merge(profile)
    log_report(merged.report)
    write_merged(merged, out)
    return merged


def run(argv: list[str]) -> int:
    """`python -m hlm merge --dataset D --out data/processed/D/merged.parquet`"""
    parser = argparse.ArgumentParser(prog="python -m hlm merge")
    add_profile_args(parser)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    _, profile = profile_from_args(args)
    merge_to(profile, args.out)
    return 0
