"""Distinct counts of orders and buyers answered from paid_orders (`rolls_up_to`, rollup.py):
the same numbers as counting over the order lines, by hand on the tiny shop and against the
counts as written on the sample data."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
import tiny
from fupan.data.contract import load_contract
from fupan.semantics.catalogue import CATALOGUE_PATH, CatalogueError, load_catalogue
from fupan.semantics.engine import Engine
from fupan.semantics.periods import parse_period
from fupan.site.context import build_review
from fupan.speed.cache import ResultCache
from fupan.speed.rollup import RollUps
from tiny import tiny_review

REPO = Path(__file__).resolve().parents[1]
Y2025 = parse_period("2025")
ORDER_LEVEL = {"user_id", "paid_at", "platform", "source", "device", "province", "city", "city_tier",
               "campaign_id"}
FROM_USERS = {"member_level", "member_status", "gender", "birth_year"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(load_contract(REPO / "data" / "datasets.yml"), CATALOGUE_PATH)


def test_shared_columns_are_those_both_models_define_alike(catalogue):
    lines = catalogue.models["sales_lines"]
    with_users = RollUps(catalogue, {"orders", "order_lines", "products", "users"})
    # Not shared: order_id (the line's own column), refund_amount (the line's refund, not the
    # order's), first_paid_at (from paid_orders' subquery), product columns (lines only).
    assert with_users.shared_columns(lines) == ORDER_LEVEL | FROM_USERS
    without_users = RollUps(catalogue, {"orders", "order_lines", "products"})
    assert without_users.shared_columns(lines) == ORDER_LEVEL


@pytest.mark.parametrize(
    ("metric", "dims", "expected"),
    [
        ("orders", (), ("paid_orders", "count")),  # one paid_orders row per order
        ("orders", ("platform",), ("paid_orders", "count")),
        ("orders", ("month", "member_level"), ("paid_orders", "count")),
        ("buyers", ("age_band",), ("paid_orders", "count_distinct")),
        ("buyers", ("city", "device"), ("paid_orders", "count_distinct")),
        ("orders", ("category",), None),  # an order with lines in two categories counts in both
        ("buyers", ("platform", "sku"), None),
        ("gmv", ("platform",), None),  # a sum of line amounts: only the lines have it
        ("new_buyers", (), None),  # already on paid_orders
        ("repeat_buyers", ("platform",), None),  # per buyer: not a distinct count
    ],
)
def test_which_counts_move_to_paid_orders(catalogue, metric, dims, expected):
    answered = RollUps(catalogue, {"orders", "order_lines", "products", "users"}).answer(
        catalogue.metrics[metric], dims)
    assert (None if answered is None else (answered.model, answered.agg)) == expected
    if answered is not None:
        assert answered.id == metric


@pytest.mark.parametrize(
    ("metric_filter", "moves"),
    [("platform = '天猫'", True), ("member_level <> '非会员'", True),
     ("category = '零食'", False),  # a line-level filter
     ("refund_amount > 0", False)],  # the line's refund, not the order's
)
def test_a_metric_filter_moves_only_on_shared_columns(catalogue, metric_filter, moves):
    buyers = dataclasses.replace(catalogue.metrics["buyers"], filter=metric_filter)
    answered = RollUps(catalogue, {"orders", "order_lines", "products", "users"}).answer(buyers, ("platform",))
    assert (answered is not None) == moves


LINES, PAID_ORDERS = "models/sales_lines-", "models/paid_orders-"  # stored rows, as read by the SQL run


def _recording(review) -> list[str]:
    """SQL the review's store runs from now on."""
    ran: list[str] = []
    query = review.store.query

    def record(sql: str, params: list | None = None):
        ran.append(sql)
        return query(sql, params)

    review.store.query = record
    return ran


def test_counts_move_to_paid_orders_once_its_rows_are_stored(tmp_path):
    review = tiny_review(tmp_path)
    ran = _recording(review)
    # Nothing has stored paid_orders yet: the lines count (storing it for this would cost more).
    # 2025 by platform: 天猫 O3, 京东 O5, 抖音 O4 + O7.
    orders = review.engine.compute("orders", Y2025, ("platform",))
    assert dict(zip(orders["platform"], orders["value"], strict=True)) == {"京东": 1, "天猫": 1, "抖音": 2}
    assert ran and not any(PAID_ORDERS in sql for sql in ran)
    assert review.engine.value("new_buyers", Y2025) == 1  # U3; counted on paid_orders, now stored
    ran.clear()
    # By month: January O3 (U1), June O4 (U3) + O5 (U1), November O7 (U3).
    orders = review.engine.compute("orders", Y2025, ("month",))
    buyers = review.engine.compute("buyers", Y2025, ("month",))
    assert dict(zip(orders["month"], orders["value"], strict=True)) == {"2025-01": 1, "2025-06": 2, "2025-11": 1}
    assert dict(zip(buyers["month"], buyers["value"], strict=True)) == {"2025-01": 1, "2025-06": 2, "2025-11": 1}
    counted = [sql for sql in ran if "COUNT(" in sql and "month" in sql]
    assert len(counted) == 2 and all(PAID_ORDERS in sql and LINES not in sql for sql in counted)
    assert "COUNT(order_id)" in counted[0] and "COUNT(DISTINCT user_id)" in counted[1]
    # By category the lines count: O3 has a 零食 and a 家居 line, so the parts add up to 5 > 4.
    by_category = review.engine.compute("orders", Y2025, ("category",))
    assert dict(zip(by_category["category"], by_category["value"], strict=True)) == {"家居": 2, "零食": 3}
    assert LINES in ran[-1]


def test_a_paid_order_without_lines_keeps_the_counts_on_the_lines(tmp_path, monkeypatch, caplog):
    # O8 is paid (天猫, U2) but has no line: the lines know 4 orders and 2 buyers in 2025;
    # paid_orders would say 5 and 3. The check sees the mismatch and the lines count.
    monkeypatch.setattr(tiny, "ORDERS", [*tiny.ORDERS, ("O8", "U2", "天猫", "2025-08-01 10:00:00", [])])
    review = tiny_review(tmp_path)
    review.engine.value("new_buyers", Y2025)  # paid_orders stored
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.fupan"):
        orders = review.engine.compute("orders", Y2025, ("platform",))
    assert dict(zip(orders["platform"], orders["value"], strict=True)) == {"京东": 1, "天猫": 1, "抖音": 2}
    assert review.engine.value("orders", Y2025) == 4
    assert review.engine.value("buyers", Y2025) == 2
    assert "1 order_id key(s) of model sales_lines and model paid_orders do not match" in caplog.text


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample data with privacy merging on (cities under 300 buyers merge: 桂林 267 and
    岳阳 289 in 2024): an engine that rolls up, with its own result cache and paid_orders
    stored, and one counting on the lines as written, without a result cache."""
    review = build_review({"review": {"year": 2025, "min_group_size": 300}}, REPO)
    rolling = Engine(review.store, review.catalogue, ResultCache(tmp_path_factory.mktemp("on")),
                     min_group_size=300)
    rolling.value("new_buyers", Y2025)
    as_written = Engine(review.store, review.catalogue, ResultCache(tmp_path_factory.mktemp("off"), enabled=False),
                        min_group_size=300, use_roll_ups=False)
    return rolling, as_written, _recording(review)


ORDER_LEVEL_QUESTIONS = [((), {}), (("month",), {}), (("platform",), {}), (("city",), {}),
                         (("member_level", "quarter"), {}), (("age_band",), {"platform": "天猫"})]
LINE_LEVEL_QUESTIONS = [(("category",), {}), (("device",), {"category": "零食"})]


@pytest.mark.parametrize(
    ("metric", "by", "filters"),
    [(m, by, filters) for m in ("orders", "buyers", "aov", "purchase_frequency", "repurchase_rate")
     for by, filters in ORDER_LEVEL_QUESTIONS]
    # repurchase_rate has no category: repeat buyers are counted on paid_orders.
    + [(m, by, filters) for m in ("orders", "buyers", "aov", "purchase_frequency")
       for by, filters in LINE_LEVEL_QUESTIONS],
)
def test_the_sample_counts_are_those_of_the_lines(sample, metric, by, filters):
    rolling, as_written, ran = sample
    ran.clear()
    computed_before = rolling.cache.computed
    if by:
        routed = rolling.compare_by(metric, Y2025, by, "yoy", filters)
        assert routed.equals(as_written.compare_by(metric, Y2025, by, "yoy", filters))
        if "city" in by:  # privacy merging happened, on the same groups
            assert "其他" in set(routed["city"])
            if metric == "orders":  # the first to ask: the people per city counted on paid_orders
                assert any(sql.startswith("SELECT city AS city, CAST(COUNT(DISTINCT user_id) AS DOUBLE)")
                           and PAID_ORDERS in sql and LINES not in sql for sql in ran)
    else:
        assert rolling.value(metric, Y2025, filters) == as_written.value(metric, Y2025, filters)
    # Asked first (the ratios then read them from the cache). Buyers by a dimension with a
    # privacy check may run nothing: the check's people per group are those buyers.
    if metric in ("orders", "buyers") and rolling.cache.computed > computed_before:
        on_paid_orders = [sql for sql in ran if PAID_ORDERS in sql and LINES not in sql]
        assert bool(on_paid_orders) == ((by, filters) in ORDER_LEVEL_QUESTIONS)


def test_batched_counts_are_those_of_the_lines(sample):
    """Prefetch batches a model's aggregates in one query: routed counts join paid_orders' own
    (member buyers and buyers for the member share) and still give the counts as written."""
    rolling, as_written, _ = sample
    ratios = ["member_share", "purchase_frequency", "repurchase_rate", "aov"]
    periods = [Y2025, parse_period("2024"), parse_period("2025-Q2")]
    for by in [(), ("platform",), ("month",)]:
        rolling.prefetch(ratios, periods, by)
        for metric in ratios:
            for period in periods:
                assert rolling.compute(metric, period, by).equals(as_written.compute(metric, period, by))


def test_results_counted_on_paid_orders_are_not_read_as_counted_on_the_lines(tmp_path):
    review = tiny_review(tmp_path)
    review.engine.value("new_buyers", Y2025)  # paid_orders stored: orders are counted there
    review.engine.value("orders", Y2025)
    ran = _recording(review)
    as_written = Engine(review.store, review.catalogue, ResultCache(review.engine.cache.dir.parent),
                        use_roll_ups=False)  # the same result cache
    assert as_written.value("orders", Y2025) == 4
    # Its own query, not the entry the rolling engine stored under the same SQL as written.
    assert any("COUNT(DISTINCT order_id)" in sql and LINES in sql for sql in ran)


@pytest.mark.parametrize(
    ("rolls_up_to", "problem"),
    [
        ("{model: nowhere, key: order_id}", "rolls_up_to: unknown model \"nowhere\""),
        ("{model: orders_model, key: sku}", "key unknown column of orders_model \"sku\""),
        ("orders_model", "`rolls_up_to` needs exactly `model` and `key`"),
        ("{model: orders_model, key: order_id}\n    where: o.paid_at >= {start}",
         "model 'lines' uses a period placeholder in its rows"),
    ],
)
def test_a_bad_roll_up_is_reported_with_its_line(tmp_path, rolls_up_to, problem):
    text = f"""models:
  lines:
    datasets: [order_lines, orders]
    select: [l.order_id AS order_id, l.sku AS sku, o.paid_at AS paid_at]
    from: order_lines l JOIN orders o ON l.order_id = o.order_id
    rolls_up_to: {rolls_up_to}
    time: paid_at
  orders_model:
    datasets: [orders]
    select: [o.order_id AS order_id, o.paid_at AS paid_at]
    from: orders o
    time: paid_at
"""
    path = tmp_path / "metrics.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(load_contract(REPO / "data" / "datasets.yml"), path)
    assert any(p.startswith("line 2: model 'lines'") and problem in p for p in caught.value.problems), \
        caught.value.problems


@pytest.mark.parametrize(("fine", "coarse", "disagreements"), [
    (["O1", "O1", "O2"], ["O1", "O2"], 0),           # two lines of O1, one row each: holds
    (["O1", "O4"], ["O1"], 1),                        # O4 has lines but no coarse row
    (["O1"], ["O1", "O5"], 1),                        # O5 (a paid order) has no line
    (["O1", "O2"], ["O1", "O2", "O2"], 1),            # O2 repeated on the coarse side
    (["O1", "O1", "O2", None], ["O1", "O2", "O3", "O3"], 2),  # a NULL key never matches; O3
])
def test_the_roll_up_check_counts_the_keys_that_do_not_match_one_to_one(fine, coarse, disagreements):
    import duckdb
    from fupan.speed.rollup import agreement_sql

    def keys(values: list) -> str:
        return " UNION ALL ".join(f"SELECT {'NULL' if v is None else repr(v)} AS order_id" for v in values)

    sql = agreement_sql(keys(fine), keys(coarse), "order_id")
    assert duckdb.connect().execute(sql).fetchall() == [(disagreements,)]
