# The book: each chapter of _quarto.yml is executed by its own job, then the book is
# rendered (Quarto if on PATH, else hlm's built-in pandoc + typst renderer).
#
# Expects from rules/common.smk (included before this file):
#   PY          the python executable (sys.executable)
#   hlm_cmd     hlm_cmd("cmd args") -> "{PY} -m hlm cmd args" + the user's --configfile args
#   TO_LOG      the shell suffix that sends a step's stderr to its log (and the terminal)
#   DATASET     config["dataset"]
#   profile_wording  profile_wording(dataset) -> the labels a chapter's text uses (a param)
# and from rules/figures.smk:
#   drawn_figures  drawn_figures(dataset) -> names of the figures drawn for it (None: all)
# Defines book_outputs(dataset) (the rendered book's files) and BOOK_TARGETS
# (= book_outputs(DATASET)), for the default rule.
import re as _re
from pathlib import Path as _Path

from hlm.book.project import chapter_artifacts as _book_chapter_artifacts
from hlm.book.project import load as _book_load

# The code a chapter job and the book job run: inputs, so that editing it reruns them.
_BOOK_SRC = _Path(_book_load.__code__.co_filename).resolve().parent


def _book_code(paths):
    """Relative to the project when inside it, so a moved project keeps its rule inputs."""
    base = _Path(workflow.basedir).resolve()
    return [str(p.relative_to(base)) if p.is_relative_to(base) else str(p) for p in paths]


_CHAPTER_CODE = _book_code(
    [_BOOK_SRC / f for f in ("execute.py", "kernel.py", "qmd.py", "tables.py", "project.py")]
    + [_BOOK_SRC.parent / f for f in ("bookdata.py", "artifacts.py", "config.py", "fitstatus.py")]
)
_RENDER_CODE = _book_code(sorted(_BOOK_SRC.glob("*.py")) + sorted((_BOOK_SRC / "assets").iterdir()))

BOOK_YML = "_quarto.yml"
if _Path(BOOK_YML).is_file():
    BOOK = _book_load(BOOK_YML)
    # chapter name (file stem) -> .qmd path, e.g. "intro" -> "report/intro.qmd"
    BOOK_CHAPTERS = {ch.name: ch.qmd.as_posix() for ch in BOOK.chapters}
    BOOK_PDF = f"{BOOK.output_file}.pdf"
    BOOK_TARGETS = [f"_book/{DATASET}/index.html", f"_book/{DATASET}/{BOOK_PDF}"]
else:  # no book yet: the rest of the DAG still works
    import sys as _sys

    print(f"rules/book.smk: no {BOOK_YML}; the book targets are disabled", file=_sys.stderr)
    BOOK = None
    BOOK_CHAPTERS = {}
    BOOK_PDF = "book.pdf"
    BOOK_TARGETS = []


def book_outputs(dataset):
    """The rendered book of `dataset`: its home page and its PDF."""
    if not BOOK_CHAPTERS:
        return []
    return [f"_book/{dataset}/index.html", f"_book/{dataset}/{BOOK_PDF}"]


def _book_chapter_inputs(wildcards):
    qmd = BOOK_CHAPTERS[wildcards.chapter]
    return {
        "qmd": qmd,
        "common": (_Path(qmd).parent / "_common.py").as_posix(),
        "code": _CHAPTER_CODE,
        # the artifacts listed under `hlm:` in the chapter's front matter
        "artifacts": _book_chapter_artifacts(
            qmd, wildcards.dataset, figures=drawn_figures(wildcards.dataset)
        ),
    }


rule chapter:
    input:
        unpack(_book_chapter_inputs),
    output:
        "build/{dataset}/book/{chapter}.md",
    params:
        wording=lambda wc: profile_wording(wc.dataset),  # the text names the roles
    wildcard_constraints:
        dataset=r"[^/]+",
        chapter="|".join(_re.escape(name) for name in BOOK_CHAPTERS) or "(?!)",
    log:
        "logs/{dataset}/chapter/{chapter}.log",
    shell:
        hlm_cmd("chapter --dataset {wildcards.dataset} --qmd {input.qmd} --out {output}") + TO_LOG


rule book:
    input:
        chapters=lambda wildcards: [f"build/{wildcards.dataset}/book/{name}.md" for name in BOOK_CHAPTERS],
        project=BOOK_YML,
        code=_RENDER_CODE,
    output:
        html="_book/{dataset}/index.html",
        pdf="_book/{dataset}/" + BOOK_PDF,
    wildcard_constraints:
        dataset=r"[^/]+",
    log:
        "logs/{dataset}/book.log",
    shell:
        hlm_cmd("book --dataset {wildcards.dataset}") + TO_LOG
