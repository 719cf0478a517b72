"""The model catalog: models written with role names, turned into column formulas.

Catalog formulas use the role names y, x, w, cluster, the optional z, and the
contextual variables cvar_x (cluster mean of x), dvar_x (x minus that mean) and
cvar_z (the cluster's proportion of z's other level), e.g.
``y ~ x * w`` and ``~ 1 + x | cluster``. :func:`formula` substitutes a profile's
columns (``MathAch ~ SES * Sector``), so coefficients carry the dataset's names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hlm.config import Profile
from hlm.errors import DataError

_TOKEN = re.compile(r"\b(cvar_x|dvar_x|cvar_z|mean_y|mean_x|cluster|y|x|w|z)\b")
#: Tokens of optional roles: a model using one needs the role (`needed_roles`).
_OPTIONAL = {"z": "z", "cvar_z": "z"}


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
    needs: frozenset = frozenset()  # optional roles the model uses (z)

    def absent_roles(self, profile: Profile) -> list[str]:
        """The optional roles this model uses that `profile` does not have."""
        return sorted(r for r in self.needs if not profile.has(r))


def needed_roles(*texts: str | None) -> set[str]:
    """The optional roles (z) that catalog formulas use."""
    return {_OPTIONAL[m.group(1)] for t in texts if t for m in _TOKEN.finditer(t) if m.group(1) in _OPTIONAL}


def formula(text: str | None, profile: Profile) -> str | None:
    """Replace role names by the profile's columns in a catalog formula. A formula using
    an optional role the profile lacks is an error (see `needed_roles`)."""
    if text is None:
        return None
    absent = sorted(r for r in needed_roles(text) if not profile.has(r))
    if absent:
        raise DataError(f"the formula {text!r} uses the {', '.join(absent)} role, which profile "
                        f"'{profile.name}' does not have")
    columns = {"y": profile.y, "x": profile.x, "w": profile.w, "cluster": profile.cluster,
               "cvar_x": profile.cvar_x, "dvar_x": profile.dvar_x, "z": profile.z, "cvar_z": profile.cvar_z,
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
    needs = frozenset(needed_roles(raw.get("fixed"), raw.get("random")))
    usable = all(profile.has(r) for r in needs)  # else the fit step explains why it is not fitted
    return ModelSpec(name=name, kind=raw["kind"], label=raw["label"], method=raw.get("method"),
                     fixed=formula(raw.get("fixed"), profile) if usable else raw.get("fixed"),
                     random=formula(raw.get("random"), profile) if usable else raw.get("random"),
                     role_fixed=raw.get("fixed"), role_random=raw.get("random"), needs=needs)
