"""Multilevel helpers, the Python side of the notes' `capply`, `up` and `tab`.

- :func:`cvar` and :func:`dvar`: cluster mean of a variable, and the deviation
  from it (centred within groups, CWG);
- :func:`up`: the cluster-level table (variables constant within clusters, and
  with ``summaries=True`` means of numeric and modes of other variables);
- :func:`tab`: crosstabs with totals;
- :func:`derive`: the derived student and cluster tables of the pipeline
  (sizes, contextual variables, sex composition, informative ids).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from hlm.config import Profile, add_profile_args
from hlm.sample import profile_from_args
from hlm.data import ROW, as_text, read_merged
from hlm.sample import sorted_ids
from hlm.io import atomic_path

COMPOSITIONS = ("Girls", "Boys", "Coed")


def cvar(x: pd.Series, g: pd.Series) -> pd.Series:
    """Cluster mean of `x`, repeated on each row (the notes' capply(x, g, mean))."""
    return x.groupby(g, observed=True, sort=False).transform("mean")


def dvar(x: pd.Series, g: pd.Series) -> pd.Series:
    """Deviation of `x` from its cluster mean (centred within groups)."""
    return x - cvar(x, g)


def constant_columns(frame: pd.DataFrame, g: str) -> list[str]:
    """Columns whose value does not vary within any cluster (level-2 columns)."""
    grouped = frame.groupby(g, observed=True, sort=False)
    nunique = grouped.nunique(dropna=False)
    return [c for c in frame.columns if c == g or (c in nunique and bool((nunique[c] <= 1).all()))]


def variation(frame: pd.DataFrame, column: str, g: str, digits: int = 2) -> str:
    """Where a numeric column varies: 'both' (between and within clusters), 'within' (its
    cluster means print the same at `digits` decimals: a balanced design, where its between
    effect cannot be estimated), 'between' (constant within every cluster) or 'none'."""
    x = frame[column].astype(float)
    means = x.groupby(frame[g], observed=True).mean()
    flat_between = f"{means.min():.{digits}f}" == f"{means.max():.{digits}f}"
    flat_within = bool((x.groupby(frame[g], observed=True).nunique() <= 1).all())
    if flat_between and flat_within:
        return "none"
    return "within" if flat_between else "between" if flat_within else "both"


def _mode(values: pd.Series):
    counts = values.value_counts(dropna=True, sort=False)
    if counts.empty:
        return np.nan
    return counts.index[int(np.argmax(counts.to_numpy()))]


def up(frame: pd.DataFrame, g: str, summaries: bool = False) -> pd.DataFrame:
    """One row per cluster, in order of first appearance (the notes' `up`).

    Without `summaries`, only the columns constant within clusters; with it, also
    the cluster means of numeric and the modes of other level-1 columns.
    """
    keep = constant_columns(frame, g)
    grouped = frame.groupby(g, observed=True, sort=False)
    out = grouped[[c for c in keep if c != g]].first()
    if summaries:
        rest = [c for c in frame.columns if c not in keep]
        for col in rest:
            if pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
                out[col] = grouped[col].mean()
            else:
                out[col] = grouped[col].agg(_mode)
        out = out[[c for c in frame.columns if c in out.columns]]
    out.index.name = g
    return out.reset_index()


def tab(frame: pd.DataFrame, rows: str, cols: str | None = None, totals: bool = True) -> pd.DataFrame:
    """Counts of `rows` (by `cols`), with a Total row and column (the notes' `tab`)."""
    if cols is None:
        out = frame[rows].value_counts(sort=False).sort_index().to_frame("count").T
        if totals:
            out["Total"] = out.sum(axis=1)
        return out
    out = pd.crosstab(frame[rows], frame[cols], margins=totals, margins_name="Total", dropna=False)
    if totals:
        out.columns = [*out.columns[:-1], "Total"]
    return out


def sex_composition(frame: pd.DataFrame, profile: Profile) -> pd.Series:
    """Proportion female in each row's cluster (the notes' Sex.comp)."""
    female = (as_text(frame[profile.sex]) == str(profile.female)).astype(float)
    female[frame[profile.sex].isna()] = np.nan
    return cvar(female, frame[profile.cluster])


def composition_category(comp: pd.Series) -> pd.Series:
    """Girls (all female), Boys (none female) or Coed (the notes' Sex.cat); none when the
    cluster's sex is unknown (all missing)."""
    cat = np.where(comp == 1, "Girls", np.where(comp == 0, "Boys", np.where(comp.isna(), None, "Coed")))
    return pd.Series(pd.Categorical(cat, categories=list(COMPOSITIONS)), index=comp.index)


def w_prefix(w: pd.Series) -> pd.Series:
    """The shortest start of w's levels that tells them apart, capitalised: "C"/"P" for
    Catholic/Public, "Pu"/"Pr" for Public/Private."""
    levels = sorted(set(w.dropna()))
    k = 1
    while k < max(map(len, levels)) and len({lv[:k].lower() for lv in levels}) < len(levels):
        k += 1
    start = w.str[:k]
    return start.str[0].str.upper() + start.str[1:]


def informative_id(frame: pd.DataFrame, profile: Profile) -> pd.Series:
    """w's initial + cluster id (+ composition initial), e.g. C4530G, as an ordered factor.

    Order as the notes' ``reorder(sid, ses + 1000 * (Sector == "Catholic"))``:
    the non-reference level of w first, then the reference level, each cluster
    by its mean x.
    """
    w = frame[profile.w].astype("string")
    label = w_prefix(w) + frame[profile.cluster].astype(str)
    if profile.sex and "sex_cat" in frame:
        label = label + frame["sex_cat"].astype("string").str[0].fillna("")
    is_ref = (w == profile.w_levels[0]).astype(int)
    ids = frame[profile.cluster].astype(str)
    rank = {c: i for i, c in enumerate(sorted_ids(ids.unique()))}
    key = pd.DataFrame({"sid": label, "ref": is_ref, "mx": cvar(frame[profile.x], frame[profile.cluster]),
                        "id": ids.map(rank)})
    order = key.drop_duplicates("sid").sort_values(["ref", "mx", "id"])["sid"].tolist()
    return pd.Series(pd.Categorical(label, categories=order, ordered=False), index=frame.index)


def z_levels(students: pd.DataFrame, profile: Profile) -> tuple[str, str]:
    """z's (reference, other) levels, as the merge step ordered them (a Categorical)."""
    return tuple(str(c) for c in students[profile.z].cat.categories)


def z_term(students: pd.DataFrame, profile: Profile) -> str:
    """The name of z's coefficient (treatment dummy of the other level), e.g. MinorityYes."""
    return f"{profile.z}{z_levels(students, profile)[1]}"


def derive(merged: pd.DataFrame, profile: Profile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The derived student table and the cluster table (docs/architecture.md, layout)."""
    s = merged.copy()
    g = s[profile.cluster]
    s["n"] = g.map(g.value_counts()).astype(int)
    x = s[profile.x]
    # a cluster whose x is constant has that value as its mean exactly (not up to rounding), so
    # that x's deviations there are exactly 0 and a model of them is refused as not identified
    constant = x.groupby(g, observed=True).transform("min") == x.groupby(g, observed=True).transform("max")
    s[profile.cvar_x] = cvar(x, g).where(~constant, x)
    s[profile.dvar_x] = x - s[profile.cvar_x]
    if profile.z:  # the cluster's proportion of z's other level (the contextual variable of z)
        s[profile.cvar_z] = cvar((s[profile.z] == z_levels(s, profile)[1]).astype(float), g)
    if profile.sex:
        s["sex_comp"] = sex_composition(s, profile)
        s["sex_cat"] = composition_category(s["sex_comp"])
    s["sid"] = informative_id(s, profile)
    return s, cluster_table(s, profile)


def cluster_table(students: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """One row per cluster, in informative-id order, with sizes and means of y and x."""
    level2 = [c for c in constant_columns(students, profile.cluster)
              if c not in (ROW, profile.cvar_x, "sid", "n", "sex_comp", "sex_cat", profile.cluster)]
    grouped = students.groupby(profile.cluster, observed=True, sort=False)
    out = grouped[["sid", "n"] + level2].first()
    if profile.sex:
        out["sex_comp"] = grouped["sex_comp"].first()
        out["sex_cat"] = grouped["sex_cat"].first()
    out[f"mean_{profile.y}"] = grouped[profile.y].mean()
    out[f"mean_{profile.x}"] = grouped[profile.x].mean()
    out = out.reset_index()
    out["sid"] = pd.Categorical(out["sid"].astype(str), categories=students["sid"].cat.categories)
    return out.sort_values("sid").reset_index(drop=True)


def read_students(path: str | Path) -> pd.DataFrame:
    """students.parquet with its dtypes (categories keep their order)."""
    return pd.read_parquet(path)


def read_schools(path: str | Path, profile: Profile) -> pd.DataFrame:
    """schools.csv with the id as text, w with its reference first, sid in file order."""
    frame = pd.read_csv(path, dtype={profile.cluster: "string", "sid": "string"})
    frame[profile.w] = pd.Categorical(frame[profile.w].astype(str), categories=list(profile.w_levels))
    frame["sid"] = pd.Categorical(frame["sid"], categories=list(frame["sid"]))
    if "sex_cat" in frame:
        frame["sex_cat"] = pd.Categorical(frame["sex_cat"], categories=list(COMPOSITIONS))
    return frame


def run(argv: list[str]) -> int:
    """`python -m hlm derive --dataset D --merged M --students S --schools C`"""
    parser = argparse.ArgumentParser(prog="python -m hlm derive")
    add_profile_args(parser)
    parser.add_argument("--merged", required=True, type=Path)
    parser.add_argument("--students", required=True, type=Path)
    parser.add_argument("--schools", required=True, type=Path)
    args = parser.parse_args(argv)
    _, profile = profile_from_args(args)
    students, schools = derive(read_merged(args.merged).frame, profile)
    with atomic_path(args.students) as tmp_s, atomic_path(args.schools) as tmp_c:
        students.to_parquet(tmp_s, index=False)
        schools.to_csv(tmp_c, index=False)
    return 0
