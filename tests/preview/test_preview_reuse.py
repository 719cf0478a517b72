"""hlm.preview.reuse: a prose edit's executed markdown, made from the previous one, is
what a run of the chapter writes; anything but prose is left to a run."""
from __future__ import annotations

from pathlib import Path

import pytest

from hlm.preview.reuse import reuse_executed

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
