"""Imported by every chapter (`from _common import *`): the dataset and its artifacts.

Thin on purpose: the logic lives in `hlm.bookdata`. Chapters read artifacts the
DAG made (tables, fits, figures) and never fit models themselves.
"""
import pandas as pd

from hlm.bookdata import BookData, call_block, code, num, pfmt, plural, pval

pd.set_option("display.max_columns", 20)
pd.set_option("display.width", 100)

book = BookData.current()
profile = book.profile
P = profile  # short alias for inline expressions: P.label("x"), P.y, ...
fit = book.fit
students = book.students
schools = book.schools
figure = book.figure

__all__ = ["book", "profile", "P", "fit", "students", "schools", "figure", "num", "plural", "pval", "pfmt",
           "code", "call_block", "pd"]
