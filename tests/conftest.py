"""Shared fixtures: the notes' 40-school sample built by the package itself."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hlm.config import get_profile, load_config
from hlm.sample import with_data
from hlm.data import merge
from hlm.levels import derive
from tests.fixtures.clinics import make_clinics
from tests.fixtures.project import COPY, copy_project, snakemake
from tests.fixtures.shared import once, result

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"


@pytest.fixture(scope="session")
def notes_values() -> dict:
    """Numbers printed by the course notes (data/reference/notes_values.yaml)."""
    return yaml.safe_load((REFERENCE / "notes_values.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def config() -> dict:
    return load_config()


@pytest.fixture(scope="session")
def hsb40(config):
    return with_data(get_profile(config, "hsb40"))


@pytest.fixture(scope="session")
def hsb160(config):
    return with_data(get_profile(config, "hsb160"))


@pytest.fixture(scope="session")
def merged40(hsb40):
    return merge(hsb40)


@pytest.fixture(scope="session")
def tables40(merged40, hsb40):
    """(students, schools) for hsb40, as the derive step makes them."""
    return derive(merged40.frame, hsb40)


@pytest.fixture(scope="session")
def clinics_project(tmp_path_factory):
    """The project copied to a temporary folder, with the clinics dataset (not HSB) beside it."""
    work = copy_project(tmp_path_factory.mktemp("project"))
    fixture = make_clinics(work / "mydata")
    return work, fixture


@pytest.fixture(scope="session")
def clinics_book(tmp_path_factory):
    """(work, fixture) after the whole DAG ran there: `work/_book/clinics/` is the book,
    built once per test run (tests/fixtures/shared.py). Tests must not change it."""
    def build(work):
        copy_project(work)
        fixture = make_clinics(work / "mydata")
        snakemake(work, "--configfile", str(fixture["config"]))
        return {k: str(v) if isinstance(v, Path) else v for k, v in fixture.items()}

    work = once(tmp_path_factory, "clinics", build)
    return work, {k: Path(v) if isinstance(v, str) else v for k, v in result(work).items()}


@pytest.fixture(scope="session")
def hsb40_book(tmp_path_factory) -> Path:
    """A copy of the project with the raw data where `python -m hlm.build` (what `make
    book` runs) built the hsb40 book, once per test run. Tests must not change it."""
    def build(work):
        copy_project(work, [*COPY, "data/raw"])
        proc = subprocess.run([sys.executable, "-m", "hlm.build", "--cores", "2"], cwd=work,
                              capture_output=True, text=True, timeout=1500)
        assert proc.returncode == 0, proc.stderr[-6000:]

    return once(tmp_path_factory, "hsb40", build)


# The jobs of the test builds run in warm workers (hlm.worker); in the tests a worker
# leaves 5 s after its last job rather than minutes, so none outlives the test run.
os.environ.setdefault("HLM_WORKER_IDLE", "5")
