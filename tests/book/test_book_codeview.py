"""hlm.book.codeview: echoed code shows the names a chapter uses as this build's values."""
from __future__ import annotations

from pathlib import Path

from hlm.book import ChapterJob
from hlm.book.codeview import shown_code
from hlm.book.execute import execute_chapter
from book_helpers import write_project

NAMES = {"P.x": "SES", "P.y": "MathAch", "P.cluster": "School", "P.cvar_x": "cvar_SES",
         "P.cluster_label": "school", "P.w_reference": "Catholic", "P.n": 3}


def test_attributes_become_literals():
    assert shown_code('s[[P.x, P.cvar_x]].groupby(s[P.cluster])', NAMES) == \
        's[["SES", "cvar_SES"]].groupby(s["School"])'
    assert shown_code("k = P.n + 1", NAMES) == "k = 3 + 1"


def test_fstrings_made_only_of_names_become_plain_strings():
    code = 'tab = d[[f"mean_{P.x}", f"mean_{P.y}"]]\nlabel = f"{P.cluster}: {k}"'
    assert shown_code(code, NAMES) == 'tab = d[["mean_SES", "mean_MathAch"]]\nlabel = f"School: {k}"'
    assert shown_code('print(f"max {(a - s[P.cvar_x]).abs().max()}")', NAMES) == \
        "print(f\"max {(a - s['cvar_SES']).abs().max()}\")"


def test_other_code_is_untouched():
    code = 'y = P.roles["x"].column  # é\nz = Q.x\nw = f"{P.x!r}"[0]'
    assert shown_code(code, NAMES).splitlines()[:2] == ['y = P.roles["x"].column  # é', "z = Q.x"]
    assert shown_code("def broken(:\n    P.x", NAMES) == "def broken(:\n    P.x"  # not Python: as written
    assert shown_code("P.x", {}) == "P.x"


def test_executor_asks_the_kernel_for_the_names(tmp_path):
    """Before echoed cells, until the job's callable names any (here after the set-up cell)."""
    root = write_project(tmp_path, {"c": (
        "# C {#sec-c}\n\n```{python}\nclass P:\n    x = 'SES'\nready = True\n```\n\n"
        "```{python}\nprint(P.x, f\"mean_{P.x}\")\n```\n")})
    setup = ("import json\nready = False\n"
             "def names():\n    return json.dumps({'P.x': 'SES'} if ready else {})\n")
    job = ChapterJob(Path("report/c.qmd"), Path("out/c.md"), root, setup_code=setup, shown_names="names")
    md = execute_chapter(job).read_text()
    assert "class P:\n    x = 'SES'" in md  # before the names are known: as written
    assert 'print("SES", "mean_SES")' in md and "SES mean_SES" in md  # the code still ran as written
