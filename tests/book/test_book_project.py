"""hlm.book.project: the chapter list of _quarto.yml; hlm.chapterjob: the chapters' `hlm:` artifacts."""
from __future__ import annotations

from pathlib import Path

import pytest

from hlm.book import BookError
from hlm.book.project import chapters, load
from hlm.chapterjob import chapter_artifacts
from book_helpers import FIXTURE


def test_chapters_in_reading_order_with_parts_and_appendices():
    assert chapters(FIXTURE / "_quarto.yml") == [
        Path("index.qmd"), Path("report/intro.qmd"),
        Path("report/models.qmd"), Path("report/appendix-data.qmd"),
    ]
    book = load(FIXTURE / "_quarto.yml")
    assert [(c.name, c.kind, c.part) for c in book.chapters] == [
        ("index", "index", None), ("intro", "chapter", "Basics"),
        ("models", "chapter", None), ("appendix-data", "appendix", None),
    ]
    assert book.title == "Fixture Book" and book.output_file == "fixture-book"
    assert book.author == ["Test Author"] and book.number_sections


def test_chapter_artifacts_map_to_pipeline_files():
    assert chapter_artifacts(FIXTURE / "report" / "intro.qmd", "hsb40") == [
        "figures/hsb40/demo_plot.svg", "data/processed/hsb40/schools.csv",
    ]
    assert chapter_artifacts(FIXTURE / "report" / "models.qmd", "hsb40") == []


def test_all_artifact_kinds(tmp_path):
    qmd = tmp_path / "x.qmd"
    qmd.write_text("---\nhlm:\n  fits: [oneway, ancova]\n  figures: quantile_plot\n"
                   "  tables: [students.parquet]\n---\n# X {#sec-x}\n")
    assert chapter_artifacts(qmd, "d") == [
        "data/fits/d/oneway.json", "data/fits/d/ancova.json", "figures/d/quantile_plot.svg",
        "data/processed/d/students.parquet",
    ]
    qmd.write_text("---\nhlm:\n  models: [oneway]\n---\n")
    with pytest.raises(BookError, match="unknown `hlm:` artifact kind 'models'"):
        chapter_artifacts(qmd, "d")


def test_duplicate_chapter_names_are_an_error(tmp_path):
    yml = tmp_path / "_quarto.yml"
    yml.write_text("book:\n  title: t\n  chapters: [index.qmd, a/x.qmd, b/x.qmd]\n")
    with pytest.raises(BookError, match="same name 'x'"):
        load(yml)


def test_not_a_book(tmp_path):
    yml = tmp_path / "_quarto.yml"
    yml.write_text("project:\n  type: website\n")
    with pytest.raises(BookError, match="not a Quarto book"):
        load(yml)
