"""Benchmark of the book build (chapter execution + rendering) through snakemake.

    .venv/bin/python bench/book.py                 # synthetic 12-chapter book in bench/out/book
    .venv/bin/python bench/book.py --project       # the real book (_quarto.yml), DATASET=hsb40
    .venv/bin/python bench/book.py --chapters 20   # a bigger synthetic book
    .venv/bin/python bench/book.py --project --root /tmp/copy   # a copy of the project

Three timings, each a full `snakemake --cores 2` invocation:
  cold      every chapter executed and the book rendered (HTML + PDF)
            (--project: `--forcerun chapter book`, upstream fits/figures already built)
  no-op     nothing to do
  edit      one chapter's prose edited: that chapter re-executed, the book re-rendered
Targets (2 cores): cold < 30 s, edit < 10 s, no-op < 2 s.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "book"

COMMON = """\
import os
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

DATASET = os.environ["HLM_DATASET"]
rng = np.random.default_rng(1)
"""

CHAPTER = """\
# Chapter {i}: synthetic models {{#sec-ch{i}}}

```{{python}}
#| include: false
from _common import *
df = pd.DataFrame({{"school": np.repeat(np.arange(40), 25), "x": rng.normal(size=1000)}})
df["y"] = 12 + 2 * df["x"] + rng.normal(size=1000)
n = len(df)
```

This chapter uses `{{python}} n` students of the `{{python}} DATASET` data. {prose}

## Data {{#sec-ch{i}-data}}

{prose} See @fig-ch{i}-scatter and @tbl-ch{i}-means, and @eq-ch{i}-model; the previous
chapter is @sec-ch{prev}.

```{{python}}
#| label: fig-ch{i}-scatter
#| fig-cap: "Scatter plot of chapter {i}"
#| echo: false
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(df["x"], df["y"], s=4, alpha=0.5)
ax.set_xlabel("x"); ax.set_ylabel("y")
plt.show()
```

```{{python}}
#| label: tbl-ch{i}-means
#| tbl-cap: "School means, chapter {i}"
df.groupby("school")[["x", "y"]].mean().head(8)
```

$$
y_{{ij}} = \\beta_0 + \\beta_1 x_{{ij}} + u_j + \\varepsilon_{{ij}}, \\qquad u_j \\sim N(0, \\tau^2)
$$ {{#eq-ch{i}-model}}

::: {{.callout-note}}
## About chapter {i}
{prose}
:::

## Fit {{#sec-ch{i}-fit}}

{prose}

```{{python}}
beta = np.polyfit(df["x"], df["y"], 1)
print(beta.round(3))
```

```{{python}}
#| label: fig-ch{i}-hist
#| fig-cap: "Histogram, chapter {i}"
#| echo: false
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(df["y"], bins=30)
plt.show()
```

The slope is `{{python}} f"{{beta[0]:.2f}}"` (@fig-ch{i}-hist, @sec-ch{i}-data). {prose}
"""

PROSE = ("Mixed models separate the variation within clusters from the variation between "
         "clusters, and the estimates borrow strength across schools. ") * 6

SNAKEFILE = """\
import sys
PY = sys.executable
DATASET = config.get("dataset", "bench")
TO_LOG = " 2> {{log}}"
def hlm_cmd(cmd):
    return f"{{PY}} -m hlm {{cmd}}"
include: "{rules}"
rule all:
    input: book_outputs(DATASET)
"""


def synthetic(n: int) -> Path:
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "report").mkdir(parents=True)
    (OUT / "report" / "_common.py").write_text(COMMON)
    (OUT / "report" / "index.qmd").write_text(
        "# Preface {.unnumbered}\n\nA synthetic book of `{python} %d` chapters.\n" % n)
    for i in range(1, n + 1):
        (OUT / "report" / f"ch{i}.qmd").write_text(
            CHAPTER.format(i=i, prev=max(1, i - 1), prose=PROSE))
    import yaml

    (OUT / "_quarto.yml").write_text(yaml.safe_dump({
        "project": {"type": "book", "output-dir": "_book"},
        "book": {
            "title": "Benchmark book",
            "output-file": "bench-book",
            "chapters": ["report/index.qmd",
                         {"part": "Synthetic chapters",
                          "chapters": [f"report/ch{i}.qmd" for i in range(1, n + 1)]}],
        },
        "number-sections": True,
    }, sort_keys=False))
    (OUT / "Snakefile").write_text(SNAKEFILE.format(rules=ROOT / "rules" / "book.smk"))
    return OUT


def snakemake(root: Path, *args: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of snakemake and all its jobs)."""
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [str(exe), "--cores", "2", "-q", "-d", str(root), *args]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"snakemake failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return dt, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", action="store_true", help="benchmark the real book")
    ap.add_argument("--dataset", default="hsb40")
    ap.add_argument("--root", default=str(ROOT), help="--project: the project directory (e.g. a copy)")
    ap.add_argument("--chapters", type=int, default=12)
    args = ap.parse_args()
    loadavg = os.getloadavg()
    if args.project:
        root, extra = Path(args.root).resolve(), ["--config", f"dataset={args.dataset}"]
        sys.path.insert(0, str(ROOT / "src"))
        from hlm.book.project import load

        book = load(root / "_quarto.yml")
        targets = [f"_book/{args.dataset}/index.html"]
        edit = root / book.chapters[min(1, len(book.chapters) - 1)].qmd
        cold = snakemake(root, *targets, *extra, "--forcerun", "chapter", "book")
    else:
        root = synthetic(args.chapters)
        extra, targets = [], []
        edit = root / "report" / "ch3.qmd"
        cold = snakemake(root)
    noop = snakemake(root, *targets, *extra)
    original = edit.read_text()
    try:
        # a prose edit: the first paragraph after the title gets one more sentence
        lines = original.split("\n")
        in_code, k = False, None
        start = 0
        if lines and lines[0].strip() == "---":  # skip the front matter
            start = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")) + 1
        for i, ln in enumerate(lines):
            if i < start:
                continue
            if ln.startswith(("```", "~~~")):
                in_code = not in_code
            elif not in_code and ln.strip() and not ln.startswith(("#", "-", ":", "|", "$", "<", "!")):
                k = i
                break
        lines[k] = lines[k] + " An edited sentence."
        edit.write_text("\n".join(lines))
        edited = snakemake(root, *targets, *extra)
    finally:
        edit.write_text(original)
    print(f"book: {root}  (load average before: {loadavg[0]:.1f}, after: {os.getloadavg()[0]:.1f})")
    print("                               wall      CPU (all processes)")
    print(f"cold build (execute + render): {cold[0]:6.1f} s  {cold[1]:6.1f} s   (target < 30 s)")
    print(f"no-op rebuild:                 {noop[0]:6.1f} s  {noop[1]:6.1f} s   (target <  2 s)")
    print(f"one chapter's prose edited:    {edited[0]:6.1f} s  {edited[1]:6.1f} s   (target < 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
