"""Orders that end before the review year does: comparisons become like-for-like by themselves,
and the month the data covers only in part says which days it holds.

The tiny shop (tests/tiny.py) plus two orders: one on 9 December 2025 (the last day of the data)
and one on 20 December 2024, which a like-for-like comparison leaves out.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from fupan.semantics.periods import inferred_as_of, parse_period, partial_months
from tiny import lines_frame, orders_frame, write_tiny_data


def ends_on_9_december(data: Path) -> Path:
    write_tiny_data(data)
    orders, lines = orders_frame(), lines_frame()
    extra = orders.iloc[[0, 0]].copy()
    extra["订单编号"] = ["O8", "O9"]
    extra["支付时间"] = extra["下单时间"] = pd.to_datetime(["2025-12-09 21:00", "2024-12-20 10:00"]).astype(
        "datetime64[us]")
    extra["实付金额"], extra["退款金额"] = [50.0, 100.0], [0.0, 0.0]
    extra_lines = pd.DataFrame([
        {"订单编号": "O8", "行号": 1, "商品编码": "P2", "数量": 1, "成交单价": 50.0, "成交金额": 50.0, "退货数量": 0},
        {"订单编号": "O9", "行号": 1, "商品编码": "P2", "数量": 2, "成交单价": 50.0, "成交金额": 100.0, "退货数量": 0},
    ])
    pd.concat([orders, extra], ignore_index=True).to_parquet(data / "orders.parquet", index=False)
    pd.concat([lines, extra_lines], ignore_index=True).to_parquet(data / "order_lines.parquet", index=False)
    return data


@pytest.fixture
def review(tmp_path: Path):
    from fupan.site.context import build_review

    ends_on_9_december(tmp_path / "project" / "data")
    return build_review({"review": {"company": "测试", "year": 2025, "min_group_size": 1}}, tmp_path / "project")


def test_orders_ending_on_9_december_make_every_comparison_like_for_like(review) -> None:
    from fupan.site.report_macros import value

    assert review.config.as_of == dt.date(2025, 12, 9) and review.config.as_of_inferred
    # By hand: 2025 to 9 Dec: O3 80 − 10 refunded, O4 90, O5 10, O7 36, O8 50 = 256.
    # 2024 to 9 Dec: O1 20 + O2 50 = 70 (O9 on 20 Dec is after the same day): +265.7 %.
    # The whole of 2024 (170) would have said +50.6 %.
    shown = value(review, "net_sales", compare="yoy")
    assert "¥256.00" in shown and "+265.7%" in shown


def test_december_is_marked_partial_on_the_monthly_chart_and_table(review) -> None:
    from fupan.site.report_macros import monthly_trend, table

    chart = monthly_trend(review, "net_sales")
    assert "12月（1–9日）" in chart
    rows = table(review, ["net_sales"], by="month")
    assert re.search(r"2025年12月（1–9日）|12月（1–9日）", rows)
    assert "11月（" not in rows  # November is whole


def test_the_rules_for_a_partial_year_and_partial_months() -> None:
    assert inferred_as_of(dt.date(2025, 12, 9), 2025) == dt.date(2025, 12, 9)
    assert inferred_as_of(dt.date(2025, 12, 29), 2025) is None  # no order on the last two days: a whole year
    assert inferred_as_of(dt.date(2024, 12, 9), 2025) is None  # not the review year
    year = parse_period("2025", dt.date(2025, 12, 9))
    assert partial_months(year) == {12: (1, 9)}
    # a shop that opened on 15 March: March holds the 15th to the 31st
    assert partial_months(parse_period("2025"), dt.date(2025, 3, 15)) == {3: (15, 31)}
    assert partial_months(parse_period("2025"), dt.date(2024, 1, 1)) == {}


def test_the_chapters_month_table_marks_december_partial_too(review) -> None:
    from fupan.site.section_macros import period_table

    rows = period_table(review, ["net_sales"])
    assert "2025年12月（1–9日）" in rows and "11月（" not in rows
