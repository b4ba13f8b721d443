"""Server-side SVG charts: pure functions from figures to markup, no JavaScript and no build step.

Every chart is a ``<figure>`` holding an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (what the
chart shows, in words) and, after it, the same figures as a table in a ``<details>`` element, so a screen
reader, a keyboard user or anyone who would rather read than look has every number. Colours meet WCAG AA
against white (4.5:1, so they may colour text too) and never carry meaning alone: series differ by dash
pattern and marker shape (lines) or by hatching (bars), and are labelled. Charts draw in a ``viewBox`` and
scale to the width of their container (a phone's 390 px included).

Every element goes through :func:`el`, which escapes attribute values and text: labels may be student names
or titles. The output is well-formed XML.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

# Stroke and fill colours, each >= 4.5:1 on white.
PALETTE = ("#1f5f8b", "#b45309", "#15803d", "#7e22ce", "#be123c", "#334155")
DASHES = ("", "6 4", "2 3", "10 3 2 3", "1 2", "8 2")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square")
HATCHES = ("solid", "diagonal", "dots", "cross", "horizontal", "vertical")
AXIS = "#4f5966"
GRID = "#d5dae1"

WIDTH = 560
HEIGHT = 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 16, 16, 44
PLOT_H = HEIGHT - PAD_TOP - PAD_BOTTOM
BASE = PAD_TOP + PLOT_H
LABEL_CHAR_W, LABEL_GAP = 7.5, 8  # an axis label's width per character and the space between two labels

_ids = itertools.count(1)


def el(tag: str, *children: Markup | str, **attrs: object) -> Markup:
    """``<tag attrs>children</tag>`` (``<tag/>`` when empty). Attribute names: ``_`` becomes ``-`` and a
    trailing ``_`` is dropped (``class_``); ``None`` values are left out. Strings among the children are
    escaped; Markup is kept."""
    attr = Markup("").join(
        Markup(' {}="{}"').format(k.rstrip("_").replace("_", "-"), v) for k, v in attrs.items() if v is not None
    )
    if not children:
        return Markup("<{}{}/>").format(tag, attr)
    return Markup("<{}{}>{}</{}>").format(tag, attr, Markup("").join(escape(c) for c in children), tag)


def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per x position; None: no figure there (a gap in a line)


@dataclass(frozen=True)
class Chart:
    """A chart's parts; ``{{ chart }}`` in a template is the whole figure."""

    svg: Markup
    table: Markup
    caption: str

    def __html__(self) -> str:
        return str(
            el("figure", self.svg, el("figcaption", self.caption, class_="chart__caption"), self.table, class_="chart")
        )

    def __str__(self) -> str:
        return self.__html__()


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{text}{unit}"


def nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above ``value`` (an axis top people can
    read); 1 for 0."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if step * magnitude >= value)


_HATCH_PATHS = {
    "diagonal": "M0 8L8 0M-2 2L2 -2M6 10L10 6",
    "cross": "M0 4H8M4 0V8",
    "horizontal": "M0 2H8M0 6H8",
    "vertical": "M2 0V8M6 0V8",
}


def _defs() -> Markup:
    """Hatching patterns for bars (one per series), so stacked parts differ without colour."""
    patterns = []
    for i, (colour, hatch) in enumerate(zip(PALETTE, HATCHES, strict=True)):
        if hatch == "solid":
            body = el("rect", width=8, height=8, fill=colour)
        else:
            body = el("rect", width=8, height=8, fill=colour, fill_opacity="0.3")
            if hatch == "dots":
                body += el("circle", cx=4, cy=4, r=2, fill=colour)
            else:
                body += el("path", d=_HATCH_PATHS[hatch], stroke=colour, stroke_width="1.8")
        patterns.append(el("pattern", body, id=f"hatch-{i}", width=8, height=8, patternUnits="userSpaceOnUse"))
    return el("defs", *patterns)


def _marker(kind: str, x: float, y: float, colour: str) -> Markup:
    if kind == "square":
        return el("rect", x=_n(x - 3.5), y=_n(y - 3.5), width=7, height=7, fill=colour)
    if kind == "diamond":
        return el(
            "path",
            d=f"M{_n(x)} {_n(y - 4.5)}L{_n(x + 4.5)} {_n(y)}L{_n(x)} {_n(y + 4.5)}L{_n(x - 4.5)} {_n(y)}Z",
            fill=colour,
        )
    if kind == "triangle":
        return el(
            "path", d=f"M{_n(x)} {_n(y - 4.5)}L{_n(x + 4.5)} {_n(y + 3.5)}L{_n(x - 4.5)} {_n(y + 3.5)}Z", fill=colour
        )
    return el("circle", cx=_n(x), cy=_n(y), r="3.5", fill=colour)


def _svg(title: str, desc: str, kind: str, parts: Iterable[Markup], *, height: int = HEIGHT) -> Markup:
    tid, did = f"chart-t{next(_ids)}", f"chart-d{next(_ids)}"
    return el(
        "svg",
        el("title", title, id=tid),
        el("desc", desc, id=did),
        *parts,
        xmlns="http://www.w3.org/2000/svg",
        class_=f"chart__svg chart__svg--{kind}",
        viewBox=f"0 0 {WIDTH} {height}",
        role="img",
        aria_labelledby=f"{tid} {did}",
        font_family="system-ui, sans-serif",
        font_size=14,
    )


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> Markup:
    thead = el("thead", el("tr", *(el("th", h, scope="col") for h in head)))
    tbody = el("tbody", *(el("tr", el("th", r[0], scope="row"), *(el("td", c) for c in r[1:])) for r in rows))
    table = el("table", el("caption", caption), thead, tbody, class_="table")
    return el(
        "details",
        el("summary", "Show the figures as a table"),
        el("div", table, class_="table-wrap"),
        class_="chart__data",
    )


def _axis(top: float, x_labels: Sequence[str], step_x: float, x0: float, unit: str, label_every: int) -> list[Markup]:
    out = []
    for i in range(5):
        tick = top * i / 4
        y = BASE - PLOT_H * tick / top
        out.append(el("line", x1=PAD_LEFT, x2=WIDTH - PAD_RIGHT, y1=_n(y), y2=_n(y), stroke=GRID))
        out.append(el("text", fmt(tick, unit), x=PAD_LEFT - 6, y=_n(y + 4), text_anchor="end", fill=AXIS))
    out.append(el("line", x1=PAD_LEFT, x2=WIDTH - PAD_RIGHT, y1=BASE, y2=BASE, stroke=AXIS))
    # labels never overlap: every k-th one, k from the longest label's width (~7.5 units a character at 14 px)
    need = max((len(label) for label in x_labels), default=0) * LABEL_CHAR_W + LABEL_GAP
    every = max(label_every, math.ceil(need / step_x)) if step_x > 0 else label_every
    last = len(x_labels) - 1
    for i, label in enumerate(x_labels):
        if i % every == 0 or (i == last and (i - i // every * every) * step_x >= need):
            out.append(el("text", label, x=_n(x0 + i * step_x), y=BASE + 16, text_anchor="middle", fill=AXIS))
    return out


def _empty(title: str, desc: str, kind: str, message: str) -> Chart:
    text = el("text", message, x=WIDTH // 2, y=44, text_anchor="middle", fill=AXIS)
    return Chart(svg=_svg(title, f"{desc} {message}", kind, [text], height=80), table=Markup(""), caption=title)


def _legend(series: Sequence[Series], *, bars: bool) -> list[Markup]:
    out, x, y = [], PAD_LEFT, HEIGHT - 10
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        if bars:
            out.append(
                el("rect", x=x, y=y - 9, width=12, height=12, fill=f"url(#hatch-{i % len(HATCHES)})", stroke=colour)
            )
        else:
            out.append(
                el(
                    "line",
                    x1=x,
                    x2=x + 18,
                    y1=y - 3,
                    y2=y - 3,
                    stroke=colour,
                    stroke_width="2.5",
                    stroke_dasharray=DASHES[i % len(DASHES)] or None,
                )
            )
            out.append(_marker(MARKERS[i % len(MARKERS)], x + 9, y - 3, colour))
        out.append(el("text", s.label, x=x + 22, y=y + 1, fill=colour))
        x += 36 + 8 * len(s.label)
    return out


def line_chart(
    *,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    y_max: float | None = None,
) -> Chart:
    """Lines over ``x_labels`` (days, weeks); ``None`` values leave a gap. ``y_max`` fixes the axis top
    (reflection scores: 20); otherwise it is the next readable number above the largest value."""
    values = [v for s in series for v in s.values if v is not None]
    if not x_labels or not values:
        return _empty(title, desc, "line", "No figures yet.")
    top = y_max if y_max is not None else nice_max(max(values))
    step = (WIDTH - PAD_LEFT - PAD_RIGHT - 20) / max(1, len(x_labels) - 1)
    x0 = PAD_LEFT + 10
    parts = _axis(top, x_labels, step, x0, unit, max(1, -(-len(x_labels) // 7)))
    for i, s in enumerate(series):
        colour, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
        runs: list[list[tuple[float, float]]] = [[]]
        for j, v in enumerate(s.values[: len(x_labels)]):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x0 + j * step, BASE - PLOT_H * min(max(v, 0), top) / top))
        shapes = []
        for run in runs:
            if len(run) > 1:
                d = "M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in run)
                shapes.append(
                    el(
                        "path",
                        d=d,
                        fill="none",
                        stroke=colour,
                        stroke_width="2.5",
                        stroke_dasharray=DASHES[i % len(DASHES)] or None,
                    )
                )
            shapes += [_marker(marker, x, y, colour) for x, y in run]
        parts.append(el("g", *shapes, class_="chart__series", data_series=s.label))
    parts += _legend(series, bars=False)
    rows = [
        [label, *(fmt(s.values[j] if j < len(s.values) else None, unit) for s in series)]
        for j, label in enumerate(x_labels)
    ]
    return Chart(_svg(title, desc, "line", parts), _table(title, ["", *(s.label for s in series)], rows), title)


def bar_chart(
    *,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    stacked: bool = True,
    unit: str = "",
    y_max: float | None = None,
) -> Chart:
    """Bars per category: stacked (parts of a whole: submitted / in progress / not started) or grouped."""
    if not categories or not series:
        return _empty(title, desc, "bar", "No figures yet.")
    vals = [[float(s.values[j] or 0) if j < len(s.values) else 0.0 for j in range(len(categories))] for s in series]
    sums = [sum(v[j] for v in vals) for j in range(len(categories))]
    top = y_max if y_max is not None else nice_max(max(sums) if stacked else max(max(v) for v in vals))
    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(categories)
    bar_w = slot * 0.6
    parts = [_defs(), *_axis(top, categories, slot, PAD_LEFT + slot / 2, unit, 1)]
    for j, category in enumerate(categories):
        left = PAD_LEFT + slot * j + (slot - bar_w) / 2
        stack = 0.0
        for i, s in enumerate(series):
            v = vals[i][j]
            h = PLOT_H * min(v, top) / top
            if stacked:
                x, y, w = left, BASE - PLOT_H * min(stack + v, top) / top, bar_w
                stack += v
            else:
                w = bar_w / len(series)
                x, y = left + i * w, BASE - h
            parts.append(
                el(
                    "rect",
                    el("title", f"{category}: {s.label} {fmt(v, unit)}"),
                    class_="chart__bar",
                    x=_n(x),
                    y=_n(y),
                    width=_n(w),
                    height=_n(h),
                    fill=f"url(#hatch-{i % len(HATCHES)})",
                    stroke=PALETTE[i % len(PALETTE)],
                    data_value=f"{v:g}",
                )
            )
    parts += _legend(series, bars=True)
    rows = [[c, *(fmt(vals[i][j], unit) for i in range(len(series)))] for j, c in enumerate(categories)]
    return Chart(_svg(title, desc, "bar", parts), _table(title, ["", *(s.label for s in series)], rows), title)


@dataclass(frozen=True)
class Day:
    day: date
    value: float  # words written that day (or any amount)
    minutes: float = 0.0
    href: str | None = None  # evidence: that day's history


def timeline(*, title: str, desc: str, days: Sequence[Day], unit: str = " words") -> Chart:
    """A student's writing timeline: one column per calendar day, the bar's height the amount written that day
    (days without writing stay visible as gaps). A day with writing links to its evidence when ``href`` is set;
    a day with active time but no net words gets a mark on the axis."""
    if not days or all(d.value <= 0 and d.minutes <= 0 for d in days):
        return _empty(title, desc, "timeline", "No writing recorded yet.")
    top = nice_max(max(d.value for d in days))
    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(days)
    bar_w = max(1.0, slot * 0.7)
    every = max(1, -(-len(days) // 7))
    parts = _axis(top, [f"{d.day:%d %b}" for d in days], slot, PAD_LEFT + slot / 2, "", every)
    for j, d in enumerate(days):
        h = PLOT_H * max(0.0, d.value) / top
        x = PAD_LEFT + slot * j + (slot - bar_w) / 2
        label = f"{d.day:%a %d %b}: {fmt(d.value, unit)}, {fmt(d.minutes)} min"
        mark = el(
            "rect",
            el("title", label),
            class_="chart__bar",
            x=_n(x),
            y=_n(BASE - h),
            width=_n(bar_w),
            height=_n(h),
            fill=PALETTE[0],
            data_value=f"{d.value:g}",
            data_day=d.day.isoformat(),
        )
        if d.minutes > 0 and h < 2:
            mark += el("rect", x=_n(x), y=BASE - 3, width=_n(bar_w), height=3, fill=PALETTE[1])
        if d.href and (d.value > 0 or d.minutes > 0):
            mark = el("a", mark, href=d.href, aria_label=label)
        parts.append(mark)
    rows = [[f"{d.day:%a %d %b %Y}", fmt(d.value, unit), fmt(d.minutes, " min")] for d in days if d.value or d.minutes]
    return Chart(_svg(title, desc, "timeline", parts), _table(title, ["Day", "Written", "Active time"], rows), title)


def sparkline(values: Sequence[float | None], *, label: str, width: int = 100, height: int = 24) -> Markup:
    """A word-sized line (in a table cell); ``label`` states the figures it draws, for screen readers."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    parts: list[Markup] = [el("title", label)]
    if points:
        top = max(v for _, v in points) or 1.0
        step = (width - 4) / max(1, len(values) - 1)
        coords = [(2 + i * step, height - 2 - (height - 4) * v / top) for i, v in points]
        d = "M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in coords)
        parts.append(el("path", d=d, fill="none", stroke=PALETTE[0], stroke_width="1.5"))
        parts.append(el("circle", cx=_n(coords[-1][0]), cy=_n(coords[-1][1]), r=2, fill=PALETTE[0]))
    return el(
        "svg",
        *parts,
        xmlns="http://www.w3.org/2000/svg",
        class_="sparkline",
        viewBox=f"0 0 {width} {height}",
        width=width,
        height=height,
        role="img",
        aria_label=label,
    )
