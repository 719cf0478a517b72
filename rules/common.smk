# Validation of the profile before any job runs, and what the rules need of it.
# Expects rules/helpers.smk (included before this file).
from snakemake.exceptions import WorkflowError

from hlm.config import check_profile_files, get_profile, validate_config
from hlm.sample import preflight
from hlm.errors import HlmError

# The user's --configfile files reach every step through the environment rather than
# each job's command line, so that adding a config file does not change every job's
# command (which Snakemake would take as a reason to rerun it). What a profile's
# settings change is tracked by small settings files instead (settings_input).
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


def profile_settings(dataset):
    """What of a profile shapes the data (files, sample, role columns, missing policy),
    for settings_input: editing it reruns the merge; labels and title do not."""
    raw = config["datasets"][dataset]
    roles = {k: {f: v for f, v in spec.items() if f != "label"} for k, spec in raw["roles"].items()}
    keep = ("students", "schools", "cluster", "sample", "missing")
    return repr(({k: raw.get(k) for k in keep}, roles))


def profile_wording(dataset):
    """What a figure or chapter says about a dataset without reading its data: labels (with their
    plurals), units and title."""
    raw = config["datasets"][dataset]
    roles = {k: (v.get("column"), v.get("label"), v.get("unit")) for k, v in raw["roles"].items()}
    return repr((raw.get("title"), raw.get("cluster_label"), raw.get("unit_label"), roles))


def profile_of(dataset):
    try:
        return get_profile(config, dataset)
    except HlmError as err:
        raise WorkflowError(f"error: {err}")
