"""The chapters (report/*.qmd): conventions that keep the book computed and our own.

- no run of 10 consecutive prose words also stands in the course notes (compared
  through tests/reference/notes_10gram_hashes.txt: sha1 hashes of the notes' runs,
  so the notes' text itself is not in the project);
- no number typed into prose (numbers come from inline expressions);
- chapters read artifacts and never fit models or draw figures;
- every chapter of _quarto.yml opens with `# Title {#sec-...}`, ids unique.
"""
from __future__ import annotations

import hashlib
import io
import re
import tokenize
from pathlib import Path

import pytest

from hlm.book.project import chapters
from hlm.book.qmd import Cell, parse

ROOT = Path(__file__).resolve().parents[1]
QMDS = [ROOT / "index.qmd", *sorted((ROOT / "report").glob("*.qmd"))]  # the home page sits at the root
HASHES = ROOT / "tests" / "reference" / "notes_10gram_hashes.txt"


def _words(line: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", line.lower())


def _prose(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Prose lines as words: code blocks and lines with math are left out."""
    out, fence = [], False
    for i, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence or "$" in line or "\\" in line:
            continue
        out.append((i, _words(line)))
    return out


def _hash(words: list[str]) -> str:
    return hashlib.sha1(" ".join(words).encode()).hexdigest()[:12]


def test_no_prose_copied_from_the_notes():
    notes = {h for h in HASHES.read_text().split() if not h.startswith("#") and len(h) == 12}
    assert len(notes) > 5000  # the notes have about ten thousand runs
    hits = []
    for qmd in QMDS:
        for i, words in _prose(qmd.read_text(encoding="utf-8").splitlines()):
            if any(_hash(words[k:k + 10]) in notes for k in range(len(words) - 9)):
                hits.append(f"{qmd.name}:{i}")
    assert not hits, hits


def test_hash_check_catches_a_copied_run(tmp_path):
    # a sentence of ours is not flagged; the check's own machinery works on known input
    ours = _words("every number in this book is computed from the data by the pipeline itself")
    notes = {_hash(ours[2:12])}
    assert any(_hash(ours[k:k + 10]) in notes for k in range(len(ours) - 9))


def _prose_text(qmd: Path):
    """(line number, text) of prose lines with code, math, refs and inline expressions removed."""
    fence, front = False, False
    for i, line in enumerate(qmd.read_text(encoding="utf-8").splitlines(), 1):
        if i == 1 and line == "---":
            front = True
            continue
        if front:
            front = line != "---"
            continue
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        text = re.sub(r"`[^`]*`", "", line)
        text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", text)
        text = re.sub(r"\{#[^}]*\}|@[\w-]+|\]\([^)]*\)", "", text)
        yield i, text


@pytest.mark.parametrize("qmd", QMDS, ids=lambda p: p.name)
def test_no_typed_numbers_in_prose(qmd):
    typed = [(i, t.strip()) for i, t in _prose_text(qmd)
             if re.search(r"(?<![\w.])\d+\.\d+", t)
             or re.search(r"(?<![\w.%-])\d{3,}(?![\w%])", t)]
    assert not typed, typed


def _code_only(cell: str) -> str:
    """A cell's code without its strings and comments (text that merely names a call)."""
    toks = tokenize.generate_tokens(io.StringIO(cell).readline)
    return "".join(t.string for t in toks if t.type not in (tokenize.STRING, tokenize.COMMENT))


FITS_OR_DRAWS = re.compile(r"\blmm\.fit\(|\bfit_model\(|sm\.OLS\(|\.fit\(\)|\bplt\.|savefig|figures\.render")


def test_fit_detector_on_known_cells():
    assert FITS_OR_DRAWS.search(_code_only("res = lmm.fit(students, fixed='y ~ x')\n"))
    assert FITS_OR_DRAWS.search(_code_only("import matplotlib.pyplot as plt\nplt.plot([1], [2])\n"))
    assert not FITS_OR_DRAWS.search(_code_only("print('hlm.lmm.fit(students)')  # lmm.fit( shown\n"))


@pytest.mark.parametrize("qmd", QMDS, ids=lambda p: p.name)
def test_chapters_never_fit_or_draw(qmd):
    chapter = parse(qmd.read_text(encoding="utf-8"), qmd.name)
    cells = [p for p in chapter.pieces if isinstance(p, Cell)]
    evaluated = [_code_only(c.code) for c in cells if c.options.get("eval", True)]
    assert evaluated or qmd.name == "hierarchies.qmd"
    for cell in evaluated:
        assert not FITS_OR_DRAWS.search(cell), cell[:200]


def test_chapter_list_and_ids():
    listed = [ROOT / p for p in chapters(ROOT / "_quarto.yml")]
    assert all(p.exists() for p in listed) and len(listed) == len(set(listed))
    assert set(listed) == set(QMDS)
    ids = []
    for qmd in listed:
        heads = [l for l in qmd.read_text(encoding="utf-8").splitlines() if l.startswith("# ")]
        assert heads, qmd.name
        match = re.search(r"\{#(sec-[\w-]+)[ }]", heads[0])
        assert match, heads[0]
        ids.append(match.group(1))
    assert len(ids) == len(set(ids))
