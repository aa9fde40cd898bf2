"""Chinese date and number conventions; charts drawn as SVG with every text escaped."""

from __future__ import annotations

import datetime

from service.web import charts, format


def test_dates_follow_the_chinese_calendar_convention_in_china_time():
    assert format.date(datetime.date(2026, 3, 8)) == "2026年3月8日"
    late_utc = datetime.datetime(2026, 3, 8, 17, 30, tzinfo=datetime.UTC)  # already 9 March in Beijing
    assert format.datetime_(late_utc) == "2026年3月9日 01:30"
    assert format.date(datetime.date(2026, 3, 8), "en") == "2026-03-08"
    assert format.date(None) == "—"


def test_numbers_are_grouped_and_large_ones_counted_in_wan():
    assert format.number(1234) == "1,234"
    assert format.number(152300) == "15.2万"
    assert format.number(152300, "en") == "152,300"
    assert format.number(452_000_000) == "4.5亿"  # CLDR's units (Babel), not 45,200万
    assert format.days(2.5) == "2.5天"


def test_a_chart_escapes_its_labels_and_states_its_figures_for_screen_readers():
    svg = str(charts.horizontal_bars("标题<script>", [("<b>部门</b>", 3.0), ("民政局", 0.0)], unit="件"))
    assert "<script>" not in svg
    assert "&lt;b&gt;" in svg
    assert 'role="img"' in svg
    assert "民政局：0件" in svg
    columns = str(charts.stacked_columns("每月", [("1月", {"approved": 2, "rejected": 1})],
                                         [("approved", "批准"), ("rejected", "驳回")]))
    assert "1月：批准 2，驳回 1" in columns
