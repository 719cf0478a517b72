"""R-like printing: numbers formatted as R formats a column, aligned tables,
coefficient tables with significance stars, and summary.lm's layout.

Shared by the OLS summaries (hlm.classic) and the engine's nlme-style summary
(hlm.lmm.summary), so the book's printed output reads like the notes' R output.
"""
from __future__ import annotations

import numpy as np


def _decimals(values, digits: int) -> int:
    """Decimals R's ``format(x, digits=)`` uses for a vector: `digits` significant digits for
    the element that needs the most, trailing zeros dropped."""
    best = 0
    for v in values:
        v = float(v)
        if not np.isfinite(v) or v == 0:
            continue
        dec = max(0, digits - 1 - int(np.floor(np.log10(abs(v)))))
        target = round(v, dec)
        while dec > 0 and round(v, dec - 1) == target:
            dec -= 1
        best = max(best, dec)
    return min(best, 15)


def fmt_vec(values, digits: int) -> list[str]:
    """Format numbers with a common number of decimals, as R formats a column."""
    dec = _decimals(values, digits)
    return ["NA" if v is None or not np.isfinite(v) else f"{float(v):.{dec}f}" for v in values]


def fmt_sig(v: float, digits: int) -> str:
    """``format(signif(v, digits))``: 6.344, 0.1404, 107.4."""
    if v is None or not np.isfinite(v):
        return "NA"
    if abs(v) >= 10 ** digits:
        return f"{v:.0f}"
    return f"{v:.{digits}g}" if "e" not in f"{v:.{digits}g}" else f"{v:.{digits - 1}e}"


def fmt_p(p: float, digits: int = 3, footer: bool = False) -> str:
    """R's format.pval: ``< 2e-16`` below machine epsilon, scientific below 1e-3."""
    if p is None or not np.isfinite(p):
        return "NA"
    if p < 2.2e-16:
        return "< 2.2e-16" if footer else "< 2e-16"
    if p < 1e-4:  # R prefers fixed notation while it is no wider than scientific
        return f"{p:.{digits - 1}e}"
    return fmt_vec([p], digits)[0]


def _stars(p: float) -> str:
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""


def align(header: list[str], body: list[list[str]], left: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    out = []
    for row in [header, *body]:
        cells = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        out.append(" ".join(cells).rstrip())
    return out


def coef_table(rows: list[tuple]) -> str:
    """printCoefmat: (name, estimate, se, t, p) rows, with significance stars."""
    est_se = fmt_vec([r[1] for r in rows] + [r[2] for r in rows], 4)
    k = len(rows)
    tvals = fmt_vec([round(float(r[3]), 3) for r in rows], 4)
    body = [[r[0], est_se[i], est_se[k + i], tvals[i], fmt_p(r[4]), _stars(r[4])] for i, r in enumerate(rows)]
    lines = align(["", "Estimate", "Std. Error", "t value", "Pr(>|t|)", ""], body)
    lines += ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]
    return "\n".join(lines)


def zap_rounding_error(values, rel: float = 1e-10):
    """Values that are zero up to rounding error (relative to the largest) set to 0, so
    that a median residual of 1e-14 prints as 0 (R would print 0 there too)."""
    values = np.asarray(values, dtype=float)
    mx = float(np.max(np.abs(values), initial=0.0))
    return np.where(np.abs(values) <= rel * mx, 0.0, values)


def resid_block(q) -> str:
    """summary.lm's residual quantiles."""
    return "\n".join(align(["Min", "1Q", "Median", "3Q", "Max"], [fmt_vec(zap_rounding_error(q), 4)], left=0))


def table(rows: list[list[str]], header: list[str], names: bool = True) -> str:
    """Columns right-aligned; the first one (row names) left-aligned when ``names``."""
    return "\n".join(align(header, rows, left=1 if names else 0))


def rformat(values, digits: int = 7) -> list[str]:
    """Format numbers together as R's print does (common decimals, `digits` significant)."""
    return fmt_vec(values, digits)


def lm_summary(formula: str, data: str, res, fs: dict) -> str:
    """Text laid out like R's summary.lm (Call, Residuals, Coefficients, footer)."""
    rows = [(str(k), res.params[k], res.bse[k], res.tvalues[k], res.pvalues[k]) for k in res.params.index]
    r2 = "Multiple R-squared" if res.k_constant else "Multiple R-squared (uncentred)"
    lines = [f"Call:\nlm(formula = {formula}, data = {data})", "",
             "Residuals:", resid_block(fs["resid_quantiles"]), "", "Coefficients:", coef_table(rows), "",
             f"Residual standard error: {fmt_sig(fs['sigma'], 4)} on {fs['df_resid']} degrees of freedom",
             f"{r2}:  {fmt_sig(fs['r2'], 4)},\tAdjusted R-squared:  {fmt_sig(fs['adj_r2'], 4)} ",
             f"F-statistic: {fmt_sig(fs['F'], 4)} on {fs['F_df'][0]} and {fs['F_df'][1]} DF,  "
             f"p-value: {fmt_p(fs['F_p'], 4, footer=True)}"]
    return "\n".join(lines)
