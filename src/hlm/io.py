"""Atomic file output: a step either writes its whole file or leaves nothing behind.

JSON records are validated against their schema (hlm.records) when written and read with
``kind=``."""
from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _clean(obj: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return _clean(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: str | Path, obj: Any, kind: str | None = None) -> None:
    """Write `obj` as JSON, atomically; with `kind`, validate it first against that record
    schema (hlm.records), so that an invalid record is never written."""
    obj = _clean(obj)
    if kind is not None:
        from hlm.records import validate
        validate(kind, obj, where=path, writing=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def read_json(path: str | Path, kind: str | None = None) -> Any:
    """Read a JSON file; with `kind`, validate it against that record schema (hlm.records)
    and raise RecordError naming the file, the JSON path and the problem."""
    text = Path(path).read_text(encoding="utf-8")
    if kind is None:
        return json.loads(text)
    from hlm.errors import RecordError
    from hlm.records import validate
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise RecordError(f"{path} is not valid JSON ({err}); delete it and rebuild it (snakemake).") from err
    return validate(kind, obj, where=path)
