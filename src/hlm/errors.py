"""Errors raised for bad input: each message says what is wrong and how to fix it."""


class HlmError(Exception):
    """Base class of the package's user-facing errors."""


class DataError(HlmError):
    """Raw data or a dataset profile is unusable (missing file, column, id, ...)."""


class ModelError(HlmError):
    """A model cannot be specified or fitted as asked (bad formula, collinear columns, ...)."""


def show_values(values, limit: int = 8) -> str:
    """A list for an error message: its first `limit` values, and how many in all."""
    values = list(values)
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f", ... ({len(values)} in all)" if len(values) > limit else "")
