# The Lab's heavy computations as jobs that a cluster can run: a parametric-bootstrap LRT
# per test of `lab: bootstrap:` in the configuration, its replicates split into blocks
# (one job each) and merged by one job. Logic lives in hlm.bootstrap and hlm.lmm.bootstrap.
# Target: `snakemake lab` (the default dataset) or the files of lab_outputs(dataset).
from hlm.bootstrap import settings as _boot_settings

BOOT_TESTS = list(((config.get("lab") or {}).get("bootstrap") or {}).get("tests") or {})


def lab_outputs(dataset):
    """Every bootstrap result of `dataset`."""
    return [fill(PATHS.bootstrap, dataset=dataset, test=t) for t in BOOT_TESTS]


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
