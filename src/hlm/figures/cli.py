"""`python -m hlm figure --dataset D --name N --svg out.svg --png out.png`.

Reads the tables, fits and Lab records the figure's spec lists (from data/processed/D/
and data/fits/D/ under the project root), draws the figure and writes both files
atomically, with out.json beside the SVG: {"clusters": the number of clusters, null
for the simulated figures}, what the caption needs from the data
(``FIGURES[name].caption(profile, clusters)``). A figure whose fits could not be
fitted (or whose Lab record holds an ``error``) is a one-line placeholder (the chapter
shows why instead), so that the data never fail a figure job.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

from hlm import config
from hlm.errors import DataError
from hlm.artifacts import Artifacts
from hlm.cli import progress
from hlm.fitstatus import status_of
from hlm.io import atomic_path, write_json
from hlm.levels import read_schools, read_students
from hlm.sample import profile_from_args, with_data


def _root() -> Path:
    return config.ROOT


def load_inputs(spec, dataset: str, profile, root: Path | None = None) -> dict:
    """The keyword arguments of a figure function: the tables and fits its spec reads (the Lab
    records it names join the fits, under their names)."""
    art = Artifacts(dataset, Path(root or _root()))
    needed = ([art.table(t) for t in spec.tables] + [art.fit_path(m) for m in spec.fits]
              + [art.lab_path(n) for n in spec.lab])
    for path in needed:
        if not path.exists():
            raise DataError(f"figure '{spec.name}' needs {path}, which does not exist; "
                            "run the data and model stages first (make book)")
    if spec.tables:  # w's levels as recorded with this root's tables
        profile = with_data(profile, art.root)
    return {"profile": profile,
            "students": read_students(art.students_path) if "students.parquet" in spec.tables else None,
            "schools": read_schools(art.schools_path, profile) if "schools.csv" in spec.tables else None,
            "fits": {**{m: art.fit(m) for m in spec.fits}, **{n: art.lab(n) for n in spec.lab}}}


def placeholder(name: str, models: list[str]):
    """A figure that says it is not drawn (the book shows the models' explanation instead)."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6, 1.2))
    fig.text(0.5, 0.5, f"{name}: not drawn, {', '.join(models)} not fitted on this dataset",
             ha="center", va="center")
    return fig


def run(argv: list[str]) -> int:
    matplotlib.use("agg")
    from hlm.figures._base import save_figure
    from hlm.figures.registry import FIGURES, render

    parser = argparse.ArgumentParser(prog="python -m hlm figure", description=__doc__)
    config.add_profile_args(parser)
    parser.add_argument("--name", required=True, help="figure name (see hlm.figures.FIGURES)")
    parser.add_argument("--svg", required=True, help="output SVG path")
    parser.add_argument("--png", required=True, help="output PNG path")
    args = parser.parse_args(argv)
    _, profile = profile_from_args(args)
    if args.name not in FIGURES:
        raise DataError(f"unknown figure '{args.name}'; known: {', '.join(FIGURES)}")
    spec = FIGURES[args.name]
    missing = [r for r in spec.needs if not profile.has(r)]
    if missing:
        raise DataError(f"figure '{args.name}' needs the role(s) {', '.join(missing)}, "
                        f"which profile '{profile.name}' does not define")
    inputs = load_inputs(spec, args.dataset, profile)
    progress(f"drawing '{args.name}'")
    unusable = [m for m, rec in inputs["fits"].items() if not status_of(rec).usable]
    fig = placeholder(args.name, unusable) if unusable else render(args.name, **inputs)
    students = inputs["students"]
    clusters = None if students is None else int(students[profile.cluster].nunique())
    with atomic_path(args.svg) as svg_tmp, atomic_path(args.png) as png_tmp:
        save_figure(fig, svg=svg_tmp, png=png_tmp)
        write_json(Path(args.svg).with_suffix(".json"), {"clusters": clusters}, kind="figure")
    return 0
