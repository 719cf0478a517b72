"""The whole book on a large simulated dataset: wall time and the largest process.

    .venv/bin/python bench/big_book.py                 # 5,000 clusters, ~150,000 rows
    .venv/bin/python bench/big_book.py --clusters 20000

Simulates the notes' design (hlm.simulate: about 30 units per cluster, a binary
cluster-level w, a unit-level sex column) into bench/out/big/, writes a profile
`sim<J>` for it and runs `snakemake --cores 2` on the project (the outputs land
under data/processed/sim<J>, figures/sim<J>, _book/sim<J>). Reports the wall time
of the cold build and the peak resident memory of the largest process: snakemake and
its children (getrusage(RUSAGE_CHILDREN).ru_maxrss) and every job, also those forked
from the warm worker (the peak each job's log reports).
Targets: 5,000 clusters in <= 180 s, 20,000 in <= 10 minutes, largest process <= 4 GiB.
"""
from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def make_data(J: int, folder: Path) -> Path:
    from hlm.simulate import simulate_two_level

    folder.mkdir(parents=True, exist_ok=True)
    d = simulate_two_level(J, w_effect=(2.0, -1.0), seed=J)
    rng = np.random.default_rng(J)
    shift = dict(zip(d["cluster"].unique(), rng.normal(0, 0.5, J)))
    d["x"] = d["x"] + d["cluster"].map(shift) + 0.4 * d["w"]  # cluster means of x differ
    d["sex"] = rng.choice(["F", "M"], len(d))
    d["w"] = np.where(d["w"] == 1, "Catholic", "Public")
    d[["cluster", "x", "y", "sex"]].round(4).to_csv(folder / "units.csv", index=False)
    d.groupby("cluster", as_index=False)["w"].first().to_csv(folder / "clusters.csv", index=False)
    name = f"sim{J}"
    profile = {"title": f"{J:,} simulated schools", "students": str(folder / "units.csv"),
               "schools": str(folder / "clusters.csv"), "cluster": "cluster", "cluster_label": "school",
               "unit_label": "student", "sample": "all",
               "roles": {"y": {"column": "y", "label": "math achievement"},
                         "x": {"column": "x", "label": "SES"},
                         "w": {"column": "w", "label": "sector", "reference": "Catholic"},
                         "sex": {"column": "sex", "female": "F"}},
               "missing": "drop"}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"dataset": name, "datasets": {name: profile}}, sort_keys=False))
    print(f"{len(d):,} rows in {J:,} clusters -> {path}")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clusters", type=int, default=5000)
    args = ap.parse_args()
    J = args.clusters
    config = make_data(J, ROOT / "bench" / "out" / "big" / str(J))
    name = f"sim{J}"
    for stale in (ROOT / "data" / "processed" / name, ROOT / "data" / "fits" / name, ROOT / "figures" / name,
                  ROOT / "build" / name, ROOT / "_book" / name, ROOT / "logs" / name):
        shutil.rmtree(stale, ignore_errors=True)
    cmd = [str(Path(sys.executable).with_name("snakemake")), "--cores", "2", "-q", "--configfile", str(config)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    # snakemake and the job clients are its children; the jobs forked from the warm worker
    # are not, and report their own peak in their logs (hlm.cli)
    jobs = read_jobs(name)
    peak = max([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2]  # KiB -> GiB
               + [mib / 1024 for _, _, mib in jobs])
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-5000:], sep="\n")
        print(f"FAILED after {wall:.0f} s (largest process {peak:.2f} GiB)")
        return 1
    pdf = next((ROOT / "_book" / name).glob("*.pdf"))
    print(f"{name}: cold build (HTML + PDF) {wall:.0f} s; largest process {peak:.2f} GiB; "
          f"PDF {pdf.stat().st_size / 1e6:.1f} MB")
    print_jobs(jobs)
    return 0


def read_jobs(name: str) -> list[tuple[str, float, int]]:
    """(log, seconds, peak MiB) of every job of the build, from the end of its log."""
    done = re.compile(r"done in ([\d.]+) s, peak memory (\d+) MiB")
    jobs = []
    for log in (ROOT / "logs" / name).rglob("*.log"):
        found = done.search(log.read_text(errors="replace"))
        if found:
            jobs.append((str(log.relative_to(ROOT / "logs" / name)), float(found[1]), int(found[2])))
    return jobs


def print_jobs(jobs: list[tuple[str, float, int]]) -> None:
    """The slowest jobs, and the Lab's of a second or more: time and peak memory."""
    lab = [j for j in jobs if j[0].startswith(("inference", "influence", "bootstrap")) and j[1] >= 1]
    print(f"jobs: {sum(j[1] for j in jobs):.0f} s in all")
    for log, seconds, mib in sorted(set(sorted(jobs, key=lambda j: -j[1])[:8] + lab), key=lambda j: -j[1]):
        print(f"  {log:<40} {seconds:7.1f} s {mib:6d} MiB")


if __name__ == "__main__":
    sys.exit(main())
