# Raw CSVs -> merged table -> derived student and cluster tables.


def raw_inputs(wildcards):
    profile = profile_of(wildcards.dataset)
    return [str(profile.students), str(profile.schools)]


rule merge:
    input:
        raw_inputs,
        code("data.py", "config.py"),
    output:
        "data/processed/{dataset}/merged.parquet",
    params:
        # the profile's sample and roles: changing the seed reruns the merge and what follows
        profile=lambda wc: profile_settings(wc.dataset),
        cmd=lambda wc, output: hlm_cmd(f"merge --dataset {wc.dataset} --out {output[0]}"),
    log:
        "logs/{dataset}/merge.log",
    shell:
        "{params.cmd}" + TO_LOG


rule derive:
    input:
        "data/processed/{dataset}/merged.parquet",
        code("levels.py"),
    output:
        students="data/processed/{dataset}/students.parquet",
        schools="data/processed/{dataset}/schools.csv",
    params:
        cmd=lambda wc, input, output: hlm_cmd(
            f"derive --dataset {wc.dataset} --merged {input[0]} "
            f"--students {output.students} --schools {output.schools}"
        ),
    log:
        "logs/{dataset}/derive.log",
    shell:
        "{params.cmd}" + TO_LOG
