"""`python -m hlm figure --dataset D --name N --svg out.svg --png out.png`.

Reads the tables and fits the figure's spec lists (from data/processed/D/ and
data/fits/D/ under the project root), draws the figure and writes both files
atomically.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

from hlm import config
from hlm.errors import DataError
from hlm.io import atomic_path, read_json


def _root() -> Path:
    return config.ROOT


def _read_students(path: Path, profile):
    try:
        from hlm.levels import read_students
    except ImportError:  # the data stage's reader is optional here
        read_students = None
    if read_students is not None:
        return read_students(path)
    import pandas as pd
    return pd.read_parquet(path)


def _read_schools(path: Path, profile):
    try:
        from hlm.levels import read_schools
    except ImportError:
        read_schools = None
    if read_schools is not None:
        return read_schools(path, profile)
    import pandas as pd
    return pd.read_csv(path, dtype={profile.cluster: str})


def load_inputs(spec, dataset: str, profile, root: Path | None = None) -> dict:
    """The keyword arguments of a figure function: tables and fits its spec reads."""
    root = Path(root or _root())
    processed, fitdir = root / "data" / "processed" / dataset, root / "data" / "fits" / dataset
    kwargs = {"profile": profile, "students": None, "schools": None, "fits": {}}
    for path in [processed / t for t in spec.tables] + [fitdir / f"{m}.json" for m in spec.fits]:
        if not path.exists():
            raise DataError(f"figure '{spec.name}' needs {path}, which does not exist; "
                            "run the data and model stages first (make book)")
    if "students.parquet" in spec.tables:
        kwargs["students"] = _read_students(processed / "students.parquet", profile)
    if "schools.csv" in spec.tables:
        kwargs["schools"] = _read_schools(processed / "schools.csv", profile)
    kwargs["fits"] = {m: read_json(fitdir / f"{m}.json") for m in spec.fits}
    return kwargs


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
    _, profile = config.profile_from_args(args)
    if args.name not in FIGURES:
        raise DataError(f"unknown figure '{args.name}'; known: {', '.join(FIGURES)}")
    spec = FIGURES[args.name]
    missing = [r for r in spec.needs if not profile.has(r)]
    if missing:
        raise DataError(f"figure '{args.name}' needs the role(s) {', '.join(missing)}, "
                        f"which profile '{profile.name}' does not define")
    fig = render(args.name, **load_inputs(spec, args.dataset, profile))
    with atomic_path(args.svg) as svg_tmp, atomic_path(args.png) as png_tmp:
        save_figure(fig, svg=svg_tmp, png=png_tmp)
    return 0
