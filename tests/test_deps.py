"""The code each step runs, computed from imports (hlm.deps)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from hlm import deps
from hlm.cli import COMMANDS

SRC = deps.SRC


def names(files):
    return {f.relative_to(SRC).as_posix() for f in files}


def test_import_statements_are_found_anywhere():
    code = (
        "import hlm.levels\n"
        "from hlm import io, config as cfg\n"
        "def f():\n"
        "    from hlm.figures.registry import (FIGURES,\n"
        "        caption)\n"
        "SETUP = \"import hlm.bookdata as b\\n\"\n"
        "x = 'hlm.rprint is only named here'\n"
    )
    assert deps.source_imports(code) == ["hlm", "hlm.bookdata", "hlm.config", "hlm.figures.registry",
                                         "hlm.io", "hlm.levels"]


def test_closure_follows_imports_and_packages():
    files = names(deps.closure(["hlm.figures.simulated"]))
    # the drawing module, what it imports, their packages' __init__, and the style it names
    assert {"figures/simulated.py", "simulate.py", "ellipse.py", "figures/_base.py", "figures/__init__.py",
            "__init__.py", "hlm.mplstyle"} <= files
    assert not any(f.startswith("lmm/") for f in files)  # figures never fit


@pytest.mark.parametrize("command,expected", [
    # the modules the hand-written lists used to miss
    ("fit", {"rprint.py", "io.py", "catalog.py", "models.py", "lmm/api.py", "fitstatus.py"}),
    ("compare", {"catalog.py", "models.py"}),
    ("chapter", {"bookdata.py", "figures/registry.py", "book/kernel.py", "book/execute.py"}),
    ("book", {"book/render.py", "book/crossref.py", "book/assets/book.css", "book/assets/book.typ"}),
    ("merge", {"data.py", "config.py", "__main__.py", "cli.py", "worker.py"}),
])
def test_step_code(command, expected):
    assert expected <= names(deps.step_code(command))


def test_the_renderer_and_the_data_steps_need_no_engine():
    for command in ("merge", "derive", "book"):
        assert not any(f.startswith("lmm/") for f in names(deps.step_code(command))), command


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_what_python_loads_is_listed(command):
    """Every hlm module that importing a command's module loads is in the step's code."""
    module = COMMANDS[command].split(":")[0]
    probe = (f"import importlib, json, sys; importlib.import_module({module!r}); "
             "print(json.dumps(sorted(getattr(m, '__file__', None) or '' for n, m in sys.modules.items() "
             "if n == 'hlm' or n.startswith('hlm.'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    loaded = {f for f in json.loads(out) if f}
    listed = {str(f) for f in deps.step_code(command)}
    assert loaded <= listed, sorted(loaded - listed)


# --- the rules: touching a module reruns exactly the steps that run it ------------------------

def _own_code(work) -> dict:
    """The environment of Snakemake runs in `work` that import the copy of the package in
    `work/src` (the tests edit it there: other tests build with the real one meanwhile)."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(work / "src"),
                                                                     os.environ.get("PYTHONPATH")])))


def _dry_run(work, *args):
    """The jobs a dry run schedules, as {(rule, first output)} (mtime triggers only)."""
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--rerun-triggers", "mtime",
                          *args], cwd=work, capture_output=True, text=True, timeout=600, env=_own_code(work))
    assert out.returncode == 0, out.stderr[-3000:]
    jobs, rule = set(), None
    for line in out.stdout.splitlines():
        head = re.match(r"(?:local)?rule (\w+):", line)
        if head:
            rule = head.group(1)
        elif rule and line.strip().startswith("output:"):
            jobs.add((rule, line.split(":", 1)[1].split(",")[0].strip()))
            rule = None
    return {job for job in jobs if job[0] != "all"}


@pytest.fixture(scope="module")
def up_to_date(tmp_path_factory):
    """A copy of the project, and of the package (`src/hlm`, which its Snakemake runs import),
    whose outputs all exist (empty) and are up to date."""
    from tests.fixtures.project import COPY, copy_project
    work = copy_project(tmp_path_factory.mktemp("deps"), [*COPY, "data/raw"])
    shutil.copytree(SRC, work / "src" / "hlm", ignore=shutil.ignore_patterns("__pycache__"))
    summary = subprocess.run([sys.executable, "-m", "snakemake", "--summary", "--cores", "1"], cwd=work,
                             capture_output=True, text=True, check=True, env=_own_code(work)).stdout
    for line in summary.splitlines()[1:]:  # output_file, date, rule, ...: make each output
        path = work / line.split("\t")[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    subprocess.run([sys.executable, "-m", "snakemake", "--touch", "--cores", "1", "--quiet"], cwd=work,
                   check=True, capture_output=True, env=_own_code(work))
    assert _dry_run(work) == set()
    return work


def _jobs(rule, names=None, dataset="hsb40"):
    """The output the dry run shows for each job of `rule` (all, or those in `names`)."""
    from hlm.book.project import load
    from hlm.catalog import model_names
    from hlm.config import load_config, load_profile
    from hlm.figures.registry import figure_names

    if rule == "fit":
        names = names or model_names(load_config())
        return {(rule, f"data/fits/{dataset}/{m}.json") for m in names}
    if rule == "figure":
        names = names or figure_names(load_profile(dataset))
        return {(rule, f"figures/{dataset}/{n}.svg") for n in names}
    if rule == "chapter":
        names = names or [ch.name for ch in load(SRC.parents[1] / "_quarto.yml").chapters]
        return {(rule, f"build/{dataset}/book/{n}.md") for n in names}
    if rule == "inference_part":  # parts of the inference record (hlm.inference.PARTS)
        return {(rule, f"data/fits/{dataset}/inference/{p}.json") for p in names}
    if rule == "lab":  # every job of the Lab's steps (rules/lab.smk), blocks and merges
        from hlm.artifacts import PATHS, fill
        from hlm.bootstrap import settings as boot
        from hlm.influence import settings as influence
        from hlm.inference import PARTS
        cfg = load_config()
        out = {("inference", fill(PATHS.inference, dataset=dataset))}
        out |= {("inference_part", fill(PATHS.inference_part, dataset=dataset, part=p)) for p in PARTS}
        for test in cfg["lab"]["bootstrap"]["tests"]:
            out.add(("bootstrap", fill(PATHS.bootstrap, dataset=dataset, test=test)))
            out |= {("bootstrap_block", fill(PATHS.bootstrap_block, dataset=dataset, test=test, block=str(k)))
                    for k in range(boot(cfg, test)["blocks"])}
        inf = influence(cfg)
        for model in inf["models"]:
            out.add(("influence", fill(PATHS.influence, dataset=dataset, model=model)))
            out |= {("influence_block", fill(PATHS.influence_block, dataset=dataset, model=model, block=str(k)))
                    for k in range(inf["blocks"])}
        return out
    single = {"compare": "data/fits/{d}/comparison.json", "reproduce": "data/fits/{d}/reproduction.json",
              "derive": "data/processed/{d}/students.parquet", "book": "_book/{d}/index.html"}
    return {(rule, single[rule].format(d=dataset))}


def _simulated():
    from hlm.figures.registry import FIGURES
    return [n for n, spec in FIGURES.items() if spec.group == "simulation"]


# What each module's edit must rerun by itself (its importers, read from the code); what
# follows from those jobs (the chapters and book after a fit, ...) is Snakemake's to add.
DIRECT = {
    "book/crossref.py": lambda: _jobs("book"),
    "book/assets/book.css": lambda: _jobs("book"),
    "figures/simulated.py": lambda: _jobs("figure", _simulated()),
    "simulate.py": lambda: _jobs("figure", _simulated()) | _jobs("chapter", ["hierarchical-model"]),
    "lmm/objective.py": lambda: _jobs("fit") | _jobs("compare") | _jobs("lab"),
    "rprint.py": lambda: _jobs("fit") | _jobs("compare") | _jobs("chapter", ["appendix-r-to-python"]) | _jobs("lab"),
    "catalog.py": lambda: _jobs("fit") | _jobs("compare") | _jobs("reproduce") | _jobs("lab")
                          | _jobs("chapter", ["appendix-own-data"]),
    "figures/registry.py": lambda: _jobs("figure") | _jobs("chapter"),
    "fitview.py": lambda: _jobs("chapter"),
    "levels.py": lambda: _jobs("derive") | _jobs("reproduce") | _jobs("figure") | _jobs("chapter"),
    # one part of the inference record: its job alone (then the merge, from its output)
    "lmm/profile.py": lambda: _jobs("inference_part", ["profile"]),
    "inference/hausman.py": lambda: _jobs("inference_part", ["hausman"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(DIRECT))
def test_touching_a_module_reruns_exactly_its_steps(up_to_date, module):
    work = up_to_date
    path = work / "src" / "hlm" / module
    direct = DIRECT[module]()
    expected = _dry_run(work, "--forcerun", *sorted(out for _, out in direct))
    assert direct <= expected
    # An edit, not only a newer timestamp: Snakemake reruns for an input whose checksum
    # changed (a file only touched keeps its recorded checksum and reruns nothing).
    stat, text = path.stat(), path.read_bytes()
    comment = b"\n/* edited */\n" if path.suffix == ".css" else b"\n# edited\n"
    try:
        path.write_bytes(text + comment)
        os.utime(path, ns=(stat.st_atime_ns, time.time_ns() + 3600 * 10**9))
        scheduled = _dry_run(work)
    finally:
        path.write_bytes(text)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert scheduled == expected, (sorted(scheduled - expected), sorted(expected - scheduled))
