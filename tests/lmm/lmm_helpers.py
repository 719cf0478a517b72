"""Shared helpers of the lmm tests: the notes' models and the HSB sample, built from the raw CSVs
(deliberately not via hlm.data, which other people edit)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "data" / "reference"

# Models of the notes' table; roles renamed: y = MathAch, x = SES, w = Sector,
# x.m = cvar_SES, x.d = dvar_SES (see data/reference/README.md).
MODELS = {
    "oneway": ("MathAch ~ 1", "~ 1 | School"),
    "means_outcomes": ("MathAch ~ 1 + Sector", "~ 1 | School"),
    "ancova": ("MathAch ~ 1 + SES", "~ 1 | School"),
    "random_coef": ("MathAch ~ 1 + SES", "~ 1 + SES | School"),
    "ints_slopes": ("MathAch ~ SES * Sector", "~ 1 + SES | School"),
    "nonrandom_slopes": ("MathAch ~ SES * Sector", "~ 1 | School"),
    "parallel": ("MathAch ~ 1 + SES + Sector", "~ 1 + SES | School"),
    "ctx_cwg": ("MathAch ~ 1 + cvar_SES + dvar_SES", "~ 1 + dvar_SES | School"),
    "ctx_raw": ("MathAch ~ 1 + cvar_SES + SES", "~ 1 + dvar_SES | School"),
    "ctx_w": ("MathAch ~ 1 + (cvar_SES + dvar_SES) * Sector", "~ 1 + dvar_SES | School"),
}

RENAME = {"wPublic": "SectorPublic", "x.m:wPublic": "cvar_SES:SectorPublic",
          "x.d:wPublic": "dvar_SES:SectorPublic", "x:wPublic": "SES:SectorPublic",
          "x.m": "cvar_SES", "x.d": "dvar_SES", "x": "SES"}


def r_to_ours(name: str) -> str:
    return RENAME.get(name, name)


def load_hsb(schools=None) -> pd.DataFrame:
    st = pd.read_csv(ROOT / "data/raw/hsb_students.csv", dtype={"School": str})
    sc = pd.read_csv(ROOT / "data/raw/hsb_schools.csv", dtype={"School": str})
    sc = sc[["School", "Sector"]]
    if schools is not None:
        keep = {str(s) for s in schools}
        st = st[st["School"].isin(keep)]
    df = st.merge(sc, on="School", how="left").reset_index(drop=True)
    df["Sector"] = pd.Categorical(df["Sector"], categories=["Catholic", "Public"])
    df["School"] = df["School"].astype(str)
    df["cvar_SES"] = df.groupby("School")["SES"].transform("mean")
    df["dvar_SES"] = df["SES"] - df["cvar_SES"]
    return df
