"""The book of one dataset: what this project hands the renderer (`hlm.book`).

`hlm.book` renders a Quarto book and knows nothing of hlm: it is given a `BookJob`.
This module is the glue for the `book` step: where a dataset's executed chapters
and rendered book live (`hlm.artifacts.PATHS`), and the profile's title shown
under the book's title. (`hlm.chapterjob` is the same for the `chapter` step.)

    python -m hlm book --dataset D [--configfile F ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from hlm.artifacts import PATHS, fill
from hlm.book import BookError, BookJob
from hlm.book.render import render_book as _render
from hlm.config import configfiles_from_env, read_config
from hlm.errors import user_errors


def dataset_title(root: Path, dataset: str, configfiles: list[Path]) -> str | None:
    """The dataset profile's `title`, from the project's config/config.yaml and the
    user's config files (not validated here: the book only shows it)."""
    base = root / "config" / "config.yaml"
    cfg = read_config([base, *configfiles] if base.is_file() else configfiles)
    return ((cfg.get("datasets") or {}).get(dataset) or {}).get("title")


def book_job(
    dataset: str,
    root: str | Path | None = None,
    quarto_yml: str | Path = "_quarto.yml",
    build_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    configfiles: list | None = None,
    renderer: str = "auto",
    formats: tuple[str, ...] = ("html", "pdf"),
) -> BookJob:
    """The job of rendering dataset `dataset`'s book: by default, from the directory of
    its executed chapters (build/D/book) to its rendered book (_book/D)."""
    root = Path(root or os.getcwd()).resolve()
    configs = [(root / c).resolve() for c in (configfiles or [])]
    chapters = Path(fill(PATHS.chapter, dataset=dataset)).parent  # where `chapter` writes
    return BookJob(
        root=root,
        build_dir=(root / (build_dir or chapters)).resolve(),
        out_dir=(root / (out_dir or fill(PATHS.book, dataset=dataset))).resolve(),
        quarto_yml=Path(quarto_yml),
        data_title=dataset_title(root, dataset, configs),
        renderer=renderer,
        formats=tuple(formats),
    )


def render_book(dataset: str, root: str | Path | None = None, quarto_yml: str | Path = "_quarto.yml",
                build_dir: str | Path | None = None, out_dir: str | Path | None = None,
                configfiles: list | None = None, renderer: str = "auto",
                formats: tuple[str, ...] = ("html", "pdf")) -> dict:
    """Render dataset `dataset`'s book; the paths written ({"html": ..., "pdf": ...})."""
    return _render(book_job(dataset, root, quarto_yml, build_dir, out_dir, configfiles, renderer, formats))


# --------------------------------------------------------------------------- command

@user_errors(BookError)
def run(argv: list[str]) -> int:
    """`python -m hlm book`: render a dataset's book (HTML pages and a PDF)."""
    ap = argparse.ArgumentParser(prog="python -m hlm book",
                                 description="Render the executed chapters to the book: HTML pages and a PDF.")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--configfile", nargs="+", action="extend", default=[])
    ap.add_argument("--root", default=None, help="project root (default: the current directory)")
    ap.add_argument("--quarto-yml", default="_quarto.yml")
    ap.add_argument("--build-dir", default=None, help="executed chapters (default: build/D/book)")
    ap.add_argument("--out", default=None, help="output directory (default: _book/D)")
    ap.add_argument("--renderer", default=os.environ.get("HLM_RENDERER", "auto"),
                    choices=["auto", "quarto", "builtin"],
                    help="auto: quarto if on PATH, else the built-in pandoc + typst renderer")
    ap.add_argument("--formats", default="html,pdf", help="built-in renderer: html,pdf")
    args = ap.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    bad = set(formats) - {"html", "pdf"}
    if bad:
        raise BookError(f"--formats: unknown format(s) {sorted(bad)}; use html and/or pdf")
    t0 = time.perf_counter()
    result = render_book(args.dataset, args.root, args.quarto_yml, args.build_dir, args.out,
                         args.configfile or configfiles_from_env(), args.renderer, formats)
    via = "quarto" if result.get("quarto") else "built-in renderer"
    print(f"rendered book ({via}) -> {result.get('html') or result.get('pdf')} in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


__all__ = ["book_job", "render_book", "run"]
