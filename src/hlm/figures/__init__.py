"""The book's figures: one function per figure, a registry, and the `figure` command.

Every figure function takes ``(students, schools, fits, profile)`` — the derived
tables, a dict of fit JSONs by model name and the dataset profile — and returns a
``matplotlib.figure.Figure``; none reads or writes files. ``FIGURES`` says, for
each figure, which tables and fits it reads, which optional roles it needs and
its caption for the book; ``run`` is ``python -m hlm figure``.
"""
from __future__ import annotations

from hlm.figures.registry import FIGURES, FigureSpec, caption, figure_names, render


def __getattr__(name):
    """Drawing code loads matplotlib: import it only when used (rules read just the registry)."""
    if name == "run":
        from hlm.figures.cli import run
        return run
    if name == "save_figure":
        from hlm.figures._base import save_figure
        return save_figure
    raise AttributeError(name)


__all__ = ["FIGURES", "FigureSpec", "caption", "figure_names", "render", "run", "save_figure"]
