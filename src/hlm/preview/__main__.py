"""`make preview`: rebuild the book as its sources change and serve it, reloading the browser.

    python -m hlm.preview [--dataset D] [--configfile F ...] [--port 8000] [--cores 2]

The command: the builder, the server and the loop of the package (see `hlm.preview`).
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from hlm.config import read_config
from hlm.errors import HlmError
from hlm.preview import PreviewError, log, rel
from hlm.preview.builder import BookBuilder
from hlm.preview.server import BuildState, PreviewServer
from hlm.preview.watch import RebuildLoop, Watcher


def _interrupt(*_):
    raise KeyboardInterrupt


def default_dataset(root: Path, configfiles: list[Path]) -> str:
    base = root / "config" / "config.yaml"
    return read_config([p for p in [base, *configfiles] if p.is_file()]).get("dataset") or "hsb40"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hlm.preview", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", help="dataset profile (default: the config's `dataset`)")
    ap.add_argument("--configfile", nargs="+", action="extend", default=[], help="your own profiles")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between polls of the sources")
    ap.add_argument("--no-pdf", action="store_true", help="do not render the PDF after each edit")
    ap.add_argument("--no-fast", action="store_true", help="every edit through the whole build")
    ap.add_argument("--verbose", action="store_true", help="show Snakemake's output")
    args = ap.parse_args(argv)
    root = Path.cwd().resolve()
    configfiles = [Path(c).resolve() for c in args.configfile]
    try:
        dataset = args.dataset or default_dataset(root, configfiles)
        builder = BookBuilder(root, dataset, configfiles, args.cores, args.verbose,
                              fast=not args.no_fast, pdf=not args.no_pdf)
        try:
            server = PreviewServer(builder.book_dir, BuildState(), args.host, args.port)
        except OSError as err:
            raise PreviewError(f"cannot serve on {args.host}:{args.port} ({err.strerror}); "
                               f"choose another port: make preview PORT={args.port + 1}") from None
    except HlmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    server.start()
    log(f"serving {rel(builder.book_dir, root)} on {server.url} (Ctrl-C to stop)")
    loop = RebuildLoop(server.state, Watcher(builder.watched()), builder, args.interval, idle=builder.poll_background)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.state.update(state="building")
        try:
            builder.initial()
            server.state.update(state="idle", message="", bump=True)
        except HlmError as err:
            log(f"build failed:\n{err}")
            server.state.update(state="error", message=str(err))
        log(f"watching {', '.join(rel(p, root) for p in loop.watcher.paths)}")
        loop.run()
    except KeyboardInterrupt:
        pass
    finally:
        log("stopping")
        builder.close()
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
