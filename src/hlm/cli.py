"""`python -m hlm <command> ...`: the entry points that Snakemake rules call.

Each command is a function `run(argv: list[str]) -> int` in the module that owns
the concept; this file only dispatches, so rules stay thin and logic stays in
its module.
"""
from __future__ import annotations

import importlib
import sys
import time

from hlm.errors import HlmError

COMMANDS = {
    "merge": "hlm.data:run",
    "derive": "hlm.levels:run",
    "fit": "hlm.models:run_fit",
    "compare": "hlm.models:run_compare",
    "bootstrap-block": "hlm.bootstrap:run_block",
    "bootstrap": "hlm.bootstrap:run_merge",
    "influence-block": "hlm.influence:run_block",
    "influence": "hlm.influence:run_merge",
    "inference-hausman": "hlm.inference.hausman:run",
    "inference-r2": "hlm.inference.r2:run",
    "inference-profile": "hlm.inference.profile:run",
    "inference-satterthwaite": "hlm.inference.satterthwaite:run",
    "inference-ols": "hlm.inference.ols:run",
    "inference-samples": "hlm.inference.samples:run",
    "inference-stepwise": "hlm.inference.stepwise:run",
    "inference": "hlm.inference.merge:run",
    "figure": "hlm.figures:run",
    "reproduce": "hlm.reproduce:run",
    "chapter": "hlm.chapterjob:run",
    "book": "hlm.bookjob:run",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m hlm {{{','.join(COMMANDS)}}} ...", file=sys.stderr)
        return 2
    module, func = COMMANDS[argv[0]].split(":")
    start = time.perf_counter()
    progress(f"{' '.join(argv)}: started")
    run = getattr(importlib.import_module(module), func)
    try:
        code = int(run(argv[1:]) or 0)
    except HlmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    progress(f"{argv[0]}: done in {time.perf_counter() - start:.1f} s, peak memory {peak_memory_mib():.0f} MiB")
    return code


def peak_memory_mib() -> float:
    """The largest resident size of this process so far, in MiB (a job forked from the
    warm worker counts the worker's pages it shares, as `ps` does): the figure the
    benchmarks read from the steps' logs, which see every process of a build."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def progress(message: str) -> None:
    """One line on stderr (the step's log), flushed at once: if the process dies, its log
    still says what it was doing."""
    print(f"[hlm] {message}", file=sys.stderr, flush=True)
