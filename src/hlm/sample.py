"""Which clusters a profile's sample takes, what its data hold, and whether they can carry
the book.

Kept free of pandas so that the workflow can run :func:`preflight` while it is
parsed, before any job: data that cannot carry the book at all (a `w` with one
level in the chosen sample) stop there with a clear error.
"""
from __future__ import annotations

import csv
import json
from dataclasses import replace
from functools import partial
from pathlib import Path

from hlm.artifacts import Artifacts
from hlm.config import ROOT, Profile, configfiles_from_env, get_profile, load_config, read_header, reference_first
from hlm.errors import DataError, show_values


def sorted_ids(ids) -> list[str]:
    """Cluster ids (as text) in the one order every step uses, R's merge order: by value when
    every id is a number (1317 before 1906 before 10000), otherwise as text."""
    ids = [str(i) for i in ids]
    try:
        value = {i: float(i) for i in ids}
    except ValueError:
        return sorted(ids)
    return sorted(ids, key=lambda i: (value[i], i))


def select_sample(ids: list[str], sample, profile: Profile) -> list[str]:
    """The clusters of the profile's sample: all, a list, or a seeded random draw."""
    if sample == "all":
        chosen = list(ids)
    elif "clusters" in sample:
        chosen = [str(c) for c in sample["clusters"]]
        unknown = [c for c in chosen if c not in set(ids)]
        if unknown:
            raise DataError(f"the sample of profile '{profile.name}' names clusters not in the data: "
                            f"{show_values(unknown)}. Remove them from `sample: clusters:`.")
    else:
        import numpy as np

        size = int(sample["random"])
        if size > len(ids):
            raise DataError(f"the sample of profile '{profile.name}' asks for {size} random clusters "
                            f"but the data have {len(ids)}; lower `sample: random:`.")
        rng = np.random.default_rng(sample.get("seed", 0))
        chosen = list(rng.choice(np.array(ids, dtype=object), size=size, replace=False))
    if not chosen:
        raise DataError(f"the sample of profile '{profile.name}' is empty; list at least one cluster.")
    return chosen


def _distinct(path, names: list[str]) -> set[tuple]:
    """The distinct combinations of some columns of a CSV, as text (empty cells: None)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        idx = [header.index(n) for n in names]
        return {tuple(row[i] or None for i in idx) for row in reader if row}


def _level(value: str) -> str:
    """A w value as the merge reads it: 0/1 written as 0.0/1.0 are the same level."""
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value


def sample_w_levels(profile: Profile) -> list[str]:
    """The distinct levels of w in the profile's sample, read from the raw files."""
    return _sample_levels(profile)[0]


def _sample_levels(profile: Profile) -> tuple[list[str], int]:
    """(w's distinct levels in the sample, the number of clusters in the sample)."""
    in_units = profile.w in read_header(profile.students, "students")
    units = _distinct(profile.students, [profile.cluster] + ([profile.w] if in_units else []))
    pairs = units if in_units else _distinct(profile.schools, [profile.cluster, profile.w])
    chosen = set(select_sample(sorted_ids({u[0] for u in units} - {None}), profile.sample, profile))
    return sorted({_level(w) for c, w in pairs if c in chosen and w is not None}), len(chosen)


def preflight(profile: Profile) -> None:
    """w must take both its levels in the chosen sample (checked before any job)."""
    levels, n_chosen = _sample_levels(profile)
    if len(levels) == 1:
        raise DataError(f"w column '{profile.w}' has only one level ('{levels[0]}') in the "
                        f"{n_chosen} clusters of profile '{profile.name}'s sample, so no model can "
                        "compare its levels. Choose a sample with clusters of both levels, or another w.")


def recorded_w_levels(profile: Profile, root: Path | None = None) -> tuple[str, str]:
    """w's (reference, other) levels as the merge step recorded them for `profile` under the
    project root `root`: in the merged table's metadata, else as the categories of w in the
    student table; before the merge has run, from the raw files of the profile's sample."""
    art = Artifacts(profile.name, Path(root or ROOT))
    tables = [art.table("merged.parquet"), art.table("students.parquet")]
    stamps = tuple(p.stat().st_mtime_ns if p.exists() else None for p in tables)
    reference = str(profile.w_reference)
    key = (profile.name, profile.w, reference, str(profile.students), str(profile.schools),
           json.dumps(profile.sample, sort_keys=True), str(art.root), stamps)
    if key not in _W_LEVELS:
        levels = _stored_w_levels(profile, *tables)
        if len(levels) != 2 or levels[0] != reference:
            levels = reference_first(sample_w_levels(profile), reference)
        if len(levels) != 2:
            raise DataError(f"w ('{profile.w}') of profile '{profile.name}' must take two levels in the "
                            f"sample, its reference '{reference}' and one other; it has {', '.join(levels)}.")
        _W_LEVELS[key] = levels
    return _W_LEVELS[key]


def _stored_w_levels(profile: Profile, merged: Path, students: Path) -> tuple[str, ...]:
    import pyarrow.parquet as pq
    if merged.exists():
        report = json.loads((pq.read_schema(merged).metadata or {}).get(b"hlm", b"{}"))
        if report.get("w_levels"):
            return tuple(report["w_levels"])
    if students.exists() and profile.w in pq.read_schema(students).names:
        column = pq.read_table(students, columns=[profile.w]).column(0)
        if hasattr(column.type, "value_type"):  # a dictionary (categorical) column keeps the order
            return tuple(str(v) for v in column.combine_chunks().dictionary.to_pylist())
    return ()


_W_LEVELS: dict[tuple, tuple[str, str]] = {}


def with_data(profile: Profile, root: Path | None = None) -> Profile:
    """The profile bound to its data under the project root `root`: where it asks, w's
    levels are the ones the data hold (`recorded_w_levels`), read when first needed."""
    return replace(profile, w_levels_source=partial(recorded_w_levels, root=root))


def profile_from_args(args) -> tuple[dict, Profile]:
    """(configuration, profile bound to its data) for parsed `add_profile_args` options."""
    cfg = load_config(args.configfile or configfiles_from_env())
    return cfg, with_data(get_profile(cfg, args.dataset))
