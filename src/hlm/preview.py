"""`make preview`: rebuild the book as its sources change and serve it, reloading the browser.

    python -m hlm.preview [--dataset D] [--configfile F ...] [--port 8000] [--cores 2]

Serves `_book/<dataset>/` on http://127.0.0.1:PORT (the standard library's threading
HTTP server). Every HTML page is served with a small script added (not written into
the built files) that waits on `/__preview/status` for the build counter and reloads
the page when a newer build is served; a build that fails shows its error over the
page. The sources are polled for changes (mtimes): report/, src/, _quarto.yml,
index.qmd, config/, data/raw/ and the dataset's own files.

What a change costs:

- only prose of chapters changed (no code cell, inline expression, `if-fitted` block or
  front matter): the chapter's previous executed markdown is reused with the new prose
  (`reuse_executed`: exactly the executed markdown a run of the chapter would write, or
  None when that cannot be shown), and the pages are written by the book step's own
  functions, pandoc running again only for the pages whose content changed (`PageRenderer`);
- anything else: the chapters are rebuilt through the DAG (`python -m hlm.build`, the
  chapter targets), then the pages as above.

The PDF is then rendered in the background by the book step (`python -m hlm book`, into
a scratch folder: its HTML must equal the preview's, which checks the preview against
the book step on every edit) and moved into place; an edit cancels it. The page renderer
is checked against the built book when the preview starts; if it differs, or if the
renderer's code is edited while the preview runs, every edit goes through the whole
`python -m hlm.build` instead.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from hlm.errors import HlmError


class PreviewError(HlmError):
    """A rebuild failed (the message is shown in the browser) or the preview cannot start."""


def log(message: str) -> None:
    print(f"[preview {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# =========================================================================== prose edits
# The chapter executor (hlm.book.execute) writes front matter + body, where the body is
# "\n".join(chunks) with runs of 3+ newlines collapsed to 2, stripped of newlines, + "\n";
# a prose chunk is the prose with each inline expression replaced by its value, a cell or
# an `if-fitted` guard is a chunk of its own. When only prose changed, each value and
# chunk is unchanged: the old executed markdown is split at the old prose, and the new
# prose is put in its place. The split is accepted only if it is the only one possible.

_RUNS = re.compile(r"\n{3,}")


def _collapse(text: str) -> str:
    return _RUNS.sub("\n\n", text)


def _tokens(chapter) -> list:
    """The executor's joined chunks: literal prose (str) and holes (tuples: a cell's or a
    guard's chunk, an inline expression's value)."""
    from hlm.book.qmd import Cell, GuardEnd, Prose

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
        cores.append(_collapse(core))
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
    from hlm.book import BookError
    from hlm.book.qmd import Cell, Guard, GuardEnd, Prose, parse

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


# =========================================================================== HTML pages

class PageRenderer:
    """The HTML pages of a dataset's book, written by the book step's own functions
    (`hlm.book.html.render_html`, `copy_assets`) as `hlm.book.render.render_builtin`
    calls them, keeping the existing PDF. pandoc's answers are remembered (its function in
    `hlm.book.html` is wrapped while the pages are written): it runs again only for the
    pages whose input changed (same arguments and input, same output)."""

    def __init__(self, job):
        self.job = job                      # hlm.book.BookJob
        self._answers: dict[str, str] = {}  # pandoc's output by its arguments and input
        self.pages: dict[str, bytes] = {}   # what the last render wrote (relative path -> bytes)
        self.rendered = 0                   # pandoc runs in the last render (one per changed page)

    @contextlib.contextmanager
    def _remembering_pandoc(self):
        import hlm.book.html as html

        real, used, runs = html.pandoc, {}, []

        def pandoc(args, text, *rest, **kw):
            key = hashlib.sha1(json.dumps(args).encode() + b"\0" + text.encode()).hexdigest()
            if key not in self._answers:
                runs.append(key)
                self._answers[key] = real(args, text, *rest, **kw)
            used[key] = self._answers[key]
            return used[key]

        html.pandoc = pandoc
        try:
            yield
        finally:
            html.pandoc = real
            self._answers, self.rendered = used, len(runs)

    def render(self, out_dir: Path | None = None) -> Path:
        """Render into `out_dir` (default: the book's folder), replaced as a whole."""
        from hlm.book.crossref import number_book
        from hlm.book.html import copy_assets, render_html
        from hlm.book.project import load
        from hlm.book.render import load_chapters

        job = self.job
        project = load(job.root / job.quarto_yml)
        docs = load_chapters(project, job.build_dir, job.root)
        numbering = number_book(docs, project.number_sections)
        pdf_name = f"{project.output_file}.pdf"
        book = {"title": project.title, "subtitle": project.subtitle, "author": project.author,
                "date": project.date, "data_title": job.data_title,
                "lang": str(project.config.get("lang", "en")), "pdf": pdf_name}
        out = Path(out_dir or job.out_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            stage.chmod(0o755)
            with self._remembering_pandoc():
                render_html(docs, numbering, stage, book)
            copy_assets(job.build_dir, stage, docs)
            self.pages = _files(stage, skip_pdf=True)
            old_pdf = out / pdf_name
            if old_pdf.is_file():  # kept as it is (its mtime too): the book step redoes it
                _link_or_copy(old_pdf, stage / pdf_name)
            _swap(stage, out)
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)
        return out


def _files(folder: Path, skip_pdf: bool = False) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not (skip_pdf and p.suffix == ".pdf")}


def _first_difference(a: dict[str, bytes], b: dict[str, bytes]) -> str | None:
    for name in sorted(set(a) | set(b)):
        if a.get(name) != b.get(name):
            return name
    return None


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _swap(stage: Path, out: Path) -> None:
    """Put folder `stage` in the place of `out` (two renames: `out` is missing for an instant)."""
    old = None
    if out.exists():
        old = out.with_name(f"{stage.name}.old")
        out.rename(old)
    stage.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# =========================================================================== watching

IGNORED = re.compile(r"(^\.|~$|^#.*#$|\.sw[a-p]$|\.pyc$|\.tmp$|^4913$)")  # editors' scratch files


class Watcher:
    """Polls files and folders for changes of mtime or size (no dependency on watchdog)."""

    def __init__(self, paths: list[Path]):
        self.paths = [Path(p) for p in paths]
        self.state = self.scan()

    def scan(self) -> dict[Path, tuple[int, int]]:
        seen: dict[Path, tuple[int, int]] = {}
        for top in self.paths:
            if top.is_file():
                st = top.stat()
                seen[top] = (st.st_mtime_ns, st.st_size)
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = [d for d in dirnames if not IGNORED.search(d) and d != "__pycache__"]
                for name in filenames:
                    if IGNORED.search(name):
                        continue
                    path = Path(dirpath, name)
                    try:
                        st = path.stat()
                    except OSError:
                        continue
                    seen[path] = (st.st_mtime_ns, st.st_size)
        return seen

    def changes(self) -> list[Path]:
        """The files changed, added or removed since the last call."""
        new = self.scan()
        changed = sorted(p for p in set(new) | set(self.state) if new.get(p) != self.state.get(p))
        self.state = new
        return changed


# =========================================================================== serving

class BuildState:
    """The build counter the pages wait on, and what the preview is doing."""

    def __init__(self):
        self.cond = threading.Condition()
        self.build = 0        # bumped when new pages are served
        self.version = 0      # bumped on every change of this state
        self.state = "idle"   # idle | building | error
        self.message = ""
        self.closed = False

    def snapshot(self) -> dict:
        return {"build": self.build, "version": self.version, "state": self.state, "message": self.message}

    def update(self, state: str | None = None, message: str | None = None, bump: bool = False) -> None:
        with self.cond:
            if state is not None:
                self.state = state
            if message is not None:
                self.message = message
            if bump:
                self.build += 1
            self.version += 1
            self.cond.notify_all()

    def wait(self, since: int, timeout: float) -> dict:
        """The state once its version is past `since` (or after `timeout` seconds)."""
        with self.cond:
            self.cond.wait_for(lambda: self.version > since or self.closed, timeout)
            return self.snapshot()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


STATUS = "/__preview/status"

RELOAD_SCRIPT = """<script>/* added by the preview server, not part of the book */
(function () {
  var build = %(build)d, since = -1, box = null;
  function show(s) {
    if (!box) { box = document.createElement("div"); document.body.appendChild(box); }
    box.style.cssText = "position:fixed;z-index:9999;right:8px;bottom:8px;max-width:60em;max-height:60vh;"
      + "overflow:auto;font:13px monospace;white-space:pre-wrap;padding:6px 10px;border-radius:4px;"
      + (s.state === "error" ? "background:#fee;color:#900;border:1px solid #c00" : "background:#eee;color:#333");
    box.style.display = s.state === "idle" ? "none" : "block";
    box.textContent = s.state === "error" ? "Build failed:\\n" + s.message : "Rebuilding\\u2026";
  }
  function poll() {
    fetch("%(status)s?since=" + since, {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.build > build) { location.reload(); return; }
        since = s.version; show(s); poll();
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>
"""


def inject(html: str, build: int) -> str:
    """`html` with the reload script added before `</body>` (or at the end)."""
    script = RELOAD_SCRIPT % {"build": build, "status": STATUS}
    at = html.lower().rfind("</body>")
    return html[:at] + script + html[at:] if at >= 0 else html + script


WAITING_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Preview</title></head>
<body><p>The book is being built; this page reloads when it is ready.</p></body></html>
"""


class _Handler(SimpleHTTPRequestHandler):
    server: "PreviewServer"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    cache = "no-store"

    def end_headers(self):
        # pages and the status never come from a cache; the other files are checked
        # (If-Modified-Since: 304), so that a reload does not fetch every figure again
        self.send_header("Cache-Control", self.cache)
        super().end_headers()

    def _send(self, body: bytes, ctype: str, status=HTTPStatus.OK, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _html_file(self) -> Path | None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        return path if path.suffix == ".html" and path.is_file() else None

    def _serve(self, head: bool) -> None:
        url = urlsplit(self.path)
        state = self.server.state
        if url.path == STATUS:
            since = parse_qs(url.query).get("since", [""])[0]
            snap = state.wait(int(since), self.server.poll_timeout) if since.lstrip("-").isdigit() \
                else state.snapshot()
            self._send(json.dumps(snap).encode(), "application/json", head=head)
            return
        if not Path(self.directory).is_dir():
            self._send(inject(WAITING_PAGE, state.build).encode(), "text/html; charset=utf-8",
                       HTTPStatus.SERVICE_UNAVAILABLE, head)
            return
        html = self._html_file()
        if html is None:
            self.cache = "no-cache"
            super().do_HEAD() if head else super().do_GET()
            return
        try:
            text = html.read_text(encoding="utf-8")
        except OSError:  # replaced by a rebuild this instant
            time.sleep(0.05)
            text = html.read_text(encoding="utf-8")
        self._send(inject(text, state.build).encode("utf-8"), "text/html; charset=utf-8", head=head)

    def do_GET(self):
        self._serve(head=False)

    def do_HEAD(self):
        self._serve(head=True)


class PreviewServer(ThreadingHTTPServer):
    """Serves `directory` (looked up on every request: rebuilds replace it) with reloads."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, directory: Path, state: BuildState, host: str = "127.0.0.1", port: int = 8000,
                 poll_timeout: float = 25.0):
        self.directory, self.state, self.poll_timeout = Path(directory), state, poll_timeout
        handler = lambda *a, **k: _Handler(*a, directory=str(self.directory), **k)  # noqa: E731
        super().__init__((host, port), handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="preview-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a page left while it waited
            super().handle_error(request, client_address)

    def start(self) -> "PreviewServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.state.close()
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


# =========================================================================== the loop

class Preview:
    """Watch, rebuild, serve: `build(changed)` is called with the changed files and returns
    what it did (None: nothing to show) or raises (its message is shown over the page).
    `idle()` is called between polls (e.g. to finish background work)."""

    def __init__(self, server: PreviewServer, watcher: Watcher, build: Callable[[list[Path]], str | None],
                 interval: float = 0.1, settle: float = 0.05, idle: Callable[[], bool] | None = None):
        self.server, self.watcher, self.build = server, watcher, build
        self.interval, self.settle, self.idle = interval, settle, idle
        self.state = server.state
        self.stopping = threading.Event()

    def step(self) -> bool:
        """One poll; rebuild if something changed. Whether a rebuild ran."""
        changed = self.watcher.changes()
        if not changed:
            if self.idle and self.idle():
                self.state.update(bump=True)
            return False
        while True:  # an editor may write in several steps: wait until the files settle
            time.sleep(self.settle)
            more = self.watcher.changes()
            if not more:
                break
            changed = sorted(set(changed) | set(more))
        self.state.update(state="building", message="")
        t0 = time.perf_counter()
        try:
            did = self.build(changed)
        except HlmError as err:
            log(f"build failed:\n{err}")
            self.state.update(state="error", message=str(err))
            return True
        self.state.update(state="idle", message="", bump=bool(did))
        if did:
            saved = max((p.stat().st_mtime for p in changed if p.exists()), default=None)
            lag = f"; saved -> served {time.time() - saved:.2f} s" if saved else ""
            log(f"{did} ({time.perf_counter() - t0:.2f} s{lag})")
        return True

    def run(self) -> None:
        """Poll until stopped (Ctrl-C or SIGTERM)."""
        while not self.stopping.is_set():
            self.step()
            self.stopping.wait(self.interval)

    def stop(self, *_):
        self.stopping.set()


# =========================================================================== the book

def _fast_code() -> set[Path]:
    """The code the preview's own steps run: editing it makes them stale in this process."""
    from hlm import deps

    return {Path(p).resolve() for p in [*deps.closure(["hlm.preview", "hlm.book.execute", "hlm.book.qmd"]),
                                        *deps.step_code("book")]}


class BookBuilder:
    """Rebuilds dataset `dataset`'s book in `root` for the preview (see the module's doc)."""

    def __init__(self, root: Path, dataset: str, configfiles: list[Path] = (), cores: int = 2,
                 verbose: bool = False, fast: bool = True, pdf: bool = True):
        from hlm.artifacts import PATHS, fill
        from hlm.bookjob import book_job

        self.root, self.dataset, self.cores, self.verbose = Path(root).resolve(), dataset, cores, verbose
        self.configfiles = [Path(c).resolve() for c in configfiles]
        self.job = book_job(dataset, self.root, configfiles=self.configfiles)
        self.book_dir = self.job.out_dir
        self.chapter_md = lambda name: self.root / fill(PATHS.chapter, dataset=dataset, chapter=name)
        self.pages = PageRenderer(self.job)
        self.pdf = pdf
        self.renderer_ok: bool | None = None if fast and self._builtin() else False
        self.clean = False          # the last DAG build succeeded: executed chapters are current
        self.sources: dict[Path, str] = {}
        self.fast_code = _fast_code() if fast else set()
        self.background: subprocess.Popen | None = None
        self._background_out: Path | None = None
        self._background_t0 = 0.0

    # ---- what to watch
    def watched(self) -> list[Path]:
        paths = [self.root / p for p in ("report", "src", "_quarto.yml", "index.qmd", "config", "data/raw")]
        paths += self.configfiles
        with contextlib.suppress(Exception):  # the dataset's own files (a config error shows at build)
            from hlm.config import read_config

            base = self.root / "config" / "config.yaml"
            profile = read_config([base, *self.configfiles])["datasets"][self.dataset]
            paths += [self.root / profile[k] for k in ("students", "schools")]  # relative to the project
        return [p for p in dict.fromkeys(paths) if p.exists()]

    def _builtin(self) -> bool:
        """Whether the book step uses the built-in renderer (not Quarto), as the preview does."""
        renderer = os.environ.get("HLM_RENDERER", "auto")
        return renderer == "builtin" or (renderer == "auto" and not shutil.which("quarto"))

    def _chapters(self) -> dict[Path, str]:
        from hlm.book.project import load

        project = load(self.root / "_quarto.yml")
        return {(self.root / ch.qmd).resolve(): ch.name for ch in project.chapters}

    def _snapshot(self) -> dict[Path, str]:
        out = {}
        for path in self._chapters():
            with contextlib.suppress(OSError):
                out[path] = path.read_text(encoding="utf-8")
        return out

    # ---- steps
    def _hlm_build(self, targets: list[str] = ()) -> None:
        """`python -m hlm.build` (the DAG) for `targets` (default: the book)."""
        cmd = [sys.executable, "-m", "hlm.build", *targets, "--cores", str(self.cores)]
        if self.configfiles:
            cmd += ["--configfile", *map(str, self.configfiles)]
        cmd += ["--config", f"dataset={self.dataset}"]
        tail: collections.deque = collections.deque(maxlen=60)
        proc = subprocess.Popen(cmd, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            for line in proc.stdout:
                tail.append(line)
                if self.verbose:
                    sys.stderr.write(line)
            code = proc.wait()
        except BaseException:
            _stop(proc)
            raise
        if code != 0:
            raise PreviewError("".join(tail)[-4000:].strip())

    def initial(self) -> None:
        """Build the book (as `make book`), then check the page renderer against it."""
        from hlm.book import BookError

        self.sources = self._snapshot()
        log(f"building the {self.dataset} book (python -m hlm.build) ...")
        t0 = time.perf_counter()
        self._hlm_build()
        self.clean = True
        log(f"book built ({time.perf_counter() - t0:.1f} s)")
        try:
            self._check_renderer()
        except BookError as err:
            raise PreviewError(str(err)) from None

    def _check_renderer(self) -> None:
        """Render the pages into a scratch folder: they must equal the built book's."""
        if self.renderer_ok is not None:
            return
        scratch = Path(tempfile.mkdtemp(prefix="hlm-preview-"))
        try:
            t0 = time.perf_counter()
            self.pages.render(scratch / "book")
            diff = _first_difference(self.pages.pages, _files(self.book_dir, skip_pdf=True))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.renderer_ok = diff is None
        if diff:
            log(f"the preview's pages differ from the book step's ({diff}): every edit goes through "
                "the whole build")
        else:
            log(f"page renderer checked against the built book ({time.perf_counter() - t0:.1f} s)")

    def __call__(self, changed: list[Path]) -> str | None:
        """Rebuild after `changed`; what was done, or None if the pages did not change."""
        from hlm.book import BookError

        self.cancel_background()
        changed = [Path(p).resolve() for p in changed]
        stale = [p for p in changed if p in self.fast_code]
        if stale and self.renderer_ok:
            self.renderer_ok = False
            log(f"{_rel(stale[0], self.root)} changed: the preview's own renderer is now stale, edits go "
                "through the whole build (restart `make preview` for fast reloads)")
        names = ", ".join(_rel(p, self.root) for p in changed[:3]) + (" ..." if len(changed) > 3 else "")
        try:
            done = self._prose_only(changed)
            if done is None:
                done = self._through_dag()
        except BookError as err:
            raise PreviewError(str(err)) from None
        return f"{names}: {done}" if done else None

    def _through_dag(self) -> str | None:
        """The chapters through the DAG, then the pages (or the whole book through the DAG)."""
        before = self._snapshot()
        self.clean = False
        t0 = time.perf_counter()
        if not self.renderer_ok:
            self._hlm_build()
            self.sources, self.clean = before, True
            self._check_renderer()
            return f"book rebuilt by the DAG in {time.perf_counter() - t0:.1f} s"
        executed = lambda: _stats(self.chapter_md("x").parent)  # noqa: E731
        was, served = executed(), self.pages.pages
        self._hlm_build([_rel(self.chapter_md(name), self.root) for name in self._chapters().values()])
        self.sources, self.clean = before, True
        t1 = time.perf_counter()
        with build_lock(self.root) as locked:
            if not locked:
                raise PreviewError("another build of this project is running: the pages wait for it")
            self.pages.render()
        if executed() == was and self.pages.pages == served:
            return None
        self.start_background()
        return (f"chapters rebuilt by the DAG in {t1 - t0:.1f} s, {self.pages.rendered} page(s) through "
                f"pandoc ({time.perf_counter() - t1:.2f} s)")

    def _prose_only(self, changed: list[Path]) -> str | None:
        """Reuse the executed chapters if only their prose changed: what was done, or None."""
        if not (self.renderer_ok and self.clean):
            return None
        chapters = self._chapters()
        if not changed or any(p not in chapters or p not in self.sources for p in changed):
            return None
        t0 = time.perf_counter()
        updates = {}
        for path in changed:
            md_path = self.chapter_md(chapters[path])
            try:
                text, old_md = path.read_text(encoding="utf-8"), md_path.read_text(encoding="utf-8")
            except OSError:
                return None
            if text == self.sources[path]:
                continue
            new_md = reuse_executed(self.sources[path], text, old_md, _rel(path, self.root))
            if new_md is None:
                return None
            updates[path] = (md_path, text, new_md)
        if not updates:
            return ""  # saved unchanged
        with build_lock(self.root) as locked:
            if not locked:
                return None  # a build runs: the DAG says so
            for path, (md_path, text, new_md) in updates.items():
                tmp = md_path.with_name(f".{md_path.name}.tmp")
                tmp.write_text(new_md, encoding="utf-8")
                os.replace(tmp, md_path)
                self.sources[path] = text
            t1 = time.perf_counter()
            self.pages.render()
        self.start_background()
        return (f"prose only, executed outputs reused ({t1 - t0:.2f} s), {self.pages.rendered} page(s) "
                f"through pandoc ({time.perf_counter() - t1:.2f} s)")

    # ---- the PDF, in the background
    def start_background(self) -> None:
        """Render the book (HTML and PDF) with the book step into a scratch folder."""
        if not self.pdf:
            return
        scratch = self.root / "build" / self.dataset / "preview"
        scratch.mkdir(parents=True, exist_ok=True)
        self._background_out = Path(tempfile.mkdtemp(prefix="book-", dir=scratch))
        cmd = [sys.executable, "-m", "hlm", "book", "--dataset", self.dataset,
               "--out", str(self._background_out / "book")]
        if self.configfiles:
            cmd += ["--configfile", *map(str, self.configfiles)]
        self._background_t0 = time.perf_counter()
        self.background = subprocess.Popen(cmd, cwd=self.root, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.PIPE, text=True, start_new_session=True)

    def cancel_background(self) -> None:
        if self.background is not None:  # it writes in its own folder only: stopped at once
            _stop(self.background, signals=(signal.SIGKILL,))
            self.background = None
        if self._background_out is not None:
            shutil.rmtree(self._background_out, ignore_errors=True)
            self._background_out = None

    def poll_background(self) -> bool:
        """Finish the background book step if it ended; whether new pages are served."""
        proc = self.background
        if proc is None or proc.poll() is None:
            return False
        self.background = None
        out, scratch = self._background_out / "book", self._background_out
        self._background_out = None
        try:
            if proc.returncode != 0:
                log(f"the PDF was not rendered: {proc.stderr.read()[-2000:]}")
                return False
            pdfs = sorted(out.glob("*.pdf"))
            diff = _first_difference(_files(out, skip_pdf=True), self.pages.pages)
            if diff is None and pdfs:
                tmp = self.book_dir / f".{pdfs[0].name}.tmp"
                _link_or_copy(pdfs[0], tmp)
                os.replace(tmp, self.book_dir / pdfs[0].name)
                log(f"PDF updated ({time.perf_counter() - self._background_t0:.1f} s)")
                return False
            log(f"the book step's pages differ from the preview's ({diff}): serving the book step's; "
                "every edit now goes through the whole build")
            self.renderer_ok = False
            _swap(out, self.book_dir)
            return True
        finally:
            proc.stderr.close()
            shutil.rmtree(scratch, ignore_errors=True)

    def close(self) -> None:
        self.cancel_background()


@contextlib.contextmanager
def build_lock(root: Path):
    """The project's build lock (`hlm.build`'s), held while the preview writes executed
    chapters or pages itself: whether it was free."""
    import fcntl

    from hlm.build import LOCK_NAME

    (root / ".snakemake").mkdir(exist_ok=True)
    fd = os.open(root / ".snakemake" / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        note = f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S %z')}: python -m hlm.preview\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)
        yield True
    finally:
        os.close(fd)


def _stats(folder: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file under `folder`."""
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _stop(proc: subprocess.Popen, timeout: float = 15.0, signals=(signal.SIGINT, signal.SIGKILL)) -> None:
    """Stop a child started in its own session and what it started: SIGINT first (Snakemake
    then stops its jobs and removes its lock), SIGKILL if it is still there after `timeout` s."""
    if proc.poll() is not None:
        return
    for sig in signals:
        wait = timeout if sig != signal.SIGKILL else 5.0
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


# =========================================================================== command

def _interrupt(*_):
    raise KeyboardInterrupt


def default_dataset(root: Path, configfiles: list[Path]) -> str:
    from hlm.config import read_config

    base = root / "config" / "config.yaml"
    return read_config([p for p in [base, *configfiles] if p.is_file()]).get("dataset") or "hsb40"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hlm.preview", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", help="dataset profile (default: the config's `dataset`)")
    ap.add_argument("--configfile", nargs="+", action="extend", default=[], help="your own profiles")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between polls of the sources")
    ap.add_argument("--no-pdf", action="store_true", help="do not render the PDF after each edit")
    ap.add_argument("--no-fast", action="store_true", help="every edit through the whole build")
    ap.add_argument("--verbose", action="store_true", help="show Snakemake's output")
    args = ap.parse_args(argv)
    root = Path.cwd().resolve()
    configfiles = [Path(c).resolve() for c in args.configfile]
    try:
        dataset = args.dataset or default_dataset(root, configfiles)
        builder = BookBuilder(root, dataset, configfiles, args.cores, args.verbose,
                              fast=not args.no_fast, pdf=not args.no_pdf)
        try:
            server = PreviewServer(builder.book_dir, BuildState(), args.host, args.port)
        except OSError as err:
            raise PreviewError(f"cannot serve on {args.host}:{args.port} ({err.strerror}); "
                               f"choose another port: make preview PORT={args.port + 1}") from None
    except HlmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    server.start()
    log(f"serving {_rel(builder.book_dir, root)} on {server.url} (Ctrl-C to stop)")
    preview = Preview(server, Watcher(builder.watched()), builder, args.interval, idle=builder.poll_background)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.state.update(state="building")
        try:
            builder.initial()
            server.state.update(state="idle", message="", bump=True)
        except HlmError as err:
            log(f"build failed:\n{err}")
            server.state.update(state="error", message=str(err))
        log(f"watching {', '.join(_rel(p, root) for p in preview.watcher.paths)}")
        preview.run()
    except KeyboardInterrupt:
        pass
    finally:
        log("stopping")
        builder.close()
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
