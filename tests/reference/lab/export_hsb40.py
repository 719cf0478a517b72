"""Write the hsb40 students table (as the pipeline builds it) to a CSV for the R scripts of this folder.

    make book   # builds data/processed/hsb40/students.parquet
    .venv/bin/python tests/reference/lab/export_hsb40.py /tmp/hsb40.csv
"""
import sys

from hlm.levels import read_students

read_students("data/processed/hsb40/students.parquet")[["School", "MathAch", "SES", "Sector", "Minority"]].to_csv(
    sys.argv[1], index=False)
