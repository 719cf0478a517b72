# The reproduction check: the notes' printed numbers and R's fits against ours.

rule reproduce:
    input:
        "data/processed/{dataset}/students.parquet",
        "data/processed/{dataset}/schools.csv",
        expand("data/fits/{{dataset}}/{model}.json", model=MODELS),
        "tests/reference/notes_values.yaml",
        "tests/reference/hs40_r_reference.json",
        code("reproduce.py"),
    output:
        "data/fits/{dataset}/reproduction.json",
    params:
        cmd=lambda wc, output: hlm_cmd(f"reproduce --dataset {wc.dataset} --out {output[0]}"),
    log:
        "logs/{dataset}/reproduce.log",
    shell:
        "{params.cmd}" + TO_LOG
