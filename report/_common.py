"""Imported by every chapter (`from _common import *`): the dataset, its artifacts and
the vocabulary every chapter shares.

Thin on purpose: the logic lives in `hlm.bookdata` (reading artifacts, formatting
numbers), `hlm.fitview` (values and tables computed from fits) and `hlm.prose`
(words for computed values). Chapters read artifacts the DAG made (tables, fits,
figures) and never fit models themselves.
"""
import numpy as np
import pandas as pd

try:
    import hlm  # noqa: F401
except ImportError:  # a plain `quarto render` with another Python
    raise ImportError("the chapters need the project's Python environment: run `make book` once"
                      " (it creates .venv and builds what the chapters show), then render with"
                      " QUARTO_PYTHON=.venv/bin/python (or with .venv activated)") from None

from hlm.bookdata import BookData, call_block, code, code_shown, md, num, pfmt, pipe_table, plural, pval
from hlm.effects import effect_bands, excluding_zero, scheffe, t_quantile
from hlm.fitview import FitView, inside, lincomb, matching
from hlm.levels import z_levels
from hlm.residuals import standardized_blups
from hlm.prose import (change, closeness, codes, compare, count, evidence, mark, numbered_table, ordinal, peq,
                       plus, reduction, reduction_text, same, shown, sig, sign_word, some_of, span, times,
                       which_sig)

pd.set_option("display.max_columns", 20)
pd.set_option("display.width", 100)

book = BookData.current()
profile = book.profile
P = profile  # short alias for inline expressions: P.label("x"), P.y, ...
fit = book.fit
students = book.students
schools = book.schools
figure = book.figure

# the profile's vocabulary: labels, w's two levels and the names of w's coefficients
CL, UN = P.cluster_label, P.unit_label             # school, student
CLS, UNS = P.clusters_label, P.units_label         # schools, students
XL, YL, WL = P.label("x"), P.label("y"), P.label("w")
WLS = P.labels("w")                                # sectors, sexes
YU = P.unit("y")                                   # y's unit (points, mm) or ''

ref, other = P.w_levels                            # w's reference and other level
W_TERM, XW_TERM = P.w_term, P.xw_term              # e.g. SectorPublic, SES:SectorPublic

# readings of the fits by model name (NaN or a sentence for a fit that cannot be shown)
fits = FitView(book)
ok, fe, se, pv, g, sd, cor, sigma2 = fits.ok, fits.fe, fits.se, fits.pv, fits.g, fits.sd, fits.cor, fits.sigma2
shift, fe_table, vc_text, sas_terms = fits.shift, fits.fe_table, fits.vc_text, fits.sas_terms
lrt, lrt_p, lrt_text, verdict, excerpt = fits.lrt, fits.lrt_p, fits.lrt_text, fits.verdict, fits.excerpt
wald = fits.wald                                   # Wald tests of L beta = 0 by L, names or a pattern


def equivalents(name):
    """Print the same model in R and SAS, and the full output (nothing for a failed fit)."""
    text = fits.equivalents(name)
    if text:
        print(text)


def table(df, caption, label):
    """Print a DataFrame as a numbered table with a caption."""
    print(numbered_table(df, caption, label))


__all__ = ["book", "profile", "P", "fit", "students", "schools", "figure", "num", "plural", "pval", "pfmt",
           "code", "code_shown", "md", "call_block", "pd", "np", "pipe_table",
           "CL", "UN", "CLS", "UNS", "XL", "YL", "WL", "WLS", "YU", "ref", "other", "W_TERM", "XW_TERM",
           "fits", "ok", "fe", "se", "pv", "g", "sd", "cor", "sigma2", "shift", "fe_table", "vc_text",
           "sas_terms", "lrt", "lrt_p", "lrt_text", "verdict", "excerpt", "equivalents", "table",
           "inside", "lincomb", "matching", "wald", "effect_bands", "excluding_zero", "scheffe", "t_quantile",
           "z_levels", "standardized_blups", "codes", "mark", "numbered_table", "ordinal", "peq", "reduction", "shown",
           "sig", "sign_word", "times", "which_sig", "change", "closeness", "compare", "count", "evidence", "plus",
           "reduction_text", "same", "some_of", "span"]
