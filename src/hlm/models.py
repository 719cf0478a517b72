"""The fit stage: one catalog entry -> one result JSON; and the model comparison table.

- :func:`fit_model` fits a catalog entry (``kind: ols`` with :mod:`hlm.classic`,
  ``kind: lmm`` with the engine :mod:`hlm.lmm`) and returns its result JSON. A fit
  that fails or does not converge is a readable record (``error``, ``converged:
  false``) plus a warning on stderr; invalid data raise :class:`DataError`.
- :func:`comparison` builds the table of mixed models (npar, logLik, AIC, BIC) and
  likelihood-ratio tests between nested pairs.
- ``run_fit`` / ``run_compare``: ``python -m hlm fit|compare ...`` (rules/models.smk).

LRT choice: two fits whose fixed parts are equal are compared with the logLik of
their own method (REML, as the notes). Pairs whose fixed parts differ are compared
by ML: the compare step refits both models with ``method="ML"`` from
students.parquet (a result JSON may carry ``ML_logLik``, which is then used).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

import pandas as pd
from scipy import stats

from hlm import classic
from hlm.artifacts import Artifacts
from hlm.cli import progress
from hlm.catalog import ModelSpec, lmm_names, model_spec
from hlm.config import Profile, add_profile_args
from hlm.sample import profile_from_args
from hlm.errors import DataError, ModelError
from hlm.fitstatus import diagnose, status_of
from hlm.io import read_json, write_json
from hlm.rprint import align, fmt_p

OLS_METHODS = {name: getattr(classic, name) for name in classic.LABELS}
_NAME = re.compile(r"(?<![\w.])([A-Za-z_.][\w.]*)(?![\w.]*\s*\()")


# --- inputs -----------------------------------------------------------------------------------

def load_students(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist; build it first (snakemake {path}).")
    return pd.read_parquet(path)


def formula_columns(*formulas: str | None) -> list[str]:
    """The variable names an R formula refers to (``1``, ``0`` and functions excluded)."""
    names: list[str] = []
    for text in formulas:
        quoted = re.findall(r"`([^`]+)`", text or "")  # non-syntactic names, backquoted
        bare = _NAME.findall(re.sub(r"`[^`]+`", " ", text or ""))
        for name in quoted + bare:
            if name not in names:
                names.append(name)
    return names


def check_columns(students: pd.DataFrame, spec: ModelSpec, profile: Profile) -> None:
    """Every column the model uses must be in the student table (else the data are invalid)."""
    if spec.kind == "ols":
        needed = [profile.y, profile.x, profile.w, profile.cluster]
    else:
        needed = formula_columns(spec.fixed, spec.random)
    missing = [c for c in needed if c not in students.columns]
    if missing:
        raise DataError(f"model '{spec.name}' needs columns {', '.join(missing)}, absent from the student "
                        f"table of '{profile.name}'; rebuild it with the derive step.")


# --- fitting ----------------------------------------------------------------------------------

def reference_levels(profile: Profile, *formulas: str | None) -> dict:
    """The engine's ``reference=``: the reference level of w and of z (when the profile has
    one), limited to the columns `formulas` use when any are given."""
    used = formula_columns(*formulas) if formulas else None
    reference = {role.column: str(role.reference) for key, role in profile.roles.items()
                 if key in ("w", "z") and (used is None or role.column in used)}
    if profile.w in reference:
        reference[profile.w] = profile.w_levels[0]
    return reference


def lmm_call(spec: ModelSpec, profile: Profile, method: str) -> tuple[str, dict]:
    """The engine call (as text, and its keyword arguments) for a mixed model."""
    kwargs = {"fixed": spec.fixed, "random": spec.random, "method": method, "model": spec.name}
    reference = reference_levels(profile, spec.fixed, spec.random)
    if reference:
        kwargs["reference"] = reference
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"hlm.lmm.fit(students, {args})", kwargs


def engine_fit(cfg: dict, name: str, profile: Profile, students: pd.DataFrame):
    """The engine's result (hlm.lmm.LmmResult) of catalog mixed model `name`, for the
    steps that work on fitted models (bootstrap, influence)."""
    from hlm.lmm import fit

    spec = model_spec(cfg, name, profile)
    if spec.kind != "lmm":
        raise DataError(f"'{name}' is not a mixed model (kind: {spec.kind}); use a `kind: lmm` catalog entry")
    check_columns(students, spec, profile)
    return fit(students, **lmm_call(spec, profile, spec.method or "REML")[1])


def zero_columns(students: pd.DataFrame, spec: ModelSpec, profile: Profile) -> list[str]:
    """The numeric columns a model uses that are 0 for every unit up to rounding (e.g. the
    deviation of x from its cluster mean when x is constant within every cluster): their
    coefficients are not identified, though rounding noise can hide it from the engine's
    collinearity check and yield estimates in the 1e15."""
    scale = max(1.0, float(students[profile.x].abs().max())) if profile.x in students else 1.0
    out = []
    for c in formula_columns(spec.fixed, spec.random):
        if c in students and pd.api.types.is_numeric_dtype(students[c]) and not pd.api.types.is_bool_dtype(students[c]):
            if float(students[c].abs().max()) <= 1e-9 * scale:
                out.append(c)
    return out


def fit_lmm(spec: ModelSpec, students: pd.DataFrame, profile: Profile, method: str | None = None) -> dict:
    """Fit a mixed model with the engine: its JSON with our model, label, call and ``glh``."""
    from hlm.lmm import fit

    zero = zero_columns(students, spec, profile)
    if zero:
        why = (f": {profile.label('x')} does not vary within any {profile.cluster_label}"
               if profile.dvar_x in zero else "")
        raise ModelError(f"{', '.join(repr(c) for c in zero)} identically zero on these data{why}, so "
                         "the coefficients of these columns are not identified")
    method = method or spec.method or "REML"
    call, kwargs = lmm_call(spec, profile, method)
    res = fit(students, **kwargs)
    out = {"model": spec.name, "kind": "lmm", "label": spec.label}
    out.update({k: v for k, v in res.to_dict(obs=True).items() if k not in out})
    out["call"] = call
    # the notes' glh(fit): Wald F test that every fixed effect is zero
    out["glh"] = res.wald(list(res.x_names))
    return out


def fit_ols(spec: ModelSpec, students: pd.DataFrame, profile: Profile) -> dict:
    """Fit a classical method (the catalog's ``method:``) with statsmodels."""
    method = spec.method or spec.name
    if method not in OLS_METHODS:
        raise DataError(f"model '{spec.name}' asks for classical method '{method}'; known: "
                        f"{', '.join(OLS_METHODS)} (config: models:).")
    out = OLS_METHODS[method](students, profile).to_dict()
    out["model"], out["label"] = spec.name, spec.label
    return out


def failure_record(spec: ModelSpec, err: BaseException) -> dict:
    """The JSON of a fit that failed: what was asked, and why it failed."""
    return {"model": spec.name, "kind": spec.kind, "label": spec.label, "fixed": spec.fixed,
            "random": spec.random, "method": spec.method or ("REML" if spec.kind == "lmm" else "OLS"),
            "converged": False, "error": f"{type(err).__name__}: {err}"}


#: What an absent optional role is, in the words of a status.
ROLE_WORDS = {"z": "a second binary variable of the units, besides w"}


def absent_role_record(spec: ModelSpec, absent: list[str], profile: Profile) -> dict:
    """The record of a model that uses an optional role the profile does not have: not
    fitted, and why (a choice of the profile, not a failure: no warning)."""
    roles = "; ".join(f"{r} role ({ROLE_WORDS.get(r, 'an optional role')})" for r in absent)
    out = failure_record(spec, DataError(f"profile '{profile.name}' has no {', '.join(absent)} role"))
    out["status"] = {"state": "not_fitted",
                     "why": f"the dataset's profile has no {roles}, which this model uses",
                     "remedy": "add the role to the profile (`roles: z: {column: ..., reference: ...}`) "
                               "if the data have such a column"}
    return out


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def fit_model(cfg: dict, name: str, profile: Profile, students: pd.DataFrame) -> dict:
    """The result JSON of catalog entry `name`: a fit, or a failure record (never both),
    with its ``status`` (:mod:`hlm.fitstatus`: fitted, singular, not converged or not
    fitted, why in terms of the data, and what to change).

    DataError (invalid data or catalog) propagates; any other error while fitting
    becomes a record with ``error`` and ``converged: false``, and a warning.
    """
    spec = model_spec(cfg, name, profile)
    absent = spec.absent_roles(profile)
    if absent:
        return absent_role_record(spec, absent, profile)
    check_columns(students, spec, profile)
    progress(f"fitting '{name}' ({spec.kind}) on {len(students)} rows in "
             f"{students[profile.cluster].nunique()} clusters")
    try:
        out = fit_lmm(spec, students, profile) if spec.kind == "lmm" else fit_ols(spec, students, profile)
    except DataError:
        raise
    except Exception as err:  # a failed fit is a result the book reports, not a crash
        warn(f"model '{name}' on '{profile.name}' could not be fitted: {type(err).__name__}: {err}")
        out = failure_record(spec, err)
    out["status"] = diagnose(out, students, profile)
    if out["status"]["state"] == "not_converged":
        warn(f"model '{name}' on '{profile.name}' did not converge; see 'optimizer' in its JSON.")
    return out


def run_fit(argv: list[str]) -> int:
    """``python -m hlm fit --dataset D --model M --out data/fits/D/M.json [--students P]``"""
    parser = argparse.ArgumentParser(prog="python -m hlm fit")
    add_profile_args(parser)
    parser.add_argument("--model", required=True, help="catalog name (config: models:)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--students", type=Path, help="default: data/processed/<dataset>/students.parquet")
    args = parser.parse_args(argv)
    cfg, profile = profile_from_args(args)
    model_spec(cfg, args.model, profile)  # unknown names fail before reading data
    students = load_students(args.students or Artifacts(profile.name).students_path)
    write_json(args.out, fit_model(cfg, args.model, profile, students), kind="fit")
    return 0


# --- comparison -------------------------------------------------------------------------------

def _group(fit: dict) -> str:
    return (fit.get("random") or "").split("|")[-1].strip()


def nested(small: dict, big: dict) -> bool:
    """`small` is nested in `big`: same grouping, its fixed and random terms a subset."""
    fs, fb = set(small["fixef"]), set(big["fixef"])
    rs, rb = set(small["re_names"]), set(big["re_names"])
    return (_group(small) == _group(big) and small["n"] == big["n"] and fs <= fb and rs <= rb
            and (fs, rs) != (fb, rb))


def nested_pairs(fits: dict[str, dict]) -> list[tuple[str, str]]:
    """Adjacent nested pairs (no catalog model strictly between them), in catalog order."""
    names = [k for k, v in fits.items() if status_of(v).usable]
    pairs = []
    for a in names:
        for b in names:
            if nested(fits[a], fits[b]) and not any(
                    nested(fits[a], fits[c]) and nested(fits[c], fits[b]) for c in names):
                pairs.append((a, b))
    return pairs


def boundary_p(stat: float, df: int) -> float:
    """p of an LRT adding one variance component: 50:50 mixture of chi2(df-1) and chi2(df)."""
    lower = stats.chi2.sf(stat, df - 1) if df > 1 else float(stat <= 0)
    return float(0.5 * stats.chi2.sf(stat, df) + 0.5 * lower)


def lrt_row(a: str, b: str, fits: dict[str, dict], ml_loglik: Callable[[str], float] | None) -> dict:
    """Likelihood-ratio test of model `a` (null) within model `b`."""
    fa, fb = fits[a], fits[b]
    same_fixed = set(fa["fixef"]) == set(fb["fixef"]) and fa.get("method") == fb.get("method")
    row = {"null": a, "alt": b, "df": int(fb["npar"] - fa["npar"]),
           "criterion": fa.get("method", "REML") if same_fixed else "ML"}
    try:
        if same_fixed:
            lla, llb = fa["logLik"], fb["logLik"]
        else:
            lla, llb = (f["ML_logLik"] if "ML_logLik" in f else ml_loglik(n) for n, f in ((a, fa), (b, fb)))
    except Exception as err:  # an ML refit can fail like any fit
        return {**row, "error": f"{type(err).__name__}: {err}"}
    stat = max(0.0, 2 * (llb - lla))
    row.update(logLik_null=lla, logLik_alt=llb, statistic=stat, p=float(stats.chi2.sf(stat, row["df"])))
    added = set(fb["re_names"]) - set(fa["re_names"])
    if added:
        row["boundary"] = True
        row["p_boundary"] = boundary_p(stat, row["df"]) if len(added) == 1 else None
        row["footnote"] = ("the null puts a variance on the boundary of its space: the chi-square p is "
                           "conservative; p_boundary uses the 50:50 mixture of chi2(df-1) and chi2(df)"
                           if len(added) == 1 else "several variances on the boundary: p is conservative")
    return row


def comparison(fits: dict[str, dict], ml_loglik: Callable[[str], float] | None = None,
               dataset: str | None = None) -> dict:
    """The comparison artifact: one row per mixed model, LRTs of nested pairs.

    A model that was not fitted (or did not converge) keeps its row, with its
    ``state`` and the reason in ``error``, and takes part in no test."""
    rows = []
    for name, f in fits.items():
        row = {"name": name, "label": f.get("label"), "fixed": f.get("fixed"), "random": f.get("random"),
               "REML": f.get("method") == "REML"}
        status = status_of(f)
        row["state"] = status.state
        if not status.usable:
            row["error"] = status.why
        else:
            row.update(npar=f["npar"], logLik=f["logLik"], AIC=f["AIC"], BIC=f["BIC"],
                       converged=f.get("converged"), singular=f.get("singular"))
        rows.append(row)
    lrts = [lrt_row(a, b, fits, ml_loglik) for a, b in nested_pairs(fits)]
    notes = {"lrt": "LRTs compare adjacent nested pairs of the catalog. Equal fixed parts: the fits' own "
                    "(REML) log-likelihoods; different fixed parts: ML refits (REML likelihoods of "
                    "different fixed parts are not comparable).",
             "aic": "AIC/BIC of REML fits are comparable only between models with the same fixed part."}
    return {"dataset": dataset, "kind": "comparison", "models": rows, "lrt": lrts, "notes": notes,
            "table": comparison_text(rows, lrts)}


def comparison_text(rows: list[dict], lrts: list[dict]) -> str:
    """A plain-text rendering of the two tables (for logs and the book's fallback)."""
    body = [[r["name"], str(r.get("npar", "")), *(f"{r[k]:.2f}" if k in r else "failed"
                                                   for k in ("AIC", "BIC", "logLik"))] for r in rows]
    lines = align(["model", "npar", "AIC", "BIC", "logLik"], body)
    tests = [[f"{t['null']} vs {t['alt']}", t["criterion"], str(t["df"]),
              f"{t['statistic']:.3f}" if "statistic" in t else "failed",
              fmt_p(t["p"]) if "p" in t else "",
              fmt_p(t["p_boundary"]) if t.get("p_boundary") is not None else ""] for t in lrts]
    lines += [""] + align(["test", "fit", "df", "L.Ratio", "p-value", "p (boundary)"], tests)
    return "\n".join(lines)


def ml_refitter(cfg: dict, profile: Profile, students: pd.DataFrame) -> Callable[[str], float]:
    """logLik of a catalog model refitted by ML (cached)."""
    cache: dict[str, float] = {}

    def loglik(name: str) -> float:
        if name not in cache:
            res = fit_lmm(model_spec(cfg, name, profile), students, profile, method="ML")
            if not res.get("converged", True):
                warn(f"the ML refit of '{name}' did not converge")
            cache[name] = float(res["logLik"])
        return cache[name]

    return loglik


def run_compare(argv: list[str]) -> int:
    """``python -m hlm compare --dataset D --out data/fits/D/comparison.json [--fits-dir] [--students]``"""
    parser = argparse.ArgumentParser(prog="python -m hlm compare")
    add_profile_args(parser)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--fits-dir", type=Path, help="default: the directory of --out")
    parser.add_argument("--students", type=Path, help="default: data/processed/<dataset>/students.parquet")
    args = parser.parse_args(argv)
    cfg, profile = profile_from_args(args)
    fits_dir = args.fits_dir or args.out.parent
    fits = {}
    for name in lmm_names(cfg):
        path = fits_dir / f"{name}.json"
        if not path.exists():
            raise DataError(f"{path} does not exist; fit the model first (snakemake {path}).")
        fits[name] = read_json(path, kind="fit")
    students = load_students(args.students or Artifacts(profile.name).students_path)
    table = comparison(fits, ml_refitter(cfg, profile, students), dataset=profile.name)
    write_json(args.out, table, kind="comparison")
    return 0
