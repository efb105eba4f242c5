"""Analyses on the tiny shop and its extras; every expected number is worked out by hand
(see the docstrings of tests/tiny.py)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from fupan.semantics import analyses
from fupan.semantics.engine import MissingData
from fupan.semantics.periods import parse_period
from tiny import tiny_review

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
    assert engine.value("stockout_rate", Y2025) == pytest.approx(2 / 10)
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


def test_campaign_baseline_counts_only_days_with_data(engine):
    frame = analyses.campaign_uplift(engine, parse_period("2024")).set_index("campaign_id")
    # Data starts 2024-03-05: the baseline is 5 days (03-05..03-09) holding O1's 20, i.e. 4 a day,
    # × 2 campaign days = 8 — not 20 ÷ 28 × 2.
    assert frame.loc["C0", "baseline"] == pytest.approx(8.0)
    assert frame.loc["C0", "net_sales"] == 0.0


def test_follower_growth(engine):
    frame = analyses.follower_growth(engine, Y2025).set_index("platform")
    assert frame.loc["微博", "growth"] == pytest.approx(0.5)
    assert frame.loc["小红书", "growth"] == pytest.approx(-0.5)


def test_target_attainment(engine):
    frame = analyses.target_attainment(engine, 2025)
    got = {(r.metric, r.scope): r.attainment for r in frame.itertuples()}
    # complaint_rate is "lower is better": 2 complaints ÷ 4 orders = 0.5 against 0.25 → 50%.
    assert got == pytest.approx({("net_sales", "全部"): 206 / 200, ("net_sales", "抖音"): 126 / 100,
                                 ("orders", "全部"): 4 / 8, ("complaint_rate", "全部"): 0.25 / 0.5})


def test_missing_optional_dataset_raises_missing_data(tmp_path):
    engine = tiny_review(tmp_path).engine  # no extras
    with pytest.raises(MissingData, match="inventory"):
        analyses.stockouts(engine, Y2025)


# ---- every metric of the catalogue, by hand -----------------------------------------------------
GM = 88 / 206  # 2025 gross margin
EVERY_METRIC = {
    "gmv": 216, "refund_amount": 10, "net_sales": 206, "orders": 4, "units": 11, "aov": 51.5, "buyers": 2,
    "sales_per_buyer": 108, "refund_rate": 10 / 216, "cogs": 118, "gross_profit": 88, "gross_margin": GM,
    # traffic: 100 + 300 visitors; PV 300 + 500; sessions 120 + 320; bounces 30 + 160;
    # dwell 40 s × 300 PV + 20 s × 500 PV
    "visitors": 400, "page_views": 800, "sessions": 440, "bounces": 190, "dwell_seconds_total": 22000,
    "conversion_rate": 4 / 400, "avg_dwell_seconds": 27.5, "bounce_rate": 190 / 440,
    "funnel_visitors": 200, "cart_users": 60, "order_users": 20, "paid_users": 16,
    "new_buyers": 1, "returning_buyers": 1, "repeat_buyers": 2, "repurchase_rate": 1.0,
    "purchase_frequency": 2.0, "member_buyers": 2, "member_share": 1.0,
    # every order of the tiny shop has a buyer id (tests/test_missing_buyer_ids.py has some without)
    "buyer_orders": 4, "buyer_gmv": 216,
    # surveys: csat 5, 3, 4; nps 10, 6, 8
    "survey_responses": 3, "csat": 4.0, "csat_top2_share": 2 / 3, "satisfied_responses": 2,
    "nps_responses": 3, "promoters": 1, "detractors": 1, "nps": 0.0,
    "complaints": 2, "complaint_rate": 0.5,
    # inventory: month-end values 260, 240, 252; opening units 15; received 3; SKU-days 10
    "avg_inventory_value": 752 / 3, "inventory_turnover": 118 / (752 / 3),
    "days_of_inventory": 365 / (118 / (752 / 3)), "opening_units": 15, "received_units": 3,
    "sell_through": 11 / 18, "stockout_sku_days": 2, "sku_days": 10, "stockout_rate": 0.2,
    "write_off_value": 30,
    # purchase orders: PO1 on time (7 days), PO2 late (14 days), PO3 not received
    "po_received": 2, "po_on_time": 1, "supplier_on_time_rate": 0.5, "units_ordered": 160,
    "units_received": 140, "fill_rate": 140 / 160, "lead_time_days": 10.5,
    # ads: 直通车 100 → 500, 信息流 200 → 300
    "ad_spend": 300, "ad_revenue": 800, "impressions": 15000, "clicks": 300, "ad_conversions": 12,
    "roas": 800 / 300, "roi": (800 * GM - 300) / 300, "ctr": 0.02, "cvr": 0.04, "cpc": 1.0, "cpa": 25.0,
    "post_reads": 4000, "interactions": 400, "posts": 2, "engagement_rate": 0.1,
    "likes": 250, "shares": 60, "comments": 90,
    # team: E1 (2020-01-01), E2 (left 2025-03-31), E3 (joined 2025-07-01)
    "headcount": 2, "headcount_start": 2, "hires": 1, "leavers": 1, "average_headcount": 2,
    "attrition_rate": 0.5, "training_hours": 16, "training_sessions": 2, "training_hours_per_head": 8,
    "avg_tenure_years": (2191 + 183) / 2 / 365.25,
    "market_sales": 1000, "our_market_sales": 200, "market_share": 0.2,
    # no order of the tiny shop is in a campaign; its last 2025 order is O7 (2025-11-11, 50 days)
    "campaign_gmv": 0, "days_since_last_sale": 50,
}


def test_every_catalogue_metric_is_covered(engine):
    assert set(EVERY_METRIC) == set(engine.catalogue.metrics)


@pytest.mark.parametrize(("metric", "expected"), sorted(EVERY_METRIC.items()))
def test_every_metric_by_hand(engine, metric, expected):
    assert engine.value(metric, Y2025) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_roi_by_channel_uses_the_shop_margin(engine):
    frame = engine.compute("roi", Y2025, ("channel",)).set_index("channel")["value"]
    assert frame.to_dict() == pytest.approx({"信息流": (300 * GM - 200) / 200, "直通车": (500 * GM - 100) / 100})


def test_period_table_month_over_month(engine):
    frame = analyses.period_table(engine, "net_sales", Y2025, "month")
    # Every month has its row; sales in 2025-01 70 (previous bucket 2024-12 has none), 06 100,
    # 11 36, none in the others. June follows a month without sales: no MoM (not June vs January).
    assert list(frame["key"]) == [f"2025-{m:02d}" for m in range(1, 13)]
    values = dict(zip(frame["key"], frame["value"], strict=True))
    assert {k: v for k, v in values.items() if not pd.isna(v)} == {"2025-01": 70.0, "2025-06": 100.0,
                                                                    "2025-11": 36.0}
    assert all(pd.isna(c) for c in frame["change"])


def test_frequency_distribution(engine):
    frame = analyses.frequency_distribution(engine, Y2025)
    assert frame[["bucket", "buyers"]].values.tolist() == [["2 单", 2]]
    assert frame["net_sales"].iloc[0] == pytest.approx(206.0)


def test_rfm_compare(engine):
    frame = analyses.rfm_compare(engine, Y2025).set_index("segment")
    assert frame["buyers"].sum() == 2 and frame["base_buyers"].sum() == 2
    assert bool(frame.loc["重要挽留客户", "churn_risk"]) and not bool(frame.loc["重要价值客户", "churn_risk"])


def test_keyword_table(engine):
    frame = analyses.keyword_table(engine, Y2025).set_index("keyword")
    assert list(frame.index) == ["收纳", "零食", "坚果"]  # by spend
    assert frame.loc["坚果", "roas"] == pytest.approx(6.0)
    assert frame.loc["坚果", "ctr"] == pytest.approx(0.05)
    # median spend 80: eligible 收纳 (ROAS 1) and 零食 (ROAS 5); 坚果 spent too little.
    assert frame["best"].idxmax() == "零食" and frame["worst"].idxmax() == "收纳"


def test_loyalty_summary(engine):
    frame = analyses.loyalty_summary(engine, Y2025)
    assert list(frame["points_redemption"]) == pytest.approx([0.5, 0.25])
    assert list(frame["coupon_redemption"]) == pytest.approx([0.2, 0.3])


def test_follower_series(engine):
    frame = analyses.follower_series(engine, Y2025)
    assert frame[["month", "platform", "followers"]].values.tolist() == [["2025-12", "小红书", 100.0],
                                                                       ["2025-12", "微博", 1500.0]]


def test_kpi_distribution(engine):
    frame = analyses.kpi_distribution(engine, 2025, min_group_size=1).set_index("function")
    assert frame.loc["运营", "employees"] == 2 and frame.loc["运营", "mean_score"] == pytest.approx(88.5)
    assert frame.loc["运营", "优秀（≥90）"] == 1 and frame.loc["运营", "良好（80–89）"] == 1
    assert frame.loc["客服", "合格（70–79）"] == 1 and frame.loc["运营", "promotion_rate"] == 0.5
    merged = analyses.kpi_distribution(engine, 2025, min_group_size=3)
    assert list(merged["function"]) == ["其他"] and merged["employees"].iloc[0] == 3


def test_hiring_gap(engine):
    frame = analyses.hiring_gap(engine, Y2025, 2026).set_index("function")
    assert frame.loc["运营", ["planned_headcount", "headcount", "gap"]].tolist() == [3, 2, 1]
    assert frame.loc["客服", ["planned_headcount", "headcount", "gap"]].tolist() == [1, 0, 1]


def test_market_share_table(engine):
    frame = analyses.market_share_table(engine, 2025).set_index("company")
    assert frame.loc["测试", "share"] == pytest.approx(0.2) and frame.loc["测试", "base_share"] == pytest.approx(0.1)
    assert frame.loc["测试", "share_change"] == pytest.approx(0.1) and bool(frame.loc["测试", "is_us"])


def test_next_year_targets(engine):
    frame = analyses.next_year_targets(engine, 2025)
    assert frame[["metric", "scope", "target", "actual"]].values.tolist() == [["net_sales", "全部", 300.0, 206.0]]
    assert frame["implied_change"].iloc[0] == pytest.approx(300 / 206 - 1)


def test_initiatives(engine):
    frame = analyses.initiatives(engine, 2025)
    assert frame[["initiative_id", "status", "completion"]].values.tolist() == [["I1", "已完成", 1.0],
                                                                               ["I2", "进行中", 0.5]]
