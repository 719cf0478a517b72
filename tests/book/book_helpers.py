"""Helpers of the book tests (imported by conftest.py and the tests)."""
from __future__ import annotations

import shutil
import stat
import sys
import textwrap
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixture"
DATASET = "demo"


def copy_fixture(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("build", "_book", ".snakemake"))
    return dest


def qmd_path(name: str) -> str:
    """Where write_project puts chapter `name`."""
    return "index.qmd" if name == "index" else f"report/{name}.qmd"


def write_project(root: Path, chapters: dict[str, str], appendices: dict[str, str] | None = None,
                  common: str = "") -> Path:
    """A small book project under `root`: report/<name>.qmd for each chapter text, but
    index.qmd at the root (where Quarto wants the home page)."""
    (root / "report").mkdir(parents=True, exist_ok=True)
    (root / "report" / "_common.py").write_text(common)
    for name, text in {**chapters, **(appendices or {})}.items():
        (root / qmd_path(name)).write_text(textwrap.dedent(text).lstrip("\n"))
    lines = ["project:", "  type: book", "book:", "  title: Mini", "  output-file: mini", "  chapters:"]
    lines += [f"    - {qmd_path(name)}" for name in chapters]
    if appendices:
        lines.append("  appendices:")
        lines += [f"    - {qmd_path(name)}" for name in appendices]
    (root / "_quarto.yml").write_text("\n".join(lines) + "\n")
    return root


def execute_all(root: Path, dataset: str = DATASET) -> Path:
    from hlm.book.project import load
    from hlm.chapterjob import execute_chapter

    build = root / "build" / dataset / "book"
    for ch in load(root / "_quarto.yml").chapters:
        execute_chapter(ch.qmd, build / f"{ch.name}.md", dataset, root=root)
    return build


STUB = r'''#!{python}
"""A stand-in for quarto: records its arguments and writes the outputs it would."""
import json, os, sys, pathlib, yaml
if sys.argv[1:] == ["--version"]:
    print(os.environ.get("QUARTO_STUB_VERSION", "1.9.18"))
    sys.exit(0)
log = pathlib.Path(os.environ["QUARTO_STUB_LOG"])
with log.open("a") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\n")
project = pathlib.Path(sys.argv[2])
cfg = yaml.safe_load((project / "_quarto.yml").read_text())
out = (project / cfg["project"]["output-dir"]).resolve()
out.mkdir(parents=True, exist_ok=True)
(out / "index.html").write_text("<html>stub</html>")
(out / (cfg["book"]["output-file"] + ".pdf")).write_bytes(b"%PDF-1.7 stub")
'''


def make_stub(bin_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    stub = bin_dir / "quarto"
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return stub
