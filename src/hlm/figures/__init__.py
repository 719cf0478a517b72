"""The book's figures: one function per figure, a registry, and the `figure` command.

Every figure function takes ``(students, schools, fits, profile)`` — the derived
tables, a dict of fit JSONs by model name and the dataset profile — and returns a
``matplotlib.figure.Figure``; none reads or writes files. ``FIGURES`` says, for
each figure, which tables and fits it reads, which optional roles it needs and
its caption for the book; ``run`` is ``python -m hlm figure``.
"""
from __future__ import annotations

from hlm.figures._base import save_figure
from hlm.figures.registry import FIGURES, FigureSpec, caption, figure_names, render
from hlm.figures.cli import run

__all__ = ["FIGURES", "FigureSpec", "caption", "figure_names", "render", "run", "save_figure"]
