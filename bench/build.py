"""Benchmark of the whole DAG on the notes' 40 schools: cold build, no-op, prose edit.

    .venv/bin/python bench/build.py              # 3 rounds, the warm worker on (the default)
    .venv/bin/python bench/build.py --cold-jobs  # every job in its own process (HLM_WORKER=0)
    .venv/bin/python bench/build.py --rounds 1

Each round copies the project (as a clone has it) to a temporary folder and times,
as `make book` runs them (`python -m hlm.build --cores 2`):
  cold    every job: merge, derive, 16 fits, 35 figures, 14 chapters, the book (HTML + PDF)
  no-op   nothing to do
  edit    one sentence added to a chapter's prose: that chapter and the book rerun
Prints each round and the medians. Targets (2 cores): cold <= 45 s, no-op <= 1.5 s,
edit <= 6 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.test_pipeline import COPY, copy_project  # noqa: E402 (the tests' copy of a project)

EDITED = "report/looking-at-data.qmd"


def timed(work: Path, env: dict) -> tuple[float, int]:
    """Seconds of one build, and the number of jobs it ran."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "hlm.build", "--cores", "2"], cwd=work, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"build failed in {work}:\n{proc.stderr[-3000:]}")
    jobs = proc.stderr.count("\nrule ") + proc.stderr.count("\nlocalrule ") - proc.stderr.count("localrule all")
    return seconds, jobs


def edit_prose(work: Path) -> None:
    path = work / EDITED
    text = path.read_text(encoding="utf-8")
    marker = "\n## "
    at = text.index(marker)
    path.write_text(text[:at] + "\n\nOne more sentence for the benchmark.\n" + text[at:], encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold-jobs", action="store_true", help="HLM_WORKER=0: no warm worker")
    args = ap.parse_args()
    env = dict(os.environ, HLM_WORKER="0" if args.cold_jobs else "1")
    results: dict[str, list[float]] = {"cold": [], "no-op": [], "edit": []}
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="hlm-bench-") as tmp:
            work = Path(tmp)
            copy_project(work, [*COPY, "data/raw"])
            for name in results:
                if name == "edit":
                    edit_prose(work)
                seconds, jobs = timed(work, env)
                results[name].append(seconds)
                print(f"round {r + 1}: {name:6s} {seconds:6.2f} s  ({jobs} jobs)", flush=True)
    mode = "one process per job (HLM_WORKER=0)" if args.cold_jobs else "warm worker"
    print(f"\nmedians, {mode}, {os.cpu_count()} cores:")
    for name, values in results.items():
        print(f"  {name:6s} {statistics.median(values):6.2f} s")


if __name__ == "__main__":
    main()
