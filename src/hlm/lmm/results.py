"""The fitted model: an immutable record built once, in ``build_result``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from hlm.lmm.basis import Basis
from hlm.lmm.design import Design, nlme_df
from hlm.lmm.inference import satterthwaite_df, wald
from hlm.lmm.objective import CrossProducts, Objective
from hlm.lmm.optimize import OptSummary
from hlm.lmm.summary import result_dict, summary_text
from hlm.lmm.variance import ap_var

Z975 = stats.norm.ppf(0.975)


def _ro(a) -> np.ndarray:
    """A read-only float array (arrays computed here are fresh: no copy needed)."""
    a = np.asarray(a, dtype=float)
    if a.flags.writeable and a.base is not None:
        a = a.copy()
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class LmmResult:
    """A fitted two-level linear mixed model (see ``to_dict`` for the JSON form)."""

    model: str | None
    fixed: str
    random: str
    method: str
    n: int
    groups: int
    x_names: tuple
    z_names: tuple
    fixef: np.ndarray
    vcov: np.ndarray
    se: np.ndarray
    df: np.ndarray
    df_method: str
    df_terms: dict
    t: np.ndarray
    p: np.ndarray
    sigma: float
    G: np.ndarray
    theta: np.ndarray
    logLik: float
    AIC: float
    BIC: float
    npar: int
    converged: bool
    singular: bool
    optsum: OptSummary
    interval_table: dict
    group_ids: tuple
    cluster_n: np.ndarray
    ranef: np.ndarray          # (J, q)
    ranef_cov: np.ndarray      # (J, q, q)
    fitted_pop: np.ndarray     # per observation, input row order
    fitted: np.ndarray
    resid_pop: np.ndarray
    resid: np.ndarray
    std_resid: np.ndarray
    design: Design = field(repr=False, compare=False)
    cp: CrossProducts = field(repr=False, compare=False)

    # ---- views -------------------------------------------------------------
    @property
    def re_sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.G))

    @property
    def re_cor(self) -> np.ndarray:
        sd = self.re_sd
        with np.errstate(invalid="ignore", divide="ignore"):
            cor = self.G / np.outer(sd, sd)
        np.fill_diagonal(cor, 1.0)
        return cor

    def fixef_dict(self) -> dict:
        return dict(zip(self.x_names, map(float, self.fixef)))

    def ranef_dict(self) -> dict:
        return {g: dict(zip(self.z_names, map(float, row))) for g, row in zip(self.group_ids, self.ranef)}

    def coef_dict(self) -> dict:
        """R's coef(): fixed effects plus the cluster's random effects, fixed terms first."""
        names = list(self.x_names) + [z for z in self.z_names if z not in self.x_names]
        fe = self.fixef_dict()
        out = {}
        for g, row in zip(self.group_ids, self.ranef):
            re = dict(zip(self.z_names, map(float, row)))
            out[g] = {k: fe.get(k, 0.0) + re.get(k, 0.0) for k in names}
        return out

    def intervals(self) -> dict:
        """nlme's intervals(): 95% for fixed effects, sd/cor of random effects, sigma."""
        return self.interval_table

    def summary(self) -> str:
        return summary_text(self)

    def wald(self, L, rhs=None) -> dict:
        return wald(self, L, rhs)

    def to_dict(self, obs: bool = False) -> dict:
        return result_dict(self, obs=obs)


# ---- construction ------------------------------------------------------------

def _information(method: str, ll: float, npar: int, n: int, p: int) -> tuple[float, float]:
    aic = -2 * ll + 2 * npar
    nobs = n - p if method == "REML" else n
    return aic, -2 * ll + npar * np.log(nobs)


def _blups(st, sigma: float):
    lam = st.lam
    b = st.u @ lam.T
    cov = sigma**2 * np.einsum("ak,jkl,bl->jab", lam, st.Minv, lam)
    return b, cov


def _observations(design: Design, beta: np.ndarray, b: np.ndarray, sigma: float) -> dict:
    pop = design.X @ beta
    clu = pop + np.einsum("ik,ik->i", design.Z, b[design.codes])
    out = {"fitted_pop": pop, "fitted": clu, "resid_pop": design.y - pop, "resid": design.y - clu}
    out["std_resid"] = out["resid"] / sigma
    return {k: _ro(design.unsort(v)) for k, v in out.items()}


def _interval(est, half, transform=lambda v: v) -> dict:
    return {"lower": float(transform(est - half)), "est": float(transform(est)),
            "upper": float(transform(est + half))}


def _var_intervals(cp: CrossProducts, basis: Basis, z_names, G, sigma, reml) -> tuple[dict, dict | None]:
    pars, cov = ap_var(cp, G, sigma, reml, basis.G_internal)
    q = len(z_names)
    if cov is None:
        return {}, None
    half = Z975 * np.sqrt(np.diag(cov))
    re = {f"sd({z_names[i]})": _interval(pars[i], half[i], np.exp) for i in range(q)}
    iu = np.triu_indices(q, 1)
    for k, (i, j) in enumerate(zip(*iu)):
        re[f"cor({z_names[i]},{z_names[j]})"] = _interval(pars[q + k], half[q + k], lambda v: np.tanh(v / 2))
    return re, _interval(pars[-1], half[-1], np.exp)


def build_result(design: Design, basis: Basis, obj: Objective, theta: np.ndarray, opt: OptSummary,
                 model: str | None = None, df_method: str = "nlme") -> LmmResult:
    """Everything about a fit, computed once at the optimum: ``obj`` and ``theta`` are in
    the internal basis, ``opt`` already in the user's; results are in the user's."""
    cp, reml = obj.cp, obj.reml
    st = obj.state(theta)
    n, p = cp.n, cp.p
    sigma_i = float(np.sqrt(st.r2 / (n - p if reml else n)))
    sigma = basis.s * sigma_i
    beta = basis.beta(st.beta)
    vcov = basis.vcov(sigma_i**2 * np.linalg.inv(st.RXtRX))
    se = np.sqrt(np.diag(vcov))
    col_df, term_df = nlme_df(design)
    df = np.array([col_df[k] for k in design.x_names], dtype=float)
    if df_method == "satterthwaite":
        df = satterthwaite_df(cp, theta, sigma_i, reml, basis.T)   # user coefficient k = row k of T
    elif df_method != "nlme":
        raise ValueError(f"df_method must be 'nlme' or 'satterthwaite', not {df_method!r}")
    tval = beta / se
    pval = 2 * stats.t.sf(np.abs(tval), df)
    G = basis.G(sigma_i**2 * st.lam @ st.lam.T)
    ll = -0.5 * opt.fval
    npar = p + cp.n_theta + 1
    aic, bic = _information(obj.method, ll, npar, n, p)
    b, bcov = basis.ranef(*_blups(st, sigma_i))
    half = stats.t.ppf(0.975, df) * se
    fixed_int = {k: _interval(beta[i], half[i]) for i, k in enumerate(design.x_names)}
    re_int, sig_int = _var_intervals(cp, basis, design.z_names, G, sigma, reml)
    return LmmResult(
        model=model, fixed=design.fixed, random=design.random, method=obj.method, n=n,
        groups=design.J, x_names=design.x_names, z_names=design.z_names, fixef=_ro(beta),
        vcov=_ro(vcov), se=_ro(se), df=_ro(df), df_method=df_method, df_terms=term_df,
        t=_ro(tval), p=_ro(pval), sigma=sigma, G=_ro(G), theta=_ro(opt.final), logLik=ll, AIC=aic,
        BIC=bic, npar=npar, converged=opt.converged, singular=bool(np.any(np.diag(st.lam) <= 1e-10)),
        optsum=opt, interval_table={"fixed": fixed_int, "reStruct": re_int or None, "sigma": sig_int},
        group_ids=design.group_ids, cluster_n=design.counts.copy(), ranef=_ro(b),
        ranef_cov=_ro(bcov), **_observations(design, beta, b, sigma), design=design,
        cp=basis.user_cross_products(cp),
    )
