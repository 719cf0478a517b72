"""Benchmark: the classical methods (hlm.classic) on many clusters, one `python -m hlm fit` each.

    .venv/bin/python bench/classic.py                      # 5,000 and 20,000 clusters
    .venv/bin/python bench/classic.py --clusters 1000      # other sizes

Data: J clusters of n_j ~ Poisson(30) rows, except 1% of clusters with a single row
and 1% with two (the line-per-cluster methods must cope with them); x ~ N(cluster
shift, 1); w binary per cluster; y from the notes' hierarchical model. The columns
are named as in HSB (School, SES, MathAch, Sector) so the hsb160 profile reads them.
Each method runs in its own process under /usr/bin/time -v: wall time, CPU time
(user + sys, which does not depend on what else runs on the machine) and peak RSS
of the whole `fit` step (start-up, reading the parquet, fitting, writing the JSON);
`fit_s` is the method alone (``hlm.classic.<method>(...).to_dict()``), timed in
this process. Results go to stdout and bench/out/classic/results.json.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hlm import classic  # noqa: E402
from hlm.config import get_profile, load_config  # noqa: E402

OUT = ROOT / "bench" / "out" / "classic"


def simulate(J: int, seed: int = 2026) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = np.maximum(rng.poisson(30, J), 3)
    n[: J // 100], n[J // 100: J // 50] = 1, 2
    w = rng.random(J) < 0.5
    u = rng.multivariate_normal([0, 0], [[16, 8], [8, 25]], J)
    beta = np.column_stack([12 - 2 * w, 2 + 1 * w]) + u
    g = np.repeat(np.arange(J), n)
    x = rng.normal(0.5 * rng.normal(size=J)[g], 1.0)
    y = beta[g, 0] + beta[g, 1] * x + rng.normal(0, np.sqrt(20), len(g))
    return pd.DataFrame({"School": (1000 + g).astype(str), "SES": x, "MathAch": y,
                         "Sector": np.where(w[g], "Public", "Catholic")})


def run(method: str, students: Path, out: Path) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "hlm", "fit", "--dataset", "hsb160",
           "--model", method, "--students", str(students), "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{method} failed:\n{proc.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    h, m, s = wall.groups()
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", proc.stderr).group(1)) for k in ("User", "System"))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    fit = json.loads(out.read_text(encoding="utf-8"))
    return {"method": method, "wall_s": round(int(h or 0) * 3600 + int(m) * 60 + float(s), 2),
            "cpu_s": round(cpu, 2), "max_rss_mib": round(rss / 1024),
            "json_mib": round(out.stat().st_size / 2 ** 20, 1), "state": fit.get("status", {}).get("state"),
            "failed_lines": len(fit.get("failed", []))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clusters", type=int, nargs="+", default=[5000, 20000])
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    profile, results = get_profile(load_config(), "hsb160"), []
    for J in args.clusters:
        data = simulate(J)
        path = OUT / f"students_{J}.parquet"
        data.to_parquet(path, index=False)
        print(f"{J} clusters, {len(data)} rows")
        for method in classic.LABELS:
            start = time.perf_counter()
            getattr(classic, method)(data, profile).to_dict()
            fit_s = round(time.perf_counter() - start, 2)
            row = {"clusters": J, "rows": len(data), "fit_s": fit_s, **run(method, path, OUT / f"{method}_{J}.json")}
            results.append(row)
            print(f"  {method:<16} fit {fit_s:>6.2f} s  process {row['wall_s']:>6.2f} s wall, "
                  f"{row['cpu_s']:>6.2f} s CPU, {row['max_rss_mib']:>5} MiB  JSON {row['json_mib']:>6} MiB  "
                  f"{row['state']}, {row['failed_lines']} clusters without a line")
    (OUT / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
