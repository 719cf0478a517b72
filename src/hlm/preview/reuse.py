r"""Prose-only edits: a chapter's executed markdown after an edit of its prose, made from
the previous one without running the chapter (`reuse_executed`).

The chapter executor (hlm.book.execute) writes front matter + body, where the body is
"\n".join(chunks) with runs of 3+ newlines collapsed to 2, stripped of newlines, + "\n";
a prose chunk is the prose with each inline expression replaced by its value, a cell or
an `if-fitted` guard is a chunk of its own. When only prose changed, each value and
chunk is unchanged: the old executed markdown is split at the old prose, and the new
prose is put in its place. The split is accepted only if it is the only one possible.
"""
from __future__ import annotations

import re

from hlm.book import BookError
from hlm.book.qmd import Cell, Guard, GuardEnd, Prose, parse

_RUNS = re.compile(r"\n{3,}")  # collapsed to two by the executor


def _tokens(chapter) -> list:
    """The executor's joined chunks: literal prose (str) and holes (tuples: a cell's or a
    guard's chunk, an inline expression's value)."""
    out: list = []
    for i, piece in enumerate(p for p in chapter.pieces if not isinstance(p, GuardEnd)):
        if i:
            out.append("\n")
        if isinstance(piece, Prose):
            last = 0
            for j, (_, _, start, end) in enumerate(piece.inlines):
                out += [piece.text[last:start], ("inline", i, j)]
                last = end
            out.append(piece.text[last:])
        else:
            out.append(("cell" if isinstance(piece, Cell) else "guard", i))
    return out


def _template(chapter) -> tuple[list[str], list[tuple]]:
    """The body as cores (literal prose without edge newlines, as collapsed in the body)
    and the gaps around them: gaps[0], cores[0], gaps[1], ..., cores[-1], gaps[-1]. A gap
    is the holes and newline runs between two cores; a newline run counts as 0, 1 or 2+
    (which is all the collapse can tell apart)."""
    merged: list = []
    for tok in _tokens(chapter):
        if isinstance(tok, str) and merged and isinstance(merged[-1], str):
            merged[-1] += tok
        else:
            merged.append(tok)
    cores: list[str] = []
    gaps: list[list] = [[]]
    for tok in merged:
        if not isinstance(tok, str):
            gaps[-1].append(tok)
            continue
        core = tok.strip("\n")
        if not core:
            if tok:
                gaps[-1].append(("nl", min(len(tok), 2)))
            continue
        lead, trail = len(tok) - len(tok.lstrip("\n")), len(tok) - len(tok.rstrip("\n"))
        if lead:
            gaps[-1].append(("nl", min(lead, 2)))
        cores.append(_RUNS.sub("\n\n", core))
        gaps.append([("nl", min(trail, 2))] if trail else [])
    # the body is stripped of newlines: those before the first hole and after the last count for nothing
    while gaps[0] and gaps[0][0][0] == "nl":
        gaps[0].pop(0)
    while gaps[-1] and gaps[-1][-1][0] == "nl":
        gaps[-1].pop()
    return cores, [tuple(g) for g in gaps]


def _align(body: str, cores: list[str], gaps: list[tuple]) -> tuple[list[int], list[int]] | None:
    """The leftmost and the rightmost positions of `cores` in `body`, placed in order (the
    first at the start and the last at the end when no gap is there), or None if they cannot
    be: every placement puts core i between left[i] and right[i]."""
    n = len(cores)
    if not n:
        return None
    left, pos = [], 0
    for i, core in enumerate(cores):
        if i == n - 1 and not gaps[-1]:
            p = len(body) - len(core) if body.endswith(core) else -1
            p = p if p >= pos else -1
        elif i == 0 and not gaps[0]:
            p = 0 if body.startswith(core) else -1
        else:
            p = body.find(core, pos)
        if p < 0:
            return None
        left.append(p)
        pos = p + len(core)
    right, end = [0] * n, len(body)
    for i in reversed(range(n)):
        core = cores[i]
        if i == n - 1 and not gaps[-1]:
            p = len(body) - len(core)
        else:
            p = body.rfind(core, 0, end)
        if i == 0 and not gaps[0] and p != 0:
            p = 0 if body.startswith(core) and len(core) <= end else -1
        if p < 0 or p + len(core) > end:
            return None
        right[i] = p
        end = p
    return left, right


def _split_front_matter(md: str) -> tuple[str, str] | None:
    """(front matter block, body) of an executed chapter."""
    if not md.startswith("---\n"):
        return None
    end = md.find("\n---\n\n", 3)
    return (md[:end + 6], md[end + 6:]) if end >= 0 else None


def reuse_executed(old_qmd: str, new_qmd: str, old_md: str, where: str = "chapter") -> str | None:
    """The executed markdown of `new_qmd`, made from `old_md` (the executed `old_qmd`), when
    only prose outside cells and inline expressions changed; else None.

    What is checked: the same front matter, the same cells (code and options), `if-fitted`
    blocks and inline expressions in the same order; no image in the prose (the executor
    copies those); a cell that moved to another line names no figure file after its line;
    the old prose placed in `old_md` in exactly one way. Then each value and chunk is
    what a run would compute again, and so the result is what a run would write."""
    try:
        old, new = parse(old_qmd, where), parse(new_qmd, where)
    except BookError:
        return None  # the chapter job reports it
    if old.meta != new.meta or old.defaults != new.defaults or len(old.pieces) != len(new.pieces):
        return None
    moved = False
    for a, b in zip(old.pieces, new.pieces):
        if type(a) is not type(b):
            return None
        if isinstance(a, Cell):
            if (a.code, a.options) != (b.code, b.options):
                return None
            moved |= a.line != b.line
        elif isinstance(a, Guard) and a.models != b.models:
            return None
        elif isinstance(a, Prose):
            if [x[1] for x in a.inlines] != [x[1] for x in b.inlines] or "![" in a.text or "![" in b.text:
                return None
        elif not isinstance(a, (Guard, GuardEnd, Prose)):  # pragma: no cover - a new kind of piece
            return None
    split = _split_front_matter(old_md)
    if split is None or not split[1].endswith("\n"):
        return None
    front, body = split[0], split[1][:-1]
    if moved and "_files/cell-" in body:  # figures of unlabelled cells are named by their line
        return None
    cores, gaps = _template(old)
    new_cores, new_gaps = _template(new)
    if gaps != new_gaps:
        return None
    placed = _align(body, cores, gaps)
    if placed is None:
        return None
    # only the prose that changed is replaced: it must have one place; the text between
    # two changed cores is kept as it is, wherever the unchanged cores in it sit
    changed = [i for i, (a, b) in enumerate(zip(cores, new_cores)) if a != b]
    left, right = placed
    if any(left[i] != right[i] for i in changed):
        return None
    out, pos = [], 0
    for i in changed:
        out += [body[pos:left[i]], new_cores[i]]
        pos = left[i] + len(cores[i])
    out.append(body[pos:])
    return front + "".join(out) + "\n"
