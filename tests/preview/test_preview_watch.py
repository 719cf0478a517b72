"""hlm.preview.watch: the sources polled for changes, the loop that rebuilds on them."""
from __future__ import annotations

import threading
import time

from hlm.errors import HlmError
from hlm.preview.server import BuildState
from hlm.preview.watch import RebuildLoop, Watcher


def test_watcher_sees_edits_additions_and_removals_not_scratch_files(tmp_path):
    (tmp_path / "report").mkdir()
    qmd = tmp_path / "report" / "a.qmd"
    qmd.write_text("one")
    (tmp_path / "_quarto.yml").write_text("x")
    watcher = Watcher([tmp_path / "report", tmp_path / "_quarto.yml"])
    assert watcher.changes() == []
    qmd.write_text("two!")
    (tmp_path / "report" / ".a.qmd.swp").write_text("scratch")
    (tmp_path / "report" / "a.qmd~").write_text("backup")
    (tmp_path / "report" / "__pycache__").mkdir()
    (tmp_path / "report" / "__pycache__" / "m.pyc").write_text("")
    assert watcher.changes() == [qmd]
    new = tmp_path / "report" / "b.qmd"
    new.write_text("b")
    qmd.unlink()
    assert watcher.changes() == [qmd, new]
    (tmp_path / "_quarto.yml").write_text("y2")
    assert watcher.changes() == [tmp_path / "_quarto.yml"]


def wait_until(state: BuildState, test, timeout: float = 10) -> dict:
    """The state once `test(snapshot)` holds, as a page waiting on the status sees it."""
    deadline = time.monotonic() + timeout
    snap = state.snapshot()
    while not test(snap):
        assert time.monotonic() < deadline, snap
        snap = state.wait(snap["version"], 1)
    return snap


def test_the_loop_rebuilds_on_a_change_reports_errors_and_stops(tmp_path):
    src = tmp_path / "report"
    src.mkdir()
    qmd = src / "intro.qmd"
    qmd.write_text("Intro")
    calls = []

    def build(changed):
        calls.append(changed)
        if "error" in qmd.read_text():
            raise HlmError("report/intro.qmd:1: the chapter failed")
        return "rebuilt"

    state = BuildState()
    loop = RebuildLoop(state, Watcher([src]), build, interval=0.02)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        qmd.write_text("Intro, edited")
        got = wait_until(state, lambda s: s["build"] >= 1)
        assert calls == [[qmd]] and got["state"] == "idle"
        qmd.write_text("an error")
        got = wait_until(state, lambda s: s["state"] == "error")
        assert got["build"] == 1 and "the chapter failed" in got["message"]
    finally:
        loop.stop()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_loop_calls_idle_work_between_builds(tmp_path):
    ticks, state = [], BuildState()
    loop = RebuildLoop(state, Watcher([tmp_path]), lambda changed: None, idle=lambda: ticks.append(1) or True)
    loop.step()
    assert ticks and state.build == 1  # idle work that serves new pages bumps the counter
