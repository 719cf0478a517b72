"""`make bench`: every figure of the speed table, measured from a clean clone of this
checkout's commit, and the table written into bench/README.md.

    .venv/bin/python bench/run.py                       # everything, 3 rounds
    .venv/bin/python bench/run.py --only cold,noop,edit  # some rows
    .venv/bin/python bench/run.py --rounds 5 --no-write

Rows (each the median of the rounds; the no-op the median of 5 runs per round):

  cold       hsb40 cold build, as `make book` runs it (`python -m hlm.build --cores 2`)
  noop       hsb40 no-op build
  edit       one sentence added to a chapter's prose: that chapter and the book rerun
  real       a real dataset the notes never saw: MASS's `nlschools` (Snijders and Bosker's
             Dutch pupils in classes), exported by R when `Rscript` and MASS are present
  big5000    the whole book on 5,000 simulated clusters (bench/big_book.py)
  big20000   the same on 20,000 clusters
  test       `bash .ci/run` (the README's `make test`) on a fresh clone, install included
  test-fast  `make test-fast` in a clone whose .venv exists

Runs are meant for a quiet machine: before each row the benchmark waits (up to 90 s)
for the load average to fall below 1 and records it; a row that started at a higher
load is marked noisy in the table.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
RESULTS = ROOT / "bench" / "results.json"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
EDITED = "report/looking-at-data.qmd"

#: row: (what, target as text, target in seconds, target memory in GiB or None)
ROWS = {
    "cold": ("hsb40 cold build", "≤ 30 s", 30, None),
    "noop": ("hsb40 no-op", "≤ 1 s", 1, None),
    "edit": ("hsb40 prose edit of one chapter", "≤ 4 s", 4, None),
    "real": ("a real dataset: `nlschools` (133 classes, 2,287 pupils)", "≤ 45 s", 45, None),
    "big5000": ("5,000-cluster book (about 150,000 rows)", "≤ 180 s, ≤ 4 GiB", 180, 4),
    "big20000": ("20,000-cluster book (about 600,000 rows)", "≤ 10 min, ≤ 4 GiB", 600, 4),
    "test": ("`make test`, fresh clone, install included", "≤ 10 min, 0 failed, 0 skipped", 600, None),
    "test-fast": ("`make test-fast`", "≤ 60 s", 60, None),
}
NOISY = 1.5


def load() -> float:
    return os.getloadavg()[0]


def settle(limit: float = 90.0) -> float:
    """Wait until the 1-minute load average is below 1 (at most `limit` seconds); the load."""
    end = time.monotonic() + limit
    while load() >= 1.0 and time.monotonic() < end:
        time.sleep(2)
    return round(load(), 2)


def run(cmd, cwd: Path, env=None, check=True, timeout=None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed in {cwd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, proc


def clone(into: Path) -> Path:
    """A clean clone of this checkout's HEAD (what a user gets)."""
    run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(into)], cwd=ROOT)
    return into


def venv(work: Path) -> Path:
    run(["make", "venv"], cwd=work)
    return work / ".venv" / "bin" / "python"


def build(work: Path, python: Path, *args: str) -> float:
    return run([str(python), "-m", "hlm.build", "--cores", "2", *args], cwd=work)[0]


def edit_prose(work: Path) -> None:
    path = work / EDITED
    text = path.read_text(encoding="utf-8")
    at = text.index("\n## ")
    path.write_text(text[:at] + f"\n\nOne more sentence, written at {time.time()}.\n" + text[at:], encoding="utf-8")


def hsb40_rows(work: Path, python: Path, rounds: int, rows: set[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {r: [] for r in ("cold", "noop", "edit") if r in rows}
    for _ in range(rounds):
        run(["make", "clean"], cwd=work)
        seconds = build(work, python)
        if "cold" in out:
            out["cold"].append(seconds)
        if "noop" in out:
            out["noop"].append(statistics.median(build(work, python) for _ in range(5)))
        if "edit" in out:
            edit_prose(work)
            out["edit"].append(build(work, python))
            run(["git", "checkout", "--", EDITED], cwd=work)
            build(work, python)
    return out


NLSCHOOLS_R = """
library(MASS); data(nlschools)
d <- nlschools; d$pupil <- seq_len(nrow(d))
write.csv(d[, c("pupil", "class", "lang", "IQ", "SES")], file.path(out, "pupils.csv"), row.names = FALSE)
cl <- unique(d[, c("class", "GS", "COMB")]); cl$COMB <- ifelse(cl$COMB == 1, "yes", "no")
write.csv(cl, file.path(out, "classes.csv"), row.names = FALSE)
"""


def real_dataset(work: Path) -> Path | None:
    """nlschools as unit and cluster CSVs with a profile (IQ as x, combined-grade class as w),
    or None where R or MASS is missing."""
    if not shutil.which("Rscript"):
        return None
    folder = work / "bench" / "out" / "nlschools"
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["Rscript", "-e", f"out <- '{folder}'" + NLSCHOOLS_R], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    profile = {
        "dataset": "nlschools",
        "datasets": {"nlschools": {
            "title": "Dutch pupils in classes (MASS's nlschools, Snijders and Bosker)",
            "students": str(folder / "pupils.csv"), "schools": str(folder / "classes.csv"),
            "cluster": "class", "cluster_label": "class", "unit_label": "pupil", "sample": "all",
            "roles": {"y": {"column": "lang", "label": "language score"},
                      "x": {"column": "IQ", "label": "verbal IQ"},
                      "w": {"column": "COMB", "label": "combined grades", "reference": "no"}},
            "missing": "drop"}},
    }
    config = folder / "nlschools.yaml"
    config.write_text(json.dumps(profile, indent=1))  # YAML is a superset of JSON
    return config


def big(work: Path, python: Path, clusters: int) -> tuple[float, float]:
    _, proc = run([str(python), "bench/big_book.py", "--clusters", str(clusters)], cwd=work)
    m = re.search(r"cold build \(HTML \+ PDF\) (\d+) s; largest process ([\d.]+) GiB", proc.stdout)
    if not m:
        raise SystemExit(f"bench/big_book.py printed no result:\n{proc.stdout[-2000:]}")
    return float(m.group(1)), float(m.group(2))


def pytest_summary(text: str) -> str:
    lines = [ln for ln in text.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
    return lines[-1].strip("= ") if lines else "no pytest summary"


def measure(rows: set[str], rounds: int, tmp: Path) -> dict:
    results: dict = {}

    def note(row, seconds, **extra):
        entry = results.setdefault(row, {"runs": [], "load": None})
        if entry["load"] is None:
            entry["load"] = started.get(row, 0.0)
        entry["runs"].append(seconds)
        entry.update(extra)
        print(f"{row:10s} {seconds:8.2f} s  (row started at load {entry['load']:.2f})  {extra or ''}", flush=True)

    started: dict[str, float] = {}

    def begin(*rows_):
        level = settle()
        for row in rows_:
            started[row] = level

    work = clone(tmp / "clone")
    python = venv(work)
    if rows & {"cold", "noop", "edit"}:
        begin("cold", "noop", "edit")
        for row, values in hsb40_rows(work, python, rounds, rows).items():
            for v in values:
                note(row, v)
    if "real" in rows:
        config = real_dataset(work)
        if config is None:
            results["real"] = {"runs": [], "load": None, "missing": "Rscript with MASS not found"}
        begin("real")
        for _ in range(rounds if config else 0):
            shutil.rmtree(work / "data" / "processed" / "nlschools", ignore_errors=True)
            for top in ("data/fits", "figures", "build", "_book"):
                shutil.rmtree(work / top / "nlschools", ignore_errors=True)
            note("real", build(work, python, "--configfile", str(config)))
    for row, clusters in (("big5000", 5000), ("big20000", 20000)):
        if row in rows:
            begin(row)
        for _ in range(rounds if row in rows else 0):
            seconds, peak = big(work, python, clusters)
            note(row, seconds, peak_gib=max(peak, results.get(row, {}).get("peak_gib", 0)))
    if "test-fast" in rows:
        begin("test-fast")
        for _ in range(rounds):
            seconds, proc = run(["make", "test-fast"], cwd=work, check=False)
            note("test-fast", seconds, summary=pytest_summary(proc.stdout), ok=proc.returncode == 0)
    if "test" in rows:
        begin("test")
        for k in range(rounds):
            fresh = clone(tmp / f"ci-{k}")
            seconds, proc = run(["bash", ".ci/run"], cwd=fresh, env=dict(os.environ, CI="true"), check=False)
            note("test", seconds, summary=pytest_summary(proc.stdout), ok=proc.returncode == 0)
            shutil.rmtree(fresh, ignore_errors=True)
    return results


def table(results: dict, commit: str, when: str) -> str:
    lines = [f"Table of {when}, {os.cpu_count()} cores; medians of the runs, each row from a clean clone"
             f" of the commit named; a row is noisy when the load average was {NOISY} or more as it started.",
             "", "| | measured | runs | commit | target | met |", "|---|---|---|---|---|---|"]
    for row, (what, target, seconds_target, gib_target) in ROWS.items():
        entry = results.get(row)
        if not entry or not entry["runs"]:
            why = (entry or {}).get("missing", "not run")
            lines.append(f"| {what} | — ({why}) | | | {target} | |")
            continue
        runs, med = entry["runs"], statistics.median(entry["runs"])
        shown = f"{med:.2f} s" if med < 10 else f"{med:.0f} s"
        met = med <= seconds_target
        if "peak_gib" in entry:
            shown += f", largest process {entry['peak_gib']:.2f} GiB"
            met = met and entry["peak_gib"] <= gib_target
        if "summary" in entry:
            shown += f" ({entry['summary']})"
            met = met and entry.get("ok", False) and " skipped" not in entry["summary"]
        spread = ", ".join(f"{r:.1f}" for r in runs)
        if (entry.get("load") or 0) >= NOISY:
            spread += f" (noisy: load {entry['load']:.1f})"
        lines.append(f"| {what} | **{shown}** | {spread} | `{entry.get('commit', commit)}` | {target} |"
                     f" {'yes' if met else '**no**'} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = README.read_text(encoding="utf-8")
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    README.write_text(readme[:start] + "\n" + text + "\n" + readme[end:], encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default=",".join(ROWS), help=f"rows, comma-separated: {', '.join(ROWS)}")
    ap.add_argument("--no-write", action="store_true", help="print the table, leave bench/README.md as it is")
    args = ap.parse_args()
    rows = set(args.only.split(","))
    unknown = rows - set(ROWS)
    if unknown:
        ap.error(f"unknown rows {sorted(unknown)}; choose from {', '.join(ROWS)}")
    commit = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT)[1].stdout.strip()
    with tempfile.TemporaryDirectory(prefix="hlm-bench-") as tmp:
        results = measure(rows, args.rounds, Path(tmp))
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged = {**previous.get("rows", {}), **{row: {**entry, "commit": commit} for row, entry in results.items()}}
    when = time.strftime("%Y-%m-%d")
    text = table(merged, commit, when)
    print(text)
    if not args.no_write:  # the rows measured now replace theirs; the others stay as measured before
        RESULTS.write_text(json.dumps({"date": when, "rows": merged}, indent=1) + "\n")
        write_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
