"""The inference record from its parts (:mod:`hlm.inference`): one cheap job, so that the
chapters read one record.

    python -m hlm inference --dataset D --out data/fits/D/inference.json PART.json ...
"""
from __future__ import annotations

import argparse
from pathlib import Path

from hlm.errors import DataError
from hlm.inference import PARTS


def merge(dataset: str, parts: list[dict]) -> dict:
    """{"dataset", <each part>} in the order of PARTS, from one record of each part."""
    given = sorted(p["part"] for p in parts)
    if given != sorted(PARTS) or any(p["dataset"] != dataset for p in parts):
        raise DataError(f"inference of '{dataset}': the parts given are {given} of "
                        f"{sorted({p['dataset'] for p in parts})}, expected each of {list(PARTS)} once "
                        f"of '{dataset}'; rerun the parts")
    by_name = {p["part"]: p[p["part"]] for p in parts}
    return {"dataset": dataset, **{name: by_name[name] for name in PARTS}}


def run(argv: list[str]) -> int:
    from hlm.config import add_profile_args
    from hlm.io import read_json, write_json
    from hlm.sample import profile_from_args

    ap = argparse.ArgumentParser(prog="python -m hlm inference")
    add_profile_args(ap)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("parts", nargs="+", type=Path)
    args = ap.parse_args(argv)
    _, profile = profile_from_args(args)
    parts = [read_json(p, kind="inference_part") for p in args.parts]
    write_json(args.out, merge(profile.name, parts), kind="inference")
    return 0
