"""The notes' classical methods 1-4 as tidy result records.

Each method takes the derived student table (one row per unit: docs/architecture.md,
``students.parquet``) and a profile, and returns an :class:`OlsResult` whose
``to_dict()`` is its result JSON (``kind: "ols"``):

- :func:`pooled` (Method 1): ``y ~ x * w`` ignoring clusters;
- :func:`fe_lines` (Method 2a): a line per cluster, ``y ~ cluster / x - 1``, and
  Wald tests of the equally weighted sector means (the notes' ``wald(lml, L)``);
- :func:`fe_common_slope` (Method 2b): ``y ~ x + cluster + x:w``;
- :func:`two_stage` (Method 3): per-cluster lines, then ``cbind(int, slope) ~ w``;
- :func:`between` (Method 4): ``mean_y ~ mean_x`` on cluster means;
- :func:`three_effects`: the within, between and pooled effects of x.

Result JSON. Every method: ``model``, ``kind``, ``label``, ``fixed``, ``call``, ``n``,
``groups``; ``fixef``, ``se``, ``t``, ``p``, ``df`` keyed by R's coefficient names
(with the dataset's columns, ``SES:SectorPublic``) in R's order; ``vcov``, the
covariance matrix of ``fixef`` in that order, or null when there are more than
:data:`FULL_VCOV_MAX` (500) coefficients: fe_lines and fe_common_slope have one or
two per cluster, and at 5,000 clusters the full matrix would be 800 MB of JSON
that nothing reads. What is read is kept at any size: fe_lines'
``clusters[id].vcov`` (the 2 x 2 blocks of that block-diagonal matrix; a cluster
without a slope has the variance ``se**2`` of its intercept only) and its
``by_w``, ``diff`` and ``wald`` blocks, fe_common_slope's ``vcov_slopes`` (of x and
x:w). Then each method's own keys: pooled, fe_common_slope and between
``sigma``, ``df_resid``, ``r2``, ``adj_r2``, ``F``, ``F_df``, ``F_p``,
``resid_quantiles``; pooled and between ``by_w`` and ``diff`` ({coef, vcov} of the
(intercept, slope) per level of w and their difference; also in fe_lines and
two_stage); fe_lines ``sigma``, ``df_resid``, ``clusters``, ``failed``, ``wald``,
``wald_levels``; fe_common_slope ``term``, ``effect``, ``vcov_slopes``; two_stage
``groups_total``, ``df_resid``, ``coef``, ``clusters``, ``failed``, ``resid_cov``;
between ``clusters``; three_effects ``within``, ``between``, ``pooled``, ``lines``.
Last, ``summary``: the text R's ``summary`` would print. Difference blocks
(``diff``) are always the non-reference level of w minus the reference level.

Clusters without a line (one row, or a constant x: R's ``lm`` gives their slope
NA) get an intercept only in fe_lines and are left out of two_stage; both list
them in ``failed`` ({cluster, n, w, reason}) and name them in ``summary``; the
sector means average the clusters that have a line.

Method. fe_lines, fe_common_slope and the within effect have one or two dummy
columns per cluster; a dense design needs n x J memory (23.8 GB at 5,000 clusters
and 150,000 rows). They are computed by :mod:`hlm.within` from per-cluster sums
(``np.bincount``): each cluster's line, or the slopes from within-cluster
deviations and the intercepts from the cluster means, with the covariance kept as
``M C M'`` (M sparse, C block diagonal). That is the exact OLS algebra of the
dummy design (equal to statsmodels' fit of it to rounding; tests: 1e-10), with a
standard error for every cluster coefficient, in O(n + J) time and memory.
pyfixest, the field's library for high-dimensional fixed effects, was not used:
it projects the cluster effects out and gives standard errors for the other
coefficients only, while Method 2a is about the cluster intercepts and slopes
themselves; one factor of clusters needs no iterative projection (the closed form
is exact); and it would add some twenty packages. The small regressions (pooled,
two_stage, between) use statsmodels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from hlm.config import Profile
from hlm.sample import sorted_ids
from hlm.errors import DataError, ModelError
from hlm.lmm.design import RANK_TOL
from hlm.rprint import align as _align, coef_table, fmt_p, lm_summary
from hlm.within import Groups, LinearFit, common_slopes, line_ok, per_cluster_lines, separate_lines

INTERCEPT = "(Intercept)"
FULL_VCOV_MAX = 500  # coefficients up to which a result carries its full vcov matrix
LABELS = {
    "pooled": "Method 1: pooled OLS",
    "fe_lines": "Method 2a: a line per cluster",
    "fe_common_slope": "Method 2b: cluster intercepts, x:w",
    "two_stage": "Method 3: two-stage",
    "between": "Method 4: between clusters",
    "three_effects": "Within, between and pooled effects of x",
}


@dataclass(frozen=True)
class OlsResult:
    """One classical fit, built once; ``to_dict()`` is its result JSON."""

    model: str
    label: str
    fixed: str
    call: str
    n: int
    groups: int
    fixef: dict
    se: dict
    t: dict
    p: dict
    df: dict
    vcov: list | None
    summary: str
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {"model": self.model, "kind": "ols", "label": self.label, "fixed": self.fixed,
               "call": self.call, "n": self.n, "groups": self.groups, "fixef": self.fixef,
               "se": self.se, "t": self.t, "p": self.p, "df": self.df, "vcov": self.vcov}
        out.update(self.extra)
        out["summary"] = self.summary
        return out


@dataclass(frozen=True)
class Prepared:
    """The columns a classical method needs, checked, with w's levels (reference first)."""

    frame: pd.DataFrame  # columns y, x, w (str), cluster (str)
    profile: Profile
    levels: tuple[str, str]
    ids: tuple[str, ...]  # cluster ids in R's factor order

    @cached_property
    def groups(self) -> Groups:
        """The rows' cluster codes, in the order of ``ids``."""
        codes = pd.Categorical(self.frame[self.profile.cluster], categories=list(self.ids)).codes
        return Groups(codes.astype(np.intp))

    @property
    def ref(self) -> str:
        return self.levels[0]

    @property
    def other(self) -> str:
        return self.levels[1]

    @property
    def w_term(self) -> str:
        """The R name of w's dummy, e.g. ``SectorPublic``."""
        return self.profile.w_term


def prepare(students: pd.DataFrame, profile: Profile) -> Prepared:
    """Check the role columns, drop incomplete rows (R's na.omit), fix w's levels."""
    cols = {"y": profile.y, "x": profile.x, "w": profile.w, "cluster": profile.cluster}
    missing = [f"{role} ('{col}')" for role, col in cols.items() if col not in students.columns]
    if missing:
        raise DataError(f"the student table lacks the columns of roles {', '.join(missing)} of profile "
                        f"'{profile.name}'; rebuild it with the derive step.")
    frame = students[list(cols.values())].dropna().copy()
    if frame.empty:
        raise DataError(f"the student table of profile '{profile.name}' has no complete rows.")
    for col in (profile.y, profile.x):
        if not pd.api.types.is_numeric_dtype(frame[col]):
            raise DataError(f"column '{col}' must be numeric for profile '{profile.name}'.")
        frame[col] = frame[col].astype(float)
    levels = _w_levels(frame[profile.w], profile)
    frame[profile.w] = frame[profile.w].astype(str)
    varies = frame.groupby(profile.cluster, observed=True)[profile.w].nunique() > 1
    if varies.any():
        raise DataError(f"w ('{profile.w}') varies within clusters {list(varies[varies].index)[:8]}; "
                        "it must be a cluster-level variable.")
    frame[profile.cluster] = frame[profile.cluster].astype(str)
    ids = tuple(sorted_ids(frame[profile.cluster].unique()))
    return Prepared(frame.reset_index(drop=True), profile, levels, ids)


def _w_levels(w: pd.Series, profile: Profile) -> tuple[str, str]:
    """The profile's (reference, other) levels of w, both of which the rows must hold."""
    levels = profile.w_levels
    present = set(w.astype(str).unique())
    missing = [lv for lv in levels if lv not in present]
    if missing:
        raise ModelError(f"the classical methods compare the two levels of w ('{profile.w}'), "
                         f"{' and '.join(levels)}; the sample lacks {', '.join(missing)}.")
    return levels


def formula_names(profile: Profile) -> dict[str, str]:
    """Role columns as they appear in formula text (backquoted unless syntactic)."""
    cols = {"y": profile.y, "x": profile.x, "w": profile.w, "cluster": profile.cluster,
            "mean_y": f"mean_{profile.y}", "mean_x": f"mean_{profile.x}"}
    return {k: _r_name(v) for k, v in cols.items()}


def _r_name(name: str) -> str:
    """A name as R prints it in a formula (backquoted unless syntactic)."""
    return name if re.fullmatch(r"[A-Za-z.][\w.]*", name) else f"`{name}`"


# --- shared OLS machinery -------------------------------------------------------------------

def ols(y: np.ndarray, X: pd.DataFrame):
    """statsmodels OLS, refusing a rank-deficient design (R would report NA coefficients)."""
    if len(y) <= X.shape[1]:
        raise ModelError(f"{len(y)} observations cannot estimate {X.shape[1]} coefficients and a variance.")
    A = X.to_numpy(dtype=float)
    norms = np.linalg.norm(A, axis=0)
    ev = np.linalg.eigvalsh((A / np.where(norms > 0, norms, 1)).T @ (A / np.where(norms > 0, norms, 1)))
    if norms.min() == 0 or ev.min() <= RANK_TOL**2 * ev.max():
        raise ModelError(f"the design's {X.shape[1]} columns are linearly dependent: some coefficients "
                         f"({', '.join(list(X.columns)[:6])}, ...) are not identified.")
    return sm.OLS(np.asarray(y, dtype=float), X).fit()


def coef_record(res) -> dict:
    """fixef/se/t/p/df/vcov of a fit, keyed by R's names (vcov null above FULL_VCOV_MAX)."""
    names = list(res.params.index)
    df = int(round(res.df_resid))
    vcov = res.cov_params().loc[names, names].to_numpy().tolist() if len(names) <= FULL_VCOV_MAX else None
    return {"fixef": _named(res.params), "se": _named(res.bse), "t": _named(res.tvalues),
            "p": _named(res.pvalues), "df": {k: df for k in names}, "vcov": vcov}


def _named(series: pd.Series) -> dict:
    return {str(k): float(v) for k, v in series.items()}


def _combine(res, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L b and L V L' of a statsmodels fit or of a LinearFit (which never forms V)."""
    if isinstance(res, LinearFit):
        return res.combine(L)
    return L @ res.params.to_numpy(), L @ res.cov_params().to_numpy() @ L.T


def lincomb(res, L: np.ndarray) -> dict:
    """Estimate and covariance of L b (the figures' ``{coef, vcov}`` blocks)."""
    est, cov = _combine(res, L)
    return {"coef": est.tolist(), "vcov": cov.tolist()}


def wald(res, L: np.ndarray, names: list[str]) -> dict:
    """F test of L b = 0 with per-row t tests (the notes' ``wald(fit, L)``)."""
    (est, cov), df = _combine(res, L), int(round(res.df_resid))
    F = float(est @ np.linalg.solve(cov, est)) / L.shape[0]
    rows = {}
    for name, e, v in zip(names, est, np.diag(cov)):
        se = float(np.sqrt(v))
        t = float(e) / se
        rows[name] = {"estimate": float(e), "se": se, "df": df, "t": t,
                      "p": float(2 * stats.t.sf(abs(t), df))}
    return {"F": F, "df": [L.shape[0], df], "p": float(stats.f.sf(F, L.shape[0], df)), "rows": rows}


def fit_stats(res) -> dict:
    """Residual SE, R-squared and the overall F of an lm fit (summary.lm's footer)."""
    q = np.quantile(res.resid, [0, 0.25, 0.5, 0.75, 1])
    return {"sigma": float(np.sqrt(res.scale)), "df_resid": int(round(res.df_resid)),
            "r2": float(res.rsquared), "adj_r2": float(res.rsquared_adj), "F": float(res.fvalue),
            "F_df": [int(round(res.df_model)), int(round(res.df_resid))], "F_p": float(res.f_pvalue),
            "resid_quantiles": q.tolist()}


def _result(name: str, prof: Profile, fixed: str, n: int, groups: int, record: dict,
            summary: str, **extra) -> OlsResult:
    return OlsResult(model=name, label=LABELS[name], fixed=fixed,
                     call=f"hlm.classic.{name}(students, profile)", n=n, groups=groups,
                     fixef=record["fixef"], se=record["se"], t=record["t"], p=record["p"],
                     df=record["df"], vcov=record["vcov"], summary=summary, extra=extra)


def cluster_w(d: Prepared) -> dict[str, str]:
    """w's level of each cluster."""
    return d.frame.groupby(d.profile.cluster, observed=True)[d.profile.w].first().to_dict()


def line_failures(d: Prepared) -> tuple[np.ndarray, dict[str, dict]]:
    """Which clusters (in ``ids`` order) get a line, and why the others do not."""
    p, g = d.profile, d.groups
    x, w = d.frame[p.x].to_numpy(), d.frame[p.w].to_numpy()
    ok, first, failed = line_ok(g, x), g.first, {}
    for j in np.flatnonzero(~ok):
        n, row = int(g.size[j]), first[j]
        reason = (f"only {n} observation: a line needs two distinct x values" if n < 2
                  else f"x is constant ({x[row]:g}) in this cluster: the slope is not identified")
        failed[d.ids[j]] = {"cluster": d.ids[j], "n": n, "w": str(w[row]), "reason": reason}
    return ok, failed


def _of(k: int, total: int, many: str) -> str:
    """'all 30 villages', '12 of the 30 villages' (thousands separated)."""
    return f"all {total:,} {many}" if k == total else f"{k:,} of the {total:,} {many}"


def _why_no_lines(d: Prepared, failed: dict, level: str | None = None) -> str:
    """Why clusters (of `level`, or all) have no line, in the dataset's words: a line needs two
    distinct values of x in the cluster."""
    p = d.profile
    wmap = cluster_w(d)
    total = sum(1 for c in d.ids if level is None or str(wmap[c]) == level)
    items = [f for f in failed.values() if level is None or f["w"] == level]
    single = sum(1 for f in items if f["n"] < 2)
    const = len(items) - single
    cls, xl = (f"{level} {p.clusters_label}" if level else p.clusters_label), p.label("x")
    parts = []
    if const:
        parts.append(f"{xl} takes a single value in {_of(const, total, cls)}")
    if single:
        parts.append(f"{_of(single, total, cls)} have a single {p.unit_label}")
    return f"a line needs two distinct values of {xl} in a {p.cluster_label}, and " + " and ".join(parts)


def _failed_text(failed: dict, what: str, show: int = 10) -> str:
    """One line naming the clusters without a line (the first `show`; all are in ``failed``)."""
    items = [f"{c['cluster']} ({c['reason']})" for c in list(failed.values())[:show]]
    more = f"; and {len(failed) - show} more (see failed)" if len(failed) > show else ""
    return f"Clusters without a line ({what}): " + "; ".join(items) + more


# --- Method 1: pooled OLS ---------------------------------------------------------------------

def pooled(students: pd.DataFrame, profile: Profile) -> OlsResult:
    """Method 1: ``y ~ x * w``, ignoring clusters."""
    d = prepare(students, profile)
    p, f = profile, d.frame
    dummy = (f[p.w] == d.other).astype(float)
    X = pd.DataFrame({INTERCEPT: 1.0, p.x: f[p.x], d.w_term: dummy, f"{p.x}:{d.w_term}": f[p.x] * dummy})
    res = ols(f[p.y].to_numpy(), X)
    fs = fit_stats(res)
    q = formula_names(p)
    fixed = f"{q['y']} ~ {q['x']} * {q['w']}"
    by_w = {d.ref: lincomb(res, np.array([[1, 0, 0, 0], [0, 1, 0, 0]], float)),
            d.other: lincomb(res, np.array([[1, 0, 1, 0], [0, 1, 0, 1]], float))}
    diff = lincomb(res, np.array([[0, 0, 1, 0], [0, 0, 0, 1]], float))
    return _result("pooled", p, fixed, len(f), len(d.ids), coef_record(res),
                   lm_summary(fixed, "students", res, fs), **fs, by_w=by_w, diff=diff)


# --- Method 2a: a line per cluster --------------------------------------------------------------

def _level_means(names: list[str], members: list[str], prefix: str, x: str) -> np.ndarray:
    """Rows of L averaging the intercepts and the slopes of `members` with equal weights."""
    L = np.zeros((2, len(names)))
    pos = {n: i for i, n in enumerate(names)}
    for cid in members:
        L[0, pos[f"{prefix}{cid}"]] = 1 / len(members)
        L[1, pos[f"{prefix}{cid}:{x}"]] = 1 / len(members)
    return L


def fe_lines(students: pd.DataFrame, profile: Profile) -> OlsResult:
    """Method 2a: ``y ~ cluster / x - 1``, then Wald tests of w's equally weighted means."""
    d = prepare(students, profile)
    p, f, g = profile, d.frame, d.groups
    has_line, failed = line_failures(d)
    ok = [cid for cid, k in zip(d.ids, has_line) if k]
    names = [f"{p.cluster}{cid}" for cid in d.ids] + [f"{p.cluster}{cid}:{p.x}" for cid in ok]
    res, blocks = separate_lines(g, f[p.x].to_numpy(), f[p.y].to_numpy(), has_line, names)
    wmap, J = cluster_w(d), len(d.ids)
    clusters = {}
    for k, j in enumerate(np.flatnonzero(has_line)):
        cid = d.ids[j]
        clusters[cid] = {"intercept": float(res.coef[j]), "slope": float(res.coef[J + k]),
                         "vcov": blocks[j].tolist(), "n": int(g.size[j]), "w": wmap[cid]}
    Ls = {}
    for lv in d.levels:
        members = [cid for cid in ok if wmap[cid] == lv]
        if not members:
            raise ModelError(f"no {p.cluster_label} with {p.label('w')} {lv} has a line of its own "
                             f"({_why_no_lines(d, failed, str(lv))}), so the {p.label('w')} averages of the "
                             f"{p.cluster_label} lines cannot be formed")
        Ls[lv] = _level_means(names, members, p.cluster, p.x)
    diffmat = Ls[d.other] - Ls[d.ref]
    test = wald(res, diffmat, ["int_diff", "slope_diff"])
    levels = wald(res, np.vstack([Ls[lv] for lv in d.levels]),
                  [f"{lv} {part}" for lv in d.levels for part in ("int", "slope")])
    q = formula_names(p)
    fixed = f"{q['y']} ~ {q['cluster']} / {q['x']} - 1"
    fs = fit_stats(res)
    parts = [lm_summary(fixed, "students", res, fs), _wald_text(test, d)]
    if failed:
        parts.insert(1, _failed_text(failed, "an intercept only, left out of the means"))
    text = "\n\n".join(parts)
    return _result("fe_lines", p, fixed, len(f), len(d.ids), coef_record(res), text,
                   sigma=fs["sigma"], df_resid=fs["df_resid"], clusters=clusters,
                   failed=list(failed.values()),
                   by_w={lv: lincomb(res, Ls[lv]) for lv in d.levels}, diff=lincomb(res, diffmat),
                   wald=test, wald_levels={k: levels[k] for k in ("F", "df", "p", "rows")})


def _wald_text(test: dict, d: Prepared) -> str:
    head = (f"Wald test: {d.other} - {d.ref}, means of the clusters' intercepts and slopes "
            "(equal weight per cluster)")
    top = _align(["numDF", "denDF", "F-value", "p-value"],
                 [[str(test["df"][0]), str(test["df"][1]), f"{test['F']:.7g}", fmt_p(test["p"])]], left=0)
    rows = [[k, f"{r['estimate']:.7g}", f"{r['se']:.6g}", str(r["df"]), f"{r['t']:.7g}", fmt_p(r["p"])]
            for k, r in test["rows"].items()]
    body = _align(["", "Estimate", "Std.Error", "DF", "t-value", "p-value"], rows)
    return "\n".join([head, *top, *body])


# --- Method 2b: cluster intercepts, slopes by w ----------------------------------------------------

def fe_common_slope(students: pd.DataFrame, profile: Profile) -> OlsResult:
    """Method 2b: ``y ~ x + cluster + x:w`` (a slope per level of w, an intercept per cluster)."""
    d = prepare(students, profile)
    p, f, J = profile, d.frame, len(d.ids)
    x = f[p.x].to_numpy()
    term = f"{p.x}:{d.w_term}"
    varies = f.groupby(p.cluster, observed=True)[p.x].nunique() > 1
    wmap = cluster_w(d)
    for lv in d.levels:
        if not any(varies[c] for c in d.ids if wmap[c] == lv):
            cls, xl = p.clusters_label, p.label("x")
            raise ModelError(f"{xl} does not vary within any of the {lv} {cls}, so their common slope of "
                             f"{xl} is not identified: the {p.cluster_label} intercepts absorb every "
                             f"difference in {xl} there")
    names = [INTERCEPT] + [f"{p.cluster}{cid}" for cid in d.ids[1:]] + [p.x, term]
    res = common_slopes(d.groups, np.column_stack([x, x * (f[p.w] == d.other).to_numpy(float)]),
                        f[p.y].to_numpy(), names)
    res = res.take([0, J, *range(1, J), J + 1])  # R's order: (Intercept), x, the clusters, x:w
    rec, fs = coef_record(res), fit_stats(res)
    slopes = {"names": [p.x, term], "vcov": res.take([1, J + 1]).cov_params().to_numpy().tolist()}
    q = formula_names(p)
    fixed = f"{q['y']} ~ {q['x']} + {q['cluster']} + {q['x']}:{q['w']}"
    effect = {"estimate": rec["fixef"][term], "se": rec["se"][term], "df": rec["df"][term],
              "t": rec["t"][term], "p": rec["p"][term]}
    return _result("fe_common_slope", p, fixed, len(f), J, rec, lm_summary(fixed, "students", res, fs), **fs,
                   term=term, effect=effect, vcov_slopes=slopes)


# --- Method 3: two stages ----------------------------------------------------------------------

def cluster_lines(d: Prepared) -> tuple[dict, dict]:
    """Per-cluster OLS lines ``y ~ x`` ({id: {intercept, slope, n, w}}) and the failures."""
    p, g, wmap = d.profile, d.groups, cluster_w(d)
    ok, failed = line_failures(d)
    fit = per_cluster_lines(g, d.frame[p.x].to_numpy(), d.frame[p.y].to_numpy(), ok)
    lines = {d.ids[j]: {"intercept": float(fit["intercept"][j]), "slope": float(fit["slope"][j]),
                        "n": int(g.size[j]), "w": wmap[d.ids[j]]} for j in np.flatnonzero(ok)}
    return lines, failed


def _mlm_record(fits: list, resp: list[str], Xw: pd.DataFrame, S: np.ndarray) -> tuple[dict, dict]:
    """Coefficients of a multivariate lm, named as R's ``vcov(mlm)`` (``response:term``),
    with ``vcov = kronecker(S, (X'X)^-1)``; and the ``coef`` block {intercept|slope: {term: ...}}."""
    names = [f"{r}:{t}" for r in resp for t in Xw.columns]
    dfr = int(round(fits[0].df_resid))
    XtXi = np.linalg.inv(Xw.T.to_numpy() @ Xw.to_numpy())
    rec = {"fixef": {}, "se": {}, "t": {}, "p": {}, "df": {k: dfr for k in names},
           "vcov": np.kron(S, XtXi).tolist()}
    coef = {}
    for key, r, fit in zip(("intercept", "slope"), resp, fits):
        coef[key] = {}
        for term in Xw.columns:
            vals = {"estimate": fit.params[term], "se": fit.bse[term], "t": fit.tvalues[term],
                    "p": fit.pvalues[term]}
            coef[key][term] = {k: float(v) for k, v in vals.items()}
            for k, src in (("fixef", "estimate"), ("se", "se"), ("t", "t"), ("p", "p")):
                rec[k][f"{r}:{term}"] = coef[key][term][src]
    return rec, coef


def two_stage(students: pd.DataFrame, profile: Profile) -> OlsResult:
    """Method 3: a line per cluster, then the multivariate regression ``cbind(int, slope) ~ w``."""
    d = prepare(students, profile)
    p = profile
    lines, failed = cluster_lines(d)
    ids = list(lines)
    w = np.array([lines[c]["w"] == d.other for c in ids], float)
    m_lv = {d.ref: int((w == 0).sum()), d.other: int((w == 1).sum())}
    if min(m_lv.values()) == 0 or len(ids) < 3:
        cls, wl = p.clusters_label, p.label("w")
        raise ModelError(f"the two-stage method needs a line in at least one {p.cluster_label} of each "
                         f"{wl} and in 3 {cls} in all; here {m_lv[d.ref]:,} {d.ref} and {m_lv[d.other]:,} "
                         f"{d.other} {cls} have one ({_why_no_lines(d, failed)})")
    Y = np.array([[lines[c]["intercept"], lines[c]["slope"]] for c in ids])
    Xw = pd.DataFrame({INTERCEPT: np.ones(len(ids)), d.w_term: w})
    fits = [ols(Y[:, k], Xw) for k in range(2)]
    dfr = len(ids) - 2
    E = np.column_stack([r.resid for r in fits])
    S = E.T @ E / dfr
    resp = [INTERCEPT, p.x]  # lmList's coefficient names, R's response names
    rec, coef = _mlm_record(fits, resp, Xw, S)
    by_w = {lv: {"coef": Y[w == (lv == d.other)].mean(axis=0).tolist(), "vcov": (S / m_lv[lv]).tolist(),
                 "clusters": m_lv[lv]} for lv in d.levels}
    diff = {"coef": (np.array(by_w[d.other]["coef"]) - np.array(by_w[d.ref]["coef"])).tolist(),
            "vcov": (S * (1 / m_lv[d.ref] + 1 / m_lv[d.other])).tolist()}
    w_name = formula_names(p)["w"]
    text = "\n\n".join(f"Response {r} :\n\n" + lm_summary(f"{_r_name(r)} ~ {w_name}", "cluster_lines", fit, fit_stats(fit))
                       for r, fit in zip(resp, fits))
    if failed:
        text += "\n\n" + _failed_text(failed, "not in the regression")
    n = sum(lines[c]["n"] for c in ids)
    return _result("two_stage", p, f"cbind(int, slope) ~ {w_name}", n, len(ids), rec, text,
                   groups_total=len(d.ids), df_resid=dfr, coef=coef, clusters=lines,
                   failed=list(failed.values()), resid_cov=S.tolist(), by_w=by_w, diff=diff)


# --- Method 4: between clusters --------------------------------------------------------------

def cluster_means(d: Prepared) -> pd.DataFrame:
    """One row per cluster (factor order): mean_x, mean_y, n, w."""
    p = d.profile
    g = d.frame.groupby(p.cluster, observed=True)
    out = pd.DataFrame({"mean_x": g[p.x].mean(), "mean_y": g[p.y].mean(), "n": g.size(),
                        "w": g[p.w].first()})
    return out.loc[list(d.ids)]


def _between_fit(d: Prepared):
    means = cluster_means(d)
    X = pd.DataFrame({INTERCEPT: 1.0, d.profile.x: means["mean_x"].to_numpy()}, index=means.index)
    return means, ols(means["mean_y"].to_numpy(), X.reset_index(drop=True))


def between(students: pd.DataFrame, profile: Profile) -> OlsResult:
    """Method 4: ``mean_y ~ mean_x`` on cluster means (the ecological regression)."""
    d = prepare(students, profile)
    p = profile
    means, res = _between_fit(d)
    fs = fit_stats(res)
    clusters = {cid: {"mean_x": float(mx), "mean_y": float(my), "n": int(n), "w": w}
                for cid, mx, my, n, w in zip(means.index, means["mean_x"], means["mean_y"], means["n"], means["w"])}
    by_w, diff = _between_by_w(d, means)
    q = formula_names(p)
    return _result("between", p, f"{q['mean_y']} ~ {q['mean_x']}", len(d.frame), len(d.ids), coef_record(res),
                   lm_summary(f"{q['y']} ~ {q['x']}", "cluster_means", res, fs), **fs, clusters=clusters,
                   by_w=by_w, diff=diff)


def _between_by_w(d: Prepared, means: pd.DataFrame) -> tuple[dict, dict]:
    """The between-cluster line in each level of w (``mean_y ~ mean_x * w`` on cluster means)."""
    dummy = (means["w"] == d.other).to_numpy(float)
    mx = means["mean_x"].to_numpy()
    X = pd.DataFrame({INTERCEPT: 1.0, d.profile.x: mx, d.w_term: dummy, f"{d.profile.x}:{d.w_term}": mx * dummy})
    res = ols(means["mean_y"].to_numpy(), X)
    by_w = {d.ref: lincomb(res, np.array([[1, 0, 0, 0], [0, 1, 0, 0]], float)),
            d.other: lincomb(res, np.array([[1, 0, 1, 0], [0, 1, 0, 1]], float))}
    return by_w, lincomb(res, np.array([[0, 0, 1, 0], [0, 0, 0, 1]], float))


# --- the three effects of x ------------------------------------------------------------------

def three_effects(students: pd.DataFrame, profile: Profile) -> OlsResult:
    """Within (``y ~ cluster + x``), between (Method 4) and pooled (``y ~ x``) effects of x.

    ``lines`` gives each effect as a line in data space: the within line through the
    centroid of the cluster means (the equally weighted mean of the clusters'
    intercepts), the between line as fitted, the pooled line as fitted.
    """
    d = prepare(students, profile)
    p, f = profile, d.frame
    if not (f.groupby(p.cluster, observed=True)[p.x].nunique() > 1).any():
        xl, cl = p.label("x"), p.cluster_label
        raise ModelError(f"{xl} does not vary within any {cl} (each {cl} has a single value of {xl}), so "
                         f"there is no within-{cl} effect of {xl} to estimate, and nothing for the pooled "
                         f"effect to blend it with")
    names = [INTERCEPT] + [f"{p.cluster}{cid}" for cid in d.ids[1:]] + [p.x]
    within = common_slopes(d.groups, f[[p.x]].to_numpy(), f[p.y].to_numpy(), names)
    means, betw = _between_fit(d)
    pool = ols(f[p.y].to_numpy(), pd.DataFrame({INTERCEPT: 1.0, p.x: f[p.x]}))
    fits = {"within": within, "between": betw, "pooled": pool}
    q = formula_names(p)
    formulas = {"within": f"{q['y']} ~ {q['cluster']} + {q['x']}", "between": f"{q['mean_y']} ~ {q['mean_x']}",
                "pooled": f"{q['y']} ~ {q['x']}"}
    eff = {k: {"estimate": float(r.params[p.x]), "se": float(r.bse[p.x]), "t": float(r.tvalues[p.x]),
               "p": float(r.pvalues[p.x]), "df": int(round(r.df_resid)), "fixed": formulas[k]}
           for k, r in fits.items()}
    b_w = eff["within"]["estimate"]
    lines = {"within": {"intercept": float(means["mean_y"].mean() - b_w * means["mean_x"].mean()),
                        "slope": b_w}}
    for k in ("between", "pooled"):
        lines[k] = {"intercept": float(fits[k].params[INTERCEPT]), "slope": eff[k]["estimate"]}
    keys = list(fits)
    rec = {"fixef": {k: eff[k]["estimate"] for k in keys}, "se": {k: eff[k]["se"] for k in keys},
           "t": {k: eff[k]["t"] for k in keys}, "p": {k: eff[k]["p"] for k in keys},
           "df": {k: eff[k]["df"] for k in keys},
           # separate fits: their covariances are not estimated (null off the diagonal)
           "vcov": [[eff[a]["se"] ** 2 if a == b else None for b in keys] for a in keys]}
    fixed = "; ".join(formulas.values())
    return _result("three_effects", p, fixed, len(f), len(d.ids), rec, _effects_text(eff, p), **eff,
                   lines=lines)


def _effects_text(eff: dict, p: Profile) -> str:
    rows = [(k, eff[k]["estimate"], eff[k]["se"], eff[k]["t"], eff[k]["p"]) for k in eff]
    body = coef_table(rows)
    src = "\n".join(f"  {k:<8} {v['fixed']}  ({v['df']} residual df)" for k, v in eff.items())
    return f"Effects of {p.x} on {p.y}:\n{body}\n\nFrom the fits:\n{src}"
