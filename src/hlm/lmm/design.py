"""Formulas -> design matrices of a two-level linear mixed model.

The fixed part is an R-style formula (``y ~ x * w``, ``-1``, factors with
treatment contrasts whose reference is the first category); the random part is
``~ 1 | g``, ``~ 1 + x | g`` or ``~ 0 + x | g``.  Rows are sorted by cluster
once, here, so that everything downstream works on contiguous cluster blocks.
Coefficient names follow R: ``(Intercept)``, ``ses``, ``SectorPublic``,
``ses:SectorPublic``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.linalg
from formulaic import Formula, model_matrix

from hlm.errors import ModelError

_LEVEL = re.compile(r"\[(?:T\.)?([^\]]*)\]")

# The tolerance of every rank check in hlm: a direction whose singular value is below
# RANK_TOL times the largest is a linear dependence (R's default: qr() in lm, lme4's
# check of X).  Checks on the eigenvalues of a cross-product or of a covariance
# matrix (squared singular values) compare them with RANK_TOL**2.
RANK_TOL = 1e-7


@dataclass(frozen=True, eq=False)
class Design:
    """Sorted model matrices and the bookkeeping to map back to the input rows."""

    fixed: str
    random: str
    response: str
    group_var: str
    y: np.ndarray                  # (n,), rows sorted by cluster
    X: np.ndarray                  # (n, p)
    Z: np.ndarray                  # (n, q)
    x_names: tuple[str, ...]
    z_names: tuple[str, ...]
    terms: dict = field(repr=False)  # term label -> list of X column indices
    group_ids: tuple[str, ...]     # cluster ids (strings), in cluster order
    starts: np.ndarray             # (J,) first sorted row of each cluster
    counts: np.ndarray             # (J,) cluster sizes
    codes: np.ndarray              # (n,) cluster index of each sorted row
    order: np.ndarray | None       # sorted row k is input row order[k] (None: input already sorted)
    row_labels: pd.Index = field(repr=False)  # index labels of the used input rows

    @property
    def n(self) -> int:
        return self.y.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[1]

    @property
    def q(self) -> int:
        return self.Z.shape[1]

    @property
    def J(self) -> int:
        return self.starts.shape[0]

    def without(self, j: int) -> "Design":
        """The design without cluster `j` (its rows removed), for deletion diagnostics."""
        keep = self.codes != j
        counts = np.delete(self.counts, j)
        rows = self.order[keep] if self.order is not None else np.flatnonzero(keep)  # input rows kept
        kept = np.sort(rows)
        return replace(self, y=self.y[keep], X=self.X[keep], Z=self.Z[keep],
                       group_ids=self.group_ids[:j] + self.group_ids[j + 1:],
                       starts=np.cumsum(counts) - counts, counts=counts,
                       codes=np.repeat(np.arange(len(counts)), counts),
                       order=np.searchsorted(kept, rows), row_labels=self.row_labels[kept])

    def unsort(self, v: np.ndarray) -> np.ndarray:
        """Put a per-row vector in sorted order back into input row order."""
        if self.order is None:
            return v
        out = np.empty_like(v)
        out[self.order] = v
        return out


def r_name(col: str) -> str:
    """Formulaic column name -> R's name: Intercept -> (Intercept), w[T.b] -> wb."""
    if col == "Intercept":
        return "(Intercept)"
    return _LEVEL.sub(r"\1", col)


def split_random(random: str) -> tuple[str, str]:
    """``"~ 1 + x | g"`` -> (``"1 + x"``, ``"g"``)."""
    text = random.strip()
    if not text.startswith("~") or text.count("|") != 1:
        raise ModelError(
            f"random part {random!r} must look like '~ 1 | g', '~ 1 + x | g' or '~ 0 + x | g'")
    lhs, grp = text[1:].split("|")
    lhs, grp = lhs.strip(), grp.strip()
    quoted = re.fullmatch(r"`([^`]+)`", grp)  # a non-syntactic column name, backquoted
    if quoted:
        grp = quoted.group(1)
    elif not re.fullmatch(r"[A-Za-z_][\w.]*", grp):
        grp = ""
    if not lhs or not grp:
        raise ModelError(f"random part {random!r}: need terms before '|' and one grouping column after it")
    return lhs, grp


def _matrix(formula: str, data: pd.DataFrame, what: str):
    try:
        return model_matrix(formula, data, na_action="raise")
    except Exception as exc:  # formulaic raises many types; report them uniformly
        raise ModelError(f"cannot build the {what} from {formula!r}: {exc}") from exc


def _used_rows(data: pd.DataFrame, fixed: str, zpart: str, grp: str) -> pd.DataFrame:
    try:
        needed = Formula(fixed).required_variables | Formula("~ " + zpart).required_variables
    except Exception as exc:
        raise ModelError(f"cannot parse formula {fixed!r} / {zpart!r}: {exc}") from exc
    cols = sorted(v for v in (set(map(str, needed)) | {grp}) if v in data.columns)
    if grp not in data.columns:
        raise ModelError(f"grouping column {grp!r} is not in the data (columns: {list(data.columns)})")
    return data.dropna(subset=cols)


def _group_codes(g: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Cluster codes in R's factor order: Categorical order, else sorted values."""
    if isinstance(g.dtype, pd.CategoricalDtype):
        cat = g.cat.remove_unused_categories()
    else:
        cat = pd.Categorical(g, categories=sorted(pd.unique(g)))
    cat = pd.Categorical(cat)
    return np.asarray(cat.codes, dtype=np.int64), tuple(str(c) for c in cat.categories)


def _terms(spec, names: list[str]) -> dict:
    out = {}
    for term, idx in spec.term_indices.items():
        label = "(Intercept)" if str(term) == "1" else str(term)
        out[label] = list(idx)
    return out


def check_rank(X: np.ndarray, names: list[str]) -> None:
    """Raise ModelError naming the columns that are linear combinations of others.

    Works on the p x p cross-product (cost O(n p^2)): pivoted QR of a square root
    of the scaled X'X, with R's default tolerance (``RANK_TOL``, as qr() in lm)."""
    if X.shape[1] == 0:
        return
    XtX = X.T @ X
    norms = np.sqrt(np.diag(XtX))
    if np.any(norms == 0):
        bad = [names[i] for i in np.flatnonzero(norms == 0)]
        raise ModelError(f"fixed-effect column(s) {bad} are identically zero; drop them from the formula")
    C = XtX / np.outer(norms, norms)
    lam, V = np.linalg.eigh(C)
    B = np.sqrt(np.maximum(lam, 0.0))[:, None] * V.T          # B'B = C
    R, piv = scipy.linalg.qr(B, mode="r", pivoting=True)
    d = np.abs(np.diag(R))
    rank = int(np.sum(d > RANK_TOL * d[0]))
    if rank == X.shape[1]:
        return
    keep, drop = sorted(piv[:rank]), sorted(piv[rank:])
    coef = np.linalg.solve(C[np.ix_(keep, keep)], C[np.ix_(keep, drop)])
    parts = []
    for k, j in enumerate(drop):
        uses = [names[keep[i]] for i in np.flatnonzero(np.abs(coef[:, k]) > 1e-6)]
        parts.append(f"{names[j]!r} = linear combination of {uses}")
    raise ModelError(
        "perfectly collinear fixed effects: " + "; ".join(parts)
        + ". Drop one of the columns involved (or the term that creates it) from the fixed formula.")


def _columns(frame, order: np.ndarray | None) -> np.ndarray:
    """Model-matrix columns as one float array, rows in cluster order."""
    out = np.empty((frame.shape[0], frame.shape[1]))
    for k, c in enumerate(frame.columns):
        col = frame[c].to_numpy(dtype=float)
        out[:, k] = col if order is None else col[order]
    return out


def check_identifiable(n_groups: int, n: int, q: int, grp: str) -> None:
    """Variance components need more rows than clusters, and more than random effects
    (as lme4's checks that levels < rows and rows > random effects)."""
    if n_groups >= n:
        raise ModelError(f"{n_groups} levels of '{grp}' for {n} rows: with one row per cluster the "
                         "cluster variance cannot be told apart from the residual variance")
    if n <= q * n_groups:
        raise ModelError(f"{n} rows are too few for {q * n_groups} random effects ({q} per level of "
                         f"'{grp}'); use fewer random terms or clusters with more rows")


def build_design(data: pd.DataFrame, fixed: str, random: str) -> Design:
    """Build the sorted design of ``fixed`` / ``random`` on ``data`` (rows with NA dropped)."""
    if not isinstance(data, pd.DataFrame):
        raise ModelError("data must be a pandas DataFrame")
    if "~" not in fixed:
        raise ModelError(f"fixed formula {fixed!r} needs a response: 'y ~ terms'")
    zpart, grp = split_random(random)
    used = _used_rows(data, fixed, zpart, grp)
    if len(used) == 0:
        raise ModelError("no complete rows left after dropping missing values")
    mm = _matrix(fixed, used, "fixed-effects design")
    ymat = np.asarray(mm.lhs, dtype=float)
    if ymat.ndim != 2 or ymat.shape[1] != 1:
        raise ModelError(f"fixed formula {fixed!r} must have exactly one numeric response")
    Xdf, Zdf = mm.rhs, _matrix("~ " + zpart, used, "random-effects design")
    x_names = [r_name(c) for c in Xdf.columns]
    z_names = [r_name(c) for c in Zdf.columns]
    if not z_names:
        raise ModelError(f"random part {random!r} has no terms")
    codes, ids = _group_codes(used[grp])
    order = None if np.all(codes[1:] >= codes[:-1]) else np.argsort(codes, kind="stable")
    codes_s = codes if order is None else codes[order]
    counts = np.bincount(codes_s, minlength=len(ids))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    X, Z = _columns(Xdf, order), _columns(Zdf, order)
    check_rank(X, x_names)
    if X.shape[0] <= X.shape[1]:
        raise ModelError(f"{X.shape[0]} rows are too few for {X.shape[1]} fixed effects")
    check_identifiable(len(ids), X.shape[0], Z.shape[1], grp)
    return Design(
        fixed=fixed, random=random, response=str(mm.lhs.columns[0]), group_var=grp,
        y=(ymat[:, 0] if order is None else ymat[order, 0]).copy(), X=X, Z=Z, x_names=tuple(x_names), z_names=tuple(z_names),
        terms=_terms(Xdf.model_spec, x_names), group_ids=ids, starts=starts, counts=counts,
        codes=codes_s, order=order, row_labels=used.index,
    )


def within_varying(design: Design, M: np.ndarray) -> np.ndarray:
    """For each column of ``M`` (sorted rows): does it vary within at least one cluster?

    Exact comparison, as nlme's ``inner_perc_table``."""
    if M.shape[1] == 0:
        return np.zeros(0, dtype=bool)
    hi = np.maximum.reduceat(M, design.starts, axis=0)
    lo = np.minimum.reduceat(M, design.starts, axis=0)
    return np.any(hi != lo, axis=0)


def nlme_df(design: Design) -> tuple[dict, dict]:
    """Denominator DF of each fixed-effect column and term, by nlme's ``getFixDF`` rule.

    Columns constant within every cluster are estimated at the cluster level
    (between DF: J - #such columns - 1 for the intercept); the others within
    (N - J - #such columns).  Returns (per column, per term)."""
    X, names, J, N = design.X, design.x_names, design.J, design.n
    const = np.max(X, axis=0) == np.min(X, axis=0) if len(X) else np.zeros(0, dtype=bool)
    inner = within_varying(design, X)
    has_int = bool(np.any(const))
    col_df = np.zeros(len(names))
    df = {"between": J, "within": N - J}
    strat = np.where(inner, "within", "between")
    df_x = dict(df)
    for s in ("between", "within"):
        df_x[s] -= int(np.sum((strat == s) & ~const))
    term_strat, term_p = {}, {}
    for t, idx in design.terms.items():
        if all(const[i] for i in idx):
            continue
        term_strat[t] = "within" if any(inner[i] for i in idx) else "between"
        term_p[t] = len(idx)
    df_t = dict(df)
    for t, s in term_strat.items():
        df_t[s] -= term_p[t]
    for d in (df_x, df_t):
        if has_int:
            d["between"] -= 1
        else:
            d["within"] += 1
    for i in range(len(names)):
        col_df[i] = max(df_x.values()) if const[i] else df_x[strat[i]]
    per_col = {names[i]: int(col_df[i]) for i in range(len(names))}
    per_term = {t: int(df_t[term_strat[t]]) if t in term_strat else int(max(df_t.values()))
                for t in design.terms}
    return per_col, per_term
