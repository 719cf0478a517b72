"""Run a chapter's code in an IPython shell of a process of its own, with the outputs a
Jupyter kernel would give.

A chapter used to run in a Jupyter kernel started for it: about a second of start-up
and imports per chapter, most of a chapter job's time. Here the chapter runs in an
IPython `InteractiveShell` (the shell ipykernel wraps) inside a child forked from the
calling process, so it starts from what that process has imported (the warm worker's
numpy, pandas and matplotlib) and no chapter sees another's state, as with a fresh
kernel. The shell's display hook, display publisher, traceback display and standard
streams are replaced by collectors that record what ipykernel would send as messages,
so each `run` returns the cell's outputs in nbformat's shape (`stream`, `display_data`,
`execute_result`, `error`), in the order they were produced.

The parent process (`Chapter`) only waits: the child reports each cell as it starts on
a pipe and its result at the end. A cell that runs longer than the timeout, or a child
that dies (a cell calling `os._exit`, a crash), fails the chapter with the line of the
cell that was running (`CellTimeoutError`, `DeadKernelError`, the names nbclient gives
the same events). A child whose parent dies (a build killed) ends too.
"""
from __future__ import annotations

import io
import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Callable


class _Sink:
    """The outputs of the cell being run, in order."""

    def __init__(self):
        self.outputs: list[dict] = []

    def stream(self, name: str, text: str) -> None:
        last = self.outputs[-1] if self.outputs else None
        if last and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def display(self, kind: str, data: dict, metadata: dict | None) -> None:
        self.outputs.append({"output_type": kind, "data": dict(data), "metadata": dict(metadata or {})})

    def error(self, ename: str, evalue: str, tb: list[str]) -> None:
        self.outputs.append({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": list(tb)})


class _Stream(io.TextIOBase):
    """sys.stdout or sys.stderr of the shell: text goes to the cell's outputs."""

    def __init__(self, name: str, sink: _Sink):
        self.name, self._sink = name, sink

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if text:
            self._sink.stream(self.name, str(text))
        return len(text)


def _shell(sink: _Sink):
    """An InteractiveShell whose displays, results and tracebacks go to `sink`."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            sink.display("display_data", data, metadata)

        def clear_output(self, wait=False):
            sink.outputs.clear()

    class Hook(DisplayHook):
        def start_displayhook(self):
            pass

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            sink.display("execute_result", format_dict, md_dict)

        def finish_displayhook(self):
            pass

    class Shell(InteractiveShell):
        def _showtraceback(self, etype, evalue, stb):
            sink.error(etype.__name__, str(evalue), stb)

    config = Config()
    config.HistoryManager.enabled = False
    return Shell.instance(config=config, displayhook_class=Hook, display_pub_class=Publisher)


class _Child:
    """The chapter's side: an IPython shell in this (forked) process."""

    def __init__(self, cwd: Path, env: dict, report: int):
        self.report = report
        self.sink = _Sink()
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        sys.path.insert(0, "")  # as ipykernel: the working directory first
        _fresh_warnings()
        if "matplotlib.pyplot" in sys.modules:  # figures the forking process left open are not the chapter's
            sys.modules["matplotlib.pyplot"].close("all")
        sys.stdout = _Stream("stdout", self.sink)
        sys.stderr = _Stream("stderr", self.sink)
        self.shell = _shell(self.sink)

    def send(self, message: dict) -> None:
        data = pickle.dumps(message)
        os.write(self.report, len(data).to_bytes(8, "big"))
        view = memoryview(data)
        while view:
            view = view[os.write(self.report, view):]

    def run(self, code: str) -> list:
        self.sink.outputs = []
        self.shell.run_cell(code, store_history=True)
        sys.stdout.flush()
        return self.sink.outputs


def _fresh_warnings() -> None:
    """Warnings as in a new Python process (the forking process, e.g. a test run, may have
    its own filters, or record warnings instead of showing them): shown on sys.stderr."""
    import warnings

    warnings.resetwarnings()
    for action, category in (("ignore", ResourceWarning), ("ignore", ImportWarning),
                             ("ignore", PendingDeprecationWarning), ("ignore", DeprecationWarning)):
        warnings.simplefilter(action, category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    for option in reversed(sys.warnoptions):
        warnings._setoption(option)  # noqa: SLF001 - the interpreter's own -W handling

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


def _watch_parent(parent: int) -> None:
    """End this process when the process that forked it is gone."""

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


class CellTimeoutError(Exception):
    pass


class DeadKernelError(Exception):
    pass


def run_in_child(work: Callable, cwd: Path, env: dict, timeout: float,
                 on_message: Callable[[dict], None] | None = None):
    """Run `work(child)` in a forked process and return what it returns (picklable).

    `child.run(code)` runs code in the child's shell and returns its outputs; the child
    announces each piece with `child.send({"at": ...})` before running it, so that a
    timeout or a death names it: raises CellTimeoutError or DeadKernelError with the
    last `at` as `args[1]`. An exception raised by `work` is raised here.
    """
    read, write = os.pipe()
    parent = os.getpid()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        code = 0
        try:
            _watch_parent(parent)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            child = _Child(cwd, env, write)
            try:
                result = {"result": work(child)}
            except BaseException as err:  # noqa: BLE001 - reported to the parent
                try:
                    pickle.dumps(err)
                    result = {"raise": err}
                except Exception:  # noqa: BLE001
                    result = {"raise": RuntimeError(f"{type(err).__name__}: {err}")}
            child.send(result)
        except BaseException:  # noqa: BLE001 - the child must never return
            code = 70
            try:
                os.write(2, traceback.format_exc().encode())
            except OSError:
                pass
        finally:
            os._exit(code)
    os.close(write)
    at = None
    try:
        reader = _Reader(read)
        deadline = time.monotonic() + timeout
        while True:
            message = reader.next(deadline - time.monotonic())
            if message is _Reader.TIMEOUT:
                os.kill(pid, signal.SIGKILL)
                raise CellTimeoutError(f"a cell ran longer than {timeout:g} s", at)
            if message is None:
                _, status = os.waitpid(pid, 0)
                pid = None
                code = os.waitstatus_to_exitcode(status)
                how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                raise DeadKernelError(f"the chapter's process died ({how})", at)
            if "at" in message:
                at = message["at"]
                deadline = time.monotonic() + timeout
                if on_message:
                    on_message(message)
                continue
            if "raise" in message:
                raise message["raise"]
            return message["result"]
    finally:
        os.close(read)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


class _Reader:
    """Length-prefixed pickled messages from a pipe."""

    TIMEOUT = object()

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""

    def _fill(self, size: int, end: float) -> bool | None:
        """At least `size` bytes buffered: True; the pipe closed: None; `end` passed: False."""
        while len(self.buffer) < size:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return False
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return None
            self.buffer += chunk
        return True

    def next(self, wait: float):
        """The next message; None once the writer is gone, TIMEOUT after `wait` seconds."""
        end = time.monotonic() + wait
        got = self._fill(8, end)
        if got:
            size = 8 + int.from_bytes(self.buffer[:8], "big")
            got = self._fill(size, end)
        if got is None:
            return None
        if not got:
            return self.TIMEOUT
        data, self.buffer = self.buffer[8:size], self.buffer[size:]
        return pickle.loads(data)
