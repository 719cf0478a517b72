# The Lab's heavy computations as jobs that a cluster can run, each split into blocks (one
# job each) merged by one job: a parametric-bootstrap LRT per test of `lab: bootstrap:`,
# and the influence of each cluster (refits without it) per model of `lab: influence:`;
# and the inference record, one job per part merged by one job. Logic lives in
# hlm.bootstrap, hlm.influence, hlm.inference and hlm.lmm. Target: `snakemake lab` (the
# default dataset) or the files of lab_outputs(dataset).
import importlib

from hlm.bootstrap import settings as _boot_settings
from hlm.inference import PARTS as INFERENCE_PARTS
from hlm.influence import settings as _influence_settings

BOOT_TESTS = list(((config.get("lab") or {}).get("bootstrap") or {}).get("tests") or {})
INFLUENCE = _influence_settings(config)


def lab_outputs(dataset):
    """Every bootstrap test and influence record of `dataset`, and its inference record."""
    return ([fill(PATHS.bootstrap, dataset=dataset, test=t) for t in BOOT_TESTS]
            + [fill(PATHS.influence, dataset=dataset, model=m) for m in INFLUENCE["models"]]
            + [fill(PATHS.inference, dataset=dataset)])


def _inference_part(part):
    """The module of an inference part (hlm.inference.<part>): its fits and settings."""
    return importlib.import_module(f"hlm.inference.{part}")


rule inference_part:
    input:
        students=PATHS.students,
        # the fit records it works from (R², Satterthwaite DF and profiles do not refit the catalog)
        fits=lambda wc: [fill(PATHS.fit, dataset=wc.dataset, model=m) for m in _inference_part(wc.part).fits(config)],
        code=lambda wc: step_code(f"inference-{wc.part}"),
        # what of the configuration the part reads (the catalog, the models to profile, the
        # profiles sharing the dataset's raw files): a change reruns that part
        settings=lambda wc: settings_input(wc.dataset, f"inference-{wc.part}",
                                           repr(_inference_part(wc.part).settings(config, wc.dataset))),
    output:
        PATHS.inference_part,
    log:
        log_of("inference/{part}"),
    wildcard_constraints:
        part="|".join(INFERENCE_PARTS),
    shell:
        hlm_cmd("inference-{wildcards.part} --dataset {wildcards.dataset} --students {input.students:q} "
                "--fits-dir " + fill(PATHS.fits, dataset="{wildcards.dataset}") + " --out {output:q}") + TO_LOG


rule inference:
    input:
        parts=[fill(PATHS.inference_part, part=p) for p in INFERENCE_PARTS],
        code=step_code("inference"),
    output:
        PATHS.inference,
    log:
        log_of("inference"),
    shell:
        hlm_cmd("inference --dataset {wildcards.dataset} --out {output:q} {input.parts:q}") + TO_LOG


def _boot_settings_input(wildcards):
    # the test's settings (models, replicates, block size, seed): a change reruns its jobs
    return settings_input(wildcards.dataset, f"bootstrap-{wildcards.test}",
                          repr(_boot_settings(config, wildcards.test)))


rule lab:
    input:
        lab_outputs(DATASET),


rule bootstrap_block:
    input:
        students=PATHS.students,
        code=step_code("bootstrap-block"),
        settings=_boot_settings_input,
    output:
        PATHS.bootstrap_block,
    log:
        log_of("bootstrap/{test}/block-{block}"),
    wildcard_constraints:
        test="|".join(BOOT_TESTS) or "(?!)",
        block=r"\d+",
    shell:
        hlm_cmd("bootstrap-block --dataset {wildcards.dataset} --test {wildcards.test} --block {wildcards.block}"
                " --students {input.students:q} --out {output:q}") + TO_LOG


rule bootstrap:
    input:
        blocks=lambda wc: [fill(PATHS.bootstrap_block, dataset=wc.dataset, test=wc.test, block=str(k))
                           for k in range(_boot_settings(config, wc.test)["blocks"])],
        code=step_code("bootstrap"),
        settings=_boot_settings_input,
    output:
        PATHS.bootstrap,
    log:
        log_of("bootstrap/{test}"),
    wildcard_constraints:
        test="|".join(BOOT_TESTS) or "(?!)",
    shell:
        hlm_cmd("bootstrap --dataset {wildcards.dataset} --test {wildcards.test} --out {output:q}"
                " {input.blocks:q}") + TO_LOG


def _influence_settings_input(wildcards):
    # the model's catalog entry, the number of blocks and which clusters are refitted: a
    # change reruns its jobs
    return settings_input(wildcards.dataset, f"influence-{wildcards.model}",
                          repr((config["models"].get(wildcards.model), INFLUENCE["blocks"],
                                INFLUENCE["exact_top"], INFLUENCE["exact_max_clusters"])))


rule influence_block:
    input:
        students=PATHS.students,
        code=step_code("influence-block"),
        settings=_influence_settings_input,
    output:
        PATHS.influence_block,
    log:
        log_of("influence/{model}/block-{block}"),
    wildcard_constraints:
        model="|".join(INFLUENCE["models"]) or "(?!)",
        block=r"\d+",
    shell:
        hlm_cmd("influence-block --dataset {wildcards.dataset} --model {wildcards.model} --block {wildcards.block}"
                " --students {input.students:q} --out {output:q}") + TO_LOG


rule influence:
    input:
        blocks=lambda wc: [fill(PATHS.influence_block, dataset=wc.dataset, model=wc.model, block=str(k))
                           for k in range(INFLUENCE["blocks"])],
        code=step_code("influence"),
        settings=_influence_settings_input,
    output:
        PATHS.influence,
    log:
        log_of("influence/{model}"),
    wildcard_constraints:
        model="|".join(INFLUENCE["models"]) or "(?!)",
    shell:
        hlm_cmd("influence --dataset {wildcards.dataset} --model {wildcards.model} --out {output:q}"
                " {input.blocks:q}") + TO_LOG
