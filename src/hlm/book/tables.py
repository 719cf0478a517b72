"""Pandas DataFrames as pandoc pipe tables (no `tabulate` needed).

Used inside the chapter kernel (see `hlm.book.kernel`): a DataFrame displayed by a
cell comes out as a `text/markdown` pipe table, which the executor writes in place.
"""
from __future__ import annotations

import math
import numbers


def _is_default_index(index) -> bool:
    import pandas as pd

    if any(name is not None for name in index.names):
        return False
    if isinstance(index, pd.RangeIndex):
        return index.start == 0 and index.step == 1
    return False


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def float_decimals(values) -> int | None:
    """Decimals to show a float column with ~5 significant digits (1-4 decimals); None: %.4g."""
    finite = [abs(float(v)) for v in values if isinstance(v, numbers.Real) and math.isfinite(v)]
    if not finite:
        return 0
    if all(float(v).is_integer() for v in finite) and max(finite) < 1e15:
        return 0
    biggest = max(finite)
    smallest = min((v for v in finite if v > 0), default=0.0)
    if biggest >= 1e7 or (0 < biggest < 1e-4):
        return None
    decimals = 4 - math.floor(math.log10(biggest)) if biggest > 0 else 0
    if 0 < smallest < 1 and decimals < 2:
        decimals = 2
    return max(1, min(4, decimals))


def format_value(value, decimals: int | None = 4) -> str:
    """A cell's text: floats with `decimals` decimals (None: %.4g), missing as empty."""
    if value is None:
        return ""
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if decimals is None:
            return f"{v:.4g}"
        return f"{v:.{decimals}f}"
    return _escape(str(value))


def pipe_table(df, max_rows: int = 500) -> str:
    """The DataFrame `df` as a pandoc pipe table.

    The index is shown (as leading columns) when it is named or is not the default
    0..n-1 range; MultiIndex columns are joined with " / "; float columns are shown
    with a common number of decimals (about 4 significant digits).
    """
    import pandas as pd

    if len(df) > max_rows:
        raise ValueError(f"DataFrame has {len(df)} rows; show at most {max_rows} (slice it first)")
    frame = df
    if not _is_default_index(frame.index):
        names = [n if n is not None else "" for n in frame.index.names]
        # avoid clashes with column names when moving the index into columns
        frame = frame.copy()
        frame.index = frame.index.set_names([f"\0idx{i}" for i in range(len(names))])
        frame = frame.reset_index()
        header_index = names
    else:
        header_index = []
    ncols = frame.shape[1]
    headers: list[str] = []
    for i, col in enumerate(frame.columns):
        if i < len(header_index):
            headers.append(_escape(str(header_index[i])))
        elif isinstance(col, tuple):
            headers.append(_escape(" / ".join(str(c) for c in col if str(c) != "")))
        else:
            headers.append(_escape(str(col)))
    columns: list[list[str]] = []
    aligns: list[str] = []
    for j in range(ncols):
        series = frame.iloc[:, j]
        values = series.tolist()
        numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
        if pd.api.types.is_float_dtype(series.dtype):
            dec = float_decimals(values)
            cells = [format_value(v, dec) for v in values]
        else:
            cells = [format_value(v) for v in values]
        columns.append(cells)
        aligns.append("right" if numeric else "left")
    widths = [max(3, len(h), *(len(c) for c in col)) for h, col in zip(headers, columns)]
    if ncols == 0:
        return ""

    def row(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join(
        ("-" * (w + 1) + ":") if a == "right" else (":" + "-" * (w + 1)) for w, a in zip(widths, aligns)
    ) + "|"
    lines = [row(headers), rule]
    for i in range(len(frame)):
        lines.append(row([col[i] for col in columns]))
    return "\n".join(lines) + "\n"
