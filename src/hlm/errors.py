"""Errors raised for bad input: each message says what is wrong and how to fix it."""


class HlmError(Exception):
    """Base class of the package's user-facing errors."""


class DataError(HlmError):
    """Raw data or a dataset profile is unusable (missing file, column, id, ...)."""


class ModelError(HlmError):
    """A model cannot be specified or fitted as asked (bad formula, collinear columns, ...)."""
