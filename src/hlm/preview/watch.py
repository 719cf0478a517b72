"""What changed in the sources (`Watcher`), and the loop that rebuilds on it and tells
the pages waiting on the server (`RebuildLoop`)."""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Callable

from hlm.errors import HlmError
from hlm.preview import log
from hlm.preview.server import BuildState

IGNORED = re.compile(r"(^\.|~$|^#.*#$|\.sw[a-p]$|\.pyc$|\.tmp$|^4913$)")  # editors' scratch files


class Watcher:
    """Polls files and folders for changes of mtime or size (no dependency on watchdog)."""

    def __init__(self, paths: list[Path]):
        self.paths = [Path(p) for p in paths]
        self.state = self.scan()

    def scan(self) -> dict[Path, tuple[int, int]]:
        seen: dict[Path, tuple[int, int]] = {}
        for top in self.paths:
            if top.is_file():
                st = top.stat()
                seen[top] = (st.st_mtime_ns, st.st_size)
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = [d for d in dirnames if not IGNORED.search(d) and d != "__pycache__"]
                for name in filenames:
                    if IGNORED.search(name):
                        continue
                    path = Path(dirpath, name)
                    try:
                        st = path.stat()
                    except OSError:
                        continue
                    seen[path] = (st.st_mtime_ns, st.st_size)
        return seen

    def changes(self) -> list[Path]:
        """The files changed, added or removed since the last call."""
        new = self.scan()
        changed = sorted(p for p in set(new) | set(self.state) if new.get(p) != self.state.get(p))
        self.state = new
        return changed


class RebuildLoop:
    """Watch, rebuild, tell `state` (the server's): `build(changed)` is called with the changed files and returns
    what it did (None: nothing to show) or raises (its message is shown over the page).
    `idle()` is called between polls (e.g. to finish background work)."""

    def __init__(self, state: BuildState, watcher: Watcher, build: Callable[[list[Path]], str | None],
                 interval: float = 0.1, settle: float = 0.05, idle: Callable[[], bool] | None = None):
        self.state, self.watcher, self.build = state, watcher, build
        self.interval, self.settle, self.idle = interval, settle, idle
        self.stopping = threading.Event()

    def step(self) -> bool:
        """One poll; rebuild if something changed. Whether a rebuild ran."""
        changed = self.watcher.changes()
        if not changed:
            if self.idle and self.idle():
                self.state.update(bump=True)
            return False
        while True:  # an editor may write in several steps: wait until the files settle
            time.sleep(self.settle)
            more = self.watcher.changes()
            if not more:
                break
            changed = sorted(set(changed) | set(more))
        self.state.update(state="building", message="")
        t0 = time.perf_counter()
        try:
            did = self.build(changed)
        except HlmError as err:
            log(f"build failed:\n{err}")
            self.state.update(state="error", message=str(err))
            return True
        self.state.update(state="idle", message="", bump=bool(did))
        if did:
            saved = max((p.stat().st_mtime for p in changed if p.exists()), default=None)
            lag = f"; saved -> served {time.time() - saved:.2f} s" if saved else ""
            log(f"{did} ({time.perf_counter() - t0:.2f} s{lag})")
        return True

    def run(self) -> None:
        """Poll until stopped (Ctrl-C or SIGTERM)."""
        while not self.stopping.is_set():
            self.step()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()

