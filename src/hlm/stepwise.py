"""Forward building of a mixed model's random part by likelihood-ratio tests.

The notes build the random part from the bottom up: start from random intercepts
``~ 1 | cluster``; at each step, refit the model with each remaining candidate term
added to the random part (a random slope, with its covariances with the terms already
there), keep the candidate whose fit gains the most log-likelihood, and test it against
the current model with the LRT. The fixed part never changes, so the fits' own (REML by
default) log-likelihoods are compared. Under the null the added variance is on the
boundary of its space (zero), so the chi-square p-value is conservative; the test uses
the 50:50 mixture of chi-square on df and df - 1 (:func:`hlm.models.boundary_p`), and
the record keeps both. A candidate is accepted when the mixture's p is below ``alpha``;
the first rejection ends the procedure.

A refit that fails ends the procedure too, with that step's error recorded: the
random part reached so far is the result.
"""
from __future__ import annotations

import pandas as pd

from hlm import lmm
from hlm.catalog import quote
from hlm.models import boundary_p


def random_part(terms: list[str], cluster: str) -> str:
    """``~ 1 + t1 + ... | cluster`` (backquoting non-syntactic names)."""
    return f"~ {' + '.join(['1', *map(quote, terms)])} | {quote(cluster)}"


def _summary(fit) -> dict:
    return {"random": fit.random, "logLik": fit.logLik, "npar": fit.npar, "singular": fit.singular,
            "converged": fit.converged}


def forward(students: pd.DataFrame, fixed: str, random_terms: list[str], cluster: str,
            alpha: float = 0.05, method: str = "REML", reference: dict | None = None) -> dict:
    """Forward selection of `random_terms` (columns) for the random part of a model with
    fixed part `fixed` (a formula in the columns) and clusters `cluster` (module docstring).

    Returns {fixed, method, alpha, candidates, start, steps, final}: ``start`` the random
    intercept fit, each step {random, added, logLik, npar, LRT, df, p_chisq, p_mixture,
    accepted, singular, converged, tried (logLik of each candidate)} or {random, added,
    error}, ``final`` the random part accepted. The start fit's failure raises ModelError."""
    current: list[str] = []
    fit = lmm.fit(students, fixed, random_part(current, cluster), method=method, reference=reference)
    out = {"fixed": fixed, "method": method, "alpha": alpha, "candidates": list(random_terms),
           "start": _summary(fit), "steps": []}
    remaining = list(random_terms)
    while remaining:
        tried = {}
        for term in remaining:
            random = random_part([*current, term], cluster)
            try:
                tried[term] = lmm.fit(students, fixed, random, method=method, reference=reference)
            except Exception as err:  # a failed refit is a result the record reports, not a crash
                out["steps"].append({"random": random, "added": term, "error": f"{type(err).__name__}: {err}"})
                break
        else:
            term = max(tried, key=lambda t: tried[t].logLik)
            big = tried[term]
            test = lmm.lrt(fit, big)
            p_mixture = boundary_p(test["chisq"], test["df"])
            accepted = bool(p_mixture < alpha)
            out["steps"].append({**_summary(big), "added": term, "LRT": test["chisq"], "df": test["df"],
                                 "p_chisq": test["p"], "p_mixture": p_mixture, "accepted": accepted,
                                 "tried": {t: f.logLik for t, f in tried.items()}})
            if accepted:
                current.append(term)
                remaining.remove(term)
                fit = big
                continue
        break
    out["final"] = fit.random
    return out
