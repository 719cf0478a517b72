"""What a figure draws, read back from its matplotlib artists, and compared with a tolerance.

An SVG's bytes are a promise of one machine's rebuilds only: matplotlib names its clip paths
after a hash of the axes transform, so the last binary digits of a fit (which differ between
BLAS builds) change the file while nothing a reader sees changes. :func:`read` instead lists
what the figure shows, per axes: its limits, where lines, markers, collections, patches and
texts are, in the axes' own fraction (0..1 across the axes, whatever the data units), their
styles, and every string (tick labels, titles, axis labels, legends) as it is.
:func:`compare` then allows ``TOL`` of the axes (or of the figure, for positions in the
figure): far below a pixel, far above floating-point noise.

Coordinates are stored rounded to ``DIGITS`` decimals (a hundredth of ``TOL``), only to keep
the reference short; equality is always decided by the tolerance, never by the rounding, so a
value sitting on a rounding boundary does not flake.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from matplotlib.transforms import IdentityTransform

from hlm.figures._base import STYLE

# A 6.5 in figure is 650 px wide at the figure's dpi (1,300 px in the PNG at 200 dpi): 1e-4 of an
# axes is under 0.1 px, while a fit perturbed in its 10th significant digit moves a mark by
# ~1e-9 of the axes.
TOL = 1e-4
DIGITS = 6
LIMITS = ("xlim", "ylim")  # data units: compared relative to the axis range


def _r(v, digits=DIGITS):
    """A number for the record: float rounded to `digits` decimals, None for NaN/inf."""
    v = float(v)
    return round(v, digits) if math.isfinite(v) else None


def _pts(xy, digits=DIGITS):
    return [[_r(x, digits), _r(y, digits)] for x, y in np.asarray(xy, float).reshape(-1, 2)]


def _limits(lo, hi):
    """Axis limits in data units, rounded to under 5e-7 of the range."""
    span = abs(hi - lo) or abs(lo) or 1.0
    digits = DIGITS + 1 - math.ceil(math.log10(span))
    return [_r(lo, digits), _r(hi, digits)]


def _color(c):
    return "none" if isinstance(c, str) and c.lower() == "none" else to_hex(c, keep_alpha=True)


def _colors(arr):
    """Colours of a collection: one if all alike, else one per element."""
    hexes = [to_hex(c, keep_alpha=True) for c in np.atleast_2d(arr)] if len(arr) else []
    return hexes[0] if len(set(hexes)) == 1 else hexes


def _to_axes(transform, ax):
    """From an artist's coordinates to the fraction of axes `ax` (0..1 inside it)."""
    return transform - ax.transAxes


def _text(t, ax=None, fig=None):
    """A Text: its string, where its anchor is (axes or figure fraction) and how it is set."""
    frame = ax.transAxes if ax is not None else fig.transFigure
    pos = (t.get_transform() - frame).transform(t.get_unitless_position())
    rec = {"text": t.get_text(), "at": _pts(pos)[0], "ha": t.get_horizontalalignment(),
           "va": t.get_verticalalignment(), "rotation": _r(t.get_rotation()),
           "size": _r(t.get_fontsize()), "color": _color(t.get_color()), "weight": str(t.get_fontweight())}
    if isinstance(t, Annotation):  # the point it annotates, and its arrow
        xy = frame.inverted().transform(t._get_position_xy(None))
        rec["xy"] = _pts(xy)[0]
        rec["arrow"] = t.arrow_patch is not None
    if t.get_bbox_patch() is not None:
        rec["box"] = _color(t.get_bbox_patch().get_facecolor())
    return rec


def _label(artist):
    """An artist's label if it has one (matplotlib names the others "_child<n>")."""
    label = artist.get_label()
    return None if not label or label.startswith("_") else label


def _line(ln, ax):
    xy = _to_axes(ln.get_transform(), ax).transform(ln.get_xydata()) if len(ln.get_xydata()) else []
    return {"label": _label(ln), "xy": _pts(xy), "color": _color(ln.get_color()),
            "linestyle": ln.get_linestyle(), "linewidth": _r(ln.get_linewidth()),
            "drawstyle": ln.get_drawstyle(), "marker": str(ln.get_marker()),
            "markersize": _r(ln.get_markersize()), "mfc": _color(ln.get_markerfacecolor()),
            "mec": _color(ln.get_markeredgecolor()), "alpha": None if ln.get_alpha() is None else _r(ln.get_alpha()),
            "zorder": _r(ln.get_zorder())}


def _collection(c, ax):
    rec = {"type": type(c).__name__, "label": _label(c)}
    offsets = np.asarray(c.get_offsets(), float)
    if len(offsets) and np.any(offsets):
        rec["offsets"] = _pts(_to_axes(c.get_offset_transform(), ax).transform(offsets))
    markers = isinstance(c.get_transform(), IdentityTransform)  # shapes in points around each offset
    path_to = None if markers else _to_axes(c.get_transform(), ax)
    rec["paths"] = [_pts(p.vertices if markers else path_to.transform(p.vertices)) for p in c.get_paths()]
    if hasattr(c, "get_sizes") and len(c.get_sizes()):
        rec["sizes"] = [_r(s) for s in c.get_sizes()]
    if c.get_array() is not None:
        rec["array"] = [_r(v) for v in np.ravel(c.get_array())]
    rec.update(facecolor=_colors(c.get_facecolor()), edgecolor=_colors(c.get_edgecolor()),
               linewidth=[_r(w) for w in np.atleast_1d(c.get_linewidth())],
               alpha=None if c.get_alpha() is None else _r(c.get_alpha()), zorder=_r(c.get_zorder()))
    return rec


def _patch(p, ax):
    verts = _to_axes(p.get_transform(), ax).transform(p.get_path().vertices)
    return {"type": type(p).__name__, "label": _label(p), "vertices": _pts(verts),
            "facecolor": _color(p.get_facecolor()), "edgecolor": _color(p.get_edgecolor()),
            "linewidth": _r(p.get_linewidth()), "linestyle": str(p.get_linestyle()), "zorder": _r(p.get_zorder())}


def _ticks(ax, axis):
    """(position along the axis as a fraction of it, label) of every tick label drawn.

    The ticks drawn are those matplotlib draws (Axis._update_ticks: inside the view limits);
    ``get_xticklabels`` also lists the located ticks just outside them."""
    to_axes = (ax.get_xaxis_transform() if axis == "x" else ax.get_yaxis_transform()) - ax.transAxes
    along = 0 if axis == "x" else 1
    out = []
    for tick in getattr(ax, f"{axis}axis")._update_ticks():
        loc = tick.get_loc()
        at = to_axes.transform([(loc, 0) if axis == "x" else (0, loc)])[0][along]
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text():
                out.append([_r(at), label.get_text()])
    return out


def _legend(leg, frame):
    """Entries (text and the look of their handle), title and where the legend's box is."""
    box = leg.get_window_extent().transformed(frame.inverted())
    entries = []
    for text, handle in zip(leg.get_texts(), leg.legend_handles):
        h = {"type": type(handle).__name__}
        for prop in ("color", "facecolor", "edgecolor"):
            get = getattr(handle, f"get_{prop}", None)
            if get is not None:
                v = get()
                h[prop] = _colors(v) if isinstance(v, np.ndarray) and v.ndim == 2 else _color(v)
        for prop in ("marker", "linestyle"):
            get = getattr(handle, f"get_{prop}", None)
            if get is not None:
                h[prop] = str(get())
        entries.append({"text": text.get_text(), "handle": h})
    return {"title": leg.get_title().get_text(), "entries": entries,
            "box": _pts([[box.x0, box.y0], [box.x1, box.y1]])}


def _axes(ax):
    if not ax.get_visible():
        return {"visible": False}
    pos = ax.get_position()
    rec = {"visible": True, "position": _pts([[pos.x0, pos.y0], [pos.x1, pos.y1]]),
           "xscale": ax.get_xscale(), "yscale": ax.get_yscale(),
           "xlim": _limits(*ax.get_xlim()), "ylim": _limits(*ax.get_ylim()),
           "title": {loc: ax.get_title(loc=loc) for loc in ("left", "center", "right") if ax.get_title(loc=loc)},
           "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
           "xticks": _ticks(ax, "x"), "yticks": _ticks(ax, "y"),
           "spines": sorted(k for k, s in ax.spines.items() if s.get_visible()),
           "lines": [_line(ln, ax) for ln in ax.lines if ln.get_visible()],
           "collections": [_collection(c, ax) for c in ax.collections if c.get_visible()],
           "patches": [_patch(p, ax) for p in ax.patches if p.get_visible()],
           "texts": [_text(t, ax=ax) for t in ax.texts if t.get_visible()],
           "images": [{"extent": [_r(v) for v in im.get_extent()], "shape": list(np.shape(im.get_array()))}
                      for im in ax.images if im.get_visible()]}
    leg = ax.get_legend()
    if leg is not None and leg.get_visible():
        rec["legend"] = _legend(leg, ax.transAxes)
    return rec


def read(fig: Figure) -> dict:
    """What `fig` draws (see the module's docstring), laid out as when it is saved.

    Positions of axes, figure texts and figure legends are fractions of the figure; everything
    inside an axes is a fraction of that axes, except its limits (data units)."""
    with mpl.rc_context(fname=str(STYLE)):  # as save_figure draws it: tick labels are formatted now
        fig.draw_without_rendering()
        supers = {k: getattr(fig, f"get_{k}")() for k in ("suptitle", "supxlabel", "supylabel")}
        return {"size": [_r(v) for v in fig.get_size_inches()],
                **{k: v for k, v in supers.items() if v},
                "texts": [_text(t, fig=fig) for t in fig.texts if t.get_visible()],
                "legends": [_legend(leg, fig.transFigure) for leg in fig.legends if leg.get_visible()],
                "axes": [_axes(ax) for ax in fig.axes]}


# ------------------------------------------------------------------ comparing

def differences(expected, actual, tol: float = TOL, path: str = "", _span: float | None = None) -> list[str]:
    """Where `actual` differs from `expected` by more than `tol` (strings, flags, lengths and keys
    exactly), as readable lines ``path: expected != actual``, in drawing order.

    Numbers may differ by `tol`; axis limits (``xlim``, ``ylim``, in data units) by `tol` of the
    axis range."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for k in sorted(set(expected) | set(actual), key=list({**expected, **actual}).index):
            sub = f"{path}.{k}" if path else str(k)
            if k not in actual:
                out.append(f"{sub}: missing (expected {_short(expected[k])})")
            elif k not in expected:
                out.append(f"{sub}: not expected (drawn {_short(actual[k])})")
            else:
                span = None
                if k in LIMITS and _numbers(expected[k]) and len(expected[k]) == 2:
                    span = abs(expected[k][1] - expected[k][0]) or 1.0
                out += differences(expected[k], actual[k], tol, sub, span)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(actual)} items drawn, {len(expected)} expected"]
        if _numbers(expected) and _numbers(actual):  # a point or a short vector: one line
            bad = [_far(e, a, tol * (_span or 1.0)) for e, a in zip(expected, actual)]
            return [f"{path}: {_short(expected)} != {_short(actual)}"] if any(bad) else []
        return [d for i, (e, a) in enumerate(zip(expected, actual))
                for d in differences(e, a, tol, f"{path}[{i}]{_name(e)}", _span)]
    if _numbers([expected]) and _numbers([actual]):
        return [f"{path}: {expected!r} != {actual!r}"] if _far(expected, actual, tol * (_span or 1.0)) else []
    return [] if expected == actual and type(expected) is type(actual) else [f"{path}: {expected!r} != {actual!r}"]


def _name(item) -> str:
    """How a listed artist reads in a path: its label, text or axes title, if it has one."""
    if not isinstance(item, dict):
        return ""
    title = item.get("title")
    name = item.get("label") or item.get("text") or (title.get("center") if isinstance(title, dict) else None)
    return f"({name})" if name else ""


def _numbers(values) -> bool:
    return all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values)


def _far(e, a, tol) -> bool:
    if e is None or a is None:
        return (e is None) != (a is None)
    return abs(e - a) > tol


def _short(v, n=80):
    s = json.dumps(v)
    return s if len(s) <= n else s[: n - 3] + "..."


def compare(expected: dict, actual: dict, tol: float = TOL, name: str = "", show: int = 12) -> None:
    """Fail (AssertionError) listing the first `show` differences, if there are any."""
    diffs = differences(expected, actual, tol, name)
    if diffs:
        more = f"\n... and {len(diffs) - show} more" if len(diffs) > show else ""
        raise AssertionError(f"{len(diffs)} differences in what {name or 'the figure'} draws "
                             f"(tolerance {tol:g} of the axes):\n" + "\n".join(diffs[:show]) + more)


# ------------------------------------------------------------------ the reference file

def dumps(obj) -> str:
    """JSON with one line per point list or small record, so a changed figure reads as a short diff."""
    def enc(o, ind):
        if isinstance(o, dict):
            flat = json.dumps(o, ensure_ascii=False)
            if len(flat) <= 100:
                return flat
            pad = " " * (ind + 1)
            return "{\n" + ",\n".join(f"{pad}{json.dumps(k)}: {enc(v, ind + 1)}" for k, v in o.items()) \
                + "\n" + " " * ind + "}"
        if isinstance(o, list):
            if _flat(o):
                return json.dumps(o, ensure_ascii=False)
            pad = " " * (ind + 1)
            return "[\n" + ",\n".join(pad + enc(v, ind + 1) for v in o) + "\n" + " " * ind + "]"
        return json.dumps(o, ensure_ascii=False)
    return enc(obj, 0) + "\n"


def _flat(o) -> bool:
    """A list of scalars or of scalar lists (points): written on one line."""
    return isinstance(o, list) and all(not isinstance(v, (dict, list)) or
                                       (isinstance(v, list) and all(not isinstance(u, (dict, list)) for u in v))
                                       for v in o)


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(path: Path, drawings: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(dumps({"matplotlib": mpl.__version__, "figures": drawings}), encoding="utf-8")
