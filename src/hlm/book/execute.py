"""Execute one `.qmd` chapter and write Quarto markdown.

`execute_chapter(ChapterJob(qmd="report/x.qmd", out="build/x.md", root=...))`

The chapter's code runs in an IPython shell in a process forked for the chapter
(`hlm.book.shell`: the outputs a Jupyter kernel would give, without starting one),
with cwd = the chapter's directory and the environment the job gives
(`ChapterJob.env`) plus MPLBACKEND=agg; the job's `setup_code` runs after the
executor's own set-up, before the chapter.
Cells run in document order; each inline `` `{python} expr` `` runs after the cells
before it. The output `.md` has the cells replaced by their (echoed) code and outputs:
figures as files under `x_files/` referenced as `![cap](x_files/..){#fig-label}`,
DataFrames as pipe tables captioned `: cap {#tbl-label}`, text as code blocks,
`output: asis` text verbatim. Local images referenced by the prose or by asis
output are copied into `x_files/` and relinked. A failing cell fails the chapter
(BookError naming chapter, line and traceback) and leaves no output file.

A block ``::: {.if-fitted models="a b"}`` ... ``:::`` runs only when the job's
guard (`ChapterJob.guard`, a callable in the kernel) says the models' fits can be
shown; otherwise its cells and inline expressions are not run and the Markdown the
guard returns (why) takes its place.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hlm.book import BookError, ChapterJob
from hlm.book.codeview import shown_code
from hlm.book.kernel import INLINE_MIME
from hlm.book.qmd import Cell, Guard, GuardEnd, Prose, parse
from hlm.book.shell import CellTimeoutError, DeadKernelError, run_in_child

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
IMAGE_LINK = re.compile(
    r"(!\[(?:[^\[\]]|\[[^\[\]]*\])*\]\()(<[^>]+>|[^)\s]+)((?:\s+\"[^\"]*\")?\))"
)
SETUP_CODE = "import hlm.book.kernel as __hlm_kernel\n__hlm_kernel.install()"
WARN_OFF = (
    "import warnings as __hlm_warnings\n"
    "__hlm_wctx = __hlm_warnings.catch_warnings()\n__hlm_wctx.__enter__()\n"
    "__hlm_warnings.simplefilter('ignore')"
)
WARN_ON = "__hlm_wctx.__exit__(None, None, None)"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def code_block(text: str, attrs: str) -> str:
    text = text.rstrip("\n")
    fence = _fence(text)
    return f"{fence}{attrs}\n{text}\n{fence}"


@dataclass
class Context:
    qmd: Path              # absolute
    rel: str               # chapter path for messages (relative to root)
    root: Path
    out_md: Path           # final .md path
    stage: Path            # staging dir for the assets (becomes <name>_files)
    assets_name: str       # "<name>_files"
    copied: dict = field(default_factory=dict)  # source path -> asset file name
    shown: dict = field(default_factory=dict)   # names echoed code shows as values (codeview)

    def asset(self, filename: str) -> str:
        return f"{self.assets_name}/{filename}"

    def unique(self, filename: str) -> str:
        stem, dot, ext = filename.rpartition(".")
        if not dot:
            stem, ext = filename, ""
        cand, k = filename, 1
        while (self.stage / cand).exists():
            k += 1
            cand = f"{stem}-{k}.{ext}" if ext else f"{stem}-{k}"
        return cand


def relink_images(text: str, line: int, ctx: Context) -> str:
    """Copy local images referenced in markdown `text` into the chapter's assets."""

    def sub(m: re.Match) -> str:
        target = m.group(2)
        bare = target[1:-1] if target.startswith("<") else target
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", bare) or bare.startswith("#"):
            return m.group(0)  # URLs and data: are left to the renderer (which rejects them)
        if bare.startswith(ctx.assets_name + "/"):
            return m.group(0)
        lineno = line + text.count("\n", 0, m.start())
        path = Path(bare)
        candidates = [path] if path.is_absolute() else [ctx.qmd.parent / path, ctx.root / path]
        src = next((c for c in candidates if c.is_file()), None)
        if src is None:
            tried = ", ".join(str(c) for c in candidates)
            raise BookError(f"{ctx.rel}:{lineno}: image {bare!r} not found (looked at {tried})")
        src = src.resolve()
        if src not in ctx.copied:
            name = ctx.unique(src.name.replace(" ", "-"))
            shutil.copyfile(src, ctx.stage / name)
            ctx.copied[src] = name
        return f"{m.group(1)}{ctx.asset(ctx.copied[src])}{m.group(3)}"

    return IMAGE_LINK.sub(sub, text)


def _traceback(output) -> str:
    tb = output.get("traceback") or []
    return ANSI.sub("", "\n".join(tb)) if tb else f"{output.get('ename')}: {output.get('evalue')}"


def _error_line(tb: str, first_code_line: int) -> int | None:
    """The .qmd line of the failing statement, from IPython's `Cell In[n], line k`."""
    m = None
    for m in re.finditer(r"Cell In\[\d+\], line (\d+)", tb):
        break
    if m:
        return first_code_line + int(m.group(1)) - 1
    return None


class Runner:
    """Runs a chapter's code cell by cell in its shell (`hlm.book.shell`), collecting outputs."""

    def __init__(self, child, ctx: Context, setup_code: str = ""):
        self.child = child
        self.ctx = ctx
        self.run(SETUP_CODE + (f"\n{setup_code}" if setup_code else ""), where=None)

    def run(self, code: str, where: tuple[int, int] | None, what: str = "cell", blame=None) -> list:
        """Execute `code`; on error raise BookError naming the chapter and line.

        `blame(outputs) -> (where, what)`, if given, names the failing part from the
        outputs produced before the error (for batches of inline expressions).
        """
        self.child.send({"at": (where[0] if where else 0, what)})
        outputs = self.child.run(code)
        err = next((o for o in outputs if o.get("output_type") == "error"), None)
        if err is None:
            return outputs
        tb = _traceback(err)
        if where is None:
            raise BookError(f"{self.ctx.rel}: kernel setup failed:\n{tb}")
        if blame is not None:
            where, what = blame(outputs)
        fence_line, code_line = where
        at = _error_line(tb, code_line) if what == "cell" else None
        detail = f" (error at line {at})" if at and at != fence_line else ""
        ename = f"{err.get('ename', 'Error')}: {err.get('evalue', '')}".strip()
        raise BookError(f"{self.ctx.rel}:{fence_line}: {what} raised {ename}{detail}\n{tb}")


def _cell_markdown(cell: Cell, outputs: list, opts: dict, ctx: Context) -> str:
    """The markdown a cell becomes: echoed code, then its outputs."""
    parts: list[str] = []
    if opts.get("echo", True) and cell.code.strip():
        parts.append(code_block(shown_code(cell.code, ctx.shown), "python"))
    if opts.get("output", True) is False:
        return "\n\n".join(parts)
    asis = opts.get("output") == "asis"
    label = str(opts.get("label") or "")
    fig_cap = opts.get("fig-cap")
    tbl_cap = opts.get("tbl-cap")
    images = 0
    tables = 0
    stream_buf: dict[str, list[str]] = {}

    def flush_streams():
        for name in ("stdout", "stderr"):
            text = "".join(stream_buf.pop(name, []))
            if not text.strip():
                continue
            if asis and name == "stdout":
                parts.append(relink_images(text.strip("\n"), cell.line, ctx))
            else:
                cls = "{.cell-output .cell-output-" + name + "}"
                parts.append(code_block(text, cls))

    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            stream_buf.setdefault(out.get("name", "stdout"), []).append(out.get("text", ""))
            continue
        flush_streams()
        if kind not in ("display_data", "execute_result"):
            continue
        data = out.get("data", {})
        if "image/svg+xml" in data or "image/png" in data:
            images += 1
            if images > 1 and label.startswith("fig-"):
                raise BookError(
                    f"{ctx.rel}:{cell.line}: cell {label!r} displays more than one figure;"
                    " a labelled figure cell must display exactly one"
                )
            ext = "svg" if "image/svg+xml" in data else "png"
            base = label if label.startswith("fig-") else f"cell-{cell.line}-{images}"
            name = ctx.unique(f"{base}.{ext}")
            if ext == "svg":
                svg = data["image/svg+xml"]
                (ctx.stage / name).write_text(svg if isinstance(svg, str) else "".join(svg), encoding="utf-8")
            else:
                png = data["image/png"]
                (ctx.stage / name).write_bytes(base64.b64decode(png if isinstance(png, str) else "".join(png)))
            cap = fig_cap or ""
            attrs = ""
            if label.startswith("fig-"):
                attrs = "{#" + label
                if opts.get("fig-alt"):
                    attrs += ' fig-alt="' + str(opts["fig-alt"]).replace('"', "'") + '"'
                attrs += "}"
            parts.append(f"![{cap}]({ctx.asset(name)}){attrs}")
        elif "text/markdown" in data:
            md = data["text/markdown"]
            md = md if isinstance(md, str) else "".join(md)
            if md.lstrip().startswith("|"):
                tables += 1
            parts.append(relink_images(md.strip("\n"), cell.line, ctx))
        elif "text/plain" in data:
            text = data["text/plain"]
            text = text if isinstance(text, str) else "".join(text)
            if asis:
                parts.append(relink_images(text.strip("\n"), cell.line, ctx))
            else:
                parts.append(code_block(text, "{.cell-output .cell-output-display}"))
        else:
            raise BookError(
                f"{ctx.rel}:{cell.line}: cell displays {sorted(data)} only;"
                " display DataFrames, matplotlib figures, markdown or text"
            )
    flush_streams()
    if label.startswith("tbl-") and tbl_cap is not None:
        if not parts or not parts[-1].lstrip().startswith("|"):
            raise BookError(
                f"{ctx.rel}:{cell.line}: table cell {label!r} must end by displaying a table"
                " (a DataFrame or a markdown pipe table)"
            )
        parts[-1] = parts[-1].rstrip("\n") + f"\n\n: {tbl_cap} {{#{label}}}"
    elif label.startswith("tbl-") and tables:
        raise BookError(f"{ctx.rel}:{cell.line}: table cell {label!r} needs a `tbl-cap`")
    if label.startswith("fig-") and not images and not any(p.startswith("![") for p in parts):
        raise BookError(f"{ctx.rel}:{cell.line}: figure cell {label!r} displayed no figure")
    return "\n\n".join(p for p in parts if p)


def _inline_values(outputs) -> list[list[str]]:
    """The [kind, text] values the kernel displayed for the executor (`show_inline`)."""
    return [json.loads(o["data"][INLINE_MIME]) for o in outputs
            if o.get("output_type") == "display_data" and INLINE_MIME in o.get("data", {})]


#: What Quarto escapes in a str an inline expression returns (`asEscapedMarkdown`)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()>#+.!-])")  # "-" last: "+-." would be a range holding ","


def in_code_span(text: str, inlines: list, i: int) -> bool:
    """Whether the i-th inline expression of a prose chunk is wrapped in a code span of its
    own (`` ``{python} expr`` ``): a backtick right before and right after it that do not
    belong to the neighbouring inline expressions (`{python} a``{python} b` is two values)."""
    _, _, start, end = inlines[i]
    before = start > 0 and text[start - 1] == "`" and not (i > 0 and inlines[i - 1][3] == start)
    after = end < len(text) and text[end] == "`" and not (i + 1 < len(inlines) and inlines[i + 1][2] == end)
    return before and after


def inline_markdown(kind: str, text: str, where: str, expr: str) -> str:
    """The Markdown an inline expression's value becomes, as under Quarto: Markdown as
    is, a str as literal text (its Markdown characters escaped), a number as its repr."""
    if kind in ("markdown", "plain"):
        return text
    if kind == "text":
        if repr(text)[1:-1] != text:
            raise BookError(
                f"{where}: inline expression `{expr}` returns text with a line break, a backslash,"
                " both kinds of quotes or an unprintable character (such as a non-breaking space),"
                " which Quarto prints as Python escapes; return md(...) for Markdown, or plain text")
        return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    raise BookError(
        f"{where}: inline expression `{expr}` returns {text}, which Quarto prints as its repr;"
        " return text (e.g. num(x)), a Python int or float (int(x), float(x)), or md(...)")


def _run_inlines(runner: Runner, ctx: Context, pieces: list, first: Prose) -> dict[int, list[list[str]]]:
    """Evaluate the inline expressions of `first` and of the prose after it, up to the
    next cell, in one kernel round trip (they all run after the same cells).

    Returns {id(prose): [[kind, text], ...]} (see `hlm.book.kernel.inline_value`).
    """
    k = pieces.index(first)
    chunks: list[Prose] = []
    while k < len(pieces) and isinstance(pieces[k], Prose):
        chunks.append(pieces[k])
        k += 1
    batch = [(line, expr) for p in chunks for line, expr, _, _ in p.inlines]
    for line, expr in batch:
        try:
            compile(f"({expr}\n)", "<inline>", "eval")
        except SyntaxError as err:
            raise BookError(f"{ctx.rel}:{line}: inline expression `{expr}` is not valid Python: {err.msg}") from None
    code = "\n".join(f"__hlm_kernel.show_inline(({expr}\n))" for _, expr in batch)

    def blame(outputs):
        line, expr = batch[min(len(_inline_values(outputs)), len(batch) - 1)]
        return (line, line), f"inline expression `{expr}`"

    line0, expr0 = batch[0]
    vals = _inline_values(runner.run(code, (line0, line0), f"inline expression `{expr0}`", blame))
    if len(vals) != len(batch):  # pragma: no cover - each expression displays one value
        raise BookError(f"{ctx.rel}:{line0}: inline expressions returned {len(vals)} values for {len(batch)}")
    out: dict[int, list[list[str]]] = {}
    i = 0
    for p in chunks:
        out[id(p)] = vals[i:i + len(p.inlines)]
        i += len(p.inlines)
    return out


def _shown_names(runner: Runner, ask: str, line: int) -> dict:
    """The names echoed code shows as values, as the job's kernel callable `ask` says."""
    outputs = runner.run(f"__hlm_kernel.show_inline({ask}())", (line, line), "the names shown in echoed code")
    return json.loads(_inline_values(outputs)[0][1])


def _run_guard(runner: Runner, guard: Guard, decide: str | None) -> tuple[bool, str]:
    """Ask the job's guard (`decide`, a callable in the kernel) whether the guarded
    models can be shown: (run the block?, Markdown to write before it, or instead of it)."""
    if not decide:
        raise BookError(f"{runner.ctx.rel}:{guard.line}: `if-fitted` blocks need a guard,"
                        " and this book's chapters are executed without one")
    code = f"__hlm_kernel.show_inline({decide}({guard.models!r}))"
    where = (guard.line, guard.line)
    outputs = runner.run(code, where, f"`if-fitted` block for {', '.join(guard.models)}")
    decision = json.loads(_inline_values(outputs)[0][1])
    return decision["run"], decision["markdown"]


LABEL_IDS = re.compile(r"\{#((?:fig|tbl|eq|sec)-[\w-]+)")
FIGURE_CALL = re.compile(r"figure\(\s*[\"'](\w+)[\"']")


def _skip_guarded(pieces: list, k: int, skipped: list[str]) -> int:
    """Index of the GuardEnd that closes the Guard at pieces[k]; the cross-reference ids
    of what it leaves out are added to `skipped` (references to them then say so)."""
    depth = 0
    for j in range(k, len(pieces)):
        piece = pieces[j]
        if isinstance(piece, Guard):
            depth += 1
        elif isinstance(piece, GuardEnd):
            depth -= 1
            if depth == 0:
                return j
        elif isinstance(piece, Cell):
            if piece.options.get("label"):
                skipped.append(piece.options["label"])
            skipped += ["fig-" + n.replace("_", "-") for n in FIGURE_CALL.findall(piece.code)]
        else:
            skipped += LABEL_IDS.findall(piece.text)
    raise AssertionError("unbalanced guard")  # pragma: no cover - the parser checks


def _write_front_matter(meta: dict, rel: str, skipped: list[str]) -> str:
    meta = {k: v for k, v in meta.items() if k not in ("hlm", "execute")}
    meta["hlm-source"] = rel
    if skipped:
        meta["hlm-skipped"] = skipped
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n"


def kernel_env(extra: dict) -> dict:
    """The kernel's environment: this process's, the job's `extra`, and the executor's own."""
    env = dict(os.environ)
    env.update(extra)
    env.update({
        "MPLBACKEND": "agg",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    # the kernel must import this very package (src layout, editable or not): the
    # executor's set-up code imports it
    pkg_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [pkg_root, env.get("PYTHONPATH", "")] if p)
    return env


def _execute(chapter, job: ChapterJob, ctx: Context, runner: Runner | None) -> None:
    """Run the chapter's pieces in order and publish the executed markdown and its assets."""
    defaults = {"echo": True, "eval": True, "include": True, "output": True, "warning": True}
    defaults.update(chapter.defaults)
    chunks: list[str] = []
    skipped: list[str] = []
    inline_values: dict[int, list[str]] = {}
    k = -1
    while k + 1 < len(chapter.pieces):
        k += 1
        piece = chapter.pieces[k]
        if isinstance(piece, Guard):
            run_block, md = _run_guard(runner, piece, job.guard)
            chunks.append("\n" + md + "\n" if md else "")
            if not run_block:
                k = _skip_guarded(chapter.pieces, k, skipped)
            continue
        if isinstance(piece, GuardEnd):
            continue
        if isinstance(piece, Prose):
            text = piece.text
            if piece.inlines:
                if id(piece) not in inline_values:
                    inline_values.update(_run_inlines(runner, ctx, chapter.pieces, piece))
                values = inline_values[id(piece)]
                pieces_out, last = [], 0
                for i, ((line, expr, start, end), (kind, value)) in enumerate(zip(piece.inlines, values)):
                    if kind in ("text", "markdown") and in_code_span(text, piece.inlines, i):
                        raise BookError(
                            f"{ctx.rel}:{line}: inline expression `{expr}` sits inside a code span"
                            " (``{python} ...``), which shows its value literally, Markdown escapes and"
                            " backticks included; drop the outer backticks and return code(...)")
                    pieces_out += [text[last:start], inline_markdown(kind, value, f"{ctx.rel}:{line}", expr)]
                    last = end
                pieces_out.append(text[last:])
                text = "".join(pieces_out)
            chunks.append(relink_images(text, piece.line, ctx))
            continue
        opts = {**defaults, **piece.options}
        outputs: list = []
        if opts.get("eval", True) and piece.code.strip():
            if not opts.get("warning", True):
                runner.run(WARN_OFF, (piece.line, piece.line))
            outputs = runner.run(piece.code, (piece.line, piece.code_line))
            if not opts.get("warning", True):
                runner.run(WARN_ON, (piece.line, piece.line))
        if not opts.get("include", True):
            chunks.append("")
            continue
        if job.shown_names and not ctx.shown and opts.get("echo", True):
            ctx.shown = _shown_names(runner, job.shown_names, piece.line)
        md = _cell_markdown(piece, outputs, opts, ctx)
        chunks.append("\n" + md + "\n" if md else "")
    body = "\n".join(chunks)
    body = re.sub(r"\n{3,}", "\n\n", body).strip("\n") + "\n"
    result = _write_front_matter(chapter.meta, ctx.rel, skipped) + body
    # publish: assets first, then the .md (atomically)
    assets = ctx.out_md.parent / ctx.assets_name
    if assets.exists():
        shutil.rmtree(assets)
    if any(ctx.stage.iterdir()):
        ctx.stage.rename(assets)
    tmp_md = ctx.out_md.with_name(f".{ctx.out_md.name}.tmp")
    tmp_md.write_text(result, encoding="utf-8")
    os.replace(tmp_md, ctx.out_md)


def execute_chapter(job: ChapterJob) -> Path:
    """Execute chapter `job.qmd` and write the executed markdown to `job.out` (+ `<stem>_files/`).

    The chapter's code runs in a process forked for it (`hlm.book.shell`), which writes
    the output; a chapter without code is written from here."""
    root = Path(job.root or os.getcwd()).resolve()
    qmd = Path(job.qmd)
    qmd_abs = (qmd if qmd.is_absolute() else root / qmd).resolve()
    out = Path(job.out)
    out_abs = (out if out.is_absolute() else root / out).resolve()
    try:
        rel = qmd_abs.relative_to(root).as_posix()
    except ValueError:
        rel = str(qmd_abs)
    if out_abs.exists():
        out_abs.unlink()  # a failed run must not leave a stale chapter behind
    try:
        text = qmd_abs.read_text(encoding="utf-8")
    except OSError as err:
        raise BookError(f"{rel}: cannot read chapter: {err}") from None
    chapter = parse(text, rel)
    out_abs.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_abs.stem}.", dir=out_abs.parent))
    stage.chmod(0o755)
    ctx = Context(qmd_abs, rel, root, out_abs, stage, f"{out_abs.stem}_files")
    timeout = job.timeout or int(os.environ.get("HLM_CELL_TIMEOUT", "600"))
    defaults = {"eval": True, **chapter.defaults}
    needs_code = any(
        (isinstance(p, Cell) and {**defaults, **p.options}.get("eval", True))
        or (isinstance(p, Prose) and p.inlines) or isinstance(p, Guard)
        for p in chapter.pieces
    )
    try:
        if not needs_code:
            _execute(chapter, job, ctx, None)
        else:
            run_in_child(lambda child: _execute(chapter, job, ctx, Runner(child, ctx, job.setup_code)),
                         cwd=qmd_abs.parent, env=kernel_env(dict(job.env)), timeout=timeout)
    except (CellTimeoutError, DeadKernelError) as err:
        line, what = err.args[1] or (0, "cell")
        raise BookError(f"{rel}:{line}: {what} could not run: {type(err).__name__}: {err.args[0]}") from None
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    return out_abs
