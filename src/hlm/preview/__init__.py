"""`make preview` (`python -m hlm.preview`): rebuild the book as its sources change and
serve it, reloading the browser.

Serves `_book/<dataset>/` on http://127.0.0.1:PORT (the standard library's threading
HTTP server). Every HTML page is served with a small script added (not written into
the built files) that waits on `/__preview/status` for the build counter and reloads
the page when a newer build is served; a build that fails shows its error over the
page. The sources are polled for changes (mtimes): report/, src/, _quarto.yml,
index.qmd, config/, data/raw/ and the dataset's own files.

What a change costs:

- only prose of chapters changed (no code cell, inline expression, `if-fitted` block or
  front matter): the chapter's previous executed markdown is reused with the new prose
  (`reuse.reuse_executed`: exactly the executed markdown a run of the chapter would
  write, or None when that cannot be shown), and the pages are written by the book
  step's own functions, pandoc running again only for the pages whose content changed
  (`pages.PageRenderer`);
- anything else: the chapters are rebuilt through the DAG (`python -m hlm.build`, the
  chapter targets), then the pages as above.

The PDF is then rendered in the background by the book step (`python -m hlm book`, into
a scratch folder: its HTML must equal the preview's, which checks the preview against
the book step on every edit) and moved into place; an edit cancels it. The page renderer
is checked against the built book when the preview starts; if it differs, or if the
renderer's code is edited while the preview runs, every edit goes through the whole
`python -m hlm.build` instead.

The modules: `reuse` (prose-only edits), `pages` (the HTML pages), `builder` (what an
edit rebuilds, the PDF in the background, the build lock), `watch` (the sources polled,
and the loop that rebuilds), `server` (serving with reloads), `__main__` (the command).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from hlm.errors import HlmError


class PreviewError(HlmError):
    """A rebuild failed (the message is shown in the browser) or the preview cannot start."""


def log(message: str) -> None:
    print(f"[preview {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rel(path: Path, root: Path) -> str:
    """`path` as the log names it: relative to the project when inside it."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
