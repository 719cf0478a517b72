# The book's DAG: raw CSVs -> merge -> derive -> fits -> figures -> chapters -> book.
# Select a profile: `snakemake --config dataset=hsb160` or `--configfile mine.yaml`.
configfile: "config/config.yaml"

include: "rules/helpers.smk"
include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/figures.smk"
include: "rules/reproduce.smk"
include: "rules/book.smk"
include: "rules/lab.smk"


rule all:
    input:
        book_outputs(DATASET),


onsuccess:
    from hlm.fitstatus import build_summary

    try:
        summary = build_summary(fill(PATHS.fits, dataset=DATASET))
    except (HlmError, ValueError) as err:  # e.g. outputs only touched (--touch)
        summary = f"[hlm] no summary of the fits: {err}"
    if summary:
        print(summary)
