"""The book's words for computed values: p-values, comparisons, verdicts, short lists.

Pure functions of numbers and text (no artifacts read), shared by the chapters
through ``report/_common.py``.
"""
from __future__ import annotations

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


def times(r: float) -> str:
    """A ratio of standard errors in words."""
    return "about the same" if abs(r - 1) < 0.05 else f"{num(r, 1)} times as large"


def sign_word(v: float, pos: str = "higher", neg: str = "lower") -> str:
    """`pos` for a positive value, else `neg`."""
    return pos if v > 0 else neg


def reduction(before: float, after: float) -> float:
    """Proportional reduction, in percent."""
    return 100 * (before - after) / before


def verdict(p: float, clusters: str) -> str:
    """What a test of a random slope says, in words (`clusters`: the plural cluster label)."""
    if not p == p:
        return ""
    if p >= 0.1:
        return ("With a p-value this large, sampling error alone could produce the spread of the "
                "estimated slopes, so the test finds no clear evidence that the true slopes differ. "
                "That is not evidence that they are equal: with this many " + clusters + ", a slope "
                "variance of moderate size would often go undetected.")
    if p >= 0.05:
        return ("The evidence that the true slopes differ is weak: the p-value is above the "
                "usual 5% threshold, but not by much.")
    return ("The spread of the estimated slopes is larger than sampling error alone would "
            "produce: the true slopes differ between " + clusters + ".")


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
