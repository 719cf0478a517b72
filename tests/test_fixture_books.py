"""The fixture matrix: datasets the notes never saw each build the whole book (HTML and
PDF), or stop before any job with a clear error where the data cannot carry it.

Each case (tests/fixtures/matrix.py) is generated into a copy of the project, and
Snakemake runs there as a user would run `make book CONFIG=<case>.yaml`; a case's book is
built once per test run and shared with tests/test_truth.py (tests/fixtures/books.py).
Every built page is scanned for Python tracebacks and for nan, inf or None standing as
values; the degenerate cases are checked to be what they claim (a variance estimated at 0,
x constant within clusters, cluster means of x spanning hundredths).
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

import numpy as np
import pandas as pd

from tests.fixtures.books import case_book
from tests.fixtures.matrix import CASES, make_case
from tests.fixtures.project import copy_project, snakemake

pytestmark = pytest.mark.slow

CODE = re.compile(r"<(pre|code|script|style)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")
BAD_VALUE = re.compile(r"(?<![\w.\-])(nan|NaN|-?inf|None(?! of\b))(?![\w\-])")  # "None of the 200": a word


def page_problems(page: str) -> list[str]:
    """Tracebacks anywhere; nan/inf/None as words of the prose (code blocks excluded)."""
    problems = [f"traceback: {m.group(0)[:80]}" for m in re.finditer(r"Traceback \(most recent call last\)", page)]
    text = html.unescape(TAG.sub(" ", CODE.sub(" ", page)))
    for m in BAD_VALUE.finditer(text):
        problems.append(f"{m.group(1)!r} in: ...{text[max(0, m.start() - 60):m.end() + 40]!r}...")
    return problems


def test_page_scan_finds_values_but_not_code():
    assert page_problems("<p>the slope is nan here</p>")
    assert page_problems("<p>SE inf.</p>") and page_problems("<p>p = None</p>")
    assert not page_problems("<p>None of the 200 replicates reached it.</p>")
    assert not page_problems("<pre><code>x = None</code></pre><p>information, infinite, nano</p>")
    assert page_problems("<pre>Traceback (most recent call last):</pre>")


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.expect == "builds"])
def test_case_builds_the_book(name, tmp_path_factory):
    work = case_book(tmp_path_factory, name)    # shared with tests/test_truth.py
    log = (work / "snakemake.log").read_text(encoding="utf-8")
    book = work / "_book" / name
    assert (book / "index.html").exists()
    pdf = next(book.glob("*.pdf"))
    assert pdf.stat().st_size > 10_000
    problems = {}
    for page in sorted(book.glob("*.html")):
        found = page_problems(page.read_text(encoding="utf-8"))
        if found:
            problems[page.name] = found[:5]
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)
    # every model is either usable or explained, and the build says which were not
    from hlm.fitstatus import status_of
    fits = {p.stem: json.loads(p.read_text()) for p in (work / "data" / "fits" / name).glob("*.json")}
    bad = [m for m, rec in fits.items() if rec.get("kind") in ("ols", "lmm") and status_of(rec).problem]
    own = (book / "appendix-own-data.html").read_text(encoding="utf-8")
    for m in bad:
        assert f"<code>{m}</code>" in own, f"model {m} is not in the list of models with problems"
        assert m in log
    if name == "balanced":  # the contextual models cannot be identified on a balanced design
        assert {"ctx_cwg", "ctx_raw", "ctx_w"} <= set(bad)
        chapter = (book / "more-complex-models.html").read_text(encoding="utf-8")
        assert "every child is observed at the same values of age" in html.unescape(chapter)
    # the degenerate cases are what they say they are
    G = {m: np.array(rec["G"], dtype=float) for m, rec in fits.items() if rec.get("kind") == "lmm" and "G" in rec}
    if name == "zero_intercept_var":
        assert G["oneway"][0, 0] == 0 and G["means_outcomes"][0, 0] == 0
    if name == "zero_slope_var":
        for m in ("random_coef", "ints_slopes", "parallel", "ctx_cwg", "ctx_raw", "ctx_w"):
            assert G[m][1, 1] < 1e-3 * G[m][0, 0], (m, G[m])     # 0 at the printed precision
        assert G["ctx_cwg"][1, 1] < 1e-8
    if name in ("x_within_constant", "x_nearly_balanced"):
        students = pd.read_parquet(work / "data" / "processed" / name / "students.parquet")
        means = students.groupby("cluster")["x"].agg(["mean", "std"])
        if name == "x_within_constant":
            assert (means["std"].fillna(0) == 0).all()
        else:
            assert 0 < means["mean"].max() - means["mean"].min() < 0.05


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.expect == "error"])
def test_case_stops_before_any_job(name, tmp_path):
    work = copy_project(tmp_path)
    case = make_case(name, work / "mydata")
    proc = snakemake(work, "--configfile", str(case["config"]), check=False)
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert CASES[name].error in err and "error:" in err
    assert "rule merge" not in err and not (work / "data" / "processed").exists()
