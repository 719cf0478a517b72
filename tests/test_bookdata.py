"""hlm.bookdata: a chapter reads only what its front matter declares."""
from __future__ import annotations

import pytest

from hlm.bookdata import (BookData, MissingArtifact, UndeclaredArtifact, attribute, code, declared_inputs, md,
                          num, pval)


def test_declared_inputs(tmp_path):
    qmd = tmp_path / "ch.qmd"
    qmd.write_text("---\nhlm:\n  fits: [oneway]\n  tables: [students.parquet]\n---\n\n# T {#sec-t}\n")
    assert declared_inputs(qmd) == {"fits": ["oneway"], "figures": [], "tables": ["students.parquet"],
                                  "lab": []}


def test_undeclared_artifact_refused(hsb40, config):
    book = BookData(profile=hsb40, config=config, declared={"fits": ["oneway"], "figures": [], "tables": [],
                                                                 "lab": []})
    with pytest.raises(UndeclaredArtifact, match="front matter"):
        book.fit("ancova")
    with pytest.raises(UndeclaredArtifact, match="tables"):
        book.students()


def test_figure_markdown_and_absent_role(hsb40, config, tmp_path, monkeypatch):
    import dataclasses
    (tmp_path / "figures" / "hsb40").mkdir(parents=True)
    (tmp_path / "figures" / "hsb40" / "trellis.svg").write_text("<svg/>")
    monkeypatch.chdir(tmp_path)
    book = BookData(profile=hsb40, config=config, root=tmp_path)
    md = book.figure("trellis")
    assert md.startswith("![") and "figures/hsb40/trellis.svg" in md
    # the label, then the alt text (Quarto's fig-alt), which describes the image, not the caption again
    assert md.endswith('{#fig-trellis fig-alt="Grid of small scatterplots, one per school, titled with the school '
                       'id and coloured by sector: math achievement up, SES across, and a short black line '
                       'through each panel\'s points."}')
    nosex = dataclasses.replace(hsb40, roles={k: v for k, v in hsb40.roles.items() if k != "sex"})
    assert "no sex role" in BookData(profile=nosex, config=config).figure("trellis_sex")


def test_figure_alt_text_is_a_quoted_attribute():
    """Quotes and backslashes in an alt text are escaped as pandoc and Quarto read them back."""
    import json
    import subprocess

    from hlm.book.pandoc import pandoc_path
    text = 'a "quoted" word, a back\\slash {braces} and it\'s\n  two lines'
    assert attribute(text) == '"a \\"quoted\\" word, a back\\\\slash {braces} and it\'s two lines"'
    out = subprocess.run([pandoc_path(), "-f", "markdown", "-t", "json"], capture_output=True, check=True,
                         input=f"![Cap](x.svg){{#fig-x fig-alt={attribute(text)}}}".encode()).stdout
    figure = json.loads(out)["blocks"][0]
    image = figure["c"][2][0]["c"][0]
    assert figure["c"][0][0] == "fig-x"
    assert dict(image["c"][0][2]) == {"fig-alt": " ".join(text.split())}


def test_number_formats():
    assert num(-1.23456, 2) == "\u22121.23" and num(1977, 0) == "1,977" and num(None) == "NA"
    assert num(-0.001, 2) == "0.00" and num(-0.0, 1) == "0.0" and num(-0.006, 2) == "\u22120.01"  # no signed zero
    assert pval(1e-7) == "< 0.0001" and pval(0.0146) == "0.0146"


def test_reading_a_failed_fit_names_the_model_and_error(hsb40, config, tmp_path):
    import json
    from hlm.errors import HlmError
    fits = tmp_path / "data" / "fits" / "hsb40"
    fits.mkdir(parents=True)
    from tests.records_fakes import minimal
    (fits / "random_coef.json").write_text(json.dumps(
        minimal("fit", model="random_coef", kind="lmm", error="ModelError: too few rows")))
    book = BookData(profile=hsb40, config=config, root=tmp_path)
    rec = book.fit("random_coef")
    assert rec["error"].startswith("ModelError")  # the record itself stays readable
    with pytest.raises(HlmError, match="model 'random_coef', which could not be fitted.*too few rows"):
        rec["fixef"]


def test_missing_artifact_says_what_to_run(hsb40, hsb160, config, tmp_path):
    """Under a plain `quarto render` before `make book`: which file, and the command."""
    assert config["dataset"] == "hsb40"
    book = BookData(profile=hsb40, config=config, root=tmp_path)
    with pytest.raises(MissingArtifact, match=r"data/fits/hsb40/oneway.json is not built.*run `make book` at"):
        book.fit("oneway")
    with pytest.raises(MissingArtifact, match=r"figures/hsb40/trellis.svg is not built"):
        book.figure("trellis")
    other = BookData(profile=hsb160, config=config, root=tmp_path)
    with pytest.raises(MissingArtifact, match=r"students.parquet is not built.*`make book DATASET=hsb160`"):
        other.students()


def test_markdown_values_keep_their_type_through_helpers():
    """An inline expression shows a str literally and Markdown formatted (as Quarto does)."""
    assert code("SES") == "`SES`" and code("SES")._repr_markdown_() == "`SES`"
    assert md("*a*")._repr_markdown_() == "*a*"
    assert not hasattr(f"x {code('SES')}", "_repr_markdown_")  # f-strings make plain text: wrap in md()


def test_shown_names_once_a_chapter_has_loaded_its_dataset(hsb40, config, monkeypatch):
    import json
    import hlm.bookdata as bookdata
    monkeypatch.setattr(bookdata, "_CURRENT", None)
    assert bookdata.shown_names() == "{}"  # books that read no dataset show code as written
    monkeypatch.setattr(bookdata, "_CURRENT", BookData(profile=hsb40, config=config))
    names = json.loads(bookdata.shown_names())
    assert names["P.x"] == names["profile.x"] == "SES" and names["P.cluster"] == "School"
    assert names["P.cvar_x"] == "cvar_SES" and names["P.w_term"] == "SectorPublic"
    assert names["P.female"] == "Female" and names["P.schools"] == "data/raw/hsb_schools.csv"
    block = bookdata.code_shown('tab(s, P.sex, P.w)\n')
    assert block == '```python\ntab(s, "Sex", "Sector")\n```\n' and block._repr_markdown_() == block


from _fixtures_models import students40  # noqa: F401,E402


def _growth_profile(sex_role: bool):
    from hlm.config import get_profile
    roles = {"y": {"column": "distance"}, "x": {"column": "age"},
             "w": {"column": "Sex", "label": "sex", "reference": "Female"}}
    if sex_role:
        roles["sex"] = {"column": "Sex", "female": "Female"}
    cfg = {"dataset": "g", "datasets": {"g": {"students": "u.csv", "schools": "c.csv", "cluster": "child",
                                              "cluster_label": {"one": "child", "many": "children"},
                                              "unit_label": "measurement", "sample": "all", "roles": roles}}}
    return get_profile(cfg)


def test_sex_place_says_where_the_data_hold_sex(hsb40, students40):
    import pandas as pd
    from hlm.bookdata import sex_note, sex_place
    s = pd.DataFrame({"child": ["a", "a", "b", "b"], "Sex": ["Female", "Female", "Male", "Male"]})
    for sex_role in (True, False):  # a role used twice (sex as w), or w labelled sex
        p = _growth_profile(sex_role)
        assert sex_place(p, s) == "w"
        note = sex_note(p, s, "the table by sex")
        assert "sex is the child-level variable" in note and "no sex role" not in note
    assert sex_place(hsb40, students40) == "unit" and sex_note(hsb40, students40, "x") == ""


def test_input_files_never_show_a_machine_path(tmp_path):
    from hlm.bookdata import input_file, project_path
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "u.csv").write_text("a\n1\n")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("a\n1\n")
    assert project_path(root / "data" / "u.csv", root) == "data/u.csv"
    assert input_file(root / "data" / "u.csv", root) == "`data/u.csv`"
    text = input_file(outside, root)
    assert str(tmp_path) not in text and text.startswith("`elsewhere.csv` (SHA-256 `")
    assert project_path(outside, root) is None


def test_notes_data_only_for_the_notes_survey(hsb40, hsb160, config):
    from hlm.bookdata import BookData, notes_data
    from hlm.config import ROOT
    assert notes_data(BookData(profile=hsb40, config=config, root=ROOT))
    assert notes_data(BookData(profile=hsb160, config=config, root=ROOT))  # the same survey
    assert not notes_data(BookData(profile=_growth_profile(True), config=config, root=ROOT))
