"""The SVG charts: well-formed, accessible (title, desc, data table), bars follow the data, labels escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from scribetree.web import charts
from scribetree.web.charts import Day, Series

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: object) -> ET.Element:
    """Our own output (never input from outside), so the stdlib parser is fine."""
    return ET.fromstring(str(markup))  # noqa: S314


def _svg(chart: charts.Chart) -> ET.Element:
    root = parse(chart.svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    return root


def _bars(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}rect") if e.get("class") == "chart__bar"]


class TestBarChart:
    def test_grouped_heights_follow_the_data(self) -> None:
        chart = charts.bar_chart(
            title="Words",
            desc="Words per stage.",
            categories=["A", "B", "C"],
            series=[Series("done", [10, 20, 40])],
            stacked=False,
        )
        bars = _bars(_svg(chart))
        heights = [float(b.get("height", "0")) for b in bars]
        assert [float(b.get("data-value", "0")) for b in bars] == [10, 20, 40]
        assert abs(heights[0] * 2 - heights[1]) < 0.2 and abs(heights[1] * 2 - heights[2]) < 0.2
        plot_h = charts.HEIGHT - charts.PAD_TOP - charts.PAD_BOTTOM
        assert abs(heights[2] - plot_h * 40 / 50) < 0.1  # the axis top is 50 (nice_max(40))

    def test_stacked_parts_sit_on_each_other(self) -> None:
        chart = charts.bar_chart(
            title="Stages",
            desc="Completion.",
            categories=["Draft"],
            series=[Series("Done", [3]), Series("Not yet", [7])],
            y_max=10,
        )
        done, rest = _bars(_svg(chart))
        assert float(done.get("height", "0")) * 7 == float(rest.get("height", "0")) * 3
        # the second part ends where the first begins
        assert abs(float(rest.get("y", "0")) + float(rest.get("height", "0")) - float(done.get("y", "0"))) < 0.2
        # not colour alone: each series has its own hatch pattern
        assert done.get("fill") != rest.get("fill")

    def test_table_has_every_figure(self) -> None:
        chart = charts.bar_chart(title="T", desc="D", categories=["x", "y"], series=[Series("s", [1, 2.5])])
        table = parse(chart.table)
        cells = [td.text for td in table.iter("td")]
        assert cells == ["1", "2.5"]


class TestLineChart:
    def test_points_rise_with_values_and_gaps_break_the_line(self) -> None:
        chart = charts.line_chart(
            title="Trend",
            desc="Scores.",
            x_labels=["w1", "w2", "w3", "w4"],
            series=[Series("score", [5, 10, None, 20])],
            y_max=20,
        )
        root = _svg(chart)
        group = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "chart__series")
        circles = list(group.iter(f"{SVG}circle"))
        ys = [float(c.get("cy", "0")) for c in circles]
        assert len(circles) == 3 and ys[0] > ys[1] > ys[2]  # higher value, higher on screen (smaller y)
        paths = [p for p in root.iter(f"{SVG}path") if p.get("fill") == "none"]
        assert len(paths) == 1  # w1-w2 joined; w4 alone after the gap

    def test_empty_data_says_so(self) -> None:
        chart = charts.line_chart(title="Trend", desc="Scores.", x_labels=["a"], series=[Series("s", [None])])
        root = _svg(chart)
        assert "No figures yet." in "".join(root.itertext())
        assert str(chart.table) == ""


class TestEscaping:
    def test_labels_are_escaped(self) -> None:
        evil = '<script>alert(1)</script> & "x"'
        chart = charts.bar_chart(title=evil, desc=evil, categories=[evil], series=[Series(evil, [1])])
        html = str(chart)
        assert "<script>" not in html
        root = _svg(chart)
        assert root.find(f"{SVG}title").text == evil  # type: ignore[union-attr]
        parse(chart.table)  # the table is well-formed too

    def test_sparkline_label(self) -> None:
        mark = charts.sparkline([1, None, 3], label="a < b")
        root = parse(mark)
        assert root.get("aria-label") == "a < b"
        assert parse(charts.sparkline([], label="none")).get("role") == "img"


class TestTimeline:
    def test_one_column_per_day_and_links(self) -> None:
        start = date(2026, 11, 1)
        days = [
            Day(start + timedelta(days=i), v, minutes=m, href=f"/d/{i}")
            for i, (v, m) in enumerate([(100, 20), (0, 0), (50, 10), (0, 5)])
        ]
        root = _svg(charts.timeline(title="Timeline", desc="Writing per day.", days=days))
        bars = _bars(root)
        assert [b.get("data-day") for b in bars] == [d.day.isoformat() for d in days]
        assert float(bars[0].get("height", "0")) == 2 * float(bars[2].get("height", "0"))
        links = [a.get("href") for a in root.iter(f"{SVG}a")]
        assert links == ["/d/0", "/d/2", "/d/3"]  # days with writing or active time only

    def test_no_writing(self) -> None:
        chart = charts.timeline(title="T", desc="D", days=[Day(date(2026, 1, 1), 0)])
        assert "No writing recorded yet." in str(chart)


def test_nice_max() -> None:
    assert [charts.nice_max(v) for v in (0, 1, 3, 7, 11, 40, 240, 1001)] == [1, 1, 5, 10, 20, 50, 250, 2000]
