# Helpers shared by the rules, independent of the configuration: the command a step
# runs, its log, the code and the settings it depends on.
import functools
import os
import shlex
import sys
from pathlib import Path

# Every step resolves relative paths against the project root: this workflow's directory.
os.environ["HLM_ROOT"] = str(Path(workflow.basedir).resolve())

from hlm import deps
from hlm.artifacts import PATHS, fill

PY = sys.executable

# A step's stderr goes to its log and to the terminal; each step writes what it is
# doing as it goes, so the log of a step that dies (even killed) says where it was.
TO_LOG = " 2> >(tee {log} >&2)"


def hlm_cmd(cmd):
    """`python -m hlm <cmd>` (the user's config files come from HLM_CONFIGFILES)."""
    return f"{shlex.quote(PY)} -m hlm {cmd}"


def settings_input(dataset, name, text):
    """A small file holding `text`, a part of the configuration that a step depends on
    (rewritten only when `text` changes): a rule input, so that changing that part
    reruns the step. Rules use no `params:`, whose check would import pandas and add
    a third of a second to every call of Snakemake."""
    path = Path(fill(PATHS.settings, dataset=dataset, name=name))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return str(path)


_BASE = Path(workflow.basedir).resolve()


def project_path(path):
    """An absolute path relative to the project when inside it (so a moved or re-cloned
    project keeps the same rule inputs), else as it is."""
    rel = os.path.relpath(path, _BASE)
    return str(path) if rel.startswith("..") else rel


def step_code(command, *modules):
    """The package files that `python -m hlm <command>` runs, with `modules` it loads by
    name: computed from their imports (hlm.deps). Rule inputs, so that editing any of
    them reruns exactly the steps that use it."""
    return list(_step_code(command, modules))


@functools.lru_cache(maxsize=None)
def _step_code(command, modules):
    return tuple(project_path(f) for f in deps.step_code(command, *modules))


def log_of(step):
    """The log of a step: logs/{dataset}/<step>.log."""
    return fill(PATHS.log, step=step)
