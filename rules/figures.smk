# Figures: one job per figure and dataset. The registry (hlm.figures.FIGURES) says
# which tables and fits each figure reads; the simulated example reads no data file.
# A figure also depends on the code that draws it (absolute paths of the installed
# package, so the rule works wherever the project is run): editing a figure module
# redraws only that module's figures.
import sys
from pathlib import Path

import hlm.ellipse
import hlm.figures._base
import hlm.simulate
from hlm.figures import FIGURES, figure_names
from hlm.figures._base import STYLE

_FIG_CODE = [hlm.figures._base.__file__, str(STYLE), hlm.ellipse.__file__]


def figure_inputs(wildcards):
    spec = FIGURES[wildcards.name]
    files = [f"data/processed/{wildcards.dataset}/{t}" for t in spec.tables]
    files += [f"data/fits/{wildcards.dataset}/{m}.json" for m in spec.fits]
    files += _FIG_CODE + [sys.modules[spec.func.__module__].__file__]
    if spec.group == "simulation":
        files.append(hlm.simulate.__file__)
    return files


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
    wildcard_constraints:
        name="|".join(sorted(FIGURES, key=len, reverse=True)),
    shell:
        hlm_cmd("figure --dataset {wildcards.dataset} --name {wildcards.name} "
                "--svg {output.svg} --png {output.png}")
