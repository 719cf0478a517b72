"""The warm worker runs `python -m hlm` jobs exactly as a cold process would."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hlm import worker

ROOT = Path(__file__).resolve().parents[1]


def _run(args, cwd, env):
    return subprocess.run([sys.executable, "-m", "hlm", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def env(tmp_path):
    """A private socket folder and a short idle time, so the test's worker is its own."""
    import shutil
    import tempfile

    # short: a Unix socket's path holds at most 107 bytes, and pytest-xdist's tmp_path is long
    sock = tempfile.mkdtemp(prefix="hw-", dir="/tmp")
    yield dict(os.environ, TMPDIR=sock, HLM_ROOT=str(ROOT), HLM_WORKER_IDLE="3")
    shutil.rmtree(sock, ignore_errors=True)


def _sockets(env):
    return list(Path(env["TMPDIR"]).glob("hlm-worker-*/*.sock"))


@pytest.mark.slow  # starts worker processes and waits for them
def test_a_job_in_the_worker_equals_a_cold_run(tmp_path, env):
    """Same exit code, same stdout and stderr (but the timing), same output file, written
    relative to the job's working directory with the job's environment (HLM_ROOT)."""
    cold_dir, warm_dir = tmp_path / "cold", tmp_path / "warm"
    cold_dir.mkdir(), warm_dir.mkdir()
    args = ["merge", "--dataset", "hsb40", "--out", "merged.parquet"]

    cold = _run(args, cold_dir, dict(env, HLM_WORKER="0"))
    assert cold.returncode == 0, cold.stderr
    _run(["--no-such-command"], tmp_path, env)  # starts the worker (this job runs cold)
    assert _wait_for(lambda: _sockets(env)), "the worker did not start"
    warm = _run(args, warm_dir, env)

    assert warm.returncode == cold.returncode == 0
    strip = lambda text: [line.split(" done in ")[0] for line in text.splitlines()]  # noqa: E731
    assert strip(warm.stderr) == strip(cold.stderr)
    assert warm.stdout == cold.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(warm_dir / "merged.parquet"),
                                  pd.read_parquet(cold_dir / "merged.parquet"))


@pytest.mark.slow  # starts worker processes and waits for them
def test_errors_and_exit_codes_pass_through(tmp_path, env):
    _run(["--no-such-command"], tmp_path, env)
    assert _wait_for(lambda: _sockets(env))
    bad = ["merge", "--dataset", "no_such_dataset", "--out", "x.parquet"]
    cold, warm = _run(bad, tmp_path, dict(env, HLM_WORKER="0")), _run(bad, tmp_path, env)
    assert warm.returncode == cold.returncode == 1
    assert "no_such_dataset" in warm.stderr
    assert warm.stderr.splitlines()[-1] == cold.stderr.splitlines()[-1]
    usage = _run([], tmp_path, env)
    assert usage.returncode == 2 and "usage: python -m hlm" in usage.stderr


@pytest.mark.slow  # starts worker processes and waits for them
def test_the_worker_leaves_when_idle(tmp_path, env):
    _run(["--no-such-command"], tmp_path, env)
    assert _wait_for(lambda: _sockets(env))
    assert _wait_for(lambda: not _sockets(env), timeout=30), "the idle worker did not exit"


def test_off_switch_runs_cold(tmp_path, env, monkeypatch):
    monkeypatch.setenv("HLM_WORKER", "0")
    assert worker.run(["merge"]) is None


def test_an_edit_gets_a_new_worker(tmp_path, monkeypatch):
    """The socket's name follows the code: a changed file gives another worker."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(worker, "PKG", pkg)
    before = worker._fingerprint()
    assert worker._fingerprint() == before
    os.utime(pkg / "a.py", ns=(1, 10**18))
    assert worker._fingerprint() != before
    monkeypatch.setenv("HLM_ROOT", "/elsewhere")
    assert worker._fingerprint() != before


@pytest.mark.slow  # starts worker processes and waits for them
def test_a_newer_worker_of_the_project_replaces_the_older(tmp_path, env):
    """After an edit the old worker leaves once idle, not after its idle time."""
    env = dict(env, HLM_WORKER_IDLE="30")
    _run(["--no-such-command"], tmp_path, env)
    assert _wait_for(lambda: len(_sockets(env)) == 1)
    old = _sockets(env)[0]
    _run(["--no-such-command"], tmp_path, dict(env, HLM_OTHER_VERSION="1"))  # as if the code changed
    assert _wait_for(lambda: len(_sockets(env)) == 2 or not old.exists())
    assert _wait_for(lambda: not old.exists(), timeout=20), "the older worker stayed"


def _listen(path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(4)
    return listener


def test_a_job_waits_for_a_starting_worker_instead_of_running_cold(tmp_path):
    """While the start lock is held (the worker imports), `_wait` polls; once the worker
    listens it connects, before the lock is even released."""
    import fcntl
    import threading

    from hlm.worker import _wait

    path = tmp_path / "w.sock"
    lock = open(f"{path}.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # the starting worker holds it
    listener = []
    threading.Timer(0.3, lambda: listener.append(_listen(path))).start()
    t0 = time.monotonic()
    conn = _wait(path, timeout=10)
    assert conn is not None and 0.25 < time.monotonic() - t0 < 5
    conn.close()
    listener[0].close()
    lock.close()


def test_a_worker_that_died_starting_sends_the_job_cold_at_once(tmp_path):
    import fcntl
    import threading

    from hlm.worker import _wait

    path = tmp_path / "w.sock"
    lock = open(f"{path}.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    threading.Timer(0.3, lock.close).start()  # released without a socket: it died
    t0 = time.monotonic()
    assert _wait(path, timeout=10) is None
    assert time.monotonic() - t0 < 2


def test_the_worker_a_build_starts_is_the_one_its_jobs_use(tmp_path):
    """A Snakemake shell job computes the worker's socket from its environment (as the
    project's rules set it up: HLM_ROOT, HLM_CONFIGFILES); `python -m hlm.build` computes
    the same before Snakemake starts, so the worker it starts ahead is the one the jobs use."""
    from hlm.build import worker_env

    (tmp_path / "Snakefile").write_text(
        "import os\n"
        "os.environ['HLM_ROOT'] = str(Path(workflow.basedir).resolve())\n"
        "os.environ['HLM_CONFIGFILES'] = 'mine.yaml'\n"
        'rule a:\n    output: "socket.txt"\n'
        f'    shell: "{sys.executable} -c \'from hlm import worker; print(worker.socket_path())\' > {{output}}"\n')
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "-q"], cwd=tmp_path,
                   check=True, capture_output=True)
    in_job = (tmp_path / "socket.txt").read_text().strip()
    in_build = subprocess.run([sys.executable, "-c", "from hlm import worker; print(worker.socket_path())"],
                              env=dict(os.environ, **worker_env(tmp_path)), capture_output=True, text=True,
                              check=True).stdout.strip()
    assert in_job == in_build
