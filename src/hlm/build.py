"""`python -m hlm.build [snakemake arguments]`: build the book; recovers from a killed build.

What `make book` runs. It takes the project's build lock (an advisory lock on
`.snakemake/hlm-build.lock`, held by the build process itself: the kernel releases it
when that process ends, even on `kill -9` or power loss), then runs Snakemake's
command line, `snakemake <arguments> --rerun-incomplete`, in the same process:

- another build holds the lock: stop at once, naming it (pid, start time), exit code 3;
- Snakemake's own lock is left over from a dead build (`.snakemake/locks/`, which
  Snakemake leaves behind when killed): remove it with `snakemake --unlock`, saying so
  (unless a Snakemake started by hand is running here: then Snakemake reports the lock);
  the temporary files of the steps it was running are removed too;
- `--rerun-incomplete`: the jobs that the dead build had started are run again, so
  half-written outputs are redone.

Everything else (arguments, output, exit code) is Snakemake's. Snakemake is imported
only once the lock is taken, so that a refused build answers at once.
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

LOCK_NAME = "hlm-build.lock"
REFUSED = 3  # exit code when another build holds the lock


def _workdir(args: list[str]) -> Path:
    """The directory Snakemake works in: `--directory`/`-d` if given, else the current one."""
    for i, arg in enumerate(args):
        if arg in ("-d", "--directory") and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--directory="):
            return Path(arg.split("=", 1)[1])
    return Path.cwd()


def _holder(fd: int) -> str:
    """What the lock file says about the build that holds it."""
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "a build that is just starting"


def take_lock(snakemake_dir: Path, what: str) -> tuple[int | None, str]:
    """Take the project's build lock for `what` (the command, noted in the lock file):
    (its file descriptor, ""), or (None, what the holder's note says) if a running
    build or preview holds it."""
    import fcntl

    snakemake_dir.mkdir(parents=True, exist_ok=True)
    # not O_TRUNC: the holder's note must stay readable until we hold the lock
    fd = os.open(snakemake_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        return None, holder
    note = f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S %z')}: {what}\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, note.encode("utf-8"), 0)
    return fd, ""


def acquire(snakemake_dir: Path, args: list[str]) -> int | None:
    """Take the build lock: its file descriptor (not inherited by the jobs), or None if
    another running build holds it."""
    fd, holder = take_lock(snakemake_dir, f"python -m hlm.build {' '.join(args)}".rstrip())
    if fd is None:
        print(f"error: another build of this project is running ({holder}); "
              "wait for it to finish, or stop it, and run `make book` again.", file=sys.stderr)
    return fd


def _live_snakemake(workdir: Path) -> list[int]:
    """Pids of running Snakemake processes working in `workdir` (Linux /proc; elsewhere
    none are found, and the build lock alone guards against concurrent builds)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    me, target = os.getpid(), workdir.resolve()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            # `snakemake ...`, `python .../bin/snakemake ...` or `python -m snakemake ...`
            if not (any(os.path.basename(a) == b"snakemake" for a in argv[:2])
                    or argv[1:3] == [b"-m", b"snakemake"]):
                continue
            if Path(os.readlink(entry / "cwd")).resolve() == target:
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to look at
            continue
    return found


# Where the steps write, and the temporary names they write under before moving the
# result into place (hlm.io.atomic_path: `.<name>.XXXXXXXX<suffix>`; the book's staging
# directories `.<name>.XXXXXXXX`; `*.tmp`). A killed step leaves them behind.
GENERATED = ("data/processed", "data/fits", "figures", "build", "_book")
STALE = re.compile(r"^\..+\.[a-z0-9_]{8}(\.\w+)?$|\.tmp$")


def sweep(workdir: Path) -> int:
    """Remove the temporary files that killed steps left behind; how many were removed."""
    removed = 0
    for top in GENERATED:
        for dirpath, dirnames, filenames in os.walk(workdir / top):
            for name in [d for d in dirnames if STALE.search(d)]:
                import shutil

                shutil.rmtree(os.path.join(dirpath, name), ignore_errors=True)
                dirnames.remove(name)
                removed += 1
            for name in filenames:
                if STALE.search(name):
                    try:
                        os.unlink(os.path.join(dirpath, name))
                        removed += 1
                    except OSError:
                        pass
    return removed


def recover(workdir: Path, args: list[str]) -> None:
    """Clean up after a dead build (we hold the build lock, so none of ours is running):
    its temporary files, and Snakemake's lock if it left one."""
    locks = workdir / ".snakemake" / "locks"
    stale_lock = locks.is_dir() and any(locks.iterdir())
    live = _live_snakemake(workdir)
    if live:  # started by hand, not through this entry point: Snakemake will say it is locked
        if stale_lock:
            print(f"[hlm] a Snakemake process not started by `make book` is running here "
                  f"(pid {', '.join(map(str, live))}); leaving its lock alone", file=sys.stderr)
        return
    removed = sweep(workdir)
    if not stale_lock:
        if removed:
            print(f"[hlm] removed {removed} temporary file(s) left by an interrupted build",
                  file=sys.stderr)
        return
    print("[hlm] a previous build was interrupted: removing its leftover lock "
          "(snakemake --unlock) and redoing its unfinished outputs", file=sys.stderr)
    import shutil
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "snakemake", *args, "--unlock"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0 and locks.is_dir():
        # --unlock parses the workflow, which can fail (e.g. a config error that the build
        # itself will report); no Snakemake process runs here, so the locks are stale
        shutil.rmtree(locks, ignore_errors=True)


def worker_env(workdir: Path) -> dict[str, str]:
    """What the workflow's jobs find in their environment that the warm worker's imports
    depend on: the thread variables Snakemake sets for a one-thread job, and HLM_ROOT, which
    rules/helpers.smk sets to the workflow's folder."""
    from hlm.worker import SNAKEMAKE_THREAD_VARS

    return {"HLM_ROOT": str(workdir.resolve()), **{name: "1" for name in SNAKEMAKE_THREAD_VARS}}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    workdir = _workdir(args)
    fd = acquire(workdir / ".snakemake", args)
    if fd is None:
        return REFUSED
    recover(workdir, args)
    from hlm import worker

    # the worker started here is the jobs' own (it warms while Snakemake builds the DAG)
    os.environ.update(worker_env(workdir))
    worker.prestart()
    if "--rerun-incomplete" not in args and "--ri" not in args:
        args.append("--rerun-incomplete")
    return run_snakemake(args)  # in this process, which holds the lock until it ends


def run_snakemake(args: list[str]) -> int:
    """Snakemake's command line, in this process; its exit code. The process then ends
    at once: Snakemake 9 leaves a rate-limit timer thread behind that kept every build
    alive a second after its last job."""
    import logging

    from snakemake.cli import main as snakemake_main

    try:
        snakemake_main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
