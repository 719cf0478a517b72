# Raw CSVs -> merged table -> derived student and cluster tables.


def raw_inputs(wildcards):
    profile = profile_of(wildcards.dataset)
    return [str(profile.students), str(profile.schools)]


rule merge:
    input:
        raw_inputs,
        step_code("merge"),
        # the profile's sample and roles: changing the seed reruns the merge and what follows
        lambda wc: settings_input(wc.dataset, "data", profile_settings(wc.dataset)),
    output:
        PATHS.merged,
    log:
        log_of("merge"),
    shell:
        hlm_cmd("merge --dataset {wildcards.dataset} --out {output:q}") + TO_LOG


rule derive:
    input:
        PATHS.merged,
        step_code("derive"),
    output:
        students=PATHS.students,
        schools=PATHS.schools,
    log:
        log_of("derive"),
    shell:
        hlm_cmd("derive --dataset {wildcards.dataset} --merged {input[0]:q} "
                "--students {output.students:q} --schools {output.schools:q}") + TO_LOG
