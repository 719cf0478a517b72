"""The drawing reader and its comparison (tests/figures/drawing.py), on small figures."""
import json

import pytest
from matplotlib.figure import Figure

import drawing


def _figure(y=5.0, label="SES", title="a school"):
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot([0, 5, 10], [0, y, 10], "o-", color="#0072B2", label="school line")
    ax.axhline(2.5, color="k", ls="--")
    ax.text(2.5, 7.5, "note")
    ax.set(xlim=(0, 10), ylim=(0, 10), xlabel=label, title=title)
    ax.legend()
    return fig


def test_what_an_axes_draws_is_read_in_its_own_fraction():
    ax = drawing.read(_figure())["axes"][0]
    line, hline = ax["lines"]
    assert line["xy"] == [[0, 0], [0.5, 0.5], [1, 1]] and line["marker"] == "o" and line["label"] == "school line"
    assert hline["xy"] == [[0, 0.25], [1, 0.25]] and hline["linestyle"] == "--" and hline["label"] is None
    assert ax["texts"][0]["text"] == "note" and ax["texts"][0]["at"] == [0.25, 0.75]
    assert ax["xlim"] == [0, 10] and ax["xlabel"] == "SES" and ax["title"] == {"center": "a school"}
    assert [t for _, t in ax["xticks"]] == ["0", "2", "4", "6", "8", "10"]  # only ticks inside the limits
    assert ax["xticks"][1][0] == pytest.approx(0.2)
    assert [e["text"] for e in ax["legend"]["entries"]] == ["school line"]


def test_the_same_figure_reads_the_same_and_survives_the_file():
    a, b = drawing.read(_figure()), drawing.read(_figure())
    assert drawing.differences(a, b, tol=0) == []
    assert drawing.differences(a, json.loads(drawing.dumps(a)), tol=0) == []


def test_a_move_below_the_tolerance_passes_and_above_fails():
    ref = drawing.read(_figure())
    assert drawing.differences(ref, drawing.read(_figure(y=5 + 5e-4))) == []  # 5e-5 of the axes
    diffs = drawing.differences(ref, drawing.read(_figure(y=5.01)), path="f")  # 1e-3 of the axes
    assert diffs == ["f.axes[0](a school).lines[0](school line).xy[1]: [0.5, 0.5] != [0.5, 0.501]"]


def test_values_either_side_of_a_rounding_boundary_are_equal():
    # 0.1234565 rounds to 0.123456 or 0.123457 depending on its last digits: equal all the same
    assert drawing.differences({"at": [0.123456]}, {"at": [0.123457]}) == []
    assert drawing.differences({"at": [0.1234]}, {"at": [0.1236]}) != []


def test_limits_are_compared_relative_to_the_axis_range():
    assert drawing.differences({"xlim": [0, 1000]}, {"xlim": [0.05, 1000]}) == []
    assert drawing.differences({"xlim": [0, 1000]}, {"xlim": [0.5, 1000]}) == ["xlim: [0, 1000] != [0.5, 1000]"]
    assert drawing.differences({"xlim": [0, 0.01]}, {"xlim": [0.00001, 0.01]}) != []


def test_strings_counts_and_keys_must_match():
    ref = drawing.read(_figure())
    assert drawing.differences(ref, drawing.read(_figure(label="SES (centred)"))) == [
        "axes[0](a school).xlabel: 'SES' != 'SES (centred)'"]
    fig = _figure()
    fig.axes[0].plot([1, 2], [3, 4])
    assert drawing.differences(ref, drawing.read(fig)) == ["axes[0](a school).lines: 3 items drawn, 2 expected"]
    assert drawing.differences({"a": 1}, {"b": 1}) == ["a: missing (expected 1)", "b: not expected (drawn 1)"]
    assert drawing.differences({"a": True}, {"a": 1}) == ["a: True != 1"]


def test_compare_reports_the_first_differences():
    with pytest.raises(AssertionError) as failed:
        drawing.compare({"t": [str(i) for i in range(20)]}, {"t": [f"{i}!" for i in range(20)]}, name="f", show=3)
    assert str(failed.value).splitlines() == [
        "20 differences in what f draws (tolerance 0.0001 of the axes):",
        "f.t[0]: '0' != '0!'", "f.t[1]: '1' != '1!'", "f.t[2]: '2' != '2!'", "... and 17 more"]
