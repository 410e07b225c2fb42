"""Server-side SVG charts: the geometry and the markup in Python (a template loop over hundreds of
shapes cost the page more than all its queries), framed by templates/dashboard/_chart.html.

No script and no style attribute (the Content-Security-Policy allows neither): shapes carry a
class, coloured by static/css/dashboard.css, which also turns them black and grey in print. The
SVG is an image with a name (role="img", its <title>); the including panel puts the numbers in a
table beside it for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# The drawing area inside the viewBox; text sits in the margins.
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28
TICKS = 4  # grid lines above zero


@dataclass(frozen=True)
class Series:
    """One kind of value in a chart: its key in the data, its label and its CSS class."""

    key: str
    label: str
    css: str


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str  # the tooltip: the segment's label and value


@dataclass(frozen=True)
class Tick:
    """A label at (x, y); for a value tick also its grid line from (x1, y1) to (x2, y2)."""

    x: float
    y: float
    label: str
    x1: float = 0
    y1: float = 0
    x2: float = 0
    y2: float = 0


@dataclass
class Chart:
    """A chart ready to draw: viewBox size, rectangles, axis ticks and labels, and its legend."""

    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    value_ticks: list[Tick] = field(default_factory=list)  # grid lines with their value
    labels: list[Tick] = field(default_factory=list)  # category labels (months, weeks, agents)
    series: list[Series] = field(default_factory=list)
    horizontal: bool = False
    plot_left: int = LEFT
    plot_right: int = 0
    plot_top: int = TOP
    plot_bottom: int = 0
    empty: bool = False
    title: str = ""  # the accessible name
    chart_id: str = ""

    @property
    def svg(self) -> SafeString:
        """The chart as inline SVG markup; every text from data is escaped."""
        anchor_tick, anchor_label = ("middle", "end") if self.horizontal else ("end", "middle")
        name = f"{escape(self.chart_id)}-title"
        parts = [
            f'<svg viewBox="0 0 {self.width} {self.height}" width="{self.width}" height="{self.height}" '
            f'role="img" aria-labelledby="{name}" class="chart-svg" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{name}">{escape(self.title)}</title>'
        ]
        baseline = "auto" if self.horizontal else "middle"
        for t in self.value_ticks:
            parts.append(
                f'<line x1="{t.x1}" y1="{t.y1}" x2="{t.x2}" y2="{t.y2}" class="chart-grid"/>'
                f'<text x="{t.x}" y="{t.y}" class="chart-tick" text-anchor="{anchor_tick}" '
                f'dominant-baseline="{baseline}">{escape(t.label)}</text>'
            )
        for r in self.rects:
            parts.append(
                f'<rect x="{r.x}" y="{r.y}" width="{r.width}" height="{r.height}" class="{r.css}">'
                f"<title>{escape(r.title)}</title></rect>"
            )
        if self.horizontal:
            axis = (self.plot_left, self.plot_top, self.plot_left, self.plot_bottom)
        else:
            axis = (self.plot_left, self.plot_bottom, self.plot_right, self.plot_bottom)
        parts.append('<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-axis"/>'.format(*axis))
        baseline = "middle" if self.horizontal else "auto"
        for label in self.labels:
            text = label.label if len(label.label) <= 22 else label.label[:21] + "\u2026"
            parts.append(
                f'<text x="{label.x}" y="{label.y}" class="chart-label" text-anchor="{anchor_label}" '
                f'dominant-baseline="{baseline}">{escape(text)}</text>'
            )
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308  (numbers we computed and escaped text)


def nice_step(value: Decimal, *, whole: bool = False) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value`: one step of an axis
    (whole numbers only for counts, so no axis reads 0.25 cases)."""
    if value <= 0:
        return Decimal(1)
    if whole:
        value = max(value, Decimal(1))
    exponent = value.adjusted()
    steps = (Decimal(1), Decimal(2), Decimal(5), Decimal(10)) if whole else (
        Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)
    )  # fmt: skip
    for step in steps:
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)  # pragma: no cover  (10 x 10^e always covers)


def axis_top(largest: Decimal, *, whole: bool) -> Decimal:
    """The axis' end: TICKS round steps that reach the largest value."""
    return nice_step(largest / TICKS, whole=whole) * TICKS


def compact(value: Decimal) -> str:
    """Axis text: 950, 1.5k, 12k, 2.5M (the exact amounts are in the table)."""
    for limit, suffix in ((Decimal(1_000_000_000), "G"), (Decimal(1_000_000), "M"), (Decimal(1000), "k")):
        if abs(value) >= limit:
            scaled = value / limit
            text = f"{scaled:.1f}" if scaled < 10 and scaled != scaled.to_integral() else f"{scaled:.0f}"
            return f"{text}{suffix}"
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.1f}"


def column_chart(
    columns: list[tuple[str, dict[str, Decimal]]],
    series: list[Series],
    *,
    width: int = 520,
    height: int = 200,
    label_every: int = 1,
    fmt: Callable[[Decimal], str] = lambda value: f"{value:,}",
    whole: bool = True,
    title: str = "",
    chart_id: str = "",
) -> Chart:
    """Vertical bars, one per column (a month, a week), its series stacked bottom up."""
    chart = Chart(width=width, height=height, series=series, title=title, chart_id=chart_id)
    chart.plot_right, chart.plot_bottom = width - RIGHT, height - BOTTOM
    totals = [sum((values.get(s.key, Decimal(0)) for s in series), Decimal(0)) for _, values in columns]
    chart.empty = not columns or max(totals, default=Decimal(0)) <= 0
    top = axis_top(max(totals, default=Decimal(0)), whole=whole)
    plot_height = chart.plot_bottom - chart.plot_top
    for step in range(TICKS + 1):
        value = top * step / TICKS
        y = chart.plot_bottom - plot_height * float(value / top)
        y = round(y, 1)
        chart.value_ticks.append(
            Tick(
                x=chart.plot_left - 6,
                y=y,
                label=compact(value),
                x1=chart.plot_left,
                y1=y,
                x2=chart.plot_right,
                y2=y,
            )
        )
    if not columns:
        return chart
    slot = (chart.plot_right - chart.plot_left) / len(columns)
    bar = min(max(slot * 0.7, 1.0), 40.0)  # one week or month alone is not a wall
    for index, (label, values) in enumerate(columns):
        x = chart.plot_left + slot * index + (slot - bar) / 2
        base = float(chart.plot_bottom)
        for s in series:
            value = values.get(s.key, Decimal(0))
            if value <= 0:
                continue
            h = plot_height * float(value / top)
            base -= h
            title = f"{label}: {s.label} {fmt(value)}" if len(series) > 1 else f"{label}: {fmt(value)}"
            chart.rects.append(Rect(round(x, 1), round(base, 1), round(bar, 1), round(h, 1), s.css, title))
        if index % label_every == 0:
            chart.labels.append(Tick(x=round(x + bar / 2, 1), y=chart.plot_bottom + 16, label=label))
    return chart


def bar_chart(
    rows: list[tuple[str, dict[str, Decimal]]],
    series: list[Series],
    *,
    width: int = 520,
    row_height: int = 22,
    label_width: int = 140,
    title: str = "",
    chart_id: str = "",
) -> Chart:
    """Horizontal bars, one per row (an agent), its series stacked left to right."""
    height = TOP + BOTTOM + row_height * max(len(rows), 1)
    chart = Chart(
        width=width,
        height=height,
        series=series,
        horizontal=True,
        plot_left=label_width,
        title=title,
        chart_id=chart_id,
    )
    chart.plot_right, chart.plot_bottom = width - RIGHT, height - BOTTOM
    totals = [sum((values.get(s.key, Decimal(0)) for s in series), Decimal(0)) for _, values in rows]
    chart.empty = not rows or max(totals, default=Decimal(0)) <= 0
    top = axis_top(max(totals, default=Decimal(0)), whole=True)
    plot_width = chart.plot_right - chart.plot_left
    for step in range(TICKS + 1):
        value = top * step / TICKS
        x = chart.plot_left + plot_width * float(value / top)
        x = round(x, 1)
        chart.value_ticks.append(
            Tick(
                x=x,
                y=chart.plot_bottom + 16,
                label=compact(value),
                x1=x,
                y1=chart.plot_top,
                x2=x,
                y2=chart.plot_bottom,
            )
        )
    for index, (label, values) in enumerate(rows):
        y = chart.plot_top + row_height * index + row_height * 0.15
        left = float(chart.plot_left)
        for s in series:
            value = values.get(s.key, Decimal(0))
            if value <= 0:
                continue
            w = plot_width * float(value / top)
            chart.rects.append(
                Rect(
                    round(left, 1),
                    round(y, 1),
                    round(w, 1),
                    round(row_height * 0.7, 1),
                    s.css,
                    f"{label}: {s.label} {value:,}",
                )
            )
            left += w
        chart.labels.append(Tick(x=chart.plot_left - 6, y=round(y + row_height * 0.5, 1), label=label))
    return chart
