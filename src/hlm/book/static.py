"""The built-in renderer's static files, shipped in `hlm/book/assets/`: the stylesheet,
the script, the typst preamble (the chapters never read them, so editing one reruns
only the book step)."""
from __future__ import annotations

from importlib import resources


def asset(name: str) -> str:
    """The text of `assets/<name>` (the stylesheet, the script, the typst preamble)."""
    return resources.files("hlm.book").joinpath("assets", name).read_text(encoding="utf-8")


def asset_bytes(name: str) -> bytes:
    """The bytes of `assets/<name>` (the math font)."""
    return resources.files("hlm.book").joinpath("assets", name).read_bytes()
