"""The state of a fit, and why, in words tied to the data.

Every result JSON carries a ``status`` block written by the fit step
(:func:`diagnose`), which has the data at hand::

    "status": {"state": "fitted" | "singular" | "not_converged" | "not_fitted",
               "why": "...", "remedy": "..."}

- ``fitted``: nothing to say;
- ``singular``: fitted, but a variance is zero or a correlation is +-1; the book
  shows the results after a note;
- ``not_converged`` and ``not_fitted``: no trustworthy numbers; the book replaces
  the model's tables, tests and figures by the explanation (:func:`explanation`).

The ``why`` names the model's ingredient and the fact of the data that defeats
it (for example: every cluster is observed at the same x values, so the cluster
mean of x is the same everywhere and is collinear with the intercept); the
``remedy`` says what a user could change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hlm.config import Profile

if TYPE_CHECKING:  # the workflow reads statuses (build_summary) without numpy or pandas
    import pandas as pd

USABLE = ("fitted", "singular")


@dataclass(frozen=True)
class FitStatus:
    model: str
    label: str
    state: str
    why: str = ""
    remedy: str = ""

    @property
    def usable(self) -> bool:
        """The fit's numbers can be shown (possibly after a note)."""
        return self.state in USABLE

    @property
    def problem(self) -> bool:
        return self.state != "fitted"


def status_of(record: dict) -> FitStatus:
    """The status of a result JSON (records written before statuses existed are read too)."""
    st = record.get("status") or {}
    if st:
        state = st["state"]
    elif "error" in record:
        state = "not_fitted"
    elif record.get("converged") is False:
        state = "not_converged"
    elif record.get("singular"):
        state = "singular"
    else:
        state = "fitted"
    why = st.get("why") or record.get("error", "")
    return FitStatus(str(record.get("model")), str(record.get("label") or record.get("model")), state,
                     why, st.get("remedy", ""))


_VERB = {"not_fitted": "could not be fitted on this dataset",
         "not_converged": "was fitted, but the optimizer did not reach the optimum",
         "singular": "was fitted, but the fit is singular"}


def explanation(status: FitStatus) -> str:
    """A Markdown callout: which model, why (tied to the data), what to change."""
    kind = "note" if status.usable else "warning"
    head = f"*{status.label}* (`{status.model}`) {_VERB.get(status.state, status.state)}"
    tail = ("Its results follow." if status.usable else
            "The tables, tests and figures that need it are left out of this build.")
    parts = [f"::: {{.callout-{kind}}}", f"## {head}", "", status.why.rstrip(".") + "."]
    if status.remedy:
        parts += ["", "What you could change: " + status.remedy.rstrip(".") + "."]
    parts += ["", tail, ":::"]
    return "\n".join(parts)


def reminder(status: FitStatus) -> str:
    """One sentence, for a model already explained earlier in the chapter."""
    if status.usable:
        return ""
    return (f"*This part needs {status.label} (`{status.model}`), which {_short_verb(status)} "
            "(see above); it is left out.*")


def _short_verb(status: FitStatus) -> str:
    return _VERB[status.state].replace(" on this dataset", "")


# --- diagnosis, at fit time -------------------------------------------------------------------

def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _same_x_everywhere(students: pd.DataFrame, profile: Profile) -> tuple[bool, bool, float]:
    """(cluster means of x all equal, x values identical in every cluster, that mean)."""
    import numpy as np

    x, g = students[profile.x], students[profile.cluster]
    means = x.groupby(g, observed=True).mean()
    scale = max(float(np.abs(x).max()), 1.0)
    equal_means = bool(means.max() - means.min() <= 1e-9 * scale)
    same_sets = x.groupby(g, observed=True).apply(lambda s: tuple(np.sort(s.to_numpy()))).nunique() == 1
    return equal_means, bool(same_sets), float(means.iloc[0])


def _collinear_cause(message: str, students: pd.DataFrame, profile: Profile) -> tuple[str, str] | None:
    """Why the cluster mean of x (or the between regression) is not identified."""
    mentions_mean = profile.cvar_x in message or "linearly dependent" in message
    if not mentions_mean:
        return None
    equal_means, same_sets, mean = _same_x_everywhere(students, profile)
    if not equal_means:
        return None
    cl, cls = profile.cluster_label, profile.clusters_label
    xl = profile.label("x")
    J = students[profile.cluster].nunique()
    if same_sets:
        values = ", ".join(_fmt(v) for v in sorted(students[profile.x].unique())[:8])
        fact = (f"every {cl} is observed at the same values of {xl} ({values}), so the mean {xl} of a "
                f"{cl} is {_fmt(mean)} for all {J} {cls}")
    else:
        fact = f"the mean {xl} is {_fmt(mean)} in each of the {J} {cls}"
    why = (f"{fact}. The {cl} mean of {xl} is then a constant, indistinguishable from the intercept, "
           f"and the data cannot separate the between-{cl} effect of {xl} from its within-{cl} effect")
    remedy = (f"nothing, for this design: the within-{cl} effect of {xl} is estimated by the models "
              f"without the {cl} mean; a between-{cl} effect needs {cls} whose mean {xl} differ")
    return why, remedy


def diagnose_failure(message: str, students: pd.DataFrame, profile: Profile) -> dict:
    """The status of a model that could not be fitted, from the error and the data."""
    cause = _collinear_cause(message, students, profile)
    cl, cls = profile.cluster_label, profile.clusters_label
    if cause:
        why, remedy = cause
    elif re.search(r"levels of .* for \d+ rows", message):
        why = (f"every {cl} has a single {profile.unit_label}, so the variance between {cls} cannot be "
               "told apart from the residual variance")
        remedy = f"use data with several {profile.units_label} in at least some {cls}"
    elif "too few for" in message and "random effects" in message:
        sizes = students.groupby(profile.cluster, observed=True).size()
        why = (f"the model has more random effects than the data have rows: {len(students)} "
               f"{profile.units_label} in {len(sizes)} {cls}, a median of {int(sizes.median())} "
               f"per {cl} ({message})")
        remedy = f"drop a random term, or use {cls} with more {profile.units_label}"
    elif "collinear" in message or "linearly dependent" in message or "identically zero" in message:
        why = f"some of its fixed effects are not identified on these data: {message}"
        remedy = "drop one of the columns involved, or the term that creates it, from the model"
    else:
        why = f"the fit stopped with: {message}"
        remedy = "check the data of this model's variables; the fit's log in logs/ has details"
    return {"state": "not_fitted", "why": why, "remedy": remedy}


# the relative size below which an eigenvalue of G is 0: the fit's singular flag is a diagonal of
# the relative covariance factor below 1e-10 (hlm.lmm.results), i.e. an eigenvalue of G below
# about 1e-20 sigma^2; anything above this is a genuine, if small, variance
G_RANK_TOL = 1e-8
PERFECT_COR = 1 - 1e-6  # a correlation that prints as +-1.000000


def g_geometry(G, names=None, tol: float = G_RANK_TOL) -> dict:
    """The shape of a random-effects covariance matrix G from its eigenvalues: its dimension q,
    its rank (eigenvalues above `tol` times the largest), the eigenvalues (largest first, tiny
    negative ones from rounding set to 0), the correlations of each pair with a positive
    variance, and the pairs whose correlation is +-1.

    Rank q - 1 of a 2x2 G is a line (the correlation is +-1); rank 2 of a 3x3 G is a plane
    through 0, the flat 'pancake', on which no correlation need be +-1."""
    import numpy as np

    G = np.atleast_2d(np.asarray(G, float))
    q = G.shape[0]
    names = list(names) if names is not None else [f"b{i}" for i in range(q)]
    ev = np.sort(np.clip(np.linalg.eigvalsh((G + G.T) / 2), 0, None))[::-1]
    top = float(ev[0]) if q else 0.0
    rank = int(np.sum(ev > tol * top)) if top > 0 else 0
    sd = np.sqrt(np.clip(np.diag(G), 0, None))
    cors, perfect = {}, []
    for i in range(q):
        for j in range(i + 1, q):
            if sd[i] > 0 and sd[j] > 0 and sd[i] > np.sqrt(tol * top) and sd[j] > np.sqrt(tol * top):
                c = float(np.clip(G[i, j] / (sd[i] * sd[j]), -1, 1))
                cors[(names[i], names[j])] = c
                if abs(c) > PERFECT_COR:
                    perfect.append((names[i], names[j]))
    return {"q": q, "rank": rank, "eigenvalues": [float(v) for v in ev], "correlations": cors,
            "perfect": perfect}


_SHAPE = {0: "a single point, 0 (no random variation at all)", 1: "a line through 0",
          2: "a plane through 0 (a flat 'pancake')"}


def geometry_words(G, names, cluster_label: str, effect_name=None, tol: float = G_RANK_TOL) -> str:
    """What a G of deficient rank means, computed from its eigenvalues (see g_geometry): its rank,
    the shape the random effects lie on, and which correlations (if any) are +-1.
    `effect_name(name)` words a random effect ('intercepts', 'SES slopes')."""
    geo = g_geometry(G, names, tol)
    q, r = geo["q"], geo["rank"]
    word = effect_name or (lambda k: "intercept" if k == "(Intercept)" else k)
    ev = ", ".join(_fmt(v) if v > tol * geo["eigenvalues"][0] else "0" for v in geo["eigenvalues"])
    shape = _SHAPE.get(r, f"a subspace of dimension {r}")
    lost = q - r
    text = (f"the estimated covariance matrix G of the {cluster_label} random effects has eigenvalues {ev}, "
            f"so its rank is {r} of {q}: the random effects lie on {shape}"
            + (f" inside their {q}-dimensional space" if q > 2 and r > 0 else "")
            + (", and one combination of them has" if lost == 1 else f", and {lost} combinations of them have")
            + " no variance")
    cors = geo["correlations"]

    def c(v):
        return f"{v:+.3f}".replace("-", "\u2212").lstrip("+")

    if geo["perfect"]:
        pairs = "; ".join(f"{word(a)} and {word(b)}, {c(cors[(a, b)])}" for a, b in geo["perfect"])
        text += f". The estimated correlation is \u00b11 for {pairs}"
    elif cors:
        listed = "; ".join(f"{word(a)} and {word(b)}, {c(v)}" for (a, b), v in cors.items())
        text += (f". No estimated correlation is \u00b11 ({listed}): the direction without variance "
                 "combines more than two of the random effects, so no pair of them is tied")
    return text


def _boundary_words(result: dict, profile: Profile) -> str:
    names = result.get("re_names") or []
    sd = result.get("re_sd") or {}
    cl = profile.cluster_label
    zero = [k for k in names if sd.get(k, 1.0) <= 1e-6 * max(result.get("sigma", 1.0), 1e-300)]
    what = ["intercepts" if k == "(Intercept)" else f"{k} slopes" for k in zero]
    if what:
        return (f"the estimated variance of the {cl} {' and '.join(what)} is zero: the data show no "
                f"more variation between {profile.clusters_label} than the residual noise explains")
    if result.get("G") is not None and names:
        return geometry_words(result["G"], names, cl,
                              lambda k: "intercepts" if k == "(Intercept)" else f"{k} slopes")
    return (f"the estimated covariance matrix of the {cl} random effects is singular: the random effects "
            "lie on a lower-dimensional subspace, so some combination of them carries no information of its own")


def diagnose(result: dict, students: pd.DataFrame, profile: Profile) -> dict:
    """The status block of a result JSON (a fit or a failure record)."""
    if "error" in result:
        return diagnose_failure(result["error"], students, profile)
    if result.get("converged") is False:
        msgs = (result.get("optimizer") or {}).get("messages") or []
        last = msgs[-1] if msgs else "no message"
        return {"state": "not_converged",
                "why": f"the optimizer stopped where the likelihood was not at its maximum ({last})",
                "remedy": "simplify the random part (fewer random slopes), or rescale the variables"}
    if result.get("singular"):
        return {"state": "singular", "why": _boundary_words(result, profile),
                "remedy": "read the variance components with care; the model without that random "
                          "term fits as well and is easier to interpret"}
    return {"state": "fitted", "why": "", "remedy": ""}


def build_summary(fits_dir) -> str:
    """The models of a build that were not fitted or had problems, one line each (printed
    at the end of the build)."""
    from pathlib import Path

    from hlm.io import read_json
    from hlm.records import validate

    lines = []
    for path in sorted(Path(fits_dir).glob("*.json")):
        record = read_json(path)
        if record.get("kind") not in ("ols", "lmm"):
            continue
        validate("fit", record, where=path)
        st = status_of(record)
        if st.problem:
            lines.append(f"  - {st.model}: {_short_verb(st)}: {st.why}")
    if not lines:
        return ""
    return "Models with problems in this build (the book explains each):\n" + "\n".join(lines)
