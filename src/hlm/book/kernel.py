"""Set up a chapter's Jupyter kernel (runs *inside* the kernel, before the chapter).

- DataFrames display as `text/markdown` pipe tables (`hlm.book.tables.pipe_table`);
- matplotlib figures display as SVG: the kernel runs with MPLBACKEND=agg (so that
  scripts and subprocesses stay headless), and when the chapter first imports
  matplotlib its backend is switched to matplotlib-inline, which captures figures
  (at once, when the process the chapter was forked from had imported matplotlib).
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
INLINE_MIME = "application/x-hlm-inline"


def _markdown_table(df):
    from hlm.book.tables import pipe_table

    return pipe_table(df)


class _MatplotlibHook(importlib.abc.MetaPathFinder):
    """On the first `import matplotlib`, select the inline backend right after import."""

    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_select(module):
            exec_module(module)
            module.use(INLINE_BACKEND)

        spec.loader.exec_module = exec_and_select
        return spec


def _select_inline(ip) -> None:
    """Switch an already imported matplotlib (e.g. by the process the chapter was forked
    from) to the inline backend, with the shell integration that importing the backend
    module sets up when matplotlib is imported afterwards."""
    import matplotlib
    from IPython.core.pylabtools import activate_matplotlib
    from matplotlib_inline.backend_inline import configure_inline_support, flush_figures

    matplotlib.use(INLINE_BACKEND)
    if flush_figures not in ip.events.callbacks["post_execute"]:
        activate_matplotlib(INLINE_BACKEND)
        configure_inline_support(ip, INLINE_BACKEND)


def install() -> None:
    from IPython import get_ipython

    ip = get_ipython()
    if ip is None:  # pragma: no cover - only meaningful inside a kernel
        return
    md = ip.display_formatter.formatters["text/markdown"]
    # pandas >= 3 reports DataFrame.__module__ == "pandas"; older: "pandas.core.frame"
    for module in ("pandas", "pandas.core.frame"):
        md.for_type_by_name(module, "DataFrame", _markdown_table)
    md.enabled = True
    # Select the inline backend when the chapter imports matplotlib; SVG output.
    if "matplotlib" in sys.modules:
        _select_inline(ip)
    elif not any(isinstance(f, _MatplotlibHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _MatplotlibHook())
    ip.run_line_magic("config", "InlineBackend.figure_formats = ['svg']")
    ip.run_line_magic("config", "InlineBackend.rc = {}")


def inline_value(value) -> list[str]:
    """[kind, text] of an inline `{python} expr`'s value, as Quarto's Jupyter engine
    reads it (`resolveUserExpressions`, quarto-cli src/core/jupyter/jupyter-inline.ts):
    "markdown" for a value with a Markdown form (`_repr_markdown_`), inserted as is;
    "text" for a str, shown literally; "plain" for an int, float, bool or None, its
    repr; "other" for anything else, whose repr Quarto would print (the executor
    refuses it)."""
    md = getattr(value, "_repr_markdown_", None)
    text = md() if callable(md) else None
    if isinstance(text, tuple):  # (data, metadata)
        text = text[0]
    if isinstance(text, str):
        return ["markdown", text]
    if type(value) is str:
        return ["text", value]
    if value is None or type(value) in (int, float, bool):
        return ["plain", repr(value)]
    return ["other", f"a {type(value).__module__}.{type(value).__qualname__} ({value!r:.60})"]


def show_inline(value) -> None:
    """Display the value of an inline `{python} expr` for the executor to pick up."""
    import json

    from IPython.display import display

    display({INLINE_MIME: json.dumps(inline_value(value))}, raw=True)
