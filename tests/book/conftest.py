"""Shared fixtures of the book tests: the fixture book, executed and rendered once."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from book_helpers import DATASET, copy_fixture, execute_all  # noqa: E402


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The fixture book executed and rendered by the built-in renderer."""
    from hlm.bookjob import render_book

    root = copy_fixture(tmp_path_factory.mktemp("book") / "fixture")
    build = execute_all(root)
    result = render_book(DATASET, root=root, renderer="builtin")
    return {"root": root, "build": build, "out": root / "_book" / DATASET, **result}
