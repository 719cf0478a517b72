"""Publish the built books as a static site: a landing page and one folder per dataset.

    python -m hlm.publish --remote URL [--branch gh-pages]   # what `make publish` runs
    python -m hlm.publish --site DIR                         # the site in a folder, no git

The site is every complete book under `_book/` (a folder holding `index.html` and
its PDF): `<dataset>/` as built, a landing page `index.html` that lists them (title,
data, links to the HTML and the PDF) and `.nojekyll` (GitHub Pages serves the files
as they are). `write_site` writes it; the GitHub Actions workflow deploys the same
folder. `publish` commits it with plain git in a temporary repository, as the only
content of BRANCH on top of the branch's history, and pushes it to REMOTE: the
network is used for the remote alone, and nothing is written in the project.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from hlm.errors import HlmError

BOOK_ROOT = "_book"
SKIP = {"quarto"}  # _book/quarto/: a plain `quarto render` of the project, not a dataset's build
FALLBACK_IDENTITY = ("hlm publish", "hlm-publish@localhost")  # when git has no user configured


class PublishError(HlmError):
    """The site cannot be written or pushed as asked."""


@dataclass(frozen=True)
class Book:
    """One dataset's built book, as the landing page lists it."""

    dataset: str
    path: Path              # _book/<dataset>
    pdf: str                # the PDF's file name in `path`
    title: str
    subtitle: str | None
    data: str | None        # the data's description ("Data: ..." under the title)


class _Head(HTMLParser):
    """The text of <title> and of the home page's subtitle and "Data:" lines."""

    WANTED = {"book-subtitle-main": "subtitle", "book-dataset-main": "data"}

    def __init__(self):
        super().__init__()
        self.found: dict[str, str] = {}
        self.pdfs: list[str] = []
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        href = attrs.get("href") or ""
        if tag == "a" and href.lower().endswith(".pdf") and "/" not in href:
            self.pdfs.append(href)
        classes = (attrs.get("class") or "").split()
        key = "title" if tag == "title" else next((self.WANTED[c] for c in classes if c in self.WANTED), None)
        if tag not in ("meta", "link", "br", "img", "input", "hr"):
            self._open.append(key if key and key not in self.found else None)

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        key = next((k for k in reversed(self._open) if k), None)
        if key:
            self.found[key] = self.found.get(key, "") + data


def read_book(path: Path, config_title: str | None = None) -> Book | None:
    """The book in `path` if complete (its home page and its PDF), else None."""
    index = path / "index.html"
    if not index.is_file():
        return None
    head = _Head()
    head.feed(index.read_text(encoding="utf-8", errors="replace"))
    pdfs = [p for p in head.pdfs if (path / p).is_file()] or sorted(p.name for p in path.glob("*.pdf"))
    if not pdfs:
        return None
    text = {k: " ".join(v.split()) for k, v in head.found.items()}
    data = text.get("data", "").removeprefix("Data:").strip() or config_title
    return Book(path.name, path, pdfs[0], text.get("title") or path.name, text.get("subtitle") or None, data)


def _config_titles(root: Path, configfiles: list[Path]) -> dict[str, str]:
    """Each dataset profile's `title` in the project's config and the given files."""
    from hlm.config import read_config

    base = root / "config" / "config.yaml"
    files = [f for f in [base, *configfiles] if Path(f).is_file()]
    datasets = read_config(files).get("datasets") or {} if files else {}
    return {name: p.get("title") for name, p in datasets.items() if isinstance(p, dict) and p.get("title")}


def find_books(book_root: Path, root: Path | None = None, configfiles: list[Path] = ()) -> list[Book]:
    """The complete books under `book_root`, by dataset name; says which are left out."""
    titles = _config_titles(root or book_root.parent, list(configfiles))
    books = []
    folders = sorted(p for p in book_root.iterdir() if p.is_dir()) if book_root.is_dir() else []
    for folder in folders:
        if folder.name.startswith(".") or folder.name in SKIP:
            continue
        book = read_book(folder, titles.get(folder.name))
        if book is None:
            print(f"[publish] skipping {folder}: no complete book (index.html and its PDF); "
                  f"`make book DATASET={folder.name}` builds it", file=sys.stderr)
            continue
        books.append(book)
    if not books:
        raise PublishError(f"no built book in {book_root}/: run `make book` first "
                           "(`make book DATASET=<name>` for another dataset)")
    return books


def _size(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{max(1, round(n / 1e3))} kB"


def landing_page(books: list[Book], source: str | None = None) -> str:
    """The site's home page: one entry per dataset, linking its HTML book and its PDF."""
    one_book = len({(b.title, b.subtitle) for b in books}) == 1  # the same book, several datasets
    title = books[0].title if one_book else "Books"
    subtitle = books[0].subtitle if one_book else None
    items = []
    for b in books:
        name = escape(b.dataset)
        heading = escape(b.data) if b.data else name
        extra = "" if one_book else f'<p class="book">{escape(b.title)}</p>'
        items.append(
            f'<li><h2><a href="{name}/index.html">{heading}</a></h2>{extra}\n'
            f'<p class="dataset">Dataset <code>{name}</code></p>\n'
            f'<p class="links"><a href="{name}/index.html">Read online</a> · '
            f'<a href="{name}/{escape(b.pdf)}">PDF</a> ({_size(b.path / b.pdf)})</p></li>')
    sub = f'<p class="subtitle">{escape(subtitle)}</p>\n' if subtitle else ""
    foot = f"<footer>Built from {escape(source)}.</footer>\n" if source else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; line-height: 1.5; margin: 0; color: #222; }}
main {{ max-width: 44rem; margin: 3rem auto; padding: 0 1rem; }}
h1 {{ margin-bottom: .2rem; }} .subtitle {{ color: #555; margin-top: 0; font-size: 1.15rem; }}
ul.books {{ list-style: none; padding: 0; }}
ul.books li {{ border-top: 1px solid #ddd; padding: .8rem 0; }}
ul.books h2 {{ font-size: 1.2rem; margin: 0; }} ul.books p {{ margin: .2rem 0; }}
.dataset {{ color: #555; }} footer {{ color: #777; font-size: .9rem; margin-top: 2rem; }}
a {{ color: #1a5fb4; }}
</style>
</head>
<body>
<main>
<h1>{escape(title)}</h1>
{sub}<p>The book, rebuilt from each dataset's raw files: every number, table and figure computed from that dataset.</p>
<ul class="books">
{chr(10).join(items)}
</ul>
{foot}</main>
</body>
</html>
"""


def _write(books: list[Book], dest: Path, source: str | None) -> None:
    for b in books:
        shutil.copytree(b.path, dest / b.dataset)
    (dest / "index.html").write_text(landing_page(books, source), encoding="utf-8")
    (dest / ".nojekyll").write_text("", encoding="utf-8")


def write_site(books: list[Book], dest: str | Path, source: str | None = None) -> Path:
    """Write the site into folder `dest` (replaced as a whole, or created): all or nothing.

    A non-empty `dest` that is not a site written here (no `.nojekyll`) is refused."""
    dest = Path(dest).resolve()
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / ".nojekyll").is_file())):
        raise PublishError(f"{dest} exists and is not a site written by `python -m hlm.publish`; "
                           "choose an empty or new folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        stage.chmod(0o755)
        _write(books, stage, source)
        old = None
        if dest.exists():
            old = dest.with_name(f"{stage.name}.old")
            dest.rename(old)
        stage.rename(dest)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    return dest


# --------------------------------------------------------------------------- git

def _git(args: list[str], cwd: Path | None = None, env: dict | None = None, what: str = "") -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise PublishError("git is not installed (it is needed to publish; `--site DIR` writes the "
                           "site without it)") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise PublishError(f"{what or 'git ' + args[0]} failed: {detail}")
    return proc.stdout.strip()


def source_commit(root: Path) -> str | None:
    """The project's commit (`<sha>`, `<sha> with uncommitted changes`), or None outside git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        return None
    return f"commit {sha.stdout.strip()}" + (" with uncommitted changes" if dirty else "")


def commit_message(books: list[Book], source: str | None) -> str:
    """The publishing commit's message: the datasets and the source commit (deterministic)."""
    names = ", ".join(b.dataset for b in books)
    short = source.split()[1][:12] if source else None
    head = f"Publish the book from {short} ({names})" if short else f"Publish the book ({names})"
    return f"{head}\n\nBuilt from {source or 'a project outside git'}.\n"


def _identity(root: Path) -> list[str]:
    """`-c user.name=... -c user.email=...` when git has no user configured."""
    out = []
    for key, value in zip(("user.name", "user.email"), FALLBACK_IDENTITY):
        got = subprocess.run(["git", "config", key], cwd=root, capture_output=True, text=True).stdout.strip()
        if not got:
            out += ["-c", f"{key}={value}"]
    return out


def publish(remote: str, branch: str = "gh-pages", book_root: str | Path = BOOK_ROOT,
            root: str | Path | None = None, configfiles: list[Path] = ()) -> str | None:
    """Push the site of the books under `book_root` to `remote`'s `branch` (its whole content,
    one commit on top of the branch's history). The new commit, or None if nothing changed."""
    if not remote:
        raise PublishError("no remote given: `make publish REMOTE=<git url> [BRANCH=gh-pages]`")
    if not branch or branch.startswith("-") or " " in branch:
        raise PublishError(f"invalid branch name {branch!r}")
    root = Path(root or os.getcwd()).resolve()
    books = find_books((root / book_root).resolve(), root, configfiles)
    source = source_commit(root)
    ref = f"refs/heads/{branch}"
    with tempfile.TemporaryDirectory(prefix="hlm-publish-") as tmp:
        repo, site = Path(tmp) / "repo.git", Path(tmp) / "site"
        _git(["init", "-q", "--bare", str(repo)])
        env = {**os.environ, "GIT_DIR": str(repo), "GIT_WORK_TREE": str(site)}
        heads = _git(["ls-remote", "--heads", remote, ref], env=env, what=f"reaching {remote}")
        parent = None
        if heads:
            _git(["fetch", "-q", "--depth", "1", remote, ref], env=env, what=f"fetching {branch} from {remote}")
            parent = _git(["rev-parse", "FETCH_HEAD"], env=env)
        write_site(books, site, source)
        _git(["add", "-A", "--force", "."], cwd=site, env=env)
        tree = _git(["write-tree"], env=env)
        if parent and _git(["rev-parse", f"{parent}^{{tree}}"], env=env) == tree:
            print(f"[publish] {remote} {branch} already holds this site: nothing to publish", file=sys.stderr)
            return None
        commit = _git([*_identity(root), "commit-tree", tree, *(["-p", parent] if parent else []),
                       "-m", commit_message(books, source)], env=env)
        _git(["push", "-q", remote, f"{commit}:{ref}"], env=env, what=f"git push to {remote} {branch}")
    names = ", ".join(b.dataset for b in books)
    print(f"[publish] {names} -> {remote} {branch} ({commit[:12]})", file=sys.stderr)
    return commit


# --------------------------------------------------------------------------- command

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hlm.publish", description=__doc__.split("\n\n")[0])
    ap.add_argument("--remote", help="git URL (or path) to push the site to")
    ap.add_argument("--branch", default="gh-pages", help="branch whose content the site replaces (gh-pages)")
    ap.add_argument("--site", metavar="DIR", help="write the site into DIR instead (no git)")
    ap.add_argument("--books", default=BOOK_ROOT, help="the built books (default: _book)")
    ap.add_argument("--root", default=None, help="project root (default: the current directory)")
    ap.add_argument("--configfile", nargs="+", action="extend", default=[],
                    help="config files naming your own datasets (their titles)")
    args = ap.parse_args(argv)
    root = Path(args.root or os.getcwd()).resolve()
    configs = [Path(c).resolve() for c in args.configfile]
    try:
        if args.site:
            books = find_books((root / args.books).resolve(), root, configs)
            dest = write_site(books, root / args.site, source_commit(root))
            print(f"[publish] site of {', '.join(b.dataset for b in books)} -> {dest}", file=sys.stderr)
        else:
            publish(args.remote or "", args.branch or "gh-pages", args.books, root, configs)
    except HlmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
