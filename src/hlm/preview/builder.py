"""What an edit rebuilds (`BookBuilder`, see the package's doc): the executed chapters
reused or rebuilt through the DAG, the pages, the PDF in the background; the project's
build lock, held while the preview writes itself."""
from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hlm import deps
from hlm.artifacts import PATHS, fill
from hlm.book import BookError
from hlm.book.project import load
from hlm.bookjob import book_job
from hlm.build import take_lock
from hlm.config import read_config
from hlm.preview import PreviewError, log, rel
from hlm.preview.pages import PageRenderer, book_files, first_difference, link_or_copy, swap
from hlm.preview.reuse import reuse_executed


def _fast_code() -> set[Path]:
    """The code the preview's own steps run: editing it makes them stale in this process."""
    modules = ["hlm.preview.builder", "hlm.book.execute", "hlm.book.qmd"]
    return {Path(p).resolve() for p in [*deps.closure(modules), *deps.step_code("book")]}


class BookBuilder:
    """Rebuilds dataset `dataset`'s book in `root` for the preview (see the module's doc)."""

    def __init__(self, root: Path, dataset: str, configfiles: list[Path] = (), cores: int = 2,
                 verbose: bool = False, fast: bool = True, pdf: bool = True):
        self.root, self.dataset, self.cores, self.verbose = Path(root).resolve(), dataset, cores, verbose
        self.configfiles = [Path(c).resolve() for c in configfiles]
        self.config_args = ["--configfile", *map(str, self.configfiles)] if self.configfiles else []
        self.job = book_job(dataset, self.root, configfiles=self.configfiles)
        self.book_dir = self.job.out_dir
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
            base = self.root / "config" / "config.yaml"
            profile = read_config([base, *self.configfiles])["datasets"][self.dataset]
            paths += [self.root / profile[k] for k in ("students", "schools")]  # relative to the project
        return [p for p in dict.fromkeys(paths) if p.exists()]

    def _builtin(self) -> bool:
        """Whether the book step uses the built-in renderer (not Quarto), as the preview does."""
        renderer = os.environ.get("HLM_RENDERER", "auto")
        return renderer == "builtin" or (renderer == "auto" and not shutil.which("quarto"))

    def _chapters(self) -> dict[Path, str]:
        project = load(self.root / "_quarto.yml")
        return {(self.root / ch.qmd).resolve(): ch.name for ch in project.chapters}

    def chapter_md(self, name: str) -> Path:
        """Where the DAG writes chapter `name` executed (the renderer reads it there)."""
        return self.root / fill(PATHS.chapter, dataset=self.dataset, chapter=name)

    def _snapshot(self) -> dict[Path, str]:
        out = {}
        for path in self._chapters():
            with contextlib.suppress(OSError):
                out[path] = path.read_text(encoding="utf-8")
        return out

    # ---- steps
    def _hlm_build(self, targets: list[str] = ()) -> None:
        """`python -m hlm.build` (the DAG) for `targets` (default: the book)."""
        cmd = [sys.executable, "-m", "hlm.build", *targets, "--cores", str(self.cores), *self.config_args,
               "--config", f"dataset={self.dataset}"]
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
            diff = first_difference(self.pages.pages, book_files(self.book_dir))
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
        self.cancel_background()
        changed = [Path(p).resolve() for p in changed]
        stale = [p for p in changed if p in self.fast_code]
        if stale and self.renderer_ok:
            self.renderer_ok = False
            log(f"{rel(stale[0], self.root)} changed: the preview's own renderer is now stale, edits go "
                "through the whole build (restart `make preview` for fast reloads)")
        names = ", ".join(rel(p, self.root) for p in changed[:3]) + (" ..." if len(changed) > 3 else "")
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
        was, served = _stats(self.job.build_dir), self.pages.pages
        self._hlm_build([rel(self.chapter_md(name), self.root) for name in self._chapters().values()])
        self.sources, self.clean = before, True
        t1 = time.perf_counter()
        with build_lock(self.root) as locked:
            if not locked:
                raise PreviewError("another build of this project is running: the pages wait for it")
            self.pages.render()
        if _stats(self.job.build_dir) == was and self.pages.pages == served:
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
            new_md = reuse_executed(self.sources[path], text, old_md, rel(path, self.root))
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
               "--out", str(self._background_out / "book"), *self.config_args]
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
            diff = first_difference(book_files(out), self.pages.pages)
            if diff is None and pdfs:
                tmp = self.book_dir / f".{pdfs[0].name}.tmp"
                link_or_copy(pdfs[0], tmp)
                os.replace(tmp, self.book_dir / pdfs[0].name)
                log(f"PDF updated ({time.perf_counter() - self._background_t0:.1f} s)")
                return False
            log(f"the book step's pages differ from the preview's ({diff}): serving the book step's; "
                "every edit now goes through the whole build")
            self.renderer_ok = False
            swap(out, self.book_dir)
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
    fd, _holder = take_lock(root / ".snakemake", "python -m hlm.preview")
    if fd is None:
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)


def _stats(folder: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file under `folder`."""
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


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

