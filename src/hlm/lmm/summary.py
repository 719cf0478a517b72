"""Text summary laid out like nlme's ``summary.lme``, and the result JSON (``to_dict``)."""

from __future__ import annotations

import numpy as np

from hlm.rprint import rformat, table as _table


def _abbrev(name: str) -> str:
    return "(Intr)" if name == "(Intercept)" else name[:6]


def _random_block(r) -> list[str]:
    zpart = r.random.split("~", 1)[1].strip()
    out = ["Random effects:", f" Formula: ~{zpart}"]
    sd = r.re_sd
    if len(r.z_names) == 1:
        out.append(_table([["StdDev:", *rformat([sd[0], r.sigma])]], ["", r.z_names[0], "Residual"]))
        return out
    out.append(" Structure: General positive-definite, Log-Cholesky parametrization")
    cor = r.re_cor
    rows = []
    sds = rformat(list(sd) + [r.sigma])
    for i, nm in enumerate(r.z_names):
        corr = [_abbrev(r.z_names[0])] if i == 0 else [f"{cor[i, j]:.3f}" for j in range(i)]
        rows.append([nm, sds[i]] + corr + [""] * (len(r.z_names) - 1 - len(corr)))
    rows.append(["Residual", sds[-1]] + [""] * (len(r.z_names) - 1))
    head = ["", "StdDev", "Corr"] + [_abbrev(z) for z in r.z_names[1:-1]]
    out.append(_table(rows, head[: len(rows[0])]))
    return out


def _fixed_block(r) -> list[str]:
    cols = [rformat(r.fixef), rformat(r.se),
            [f"{d:.0f}" for d in r.df] if r.df_method == "nlme" else rformat(r.df, 5),
            rformat(r.t), [f"{p:.4f}" for p in r.p]]
    rows = [[nm] + [c[i] for c in cols] for i, nm in enumerate(r.x_names)]
    out = [f"Fixed effects:  {r.fixed} ",
           _table(rows, ["", "Value", "Std.Error", "DF", "t-value", "p-value"])]
    if len(r.x_names) > 1:
        sd = np.sqrt(np.diag(r.vcov))
        cor = r.vcov / np.outer(sd, sd)
        crow = [[nm] + [f"{cor[i, j]:.3f}" for j in range(i)] + [""] * (len(r.x_names) - 1 - i)
                for i, nm in enumerate(r.x_names) if i > 0]
        out += [" Correlation: ", _table(crow, [""] + [_abbrev(z) for z in r.x_names[:-1]])]
    return out


def summary_text(r) -> str:
    qs = np.quantile(r.std_resid, [0, 0.25, 0.5, 0.75, 1])
    lines = [f"Linear mixed-effects model fit by {r.method}",
             f"  Data: {r.n} rows in {r.groups} groups",
             "  " + _table([[rformat([r.AIC])[0], rformat([r.BIC])[0], rformat([r.logLik])[0]]],
                           ["AIC", "BIC", "logLik"],
                           names=False).replace("\n", "\n  "),
             ""] + _random_block(r) + [""] + _fixed_block(r) + [
        "", "Standardized Within-Group Residuals:",
        _table([rformat(qs)], ["Min", "Q1", "Med", "Q3", "Max"], names=False), "",
        f"Number of Observations: {r.n}", f"Number of Groups: {r.groups} "]
    if r.singular:
        lines.append("Note: singular fit (a variance component or correlation is on the boundary).")
    if not r.converged:
        lines.append("Warning: the optimizer did not report convergence; see the optimizer messages.")
    return "\n".join(lines) + "\n"


def _f(v):
    v = float(v)
    return v if np.isfinite(v) else None


def _matrix(a) -> list:
    return [[_f(v) for v in row] for row in np.asarray(a)]


def _named(names, values) -> dict:
    return {k: _f(v) for k, v in zip(names, values)}


def result_dict(r, obs: bool = False) -> dict:
    """The result JSON (docs/architecture.md, schema hlm.records.LMM): plain floats, cluster ids as strings.

    Non-finite numbers become null; so do the variance intervals when they do
    not exist (a singular fit, or a Hessian that is not negative definite)."""
    iv = r.interval_table
    out = {
        "model": r.model, "kind": "lmm", "fixed": r.fixed, "random": r.random, "method": r.method,
        "n": int(r.n), "groups": int(r.groups),
        "fixef": _named(r.x_names, r.fixef), "se": _named(r.x_names, r.se),
        "df": ({k: int(v) for k, v in zip(r.x_names, r.df)} if r.df_method == "nlme"
               else _named(r.x_names, r.df)), "df_method": r.df_method,
        "t": _named(r.x_names, r.t), "p": _named(r.x_names, r.p), "vcov": _matrix(r.vcov),
        "sigma": _f(r.sigma), "G": _matrix(r.G), "re_names": list(r.z_names),
        "re_sd": _named(r.z_names, r.re_sd), "re_cor": _matrix(r.re_cor), "theta": [float(v) for v in r.theta],
        "logLik": _f(r.logLik), "AIC": _f(r.AIC), "BIC": _f(r.BIC), "npar": int(r.npar),
        "converged": bool(r.converged), "singular": bool(r.singular), "optimizer": r.optsum.to_dict(),
        "intervals": {"fixed": iv["fixed"], "reStruct": iv["reStruct"], "sigma": iv["sigma"]},
        "ranef": {g: _named(r.z_names, row) for g, row in zip(r.group_ids, r.ranef)},
        "coef": {g: {k: _f(v) for k, v in row.items()} for g, row in r.coef_dict().items()},
        "ranef_cov": {g: _matrix(c) for g, c in zip(r.group_ids, r.ranef_cov)},
        "cluster_n": {g: int(c) for g, c in zip(r.group_ids, r.cluster_n)},
        "summary": r.summary(),
        "call": f"hlm.lmm.fit(data, fixed={r.fixed!r}, random={r.random!r}, method={r.method!r})",
    }
    if obs:
        out["obs"] = {k: [float(v) for v in getattr(r, k)]
                      for k in ("fitted_pop", "fitted", "resid_pop", "resid", "std_resid")}
    return out
