"""The schemas of the pipeline's records: one JSON Schema (draft 2020-12) per kind.

Every JSON file a step writes, and the merge report it stores in a Parquet file, is
one of the record kinds below. The schemas are derived from the code that writes
them and say exactly what a reader may rely on: required keys, their types, the
states a fit can be in; objects whose keys the writer fixes admit no other key.

==================  ====================================  =====================================
kind                file                                  writer
==================  ====================================  =====================================
``fit``             data/fits/<dataset>/<model>.json      ``python -m hlm fit`` (hlm.models):
                                                          one of ``lmm``, ``ols``, ``failure``
``lmm``             a mixed model fitted by hlm.lmm       hlm.models.fit_lmm
``ols``             a classical method (hlm.classic)      hlm.classic, one shape per method
``failure``         a model that could not be fitted      hlm.models.failure_record
``comparison``      data/fits/<dataset>/comparison.json   ``python -m hlm compare``
``figure``          figures/<dataset>/<name>.json         ``python -m hlm figure``
``reproduction``    data/fits/<dataset>/reproduction.json ``python -m hlm reproduce``
``merge_report``    merged.parquet's metadata (key hlm)   ``python -m hlm merge`` (hlm.data)
==================  ====================================  =====================================

:func:`validate` checks a record and raises :class:`hlm.errors.RecordError` naming the
file, the JSON path and the problem; ``hlm.io.write_json`` / ``read_json`` with
``kind=`` validate every record written and read. The tests build their fake records
from these schemas (tests/records_fakes.py). :func:`field_table` renders a kind's
fields as a Markdown table (docs/architecture.md).

Numbers may be ``null``: the writers store a non-finite value (NaN, inf) as null.
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from hlm.errors import RecordError

DRAFT = "https://json-schema.org/draft/2020-12/schema"
STATES = ("fitted", "singular", "not_converged", "not_fitted")  # hlm.fitstatus
OLS_METHODS = ("pooled", "fe_lines", "fe_common_slope", "two_stage", "between", "three_effects")
OLS_CALL = "hlm.classic.{}(students, profile)"  # the ``call`` of each classical method's record


# --- building blocks ----------------------------------------------------------------------------

def _d(schema: dict, text: str) -> dict:
    return {**schema, "description": text}


NUM = {"type": ["number", "null"]}
INT = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
OPT_STR = {"type": ["string", "null"]}


def _obj(required: dict, optional: dict | None = None, closed: bool = True, **extra) -> dict:
    """An object with these required (and optional) properties; no others when closed."""
    out = {"type": "object", "properties": {**required, **(optional or {})}, "required": list(required)}
    if closed:
        out["additionalProperties"] = False
    out.update(extra)
    return out


def _map(values: dict, keys: str) -> dict:
    """An object keyed by data-dependent names (coefficients, cluster ids, levels)."""
    return {"type": "object", "additionalProperties": values, "x-keys": keys}


def _array(items: dict, size: int | None = None) -> dict:
    out = {"type": "array", "items": items}
    if size is not None:
        out.update(minItems=size, maxItems=size)
    return out


MATRIX = _array(_array(NUM))
PAIR = _array(NUM, 2)
MATRIX2 = _array(_array(NUM, 2), 2)
COEFS = _map(NUM, "coefficient")


def _status(states: tuple[str, ...]) -> dict:
    return _d(_obj({"state": _d({"enum": list(states)}, "fitted, singular, not_converged or not_fitted"),
                    "why": _d(STR, "the reason, in terms of the data (empty when fitted)"),
                    "remedy": _d(STR, "what a user could change (empty when fitted)")}),
              "the fit's state and why (hlm.fitstatus.diagnose)")


LINCOMB = _d(_obj({"coef": PAIR, "vcov": MATRIX2}),
             "(intercept, slope) and their 2 x 2 covariance")
BY_W = _d(_map(LINCOMB, "level of w"), "the (intercept, slope) line in each level of w")
DIFF = _d(LINCOMB, "the other level of w minus the reference level")
TEST_ROW = _obj({"estimate": NUM, "se": NUM, "df": INT, "t": NUM, "p": NUM})
WALD = _obj({"F": NUM, "df": _array(INT, 2), "p": NUM, "rows": _map(TEST_ROW, "row name")})
FAILED = _d(_array(_obj({"cluster": STR, "n": COUNT, "w": STR, "reason": STR})),
            "the clusters without a line, and why")
INTERVAL = _obj({"lower": NUM, "est": NUM, "upper": NUM})

# --- fit records --------------------------------------------------------------------------------

_FIT_HEAD = {
    "model": _d(STR, "the catalog name (config: models:)"),
    "label": _d(STR, "the catalog label"),
}

_OLS_COMMON = {
    **_FIT_HEAD,
    "kind": {"const": "ols"},
    "fixed": _d(STR, "the formula, R style, in the dataset's columns"),
    "call": _d(STR, "the call that made it: hlm.classic.<method>(students, profile)"),
    "n": _d(COUNT, "rows used"),
    "groups": _d(COUNT, "clusters used"),
    "fixef": _d(COEFS, "estimates, by R's coefficient name, in R's order"),
    "se": _d(COEFS, "standard errors"),
    "t": _d(COEFS, "t statistics"),
    "p": _d(COEFS, "two-sided p-values"),
    "df": _d(_map(INT, "coefficient"), "residual degrees of freedom of each coefficient"),
    "vcov": _d({"anyOf": [MATRIX, {"type": "null"}]},
               "covariance of fixef, in its order; null above 500 coefficients"),
    "summary": _d(STR, "the text R's summary() would print"),
    "status": _status(("fitted",)),
}
_FIT_STATS = {
    "sigma": _d(NUM, "residual standard error"),
    "df_resid": _d(INT, "residual degrees of freedom"),
    "r2": NUM, "adj_r2": NUM,
    "F": _d(NUM, "overall F statistic"),
    "F_df": _array(INT, 2), "F_p": NUM,
    "resid_quantiles": _d(_array(NUM, 5), "min, quartiles, max of the residuals"),
}
_EFFECT = _obj({"estimate": NUM, "se": NUM, "t": NUM, "p": NUM, "df": INT,
                "fixed": _d(STR, "the formula of the fit it comes from")})
_LINE = _obj({"intercept": NUM, "slope": NUM})
_TERM_TESTS = _map(_obj({"estimate": NUM, "se": NUM, "t": NUM, "p": NUM}), "term")

OLS_OWN = {
    "pooled": {**_FIT_STATS, "by_w": BY_W, "diff": DIFF},
    "fe_lines": {
        "sigma": _FIT_STATS["sigma"], "df_resid": _FIT_STATS["df_resid"],
        "clusters": _d(_map(_obj({"intercept": NUM, "slope": NUM, "vcov": MATRIX2, "n": COUNT, "w": STR}),
                            "cluster id"), "each cluster's line (clusters with a line only)"),
        "failed": FAILED, "by_w": _d(BY_W, "equally weighted means of the clusters' lines, per level of w"),
        "diff": DIFF, "wald": _d(WALD, "Wald F test of the difference of the level means"),
        "wald_levels": _d(WALD, "the level means themselves"),
    },
    "fe_common_slope": {
        **_FIT_STATS, "term": _d(STR, "the name of the x:w coefficient"),
        "effect": _d(TEST_ROW, "the x:w coefficient and its test"),
        "vcov_slopes": _d(_obj({"names": _array(STR, 2), "vcov": MATRIX2}), "covariance of the slopes x and x:w"),
    },
    "two_stage": {
        "groups_total": _d(COUNT, "clusters in the data (groups: those with a line)"),
        "df_resid": INT,
        "coef": _d(_obj({"intercept": _TERM_TESTS, "slope": _TERM_TESTS}),
                   "the second-stage regressions of the intercepts and of the slopes on w"),
        "clusters": _d(_map(_obj({"intercept": NUM, "slope": NUM, "n": COUNT, "w": STR}), "cluster id"),
                       "the first-stage lines"),
        "failed": FAILED, "resid_cov": _d(MATRIX2, "residual covariance of (intercept, slope)"),
        "by_w": _d(_map(_obj({"coef": PAIR, "vcov": MATRIX2, "clusters": COUNT}), "level of w"),
                   "mean line per level of w, with its number of clusters"),
        "diff": DIFF,
    },
    "between": {
        **_FIT_STATS,
        "clusters": _d(_map(_obj({"mean_x": NUM, "mean_y": NUM, "n": COUNT, "w": STR}), "cluster id"),
                       "the cluster means"),
        "by_w": BY_W, "diff": DIFF,
    },
    "three_effects": {
        "within": _d(_EFFECT, "slope of x within clusters"), "between": _d(_EFFECT, "between clusters"),
        "pooled": _d(_EFFECT, "pooled"),
        "lines": _d(_obj({"within": _LINE, "between": _LINE, "pooled": _LINE}), "each effect as a line"),
    },
}


def _ols_method(method: str) -> dict:
    return _obj({**_OLS_COMMON, **OLS_OWN[method]}, title=f"classical fit record ({method})")


OLS = {
    "title": "classical fit record",
    "description": "One of the classical methods of hlm.classic; the shape depends on the method, "
                   "named by `call`.",
    "type": "object",
    "properties": {"kind": {"const": "ols"}, "call": {"enum": [OLS_CALL.format(m) for m in OLS_METHODS]}},
    "required": ["kind", "call"],
    "allOf": [{"if": {"properties": {"call": {"const": OLS_CALL.format(m)}}, "required": ["call"]},
               "then": _ols_method(m)} for m in OLS_METHODS],
}

_OPTIMIZER = _obj({"start": _array(NUM), "final": _array(NUM), "fval": NUM, "evaluations": COUNT,
                   "method": STR, "messages": _array(STR), "converged": BOOL,
                   "boundary": _d(_array(COUNT), "indices of theta on the boundary")})
LMM = _obj({
    **_FIT_HEAD,
    "kind": {"const": "lmm"},
    "fixed": _d(STR, "fixed part, in the dataset's columns"),
    "random": _d(STR, "random part, ~ terms | cluster"),
    "method": {"enum": ["REML", "ML"]},
    "n": COUNT, "groups": COUNT,
    "fixef": _d(COEFS, "fixed effects, by coefficient name"),
    "se": COEFS,
    "df": _d(_map(NUM, "coefficient"), "denominator degrees of freedom (integers for nlme)"),
    "df_method": {"enum": ["nlme", "satterthwaite"]},
    "t": COEFS, "p": COEFS,
    "vcov": _d(MATRIX, "covariance of fixef"),
    "sigma": _d(NUM, "residual standard deviation"),
    "G": _d(MATRIX, "covariance of the random effects"),
    "re_names": _d(_array(STR), "the random effects' names"),
    "re_sd": _map(NUM, "random effect"), "re_cor": MATRIX,
    "theta": _d(_array(NUM), "the optimizer's parameters (relative covariance factor)"),
    "logLik": NUM, "AIC": NUM, "BIC": NUM,
    "npar": _d(COUNT, "parameters: fixed effects, variance components and sigma"),
    "converged": {**BOOL, "default": True}, "singular": {**BOOL, "default": False},
    "optimizer": _d(_OPTIMIZER, "the optimizer's record"),
    "intervals": _d(_obj({"fixed": _map(INTERVAL, "coefficient"),
                          "reStruct": {"anyOf": [_map(INTERVAL, "sd(...) or cor(...)"), {"type": "null"}]},
                          "sigma": {"anyOf": [INTERVAL, {"type": "null"}]}}),
                    "95% intervals as nlme's intervals(); null where they do not exist"),
    "ranef": _d(_map(_map(NUM, "random effect"), "cluster id"), "BLUPs"),
    "coef": _d(_map(_map(NUM, "coefficient"), "cluster id"), "fixed plus random effects per cluster"),
    "ranef_cov": _d(_map(MATRIX, "cluster id"), "conditional covariance of each cluster's BLUPs"),
    "cluster_n": _map(COUNT, "cluster id"),
    "summary": _d(STR, "the text nlme's summary() would print"),
    "call": _d(STR, "the engine call that made it"),
    "obs": _d(_obj({k: _array(NUM) for k in ("fitted_pop", "fitted", "resid_pop", "resid", "std_resid")}),
              "per observation, in the rows' order"),
    "glh": _d(_obj({"F": NUM, "numDF": COUNT, "denDF": NUM, "p": NUM,
                    "rows": _map(_obj({"estimate": NUM, "se": NUM, "df": NUM, "t": NUM, "p": NUM,
                                       "lower": NUM, "upper": NUM}), "coefficient")}),
              "Wald F test that every fixed effect is zero"),
    "status": _status(("fitted", "singular", "not_converged")),
}, optional={"ML_logLik": _d(NUM, "logLik of the ML fit, used by compare if present")},
    title="mixed-model fit record",
    # the state follows the fit: not converged, else singular, else fitted (hlm.fitstatus.diagnose)
    allOf=[{"if": {"properties": {"converged": {"const": False}}, "required": ["converged"]},
            "then": {"properties": {"status": {"properties": {"state": {"const": "not_converged"}}}}}},
           {"if": {"properties": {"converged": {"const": True}, "singular": {"const": True}},
                   "required": ["converged", "singular"]},
            "then": {"properties": {"status": {"properties": {"state": {"const": "singular"}}}}}},
           {"if": {"properties": {"converged": {"const": True}, "singular": {"const": False}},
                   "required": ["converged", "singular"]},
            "then": {"properties": {"status": {"properties": {"state": {"const": "fitted"}}}}}}])

FAILURE = _obj({
    **_FIT_HEAD,
    "kind": {"enum": ["ols", "lmm"]},
    "fixed": _d(OPT_STR, "the catalog's fixed part (null for a classical method without one)"),
    "random": _d(OPT_STR, "the catalog's random part (null for a classical method)"),
    "method": _d(STR, "REML, ML, OLS or the classical method"),
    "converged": {"const": False},
    "error": _d(STR, "ExceptionType: message"),
    "status": _status(("not_fitted",)),
}, title="failure record")

FIT = {
    "title": "fit record",
    "description": "data/fits/<dataset>/<model>.json: a failure record when it has `error`, "
                   "else an lmm or an ols fit, by `kind`.",
    "type": "object",
    "if": {"required": ["error"]},
    "then": FAILURE,
    "else": {"if": {"properties": {"kind": {"const": "lmm"}}, "required": ["kind"]}, "then": LMM, "else": OLS},
}

# --- other records ------------------------------------------------------------------------------

_USABLE = {"enum": ["fitted", "singular"]}
COMPARISON = _obj({
    "dataset": OPT_STR,
    "kind": {"const": "comparison"},
    "models": _d(_array(_obj(
        {"name": STR, "label": OPT_STR, "fixed": OPT_STR, "random": OPT_STR,
         "REML": _d(BOOL, "fitted by REML"), "state": {"enum": list(STATES)}},
        {"npar": COUNT, "logLik": NUM, "AIC": NUM, "BIC": NUM, "converged": {"type": ["boolean", "null"]},
         "singular": {"type": ["boolean", "null"]}, "error": _d(STR, "why it has no numbers")},
        allOf=[{"if": {"properties": {"state": _USABLE}},
                "then": {"required": ["npar", "logLik", "AIC", "BIC", "converged", "singular"],
                         "not": {"required": ["error"]}},
                "else": {"required": ["error"], "not": {"anyOf": [{"required": ["npar"]},
                                                                  {"required": ["logLik"]}]}}}])),
        "one row per mixed model, in catalog order; numbers only for usable fits"),
    "lrt": _d(_array(_obj(
        {"null": _d(STR, "the smaller model"), "alt": _d(STR, "the larger model"), "df": INT,
         "criterion": _d({"enum": ["REML", "ML"]}, "the likelihood compared (ML: refits)")},
        {"logLik_null": NUM, "logLik_alt": NUM, "statistic": NUM, "p": NUM,
         "boundary": _d({"const": True}, "the null puts a variance on the boundary"),
         "p_boundary": _d(NUM, "p of the 50:50 chi-square mixture (null: several variances)"),
         "footnote": STR, "error": _d(STR, "why the ML refit failed")},
        allOf=[{"if": {"required": ["error"]},
                "then": {"not": {"required": ["statistic"]}},
                "else": {"required": ["logLik_null", "logLik_alt", "statistic", "p"]}},
               {"if": {"required": ["boundary"]}, "then": {"required": ["p_boundary", "footnote"]}}])),
        "likelihood-ratio tests of adjacent nested pairs"),
    "notes": _obj({"lrt": STR, "aic": STR}),
    "table": _d(STR, "the two tables as plain text"),
}, title="model comparison record")

FIGURE = _obj({"clusters": _d({"type": ["integer", "null"], "minimum": 0},
                              "clusters in the data drawn (for the simulated figures: those their design follows)")},
              title="figure sidecar record", description="figures/<dataset>/<name>.json: what the caption needs")

REPRODUCTION = _obj({
    "dataset": STR,
    "applies": _d(BOOL, "the notes' sample and roles: the checks apply"),
    "reason": _d(STR, "why they do not apply (empty when they do)"),
    "notes": _d(_array(_obj({"section": STR, "item": STR, "printed": _d(STR, "as the notes print it"),
                             "computed": {"type": ["number", "string", "null"]}, "ok": BOOL,
                             "tolerance": _d(STR, "half a unit in the last printed digit, or exact")})),
                "every number the notes print, against ours"),
    "r": _d(_array(_obj({"model": STR, "item": STR, "reference": _d(NUM, "R's value"), "computed": NUM,
                         "ok": BOOL, "rule": _d(STR, "the acceptance criterion")})),
            "every mixed model against R's nlme and lme4"),
}, title="reproduction record",
    allOf=[{"if": {"properties": {"applies": {"const": False}}},
            "then": {"properties": {"notes": {"maxItems": 0}, "r": {"maxItems": 0}}}}])

MERGE_REPORT = _obj({
    "dataset": STR,
    "n_students_raw": _d(COUNT, "rows of the unit file"),
    "n": _d(COUNT, "rows of the merged table"),
    "clusters": _d(COUNT, "clusters of the merged table"),
    "rows_dropped": _d(COUNT, "rows dropped for a missing y or x (missing: drop)"),
    "missing_by_column": _d(_map(COUNT, "column"), "missing values of y and x"),
    "rows_dropped_ids": _d(_array(COUNT), "row numbers of the first 100 rows dropped"),
    "clusters_without_students": _d(_array(STR), "cluster ids of the cluster file with no units"),
    "w_levels": _d(_array(STR, 2), "the levels of w, the reference first"),
}, title="merge report record", description="merged.parquet's metadata, key hlm (hlm.data.META_KEY)")

_BOOT_HEAD = {
    "dataset": STR, "test": _d(STR, "the test's name (config: lab: bootstrap: tests:)"),
    "null": _d(STR, "the catalog model of the null hypothesis"), "alt": _d(STR, "the larger model"),
    "seed": _d(INT, "replicate i draws from numpy.random.default_rng([seed, i])"),
}
BOOTSTRAP_BLOCK = _obj({
    **_BOOT_HEAD,
    "first": _d(COUNT, "the block's first replicate"),
    "count": _d(COUNT, "the block's replicates"),
}, {
    "statistics": _d(_array(NUM), "the replicates' LRT statistics, in order (null: a refit failed)"),
    "observed": _d(NUM, "the LRT statistic of the data"),
    "df": _d(INT, "parameters the larger model adds"),
    "error": _d(STR, "why the two models could not be fitted on the data (no statistics then)"),
}, title="bootstrap block record")
BOOTSTRAP = _obj({
    **_BOOT_HEAD,
    "blocks": _d(COUNT, "jobs the replicates were split into"),
}, {
    "observed": NUM, "replicates": _d(COUNT, "replicates with both refits"), "failed": COUNT,
    "p": _d(NUM, "(1 + #{T* >= T}) / (B + 1)"), "mc_se": _d(NUM, "Monte Carlo standard error of p"),
    "df": INT, "p_chisq": _d(NUM, "the naive chi-squared p-value on df"),
    "p_mixture": _d(NUM, "the 50:50 mixture of chi-squared on df and df - 1"),
    "error": _d(STR, "why there is no test (the models could not be fitted)"),
}, title="bootstrap record")

_DELETION = _obj({"cluster": STR, "exact": _d(BOOL, "from a refit without the cluster; false: the one-step "
                                                    "deletion, variance parameters held at the fit's")}, {
    "cook": _d(NUM, "Cook's distance (b - b_(j))' V^-1 (b - b_(j)) / p"),
    "dfbetas": _d(COEFS, "(b - b_(j)) / se_(j), per coefficient"),
    "fixef": _d(COEFS, "the fixed effects without the cluster"),
    "singular": _d(BOOL, "of the refit (exact rows)"), "converged": _d(BOOL, "of the refit (exact rows)"),
    "error": _d(STR, "why the model could not be refitted (or, one-step, estimated) without the cluster"),
})
INFLUENCE_BLOCK = _obj({
    "dataset": STR, "model": STR, "block": COUNT, "blocks": _d(COUNT, "jobs sharing the refits"),
}, {
    "clusters": _d(COUNT, "clusters in the data"), "terms": _d(_array(STR), "the fixed effects"),
    "rows": _d(_array(_DELETION), "the block's clusters: the exact ones of rank i with i % blocks == block, "
                                  "the others of position j with j % blocks == block"),
    "error": _d(STR, "why the model could not be fitted on the data"),
}, title="influence block record")
INFLUENCE = _obj({"dataset": STR, "model": STR}, {
    "clusters": COUNT, "terms": _array(STR),
    "refits": _d(COUNT, "rows from exact refits (all of them up to lab: influence: exact_max_clusters)"),
    "cutoff": _d(NUM, "the usual flag for Cook's distance, 4 / J"),
    "flagged": _d(_array(STR), "clusters whose Cook's distance is above the cutoff, largest first"),
    "failed": _d(_array(STR), "clusters without which the model could not be refitted"),
    "rows": _d(_array(_DELETION), "every cluster, by Cook's distance, largest first"),
    "error": _d(STR, "why the model could not be fitted on the data"),
}, title="influence record")

_ERROR = _d(STR, "why this part could not be computed on the data")
_R2 = _obj({}, {
    "var_fixed": _d(NUM, "variance of the fixed-part predictions"), "var_random": _d(NUM, "mean z' G z"),
    "var_residual": NUM, "marginal": _d(NUM, "Nakagawa-Schielzeth"), "conditional": _d(NUM, "Nakagawa-Schielzeth"),
    "cluster_size": _d(NUM, "harmonic mean cluster size"), "level1": _d(NUM, "Snijders-Bosker"),
    "level2": _d(NUM, "Snijders-Bosker"), "error": _ERROR})


def _part(fields: dict, **extra) -> dict:
    """A part of the inference record: all of `fields`, or `error` alone."""
    return _obj({}, {**fields, "error": _ERROR}, **extra,
                allOf=[{"if": {"required": ["error"]}, "then": {"maxProperties": 1},
                        "else": {"required": list(fields)}}])


_SATTERTHWAITE = _part({
    "df": _d(_map(NUM, "coefficient"), "Satterthwaite DF (as lmerTest)"),
    "nlme_df": _d(_map(NUM, "coefficient"), "nlme's between/within DF, the fit's own"),
    "p": _d(COEFS, "two-sided p of the t statistic on the Satterthwaite DF")})
_OLS_UNIT = _obj({"row": _d(INT, "the student table's row"), "cluster": STR, "cooks": NUM, "leverage": NUM,
                  "std_resid": NUM})
_OLS_DIAG = _part({
    "formula": _d(STR, "the formula, R style, in the dataset's columns"), "n": _d(COUNT, "rows used"),
    "coef": _d(COEFS, "estimates, by R's coefficient name, in R's order"), "se": _d(COEFS, "standard errors"),
    "p": _d(COEFS, "two-sided p-values"), "r2": _d(NUM, "R²"), "sigma": _d(NUM, "residual standard error"),
    "units": _d(_obj({"row": _d(_array(INT), "the student table's row"), "cluster": _array(STR),
                      "fitted": _array(NUM), "resid": _array(NUM),
                      "std_resid": _d(_array(NUM), "R's rstandard"), "leverage": _d(_array(NUM), "R's hatvalues"),
                      "cooks": _d(_array(NUM), "R's cooks.distance")}),
                "per unit, in the student table's order"),
    "top_units": _d(_array(_OLS_UNIT), "the 5 units of largest Cook's distance, largest first"),
    "clusters": _d(_array(_obj({"cluster": STR, "cook": _d(NUM, "null: rank deficient without it")})),
                   "Cook's distance of deleting each cluster (exact refits), largest first")})
_SAMPLE_STATS = {
    "clusters": COUNT, "units": COUNT,
    "rows_dropped": _d(COUNT, "rows dropped by the missing-value policy (merge report)"),
    "w_other": _d(STR, "w's non-reference level"), "share_w_other": _d(NUM, "share of clusters at w_other"),
    "size_mean": _d(NUM, "mean cluster size"), "size_sd": _d(NUM, "SD of the cluster sizes"),
    "mean_y": NUM, "mean_x": NUM,
    "sd_cluster_mean_y": _d(NUM, "SD of the cluster means of y"),
    "sd_cluster_mean_x": _d(NUM, "SD of the cluster means of x"),
    "mean_within_sd_x": _d(NUM, "mean over clusters (of two units or more) of the SD of x within"),
}
_SAMPLE = _obj({"name": _d(STR, "the profile's name, or 'all clusters in the files'"), "title": STR,
                "this": _d(BOOL, "the row of this dataset"), "sample": _d(STR, "the sample, in words")},
               {**_SAMPLE_STATS, "error": _d(STR, "why this sample could not be merged")},
               allOf=[{"if": {"required": ["error"]}, "then": {"not": {"required": ["clusters"]}},
                       "else": {"required": list(_SAMPLE_STATS)}}])
_STEP_STATS = {
    "logLik": NUM, "npar": COUNT, "LRT": _d(NUM, "2 (logLik - the current model's logLik)"), "df": INT,
    "p_chisq": _d(NUM, "chi-square p (conservative)"),
    "p_mixture": _d(NUM, "p of the 50:50 mixture of chi2(df - 1) and chi2(df)"),
    "accepted": _d(BOOL, "p_mixture < alpha"), "singular": BOOL, "converged": BOOL,
    "tried": _d(_map(NUM, "candidate"), "logLik with each remaining candidate added"),
}
_STEP = _obj({"random": _d(STR, "the random part tried"), "added": _d(STR, "the candidate added")},
             {**_STEP_STATS, "error": _d(STR, "why the refit failed (the procedure ends)")},
             allOf=[{"if": {"required": ["error"]}, "then": {"not": {"required": ["accepted"]}},
                     "else": {"required": list(_STEP_STATS)}}])
_STEPWISE = _part({
    "fixed": _d(STR, "the fixed part, in the dataset's columns"), "method": {"enum": ["REML", "ML"]},
    "alpha": NUM, "candidates": _d(_array(STR), "the candidate random terms (columns)"),
    "start": _d(_obj({"random": STR, "logLik": NUM, "npar": COUNT, "singular": BOOL, "converged": BOOL}),
                "the random-intercept fit"),
    "steps": _d(_array(_STEP), "each step: the best candidate and its LRT"),
    "final": _d(STR, "the random part accepted")})
INFERENCE = _obj({
    "dataset": STR,
    "hausman": _d(_obj({}, {"slopes": _array(STR), "fe": COEFS, "se_fe": COEFS, "re": COEFS, "se_re": COEFS,
                            "re_method": STR, "statistic": NUM, "df": INT, "p": NUM, "positive_definite": BOOL,
                            "error": _ERROR}), "within against random-intercept slope of x (hlm.hausman)"),
    "r2": _d(_map(_R2, "mixed model"), "multilevel R² of each mixed model of the catalog (hlm.lmm.r2)"),
    "profile": _d(_map(_obj({}, {"intervals": _map(INTERVAL, "parameter"), "error": _ERROR}), "model"),
                  "profile intervals on the sd scale (hlm.lmm.profile), models of lab: profile:"),
    "satterthwaite": _d(_map(_SATTERTHWAITE, "mixed model"),
                        "Satterthwaite DF of each mixed model of the catalog (hlm.inference.satterthwaite)"),
    "ols": _d(_OLS_DIAG, "the pooled OLS y ~ x * w + z * w and its influence (hlm.olsdiag); error without a "
                         "z role"),
    "samples": _d(_obj({"this": _d(STR, "this dataset's name"),
                        "rows": _d(_array(_SAMPLE), "this dataset's sample, the other profiles' of the same files, "
                                                    "and all the clusters (unless a profile takes them all)")}),
                  "the dataset's sample against the other samples of its raw files (hlm.samplecompare)"),
    "stepwise": _d(_obj({"x": _d(_STEPWISE, "candidate x; fixed part y ~ x * w")},
                        {"x_z": _d(_STEPWISE, "candidates x and z; fixed part y ~ x * w + w * z + cvar_x + "
                                              "cvar_z (profiles with a z role)")}),
                   "the random part built forward by LRTs (hlm.stepwise)"),
}, title="inference record")
# data/fits/<dataset>/inference/<part>.json: one part of the inference record, its own job
_INFERENCE_PARTS = [k for k in INFERENCE["properties"] if k != "dataset"]
INFERENCE_PART = _obj({"dataset": STR, "part": _d({"enum": _INFERENCE_PARTS}, "the part it holds")},
                      {k: INFERENCE["properties"][k] for k in _INFERENCE_PARTS},
                      allOf=[{"if": {"properties": {"part": {"const": k}}},
                              "then": {"required": [k], "maxProperties": 3}} for k in _INFERENCE_PARTS],
                      title="inference part record")

SCHEMAS: dict[str, dict] = {
    "fit": FIT, "lmm": LMM, "ols": OLS, "failure": FAILURE, "comparison": COMPARISON,
    "figure": FIGURE, "reproduction": REPRODUCTION, "merge_report": MERGE_REPORT,
    "bootstrap_block": BOOTSTRAP_BLOCK, "bootstrap": BOOTSTRAP,
    "influence_block": INFLUENCE_BLOCK, "influence": INFLUENCE, "inference": INFERENCE,
    "inference_part": INFERENCE_PART,
}
KINDS = tuple(SCHEMAS)


def schema(kind: str) -> dict:
    """The JSON Schema of a record kind (a copy, with ``$schema``)."""
    return {"$schema": DRAFT, **copy.deepcopy(_schema(kind))}


def _schema(kind: str) -> dict:
    if kind not in SCHEMAS:
        raise ValueError(f"unknown record kind {kind!r}; known: {', '.join(KINDS)}")
    return SCHEMAS[kind]


# --- validation ---------------------------------------------------------------------------------

@functools.cache
def _validator(kind: str):
    import jsonschema  # lazily: only the steps that read or write records pay for it

    return _fast_validator_class(jsonschema)(_schema(kind))


def _simple_check(schema):
    """A fast test for the scalar schemas of long arrays and maps (number, integer, count),
    or None for any other schema."""
    if not isinstance(schema, dict) or not set(schema) <= {"type", "minimum", "description"}:
        return None
    kinds = schema.get("type")
    kinds = tuple(kinds) if isinstance(kinds, list) else (kinds,)
    low = schema.get("minimum")
    if kinds in (("number", "null"), ("number",)) and low is None:
        none = "null" in kinds
        return lambda v: type(v) is float or type(v) is int or (none and v is None)
    if kinds == ("integer",):
        return lambda v: type(v) is int and (low is None or v >= low)
    return None


@functools.cache
def _fast_validator_class(jsonschema):
    """Draft 2020-12, with a fast path for long arrays and maps of numbers (a fit's values
    per observation, per cluster, per coefficient): checked in one loop, and by the
    standard rules only when one is wrong (which then says which and why)."""
    base = jsonschema.Draft202012Validator
    items, additional = base.VALIDATORS["items"], base.VALIDATORS["additionalProperties"]

    def fast_items(validator, sub, instance, schema):
        check = _simple_check(sub)
        if check is not None and isinstance(instance, list) and all(map(check, instance)):
            return
        yield from items(validator, sub, instance, schema)

    def fast_additional(validator, sub, instance, schema):
        check = _simple_check(sub)
        if (check is not None and isinstance(instance, dict) and "properties" not in schema
                and "patternProperties" not in schema and all(map(check, instance.values()))):
            return
        yield from additional(validator, sub, instance, schema)

    return jsonschema.validators.extend(base, {"items": fast_items, "additionalProperties": fast_additional})


def _where(path) -> str:
    return str(path) if path is not None else "a record"


def _json_path(error) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _short(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def validate(kind: str, record: Any, where: str | Path | None = None, writing: bool = False) -> Any:
    """Check `record` against the schema of `kind`; return it, or raise RecordError naming
    the file (`where`), the JSON path and the problem."""
    validator = _validator(kind)
    errors = list(validator.iter_errors(record))
    if not errors:
        return record
    from jsonschema.exceptions import best_match

    err = best_match(errors)
    title = _schema(kind).get("title", kind)
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    if writing:
        hint = "this is a bug in the step that writes it: its record does not match hlm.records"
        head = f"the {title} for {_where(where)} was not written"
    else:
        hint = ("it was written by another version of the code or edited by hand; delete it and "
                "rebuild it (snakemake)")
        head = f"{_where(where)} is not a valid {title}"
    raise RecordError(f"{head}: at {_json_path(err)}: {_short(err.message)}{more}; {hint}.")


def is_valid(kind: str, record: Any) -> bool:
    return _validator(kind).is_valid(record)


# --- documentation ------------------------------------------------------------------------------

def _type_text(s: dict) -> str:
    """A short type, for the docs: numbers may be null (non-finite) everywhere, unsaid."""
    if "const" in s:
        return str(s["const"]).lower() if isinstance(s["const"], bool) else f'"{s["const"]}"'
    if "enum" in s:
        return " \\| ".join(f'"{v}"' for v in s["enum"])
    if "anyOf" in s:
        return " or ".join(_type_text(a) for a in s["anyOf"])
    kinds = s.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "number" in kinds:
        kinds = [k for k in kinds if k != "null"]
    words = []
    for k in kinds:
        items = s.get("items", {})
        size = s.get("minItems") if s.get("minItems") == s.get("maxItems") else None
        if k == "array" and items.get("type") == "array":
            inner = items.get("minItems") if items.get("minItems") == items.get("maxItems") else None
            words.append(f"{size} x {inner} matrix" if size and inner else "matrix")
        elif k == "array":
            words.append(f"array of {f'{size} ' if size else ''}{_type_text(items)}")
        elif k == "object" and isinstance(s.get("additionalProperties"), dict):
            words.append(f"{{{s.get('x-keys', 'key')}: {_type_text(s['additionalProperties'])}}}")
        elif k == "object" and "properties" in s:
            words.append("{" + ", ".join(s["properties"]) + "}")
        else:
            words.append(k)
    return " or ".join(words)


def _rows(s: dict, prefix: str, required: bool, depth: int) -> list[list[str]]:
    rows = []
    req = set(s.get("required", []))
    for name, sub in s.get("properties", {}).items():
        key = f"{prefix}{name}"
        rows.append([f"`{key}`", _type_text(sub), "yes" if (name in req and required) else "no",
                     sub.get("description", "")])
        if depth > 0 and "properties" in sub and sub.get("type") == "object":
            rows += _rows(sub, f"{key}.", name in req and required, depth - 1)
        elif depth > 0 and sub.get("type") == "array" and "properties" in sub.get("items", {}):
            rows += _rows(sub["items"], f"{key}[].", name in req and required, depth - 1)
    return rows


def field_table(kind: str | dict, depth: int = 1) -> str:
    """A Markdown table of a kind's (or schema's) fields: name, type, required, meaning."""
    s = _schema(kind) if isinstance(kind, str) else kind
    lines = ["| field | type | required | meaning |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") if i != 1 else cell for i, cell in enumerate(row)) + " |"
              for row in _rows(s, "", True, depth)]
    return "\n".join(lines)


def ols_method_schema(method: str) -> dict:
    """The schema of one classical method's record."""
    return _ols_method(method)


_DOC_ORDER = [
    ("lmm", "Mixed-model fit (`kind: lmm`)",
     "data/fits/<dataset>/<model>.json for a `kind: lmm` catalog entry, fitted by the engine hlm.lmm. "
     "`status.state` follows the fit: `not_converged` when `converged` is false, else `singular` or "
     "`fitted`."),
    ("ols", "Classical fit (`kind: ols`)",
     "data/fits/<dataset>/<model>.json for a `kind: ols` catalog entry (hlm.classic). Every method "
     "writes the common fields; `call` names the method, which adds its own fields (next tables). "
     "No other field is allowed."),
    ("failure", "Failure record", "data/fits/<dataset>/<model>.json when the model could not be fitted "
     "(it has `error`); the book explains `status.why` instead of showing the model."),
    ("comparison", "Model comparison", "data/fits/<dataset>/comparison.json. A row whose `state` is "
     "`fitted` or `singular` has the numbers; any other has `error` instead. An LRT row has the "
     "statistic, or `error` when an ML refit failed."),
    ("figure", "Figure sidecar", "figures/<dataset>/<name>.json, beside the SVG and PNG: what the "
     "caption needs from the data."),
    ("reproduction", "Reproduction record", "data/fits/<dataset>/reproduction.json. When `applies` is "
     "false, `notes` and `r` are empty."),
    ("merge_report", "Merge report", "The metadata of data/processed/<dataset>/merged.parquet under the "
     "key `hlm`: what the merge kept and dropped."),
    ("bootstrap_block", "Bootstrap block", "data/fits/<dataset>/bootstrap/<test>/block-<k>.json: one job's "
     "replicates of a parametric-bootstrap LRT (hlm.lmm.bootstrap)."),
    ("bootstrap", "Bootstrap test", "data/fits/<dataset>/bootstrap/<test>.json: the blocks merged into the "
     "test's p-value; `error` instead of the numbers when the models could not be fitted."),
    ("influence_block", "Influence block", "data/fits/<dataset>/influence/<model>/block-<k>.json: one job's "
     "share of the deletions of a cluster, exact refits and one-step rows (hlm.influence, hlm.lmm.influence)."),
    ("influence", "Influence of the clusters", "data/fits/<dataset>/influence/<model>.json: every cluster's "
     "Cook's distance and DFBETAS, from exact refits or the one-step deletion (`exact`); `error` instead "
     "when the model could not be fitted."),
    ("inference", "Inference record", "data/fits/<dataset>/inference.json: the Hausman test, multilevel R², "
     "profile intervals, Satterthwaite DF, the preliminary OLS's diagnostics, the sample comparison and the "
     "forward building of the random part (hlm.inference); a part that cannot be computed holds `error` "
     "(alone, in `satterthwaite`, `ols` and `stepwise`). The merge of the part records below."),
    ("inference_part", "Inference part", "data/fits/<dataset>/inference/<part>.json: one part of the inference "
     "record, written by its own job (hlm.inference.<part>): `part` names it, and the record holds that "
     "field alone, as in the inference record above."),
]


def doc_tables() -> str:
    """The field tables of every record kind, in Markdown (docs/architecture.md embeds them)."""
    parts = []
    for kind, head, text in _DOC_ORDER:
        parts += [f"#### {head}", "", f"Schema `{kind}`. {text}", ""]
        if kind == "ols":
            parts += [field_table(_obj(_OLS_COMMON)), ""]
            for m in OLS_METHODS:
                parts += [f"Method `{m}` (`call`: `{OLS_CALL.format(m)}`) adds:", "",
                          field_table(_obj(OLS_OWN[m])), ""]
        else:
            parts += [field_table(kind, depth=0 if kind == "inference_part" else 1), ""]
    return "\n".join(parts).rstrip() + "\n"
