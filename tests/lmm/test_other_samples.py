"""The ten models on other samples (all 160 schools, a random 40) against lme4 and nlme.

Reference: tests/lmm/data/lme4_other_samples.json (R 4.2.2, lme4 1.1-31, nlme 3.1-162;
see tests/lmm/data/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hlm.lmm import fit, refit

from lmm_helpers import MODELS, load_hsb

REF = json.loads((Path(__file__).parent / "data" / "lme4_other_samples.json").read_text())


@pytest.fixture(scope="module")
def samples():
    return {"hsb160": load_hsb(None), "random40": load_hsb(REF["samples"]["random40"])}


@pytest.mark.parametrize("dataset", ["hsb160", "random40"])
@pytest.mark.parametrize("name", list(MODELS))
def test_same_optimum_as_lme4(samples, dataset, name):
    res = fit(samples[dataset], *MODELS[name])
    ref = REF[dataset][name]
    l4 = ref["lme4"]
    assert res.converged
    assert res.logLik >= l4["logLik"] - 1e-6
    assert res.logLik == pytest.approx(l4["logLik"], abs=1e-5)
    assert res.singular == l4["singular"]
    fe, se = res.fixef_dict(), dict(zip(res.x_names, res.se))
    for k, v in l4["fixef"].items():
        assert fe[k] == pytest.approx(v, rel=1e-4, abs=1e-6)
        assert se[k] == pytest.approx(l4["se"][k], rel=1e-3)
    assert refit(res, "ML").logLik == pytest.approx(l4["ML_logLik"], abs=1e-5)
    if ref.get("nlme"):
        df = ref["nlme"]["df"]
        df = df if isinstance(df, dict) else dict(zip(res.x_names, df))
        assert dict(zip(res.x_names, res.df.astype(int).tolist())) == {k: int(v) for k, v in df.items()}
