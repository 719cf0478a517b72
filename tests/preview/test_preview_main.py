"""hlm.preview.__main__: `python -m hlm.preview`, the command `make preview` runs."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from hlm.preview.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_and_its_options():
    proc = subprocess.run([sys.executable, "-m", "hlm.preview", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for option in ("--dataset", "--configfile", "--port", "--cores", "--no-pdf", "--no-fast"):
        assert option in proc.stdout
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "python -m hlm.preview --port $(PORT) --cores $(CORES)" in make


def test_a_port_in_use_is_an_error_that_names_another(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--dataset", "hsb40", "--port", str(port), "--no-pdf"]) == 1
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and f"PORT={port + 1}" in err
