"""hlm.lmm: profiled REML/ML for two-level linear mixed models (as lme4 and nlme).

    from hlm.lmm import fit, wald, lrt
    res = fit(data, fixed="MathAch ~ SES * Sector", random="~ 1 + SES | School")
    res.summary(); res.to_dict(); wald(res, {"diff": {"SectorPublic": 1}})
"""

from hlm.lmm.api import design, devfun, fit, fit_design, lrt, refit
from hlm.lmm.design import Design, build_design
from hlm.lmm.inference import satterthwaite_df, wald
from hlm.lmm.objective import CrossProducts, Objective, cross_products, deviance, full_loglik
from hlm.lmm.optimize import OptSummary
from hlm.lmm.results import LmmResult

__all__ = [
    "fit", "fit_design", "design", "refit", "devfun", "wald", "lrt", "satterthwaite_df",
    "LmmResult", "OptSummary", "Objective", "CrossProducts", "cross_products", "deviance",
    "full_loglik", "Design", "build_design",
]
