"""Adding a model to the catalog (config: models:) needs nothing else: the workflow schedules
its fit, and every list of the catalog's models (hlm.catalog) includes it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hlm.catalog import lmm_names, model_names, model_spec
from hlm.config import get_profile, load_config

ROOT = Path(__file__).resolve().parents[1]
EXTRA = {"models": {"extra_slopes": {"kind": "lmm", "label": "Extra: random slopes, w on the intercepts",
                                     "fixed": "y ~ x + w", "random": "~ 1 + x | cluster"}}}
# what a dry run needs of the project (no outputs: every job is scheduled)
PROJECT = ["Snakefile", "rules", "config", "index.qmd", "report", "_quarto.yml", "data/raw", "data/reference", "tests/reference"]


@pytest.fixture()
def extra_config(tmp_path) -> Path:
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump(EXTRA), encoding="utf-8")
    return path


def test_catalog_lists_include_an_added_model(extra_config):
    cfg = load_config([extra_config])
    assert model_names(cfg)[-1] == "extra_slopes" and lmm_names(cfg)[-1] == "extra_slopes"
    assert set(model_names(load_config())) < set(model_names(cfg))
    spec = model_spec(cfg, "extra_slopes", get_profile(cfg, "hsb40"))
    assert (spec.fixed, spec.random) == ("MathAch ~ SES + Sector", "~ 1 + SES | School")


def test_dry_run_schedules_the_added_model(tmp_path, extra_config):
    snakemake = Path(sys.executable).with_name("snakemake")
    if not snakemake.exists():
        pytest.skip("snakemake is not installed in this environment")
    project = tmp_path / "project"
    for name in PROJECT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, project / name)
        elif src.exists():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, project / name)
    run = subprocess.run([str(snakemake), "-n", "--quiet", "host", "progress", "--configfile", str(extra_config)],
                         cwd=project, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "data/fits/hsb40/extra_slopes.json" in run.stdout + run.stderr
    assert "model=extra_slopes" in run.stdout + run.stderr
