"""rules/book.smk under snakemake, on a copy of the fixture book (temporary Snakefile
standing in for the lead's Snakefile + rules/common.smk)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

from book_helpers import copy_fixture, make_stub

RULES = Path(__file__).resolve().parents[2] / "rules" / "book.smk"
HELPERS = RULES.parent / "helpers.smk"
# The book's rules with the project's helpers, and a stand-in for what the rest of the
# workflow gives them (the profile's figures and wording).
SNAKEFILE = f'''
DATASET = config.get("dataset", "demo")

include: "{HELPERS}"

def drawn_figures(dataset):
    return None

def profile_wording(dataset):
    return ""

include: "{RULES}"

rule all:
    input: book_outputs(DATASET)
'''


def snakemake(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [str(exe) if exe.exists() else "snakemake", "--cores", "2", "-d", str(root),
           "-s", str(root / "Snakefile"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env or os.environ.copy(), cwd=root)


@pytest.fixture(scope="module")
def smk_project(tmp_path_factory):
    root = copy_fixture(tmp_path_factory.mktemp("smk") / "book")
    (root / "Snakefile").write_text(SNAKEFILE)
    (root / "data/processed/demo").mkdir(parents=True)
    (root / "data/processed/demo/schools.csv").write_text("School\n1\n")
    proc = snakemake(root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


def test_book_built_by_rules(smk_project):
    out = smk_project / "_book" / "demo"
    assert (out / "index.html").is_file() and (out / "intro.html").is_file()
    assert (out / "fixture-book.pdf").read_bytes().startswith(b"%PDF")
    for name in ("index", "intro", "models", "appendix-data"):
        assert (smk_project / "build/demo/book" / f"{name}.md").is_file()


def test_noop_and_one_chapter_rebuild(smk_project):
    proc = snakemake(smk_project, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr
    qmd = smk_project / "report" / "models.qmd"
    qmd.write_text(qmd.read_text().replace("Check the residuals.", "Check the residuals again."))
    proc = snakemake(smk_project, "-n", "--quiet", "rules")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    jobs = {line.split()[0]: line.split()[1] for line in text.splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert jobs.get("chapter") == "1" and jobs.get("book") == "1", text


def test_chapter_artifacts_are_rule_inputs(smk_project):
    # dataset "other" has no figures/other/demo_plot.svg: the chapter job cannot run
    proc = snakemake(smk_project, "-n", "_book/other/index.html")
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "MissingInputException" in text and "figures/other/demo_plot.svg" in text
    assert "data/processed/other/schools.csv" in text


def test_book_rule_calls_quarto_when_on_path(smk_project, tmp_path):
    make_stub(tmp_path / "bin")
    log = tmp_path / "quarto.log"
    env = os.environ.copy()
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{env['PATH']}"
    env["QUARTO_STUB_LOG"] = str(log)
    proc = snakemake(smk_project, "--forcerun", "book", "_book/demo/index.html", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["argv"] for c in calls] == [["render", str(smk_project / "build/demo/book")]]
    assert (smk_project / "_book/demo/index.html").read_text() == "<html>stub</html>"
