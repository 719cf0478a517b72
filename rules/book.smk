# The book: each chapter of _quarto.yml is executed by its own job, then the book is
# rendered (Quarto if on PATH, else hlm's built-in pandoc + typst renderer).
#
# Expects from rules/helpers.smk and rules/common.smk (included before this file):
#   PY          the python executable (sys.executable)
#   hlm_cmd     hlm_cmd("cmd args") -> "{PY} -m hlm cmd args" + the user's --configfile args
#   TO_LOG      the shell suffix that sends a step's stderr to its log (and the terminal)
#   DATASET     config["dataset"]
#   profile_wording  profile_wording(dataset) -> the labels a chapter's text uses
#   settings_input   settings_input(dataset, name, text) -> a file holding text (an input)
#   step_code, log_of, deps, PATHS, fill: the code a step runs, its log, the artifact paths
# and from rules/figures.smk:
#   drawn_figures  drawn_figures(dataset) -> names of the figures drawn for it (None: all)
# Defines book_outputs(dataset) (the rendered book's files) and BOOK_TARGETS
# (= book_outputs(DATASET)), for the default rule.
import re as _re
from pathlib import Path as _Path

from hlm.chapterjob import chapter_artifacts as _book_chapter_artifacts
from hlm.book.project import load as _book_load


def book_outputs(dataset):
    """The rendered book of `dataset`: its home page and its PDF."""
    if not BOOK_CHAPTERS:
        return []
    book = fill(PATHS.book, dataset=dataset)
    return [f"{book}/index.html", f"{book}/{BOOK_PDF}"]


BOOK_YML = "_quarto.yml"
if _Path(BOOK_YML).is_file():
    BOOK = _book_load(BOOK_YML)
    # chapter name (file stem) -> .qmd path, e.g. "intro" -> "report/intro.qmd"
    BOOK_CHAPTERS = {ch.name: ch.qmd.as_posix() for ch in BOOK.chapters}
    BOOK_PDF = f"{BOOK.output_file}.pdf"
    BOOK_TARGETS = book_outputs(DATASET)
else:  # no book yet: the rest of the DAG still works
    import sys as _sys

    print(f"rules/book.smk: no {BOOK_YML}; the book targets are disabled", file=_sys.stderr)
    BOOK = None
    BOOK_CHAPTERS = {}
    BOOK_PDF = "book.pdf"
    BOOK_TARGETS = []


# The chapters' shared set-up: `from _common import *` (the kernel runs in the chapter's
# directory; index.qmd, at the project root, puts report/ on its path first).
BOOK_COMMON = [path for path in ["report/_common.py"] if _Path(path).is_file()]


def _chapter_code(qmd):
    """The code a chapter job runs: the chapter command and what the chapter's cells and
    report/_common.py import (computed from the imports, as for every step)."""
    cells = "\n".join(_Path(path).read_text(encoding="utf-8") for path in [qmd, *BOOK_COMMON])
    return step_code("chapter", *deps.source_imports(cells))


def _book_chapter_inputs(wildcards):
    qmd = BOOK_CHAPTERS[wildcards.chapter]
    return {
        "qmd": qmd,
        "common": BOOK_COMMON,
        "code": _chapter_code(qmd),
        # the text names the roles: relabelling reruns the chapter
        "wording": settings_input(wildcards.dataset, "wording", profile_wording(wildcards.dataset)),
        # the artifacts listed under `hlm:` in the chapter's front matter
        "artifacts": _book_chapter_artifacts(
            qmd, wildcards.dataset, figures=drawn_figures(wildcards.dataset)
        ),
        # the preface lists the book's parts, read from the project file
        **({"project": BOOK_YML} if qmd == "index.qmd" else {}),
    }


rule chapter:
    input:
        unpack(_book_chapter_inputs),
    output:
        PATHS.chapter,
    wildcard_constraints:
        dataset=r"[^/]+",
        chapter="|".join(_re.escape(name) for name in BOOK_CHAPTERS) or "(?!)",
    log:
        log_of("chapter/{chapter}"),
    shell:
        hlm_cmd("chapter --dataset {wildcards.dataset} --qmd {input.qmd} --out {output}") + TO_LOG


rule book:
    input:
        chapters=lambda wc: [fill(PATHS.chapter, dataset=wc.dataset, chapter=name) for name in BOOK_CHAPTERS],
        project=BOOK_YML,
        code=step_code("book"),
    output:
        html=f"{PATHS.book}/index.html",
        pdf=f"{PATHS.book}/{BOOK_PDF}",
    wildcard_constraints:
        dataset=r"[^/]+",
    log:
        log_of("book"),
    shell:
        hlm_cmd("book --dataset {wildcards.dataset}") + TO_LOG
