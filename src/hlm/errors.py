"""Errors raised for bad input: each message says what is wrong and how to fix it."""


class HlmError(Exception):
    """Base class of the package's user-facing errors."""


class DataError(HlmError):
    """Raw data or a dataset profile is unusable (missing file, column, id, ...)."""


class ModelError(HlmError):
    """A model cannot be specified or fitted as asked (bad formula, collinear columns, ...)."""


class RecordError(DataError):
    """An artifact record (fit JSON, figure sidecar, ...) does not match its schema (hlm.records)."""


def user_errors(*kinds: type[Exception]):
    """Decorator of a command: the exceptions `kinds` it raises (a library's own errors)
    become HlmError, which the command line prints as `error: ...` (exit code 1)."""
    def decorate(func):
        def wrapped(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except kinds as err:
                raise HlmError(str(err)) from None
        wrapped.__doc__, wrapped.__name__ = func.__doc__, func.__name__
        return wrapped
    return decorate


def show_values(values, limit: int = 8) -> str:
    """A list for an error message: its first `limit` values, and how many in all."""
    values = list(values)
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f", ... ({len(values)} in all)" if len(values) > limit else "")
