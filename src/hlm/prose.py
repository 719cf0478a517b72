"""The book's words for computed values: p-values, comparisons, verdicts, short lists.

Pure functions of numbers and text (no artifacts read), shared by the chapters
through ``report/_common.py``. Every word whose truth depends on the data comes from
here, so that it holds for any dataset (balanced, mirrored, huge):

- comparisons of two printed numbers: ``compare``, ``same`` (numbers that print the
  same *are* the same, in the text);
- direction and sign: ``change``, ``sign_word``;
- significance: ``sig``, ``which_sig``, ``evidence``;
- size: ``times``, ``closeness``;
- counts: ``count``, ``some_of``, ``span``;
- sums and differences: ``plus`` ("a − b", never "a + −b");
- quantities that are undefined on some designs: ``reduction`` (NaN for a zero base,
  with ``reduction_text`` saying why), and where a variable varies (``variation_words``);
- the dataset's words: ``possessive`` ("children's", never "children'").
"""
from __future__ import annotations

import math

import pandas as pd

from hlm.bookdata import Markdown, md, num, pipe_table, pval


def peq(p: float) -> str:
    """'= 0.0353' or '< 0.0001', to follow a 'p'."""
    text = pval(p)
    return text if text.startswith("<") else "= " + text


def sig(p: float, level: float = 0.05) -> str:
    """'significant' or 'not significant' at `level`."""
    return "significant" if p < level else "not significant"


def which_sig(p_level: float, p_slope: float, level: float = 0.05) -> str:
    """Which of the two differences (level, slope) is significant, in words."""
    a, b = p_level < level, p_slope < level
    if a and b:
        return "both differences are significant"
    if not a and not b:
        return "neither difference is significant"
    return ("only the difference in level is significant" if a
            else "only the difference in slope is significant")


def evidence(p: float, level: float = 0.05) -> str:
    """What a p-value says, in words: 'clear evidence', 'weak evidence' or 'no evidence'."""
    if not p == p:
        return "no test"
    if p < level:
        return "clear evidence"
    return "weak evidence" if p < 2 * level else "no evidence"


def times(r: float) -> str:
    """A ratio of standard errors in words ('about the same' when it prints as 1.0)."""
    if not r == r:
        return "not defined"
    return "about the same" if num(r, 1) == "1.0" else f"{num(r, 1)} times as large"


def _finite(*values) -> bool:
    return all(v is not None and isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def same(a: float, b: float, digits: int = 2) -> bool:
    """Whether two numbers print the same at `digits` decimals (and so must be called the same)."""
    return num(a, digits) == num(b, digits)


def compare(a: float, b: float, digits: int = 2, less: str = "smaller than", more: str = "larger than",
            equal: str = "the same as", magnitude: bool = False) -> str:
    """How `a` compares with `b` as printed: `less`, `more`, or `equal` when both print the same.

    With `magnitude`, the absolute values are compared (a larger effect, whatever its sign)."""
    if not _finite(a, b):
        return "not comparable with"
    if magnitude:
        a, b = abs(a), abs(b)
    if same(a, b, digits):
        return equal
    return less if a < b else more


def change(before: float, after: float, digits: int = 2, up: str = "rises", down: str = "drops",
           flat: str = "does not change") -> str:
    """The direction of a change from `before` to `after` as printed."""
    return compare(after, before, digits, less=down, more=up, equal=flat)


def sign_word(v: float, pos: str = "higher", neg: str = "lower", zero: str | None = None,
              digits: int = 2) -> str:
    """`pos` for a positive value, `neg` for a negative one; `zero` (when given) for one that
    prints as zero at `digits` decimals."""
    if zero is not None and num(abs(v), digits) == num(0.0, digits):
        return zero
    return pos if v > 0 else neg


def closeness(a: float, b: float, scale: float, digits: int = 2) -> str:
    """How far apart two estimates are, relative to `scale` (a standard error): 'the same'
    (as printed), 'close' (within one scale), 'some way apart' (within two) or 'far apart'."""
    if same(a, b, digits):
        return "the same"
    if not _finite(a, b, scale) or scale <= 0:
        return "different"
    d = abs(a - b) / scale
    return "close" if d < 1 else "some way apart" if d < 2 else "far apart"


def plus(a: float, b: float, digits: int = 2) -> str:
    """'a + b' or 'a − b' for a sum a + b (never 'a + −b')."""
    return f"{num(a, digits)} {'−' if b < 0 else '+'} {num(abs(b), digits)}"


def count(n: int, one: str, many: str, none: str | None = None) -> str:
    """'1 child', '27 children', '1,936 schools' (thousands separated); `none` for n = 0."""
    if n == 0 and none is not None:
        return none
    return f"{n:,} {one if n == 1 else many}"


def some_of(k: int, total: int, many: str) -> str:
    """k of a total, in words: 'all 27 children', 'none of the 27 children', '3 of the 27 children'."""
    if total == 0:
        return f"no {many}"
    if k == total:
        return f"all {total:,} {many}" if total > 2 else (f"both {many}" if total == 2 else f"the one {many}")
    if k == 0:
        return f"none of the {total:,} {many}"
    return f"{k:,} of the {total:,} {many}"


def span(lo: float, hi: float, digits: int = 0, between: str = "between {lo} and {hi}",
         equal: str = "{lo}") -> str:
    """A range in words: 'between 4 and 30', or just '4' when both ends print the same."""
    a, b = num(lo, digits), num(hi, digits)
    return (equal if a == b else between).format(lo=a, hi=b)


def reduction(before: float, after: float) -> float:
    """Proportional reduction, in percent; NaN when there is nothing to reduce (`before` is 0
    or not finite): see `reduction_text`."""
    if not _finite(before, after) or before <= 0:
        return float("nan")
    return 100 * (before - after) / before


def reduction_text(before: float, after: float, what: str, digits: int = 0) -> str:
    """'a reduction of 32%' (or 'an increase of 5%'); why there is none when `what` (e.g. 'the
    between-school variance') is estimated at 0 before."""
    r = reduction(before, after)
    if not r == r:
        return f"no proportional reduction: {what} is estimated at 0 in the first model, so there is nothing to reduce"
    if num(abs(r), digits) == num(0.0, digits):
        return "no change"
    return f"a reduction of {num(r, digits)}%" if r > 0 else f"an increase of {num(-r, digits)}%"


def verdict(p: float, clusters: str) -> str:
    """What a test of a random slope says, in words that hold for any number of clusters
    (`clusters`: the plural cluster label)."""
    if not p == p:
        return ""
    if p >= 0.1:
        return ("With a p-value this large, sampling error alone could produce the spread of the "
                "estimated slopes, so the test finds no clear evidence that the true slopes differ. "
                "That is not evidence that they are equal: a slope variance of moderate size can go "
                "undetected, the more easily the fewer the " + clusters + " and the fewer the "
                "observations in each.")
    if p >= 0.05:
        return ("The evidence that the true slopes differ is weak: the p-value is above the "
                "usual 5% threshold, but not by much.")
    return ("The spread of the estimated slopes is larger than sampling error alone would readily "
            "produce: the test finds clear evidence that the true slopes differ between " + clusters + ".")


def ordinal(k: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 21st, with thousands separators."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k:,}{suffix}"


def codes(cols) -> Markdown:
    """Column names as inline code, separated by commas."""
    return md(", ".join("`" + str(c) + "`" for c in cols))


def mark(ok) -> str:
    """A check mark or a cross."""
    return "✓" if ok else "✗"


def shown(value) -> str:
    """A compared value as the reproduction tables show it (10 significant digits)."""
    if value is None:
        return "missing"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def excerpt(text: str, cluster: str, keep: int = 3) -> str:
    """A long R-like summary with the per-cluster coefficient rows (names starting with the
    cluster column `cluster`) cut to `keep` of each kind (main effects, interactions)."""
    out, seen, skipping = [], {}, False
    for line in text.splitlines():
        name = line.split(" ")[0]
        if name.startswith(cluster) and name != cluster and len(line) > len(name):
            kind = ":" in name
            seen[kind] = seen.get(kind, 0) + 1
            if seen[kind] > keep:
                if not skipping:
                    out.append("   ...")
                skipping = True
                continue
        skipping = False
        out.append(line)
    return "\n".join(out)


def numbered_table(df: pd.DataFrame, caption: str, label: str) -> str:
    """A DataFrame as a Markdown pipe table with a numbered caption."""
    return f"{pipe_table(df)}\n: {caption} {{#{label}}}"


def variation_words(kind: str, label: str, cluster: str, clusters: str) -> str:
    """Where a variable varies, in words, and what that allows (`kind` from
    `hlm.levels.variation`: 'both', 'within', 'between' or 'none')."""
    if kind == "both":
        return (f"{label} varies both between and within {clusters}, so its effect within a {cluster} "
                f"and its effect between {clusters} can be told apart")
    if kind == "within":
        return (f"every {cluster} has the same mean {label}, so {label} varies only within {clusters} "
                f"and its effect between {clusters} cannot be estimated")
    if kind == "between":
        return (f"{label} is constant within each {cluster}: it varies only between {clusters}, so its "
                f"effect within a {cluster} cannot be estimated")
    return f"{label} takes a single value, so none of its effects can be estimated"


def possessive(word: str) -> str:
    """The possessive of a (plural) label: "schools'", "children's", "people's" (never "children'")."""
    return word + "'" if word.endswith("s") else word + "'s"
