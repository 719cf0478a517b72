"""Shared fixtures of the book tests: the fixture book, executed and rendered once per
test run (tests/fixtures/shared.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.fixtures.shared import once

sys.path.insert(0, str(Path(__file__).parent))

from book_helpers import DATASET, copy_fixture, execute_all  # noqa: E402


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The fixture book executed and rendered by the built-in renderer. Tests must not change it."""
    from hlm.bookjob import render_book

    def build(folder):
        root = copy_fixture(folder / "fixture")
        execute_all(root)
        render_book(DATASET, root=root, renderer="builtin")

    root = once(tmp_path_factory, "fixture-book", build) / "fixture"
    return {"root": root, "build": root / "build" / DATASET / "book", "out": root / "_book" / DATASET}
