# Validation of the profile before any job runs, and helpers shared by the rules.
import os
import shlex
import sys
from pathlib import Path

# Every step resolves relative paths against the project root: this workflow's directory.
os.environ["HLM_ROOT"] = str(Path(workflow.basedir).resolve())

from snakemake.exceptions import WorkflowError

from hlm.config import check_profile_files, get_profile, validate_config
from hlm.errors import HlmError

PY = sys.executable
CONFIGFILES = [str(Path(f).resolve()) for f in workflow.overwrite_configfiles]

try:
    validate_config(config)
    DATASET = config["dataset"]
    PROFILE = get_profile(config, DATASET)
    check_profile_files(PROFILE)
except HlmError as err:
    raise WorkflowError(f"error: {err}")

wildcard_constraints:
    dataset=r"[A-Za-z0-9_.-]+",


def hlm_cmd(cmd):
    """`python -m hlm <cmd>` with the user's --configfile arguments."""
    extra = " ".join(f"--configfile {shlex.quote(f)}" for f in CONFIGFILES)
    return f"{shlex.quote(PY)} -m hlm {cmd} {extra}".rstrip()


def profile_of(dataset):
    try:
        return get_profile(config, dataset)
    except HlmError as err:
        raise WorkflowError(f"error: {err}")
