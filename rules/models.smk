# Fits: one job per catalog model -> data/fits/{dataset}/{model}.json; the comparison table.
# A fit that fails or does not converge writes a JSON with "error" (and warns in its log);
# invalid data stop the job with no output. Logic lives in hlm.models.
import re

from hlm.catalog import lmm_names, model_names

MODELS = model_names(config)
LMM_MODELS = lmm_names(config)


def fit_outputs(dataset):
    """Every fit JSON of `dataset`, and its comparison table (for `rule all`)."""
    return expand("data/fits/{dataset}/{model}.json", dataset=dataset, model=MODELS) + [
        f"data/fits/{dataset}/comparison.json"
    ]


rule fit:
    input:
        students="data/processed/{dataset}/students.parquet",
        code=code("models.py", "classic.py", "within.py", "rprint.py", "catalog.py", "fitstatus.py", "lmm/"),
    output:
        "data/fits/{dataset}/{model}.json",
    log:
        "logs/{dataset}/fit/{model}.log",
    wildcard_constraints:
        model="|".join(re.escape(m) for m in MODELS),
    params:
        spec=lambda wc: repr(config["models"][wc.model]),  # editing the catalog entry refits
        cmd=lambda wc, input, output: hlm_cmd(
            f"fit --dataset {wc.dataset} --model {wc.model} --students {input.students} --out {output[0]}"
        ),
    shell:
        "{params.cmd}" + TO_LOG


rule compare:
    input:
        fits=expand("data/fits/{{dataset}}/{model}.json", model=LMM_MODELS),
        students="data/processed/{dataset}/students.parquet",
        code=code("models.py", "fitstatus.py", "lmm/"),
    output:
        "data/fits/{dataset}/comparison.json",
    log:
        "logs/{dataset}/compare.log",
    params:
        cmd=lambda wc, input, output: hlm_cmd(
            f"compare --dataset {wc.dataset} --fits-dir data/fits/{wc.dataset} "
            f"--students {input.students} --out {output[0]}"
        ),
    shell:
        "{params.cmd}" + TO_LOG
