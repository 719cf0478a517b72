"""hlm.preview.builder: what an edit rebuilds, on the real book: a prose edit reuses the
executed chapter, a code edit goes through the DAG; the preview writes only under the
project's build lock."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hlm.build import acquire
from hlm.preview.builder import BookBuilder, build_lock


def test_the_preview_writes_only_while_no_build_runs(tmp_path, capsys):
    fd = acquire(tmp_path / ".snakemake", ["--cores", "2"])
    try:
        with build_lock(tmp_path) as free:
            assert free is False
    finally:
        os.close(fd)
    with build_lock(tmp_path) as free:
        assert free is True
        assert acquire(tmp_path / ".snakemake", []) is None  # and a build waits for it
    assert "hlm.preview" in capsys.readouterr().err


@pytest.mark.slow
def test_preview_of_the_built_book(clinics_book, tmp_path):
    """On a copy of the built clinics book: a prose edit reuses the executed chapter (the same
    markdown as a run, pages served at once, then the PDF, and the DAG then has nothing to
    do); a code edit goes through the DAG."""
    work, fixture = clinics_book
    root = tmp_path / "work"
    shutil.copytree(work, root, symlinks=True)
    config = root / Path(fixture["config"]).relative_to(work)
    builder = BookBuilder(root, "clinics", [config], cores=2)
    try:
        builder.initial()
        assert builder.renderer_ok and builder.clean
        qmd = root / "report" / "hierarchies.qmd"
        text = qmd.read_text(encoding="utf-8")
        para = next(ln for ln in text.splitlines() if len(ln) > 40 and ln[0].isalpha() and "`" not in ln)
        qmd.write_text(text.replace(para, para + " A sentence added in the preview.", 1), encoding="utf-8")
        t0 = time.perf_counter()
        done = builder([qmd])
        assert "prose only" in done and time.perf_counter() - t0 < 3, done
        page = (builder.book_dir / "hierarchies.html").read_text(encoding="utf-8")
        assert "A sentence added in the preview." in page
        md = (root / "build" / "clinics" / "book" / "hierarchies.md").read_text(encoding="utf-8")
        run = root / "run.md"
        subprocess.run([sys.executable, "-m", "hlm", "chapter", "--dataset", "clinics",
                        "--qmd", "report/hierarchies.qmd", "--out", str(run), "--configfile", str(config)],
                       cwd=root, check=True, capture_output=True)
        assert md == run.read_text(encoding="utf-8")
        pdf = next(builder.book_dir.glob("*.pdf"))
        before = pdf.stat().st_mtime_ns
        deadline = time.time() + 300
        while builder.background is not None and time.time() < deadline:
            assert builder.poll_background() is False  # the book step's pages equal the preview's
            time.sleep(0.2)
        assert pdf.stat().st_mtime_ns > before and builder.renderer_ok
        dry = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(config)],
                             cwd=root, capture_output=True, text=True)
        assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]

        # a new cell: through the DAG, and its output on the page
        qmd.write_text(qmd.read_text(encoding="utf-8") + "\n```{python}\nprint('printed by a new cell')\n```\n",
                       encoding="utf-8")
        done = builder([qmd])
        assert "by the DAG" in done, done
        assert "printed by a new cell" in (builder.book_dir / "hierarchies.html").read_text(encoding="utf-8")
    finally:
        builder.close()
