"""Benchmark of `make preview`: seconds from a prose edit saved to the page reloaded with it.

    .venv/bin/python bench/preview.py                    # 12 edits, hsb40
    .venv/bin/python bench/preview.py --edits 20 --pause 1

Copies the project (as a clone has it, with this checkout's hsb40 artifacts when built, so
that the preview's first build has little to do) to a temporary folder, starts
`python -m hlm.preview` there, opens the edited chapter's page in Chromium (Playwright,
/usr/bin/chromium) and, for each edit, appends a sentence to a paragraph of a chapter:
the time from just before the file is written to the end of the page's reload (the
`load` event of the reloaded page, which must show the sentence). Edits come `--pause`
seconds apart, so that some land while the PDF of the previous one is being rendered
(the edit cancels it). Prints each edit, the preview's own timing of the rebuild (from
its log), the median and the maximum; then stops the preview with SIGINT (Ctrl-C) and
times its exit.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fixtures.project import COPY, copy_project  # noqa: E402 (the tests' copy of a project)

CHAPTERS = ["looking-at-data", "four-methods", "hierarchical-data", "more-complex-models"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__preview/status", timeout=5) as r:
        return json.loads(r.read())


def paragraph_line(text: str) -> str:
    """A line of plain prose (no code, no inline expression) to append to."""
    in_cell = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_cell = not in_cell
        elif not in_cell and len(line) > 50 and line[0].isalpha() and "`" not in line and "$" not in line:
            return line
    raise SystemExit("no plain prose line found")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edits", type=int, default=12)
    ap.add_argument("--pause", type=float, default=3.0, help="seconds between edits")
    ap.add_argument("--dataset", default="hsb40")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--log", help="keep the preview's log in this file")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    ds = args.dataset
    with tempfile.TemporaryDirectory(prefix="hlm-bench-preview-") as tmp:  # noqa: SIM117
        work = Path(tmp)
        built = [p for p in (f"data/processed/{ds}", f"data/fits/{ds}", f"figures/{ds}", f"build/{ds}", f"_book/{ds}")
                 if (ROOT / p).exists()]
        copy_project(work, [*COPY, "data/raw", *built])
        port = free_port()
        logfile = open(work / "preview.log", "w")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "hlm.preview", "--dataset", ds, "--port", str(port)],
                                cwd=work, stderr=logfile, stdout=logfile, start_new_session=True)
        try:
            while True:  # the first build and the renderer's check
                time.sleep(0.5)
                if proc.poll() is not None:
                    raise SystemExit((work / "preview.log").read_text())
                log = (work / "preview.log").read_text()
                if "watching" in log:
                    break
            print(f"preview ready in {time.perf_counter() - t0:.1f} s", flush=True)
            if "differ" in log:
                print("warning: the fast pages are off:\n" + log)
            results = []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium)
                page = browser.new_page()
                for i in range(args.edits):
                    name = CHAPTERS[i % len(CHAPTERS)]
                    qmd = work / "report" / f"{name}.qmd"
                    page.goto(f"http://127.0.0.1:{port}/{name}.html", wait_until="load")
                    time.sleep(args.pause)  # the page's script waits on the status; the PDF renders
                    text = qmd.read_text(encoding="utf-8")
                    line = paragraph_line(text)
                    marker = f"Preview benchmark edit {i}."
                    lines_before = log.count("\n")
                    with page.expect_navigation(wait_until="load", timeout=60000):
                        start = time.time()
                        qmd.write_text(text.replace(line, f"{line} {marker}", 1), encoding="utf-8")
                    seconds = time.time() - start
                    assert marker in page.content(), f"edit {i}: reloaded without the edit"
                    nav = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                                        " return [performance.timeOrigin, n.domContentLoadedEventEnd, n.responseEnd]; })()")
                    shown = nav[0] / 1000 + nav[1] / 1000 - start  # the reloaded page's text is on screen
                    reload_at, got_at = nav[0] / 1000 - start, nav[0] / 1000 + nav[2] / 1000 - start
                    log = (work / "preview.log").read_text()
                    new = log.splitlines()[lines_before:]
                    rebuilt = next((ln for ln in new if f"report/{name}.qmd:" in ln), "")
                    m = re.search(r"\((\d+\.\d+) s; saved -> served (\d+\.\d+) s\)$", rebuilt)
                    rebuild, served = (m.group(1), m.group(2)) if m else ("?", "?")
                    how = "prose only" if "prose only" in rebuilt else "through the DAG"
                    print(f"edit {i + 1:2d} {name:22s} rebuild {rebuild} s, served {served} s, page shown "
                          f"{shown:.2f} s, loaded {seconds:.2f} s ({how}; reload asked {reload_at:.2f} s, page received {got_at:.2f} s)", flush=True)
                    results.append((seconds, shown, float(served) if m else float("nan")))
                browser.close()
            t_last = time.time()
            while "PDF updated" not in (work / "preview.log").read_text()[len(log):] and time.time() - t_last < 180:
                time.sleep(0.2)
            print(f"the PDF of the last edit was in place {time.time() - start:.1f} s after it was saved")
            print(f"\n{len(results)} edits, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}:")
            for k, what in enumerate(["saved -> reloaded page loaded", "saved -> reloaded page shown",
                                      "saved -> new page served"]):
                values = [r[k] for r in results]
                print(f"  {what:32s} median {statistics.median(values):.2f} s, max {max(values):.2f} s")
        finally:
            t1 = time.perf_counter()
            os.killpg(proc.pid, signal.SIGINT)
            code = proc.wait(30)
            print(f"Ctrl-C: the preview exited with code {code} in {time.perf_counter() - t1:.2f} s")
            logfile.close()
            leftover = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True).stdout.split()
            print(f"processes of this preview left: {len(leftover)}")
            if args.log:
                Path(args.log).write_text((work / "preview.log").read_text())


if __name__ == "__main__":
    main()
