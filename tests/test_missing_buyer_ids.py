"""Orders without a buyer id never form a buyer (issue 19.8).

The tiny shop (tests/tiny.py) plus two paid orders whose export carries no buyer id, both in
June 2025 so that, counted as one buyer, they would make a repeat buyer of the month and of
the year:

| order | user | platform | paid       | lines           |
|-------|------|----------|------------|-----------------|
| O8    | —    | 京东      | 2025-06-18 | P1 × 1 @ 10     |
| O9    | —    | 京东      | 2025-06-25 | P2 × 1 @ 50     |

2025 by hand: orders 4 + 2 = 6; GMV 216 + 60 = 276; net sales 206 + 60 = 266. Buyers stay 2
(U1, U3); repeat buyers 2 (not 3); repurchase rate 2 ÷ 2 = 100 %; purchase frequency = orders
of buyers ÷ buyers = 4 ÷ 2 = 2 (not 6 ÷ 2 = 3); sales per buyer = buyers' GMV ÷ buyers =
216 ÷ 2 = 108 (not 276 ÷ 2 = 138). June: U3 (O4) and U1 (O5) once each: 0 repeat buyers (the
id-less O8 + O9 would be 1). 京东 in 2025: buyers 1 (U1 by O5). New buyers 1 (U3), returning 1
(U1); the only 2025 cohort is 2025-06 (U3: 1 buyer, again in November). RFM and the
order-count distribution hold the 2 buyers and their 206 of net sales.
"""

from __future__ import annotations

from unittest import mock

import pytest
import tiny
from fupan.semantics import analyses
from fupan.semantics.periods import parse_period
from fupan.site.context import build_review

Y2025 = parse_period("2025")
ID_LESS = [
    ("O8", None, "京东", "2025-06-18 10:00:00", [("P1", 1, 10.0, 0)]),
    ("O9", None, "京东", "2025-06-25 11:00:00", [("P2", 1, 50.0, 0)]),
]


def _write_data(data_dir):
    tiny.write_tiny_data(data_dir)
    with mock.patch.object(tiny, "ORDERS", tiny.ORDERS + ID_LESS):
        tiny.orders_frame().to_parquet(data_dir / "orders.parquet", index=False)
        tiny.lines_frame().to_parquet(data_dir / "order_lines.parquet", index=False)
    # Exports from some platforms have orders without a buyer id: the column is optional there.
    contract = data_dir / "datasets.yml"
    text = contract.read_text(encoding="utf-8")
    required = "user_id: {type: string, required: true, references: users.user_id"
    assert text.count(required) == 1
    contract.write_text(text.replace(required, "user_id: {type: string, references: users.user_id"),
                        encoding="utf-8")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    project = tmp_path_factory.mktemp("idless") / "project"
    _write_data(project / "data")
    review = build_review({"review": {"company": "测试", "year": 2025, "locale": "zh-CN", "min_group_size": 1}},
                          project)
    return review.engine


@pytest.mark.parametrize(("metric", "period", "expected"), [
    ("orders", "2025", 6.0),
    ("gmv", "2025", 276.0),
    ("net_sales", "2025", 266.0),
    ("buyers", "2025", 2.0),
    ("repeat_buyers", "2025", 2.0),
    ("repurchase_rate", "2025", 1.0),
    ("purchase_frequency", "2025", 2.0),
    ("sales_per_buyer", "2025", 108.0),
    ("new_buyers", "2025", 1.0),
    ("returning_buyers", "2025", 1.0),
    ("repeat_buyers", "2025-06", 0.0),
    ("buyers", "2025-06", 2.0),
])
def test_id_less_orders_are_no_buyer(engine, metric, period, expected):
    assert engine.value(metric, parse_period(period)) == pytest.approx(expected, rel=1e-12)


def test_breakdowns_count_no_id_less_buyer(engine):
    by_platform = engine.compute("buyers", Y2025, ("platform",)).set_index("platform")["value"]
    assert by_platform.to_dict() == {"京东": 1.0, "天猫": 1.0, "抖音": 1.0}
    repeat = engine.compute("repeat_buyers", Y2025, ("month",)).set_index("month")["value"]
    assert repeat.get("2025-06", 0.0) == 0.0
    frequency = engine.compute("purchase_frequency", Y2025, ("platform",)).set_index("platform")["value"]
    # 京东: O5 (U1) is the only order with a buyer; O8 and O9 would make it 3 orders per buyer.
    assert frequency["京东"] == pytest.approx(1.0)


def test_order_count_distribution_and_rfm_hold_only_buyers(engine):
    frequency = analyses.frequency_distribution(engine, Y2025)
    assert list(frequency["bucket"]) == ["2 单"]
    assert list(frequency["buyers"]) == [2.0]
    assert list(frequency["net_sales"]) == pytest.approx([206.0])
    # The repeat buyers on the page and the distribution next to them agree.
    assert frequency["buyers"].sum() == engine.value("repeat_buyers", Y2025)
    rfm = analyses.rfm_segments(engine, Y2025)
    assert rfm["buyers"].sum() == 2.0
    assert rfm["net_sales"].sum() == pytest.approx(206.0)


def test_cohorts_have_no_id_less_cohort(engine):
    cohorts = analyses.cohort_retention(engine, Y2025)
    assert cohorts[["cohort", "month_offset", "cohort_size", "buyers"]].values.tolist() == [
        ["2025-06", 0, 1.0, 1.0], ["2025-06", 5, 1.0, 1.0]]
