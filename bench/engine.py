"""Benchmark: hlm.lmm against statsmodels MixedLM (method=["lbfgs"]) and lme4.

    .venv/bin/python bench/engine.py                 # all datasets, statsmodels up to 10,000 clusters
    .venv/bin/python bench/engine.py --quick         # 40 / 160 schools and 1,000 clusters only
    .venv/bin/python bench/engine.py --sm-max 100000 # statsmodels on every size (slow)
    .venv/bin/python bench/engine.py --no-lme4       # without R

Datasets: the notes' 40-school sample, all 160 schools, and data simulated with
the notes' design (gamma = (12, 2), G = [[16, 8], [8, 25]], sigma^2 = 20,
n_j ~ Poisson(30), SES ~ N(0, 1), a binary school-level w) with 1,000, 10,000
and 100,000 clusters.  Each fit is timed end to end from the data frame in
memory (design matrices, optimisation, full result with BLUPs and intervals);
times are the best of three fits (one on 100,000 clusters); memory is the peak
of Python/numpy allocations during one more fit (tracemalloc, which slows that
fit down, so it is not timed) and the process's peak RSS.  CPU time (all threads) is reported next to wall time:
it does not depend on what else runs on the machine.  Results go to stdout and bench/out/engine.json.

On 10,000 clusters and more, when ``Rscript`` with lme4 is installed, the same
REML fit by ``lme4::lmer`` (default optimizer) on a CSV written to a temporary
directory: its logLik beside the engine's, the lmer call's time, and the peak
RSS of the R process.  Without R this is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hlm.lmm import fit  # noqa: E402

SAMPLE40 = [1317, 1906, 2208, 2458, 2626, 2629, 2639, 2658, 2771, 3013, 3610, 3992, 4292, 4511,
            4530, 4868, 5619, 5640, 5650, 5720, 5761, 5762, 6074, 6484, 6897, 7172, 7232, 7342,
            7345, 7688, 7697, 7890, 7919, 8531, 8627, 8707, 8854, 8874, 9550, 9586]

MODELS = {  # name: (fixed, random, statsmodels re_formula)
    "ancova": ("y ~ x", "~ 1 | g", None),
    "random_coef": ("y ~ x", "~ 1 + x | g", "~x"),
    "ints_slopes": ("y ~ x * w", "~ 1 + x | g", "~x"),
}


def hsb(sample=None) -> pd.DataFrame:
    st = pd.read_csv(ROOT / "data/raw/hsb_students.csv", dtype={"School": str})
    sc = pd.read_csv(ROOT / "data/raw/hsb_schools.csv", dtype={"School": str})[["School", "Sector"]]
    if sample is not None:
        st = st[st["School"].isin({str(s) for s in sample})]
    df = st.merge(sc, on="School")
    return pd.DataFrame({"g": df["School"].astype(str), "y": df["MathAch"], "x": df["SES"],
                         "w": pd.Categorical(df["Sector"], categories=["Catholic", "Public"])})


def simulate(J: int, seed: int = 2026) -> pd.DataFrame:
    """The notes' simulated design with J clusters."""
    rng = np.random.default_rng(seed)
    n_j = np.maximum(rng.poisson(30, size=J), 1)
    g = np.repeat(np.arange(J), n_j)
    b = rng.multivariate_normal([0.0, 0.0], [[16.0, 8.0], [8.0, 25.0]], size=J)
    w = rng.integers(0, 2, size=J)
    x = rng.normal(size=g.size)
    y = 12 + 2 * x + 1.0 * w[g] + 0.5 * x * w[g] + b[g, 0] + b[g, 1] * x + rng.normal(scale=np.sqrt(20), size=g.size)
    return pd.DataFrame({"g": g, "y": y, "x": x,
                         "w": pd.Categorical.from_codes(w[g], categories=["a", "b"])})


def time_engine(df, fixed, random, repeat: int) -> dict:
    """Best of ``repeat`` timed fits, then one more fit under tracemalloc for memory."""
    secs, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        res = fit(df, fixed, random)
        secs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    tracemalloc.start()
    fit(df, fixed, random)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": min(secs), "cpu_seconds": min(cpu), "peak_alloc_mb": peak / 2**20, "logLik": res.logLik,
            "converged": res.converged, "singular": res.singular,
            "evaluations": res.optsum.evaluations, "fixef": res.fixef_dict()}


def time_statsmodels(df, fixed, re_formula) -> dict:
    import statsmodels.formula.api as smf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0, c0 = time.perf_counter(), time.process_time()
        m = smf.mixedlm(fixed, df, groups="g", re_formula=re_formula).fit(reml=True, method=["lbfgs"])
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": secs, "cpu_seconds": cpu, "logLik": float(m.llf), "converged": bool(m.converged),
            "warnings": sorted({type(w.message).__name__ for w in caught})}


LMER = r"""  # Rscript lmer.R data.csv formula
suppressMessages(library(lme4))
a <- commandArgs(TRUE)
d <- read.csv(a[1], colClasses = c(g = "factor", w = "factor"))
t0 <- proc.time()
m <- withCallingHandlers(lmer(as.formula(a[2]), d, REML = TRUE), warning = function(w) {
  cat("WARNING", gsub("[[:space:]]+", " ", conditionMessage(w)), "\n"); invokeRestart("muffleWarning")})
t <- proc.time() - t0
cat(sprintf("RESULT %.6f %.3f %.3f\n", logLik(m), t[["elapsed"]], t[["user.self"]] + t[["sys.self"]]))
"""


def lme4_available() -> bool:
    return bool(shutil.which("Rscript")) and subprocess.run(
        ["Rscript", "-e", "library(lme4)"], capture_output=True).returncode == 0


def time_lme4(df, fixed, random, tmp: Path) -> dict:
    """lmer's REML fit in a separate R process; peak RSS of that process (os.wait4)."""
    csv, script = tmp / "data.csv", tmp / "lmer.R"
    if not csv.exists():
        df.to_csv(csv, index=False)
        script.write_text(LMER)
    formula = f"{fixed} + ({random.split('~', 1)[1].strip()})"
    proc = subprocess.Popen(["Rscript", str(script), str(csv), formula], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = [ln.split() for ln in out.splitlines() if ln.startswith("RESULT")]
    if proc.returncode or not result:
        return {"error": out.strip()[-500:]}
    ll, secs, cpu = map(float, result[0][1:])
    return {"logLik": ll, "seconds": secs, "cpu_seconds": cpu, "peak_rss_mb": usage.ru_maxrss / 1024,
            "warnings": [ln[8:] for ln in out.splitlines() if ln.startswith("WARNING")]}


def run(datasets: dict, sm_max: int, lme4: bool) -> list[dict]:
    rows = []
    for dname, make in datasets.items():
        df = make()
        J = df["g"].nunique()
        with tempfile.TemporaryDirectory() as tmp:
            for mname, (fixed, random, ref) in MODELS.items():
                if J > 20000 and mname != "ints_slopes":
                    continue
                row = {"dataset": dname, "clusters": int(J), "rows": int(len(df)), "model": mname,
                       "hlm": time_engine(df, fixed, random, repeat=3 if J <= 20000 else 1)}
                if J <= sm_max:
                    row["statsmodels"] = time_statsmodels(df, fixed, ref)
                if lme4 and J >= 10000:
                    row["lme4"] = time_lme4(df, fixed, random, Path(tmp))
                rows.append(row)
                print(_line(row), flush=True)
    return rows


def _line(row) -> str:
    h = row["hlm"]
    s = row.get("statsmodels")
    text = (f"{row['dataset']:>9} {row['clusters']:>7} {row['rows']:>8} {row['model']:<12} "
            f"hlm {h['seconds']:6.2f}s (cpu {h['cpu_seconds']:6.2f}s) {h['peak_alloc_mb']:6.0f}MB "
            f"logLik {h['logLik']:.4f}")
    if s:
        text += (f" | statsmodels {s['seconds']:6.2f}s (cpu {s['cpu_seconds']:6.2f}s) "
                 f"logLik {s['logLik']:.4f} conv={s['converged']}")
    r = row.get("lme4")
    if r and "error" in r:
        text += f" | lme4 failed: {r['error']}"
    elif r:
        text += (f" | lme4 {r['seconds']:6.2f}s (cpu {r['cpu_seconds']:6.2f}s) {r['peak_rss_mb']:5.0f}MB RSS "
                 f"logLik {r['logLik']:.6f}, hlm - lme4 = {h['logLik'] - r['logLik']:+.2e}"
                 + (f" [{'; '.join(r['warnings'])}]" if r["warnings"] else ""))
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sm-max", type=int, default=10000, help="largest J for statsmodels")
    ap.add_argument("--no-lme4", action="store_true", help="no lme4 comparison (on 10,000 clusters and more)")
    args = ap.parse_args()
    lme4 = not args.no_lme4 and lme4_available()
    if not lme4 and not args.no_lme4:
        print("Rscript with lme4 not found: no lme4 comparison")
    datasets = {"hsb40": lambda: hsb(SAMPLE40), "hsb160": lambda: hsb(), "sim1k": lambda: simulate(1000)}
    if not args.quick:
        datasets |= {"sim10k": lambda: simulate(10000), "sim100k": lambda: simulate(100000)}
    rows = run(datasets, args.sm_max, lme4)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the benchmark process: {rss:.0f} MB")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine.json").write_text(json.dumps({"rows": rows, "peak_rss_mb": rss}, indent=1))


if __name__ == "__main__":
    main()
