"""Metric engine on the tiny shop: every expected value is worked out by hand in tests/tiny.py."""

from __future__ import annotations

import math

import pytest
from fupan.semantics.engine import MetricError
from fupan.semantics.periods import parse_period
from tiny import tiny_review


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    return tiny_review(tmp_path_factory.mktemp("tiny"))


Y2025 = parse_period("2025")
Y2024 = parse_period("2024")


@pytest.mark.parametrize(
    ("metric", "period", "expected"),
    [
        ("gmv", "2025", 216.0),
        ("refund_amount", "2025", 10.0),
        ("net_sales", "2025", 206.0),
        ("orders", "2025", 4.0),
        ("units", "2025", 11.0),
        ("aov", "2025", 51.5),
        ("buyers", "2025", 2.0),
        ("sales_per_buyer", "2025", 108.0),  # GMV 216 ÷ 2 buyers
        ("refund_rate", "2025", 10 / 216),
        ("cogs", "2025", 118.0),
        ("gross_profit", "2025", 88.0),
        ("gross_margin", "2025", 88 / 206),
        ("new_buyers", "2025", 1.0),  # U3 first paid 2025-06-18
        ("returning_buyers", "2025", 1.0),  # U1 paid in 2024 too
        ("repeat_buyers", "2025", 2.0),  # U1: O3 and O5; U3: O4 and O7
        ("repurchase_rate", "2025", 1.0),
        ("repeat_buyers", "2025-06", 0.0),  # June: U3 once (O4), U1 once (O5)
        ("repurchase_rate", "2025-06", 0.0),
        ("purchase_frequency", "2025", 2.0),
        ("member_buyers", "2025", 2.0),  # U1 金卡, U3 普通
        ("member_share", "2025", 1.0),
        ("gmv", "2024", 70.0),
        ("net_sales", "2024", 70.0),
        ("orders", "2024", 2.0),
        ("aov", "2024", 35.0),
        ("new_buyers", "2024", 2.0),
        ("net_sales", "2025-Q2", 100.0),  # O4 90 + O5 10
        ("net_sales", "2025-06", 100.0),
        ("net_sales", "2025-01-01..2025-01-31", 70.0),  # O3 80 − refund 10
    ],
)
def test_metric_values_by_hand(review, metric, period, expected):
    value = review.engine.value(metric, parse_period(period))
    assert value == pytest.approx(expected, rel=1e-12)


def test_unpaid_order_is_excluded(review):
    # O6 (unpaid, 50) would make 2025 GMV 266.
    assert review.engine.value("gmv", Y2025) == pytest.approx(216.0)


def test_filter_by_platform_sums_to_total(review):
    parts = [review.engine.value("net_sales", Y2025, {"platform": p}) or 0.0
             for p in ("天猫", "京东", "抖音", "小程序")]
    assert parts == pytest.approx([70.0, 10.0, 126.0, 0.0])
    assert sum(parts) == pytest.approx(206.0)


def test_breakdown_by_month(review):
    frame = review.engine.compute("net_sales", Y2025, ("month",))
    assert list(frame["month"]) == ["2025-01", "2025-06", "2025-11"]
    assert list(frame["value"]) == pytest.approx([70.0, 100.0, 36.0])


def test_a_models_cheap_aggregates_come_from_one_scan(tmp_path):
    """A missed aggregate is computed with its model's other cheap aggregates (same breakdown,
    filters and period) in one query, each stored under its own query: the later requests are
    read from the cache, and give what separate queries give."""
    from fupan.semantics.engine import Engine
    from fupan.speed.cache import ResultCache

    review = tiny_review(tmp_path)
    engine, cache = review.engine, review.engine.cache
    cheap = [m.id for m in review.catalogue.metrics.values()
             if m.model == "sales_lines" and m.kind == "aggregate" and m.agg != "count_distinct"]
    assert {"gmv", "refund_amount", "units", "cogs"} <= set(cheap)
    gmv = engine.compute("gmv", Y2025, ("month",))
    assert cache.computed == len(cheap)  # one scan, one stored result per aggregate
    refunds = engine.compute("refund_amount", Y2025, ("month",))
    units = engine.compute("units", Y2025, ("platform",), {"platform": ["抖音", "天猫"]})
    assert cache.computed == 2 * len(cheap)  # refunds came from the first scan; units is new
    orders = engine.compute("orders", Y2025, ("month",))  # COUNT(DISTINCT): not speculated
    assert cache.computed == 2 * len(cheap) + 1
    # By hand: January O3 80 (refund 10), June O4 90 + O5 10, November 36.
    assert list(gmv["value"]) == [80.0, 100.0, 36.0]
    assert list(refunds["value"]) == [10.0, 0.0, 0.0]
    assert list(orders["value"]) == [1.0, 2.0, 1.0]
    alone = Engine(review.store, review.catalogue, ResultCache(tmp_path / "off", enabled=False))
    for frame, args in ((gmv, ("gmv", Y2025, ("month",))), (refunds, ("refund_amount", Y2025, ("month",))),
                        (units, ("units", Y2025, ("platform",), {"platform": ["抖音", "天猫"]}))):
        assert frame.equals(alone.compute(*args))


def test_breakdown_by_category_adds_up(review):
    frame = review.engine.compute("net_sales", Y2025, ("category",))
    values = dict(zip(frame["category"], frame["value"], strict=True))
    # 零食: O3 P1 30−10, O5 10, O7 36 = 66; 家居: O3 P2 50, O4 90 = 140
    assert values == pytest.approx({"零食": 66.0, "家居": 140.0})


def test_yoy_comparison(review):
    cmp = review.engine.compare("net_sales", Y2025, "yoy")
    assert (cmp.value, cmp.base) == (206.0, 70.0)
    assert cmp.change == pytest.approx(206 / 70 - 1)


def test_rate_changes_in_percentage_points(review):
    cmp = review.engine.compare("repurchase_rate", Y2025, "yoy")
    # 2024: U1 one order, U2 one order → 0 repeat buyers → 0.0; 2025: both buyers repeat → 1.0
    assert cmp.base == pytest.approx(0.0)
    assert cmp.change == pytest.approx(1.0)  # +100 percentage points, not a % of zero


def test_comparison_base_zero_is_undefined(review):
    cmp = review.engine.compare("net_sales", parse_period("2025-11"), "yoy", {"platform": "抖音"})
    assert cmp.value == pytest.approx(36.0)
    assert cmp.base is None or cmp.base == 0
    assert cmp.change is None


def test_missing_prior_year_is_undefined(review):
    cmp = review.engine.compare("orders", Y2024, "yoy")  # no 2023 data at all
    assert cmp.value == 2.0
    assert cmp.change is None


def test_previous_period_comparison(review):
    cmp = review.engine.compare("net_sales", parse_period("2025-Q2"), "prev")
    assert (cmp.value, cmp.base) == (100.0, 70.0)  # Q1 is January's 70
    assert cmp.change == pytest.approx(100 / 70 - 1)


def test_as_of_makes_comparison_like_for_like(tmp_path):
    review = tiny_review(tmp_path, as_of="2025-06-30")
    period = review.period()
    assert (period.start.isoformat(), period.end.isoformat()) == ("2025-01-01", "2025-06-30")
    cmp = review.engine.compare("net_sales", period, "yoy")
    # 2025 H1: 70 + 100 = 170; 2024 H1: only O1 (20) — O2 was paid in July.
    assert (cmp.value, cmp.base) == (170.0, 20.0)
    assert cmp.change == pytest.approx(170 / 20 - 1)


def test_without_users_file_member_dimensions_are_not_offered(tmp_path):
    review = tiny_review(tmp_path, with_users=False)
    assert "member_level" not in review.catalogue.dimensions_of("net_sales", review.engine.available)
    assert review.engine.value("net_sales", Y2025) == 206.0


def test_unknown_metric_suggests_the_near_miss(review):
    with pytest.raises(MetricError, match='Did you mean "net_sales"'):
        review.engine.compute("net_sale", Y2025)


def test_unknown_dimension_lists_valid_ones(review):
    with pytest.raises(MetricError, match="platform"):
        review.engine.compute("net_sales", Y2025, ("platfrom",))


def test_ratio_with_zero_denominator_is_missing(review):
    value = review.engine.value("aov", parse_period("2025-03"))
    assert value is None or math.isnan(value)


def test_small_groups_of_people_are_merged(tmp_path):
    review = tiny_review(tmp_path, min_group_size=2)
    # 2025 buyers per member level: 金卡会员 {U1}, 普通会员 {U3}: every group < 2 → one 其他 row,
    # and its buyers are counted exactly (U1 and U3), not summed.
    buyers = review.engine.compute("buyers", Y2025, ("member_level",))
    assert list(buyers["member_level"]) == ["其他"] and list(buyers["value"]) == [2.0]
    sales = review.engine.compute("net_sales", Y2025, ("member_level",))
    assert list(sales["member_level"]) == ["其他"] and list(sales["value"]) == [206.0]
    # Platforms describe no one: 天猫, 京东 and 抖音 are shown with their one buyer each.
    platforms = review.engine.compute("buyers", Y2025, ("platform",))
    assert list(platforms["platform"]) == ["京东", "天猫", "抖音"] and list(platforms["value"]) == [1.0, 1.0, 1.0]


def test_new_buyers_have_no_comparison_when_the_data_starts_in_the_base_year(review):
    # Orders start in 2024: every 2024 buyer looks new, so 2025 vs 2024 is undefined ("—").
    cmp = review.engine.compare("new_buyers", Y2025, "yoy")
    assert cmp.value == 1.0 and cmp.base is None and cmp.change is None
    # A metric without that dependency still compares.
    assert review.engine.compare("buyers", Y2025, "yoy").change == pytest.approx(0.0)


def test_scores_change_by_difference_not_percent(review):
    from fupan.semantics.engine import change_between

    nps = review.catalogue.metrics["nps"]
    assert nps.change_kind == "decimal_change"
    assert change_between(nps, 44.0, 40.0) == pytest.approx(4.0)  # +4 points, not +10%
    assert review.catalogue.metrics["roi"].change_kind == "ratio_change"
    assert review.catalogue.metrics["net_sales"].change_kind == "pct_change"
    assert change_between(review.catalogue.metrics["net_sales"], 44.0, 40.0) == pytest.approx(0.1)


def test_compared_breakdowns_merge_the_same_small_groups(tmp_path):
    review = tiny_review(tmp_path, min_group_size=2)
    # By membership: 2025 has 2 member buyers (U1, U3: kept); 2024 has 1 member (U1) and 1
    # non-member (U2). Compared, both years merge both into 其他 (2 buyers in each year), so
    # the change is for the same group on both sides.
    frame = review.engine.compare_by("net_sales", Y2025, ("member_status",), "yoy")
    assert list(frame["member_status"]) == ["其他"]
    assert (frame["value"].item(), frame["base"].item()) == (206.0, 70.0)
    # Alone, 2025 keeps its members.
    assert list(review.engine.compute("net_sales", Y2025, ("member_status",))["member_status"]) == ["会员"]


def test_a_merged_group_still_too_small_keeps_its_people(tmp_path):
    review = tiny_review(tmp_path, min_group_size=3)
    # 2025 member levels hold 1 buyer each and 2 distinct buyers together: below 3, and there
    # is no other group to take in, so 其他 is the whole: the 2 buyers and 206 of net sales
    # the headline figures show (never an empty table, never a total short of them).
    buyers = review.engine.compute("buyers", Y2025, ("member_level",))
    assert list(buyers["member_level"]) == ["其他"] and list(buyers["value"]) == [2.0]
    assert review.engine.compute("net_sales", Y2025, ("member_level",))["value"].tolist() == [206.0]


def test_buyers_by_a_dimension_share_the_privacy_check_of_that_dimension(tmp_path):
    """The people per category (the privacy check) and the buyers by category are one query:
    the second question is answered from the first one's result."""
    review = tiny_review(tmp_path, min_group_size=2)
    engine = review.engine
    review.catalogue.people_dimensions |= {"category"}  # as if declared `describes: people`
    sizes = engine.group_sizes(review.catalogue.models["sales_lines"], "category", Y2025, {})
    assert list(sizes["grp"]) == ["家居", "零食"] and list(sizes["people"]) == [2.0, 2.0]
    computed = engine.cache.computed
    buyers = engine.compute("buyers", Y2025, ("category",))
    assert list(buyers["category"]) == ["家居", "零食"] and list(buyers["value"]) == [2.0, 2.0]
    assert engine.cache.computed == computed, "buyers by category were counted again"



def test_a_dimension_that_is_not_text_is_checked_as_text(tmp_path):
    """Merged values are compared as DuckDB writes them as text: a number-valued dimension's
    people are counted by that text (quantities 1 and 2 become '1' and '2')."""
    review = tiny_review(tmp_path, min_group_size=2)
    model = review.catalogue.models["sales_lines"]
    model.dimensions["units_per_line"] = "quantity"
    review.catalogue.people_dimensions |= {"units_per_line"}  # as if declared `describes: people`
    sizes = review.engine.group_sizes(model, "units_per_line", Y2025, {})
    assert all(isinstance(v, str) for v in sizes["grp"]) and list(sizes["grp"]) == sorted(sizes["grp"])
    assert list(sizes["grp"]) == ["1", "2", "3", "4"] and set(sizes["people"]) == {1.0}
    # Every quantity has one buyer: all merge into 其他, whose buyers (U1, U3) are counted once.
    by_units = review.engine.compute("buyers", Y2025, ("units_per_line",))
    assert list(by_units["units_per_line"]) == ["其他"] and list(by_units["value"]) == [2.0]


# ---- the public API the analyses use (per_entity, rows, merge_small_groups) -------------------

def test_per_entity_rows_per_sku(review):
    from fupan.semantics.sql import Buckets

    engine = review.engine
    frame = engine.per_entity("sku", {"since": "days_since_last_sale", "sales": "net_sales"}, Y2025)
    # P1 last sold 2025-11-11 (50 days before 12-31), P2 on 2025-06-18 (196 days); net sales
    # P1 20 + 10 + 36 = 66 (30 − 10 refunded, 10, 36), P2 50 + 90 = 140.
    assert frame.values.tolist() == [["P1", 50.0, 66.0], ["P2", 196.0, 140.0]]
    # Per buyer only through a step: U1 and U3 both have 2 orders, 80 + 126.
    buckets = engine.per_entity("user_id", {"orders": "orders", "sales": "net_sales"}, Y2025, step=Buckets("orders", 5))
    assert buckets[["bucket", "entities", "sales_sum"]].values.tolist() == [[2, 2, 206.0]]


def test_per_entity_refuses_rows_of_people_and_mixed_models(review):
    with pytest.raises(MetricError, match="never leave the database"):
        review.engine.per_entity("user_id", {"sales": "net_sales"}, Y2025)
    with pytest.raises(MetricError, match="different models"):
        review.engine.per_entity("user_id", {"sales": "net_sales", "new": "new_buyers"}, Y2025)
    with pytest.raises(MetricError, match="column of sales_lines"):
        review.engine.per_entity("buyer", {"sales": "net_sales"}, Y2025)


def test_rows_of_a_small_dataset(review):
    from fupan.semantics.sql import Between

    engine = review.engine
    assert engine.rows("products", ["sku", "category"], where={"category": "零食"}).values.tolist() == [["P1", "零食"]]
    counted = engine.rows("products", by=["category"], aggregates={"n": ("count", "*"), "cost": ("max", "unit_cost")},
                          where={"unit_cost": Between(low=1)}, order_by=["-cost"])
    assert counted.values.tolist() == [["家居", 1, 30], ["零食", 1, 4]]
    with pytest.raises(MetricError, match="order-level"):
        engine.rows("orders", ["order_id"])
    with pytest.raises(MetricError, match="unknown column|nme"):
        engine.rows("products", ["nme"])


def test_merge_small_groups_is_the_engine_rule(review):
    import pandas as pd

    frame = pd.DataFrame({"function": ["运营", "运营", "客服", "财务"], "people": [2, 1, 1, 1]})
    merged = review.engine.merge_small_groups(frame, "function", "people", min_group_size=2)
    # 客服 and 财务 (1 each) merge into 其他 (2 people: shown); 运营 has 3.
    assert merged["function"].tolist() == ["运营", "运营", "其他", "其他"]
    # With 3 as the minimum the merged group (2) is still too small: the smallest other group
    # (运营, 3) joins it, so the rows still hold all 5 people.
    assert review.engine.merge_small_groups(frame, "function", "people", min_group_size=3)["function"].tolist() == [
        "其他"] * 4
    # Only a dimension that describes people merges.
    products = frame.rename(columns={"function": "product"})
    assert review.engine.merge_small_groups(products, "product", "people", min_group_size=2) is products
    assert review.engine.merge_small_groups(frame, "function", "people", min_group_size=1) is frame
