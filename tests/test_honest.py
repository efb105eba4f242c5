"""Honest defaults (#19): what the data cannot say is said, never shown as a real figure.

Months without data: the tiny shop (tests/tiny.py) plus one order of P1 × 1 @ 10 on the 10th of
every month of 2025 it has none in (30 December: a whole year), except March: orders in every
month but March.

By hand, net sales 2025 per month: Jan 70 (O3: 80 − 10 refunded), Feb 10, Mar none, Apr 10,
May 10, Jun 100 (O4 90 + O5 10), Jul–Oct 10 each, Nov 36 (O7), Dec 10.
"""

from __future__ import annotations

import html
import json
import logging
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from tiny import lines_frame, orders_frame, write_tiny_data

# Months of 2025 the tiny shop has no order in, but March: one order each.
FILLED = [2, 4, 5, 7, 8, 9, 10, 12]
NET_SALES = {1: 70.0, 2: 10.0, 3: None, 4: 10.0, 5: 10.0, 6: 100.0, 7: 10.0, 8: 10.0, 9: 10.0, 10: 10.0,
             11: 36.0, 12: 10.0}


def write_gap_data(data: Path) -> Path:
    """The tiny shop with an order in every month of 2025 except March."""
    write_tiny_data(data)
    orders, lines = orders_frame(), lines_frame()
    extra = orders.iloc[[0] * len(FILLED)].copy()
    extra["订单编号"] = [f"G{m}" for m in FILLED]
    paid = pd.to_datetime([f"2025-{m:02d}-{30 if m == 12 else 10} 12:00" for m in FILLED])
    extra["支付时间"] = extra["下单时间"] = paid.astype("datetime64[us]")
    extra["实付金额"], extra["退款金额"] = 10.0, 0.0
    extra_lines = pd.DataFrame([{"订单编号": f"G{m}", "行号": 1, "商品编码": "P1", "数量": 1, "成交单价": 10.0,
                                 "成交金额": 10.0, "退货数量": 0} for m in FILLED])
    pd.concat([orders, extra], ignore_index=True).to_parquet(data / "orders.parquet", index=False)
    pd.concat([lines, extra_lines], ignore_index=True).to_parquet(data / "order_lines.parquet", index=False)
    return data


@pytest.fixture(scope="module")
def gap(tmp_path_factory):
    from fupan.site.context import build_review

    project = tmp_path_factory.mktemp("gap") / "project"
    write_gap_data(project / "data")
    (project / "docs").mkdir()
    review = build_review({"review": {"company": "测试", "year": 2025, "locale": "zh-CN", "min_group_size": 1}},
                          project)
    # What the reminders macro reads of MkDocs: the docs folder (no commentary in it here).
    review.env = SimpleNamespace(conf={"docs_dir": str(project / "docs"), "use_directory_urls": True}, page=None)
    return review


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def cells(html: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(html)
    return parser.rows


def test_march_is_the_one_month_without_orders(gap) -> None:
    from fupan.site.reminders import months_without_data

    assert not gap.config.as_of_inferred  # the last order is on 30 December: a whole year
    assert gap.engine.months_without_rows(["orders"], gap.period()) == ["2025-03"]
    assert gap.engine.months_without_rows(["orders"], gap.period("2025-Q2")) == []
    # order lines are not a record of every month (a month without lines is one without orders)
    assert gap.engine.months_without_rows(["order_lines", "products"], gap.period()) == []
    assert months_without_data(gap) == [("orders", ["2025-03"])]


def test_the_monthly_chart_marks_march_and_leaves_no_zero(gap) -> None:
    from fupan.site.report_macros import monthly_trend

    html_out = monthly_trend(gap, "net_sales")
    spec = json.loads(html.unescape(re.search(r'data-spec="([^"]*)"', html_out).group(1)))
    points = [row for rows in spec["datasets"].values() for row in rows if row.get("series") == "2025年"]
    # March keeps its place on the axis, marked; the review year has no point there (not a zero)
    assert [p["x"] for p in points] == ["1月", "2月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月",
                                        "12月"]
    assert [p["value"] for p in points] == [v for v in NET_SALES.values() if v is not None]
    assert "3月（无数据）" in json.dumps(spec, ensure_ascii=False)
    assert len(set(re.findall(r"(\d+月)（无数据）", html.unescape(html_out)))) == 1


def test_the_month_table_shows_march_without_a_figure_and_april_without_a_change(gap) -> None:
    from fupan.site.section_macros import period_table

    rows = cells(period_table(gap, ["net_sales"]))[1:]
    by_month = {int(re.match(r"2025年(\d+)月", row[0]).group(1)): row for row in rows}
    assert sorted(by_month) == list(range(1, 13))
    assert by_month[3] == ["2025年3月（无数据）", "—", "—"]
    # April follows a month without data: no MoM (it is not compared with February)
    assert by_month[4][1:] == ["¥10.00", "—"]
    # by hand: February 10 vs January 70: −85.7 %; May 10 vs April 10: 0.0 %
    assert by_month[2][1:] == ["¥10.00", "-85.7%"] and by_month[5][2] == "0.0%"
    assert [r[0] for r in rows].count("2025年3月（无数据）") == 1 and sum("无数据" in r[0] for r in rows) == 1


def test_the_table_by_month_keeps_march_marked(gap) -> None:
    from fupan.site.report_macros import table

    rows = cells(table(gap, ["net_sales", "orders"], by="month", totals=True))
    body = rows[1:-1]
    assert [r[0] for r in body] == [f"2025年{m}月" + ("（无数据）" if m == 3 else "") for m in range(1, 13)]
    assert body[2][1:] == ["—", "—"]
    # the total is the year's: 216 + 8 × 10 − 10 refunded = 286 over 4 + 8 = 12 orders
    assert rows[-1] == ["合计", "¥286.00", "12"]


def test_the_sparkline_leaves_a_gap_at_march(gap) -> None:
    from fupan.site.report_macros import _monthly_series

    assert _monthly_series(gap, "net_sales", gap.period()) == [NET_SALES[m] for m in range(1, 13)]


def test_the_about_page_and_the_build_log_say_march_has_no_data(gap, caplog) -> None:
    from fupan.site.page_macros import reminders
    from fupan.site.reminders import log_months_without_data

    html = reminders(gap)
    assert "有月份没有数据" in html and "2025年3月" in html and "订单" in html
    assert "无数据" in html  # the reader learns the mark the charts carry
    assert "Some months have no data" in reminders(gap, locale="en") and "Mar 2025" in reminders(gap, locale="en")
    with caplog.at_level(logging.WARNING, logger="fupan"):
        log_months_without_data(gap)
    assert any("orders has no rows in 2025-03" in r.getMessage() for r in caplog.records)


def test_a_shop_without_gaps_gets_no_mark(tmp_path) -> None:
    from tiny import tiny_review

    review = tiny_review(tmp_path, as_of="2025-06-30")
    # the tiny shop sold in January and June only: Feb–May are without orders
    assert review.engine.months_without_rows(["orders"], review.period("2025-06")) == []
    assert review.engine.months_without_rows(["orders"], review.period()) == ["2025-02", "2025-03", "2025-04",
                                                                               "2025-05"]


# -- sums that do not depend on the order of the rows -------------------------------------------
MANY = 40_000  # enough cents that floating-point sums in two orders differ in their last digits


def write_many_orders(data: Path, seed: int | None = None) -> list[float]:
    """The tiny shop plus MANY paid orders of 2025 (one line of P1 each, random cents but one of
    900 billion, spread over the year and the three buyers), their rows shuffled by `seed` (None:
    in id order).
    Returns the extra orders' amounts."""
    import numpy as np

    write_tiny_data(data)
    rng = np.random.default_rng(7)
    cents = rng.integers(1, 100_000_00, MANY)
    # One order of 900 billion (the contract accepts up to 1e12): next to it a cent is below the
    # last bit of a floating-point sum, so where it comes in the order changes that sum's digits.
    amounts = [900_000_000_000.0] + [int(c) / 100 for c in cents[1:]]
    # ... and the year's net sales (these plus the tiny shop's 206) end in 5 cents: exactly half
    # of the 13th digit the engine keeps, so a sum off by a bit in either direction shows it.
    total_cents = 900_000_000_000_00 + int(cents[1:].sum()) + 206_00
    amounts[-1] += ((5 - total_cents) % 10) / 100
    days = rng.integers(0, 365, MANY)
    orders, lines = orders_frame(), lines_frame()
    extra = orders.iloc[[0] * MANY].copy()
    extra["订单编号"] = [f"M{i}" for i in range(MANY)]
    extra["买家ID"] = [f"U{1 + i % 3}" for i in range(MANY)]
    paid = pd.Timestamp("2025-01-01 12:00") + pd.to_timedelta(days, unit="D")
    extra["支付时间"] = extra["下单时间"] = paid.astype("datetime64[us]")
    extra["实付金额"], extra["退款金额"] = amounts, 0.0
    extra_lines = pd.DataFrame({"订单编号": extra["订单编号"], "行号": 1, "商品编码": "P1", "数量": 1,
                                "成交单价": amounts, "成交金额": amounts, "退货数量": 0})
    all_orders = pd.concat([orders, extra], ignore_index=True)
    all_lines = pd.concat([lines, extra_lines], ignore_index=True)
    if seed is not None:
        all_orders = all_orders.sample(frac=1, random_state=seed).reset_index(drop=True)
        all_lines = all_lines.sample(frac=1, random_state=seed + 1).reset_index(drop=True)
    all_orders.to_parquet(data / "orders.parquet", index=False)
    all_lines.to_parquet(data / "order_lines.parquet", index=False)
    return amounts


def _many_review(root: Path, seed: int | None):
    from fupan.site.context import build_review

    amounts = write_many_orders(root / "project" / "data", seed)
    review = build_review({"review": {"company": "测试", "year": 2025, "min_group_size": 1, "as_of": "2025-12-31"}},
                          root / "project")
    return review, amounts


def test_sums_of_money_are_the_same_in_any_row_order(tmp_path) -> None:
    from decimal import Decimal

    from fupan.semantics import analyses
    from fupan.semantics.engine import round_for_embedding

    year = None
    results = []
    for seed in (None, 1, 2):
        review, amounts = _many_review(tmp_path / f"order-{seed}", seed)
        year = review.period()
        results.append({
            "net_sales": review.engine.value("net_sales", year),
            "gmv_by_month": review.engine.compute("gmv", year, ("month",))["value"].tolist(),
            "aov": review.engine.value("aov", year),
            "sales_per_buyer": review.engine.value("sales_per_buyer", year),
            "frequency": analyses.frequency_distribution(review.engine, year)["net_sales"].tolist(),
        })
    assert results[0] == results[1] == results[2]
    # by hand: the exact sum of the cents (tiny shop's 2025: 206), as the engine hands on a number
    exact = float(sum(Decimal(str(a)) for a in amounts) + 206)
    expected = round_for_embedding(pd.DataFrame({"value": [exact]}))["value"].iloc[0]
    assert results[0]["net_sales"] == expected


def test_two_cold_builds_of_the_same_orders_in_another_row_order_are_identical(tmp_path) -> None:
    """Two builds, each with its own fresh cache, of the same orders written in two row orders:
    figures.json, every table's CSV and the pages are byte for byte the same (but the pages that
    show the data files' fingerprint, which differs with the bytes of the files)."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import STUB_PAGES, run_build
    from tiny import make_project

    def project(name: str, seed: int | None) -> Path:
        root = make_project(tmp_path / name, data_writer=lambda data: write_many_orders(data, seed),
                            docs=STUB_PAGES)
        settings = root / "mkdocs.yml"
        settings.write_text(settings.read_text(encoding="utf-8").replace(
            "    locale: zh-CN\n", f"    locale: zh-CN\n    cache_dir: .cache/{name}\n    as_of: 2025-12-31\n", 1),
            encoding="utf-8")
        return root

    def build(name: str, seed: int | None) -> Path:
        site = tmp_path / f"site-{name}"
        result = run_build(project(name, seed), site, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        return site

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lambda args: build(*args), [("a", None), ("b", 3)])
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert Path("figures.json") in files and any(f.parts[0] == "tables" for f in files)
    fingerprint = {Path("about/index.html"), Path("search/search_index.json")}
    differing = [f for f in files if f not in fingerprint and (first / f).read_bytes() != (second / f).read_bytes()]
    assert differing == []


# -- retention when every cohort is hidden for privacy --------------------------------------------
def test_retention_says_cohorts_are_hidden_for_privacy_not_that_there_were_no_new_buyers(tmp_path) -> None:
    from fupan.site.report_macros import retention_heatmap
    from tiny import tiny_review

    # 2025's first-time buyers by hand: U3 alone (first order O4, June); U1 bought first in 2024
    private = tiny_review(tmp_path / "five", min_group_size=5)
    assert private.engine.value("new_buyers", private.period()) == 1
    html_out = retention_heatmap(private)
    assert "每个首购月份的新客都少于 5 人" in html_out and "没有首购用户" not in html_out
    assert "fewer than 5 new buyers" in retention_heatmap(private, locale="en")
    # February to May: no order at all, so no first-time buyer: that notice stays
    assert "本期没有首购用户" in retention_heatmap(private, period="2025-02-01..2025-05-31")
    # groups of one shown: June's cohort of one is the heatmap, with no notice
    shown = retention_heatmap(tiny_review(tmp_path / "one", min_group_size=1))
    assert "少于" not in shown and "没有首购用户" not in shown and "data-spec" in shown


def test_monthly_lines_by_platform_keep_march_on_the_axis_marked(gap) -> None:
    from fupan.site.section_macros import trend_by

    spec = json.loads(html.unescape(re.search(r'data-spec="([^"]*)"', trend_by(gap, "net_sales", by="platform"))
                                    .group(1)))
    text = json.dumps(spec, ensure_ascii=False)
    # the axis holds the twelve months, March marked; no line has a point in March
    assert "2025年3月（无数据）" in text and "2025年2月" in text and "2025年4月" in text
    points = [row for rows in spec["datasets"].values() for row in rows if "series" in row]
    assert points and not [p for p in points if p["x"].startswith("2025年3月")]


def test_followers_and_loyalty_by_month_mark_the_months_without_a_record(tmp_path) -> None:
    from fupan.site.context import build_review
    from fupan.site.section_macros import followers_chart, loyalty_table
    from tiny import tiny_review

    review = tiny_review(tmp_path, extras=True)
    # month-end followers recorded for December only in 2025 (tests/tiny.py): January to November marked
    chart = html.unescape(followers_chart(review))
    assert len(set(re.findall(r"2025年(\d+)月（无数据）", chart))) == 11 and "2025年12月（" not in chart
    # the loyalty programme, recorded every month but March (by hand: 100 points earned, 10 redeemed)
    months = [m for m in range(1, 13) if m != 3]
    (review.config.project_dir / "data" / "loyalty.csv").write_text(
        "月份,发放积分,兑换积分,发券数,核销券数\n"
        + "".join(f"2025-{m:02d}-01,100,10,4,1\n" for m in months), encoding="utf-8")
    review = build_review({"review": {"year": 2025, "min_group_size": 1, "as_of": "2025-12-31"}},
                          review.config.project_dir)
    rows = cells(loyalty_table(review))[1:]
    assert [r[0] for r in rows] == [f"2025年{m}月" + ("（无数据）" if m == 3 else "") for m in range(1, 13)]
    assert rows[2][1:] == ["—"] * 6 and rows[3][1:3] == ["100", "10"]


def test_bars_and_line_by_month_keep_march_marked_without_a_bar(gap) -> None:
    from fupan.site.report_macros import combo

    spec = json.loads(html.unescape(re.search(r'data-spec="([^"]*)"', combo(gap, "net_sales", "aov", by="month"))
                                    .group(1)))
    rows = [row for rows in spec["datasets"].values() for row in rows if "bar_value" in row]
    march = [row for row in rows if row["label"] == "2025年3月（无数据）"]
    assert len(rows) == 12 and len(march) == 1 and march[0]["bar_value"] is None and march[0]["bar_text"] == "—"
    # by hand: April, one order of 10: net sales 10, AOV 10
    april = next(row for row in rows if row["label"] == "2025年4月")
    assert (april["bar_value"], april["line_value"]) == (10.0, 10.0)
