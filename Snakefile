# The book's DAG: raw CSVs -> merge -> derive -> fits -> figures -> chapters -> book.
# Select a profile: `snakemake --config dataset=hsb160` or `--configfile mine.yaml`.
configfile: "config/config.yaml"

include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/figures.smk"
include: "rules/reproduce.smk"
include: "rules/book.smk"


rule all:
    input:
        book_outputs(DATASET),


onsuccess:
    from hlm.fitstatus import build_summary

    summary = build_summary(f"data/fits/{DATASET}")
    if summary:
        print(summary)
