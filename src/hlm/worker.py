"""A warm process that runs the DAG's `python -m hlm <command>` jobs, one fork per job.

Every step is its own Snakemake job (its own inputs, outputs, log, and on a
cluster its own submission), but on one machine most of a job's time went into
starting Python and importing numpy, pandas, matplotlib and statsmodels. So the
first job of a build starts a worker that imports them once, and every job then
hands its command to the worker over a Unix socket: the worker forks a child that
runs the command with the job's arguments, working directory, environment and
standard streams (passed as file descriptors). The job's output, log and exit
code are those of a cold run, and since each child starts from the worker's state
right after the imports, no job sees another's.

A worker serves one project and one version of the code: its socket is named by a
hash of the project root, the Python executable, the environment and the size and
modification time of every file of the package, so an edit gets a new worker. It
exits after `IDLE` seconds without a job. When the client dies (a build killed),
the worker kills that client's child.

`HLM_WORKER=0` runs each job cold, in its own process (e.g. on a cluster, where
jobs run on different machines). Only the standard library is imported here.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

IDLE = float(os.environ.get("HLM_WORKER_IDLE", 300))  # seconds without a job before it exits
STARTUP = 60.0  # seconds a job waits for a starting worker before it runs cold
PKG = Path(__file__).resolve().parent
# The environment that can change what importing the package does (the rest is the job's own)
_ENV = ("HLM_", "PYTHON", "MPL", "OMP_", "OPENBLAS", "MKL_", "LANG", "LC_", "TZ", "VIRTUAL_ENV")
_PER_JOB = ("HLM_CONFIGFILES", "HLM_DATASET", "HLM_CHAPTER")  # read when a job runs, not on import
_HEADER = struct.Struct("!I")   # length of the request that follows
_STATUS = struct.Struct("!i")   # the job's exit code


def enabled() -> bool:
    return os.environ.get("HLM_WORKER", "1") != "0" and hasattr(socket, "AF_UNIX") and hasattr(os, "fork")


def _fingerprint() -> str:
    """What the worker's imports depend on: the code, the interpreter and the environment."""
    h = hashlib.sha256()
    for path in sorted(PKG.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            st = path.stat()
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    h.update(sys.executable.encode())
    h.update(json.dumps(sorted((k, v) for k, v in os.environ.items()
                               if k.startswith(_ENV) and k not in _PER_JOB)).encode())
    return h.hexdigest()[:20]


def socket_path() -> Path:
    folder = Path(tempfile.gettempdir()) / f"hlm-worker-{os.getuid()}"
    if len(str(folder)) > 60 and Path("/tmp").is_dir():  # a socket's path holds at most 107 bytes
        folder = Path("/tmp") / f"hlm-worker-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{_fingerprint()}.sock"


def _current_file(path: Path) -> Path:
    """Names the newest worker of this project (root and interpreter): an older one
    (older code) leaves as soon as it is idle."""
    key = hashlib.sha256(f"{os.environ.get('HLM_ROOT', os.getcwd())}\0{sys.executable}".encode())
    return path.with_name(f"{key.hexdigest()[:16]}.current")


# ---------------------------------------------------------------------------- client
def run(argv: list[str]) -> int | None:
    """Run `python -m hlm argv` in the worker; None if no worker can be used (run cold)."""
    if not enabled():
        return None
    path = socket_path()
    try:
        conn = _connect(path) or _start(path) or _wait(path)
    except OSError:
        return None
    if conn is None:
        return None  # no worker came up: this job runs cold
    with conn:
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        try:
            socket.send_fds(conn, [_HEADER.pack(len(request)) + request], [0, 1, 2])
        except OSError:  # e.g. a closed standard stream: nothing ran yet, run cold
            return None
        reply = _recv_exact(conn, _STATUS.size)
    if reply is None:
        print("[hlm] the worker stopped before the job ended; run again, or set HLM_WORKER=0",
              file=sys.stderr)
        return 1
    return _STATUS.unpack(reply)[0]


def _connect(path: Path) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
        return conn
    except OSError:
        conn.close()
        return None


#: What Snakemake sets in the environment of every shell job, for the job's threads (one
#: for every rule here): the worker a build starts ahead must see the jobs' environment, or
#: the jobs would not find it (the thread counts are part of the socket's name, since they
#: decide how numpy's BLAS computes).
SNAKEMAKE_THREAD_VARS = ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                         "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def prestart() -> None:
    """Start the project's worker if none runs or is starting, without waiting for it:
    `python -m hlm.build` calls it before Snakemake reads the workflow (with the jobs'
    thread variables set, as Snakemake sets them), so that the worker imports while the
    DAG is built and the first jobs find it ready."""
    if not enabled():
        return
    try:
        path = socket_path()
        conn = _connect(path) or _start(path)
    except OSError:
        return
    if conn is not None:
        conn.close()


def _wait(path: Path, timeout: float = STARTUP) -> socket.socket | None:
    """A connection to the worker that is starting, once it is ready (it holds the start
    lock until then); None if it died starting or is not ready within `timeout` seconds.
    A job that waits does not import everything a second time beside the worker (on 2
    cores the first jobs of a build ran cold for seconds each before)."""
    import fcntl

    end = time.monotonic() + timeout
    with open(f"{path}.lock", "a") as lock:
        while time.monotonic() < end:
            conn = _connect(path)
            if conn is not None:
                return conn
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # still importing
                time.sleep(0.02)
                continue
            fcntl.flock(lock, fcntl.LOCK_UN)
            return _connect(path)  # the start lock is free: ready now, or it died starting
    return None


def _start(path: Path) -> socket.socket | None:
    """Start a worker for `path` unless one is starting; None means that a worker is
    starting (this call's or another's): wait for it (`_wait`)."""
    import fcntl
    import subprocess

    with open(f"{path}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # another job is starting it
        conn = _connect(path)
        if conn is not None:  # it became ready meanwhile
            return conn
        path.unlink(missing_ok=True)  # a worker that died leaves its socket
        # The worker inherits the lock and holds it until it is ready.
        subprocess.Popen([sys.executable, "-m", "hlm.worker", str(path), str(lock.fileno())],
                         pass_fds=(lock.fileno(),), start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        current = _current_file(path)
        tmp = current.with_name(f".{current.name}.{os.getpid()}")
        tmp.write_text(path.name)
        tmp.replace(current)
    return None


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


# ---------------------------------------------------------------------------- worker
def _preload() -> None:
    """Import what the commands import, once (a module that fails to import is left to
    the job, which then reports the error as a cold run would)."""
    import importlib

    from hlm.cli import COMMANDS

    modules = [target.split(":")[0] for target in COMMANDS.values()]
    modules += [f"hlm.figures.{p.stem}" for p in (PKG / "figures").glob("*.py")]
    # and what every chapter imports (report/_common.py), with the shell it runs in
    modules += ["matplotlib.pyplot", "matplotlib_inline.backend_inline", "IPython.core.interactiveshell",
                "hlm.bookdata", "hlm.fitview", "hlm.prose", "hlm.effects", "hlm.residuals"]
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the job will meet the same error and report it
            pass


def serve(path: Path, lock_fd: int | None = None, idle: float = IDLE) -> None:
    """Accept jobs on the socket `path` until `idle` seconds pass without one, or a newer
    worker of the project exists and this one has no job; `lock_fd` (the starting lock)
    is released once the socket is ready."""
    import selectors

    os.environ.setdefault("MPLBACKEND", "agg")
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path.with_suffix(f".{os.getpid()}")
    listener.bind(str(tmp))
    listener.listen(64)
    inode = os.stat(tmp).st_ino
    os.replace(tmp, path)  # ready: clients can connect from now on
    if lock_fd is not None:
        os.close(lock_fd)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    jobs: dict[int, socket.socket] = {}  # child pid -> its client's connection
    last = time.monotonic()
    closing = False
    while True:
        events = sel.select(timeout=0.02 if jobs else 0.5)  # children are reaped by polling
        for key, _ in events:
            if key.fileobj is listener:
                conn, _ = listener.accept()
                pid = _fork_job(conn, listener, jobs)
                if pid:
                    jobs[pid] = conn
                    sel.register(conn, selectors.EVENT_READ, pid)
            elif not key.fileobj.recv(1):  # the client is gone (killed): stop its job
                sel.unregister(key.fileobj)
                _kill(key.data)
        _reap(jobs, sel)
        if jobs or events:
            last = time.monotonic()
        elif closing:
            Path(f"{path}.lock").unlink(missing_ok=True)
            return  # no job left, and no client came in since the socket was removed
        elif time.monotonic() - last > idle or _superseded(path):
            # Remove the socket first, then serve whoever connected meanwhile.
            closing = True
            try:
                if os.stat(path).st_ino == inode:
                    path.unlink()
            except OSError:
                pass


def _superseded(path: Path) -> bool:
    try:
        return _current_file(path).read_text() != path.name
    except OSError:
        return False


def _kill(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(jobs: dict[int, socket.socket], sel) -> None:
    """Collect finished children and send each one's exit code to its client."""
    while jobs:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        conn = jobs.pop(pid, None)
        if conn is None:
            continue
        try:
            sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        try:
            conn.sendall(_STATUS.pack(os.waitstatus_to_exitcode(status)))
        except OSError:
            pass
        conn.close()


def _fork_job(conn: socket.socket, listener: socket.socket, jobs: dict) -> int | None:
    """Read one request from `conn` and fork its job; the child never returns."""
    try:
        first, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
        if len(first) < _HEADER.size or len(fds) != 3:
            raise OSError("malformed request")
        size = _HEADER.unpack(first[:_HEADER.size])[0]
        body = first[_HEADER.size:]
        rest = _recv_exact(conn, size - len(body)) if len(body) < size else b""
        if rest is None:
            raise OSError("truncated request")
        request = json.loads(body + rest)
    except (OSError, ValueError):
        conn.close()
        return None
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return pid
    code = 1
    try:
        import signal

        listener.close()
        for other in jobs.values():
            other.close()
        conn.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]  # as `python -m` puts it
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [sys.argv[0], *request["argv"]]
        from hlm.cli import main

        code = main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - report like a cold run, then leave
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
