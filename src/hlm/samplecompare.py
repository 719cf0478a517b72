"""The dataset's sample against the other samples of the same raw files.

A profile chooses clusters of its two raw files (``sample:`` all, a list, or a seeded
random draw). Whether the book's numbers are typical of the files depends on how that
sample compares with the others: the other profiles of the configuration whose unit and
cluster files are the same files, and all the clusters of the files. Each sample is
merged by :func:`hlm.data.merge` with this dataset's roles and missing-value policy (so
that only the sample differs) and described by the same few numbers: sizes, the share of
clusters at w's other level, the means of y and x, and how much y and x vary between
and within clusters. Only the roles y, x, w and cluster are used.

A sample whose merge fails (e.g. a list naming clusters the files do not have) is
listed with its error instead of its numbers.
"""
from __future__ import annotations

from dataclasses import replace

from hlm.config import Profile, get_profile
from hlm.errors import DataError

ALL = "all clusters in the files"


def same_files(cfg: dict, profile: Profile) -> list[str]:
    """The profiles of the configuration whose unit and cluster files are `profile`'s, in
    configuration order."""
    out = []
    for name in cfg["datasets"]:
        other = get_profile(cfg, name)
        if (other.students.resolve(), other.schools.resolve()) == (profile.students.resolve(),
                                                                  profile.schools.resolve()):
            out.append(name)
    return out


def settings(cfg: dict, dataset: str) -> dict:
    """The part of the configuration the comparison depends on: the profiles sharing
    `dataset`'s files, as configured (rules/lab.smk reruns the step when it changes)."""
    return {name: cfg["datasets"][name] for name in same_files(cfg, get_profile(cfg, dataset))}


def describe_sample(profile: Profile) -> str:
    """The profile's ``sample:`` in words."""
    sample = profile.sample
    if sample == "all":
        return "all clusters"
    if "clusters" in sample:
        return f"{len(sample['clusters'])} listed clusters"
    return f"{sample['random']} clusters drawn at random (seed {sample.get('seed', 0)})"


def sample_stats(frame, report: dict, profile: Profile) -> dict:
    """The numbers of one merged sample (sample SDs, n - 1 denominators, as R's ``sd``;
    the within-cluster SD of x is averaged over the clusters of two units or more)."""
    g = frame.groupby(profile.cluster, observed=True, sort=False)
    size = g.size()
    other = str(frame[profile.w].cat.categories[1])
    w = g[profile.w].first().astype(str)
    return {
        "clusters": int(len(size)), "units": int(len(frame)), "rows_dropped": int(report["rows_dropped"]),
        "w_other": other, "share_w_other": float((w == other).mean()),
        "size_mean": float(size.mean()), "size_sd": float(size.std()),
        "mean_y": float(frame[profile.y].mean()), "mean_x": float(frame[profile.x].mean()),
        "sd_cluster_mean_y": float(g[profile.y].mean().std()),
        "sd_cluster_mean_x": float(g[profile.x].mean().std()),
        "mean_within_sd_x": float(g[profile.x].std().mean()),
    }


def compare_samples(cfg: dict, profile: Profile) -> dict:
    """``{"this": profile.name, "rows": [...]}``: one row per sample of `profile`'s files
    (:func:`same_files`, then all the clusters unless a profile already takes them all)."""
    from hlm.data import merge

    names = same_files(cfg, profile)
    names = names if profile.name in names else [profile.name, *names]
    samples = [(name, profile if name == profile.name else get_profile(cfg, name)) for name in names]
    if not any(p.sample == "all" for _, p in samples):
        samples.append((ALL, replace(profile, name=ALL, title=ALL, sample="all")))
    rows = []
    for name, other in samples:
        mine = replace(profile, name=name, title=other.title, sample=other.sample)
        row = {"name": name, "title": other.title, "this": name == profile.name,
               "sample": describe_sample(other)}
        try:
            merged = merge(mine)
            row.update(sample_stats(merged.frame, merged.report, mine))
        except DataError as err:
            row["error"] = f"{type(err).__name__}: {err}"
        rows.append(row)
    return {"this": profile.name, "rows": rows}
