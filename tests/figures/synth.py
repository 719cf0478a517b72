"""Synthetic inputs for the figure tests: tables in the derived-table format and fit
records, computed here with plain numpy so the figures can be tested without the data
and model stages.

Every fake record is built from its schema (hlm.records): :func:`fake` takes the
smallest valid record of a kind and sets the fields computed here, and validates the
result, so a fake can never drift from what the pipeline writes.

The mixed-model "fits" use given variance components (G, sigma2) and the exact GLS
and BLUP formulas, so their geometry (BLUP between BLUE and the GLS mean) holds.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from hlm import records
from tests.records_fakes import minimal
from hlm.config import Profile, Role
from hlm.simulate import simulate_two_level


def make_profile(sex: bool = True, names: dict | None = None) -> Profile:
    n = {"cluster": "School", "x": "SES", "y": "MathAch", "w": "Sector", "sex": "Sex"}
    n.update(names or {})
    custom = bool(names)
    roles = {"y": Role(n["y"], n["y"] if custom else "math achievement"), "x": Role(n["x"], n["x"]),
             "w": Role(n["w"], n["w"] if custom else "sector", reference="Catholic",
                      levels=("Catholic", "Public"))}
    if sex:
        roles["sex"] = Role(n["sex"], n["sex"], female="Female")
    return Profile(name="synth", title="synthetic", students=None, schools=None, cluster=n["cluster"],
                   sample="all", roles=roles, cluster_label="clinic" if custom else "school",
                   unit_label="patient" if custom else "student")


def derive(raw: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Add the derived columns the data stage writes (row, n, cvar/dvar, sex, sid)."""
    df = raw.copy()
    c, x, w = profile.cluster, profile.x, profile.w
    df[c] = df[c].astype(str)
    df.insert(0, "row", np.arange(1, len(df) + 1))
    g = df.groupby(c, sort=False)
    df["n"] = g[x].transform("size")
    df[profile.cvar_x] = g[x].transform("mean")
    df[profile.dvar_x] = df[x] - df[profile.cvar_x]
    ref = profile.w_levels[0]
    df[w] = pd.Categorical(df[w].astype(str), categories=list(profile.w_levels))
    suffix = pd.Series("", index=df.index)
    if profile.sex:
        fem = (df[profile.sex] == profile.roles["sex"].female).astype(float)
        df["sex_comp"] = fem.groupby(df[c]).transform("mean")
        df["sex_cat"] = np.where(df["sex_comp"] == 1, "Girls", np.where(df["sex_comp"] == 0, "Boys", "Coed"))
        suffix = df["sex_cat"].str[0]
    sid = df[w].astype(str).str[0] + df[c] + suffix
    key = df[profile.cvar_x] + 1000 * (df[w].astype(str) == str(ref))
    order = (pd.DataFrame({"sid": sid, "k": key}).groupby("sid")["k"].first().sort_values(kind="stable").index)
    df["sid"] = pd.Categorical(sid, categories=list(order), ordered=True)
    return df


def synthetic_students(n_clusters: int = 8, seed: int = 3, sex: bool = True, profile=None) -> pd.DataFrame:
    profile = profile or make_profile(sex)
    sim = simulate_two_level(n_clusters, gamma=(12, 2), G=[[6, 1], [1, 1.5]], sigma2=30, mean_n=25,
                             w_effect=(-2, 1), seed=seed)
    rng = np.random.default_rng(seed + 1)
    raw = pd.DataFrame({profile.cluster: "S" + sim["cluster"].str[1:],
                        profile.y: sim["y"].round(3), profile.x: sim["x"].round(3),
                        profile.w: np.where(sim["w"] == 1, "Public", "Catholic"),
                        "Size": 500 + 10 * sim["w"]})
    if sex:
        fem = rng.random(len(sim)) < 0.5
        # one single-sex cluster of each kind, as in the notes
        ids = raw[profile.cluster].unique()
        fem[raw[profile.cluster].to_numpy() == ids[0]] = True
        fem[raw[profile.cluster].to_numpy() == ids[1]] = False
        raw[profile.sex] = np.where(fem, "Female", "Male")
    return derive(raw, profile)


def schools_table(students: pd.DataFrame, profile) -> pd.DataFrame:
    c = profile.cluster
    g = students.groupby(c, sort=False, observed=True)
    tab = pd.DataFrame({"sid": g["sid"].first().astype(str), "n": g.size(),
                        profile.w: g[profile.w].first(),
                        f"mean_{profile.y}": g[profile.y].mean(), f"mean_{profile.x}": g[profile.x].mean()})
    order = list(students["sid"].cat.categories)
    tab = tab.reset_index()
    return tab.sort_values("sid", key=lambda s: s.map({v: i for i, v in enumerate(order)})).reset_index(drop=True)


# ------------------------------------------------------------------ fits

def _plain(obj):
    """JSON values (numpy scalars and arrays to Python), as a record reads back from its file."""
    return json.loads(json.dumps(obj, default=lambda v: v.tolist()))


def fake(record_kind: str, /, **fields) -> dict:
    """The smallest valid record of `record_kind` (hlm.records) with `fields` set; validated."""
    return minimal(record_kind, **_plain(fields))


def fake_ols(method: str, **fields) -> dict:
    """A fit record of classical method `method` (the record's shape depends on it)."""
    return fake("fit", model=method, kind="ols", call=records.OLS_CALL.format(method), **fields)


def fake_lmm(model: str, **fields) -> dict:
    """A fit record of a mixed model, fitted (status ``fitted``) unless `fields` say otherwise."""
    return fake("fit", model=model, kind="lmm", **fields)


def fake_failure(model: str, kind: str = "lmm", error: str = "ModelError: not identified", **fields) -> dict:
    """The record of a model that could not be fitted (status ``not_fitted``)."""
    return fake("fit", model=model, kind=kind, error=error, **fields)


def _ols(X, y):
    XtX_inv = np.linalg.inv(X.T @ X)
    b = XtX_inv @ X.T @ y
    r = y - X @ b
    s2 = r @ r / (len(y) - X.shape[1])
    return b, s2 * XtX_inv, s2


def _clusters(students, profile):
    """Cluster ids per row, the ids in order of appearance, and each cluster's row numbers."""
    ids = students[profile.cluster].astype(str).to_numpy()
    uniq = list(dict.fromkeys(ids))
    rows = pd.Series(np.arange(len(ids))).groupby(ids, sort=False).indices
    return ids, uniq, {c: rows[c] for c in uniq}


def make_fits(students: pd.DataFrame, profile) -> dict:
    x = students[profile.x].to_numpy(float)
    y = students[profile.y].to_numpy(float)
    levels = list(students[profile.w].cat.categories)
    wv = (students[profile.w].astype(str) == str(levels[1])).to_numpy(float)
    ids, uniq, rows = _clusters(students, profile)
    fits = {}
    # pooled: y ~ x * w
    X = np.column_stack([np.ones_like(x), x, wv, x * wv])
    b, V, s2 = _ols(X, y)
    Lref = np.array([[1, 0, 0, 0], [0, 1, 0, 0.]])
    Loth = np.array([[1, 0, 1, 0], [0, 1, 0, 1.]])
    Ld = np.array([[0, 0, 1, 0], [0, 0, 0, 1.]])
    nm = ["(Intercept)", profile.x, f"{profile.w}{levels[1]}", f"{profile.x}:{profile.w}{levels[1]}"]
    fits["pooled"] = fake_ols(
        "pooled", fixef=dict(zip(nm, b)), se=dict(zip(nm, np.sqrt(np.diag(V)))), vcov=V.tolist(),
        df={k: len(y) - 4 for k in nm}, n=len(y), groups=len(uniq), df_resid=len(y) - 4,
        by_w={str(levels[0]): {"coef": (Lref @ b).tolist(), "vcov": (Lref @ V @ Lref.T).tolist()},
              str(levels[1]): {"coef": (Loth @ b).tolist(), "vcov": (Loth @ V @ Loth.T).tolist()}},
        diff={"coef": (Ld @ b).tolist(), "vcov": (Ld @ V @ Ld.T).tolist()})
    # fe_lines: a line per cluster with the pooled residual variance
    coefs, xtx, rss, dfres, wl, ns = {}, {}, 0.0, 0, {}, {}
    wcol = students[profile.w].astype(str).to_numpy()
    for cid in uniq:
        m = rows[cid]
        Xj = np.column_stack([np.ones(m.size), x[m]])
        bj = np.linalg.lstsq(Xj, y[m], rcond=None)[0]
        rss += float(np.sum((y[m] - Xj @ bj) ** 2))
        dfres += m.size - 2
        coefs[cid], xtx[cid] = bj, np.linalg.inv(Xj.T @ Xj)
        wl[cid] = wcol[m[0]]
        ns[cid] = m.size
    s2w = rss / dfres
    clusters = {cid: {"intercept": coefs[cid][0], "slope": coefs[cid][1], "vcov": (s2w * xtx[cid]).tolist(),
                      "n": ns[cid], "w": wl[cid]} for cid in uniq}
    by_w = {}
    for lv in levels:
        members = [c for c in uniq if wl[c] == str(lv)]
        k = len(members)
        by_w[str(lv)] = {"coef": np.mean([coefs[c] for c in members], axis=0).tolist(),
                         "vcov": (sum(s2w * xtx[c] for c in members) / k ** 2).tolist()}
    dcoef = np.subtract(by_w[str(levels[1])]["coef"], by_w[str(levels[0])]["coef"])
    dV = np.add(by_w[str(levels[1])]["vcov"], by_w[str(levels[0])]["vcov"])
    fits["fe_lines"] = fake_ols("fe_lines", clusters=clusters, by_w=by_w, sigma=np.sqrt(s2w), df_resid=dfres,
                                n=len(y), groups=len(uniq), diff={"coef": dcoef.tolist(), "vcov": dV.tolist()})
    # two_stage: MANOVA on the per-cluster lines
    B = np.array([coefs[c] for c in uniq])
    W = np.array([[1.0, float(wl[c] == str(levels[1]))] for c in uniq])
    coef2 = np.linalg.lstsq(W, B, rcond=None)[0]
    R = B - W @ coef2
    S = R.T @ R / (len(uniq) - 2)
    by_w2 = {}
    for lv in levels:
        k = sum(wl[c] == str(lv) for c in uniq)
        by_w2[str(lv)] = {"coef": by_w[str(lv)]["coef"], "vcov": (S / k).tolist()}
    k0, k1 = (sum(wl[c] == str(lv) for c in uniq) for lv in levels)
    terms = ["(Intercept)", f"{profile.w}{levels[1]}"]
    fits["two_stage"] = fake_ols(
        "two_stage", clusters={c: {k: clusters[c][k] for k in ("intercept", "slope", "n", "w")} for c in uniq},
        coef={part: {t: {"estimate": coef2[i, j], "se": None, "t": None, "p": None} for i, t in enumerate(terms)}
              for j, part in enumerate(("intercept", "slope"))},
        resid_cov=S.tolist(), by_w={lv: {**blk, "clusters": int(sum(wl[c] == lv for c in uniq))}
                                    for lv, blk in by_w2.items()},
        n=len(y), groups=len(uniq), groups_total=len(uniq), df_resid=len(uniq) - 2,
        diff={"coef": coef2[1].tolist(), "vcov": (S * (1 / k0 + 1 / k1)).tolist()})
    # between: mean_y ~ mean_x
    mx = np.array([x[rows[c]].mean() for c in uniq])
    my = np.array([y[rows[c]].mean() for c in uniq])
    bb, Vb, _ = _ols(np.column_stack([np.ones_like(mx), mx]), my)
    fits["between"] = fake_ols(
        "between", fixef={"(Intercept)": bb[0], profile.x: bb[1]},
        se={"(Intercept)": np.sqrt(Vb[0, 0]), profile.x: np.sqrt(Vb[1, 1])}, vcov=Vb.tolist(),
        n=len(y), groups=len(uniq), df_resid=len(uniq) - 2, **_between_by_w(mx, my, [wl[c] for c in uniq], levels),
        clusters={c: {"mean_x": mx[i], "mean_y": my[i], "n": ns[c], "w": wl[c]} for i, c in enumerate(uniq)})
    # three effects
    pos = pd.Series(np.arange(len(uniq)), index=uniq)[ids].to_numpy()
    xd, yd = x - mx[pos], y - my[pos]
    bw_ = float(xd @ yd / (xd @ xd))
    bp, Vp, _ = _ols(np.column_stack([np.ones_like(x), x]), y)
    fits["three_effects"] = fake_ols(
        "three_effects", n=len(y), groups=len(uniq),
        within={"estimate": bw_, "se": 0.1}, between={"estimate": bb[1], "se": 0.5},
        pooled={"estimate": bp[1], "se": np.sqrt(Vp[1, 1])},
        lines={"within": {"intercept": y.mean() - bw_ * x.mean(), "slope": bw_},
               "between": {"intercept": bb[0], "slope": bb[1]}, "pooled": {"intercept": bp[0], "slope": bp[1]}})
    fits["oneway"] = _oneway(y, uniq, rows, pos)
    fits["ints_slopes"] = _random_slopes(profile, x, y, wv, uniq, rows, nm, S, s2w)
    fits["influence/ints_slopes"] = _influence(fits["ints_slopes"], uniq)
    return fits


def _influence(fit, uniq) -> dict:
    """The Lab's influence record of ints_slopes, with made-up deletion statistics."""
    rng = np.random.default_rng(len(uniq))
    rows = [{"cluster": c, "exact": True, "cook": float(rng.gamma(1.0, 0.05)),
             "dfbetas": {t: float(rng.normal(0, 0.3)) for t in fit["fixef"]}} for c in uniq]
    return fake("influence", dataset="synth", model="ints_slopes", clusters=len(uniq), terms=list(fit["fixef"]),
                cutoff=4 / len(uniq), rows=sorted(rows, key=lambda r: -r["cook"]))


def _between_by_w(mx, my, w, levels) -> dict:
    """The between line per level of w (``mean_y ~ mean_x * w`` on the cluster means) and the
    difference, as hlm.classic.between writes them."""
    wv = np.array([str(v) == str(levels[1]) for v in w], float)
    b, V, _ = _ols(np.column_stack([np.ones_like(mx), mx, wv, mx * wv]), my)
    L = {str(levels[0]): np.array([[1, 0, 0, 0], [0, 1, 0, 0.]]), str(levels[1]): np.array([[1, 0, 1, 0], [0, 1, 0, 1.]])}
    Ld = np.array([[0, 0, 1, 0], [0, 0, 0, 1.]])
    return {"by_w": {lv: {"coef": (M @ b).tolist(), "vcov": (M @ V @ M.T).tolist()} for lv, M in L.items()},
            "diff": {"coef": (Ld @ b).tolist(), "vcov": (Ld @ V @ Ld.T).tolist()}}


def _oneway(y, uniq, rows, pos):
    ns = np.array([rows[c].size for c in uniq])
    means = np.array([y[rows[c]].mean() for c in uniq])
    ssw = sum(float(np.sum((y[rows[c]] - means[i]) ** 2)) for i, c in enumerate(uniq))
    s2 = ssw / (len(y) - len(uniq))
    g = max(np.var(means, ddof=1) - s2 * np.mean(1 / ns), 0.05 * s2)
    wts = 1 / (g + s2 / ns)
    gamma = float(np.sum(wts * means) / np.sum(wts))
    shrink = g / (g + s2 / ns)
    u = shrink * (means - gamma)
    fitted = gamma + u[pos]
    resid = y - fitted
    return fake_lmm(
        "oneway", fixef={"(Intercept)": gamma}, se={"(Intercept)": float(np.sqrt(1 / wts.sum()))},
        sigma=float(np.sqrt(s2)), G=[[g]], re_names=["(Intercept)"], n=len(y), groups=len(uniq),
        ranef={c: {"(Intercept)": float(u[i])} for i, c in enumerate(uniq)},
        coef={c: {"(Intercept)": float(gamma + u[i])} for i, c in enumerate(uniq)},
        cluster_n={c: int(ns[i]) for i, c in enumerate(uniq)},
        obs={"fitted": fitted.tolist(), "resid": resid.tolist(), "std_resid": (resid / np.sqrt(s2)).tolist(),
             "fitted_pop": [gamma] * len(y), "resid_pop": (y - gamma).tolist()})


def _random_slopes(profile, x, y, wv, uniq, rows, nm, S, s2):
    G = 0.6 * np.array(S, float) + 0.05 * np.diag(np.diag(S))  # positive definite, smaller than the raw spread
    A, bvec, blocks = np.zeros((4, 4)), np.zeros(4), {}
    for c in uniq:
        m = rows[c]
        Xj = np.column_stack([np.ones(m.size), x[m], wv[m], x[m] * wv[m]])
        Zj = Xj[:, :2]
        Vinv = np.linalg.inv(Zj @ G @ Zj.T + s2 * np.eye(m.size))
        A += Xj.T @ Vinv @ Xj
        bvec += Xj.T @ Vinv @ y[m]
        blocks[c] = (Xj, Zj, Vinv, y[m])
    gam = np.linalg.solve(A, bvec)
    ranef, ranef_cov = {}, {}
    fitted_pop, fitted = np.empty(len(y)), np.empty(len(y))
    for c, (Xj, Zj, Vinv, yj) in blocks.items():
        u = G @ Zj.T @ Vinv @ (yj - Xj @ gam)
        ranef[c] = {"(Intercept)": float(u[0]), profile.x: float(u[1])}
        ranef_cov[c] = (G - G @ Zj.T @ Vinv @ Zj @ G).tolist()  # Var(u | y), gamma known
        fitted_pop[rows[c]], fitted[rows[c]] = Xj @ gam, Xj @ gam + Zj @ u
    fe = dict(zip(nm, gam.tolist()))
    coef = {c: {**fe, "(Intercept)": fe["(Intercept)"] + r["(Intercept)"], profile.x: fe[profile.x] + r[profile.x]}
            for c, r in ranef.items()}
    V = np.linalg.inv(A)
    return fake_lmm("ints_slopes", fixef=fe, se=dict(zip(nm, np.sqrt(np.diag(V)))), vcov=V.tolist(),
                    sigma=float(np.sqrt(s2)), G=G.tolist(), re_names=["(Intercept)", profile.x],
                    n=len(y), groups=len(uniq), ranef=ranef, coef=coef, ranef_cov=ranef_cov,
                    cluster_n={c: rows[c].size for c in uniq},
                    obs={"fitted_pop": fitted_pop, "fitted": fitted, "resid_pop": y - fitted_pop,
                         "resid": y - fitted, "std_resid": (y - fitted) / np.sqrt(s2)})
