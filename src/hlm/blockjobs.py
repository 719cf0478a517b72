"""The command lines of the steps that split their work into blocks, one job each, and
merge the blocks in one job (:mod:`hlm.bootstrap`, :mod:`hlm.influence`):

    python -m hlm <step>-block --dataset D --<key> NAME --block K --out BLOCK.json [--students S]
    python -m hlm <step> --dataset D --<key> NAME --out RESULT.json BLOCK.json ...
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from hlm.artifacts import Artifacts
from hlm.config import add_profile_args
from hlm.io import read_json, write_json
from hlm.sample import profile_from_args


def run_block(argv: list[str], step: str, key: str, kind: str, block: Callable) -> int:
    """`block(cfg, name, k, profile, students)` -> the record of block k, written as `kind`."""
    from hlm.models import load_students  # the workflow imports the blocks' settings() while it parses
    ap = argparse.ArgumentParser(prog=f"python -m hlm {step}-block")
    add_profile_args(ap)
    ap.add_argument(f"--{key}", required=True)
    ap.add_argument("--block", required=True, type=int)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--students", type=Path, help="default: data/processed/<dataset>/students.parquet")
    args = ap.parse_args(argv)
    cfg, profile = profile_from_args(args)
    students = load_students(args.students or Artifacts(profile.name).students_path)
    write_json(args.out, block(cfg, getattr(args, key), args.block, profile, students), kind=kind)
    return 0


def run_merge(argv: list[str], step: str, key: str, kind: str, merge: Callable) -> int:
    """`merge(cfg, name, profile, blocks)` -> the record of the blocks (`kind`_block) merged."""
    ap = argparse.ArgumentParser(prog=f"python -m hlm {step}")
    add_profile_args(ap)
    ap.add_argument(f"--{key}", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("blocks", nargs="+", type=Path)
    args = ap.parse_args(argv)
    cfg, profile = profile_from_args(args)
    blocks = [read_json(p, kind=f"{kind}_block") for p in args.blocks]
    write_json(args.out, merge(cfg, getattr(args, key), profile, blocks), kind=kind)
    return 0
