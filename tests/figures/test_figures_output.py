"""Deterministic files and the `python -m hlm figure` command."""
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hlm.errors import DataError
from hlm.figures import render, run, save_figure
import hlm.figures.cli as figcli
from synth import fake_ols

SAMPLE = ["m3_manova", "ow_shrinkage", "trellis", "sim_V_ellipse", "quantile_plot"]


def _svg_png(name, inputs):
    svg, png = io.BytesIO(), io.BytesIO()
    save_figure(render(name, **inputs), svg=svg, png=png)
    return svg.getvalue(), png.getvalue()


@pytest.mark.parametrize("name", SAMPLE)
def test_same_inputs_give_byte_identical_files(name, inputs):
    a, b = _svg_png(name, inputs), _svg_png(name, inputs)
    assert a[0] == b[0]
    assert a[1] == b[1]
    assert b"Date" not in a[0] and b"Software" not in a[1]


def _write_dataset(root: Path, inputs, dataset="synth"):
    proc, fitdir = root / "data" / "processed" / dataset, root / "data" / "fits" / dataset
    proc.mkdir(parents=True)
    fitdir.mkdir(parents=True)
    inputs["students"].to_parquet(proc / "students.parquet", index=False)
    inputs["schools"].to_csv(proc / "schools.csv", index=False)
    for name, fit in inputs["fits"].items():  # fits, and Lab records (influence/<model>) in their folders
        (fitdir / f"{name}.json").parent.mkdir(parents=True, exist_ok=True)
        (fitdir / f"{name}.json").write_text(json.dumps(fit, default=float))


def _config(tmp_path, sex=True):
    roles = {"y": {"column": "MathAch", "label": "math achievement"}, "x": {"column": "SES", "label": "SES"},
             "w": {"column": "Sector", "label": "sector", "reference": "Catholic"}}
    if sex:
        roles["sex"] = {"column": "Sex", "female": "Female"}
    cfg = {"datasets": {"synth": {"students": "s.csv", "schools": "c.csv", "cluster": "School",
                                  "cluster_label": "school", "unit_label": "student",
                                  "sample": "all", "roles": roles}}}
    path = tmp_path / "synth.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_cli_writes_both_files_atomically(tmp_path, inputs, monkeypatch):
    _write_dataset(tmp_path, inputs)
    monkeypatch.setattr(figcli, "_root", lambda: tmp_path)
    out = tmp_path / "figures" / "synth"
    args = ["--dataset", "synth", "--name", "m3_diff", "--svg", str(out / "m3_diff.svg"),
            "--png", str(out / "m3_diff.png"), "--configfile", str(_config(tmp_path))]
    assert run(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["m3_diff.json", "m3_diff.png", "m3_diff.svg"]
    assert json.loads((out / "m3_diff.json").read_text()) == {"clusters": 8}  # for the caption
    first = [hashlib.sha256((out / f).read_bytes()).hexdigest() for f in ("m3_diff.svg", "m3_diff.png")]
    assert run(args) == 0
    assert first == [hashlib.sha256((out / f).read_bytes()).hexdigest() for f in ("m3_diff.svg", "m3_diff.png")]
    assert (out / "m3_diff.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_leaves_nothing_behind_when_an_input_is_missing(tmp_path, inputs, monkeypatch):
    _write_dataset(tmp_path, inputs)
    (tmp_path / "data" / "fits" / "synth" / "oneway.json").unlink()
    monkeypatch.setattr(figcli, "_root", lambda: tmp_path)
    out = tmp_path / "figures" / "synth"
    with pytest.raises(DataError, match="oneway.json"):
        run(["--dataset", "synth", "--name", "ow_shrinkage", "--svg", str(out / "a.svg"),
             "--png", str(out / "a.png"), "--configfile", str(_config(tmp_path))])
    assert not out.exists() or not any(out.iterdir())


def test_cli_leaves_nothing_behind_when_drawing_fails(tmp_path, inputs, monkeypatch):
    _write_dataset(tmp_path, inputs)
    (tmp_path / "data" / "fits" / "synth" / "pooled.json").write_text(json.dumps(fake_ols("pooled")))  # no lines
    monkeypatch.setattr(figcli, "_root", lambda: tmp_path)
    out = tmp_path / "figures" / "synth"
    out.mkdir(parents=True)
    with pytest.raises(KeyError, match="no entry for level"):
        run(["--dataset", "synth", "--name", "m1_beta", "--svg", str(out / "a.svg"),
             "--png", str(out / "a.png"), "--configfile", str(_config(tmp_path))])
    assert list(out.iterdir()) == []


def test_cli_refuses_a_figure_needing_a_missing_role(tmp_path, inputs, monkeypatch):
    monkeypatch.setattr(figcli, "_root", lambda: tmp_path)
    with pytest.raises(DataError, match="sex"):
        run(["--dataset", "synth", "--name", "trellis_sex", "--svg", str(tmp_path / "a.svg"),
             "--png", str(tmp_path / "a.png"), "--configfile", str(_config(tmp_path, sex=False))])


def test_cli_draws_simulated_figures_from_the_units_table_alone(tmp_path, inputs, monkeypatch):
    # the simulated example follows the data's design (hlm.simulate.book_example): it reads the
    # unit table, and no fit
    _write_dataset(tmp_path, inputs)
    for fit in (tmp_path / "data" / "fits" / "synth").rglob("*.json"):
        fit.unlink()
    monkeypatch.setattr(figcli, "_root", lambda: tmp_path)
    args = ["--dataset", "synth", "--name", "sim_data", "--svg", str(tmp_path / "s.svg"),
            "--png", str(tmp_path / "s.png"), "--configfile", str(_config(tmp_path))]
    assert run(args) == 0 and (tmp_path / "s.svg").exists()
    assert json.loads((tmp_path / "s.json").read_text()) == {"clusters": 8}


def test_svg_is_identical_in_a_fresh_process(tmp_path):
    code = ("import sys; from hlm.figures import render, save_figure; "
            "save_figure(render('sim_ls_line'), svg=sys.argv[1])")
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    for name in ("a.svg", "b.svg"):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], check=True, env=env)
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
