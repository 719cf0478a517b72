"""A chapter of a dataset's book: what this project hands the chapter executor.

`hlm.book` executes a Quarto chapter and knows nothing of hlm: it is given a
`ChapterJob`. This module is the glue for the `chapter` step (`hlm.bookjob` is the
same for the `book` step; they are apart so that each step's code is only its own):

- the artifact layout a chapter's `hlm:` front matter names (`chapter_artifacts`,
  the inputs of the Snakemake `chapter` rule);
- the kernel's environment (HLM_DATASET, HLM_ROOT, HLM_CONFIGFILES, HLM_CHAPTER,
  which `hlm.bookdata` reads) and the guard of `if-fitted` blocks
  (`hlm.bookdata.guard`).

    python -m hlm chapter --dataset D --qmd report/x.qmd --out build/D/book/x.md [--configfile F ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from hlm.artifacts import Artifacts
from hlm.book import BookError, ChapterJob
from hlm.book.execute import execute_chapter as _execute
from hlm.book.project import read_front_matter
from hlm.config import configfiles_from_env
from hlm.errors import user_errors

#: Defined in the chapter's kernel before the chapter runs: the guard of `if-fitted`
#: blocks, and the names echoed code shows as the dataset's columns. hlm.bookdata is
#: imported when first asked (not at set-up, so that the chapter alone decides when
#: its modules, matplotlib among them, are imported).
KERNEL_SETUP = (
    "def __hlm_guard(models):\n"
    "    import hlm.bookdata\n"
    "    return hlm.bookdata.guard(models)\n"
    "def __hlm_shown_names():\n"
    "    import hlm.bookdata\n"
    "    return hlm.bookdata.shown_names()"
)
KERNEL_GUARD = "__hlm_guard"
KERNEL_SHOWN_NAMES = "__hlm_shown_names"

#: The project's own keys in a chapter's front matter (Quarto knows the others): `hlm:`,
#: the artifacts a chapter reads. tests/test_quarto_project.py holds chapters to this.
FRONT_MATTER_KEYS = frozenset({"hlm"})

#: The artifact kinds of a chapter's `hlm:` front matter and their path in the layout.
_ARTIFACT_PATH = {
    "fits": lambda a, name: a.fit_path(name),
    "figures": lambda a, name: a.figure_path(name),
    "tables": lambda a, name: a.table(name),
    "lab": lambda a, name: a.lab_path(name),   # inference(/<part>), bootstrap/<test>, influence/<model>
}


def chapter_artifacts(qmd: str | Path, dataset: str, figures: set[str] | None = None) -> list[str]:
    """The files a chapter reads, from its `hlm:` front matter, for dataset `dataset`.

    `figures`, when given, is the set of figures drawn for the dataset: the others
    (e.g. figures by sex for data without a sex role) are not inputs.

    `hlm: {fits: [oneway], figures: [quantile_plot], tables: [students.parquet]}` ->
    `data/fits/{dataset}/oneway.json`, `figures/{dataset}/quantile_plot.svg`,
    `data/processed/{dataset}/students.parquet` (relative to the project root).
    """
    hlm = read_front_matter(qmd).get("hlm") or {}
    if not isinstance(hlm, dict):
        raise BookError(f"{qmd}:1: `hlm:` must map artifact kinds to lists of names")
    layout = Artifacts(dataset, Path())  # paths relative to the project root
    out: list[str] = []
    for kind, names in hlm.items():
        if kind not in _ARTIFACT_PATH:
            raise BookError(
                f"{qmd}:1: unknown `hlm:` artifact kind {kind!r}; use {sorted(_ARTIFACT_PATH)}"
            )
        if isinstance(names, str):
            names = [names]
        for name in names or []:
            if kind == "figures" and figures is not None and name not in figures:
                continue
            out.append(_ARTIFACT_PATH[kind](layout, name).as_posix())
    return out


def chapter_job(
    qmd: str | Path,
    out: str | Path,
    dataset: str,
    root: str | Path | None = None,
    configfiles: list | None = None,
    timeout: int | None = None,
) -> ChapterJob:
    """The job of executing chapter `qmd` of dataset `dataset`'s book into `out`."""
    root = Path(root or os.getcwd()).resolve()
    configs = [(root / c).resolve() for c in (configfiles or [])]
    for c in configs:
        if not c.is_file():
            raise BookError(f"config file {c} not found")
    qmd_abs = (root / qmd).resolve()
    try:
        rel = qmd_abs.relative_to(root).as_posix()
    except ValueError:
        rel = str(qmd_abs)
    env = {
        "HLM_DATASET": dataset,
        "HLM_ROOT": str(root),
        "HLM_CONFIGFILES": os.pathsep.join(str(c) for c in configs),
        "HLM_CHAPTER": rel,
    }
    return ChapterJob(qmd=Path(qmd), out=Path(out), root=root, env=env,
                      setup_code=KERNEL_SETUP, guard=KERNEL_GUARD, shown_names=KERNEL_SHOWN_NAMES,
                      timeout=timeout)


def execute_chapter(qmd: str | Path, out: str | Path, dataset: str, root: str | Path | None = None,
                    configfiles: list | None = None, timeout: int | None = None) -> Path:
    """Execute chapter `qmd` for dataset `dataset`; the executed markdown's path."""
    return _execute(chapter_job(qmd, out, dataset, root, configfiles, timeout))


@user_errors(BookError)
def run(argv: list[str]) -> int:
    """`python -m hlm chapter`: execute one chapter of a dataset's book."""
    ap = argparse.ArgumentParser(prog="python -m hlm chapter",
                                 description="Execute one `.qmd` chapter and write Quarto markdown.")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--qmd", required=True, help="chapter source, e.g. report/intro.qmd")
    ap.add_argument("--out", required=True, help="executed markdown, e.g. build/D/book/intro.md")
    ap.add_argument("--configfile", nargs="+", action="extend", default=[])
    ap.add_argument("--root", default=None, help="project root (default: the current directory)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    configfiles = args.configfile or configfiles_from_env()
    path = execute_chapter(args.qmd, args.out, args.dataset, args.root, configfiles)
    print(f"executed {args.qmd} -> {args.out} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0 if path else 1


__all__ = ["chapter_artifacts", "chapter_job", "execute_chapter", "run"]
