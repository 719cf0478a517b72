"""Which clusters a profile's sample takes, and whether they can carry the book.

Kept free of pandas so that the workflow can run :func:`preflight` while it is
parsed, before any job: data that cannot carry the book at all (a `w` with one
level in the chosen sample) stop there with a clear error.
"""
from __future__ import annotations

import csv

from hlm.config import Profile, read_header
from hlm.errors import DataError, show_values


def sorted_ids(ids) -> list[str]:
    """Cluster ids in the merge's order: numbers by value (as text of equal length), then text."""
    return sorted(ids, key=lambda s: (len(s), s) if s.isdigit() else (0, s))


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


def preflight(profile: Profile) -> None:
    """w must take both its levels in the chosen sample (checked before any job)."""
    in_units = profile.w in read_header(profile.students, "students")
    units = _distinct(profile.students, [profile.cluster] + ([profile.w] if in_units else []))
    pairs = units if in_units else _distinct(profile.schools, [profile.cluster, profile.w])
    chosen = set(select_sample(sorted_ids({u[0] for u in units} - {None}), profile.sample, profile))
    levels = sorted({_level(w) for c, w in pairs if c in chosen and w is not None})
    if len(levels) == 1:
        raise DataError(f"w column '{profile.w}' has only one level ('{levels[0]}') in the "
                        f"{len(chosen)} clusters of profile '{profile.name}'s sample, so no model can "
                        "compare its levels. Choose a sample with clusters of both levels, or another w.")
