"""The privacy check's bounds (Engine._small_values): groups whose people are bounded above by
their rows or below by a hashed sample are decided without counting every (group, person) pair;
the groups it merges are exactly those with fewer people than the threshold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fupan.semantics.engine import Engine
from fupan.semantics.periods import parse_period
from fupan.site.context import build_review
from fupan.speed.cache import ResultCache
from tiny import tiny_review

REPO = Path(__file__).resolve().parents[1]
Y2025 = parse_period("2025")
BOUNDS = "% 16 = 0"  # the bounds query's sample of people


def _recording(store) -> list[str]:
    ran: list[str] = []
    query = store.query

    def record(sql: str, params: list | None = None):
        ran.append(sql)
        return query(sql, params)

    store.query = record
    return ran


def _asked_groups(sql: str, dim: str) -> set[str]:
    """The values an exact count was restricted to (`dim IN (...)`)."""
    found = re.search(rf"\b{dim} IN \(([^)]*)\)", sql)
    assert found, sql
    return {v.strip()[1:-1].replace("''", "'") for v in found.group(1).split(", ")}


def test_the_tiny_shop_decides_each_group_the_cheapest_way(tmp_path):
    """2025 by category, threshold 3 (by hand): 家居 has 2 lines (O3, O4), so at most 2 buyers:
    small without counting. 零食 has 3 lines (O3, O5, O7) but 2 buyers (U1, U3): the bounds
    cannot tell, so its buyers alone are counted exactly: 2 < 3, small. Both merge into 其他,
    whose 2 buyers are still fewer than 3 with no other group to take in: 其他 is the whole.
    (Categories describe no one: declared so here to exercise the check.)"""
    review = tiny_review(tmp_path, min_group_size=3)
    review.catalogue.people_dimensions |= {"category"}
    ran = _recording(review.store)
    model = review.catalogue.models["sales_lines"]
    assert review.engine.small_groups(model, "category", Y2025, {}) == ("家居", "零食")
    assert len([sql for sql in ran if BOUNDS in sql]) == 1
    exact = [sql for sql in ran if BOUNDS not in sql and "COUNT(DISTINCT user_id)" in sql and "GROUP BY" in sql
             and " IN (" in sql]
    assert len(exact) == 1 and _asked_groups(exact[0], "category") == {"零食"}
    assert review.engine.compute("net_sales", Y2025, ("category",))["value"].tolist() == [206.0]


def test_the_buyers_by_a_group_are_counted_once_for_the_check_and_the_answer(tmp_path):
    """Asked for the buyers by category, the check uses that count itself (no bounds query)."""
    review = tiny_review(tmp_path, min_group_size=2)
    review.catalogue.people_dimensions |= {"category"}  # as if declared `describes: people`
    ran = _recording(review.store)
    buyers = review.engine.compute("buyers", Y2025, ("category",))
    assert list(buyers["category"]) == ["家居", "零食"] and list(buyers["value"]) == [2.0, 2.0]
    assert not [sql for sql in ran if BOUNDS in sql]
    assert len([sql for sql in ran if "COUNT(DISTINCT user_id)" in sql]) == 1


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    review = build_review({"review": {"year": 2025, "min_group_size": 100}}, REPO)
    # Products describe no one; declared people here to exercise the check on many groups.
    review.catalogue.people_dimensions |= {"product", "sku"}
    review.store.ensure_registered()
    return review, tmp_path_factory


@pytest.mark.parametrize("dim", ["product", "sku"])
def test_the_sample_merges_exactly_the_groups_under_the_threshold(sample, dim):
    """Sample data, 2025, threshold 100: the merged products (SKUs) are those with fewer than
    100 buyers, counted here straight from the files; the bounds left only some of the groups
    with 100 rows or more to count exactly, and never one with fewer."""
    review, tmp = sample
    people = review.store.query(f"""
        SELECT {'p.name' if dim == 'product' else 'l.sku'} AS grp, COUNT(DISTINCT o.user_id) AS people,
               COUNT(*) AS lines
        FROM order_lines l JOIN orders o ON l.order_id = o.order_id JOIN products p ON l.sku = p.sku
        WHERE o.paid_at >= DATE '2025-01-01' AND o.paid_at < DATE '2026-01-01' GROUP BY 1""")
    under = set(people.loc[people["people"] < 100, "grp"])
    busy = set(people.loc[people["lines"] >= 100, "grp"])
    assert under and under != set(people["grp"])
    engine = Engine(review.store, review.catalogue, ResultCache(tmp.mktemp("results")), min_group_size=100)
    ran = _recording(review.store)
    small = engine.small_groups(review.catalogue.models["sales_lines"], dim, Y2025, {})
    assert set(small) == under
    exact = [sql for sql in ran if BOUNDS not in sql and "COUNT(DISTINCT user_id)" in sql and " IN (" in sql
             and "GROUP BY" in sql]  # not the merged group's size
    assert len(exact) == 1
    asked = _asked_groups(exact[0], dim)
    assert asked <= busy and 0 < len(asked) < len(busy)
    most = people.sort_values("people").iloc[-1]["grp"]  # thousands of buyers: decided by the sample
    assert most not in asked
