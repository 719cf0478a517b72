"""`python -m hlm.build` (what `make book` runs): a killed build recovers by itself, and
the recovered build's outputs equal a clean build's byte for byte; a second build
started while one runs stops at once, naming it.

The hsb40 book is built in two copies of the project: one build is killed with SIGKILL
(its whole process group, as a closed laptop would) midway and run again; the other
runs once, undisturbed (the session's `hsb40_book`). Their outputs equal byte for byte:
rebuilds on one machine are byte-identical.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.project import COPY, copy_project

pytestmark = pytest.mark.slow

DATASET = "hsb40"
OUTPUTS = [f"data/processed/{DATASET}", f"data/fits/{DATASET}", f"figures/{DATASET}",
           f"build/{DATASET}/book", f"_book/{DATASET}"]


def build(work: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hlm.build", "--cores", "2"], cwd=work,
                          capture_output=True, text=True, **kw)


def digests(work: Path) -> dict[str, str]:
    """sha256 of every file (hidden ones included) under the outputs of the dataset."""
    out = {}
    for top in OUTPUTS:
        for path in sorted((work / top).rglob("*")):
            if path.is_file():
                out[path.relative_to(work).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def wait_for(condition, timeout: float, what: str, proc: subprocess.Popen) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the build ended ({proc.returncode}) before {what}")
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_killed_build_recovers_and_equals_a_clean_one(tmp_path, hsb40_book):
    work = copy_project(tmp_path / "project", [*COPY, "data/raw"])
    lockfile = work / ".snakemake" / "hlm-build.lock"
    figures = work / "figures" / DATASET
    first = subprocess.Popen([sys.executable, "-m", "hlm.build", "--cores", "2"], cwd=work,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # its own process group, jobs included
    try:
        wait_for(lambda: lockfile.is_file() and f"pid {first.pid}," in lockfile.read_text(),
                 60, "the build lock", first)

        # a second build while the first one runs: refused at once, naming the first
        t0 = time.monotonic()
        second = build(work, timeout=60)
        assert time.monotonic() - t0 < 5
        assert second.returncode != 0
        assert "another build of this project is running" in second.stderr
        assert f"pid {first.pid}," in second.stderr and "started " in second.stderr

        # kill the whole build midway: data, figures, fits and chapters under way
        def midway():
            return (len(list((work / "data" / "fits" / DATASET).glob("*.json"))) >= 3
                    and any((work / "build" / DATASET / "book").glob("*.md")))

        wait_for(midway, 600, "the first fits and chapters", first)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
    assert not (work / "_book" / DATASET / "index.html").exists(), "killed too late: the book was done"
    assert any((work / ".snakemake" / "locks").iterdir()), "Snakemake's lock is left over"
    # what a step killed while writing leaves behind (hlm.io.atomic_path's temporary file)
    (figures / ".trellis.svg.k1ll3d_x.svg").write_text("<svg")

    # run again: no manual --unlock or --rerun-incomplete
    again = build(work, timeout=1500)
    assert again.returncode == 0, again.stderr[-6000:]
    assert "a previous build was interrupted" in again.stderr

    ours, theirs = digests(work), digests(hsb40_book)
    assert len(ours) > 100
    differ = sorted(p for p in ours.keys() | theirs.keys() if ours.get(p) != theirs.get(p))
    assert not differ, f"killed-and-resumed build differs from a clean build: {differ}"
