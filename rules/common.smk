# Validation of the profile before any job runs, and helpers shared by the rules.
import os
import shlex
import sys
from pathlib import Path

# Every step resolves relative paths against the project root: this workflow's directory.
os.environ["HLM_ROOT"] = str(Path(workflow.basedir).resolve())

from snakemake.exceptions import WorkflowError

from hlm.config import check_profile_files, get_profile, validate_config
from hlm.sample import preflight
from hlm.errors import HlmError

PY = sys.executable
# The user's --configfile files reach every step through the environment rather than
# each job's command line, so that adding a config file does not change every job's
# command (which Snakemake would take as a reason to rerun it). What a profile's
# settings change is tracked by the rules' params instead.
CONFIGFILES = [str(Path(f).resolve()) for f in workflow.overwrite_configfiles]
os.environ["HLM_CONFIGFILES"] = os.pathsep.join(CONFIGFILES)

try:
    validate_config(config)
    DATASET = config["dataset"]
    PROFILE = get_profile(config, DATASET)
    check_profile_files(PROFILE)
    preflight(PROFILE)  # data that cannot carry the book stop here, before any job
except HlmError as err:
    raise WorkflowError(f"error: {err}")

wildcard_constraints:
    dataset=r"[A-Za-z0-9_.-]+",


# A step's stderr goes to its log and to the terminal; each step writes what it is
# doing as it goes, so the log of a step that dies (even killed) says where it was.
TO_LOG = " 2> >(tee {log} >&2)"


def hlm_cmd(cmd):
    """`python -m hlm <cmd>` (the user's config files come from HLM_CONFIGFILES)."""
    return f"{shlex.quote(PY)} -m hlm {cmd}"


def profile_settings(dataset):
    """What of a profile shapes the data (files, sample, role columns, missing policy),
    as a rule parameter: editing it reruns the rule; labels and title do not."""
    raw = config["datasets"][dataset]
    roles = {k: {f: v for f, v in spec.items() if f != "label"} for k, spec in raw["roles"].items()}
    keep = ("students", "schools", "cluster", "sample", "missing")
    return repr(({k: raw.get(k) for k in keep}, roles))


def profile_wording(dataset):
    """What a figure or chapter says about a dataset without reading its data: labels and title."""
    raw = config["datasets"][dataset]
    roles = {k: (v.get("column"), v.get("label")) for k, v in raw["roles"].items()}
    return repr((raw.get("title"), raw.get("cluster_label"), raw.get("unit_label"), roles))


HLM_SRC = Path(check_profile_files.__code__.co_filename).resolve().parent  # src/hlm


def project_path(path):
    """A path relative to the project when inside it (so a moved or re-cloned project
    keeps the same rule inputs), else absolute."""
    rel = os.path.relpath(Path(path).resolve(), Path(workflow.basedir).resolve())
    return str(path) if rel.startswith("..") else rel


def code(*parts):
    """Source files of the package that a step runs ("data.py", "lmm/"): rule inputs, so
    that editing the analysis code reruns exactly the steps that use it."""
    files = []
    for part in parts:
        path = HLM_SRC / part
        files += sorted(path.glob("*.py")) if part.endswith("/") else [path]
    return [project_path(f) for f in files]


def profile_of(dataset):
    try:
        return get_profile(config, dataset)
    except HlmError as err:
        raise WorkflowError(f"error: {err}")
