"""hlm.book.execute: a .qmd chapter run in a Jupyter kernel -> Quarto markdown.

Most tests go through hlm.chapterjob (the project's adapter: the kernel's HLM_*
environment and the `if-fitted` guard); the `ChapterJob` tests use the renderer alone."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hlm.book import BookError, ChapterJob
from hlm.book.execute import execute_chapter as execute_job
from hlm.book.tables import pipe_table
from hlm.chapterjob import execute_chapter, run
from book_helpers import write_project


# ------------------------------------------------------------------ the fixture book

def test_figure_cell_saved_as_svg_and_referenced_with_label(built_book):
    md = (built_book["build"] / "intro.md").read_text()
    assert "![A scatter plot](intro_files/fig-scatter.svg){#fig-scatter}" in md
    svg = built_book["build"] / "intro_files" / "fig-scatter.svg"
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "import matplotlib" not in md  # echo: false


def test_dataframe_as_pipe_table_with_caption(built_book):
    md = (built_book["build"] / "intro.md").read_text()
    assert "| school | mean   |\n|:-------|-------:|\n| a      | 12.500 |" in md
    assert "\n: A summary table {#tbl-summary}\n" in md
    assert '```python\nimport pandas as pd\n' in md  # echoed by default


def test_inline_values_and_hidden_cells(built_book):
    intro = (built_book["build"] / "intro.md").read_text()
    assert "This book uses the demo data with 40 schools." in intro
    assert "n_schools = 40" not in intro  # include: false
    assert "`{python}" not in intro
    index = (built_book["build"] / "index.md").read_text()
    assert "The answer is 42." in index


def test_asis_image_copied_into_chapter_assets(built_book):
    md = (built_book["build"] / "intro.md").read_text()
    assert "![A prebuilt figure for demo](intro_files/demo_plot.svg){#fig-prebuilt}" in md
    copied = built_book["build"] / "intro_files" / "demo_plot.svg"
    assert copied.read_bytes() == (built_book["root"] / "figures/demo/demo_plot.svg").read_bytes()


def test_front_matter_hlm_key_stripped(built_book):
    md = (built_book["build"] / "intro.md").read_text()
    front = md.split("---")[1]
    assert "hlm:" not in front and "figures:" not in front
    assert "hlm-source: report/intro.qmd" in front


def test_text_output_as_code_block(built_book):
    md = (built_book["build"] / "models.md").read_text()
    assert "```python\nx = 2 + 2\nprint(x)\n```\n\n```{.cell-output .cell-output-stdout}\n4\n```" in md


# ------------------------------------------------------------------ options, environment

FEATURES = '''
---
title: ignored by the book
execute:
  warning: true
---
# Features {#sec-features}

```{python}
#| echo: false
import os, sys, warnings
from _common import *
print(os.environ["HLM_DATASET"], os.environ["HLM_CHAPTER"], os.environ["MPLBACKEND"])
print(os.getcwd() == os.path.join(os.environ["HLM_ROOT"], "report"), COMMON)
print(os.environ["HLM_CONFIGFILES"].endswith("extra.yaml"))
```

```{python}
#| eval: false
this would fail if it ran
```

```{python}
#| output: false
print("hidden output")
```

```{python}
#| warning: false
warnings.warn("quiet warning")
print("after quiet")
```

```{python}
#| echo: false
warnings.warn("loud warning")
```

```{python}
#| echo: false
#| output: asis
print("**bold** from asis")
```

```{python}
#| echo: false
import pandas as pd
pd.DataFrame({"x": [1.5, 2.25]}, index=pd.Index(["a", "b"], name="key"))
```

The value is `{python} round(2 / 3, 3)` and `{python} "text"`.
'''


def test_cell_options_and_kernel_environment(tmp_path):
    root = write_project(tmp_path, {"index": "# Preface {.unnumbered}\n", "features": FEATURES},
                         common="COMMON = 'common-ok'\n")
    (root / "extra.yaml").write_text("dataset: d1\n")
    out = execute_chapter("report/features.qmd", "build/d1/book/features.md", "d1", root=root,
                          configfiles=["extra.yaml"])
    md = out.read_text()
    assert "d1 report/features.qmd agg" in md
    assert "True common-ok" in md and "\nTrue\n" in md
    assert "```python\nthis would fail if it ran\n```" in md  # eval: false: code, no output
    assert md.count("hidden output") == 1 and 'print("hidden output")' in md  # output: false
    assert "UserWarning: quiet warning" not in md and "\nafter quiet\n" in md  # warning: false
    assert "UserWarning: loud warning" in md and "cell-output-stderr" in md
    assert "\n**bold** from asis\n" in md
    assert "| key | x      |" in md  # named index shown
    assert "The value is 0.667 and text." in md
    assert "execute:" not in md and "title: ignored by the book" in md


def test_cli_run(tmp_path, monkeypatch):
    root = write_project(tmp_path, {"index": "# Preface {.unnumbered}\n\nOne `{python} 1 + 1`.\n"})
    monkeypatch.chdir(root)
    assert run(["--dataset", "d", "--qmd", "index.qmd", "--out", "build/d/book/index.md"]) == 0
    assert "One 2." in (root / "build/d/book/index.md").read_text()


# ------------------------------------------------------------------ errors

RAISES = '''
# Bad {#sec-bad}

Some prose.

```{python}
x = 1
y = x / 0
```
'''


def test_raising_cell_fails_with_chapter_line_and_traceback(tmp_path):
    root = write_project(tmp_path, {"bad": RAISES})
    out = root / "build/d/book/bad.md"
    out.parent.mkdir(parents=True)
    out.write_text("stale output of an earlier run")
    with pytest.raises(BookError) as err:
        execute_chapter("report/bad.qmd", out, "d", root=root)
    msg = str(err.value)
    assert msg.startswith("report/bad.qmd:5: cell raised ZeroDivisionError")
    assert "error at line 7" in msg
    assert "y = x / 0" in msg and "Traceback" in msg or "ZeroDivisionError" in msg.splitlines()[-1]
    assert not out.exists()
    assert not (root / "build/d/book/bad_files").exists()
    assert [p.name for p in out.parent.iterdir()] == []


HANGS = "# Hang {#sec-hang}\n\n```{python}\nimport time\nwhile True:\n    time.sleep(0.05)\n```\n"
DIES = "# Die {#sec-die}\n\n```{python}\nimport os\nos._exit(3)\n```\n"


@pytest.mark.parametrize("text, message", [(HANGS, "CellTimeoutError"), (DIES, "DeadKernelError")])
def test_hung_or_dead_kernel_fails_the_job(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("HLM_CELL_TIMEOUT", "1")
    root = write_project(tmp_path, {"bad": text})
    with pytest.raises(BookError, match=rf"report/bad.qmd:3: cell could not run: {message}"):
        execute_chapter("report/bad.qmd", root / "out/bad.md", "d", root=root)
    assert not (root / "out/bad.md").exists()


def test_raising_inline_expression(tmp_path):
    text = "# Bad {#sec-bad}\n\nText `{python} 1 + 1`\nvalue `{python} undefined_name`, `{python} 3`.\n"
    root = write_project(tmp_path, {"bad": text})
    with pytest.raises(BookError, match=r"report/bad.qmd:4: inline expression `undefined_name` raised NameError"):
        execute_chapter("report/bad.qmd", root / "out/bad.md", "d", root=root)
    assert not (root / "out/bad.md").exists()


def test_inline_values_as_quarto_inserts_them(tmp_path):
    """Quarto's Jupyter engine (jupyter-inline.ts): a str is literal text (its Markdown
    characters escaped), a value with a text/markdown form is Markdown, a number its repr."""
    text = ("# V {#sec-v}\n\n```{python}\n#| include: false\nclass Md(str):\n"
            "    def _repr_markdown_(self):\n        return str(self)\n```\n\n"
            "A `{python} 'x_1 *not* [a](b) 2.5'`, B `{python} Md('*yes*')`, C `{python} 7`, "
            "D `{python} 0.5`, E `{python} None`.\n")
    root = write_project(tmp_path, {"v": text})
    execute_chapter("report/v.qmd", root / "out/v.md", "d", root=root)
    md = (root / "out/v.md").read_text()
    assert r"A x\_1 \*not\* \[a\]\(b\) 2\.5, B *yes*, C 7, D 0.5, E None." in md


@pytest.mark.parametrize("expr, message", [
    ("np.int64(3)", r"returns a numpy.int64 \(np.int64\(3\)\), which Quarto prints as its repr"),
    ("'two\\nlines'", r"returns text with a line break"),
    ("'a\\xa0b'", r"unprintable character \(such as a non-breaking space\)"),
])
def test_inline_values_quarto_would_print_as_repr_are_errors(tmp_path, expr, message):
    text = f"# V {{#sec-v}}\n\n```{{python}}\nimport numpy as np\n```\n\nValue `{{python}} {expr}`.\n"
    root = write_project(tmp_path, {"v": text})
    with pytest.raises(BookError, match=r"report/v.qmd:7: inline expression .*" + message):
        execute_chapter("report/v.qmd", root / "out/v.md", "d", root=root)
    assert not (root / "out/v.md").exists()


def test_inline_syntax_error(tmp_path):
    root = write_project(tmp_path, {"bad": "# Bad {#sec-bad}\n\nOK `{python} 1`.\n\nBad `{python} 1 if 2`.\n"})
    with pytest.raises(BookError, match=r"report/bad.qmd:5: inline expression `1 if 2` is not valid Python"):
        execute_chapter("report/bad.qmd", root / "out/bad.md", "d", root=root)


@pytest.mark.parametrize("body, message", [
    ("# X {#sec-x}\n\n```{r}\n1\n```\n", r"report/x.qmd:3: `\{r\}` cells are not supported"),
    ("# X {#sec-x}\n\ntext\n\n{{< include other.qmd >}}\n", r"report/x.qmd:5: Quarto shortcodes"),
    ("# X {#sec-x}\n\n```{python}\n#| fig-width: 4\n1\n```\n", r"report/x.qmd:3: unsupported cell option 'fig-width'"),
    ("# X {#sec-x}\n\n```{python}\n#| output: html\n1\n```\n", r"report/x.qmd:3: cell option `output` must be"),
    ("# X {#sec-x}\n\nsee `{r} 1 + 1`\n", r"report/x.qmd:3: inline `\{r\}` code is not supported"),
    ("# X {#sec-x}\n\n```{python echo=false}\n1\n```\n", r"report/x.qmd:3: put cell options in `#\|` lines"),
    ("# X {#sec-x}\n\n```{python}\n1\n", r"report/x.qmd:3: code cell is never closed"),
    ("# X {#sec-x}\n\n![missing](nowhere.svg)\n", r"report/x.qmd:3: image 'nowhere.svg' not found"),
])
def test_unsupported_syntax_names_file_and_line(tmp_path, body, message):
    root = write_project(tmp_path, {"x": body})
    with pytest.raises(BookError, match=message):
        execute_chapter("report/x.qmd", root / "out/x.md", "d", root=root)
    assert not (root / "out/x.md").exists()


def test_code_inside_plain_code_blocks_is_not_executed(tmp_path):
    body = "# X {#sec-x}\n\n````markdown\n```{python}\n1/0\n```\n`{python} 1/0`\n````\n"
    root = write_project(tmp_path, {"x": body})
    md = execute_chapter("report/x.qmd", root / "out/x.md", "d", root=root).read_text()
    assert "```{python}\n1/0\n```\n`{python} 1/0`" in md


# ------------------------------------------------------------------ pipe tables

def test_pipe_table_formats():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"model": ["a", "b|c"], "est": [1.23456, -0.0012], "n": [1, 2],
                       "p": [0.5, float("nan")]})
    assert pipe_table(df).splitlines() == [
        "| model | est     | n   | p      |",
        "|:------|--------:|----:|-------:|",
        "| a     | 1.2346  | 1   | 0.5000 |",
        "| b\\|c  | -0.0012 | 2   |        |",
    ]
    # the default RangeIndex is not shown; a non-default one is
    assert pipe_table(pd.DataFrame({"x": [1]}, index=["r"])).splitlines()[0] == "|     | x   |"


# ------------------------------------------------------------------ if-fitted blocks

GUARDED = '''
---
hlm:
  fits: [good, bad]
---
# Guarded {#sec-guarded}

Before.

::: {.if-fitted models="good"}
Good value `{python} 1 + 1`.

::: {.callout-note}
## A callout inside
Still runs.
:::
:::

::: {.if-fitted models="bad good"}
```{python}
#| label: tbl-bad
#| tbl-cap: "never made"
raise RuntimeError("must not run")
```

Bad `{python} 1 / 0` and ![x](y.svg){#fig-bad}.
:::

After.
'''


def _fit_records(root: Path, dataset: str) -> None:
    import json
    good = {"model": "good", "label": "A good model", "kind": "lmm"}
    bad = {"model": "bad", "label": "A bad model", "kind": "lmm", "error": "ModelError: collinear",
           "status": {"state": "not_fitted", "why": "the mean of x is the same in every cluster",
                      "remedy": "use clusters whose mean x differ"}}
    try:  # fit records are validated when read: complete the fakes to valid records
        from tests.records_fakes import minimal
    except ImportError:  # a version without record schemas
        pass
    else:
        good, bad = minimal("lmm", **good), minimal("failure", **bad)
    fits = root / "data" / "fits" / dataset
    fits.mkdir(parents=True)
    (fits / "good.json").write_text(json.dumps(good))
    (fits / "bad.json").write_text(json.dumps(bad))


def test_if_fitted_runs_or_explains_and_records_what_it_left_out(tmp_path):
    import shutil
    root = write_project(tmp_path, {"guarded": GUARDED})
    (root / "config").mkdir()
    for name in ("config.yaml", "schema.json"):
        shutil.copy(Path(__file__).resolve().parents[2] / "config" / name, root / "config")
    _fit_records(root, "hsb40")
    md = execute_chapter("report/guarded.qmd", "build/hsb40/book/guarded.md", "hsb40", root=root).read_text()
    assert "Good value 2." in md and "Still runs." in md and "## A callout inside" in md
    assert "must not run" not in md and "Bad" not in md
    assert "::: {.callout-warning}" in md and "*A bad model* (`bad`) could not be fitted" in md
    assert "the mean of x is the same in every cluster." in md
    assert "What you could change: use clusters whose mean x differ." in md
    assert "Before." in md and "After." in md and "if-fitted" not in md
    front = md.split("---")[1]
    assert "hlm-skipped:" in front and "- tbl-bad" in front and "- fig-bad" in front


def test_if_fitted_never_closed_is_an_error(tmp_path):
    root = write_project(tmp_path, {"open": '# Open {#sec-open}\n\n::: {.if-fitted models="a"}\n\nText.\n'})
    with pytest.raises(BookError, match=r"open.qmd:3: `if-fitted` block is never closed"):
        execute_chapter("report/open.qmd", "build/d/book/open.md", "d", root=root)


# ------------------------------------------------------------------ the renderer alone

PLAIN = '''
# Plain {#sec-plain}

```{python}
#| echo: false
import os
print(os.environ["BOOK_GREETING"], GREETING, "HLM_DATASET" in os.environ)
```

::: {.if-fitted models="yes"}
Shown `{python} 1 + 1`.
:::

::: {.if-fitted models="no"}
Hidden `{python} 1 / 0` and ![x](y.svg){#fig-hidden}.
:::
'''

DECIDE = '''GREETING = "from setup"
def decide(models):
    import json
    ok = models != ["no"]
    return json.dumps({"run": ok, "markdown": "" if ok else "Not shown: " + ", ".join(models)})'''


def test_chapter_job_environment_setup_code_and_guard(tmp_path, monkeypatch):
    """What the job gives is all the kernel gets: no HLM_* variables, no hlm guard."""
    monkeypatch.delenv("HLM_DATASET", raising=False)
    root = write_project(tmp_path, {"plain": PLAIN})
    job = ChapterJob(Path("report/plain.qmd"), Path("out/plain.md"), root,
                     env={"BOOK_GREETING": "hello"}, setup_code=DECIDE, guard="decide")
    md = execute_job(job).read_text()
    assert "hello from setup False" in md
    assert "Shown 2." in md and "Hidden" not in md and "\nNot shown: no\n" in md
    front = md.split("---")[1]
    assert "hlm-source: report/plain.qmd" in front and "- fig-hidden" in front


def test_if_fitted_without_a_guard_is_an_error(tmp_path):
    root = write_project(tmp_path, {"g": '# G {#sec-g}\n\n::: {.if-fitted models="a"}\nText.\n:::\n'})
    with pytest.raises(BookError, match=r"report/g.qmd:3: `if-fitted` blocks need a guard"):
        execute_job(ChapterJob(Path("report/g.qmd"), Path("out/g.md"), root))
    assert not (root / "out/g.md").exists()


def test_adapter_checks_config_files(tmp_path):
    root = write_project(tmp_path, {"index": "# Preface {.unnumbered}\n"})
    with pytest.raises(BookError, match=r"config file .*nope.yaml not found"):
        execute_chapter("index.qmd", root / "out/index.md", "d", root=root, configfiles=["nope.yaml"])


def test_cli_prints_book_errors_cleanly(tmp_path, monkeypatch, capsys):
    from hlm.cli import main

    root = write_project(tmp_path, {"bad": "# Bad {#sec-bad}\n\n```{r}\n1\n```\n"})
    monkeypatch.chdir(root)
    assert main(["chapter", "--dataset", "d", "--qmd", "report/bad.qmd", "--out", "build/d/book/bad.md"]) == 1
    err = capsys.readouterr().err
    assert "error: report/bad.qmd:3: `{r}` cells are not supported" in err and "Traceback" not in err


@pytest.mark.parametrize("expr", ["'hsb_students.csv'", "'(Intercept)'", "Md('*a*')"])
def test_inline_value_inside_a_code_span_is_an_error(tmp_path, expr):
    """`` ``{python} e`` `` shows the value literally: a str's Markdown escapes (hsb\\_students\\.csv,
    \\(Intercept\\)) or a Markdown value's backticks would show on the page."""
    text = ("# V {#sec-v}\n\n```{python}\n#| include: false\nclass Md(str):\n"
            "    def _repr_markdown_(self):\n        return str(self)\n```\n\n"
            f"The file ``{{python}} {expr}`` is read.\n")
    root = write_project(tmp_path, {"v": text})
    with pytest.raises(BookError, match=r"report/v.qmd:10: inline expression .* sits inside a code span"):
        execute_chapter("report/v.qmd", root / "out/v.md", "d", root=root)


def test_adjacent_inline_values_are_not_a_code_span(tmp_path):
    text = "# V {#sec-v}\n\nA `{python} 'a'``{python} 'b'``{python} 'c'` and `{python} 'd'`.\n"
    root = write_project(tmp_path, {"v": text})
    execute_chapter("report/v.qmd", root / "out/v.md", "d", root=root)
    assert "A abc and d." in (root / "out/v.md").read_text()


def test_inline_text_escapes_only_markdown_characters():
    from hlm.book.execute import inline_markdown
    assert inline_markdown("text", "4 measurements, so (a-b)", "x", "e") == r"4 measurements, so \(a\-b\)"
