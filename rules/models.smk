# Fits: one job per catalog model -> data/fits/{dataset}/{model}.json; the comparison table.
# A fit that fails or does not converge writes a JSON with "error" (and warns in its log);
# invalid data stop the job with no output. Logic lives in hlm.models.
import re

from hlm.catalog import lmm_names, model_names

MODELS = model_names(config)
LMM_MODELS = lmm_names(config)


def fit_outputs(dataset):
    """Every fit JSON of `dataset`, and its comparison table (for `rule all`)."""
    return expand(PATHS.fit, dataset=dataset, model=MODELS) + [fill(PATHS.comparison, dataset=dataset)]


rule fit:
    input:
        students=PATHS.students,
        code=step_code("fit"),
        # the model's catalog entry: editing it refits
        spec=lambda wc: settings_input(wc.dataset, f"model-{wc.model}", repr(config["models"][wc.model])),
    output:
        PATHS.fit,
    log:
        log_of("fit/{model}"),
    wildcard_constraints:
        model="|".join(re.escape(m) for m in MODELS),
    shell:
        hlm_cmd("fit --dataset {wildcards.dataset} --model {wildcards.model} --students {input.students:q} "
                "--out {output:q}") + TO_LOG


rule compare:
    input:
        fits=[fill(PATHS.fit, model=m) for m in LMM_MODELS],
        students=PATHS.students,
        code=step_code("compare"),
    output:
        PATHS.comparison,
    log:
        log_of("compare"),
    shell:
        hlm_cmd("compare --dataset {wildcards.dataset} --fits-dir " + fill(PATHS.fits, dataset="{wildcards.dataset}")
                + " --students {input.students:q} --out {output:q}") + TO_LOG
