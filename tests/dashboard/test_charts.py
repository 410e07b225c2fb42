"""The SVG geometry: bars in proportion to their values on a round axis, nothing drawn for zero."""

from __future__ import annotations

from decimal import Decimal

from dashboard.charts import Series, axis_top, bar_chart, column_chart, compact

A = Series("a", "On time", "bar-ok")
B = Series("b", "Late", "bar-late")


def test_the_axis_ends_at_four_round_steps_at_or_above_the_largest_bar():
    assert axis_top(Decimal("830"), whole=False) == Decimal("1000")  # steps of 250
    assert axis_top(Decimal("1800"), whole=False) == Decimal("2000")
    assert axis_top(Decimal("2100"), whole=False) == Decimal("4000")  # steps of 1000
    assert axis_top(Decimal("0.3"), whole=True) == Decimal("4")  # counts: steps of at least 1
    assert axis_top(Decimal("0"), whole=True) == Decimal("4")
    assert [compact(Decimal(v)) for v in ("950", "1500", "12000", "2500000")] == [
        "950",
        "1.5k",
        "12k",
        "2.5M",
    ]


def test_stacked_columns_are_as_tall_as_their_values():
    chart = column_chart([("Jan", {"a": Decimal(3), "b": Decimal(1)}), ("Feb", {"a": Decimal(0)})], [A, B])
    jan = [r for r in chart.rects if r.title.startswith("Jan")]
    assert [r.css for r in jan] == ["bar-ok", "bar-late"]
    assert jan[0].height == 3 * jan[1].height
    assert not [r for r in chart.rects if r.title.startswith("Feb")]  # zero draws nothing
    assert [t.label for t in chart.value_ticks] == ["0", "1", "2", "3", "4"]
    assert not chart.empty


def test_horizontal_bars_have_one_row_per_agent_with_its_name():
    chart = bar_chart([("Alex", {"a": Decimal(2)}), ("Sam", {"b": Decimal(2)})], [A, B])
    assert [label.label for label in chart.labels] == ["Alex", "Sam"]
    assert chart.rects[0].width == chart.rects[1].width
    assert bar_chart([], [A]).empty
