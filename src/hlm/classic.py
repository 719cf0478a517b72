"""The notes' classical methods 1-4 with statsmodels OLS, as tidy result records.

Each method takes the derived student table (one row per unit: DESIGN.md,
``students.parquet``) and a profile, and returns an :class:`OlsResult` whose
``to_dict()`` follows the result JSON of DESIGN.md with ``kind: "ols"``:

- :func:`pooled` (Method 1): ``y ~ x * w`` ignoring clusters;
- :func:`fe_lines` (Method 2a): a line per cluster, ``y ~ cluster / x - 1``, and
  Wald tests of the equally weighted sector means (the notes' ``wald(lml, L)``);
- :func:`fe_common_slope` (Method 2b): ``y ~ x + cluster + x:w``;
- :func:`two_stage` (Method 3): per-cluster lines, then ``cbind(int, slope) ~ w``;
- :func:`between` (Method 4): ``mean_y ~ mean_x`` on cluster means;
- :func:`three_effects`: the within, between and pooled effects of x.

Coefficient names are R's, with the dataset's columns (``SES:SectorPublic``).
Difference blocks (``diff``) are always the non-reference level of w minus
the reference level.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from hlm.config import Profile
from hlm.data import id_sort_key
from hlm.errors import DataError, ModelError
from hlm.rprint import align as _align, coef_table, fmt_p, lm_summary

INTERCEPT = "(Intercept)"
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
    vcov: list
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

    @property
    def ref(self) -> str:
        return self.levels[0]

    @property
    def other(self) -> str:
        return self.levels[1]

    @property
    def w_term(self) -> str:
        """The R name of w's dummy, e.g. ``SectorPublic``."""
        return f"{self.profile.w}{self.other}"


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
    raw_ids = frame[profile.cluster]
    frame[profile.cluster] = raw_ids.astype(str)
    order = pd.DataFrame({"id": frame[profile.cluster], "key": id_sort_key(raw_ids.astype(str))}).drop_duplicates("id")
    ids = tuple(order.sort_values(["key", "id"])["id"])
    return Prepared(frame.reset_index(drop=True), profile, levels, ids)


def _w_levels(w: pd.Series, profile: Profile) -> tuple[str, str]:
    present = set(w.astype(str))
    if isinstance(w.dtype, pd.CategoricalDtype):
        ordered = [str(c) for c in w.cat.categories if str(c) in present]
    else:
        ordered = sorted(present)
    ref = str(profile.w_reference) if profile.w_reference is not None else ordered[0]
    if ref not in present:
        raise DataError(f"the reference level '{ref}' of w ('{profile.w}') does not occur in the sample.")
    levels = [ref] + [lv for lv in ordered if lv != ref]
    if len(levels) != 2:
        raise ModelError(f"the classical methods compare two levels of w ('{profile.w}'); the sample has "
                         f"{len(levels)}: {', '.join(levels)}.")
    return levels[0], levels[1]


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
    if norms.min() == 0 or ev.min() <= 1e-10 * ev.max():
        raise ModelError(f"the design's {X.shape[1]} columns are linearly dependent: some coefficients "
                         f"({', '.join(list(X.columns)[:6])}, ...) are not identified.")
    return sm.OLS(np.asarray(y, dtype=float), X).fit()


def coef_record(res) -> dict:
    """fixef/se/t/p/df/vcov of a statsmodels fit, keyed by R's names."""
    names = list(res.params.index)
    df = int(round(res.df_resid))
    return {"fixef": _named(res.params), "se": _named(res.bse), "t": _named(res.tvalues),
            "p": _named(res.pvalues), "df": {k: df for k in names},
            "vcov": res.cov_params().loc[names, names].to_numpy().tolist()}


def _named(series: pd.Series) -> dict:
    return {str(k): float(v) for k, v in series.items()}


def lincomb(res, L: np.ndarray) -> dict:
    """Estimate and covariance of L b (the figures' ``{coef, vcov}`` blocks)."""
    b, V = res.params.to_numpy(), res.cov_params().to_numpy()
    return {"coef": (L @ b).tolist(), "vcov": (L @ V @ L.T).tolist()}


def wald(res, L: np.ndarray, names: list[str]) -> dict:
    """F test of L b = 0 with per-row t tests (the notes' ``wald(fit, L)``)."""
    b, V, df = res.params.to_numpy(), res.cov_params().to_numpy(), int(round(res.df_resid))
    est, cov = L @ b, L @ V @ L.T
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


def line_failure(x: np.ndarray) -> str | None:
    """Why a straight line cannot be fitted to a cluster's x values (None if it can)."""
    if len(x) < 2:
        return f"only {len(x)} observation: a line needs two distinct x values"
    if np.ptp(x) <= 1e-12 * max(1.0, float(np.abs(x).max())):
        return f"x is constant ({x[0]:g}) in this cluster: the slope is not identified"
    return None


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

def _dummies(d: Prepared) -> np.ndarray:
    codes = pd.Categorical(d.frame[d.profile.cluster], categories=list(d.ids)).codes
    return (codes[:, None] == np.arange(len(d.ids))[None, :]).astype(float)


def _failures(d: Prepared) -> dict[str, dict]:
    """Clusters where a line cannot be fitted, with the reason."""
    p, wmap, out = d.profile, cluster_w(d), {}
    for cid, grp in d.frame.groupby(p.cluster, observed=True, sort=False):
        reason = line_failure(grp[p.x].to_numpy())
        if reason:
            out[cid] = {"cluster": cid, "n": int(len(grp)), "w": wmap[cid], "reason": reason}
    return {cid: out[cid] for cid in d.ids if cid in out}


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
    p, f = profile, d.frame
    failed = _failures(d)
    ok = [cid for cid in d.ids if cid not in failed]
    D = _dummies(d)
    ints = [f"{p.cluster}{cid}" for cid in d.ids]
    slope_idx = [i for i, cid in enumerate(d.ids) if cid not in failed]
    X = pd.DataFrame(np.hstack([D, D[:, slope_idx] * f[p.x].to_numpy()[:, None]]),
                     columns=ints + [f"{p.cluster}{cid}:{p.x}" for cid in ok])
    res = ols(f[p.y].to_numpy(), X)
    names, wmap = list(X.columns), cluster_w(d)
    V = pd.DataFrame(res.cov_params().to_numpy(), index=names, columns=names)
    n_of = f.groupby(p.cluster, observed=True).size()
    clusters = {}
    for cid in ok:
        pair = [f"{p.cluster}{cid}", f"{p.cluster}{cid}:{p.x}"]
        clusters[cid] = {"intercept": float(res.params[pair[0]]), "slope": float(res.params[pair[1]]),
                         "vcov": V.loc[pair, pair].to_numpy().tolist(), "n": int(n_of[cid]), "w": wmap[cid]}
    Ls = {}
    for lv in d.levels:
        members = [cid for cid in ok if wmap[cid] == lv]
        if not members:
            raise ModelError(f"no cluster with w = {lv} has a fitted line; the sector means are undefined.")
        Ls[lv] = _level_means(names, members, p.cluster, p.x)
    diffmat = Ls[d.other] - Ls[d.ref]
    test = wald(res, diffmat, ["int_diff", "slope_diff"])
    levels = wald(res, np.vstack([Ls[lv] for lv in d.levels]),
                  [f"{lv} {part}" for lv in d.levels for part in ("int", "slope")])
    q = formula_names(p)
    fixed = f"{q['y']} ~ {q['cluster']} / {q['x']} - 1"
    fs = fit_stats(res)
    text = lm_summary(fixed, "students", res, fs) + "\n\n" + _wald_text(test, d)
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
    p, f = profile, d.frame
    D = _dummies(d)
    x = f[p.x].to_numpy()
    term = f"{p.x}:{d.w_term}"
    cols = {INTERCEPT: np.ones(len(f)), p.x: x}
    cols.update({f"{p.cluster}{cid}": D[:, j] for j, cid in enumerate(d.ids) if j > 0})
    cols[term] = x * (f[p.w] == d.other).to_numpy(float)
    res = ols(f[p.y].to_numpy(), pd.DataFrame(cols))
    rec, fs = coef_record(res), fit_stats(res)
    q = formula_names(p)
    fixed = f"{q['y']} ~ {q['x']} + {q['cluster']} + {q['x']}:{q['w']}"
    effect = {"estimate": rec["fixef"][term], "se": rec["se"][term], "df": rec["df"][term],
              "t": rec["t"][term], "p": rec["p"][term]}
    return _result("fe_common_slope", p, fixed, len(f), len(d.ids), rec,
                   lm_summary(fixed, "students", res, fs), **fs, term=term, effect=effect)


# --- Method 3: two stages ----------------------------------------------------------------------

def cluster_lines(d: Prepared) -> tuple[dict, dict]:
    """Per-cluster OLS lines ``y ~ x`` ({id: {intercept, slope, n, w}}) and the failures."""
    p, wmap, failed = d.profile, cluster_w(d), _failures(d)
    lines = {}
    for cid, grp in d.frame.groupby(p.cluster, observed=True, sort=False):
        if cid in failed:
            continue
        x, y = grp[p.x].to_numpy(), grp[p.y].to_numpy()
        xc = x - x.mean()
        slope = float(xc @ (y - y.mean()) / (xc @ xc))
        lines[cid] = {"intercept": float(y.mean() - slope * x.mean()), "slope": slope,
                      "n": int(len(grp)), "w": wmap[cid]}
    return {cid: lines[cid] for cid in d.ids if cid in lines}, failed


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
        raise ModelError(f"two-stage needs fitted lines in both levels of w and 3 clusters; got {m_lv}.")
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
        text += "\n\nClusters without a line (not in the regression): " + "; ".join(
            f"{c['cluster']} ({c['reason']})" for c in failed.values())
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
    clusters = {cid: {"mean_x": float(r.mean_x), "mean_y": float(r.mean_y), "n": int(r.n), "w": r.w}
                for cid, r in means.iterrows()}
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
    D = _dummies(d)
    cols = {INTERCEPT: np.ones(len(f))}
    cols.update({f"{p.cluster}{cid}": D[:, j] for j, cid in enumerate(d.ids) if j > 0})
    cols[p.x] = f[p.x].to_numpy()
    within = ols(f[p.y].to_numpy(), pd.DataFrame(cols))
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
