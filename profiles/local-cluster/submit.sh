#!/usr/bin/env bash
# "Submit" a job script as a scheduler would, but run it here and now. Its output goes
# to logs/cluster/<script>.out; each submission is one line of logs/cluster/submitted.txt.
# The job script itself marks the job finished or failed for Snakemake.
set -u
jobscript="$1"
mkdir -p logs/cluster
name="$(basename "$jobscript")"
echo "$name" >> logs/cluster/submitted.txt
bash "$jobscript" > "logs/cluster/$name.out" 2>&1 || true
echo "local-$$-$RANDOM"
