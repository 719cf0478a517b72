"""Publishing the built books (hlm.publish): the site, the git branch, the Actions workflow."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hlm.errors import HlmError
from hlm.publish import PublishError, find_books, landing_page, main, publish, write_site

ROOT = Path(__file__).resolve().parents[1]


def fake_book(book_root: Path, dataset: str, data: str | None = "Forty schools", pdf: bool = True) -> Path:
    """A built book as the built-in renderer lays it out (home page, a chapter, assets, PDF)."""
    folder = book_root / dataset
    (folder / "assets").mkdir(parents=True)
    dataset_line = f'<p class="book-dataset-main">Data: {data}</p>' if data else ""
    (folder / "index.html").write_text(
        "<!DOCTYPE html><html><head><title>Mixed Models with R</title></head><body>"
        '<nav id="sidebar"><div class="downloads"><a href="mixed-models.pdf">Download PDF</a></div></nav>'
        '<main><header class="title-block"><h1 class="title">Mixed Models with R</h1>'
        '<p class="book-subtitle-main">from hierarchical to mixed</p>'
        f"{dataset_line}</header><p>Preface.</p></main></body></html>", encoding="utf-8")
    (folder / "intro.html").write_text("<html><body>Intro</body></html>", encoding="utf-8")
    (folder / "assets" / "book.css").write_text("body {}", encoding="utf-8")
    if pdf:
        (folder / "mixed-models.pdf").write_bytes(b"%PDF-1.7 fake\n")
    return folder


def git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"#]+)"', html)


@pytest.fixture
def books(tmp_path):
    """A project folder with two complete books, one without its PDF, and a staging folder."""
    root = tmp_path / "project"
    fake_book(root / "_book", "hsb40", "Forty schools")
    fake_book(root / "_book", "clinics", None)
    fake_book(root / "_book", "half", pdf=False)
    (root / "_book" / ".hsb40.abcd1234").mkdir()
    (root / "config").mkdir()
    (root / "config" / "config.yaml").write_text(
        "dataset: hsb40\ndatasets:\n  clinics:\n    title: Blood pressure in 24 clinics\n", encoding="utf-8")
    return root


@pytest.fixture
def bare(tmp_path):
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote))
    return remote


def test_complete_books_are_found_with_their_data(books, capsys):
    found = find_books(books / "_book", books)
    assert [b.dataset for b in found] == ["clinics", "hsb40"]
    clinics, hsb40 = found
    assert hsb40.title == "Mixed Models with R" and hsb40.subtitle == "from hierarchical to mixed"
    assert hsb40.data == "Forty schools" and hsb40.pdf == "mixed-models.pdf"
    assert clinics.data == "Blood pressure in 24 clinics"  # no "Data:" line: the profile's title
    assert "half" in capsys.readouterr().err  # left out, and said


def test_no_built_book_says_to_run_make_book(tmp_path):
    with pytest.raises(PublishError, match="run `make book`"):
        find_books(tmp_path / "_book")


def test_the_site_links_each_book_and_its_pdf(books, tmp_path):
    site = write_site(find_books(books / "_book", books), tmp_path / "site", "commit abc")
    assert (site / ".nojekyll").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>Mixed Models with R</title>" in home and "Forty schools" in home and "commit abc" in home
    targets = links(home)
    assert {"hsb40/index.html", "hsb40/mixed-models.pdf", "clinics/index.html", "clinics/mixed-models.pdf"} <= set(targets)
    assert all((site / t).is_file() for t in targets)
    assert (site / "hsb40" / "intro.html").read_bytes() == (books / "_book" / "hsb40" / "intro.html").read_bytes()
    assert not (site / "half").exists() and not list(site.glob(".hsb40*"))
    assert not list(tmp_path.glob(".site.*"))  # no staging folder left


def test_the_site_replaces_its_previous_self_but_no_other_folder(books, tmp_path):
    found = find_books(books / "_book", books)
    site = write_site(found, tmp_path / "site")
    (site / "stale.html").write_text("old")
    write_site(found, site)
    assert not (site / "stale.html").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(PublishError, match="not a site"):
        write_site(found, other)
    assert (other / "notes.txt").read_text() == "mine"


def test_landing_page_of_different_books_names_each():
    from hlm.publish import Book

    a = Book("a", Path("."), "a.pdf", "Book A", None, "Data A")
    b = Book("b", Path("."), "b.pdf", "Book B", None, None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("hlm.publish._size", lambda path: "1 kB")
        html = landing_page([a, b])
    assert "<title>Books</title>" in html and "Book A" in html and "Book B" in html


def test_publish_to_a_bare_repository(books, bare, tmp_path):
    first = publish(str(bare), "gh-pages", "_book", books)
    assert git("--git-dir", str(bare), "rev-parse", "gh-pages") == first
    message = git("--git-dir", str(bare), "log", "-1", "--format=%B", "gh-pages")
    assert message.startswith("Publish the book (clinics, hsb40)")
    clone = tmp_path / "clone"
    git("clone", "-q", "--branch", "gh-pages", str(bare), str(clone))
    assert sorted(p.name for p in clone.iterdir() if p.name != ".git") == [".nojekyll", "clinics", "hsb40", "index.html"]
    home = (clone / "index.html").read_text(encoding="utf-8")
    assert all((clone / t).is_file() for t in links(home))

    # the same site again: nothing to commit; a changed book: one more commit on top
    assert publish(str(bare), "gh-pages", "_book", books) is None
    shutil.rmtree(books / "_book" / "clinics")
    (books / "_book" / "hsb40" / "intro.html").write_text("<html><body>Intro, revised</body></html>")
    second = publish(str(bare), "gh-pages", "_book", books)
    assert git("--git-dir", str(bare), "rev-list", "--count", "gh-pages") == "2"
    assert git("--git-dir", str(bare), "rev-parse", f"{second}^") == first
    files = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "gh-pages").split()
    assert not any(f.startswith("clinics/") for f in files)  # the branch holds the new site only


def test_publish_names_the_source_commit(books, bare):
    git("init", "-q", cwd=books)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x", cwd=books)
    sha = git("rev-parse", "HEAD", cwd=books)
    publish(str(bare), "pages", "_book", books)
    message = git("--git-dir", str(bare), "log", "-1", "--format=%B", "pages")
    assert message.startswith(f"Publish the book from {sha[:12]} (clinics, hsb40)") and sha in message


def test_publish_without_a_git_identity(books, bare, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    commit = publish(str(bare), "gh-pages", "_book", books)
    assert git("--git-dir", str(bare), "log", "-1", "--format=%an", commit) == "hlm publish"


def test_publish_errors(books, bare, tmp_path):
    with pytest.raises(PublishError, match="no remote given"):
        publish("", "gh-pages", "_book", books)
    with pytest.raises(PublishError, match="reaching"):
        publish(str(tmp_path / "nowhere.git"), "gh-pages", "_book", books)
    with pytest.raises(PublishError, match="run `make book`"):
        publish(str(bare), "gh-pages", "nothing", books)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho refused by the remote >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(PublishError, match="git push to .* failed: .*refused by the remote"):
        publish(str(bare), "gh-pages", "_book", books)
    assert issubclass(PublishError, HlmError)


def test_command_line(books, bare, tmp_path, capsys):
    assert main(["--root", str(books), "--site", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "index.html").is_file()
    assert main(["--root", str(books), "--remote", ""]) == 1
    assert "no remote given" in capsys.readouterr().err
    assert main(["--root", str(books), "--remote", str(bare)]) == 0
    assert git("--git-dir", str(bare), "rev-parse", "--verify", "-q", "gh-pages")


# --------------------------------------------------------------------------- the real book

def make_publish(work: Path, remote: Path, config: Path) -> subprocess.CompletedProcess:
    """`make publish REMOTE=... CONFIG=...` in `work` (a built project without a Makefile of
    its own), with this test run's Python as the venv: its stamp is taken as up to date
    (`-o`), so nothing is installed; the make variables of an enclosing `make test` are not
    passed on."""
    venv = Path(sys.prefix)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    cmd = ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-C", str(work),
           "-o", str(venv / ".installed"), "publish", f"VENV={venv}", f"REMOTE={remote}", f"CONFIG={config}"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


@pytest.mark.slow
def test_make_publish_of_the_built_book(clinics_book, bare, tmp_path):
    """`make publish` in a built project: the landing page's links resolve, the PDF is there;
    publishing again adds nothing; `python -m hlm.publish` of changed books adds a commit."""
    work, fixture = clinics_book
    proc = make_publish(work, bare, fixture["config"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"-m hlm.publish --remote \"{bare}\"" in proc.stdout  # the Makefile's recipe ran
    clone = tmp_path / "clone"
    git("clone", "-q", "--branch", "gh-pages", str(bare), str(clone))
    home = (clone / "index.html").read_text(encoding="utf-8")
    targets = links(home)
    assert "clinics/index.html" in targets and all((clone / t).is_file() for t in targets)
    pdf = next(t for t in targets if t.endswith(".pdf"))
    assert (clone / pdf).read_bytes()[:5] == b"%PDF-"
    book = work / "_book" / "clinics"
    built = sorted(p.relative_to(book).as_posix() for p in book.rglob("*") if p.is_file())
    published = sorted(p.relative_to(clone / "clinics").as_posix() for p in (clone / "clinics").rglob("*") if p.is_file())
    assert published == built
    for page in (clone / "clinics").glob("*.html"):  # every page's local links resolve in the site
        for target in links(page.read_text(encoding="utf-8")):
            if "://" not in target and not target.startswith(("mailto:", "data:")):
                assert (page.parent / target).exists(), (page.name, target)
    # a second publish of the same site adds nothing; of a changed site, one commit
    assert make_publish(work, bare, fixture["config"]).returncode == 0
    assert git("--git-dir", str(bare), "rev-list", "--count", "gh-pages") == "1"
    books = tmp_path / "books"
    shutil.copytree(book, books / "clinics")
    (books / "clinics" / "extra.txt").write_text("a change")
    cmd = [sys.executable, "-m", "hlm.publish", "--remote", str(bare), "--configfile", str(fixture["config"]),
           "--books", str(books)]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert git("--git-dir", str(bare), "rev-list", "--count", "gh-pages") == "2"


# --------------------------------------------------------------------------- the workflow

def test_the_workflow_builds_tests_and_deploys_the_site():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8"))
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as true
    assert on["push"]["branches"] == ["main"]
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    steps = build["steps"]
    uses = [s.get("uses", "") for s in steps]
    runs = [s["run"] for s in steps if "run" in s]
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
    assert runs.index("make book") < runs.index("make test")
    assert not any("apt-get" in r for r in runs)
    site = next(r for r in runs if "site" in r)
    artifact = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert artifact["with"]["path"] in site.split("SITE=")[-1].split()
    assert uses.index(artifact["uses"]) > len(steps) - 2  # deployed last, after the tests
    assert deploy["needs"] == "build"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy["steps"])
    # `make site` is the module's --site
    assert "hlm.publish --site" in (ROOT / "Makefile").read_text(encoding="utf-8")
