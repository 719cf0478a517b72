# The reproduction check: the notes' printed numbers and R's fits against ours.

rule reproduce:
    input:
        PATHS.students,
        PATHS.schools,
        [fill(PATHS.fit, model=m) for m in MODELS],
        f"{PATHS.reference}/notes_values.yaml",
        f"{PATHS.reference}/hs40_r_reference.json",
        step_code("reproduce"),
    output:
        PATHS.reproduction,
    log:
        log_of("reproduce"),
    shell:
        hlm_cmd("reproduce --dataset {wildcards.dataset} --out {output:q}") + TO_LOG
