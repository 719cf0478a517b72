# Figures: one job per figure and dataset. The registry (hlm.figures.FIGURES) says
# which tables and fits each figure reads; the simulated example reads no data file.
# A figure also depends on the code that draws it (absolute paths of the installed
# package, so the rule works wherever the project is run): editing a figure module
# redraws only that module's figures. Only the registry is imported here (no
# matplotlib), so that parsing the workflow stays fast.
from hlm.figures.registry import FIGURES, HERE as _FIG_DIR, figure_names

_HLM_DIR = _FIG_DIR.parent
_FIG_CODE = [project_path(p) for p in (_FIG_DIR / "_base.py", _HLM_DIR / "hlm.mplstyle", _HLM_DIR / "ellipse.py",
                                       _HLM_DIR / "fitstatus.py")]


def figure_inputs(wildcards):
    spec = FIGURES[wildcards.name]
    files = [f"data/processed/{wildcards.dataset}/{t}" for t in spec.tables]
    files += [f"data/fits/{wildcards.dataset}/{m}.json" for m in spec.fits]
    files += _FIG_CODE + [project_path(spec.source)]
    if spec.group == "simulation":
        files.append(project_path(_HLM_DIR / "simulate.py"))
    return files


def drawn_figures(dataset):
    """Names of the figures that apply to the dataset's profile (e.g. none by sex without sex)."""
    return set(figure_names(profile_of(dataset)))


def figure_outputs(dataset):
    """SVG and PNG of every figure that applies to the dataset's profile."""
    names = figure_names(profile_of(dataset))
    return [f"figures/{dataset}/{n}.{ext}" for n in names for ext in ("svg", "png")]


rule figure:
    input:
        figure_inputs,
    output:
        svg="figures/{dataset}/{name}.svg",
        png="figures/{dataset}/{name}.png",
        meta="figures/{dataset}/{name}.json",  # what was drawn (the cluster count, for the caption)
    params:
        wording=lambda wc: profile_wording(wc.dataset),  # axis labels come from the roles
    wildcard_constraints:
        name="|".join(sorted(FIGURES, key=len, reverse=True)),
    log:
        "logs/{dataset}/figure/{name}.log",
    shell:
        hlm_cmd("figure --dataset {wildcards.dataset} --name {wildcards.name} "
                "--svg {output.svg} --png {output.png}") + TO_LOG
