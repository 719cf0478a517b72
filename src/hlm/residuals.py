"""Diagnostic values of a fit record: the standardized BLUPs of each cluster, shared by the
Lab's figures and chapters so that a plot and the numbers quoted beside it agree."""
from __future__ import annotations

import numpy as np
import pandas as pd


def standardized_blups(fit: dict) -> pd.DataFrame:
    """Each cluster's BLUPs (rows: clusters, columns: random effects) divided by their own
    standard deviations under the model, sqrt(diag(G - C_j)), where C_j (``ranef_cov``) is the
    conditional covariance of cluster j's random effects given the data: the BLUPs shrink, so
    Var(BLUP_j) = G - C_j, and the standardized BLUPs are about N(0, 1) when the model holds.
    (Dividing by sqrt(C_j), the conditional SD, gives the z-scores of a caterpillar plot, not a
    standard normal sample.) NaN where that variance is 0: a random effect with no variance."""
    names = list(fit["re_names"])
    G = np.diag(np.asarray(fit["G"], float))
    blup = pd.DataFrame.from_dict(fit["ranef"], orient="index", dtype=float).reindex(columns=names)
    var = pd.DataFrame({c: G - np.diag(np.asarray(fit["ranef_cov"][c], float)) for c in blup.index},
                       index=names).T
    return blup / np.sqrt(var.where(var > 1e-12 * max(G.max(), 1e-300)))
