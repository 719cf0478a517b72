# Figures: one job per figure and dataset. The registry (hlm.figures.FIGURES) says
# which tables, fits and Lab records (inference, bootstrap, influence) each figure
# reads; the simulated example reads no data file.
# A figure also depends on the code that draws it: the figure command and the module
# that draws this figure, with what they import (step_code), so editing a figure
# module redraws only that module's figures. Only the registry is imported here (no
# matplotlib), so that parsing the workflow stays fast.
from hlm.figures.registry import FIGURES, figure_names


def figure_inputs(wildcards):
    spec = FIGURES[wildcards.name]
    files = [fill(PATHS.table, dataset=wildcards.dataset, table=t) for t in spec.tables]
    files += [fill(PATHS.fit, dataset=wildcards.dataset, model=m) for m in spec.fits]
    files += [lab_record(wildcards.dataset, n) for n in spec.lab]
    files += step_code("figure", f"hlm.figures.{spec.module}")
    # axis labels come from the roles: relabelling redraws
    return files + [settings_input(wildcards.dataset, "wording", profile_wording(wildcards.dataset))]


def lab_record(dataset, name):
    """The file of a Lab record a figure reads, by name (as hlm.artifacts.Artifacts.lab_path):
    inference, inference/<part>, bootstrap/<test> or influence/<model>."""
    kind, _, item = name.partition("/")
    if kind == "inference" and item:
        return fill(PATHS.inference_part, dataset=dataset, part=item)
    pattern = {"inference": PATHS.inference, "bootstrap": PATHS.bootstrap, "influence": PATHS.influence}[kind]
    return fill(pattern, dataset=dataset, test=item, model=item)


def drawn_figures(dataset):
    """Names of the figures that apply to the dataset's profile (e.g. none by sex without sex)."""
    return set(figure_names(profile_of(dataset)))


def figure_outputs(dataset):
    """SVG and PNG of every figure that applies to the dataset's profile."""
    names = figure_names(profile_of(dataset))
    return [fill(PATHS.figure, dataset=dataset, name=n, ext=ext) for n in names for ext in ("svg", "png")]


rule figure:
    input:
        figure_inputs,
    output:
        svg=fill(PATHS.figure, ext="svg"),
        png=fill(PATHS.figure, ext="png"),
        meta=fill(PATHS.figure, ext="json"),  # what was drawn (the cluster count, for the caption)
    wildcard_constraints:
        name="|".join(sorted(FIGURES, key=len, reverse=True)),
    log:
        log_of("figure/{name}"),
    shell:
        hlm_cmd("figure --dataset {wildcards.dataset} --name {wildcards.name} "
                "--svg {output.svg} --png {output.png}") + TO_LOG
