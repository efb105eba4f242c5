"""The engine on the committed sample data, checked against plain pandas, and breakdowns that
must add up to their totals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fupan.semantics.periods import parse_period
from fupan.site.context import build_review

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
YEAR = 2025


@pytest.fixture(scope="module")
def review():
    # min_group_size 1: this module checks arithmetic, not privacy merging.
    return build_review({"review": {"year": YEAR, "min_group_size": 1}}, REPO)


@pytest.fixture(scope="module")
def by_month_pandas():
    """Net sales, orders, AOV, buyers, repurchase rate and conversion rate by month of the year,
    computed with plain pandas from the files (Chinese headers as exported)."""
    orders = pd.read_parquet(DATA / "orders.parquet", columns=["订单编号", "买家ID", "支付时间"])
    lines = pd.read_parquet(DATA / "order_lines.parquet", columns=["订单编号", "成交金额", "成交单价", "退货数量"])
    paid = orders[orders["支付时间"].notna() & (orders["支付时间"].dt.year == YEAR)].copy()
    paid["month"] = paid["支付时间"].dt.strftime("%Y-%m")
    lines = lines.merge(paid[["订单编号", "month"]], on="订单编号")
    lines["net"] = lines["成交金额"] - lines["退货数量"].fillna(0) * lines["成交单价"]
    out = pd.DataFrame({"net_sales": lines.groupby("month")["net"].sum()})
    out["orders"] = paid.groupby("month")["订单编号"].nunique()
    out["aov"] = out["net_sales"] / out["orders"]
    out["buyers"] = paid.groupby("month")["买家ID"].nunique()
    per_buyer = paid.groupby(["month", "买家ID"])["订单编号"].nunique()
    out["repurchase_rate"] = (per_buyer >= 2).groupby("month").sum() / out["buyers"]
    traffic = pd.read_csv(DATA / "traffic.csv", usecols=["日期", "访客数"])
    traffic = traffic[traffic["日期"].str.startswith(str(YEAR))]
    visitors = traffic.groupby(traffic["日期"].str[:7])["访客数"].sum()
    out["conversion_rate"] = out["orders"] / visitors
    return out


@pytest.mark.parametrize("metric", ["net_sales", "orders", "aov", "buyers", "repurchase_rate", "conversion_rate"])
def test_engine_matches_pandas_by_month(review, by_month_pandas, metric):
    frame = review.engine.compute(metric, parse_period(str(YEAR)), ("month",)).set_index("month")["value"]
    expected = by_month_pandas[metric]
    assert list(frame.index) == list(expected.index)
    np.testing.assert_allclose(frame.to_numpy(float), expected.to_numpy(float), rtol=1e-9)


DIMENSIONS = ["platform", "source", "device", "city_tier", "category", "member_level", "month", "quarter",
              "channel", "reason", "function", "social_platform", "content_type", "training_type", "supplier",
              "area", "sku"]


def test_additive_breakdowns_add_up_to_the_total(review):
    period = parse_period(str(YEAR))
    checked = 0
    for metric in review.catalogue.metrics.values():
        if not metric.additive:
            continue
        total = review.engine.value(metric.id, period)
        for dim in review.catalogue.dimensions_of(metric.id, review.engine.available):
            if dim not in DIMENSIONS:
                continue
            parts = review.engine.compute(metric.id, period, (dim,))
            assert parts["value"].sum() == pytest.approx(total, rel=1e-9), f"{metric.id} by {dim}"
            checked += 1
    assert checked > 60
