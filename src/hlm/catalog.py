"""The model catalog: models written with role names, turned into column formulas.

Catalog formulas use the role names y, x, w, cluster and the contextual
variables cvar_x (cluster mean of x) and dvar_x (x minus that mean), e.g.
``y ~ x * w`` and ``~ 1 + x | cluster``. :func:`formula` substitutes a profile's
columns (``MathAch ~ SES * Sector``), so coefficients carry the dataset's names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hlm.config import Profile
from hlm.errors import DataError

_TOKEN = re.compile(r"\b(cvar_x|dvar_x|mean_y|mean_x|cluster|y|x|w)\b")


@dataclass(frozen=True)
class ModelSpec:
    """One catalog entry with its formulas in the dataset's column names."""

    name: str
    kind: str  # "ols" | "lmm"
    label: str
    method: str | None
    fixed: str | None
    random: str | None
    role_fixed: str | None
    role_random: str | None


def formula(text: str | None, profile: Profile) -> str | None:
    """Replace role names by the profile's columns in a catalog formula."""
    if text is None:
        return None
    columns = {"y": profile.y, "x": profile.x, "w": profile.w, "cluster": profile.cluster,
               "cvar_x": profile.cvar_x, "dvar_x": profile.dvar_x,
               "mean_y": f"mean_{profile.y}", "mean_x": f"mean_{profile.x}"}
    return _TOKEN.sub(lambda m: quote(columns[m.group(1)]), text)


def quote(column: str) -> str:
    """Backquote a column name that is not a plain identifier (formulaic syntax)."""
    return column if column.isidentifier() else f"`{column}`"


def model_names(cfg: dict) -> list[str]:
    return list(cfg["models"])


def lmm_names(cfg: dict) -> list[str]:
    """The mixed models of the catalog (fitted by the engine)."""
    return [m for m in model_names(cfg) if cfg["models"][m]["kind"] == "lmm"]


def model_spec(cfg: dict, name: str, profile: Profile) -> ModelSpec:
    """The catalog entry `name` resolved for `profile`."""
    if name not in cfg["models"]:
        raise DataError(f"model '{name}' is not in the catalog (config: models:); known: "
                        f"{', '.join(cfg['models'])}")
    raw = cfg["models"][name]
    return ModelSpec(name=name, kind=raw["kind"], label=raw["label"], method=raw.get("method"),
                     fixed=formula(raw.get("fixed"), profile), random=formula(raw.get("random"), profile),
                     role_fixed=raw.get("fixed"), role_random=raw.get("random"))
