"""Analyses on the tiny shop and its extras; every expected number is worked out by hand
(see the docstrings of tests/tiny.py)."""

from __future__ import annotations

import math

import pytest
from tiny import tiny_review

from macros import analyses
from macros.engine import MissingData
from macros.periods import parse_period

Y2025 = parse_period("2025")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return tiny_review(tmp_path_factory.mktemp("tinyx"), extras=True).engine


def test_rfm_segments(engine):
    frame = analyses.rfm_segments(engine, Y2025).set_index("segment")
    # U3: last order 2025-11-11 → 50 days, 2 orders, 126 → recent, not above median frequency
    # (both have 2), above median monetary (103) → 重要发展客户.
    # U1: 194 days, 2 orders, 80 → 一般挽留客户.
    assert frame.loc["重要发展客户", "buyers"] == 1
    assert frame.loc["重要发展客户", "net_sales"] == pytest.approx(126.0)
    assert frame.loc["重要发展客户", "recency_days"] == pytest.approx(50.0)
    assert frame.loc["一般挽留客户", "buyers"] == 1
    assert frame.loc["一般挽留客户", "recency_days"] == pytest.approx(194.0)
    assert frame["buyers"].sum() == 2
    assert frame.loc["一般挽留客户", "sales_share"] == pytest.approx(80 / 206)
    assert list(frame.index) == analyses.RFM_ORDER


def test_cohort_retention(engine):
    frame = analyses.cohort_retention(engine, parse_period("2024"), max_months=12)
    # Cohorts 2024-03 (U1) and 2024-07 (U2); U1's next order (2025-01) is after the period.
    assert list(frame["cohort"]) == ["2024-03", "2024-07"]
    assert list(frame["retention"]) == [1.0, 1.0]
    whole = analyses.cohort_retention(engine, parse_period("2024-01-01..2025-12-31"))
    row = whole[(whole["cohort"] == "2024-03") & (whole["month_offset"] == 10)]
    assert row["retention"].item() == 1.0  # U1 came back in 2025-01, 10 months later
    assert set(whole["cohort"]) == {"2024-03", "2024-07", "2025-06"}


def test_funnel(engine):
    frame = analyses.funnel_steps(engine, Y2025)
    assert list(frame["users"]) == [200, 60, 20, 16]
    assert math.isnan(frame["rate_prev"].iloc[0])
    assert list(frame["rate_prev"].iloc[1:]) == pytest.approx([0.3, 20 / 60, 0.8])
    assert list(frame["rate_first"]) == pytest.approx([1.0, 0.3, 0.1, 0.08])


def test_pareto(engine):
    result = analyses.pareto(engine, Y2025)
    # Two SKUs sold: ceil(2 × 20%) = 1 top SKU, P2 with 140 of 206.
    assert (result.items, result.top_count) == (2, 1)
    assert result.share == pytest.approx(140 / 206)
    assert list(result.curve["item"]) == ["P2", "P1"]


def test_hit_products(engine):
    frame = analyses.hit_products(engine, Y2025).set_index("sku")
    assert frame.loc["P2", "net_sales"] == pytest.approx(140.0)
    assert frame.loc["P2", "growth"] == pytest.approx(140 / 50 - 1)
    assert frame.loc["P1", "growth"] == pytest.approx(66 / 20 - 1)
    assert frame.loc["P1", "avg_price"] == pytest.approx((30 + 10 + 36) / 8)
    assert frame.loc["P1", "campaign_share"] == 0
    assert bool(frame.loc["P2", "is_hit"]) and bool(frame.loc["P1", "is_hit"])


def test_stockouts(engine):
    frame = analyses.stockouts(engine, Y2025)
    assert list(frame["sku"]) == ["P1"]
    row = frame.iloc[0]
    assert (row["stockout_days"], row["first_day"], row["last_day"]) == (2, "2025-11-30", "2025-12-30")
    assert row["net_sales"] == pytest.approx(66.0)


def test_slow_moving(engine):
    frame = analyses.slow_moving_skus(engine, Y2025, days=90)
    # P2 last sold 2025-06-18 (> 90 days before year end), 8 on hand × 30.
    assert list(frame["sku"]) == ["P2"]
    assert frame["stock_value"].iloc[0] == pytest.approx(240.0)
    assert frame["last_sale"].iloc[0] == "2025-06-18"


def test_inventory_metrics(engine):
    # Month-end inventory value: 10-31 260, 11-30 240, 12-31 252 → mean 250.667.
    assert engine.value("avg_inventory_value", Y2025) == pytest.approx((260 + 240 + 252) / 3)
    assert engine.value("inventory_turnover", Y2025) == pytest.approx(118 / ((260 + 240 + 252) / 3))
    assert engine.value("days_of_inventory", Y2025) == pytest.approx(365 / (118 / ((260 + 240 + 252) / 3)))
    assert engine.value("stockout_rate", Y2025) == pytest.approx(2 / 8)
    assert engine.value("write_off_value", Y2025) == pytest.approx(30.0)


def test_campaign_uplift(engine):
    frame = analyses.campaign_uplift(engine, Y2025).set_index("campaign_id")
    assert list(frame.index) == ["C2", "C1"]  # by start date
    assert frame.loc["C1", "net_sales"] == pytest.approx(36.0)
    assert frame.loc["C1", "baseline"] == pytest.approx(0.0)
    assert frame.loc["C1", "uplift"] == pytest.approx(36.0)
    assert math.isnan(frame.loc["C1", "uplift_pct"])
    # C2: no sales that day; baseline = O3's 70 over the 28 days before ÷ 28 × 1 day.
    assert frame.loc["C2", "baseline"] == pytest.approx(2.5)
    assert frame.loc["C2", "uplift"] == pytest.approx(-2.5)
    assert frame.loc["C2", "uplift_pct"] == pytest.approx(-1.0)
    assert frame.loc["C1", "coupon_redemption"] == pytest.approx(0.25)


def test_follower_growth(engine):
    frame = analyses.follower_growth(engine, Y2025).set_index("platform")
    assert frame.loc["微博", "growth"] == pytest.approx(0.5)
    assert frame.loc["小红书", "growth"] == pytest.approx(-0.5)


def test_target_attainment(engine):
    frame = analyses.target_attainment(engine, 2025)
    got = {(r.metric, r.scope): r.attainment for r in frame.itertuples()}
    assert got == pytest.approx({("net_sales", "全部"): 206 / 200, ("net_sales", "抖音"): 126 / 100,
                                 ("orders", "全部"): 4 / 8})


def test_missing_optional_dataset_raises_missing_data(tmp_path):
    engine = tiny_review(tmp_path).engine  # no extras
    with pytest.raises(MissingData, match="inventory"):
        analyses.stockouts(engine, Y2025)
