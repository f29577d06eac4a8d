"""The supervisors' page draws its charts on the server (decision 0085): pure SVG from figures."""

from __future__ import annotations

from services.dispatch.insight import charts
from services.dispatch.insight.page import next_open_step


def test_a_bar_chart_shows_each_value_with_its_count_and_no_bar_without_data():
    svg = charts.bar_chart("On-time <arrival>", [("east", 0.75, 4), ("west", None, 0)])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "On-time &lt;arrival&gt;" in svg and "75% (n=4)" in svg and "— (n=0)" in svg
    assert svg.count("<rect") == 1  # west has no denominator: no bar
    assert "-20 (n=5)" in charts.bar_chart("NPS", [("east", -20.0, 5)], unit="nps")


def test_a_line_chart_breaks_where_a_month_has_no_data():
    svg = charts.line_chart("Trend", ["2026-09", "2026-10", "2026-11", "2026-12"],
                            [("on time", [0.5, 0.6, None, 0.9]), ("calls", [1.0, 1.0, 1.0, 1.0])])
    assert svg.count("<circle") == 7 and svg.count("<polyline") == 2  # 0.9 alone after the gap: no line
    assert "2026-12" in svg and "on time" in svg


def test_the_next_step_due_is_the_first_missing_or_in_progress_in_the_standards_order():
    cells = {f"S{n}": {"status": "done", "findings": 0} for n in range(1, 35)}
    assert next_open_step(cells) is None
    cells["S7"] = {"status": "not_applicable", "findings": 0}
    cells["S9"] = {"status": "in_progress", "findings": 1}
    cells["S12"] = {"status": "missing", "findings": 0}
    assert next_open_step(cells) == ("S9", "Technical briefing", "in_progress")
    assert next_open_step(None) == ("S1", "Receive the request", "missing")
