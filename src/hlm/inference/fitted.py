"""The catalog's mixed models from their fit records, for the parts of the inference record
that work from a fit (:mod:`hlm.inference.r2`, :mod:`hlm.inference.satterthwaite`,
:mod:`hlm.inference.profile`) instead of fitting it again: whether the record has a fit, and
the design it was fitted on.
"""
from __future__ import annotations


def unusable(cfg: dict, name: str, profile, record: dict) -> dict | None:
    """{"error": why} when catalog model `name` has no fit to work from (its record is a
    failure record), else None."""
    from hlm.catalog import model_spec

    absent = model_spec(cfg, name, profile).absent_roles(profile)
    if absent:  # the fit step's record says the same (hlm.models.absent_role_record)
        return {"error": f"ModelError: the model uses the {', '.join(absent)} role, which profile "
                         f"'{profile.name}' does not have"}
    if "error" in record:
        return {"error": record["error"]}
    return None


def fitted_design(cfg: dict, name: str, profile, students):
    """The engine's design of catalog mixed model `name` on `students`, as its fit step
    builds it (hlm.models.lmm_call): the rows and columns its fit record describes."""
    from hlm import lmm
    from hlm.catalog import model_spec
    from hlm.errors import DataError
    from hlm.models import check_columns, lmm_call

    spec = model_spec(cfg, name, profile)
    if spec.kind != "lmm":
        raise DataError(f"'{name}' is not a mixed model (kind: {spec.kind}); use a `kind: lmm` catalog entry")
    check_columns(students, spec, profile)
    kwargs = lmm_call(spec, profile, spec.method or "REML")[1]
    return lmm.design(students, kwargs["fixed"], kwargs["random"], kwargs.get("reference"))
