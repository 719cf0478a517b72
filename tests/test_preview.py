"""`make preview` (hlm.preview): the server and its reloads, the watcher, the loop, the reuse
of executed chapters after a prose edit, the page renderer against the book step."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hlm.errors import HlmError
from hlm.preview import (STATUS, BuildState, PageRenderer, Preview, PreviewServer, Watcher, inject,
                         reuse_executed)


def get(url: str, timeout: float = 10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.fixture
def site(tmp_path):
    book = tmp_path / "_book" / "demo"
    (book / "assets").mkdir(parents=True)
    (book / "index.html").write_text("<html><body><p>Home</p></body></html>", encoding="utf-8")
    (book / "intro.html").write_text("<html><body><p>Intro</p></body></html>", encoding="utf-8")
    (book / "assets" / "book.js").write_text("var x = 1;", encoding="utf-8")
    return book


@pytest.fixture
def server(site):
    srv = PreviewServer(site, BuildState(), port=0, poll_timeout=5).start()
    yield srv
    if srv.thread.is_alive():
        srv.stop()


def test_pages_are_served_with_the_reload_script_the_files_without(server, site):
    status, headers, body = get(server.url)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    html = body.decode()
    assert "<p>Home</p>" in html and STATUS in html and "location.reload()" in html
    assert html.index(STATUS) < html.index("</body>")
    assert "var build = 0," in html
    assert "__preview" not in (site / "index.html").read_text()  # the built file is untouched
    assert STATUS in get(server.url + "intro.html")[2].decode()
    status, headers, body = get(server.url + "assets/book.js")
    assert body == b"var x = 1;" and headers["Cache-Control"] == "no-cache"  # not HTML: as it is, revalidated
    assert get(server.url + "missing.html")[0] == 404
    server.state.update(bump=True)
    assert "var build = 1," in get(server.url)[2].decode()


def test_the_status_endpoint_waits_for_a_change(server):
    status, headers, body = get(server.url + STATUS.lstrip("/"))
    first = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert first == {"build": 0, "version": 0, "state": "idle", "message": ""}
    threading.Timer(0.3, server.state.update, kwargs={"bump": True}).start()
    t0 = time.perf_counter()
    got = json.loads(get(server.url + STATUS.lstrip("/") + f"?since={first['version']}")[2])
    assert got["build"] == 1 and 0.2 < time.perf_counter() - t0 < 3
    server.state.update(state="error", message="report/x.qmd:3: boom")
    got = json.loads(get(server.url + STATUS.lstrip("/") + f"?since={got['version']}")[2])
    assert got["state"] == "error" and "boom" in got["message"] and got["build"] == 1


def test_a_page_that_left_while_waiting_is_no_error(server, capsys):
    try:
        raise BrokenPipeError(32, "Broken pipe")  # the reloaded page's old request, answered
    except BrokenPipeError:
        server.handle_error(None, ("127.0.0.1", 0))
    assert capsys.readouterr().err == ""


def test_a_missing_book_is_a_waiting_page_that_reloads(tmp_path):
    srv = PreviewServer(tmp_path / "none", BuildState(), port=0).start()
    try:
        status, _, body = get(srv.url)
        assert status == 503 and STATUS in body.decode()
    finally:
        srv.stop()


def test_injection_without_body_tag():
    assert inject("<p>x</p>", 3).startswith("<p>x</p><script>")


def test_watcher_sees_edits_additions_and_removals_not_scratch_files(tmp_path):
    (tmp_path / "report").mkdir()
    qmd = tmp_path / "report" / "a.qmd"
    qmd.write_text("one")
    (tmp_path / "_quarto.yml").write_text("x")
    watcher = Watcher([tmp_path / "report", tmp_path / "_quarto.yml"])
    assert watcher.changes() == []
    qmd.write_text("two!")
    (tmp_path / "report" / ".a.qmd.swp").write_text("scratch")
    (tmp_path / "report" / "a.qmd~").write_text("backup")
    (tmp_path / "report" / "__pycache__").mkdir()
    (tmp_path / "report" / "__pycache__" / "m.pyc").write_text("")
    assert watcher.changes() == [qmd]
    new = tmp_path / "report" / "b.qmd"
    new.write_text("b")
    qmd.unlink()
    assert watcher.changes() == [qmd, new]
    (tmp_path / "_quarto.yml").write_text("y2")
    assert watcher.changes() == [tmp_path / "_quarto.yml"]


def test_the_loop_rebuilds_on_a_change_reports_errors_and_stops_cleanly(server, site, tmp_path):
    src = tmp_path / "report"
    src.mkdir()
    qmd = src / "intro.qmd"
    qmd.write_text("Intro")
    calls = []

    def build(changed):
        calls.append(changed)
        text = qmd.read_text()
        if "error" in text:
            raise HlmError("report/intro.qmd:1: the chapter failed")
        (site / "intro.html").write_text(f"<html><body><p>{text}</p></body></html>")
        return "rebuilt"

    preview = Preview(server, Watcher([src]), build, interval=0.02)
    loop = threading.Thread(target=preview.run)
    loop.start()
    try:
        version = server.state.version
        qmd.write_text("Intro, edited")
        got = json.loads(get(server.url + STATUS.lstrip("/") + f"?since={version}")[2])
        while got["build"] < 1:
            got = json.loads(get(server.url + STATUS.lstrip("/") + f"?since={got['version']}")[2])
        assert calls == [[qmd]] and got["state"] == "idle"
        assert "Intro, edited" in get(server.url + "intro.html")[2].decode()
        qmd.write_text("an error")
        while got["state"] != "error":
            got = json.loads(get(server.url + STATUS.lstrip("/") + f"?since={got['version']}")[2])
        assert got["build"] == 1 and "the chapter failed" in got["message"]
    finally:
        preview.stop()
        loop.join(timeout=5)
    assert not loop.is_alive()
    # a page waiting for a build is answered when the server stops, and the port is closed
    waiter = threading.Thread(target=get, args=(server.url + STATUS.lstrip("/") + "?since=999",))
    waiter.start()
    time.sleep(0.1)
    server.stop()
    waiter.join(timeout=5)
    assert not waiter.is_alive() and not server.thread.is_alive()
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url, timeout=2)


def test_the_loop_calls_idle_work_between_builds(server, tmp_path):
    ticks = []
    preview = Preview(server, Watcher([tmp_path]), lambda changed: None, idle=lambda: ticks.append(1) or True)
    preview.step()
    assert ticks and server.state.build == 1  # idle work that serves new pages bumps the counter


def test_the_preview_writes_only_while_no_build_runs(tmp_path, capsys):
    import os

    from hlm.build import acquire
    from hlm.preview import build_lock

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


# --------------------------------------------------------------------------- prose edits

CHAPTER = '''\
---
title: Demo
execute:
  echo: false
---

# Demo {#sec-demo}

```{python}
import json
values = [3, 1, 2]
total = sum(values)
def guard(models):
    return json.dumps({"run": True, "markdown": ""})
```

The values add up to `{python} total`: the largest is `{python} max(values)`.
This line has no value.

```{python}
print("a printed line:", total)
```

::: {.if-fitted models="m"}
Inside the block, `{python} min(values)` is the least.
:::

A closing paragraph, then the end.
'''

EDITS = {  # each executed for real (a kernel each): a few kinds of edit per text
    "words": (CHAPTER.replace("no value", "no number").replace("the largest is", "and the largest one is")
              .replace("is the least", "is the smallest")),
    "lines": (CHAPTER.replace("This line has no value.\n", "This line has no value.\nA new line.\n")
              .replace("A closing", "A new paragraph.\n\n\nA closing")),
    "section": CHAPTER.replace("A closing", "## More {#sec-more}\n\nA closing"),
}


def _execute(root: Path, text: str, name: str = "demo") -> str:
    from hlm.book import ChapterJob
    from hlm.book.execute import execute_chapter

    (root / "report").mkdir(exist_ok=True)
    (root / "report" / f"{name}.qmd").write_text(text, encoding="utf-8")
    out = root / "build" / f"{name}.md"
    execute_chapter(ChapterJob(qmd=Path(f"report/{name}.qmd"), out=out, root=root, guard="guard"))
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The chapter and each edit, executed (for real) in a Jupyter kernel."""
    root = tmp_path_factory.mktemp("prose")
    return {"before": _execute(root, CHAPTER), **{k: _execute(root, v) for k, v in EDITS.items()}}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_prose_edit_gives_what_a_run_gives(executed, edit):
    assert reuse_executed(CHAPTER, EDITS[edit], executed["before"], "report/demo.qmd") == executed[edit]


def test_unchanged_text_gives_the_same_markdown(executed):
    assert reuse_executed(CHAPTER, CHAPTER, executed["before"], "report/demo.qmd") == executed["before"]


@pytest.mark.parametrize("new", [
    CHAPTER.replace("sum(values)", "sum(values) + 1"),                 # code
    CHAPTER.replace("`{python} max(values)`", "`{python} min(values)`"),  # an inline expression
    CHAPTER.replace("echo: false", "echo: true"),                      # front matter
    CHAPTER.replace('models="m"', 'models="m n"'),                     # a guard
    CHAPTER.replace("A closing", "![a figure](fig.png)\n\nA closing"),  # an image the executor copies
    CHAPTER.replace("```{python}\nprint", "```{python}\n#| echo: true\nprint"),  # a cell option
    CHAPTER.replace("This line", "```{python}\nx = 1\n```\n\nThis line"),  # a new cell
], ids=["code", "inline", "front-matter", "guard", "image", "option", "new-cell"])
def test_anything_but_prose_is_left_to_a_run(executed, new):
    assert reuse_executed(CHAPTER, new, executed["before"], "report/demo.qmd") is None


def test_executed_markdown_of_another_text_is_not_reused(executed):
    other = CHAPTER.replace("A closing paragraph", "Something else entirely")
    assert reuse_executed(other, CHAPTER, executed["before"], "report/demo.qmd") is None


# --------------------------------------------------------------------------- pages

def test_the_page_renderer_writes_the_book_steps_pages(tmp_path):
    """The preview's pages equal the built-in renderer's, with and without a changed chapter,
    and only the changed page goes through pandoc again."""
    from hlm.book import BookJob
    from hlm.book.render import render_book

    sys.path.insert(0, str(Path(__file__).parent / "book"))
    try:
        from book_helpers import execute_all, write_project
    finally:
        sys.path.pop(0)
    root = write_project(tmp_path / "p", {
        "index": "# Preface {.unnumbered}\n\nSee @sec-b.\n",
        "a": "# Alpha {#sec-a}\n\n## One\n\nText with `code`.\n\n```python\nx = 1\n```\n",
        "b": "# Beta {#sec-b}\n\nBack to @sec-a.\n",
    })
    build = execute_all(root)
    job = BookJob(root=root, build_dir=build, out_dir=root / "_book" / "demo", data_title="Demo data",
                  renderer="builtin")
    render_book(job)
    pages = PageRenderer(job)
    out = pages.render(tmp_path / "mine")
    built = root / "_book" / "demo"
    files = lambda d: {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*")  # noqa: E731
                       if p.is_file() and p.suffix != ".pdf"}
    assert files(out) == files(built) and pages.rendered == 3
    (build / "b.md").write_text((build / "b.md").read_text().replace("Back to", "Forward from"))
    render_book(job)
    pages.render(out)
    assert files(out) == files(built) and pages.rendered == 1
    # rendering in place keeps the PDF (the book step redoes it later)
    pdf = next(built.glob("*.pdf"))
    stamp = pdf.stat().st_mtime_ns
    pages.render()
    assert pdf.stat().st_mtime_ns == stamp and pages.rendered == 0
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".")]  # no staging folder left


# --------------------------------------------------------------------------- the real book

@pytest.mark.slow
def test_preview_of_the_built_book(clinics_book, tmp_path):
    """On a copy of the built clinics book: a prose edit reuses the executed chapter (the same
    markdown as a run, pages served at once, then the PDF, and the DAG then has nothing to
    do); a code edit goes through the DAG."""
    from hlm.preview import BookBuilder

    work, fixture = clinics_book
    root = tmp_path / "work"
    shutil.copytree(work, root, symlinks=True)
    config = root / Path(fixture["config"]).relative_to(work)
    builder = BookBuilder(root, "clinics", [config], cores=2)
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
    subprocess.run([sys.executable, "-m", "hlm", "chapter", "--dataset", "clinics", "--qmd", "report/hierarchies.qmd",
                    "--out", str(run), "--configfile", str(config)], cwd=root, check=True, capture_output=True)
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
    builder.close()
