"""Every kind of business rule, on one hand-made export of two files, with the rows each rule
touched counted by hand — and the review's figures from what the rules leave.

a.csv (header = row 1)                                   b.csv
 r2 1001 2025-01-05 U1 已完成 ab1 2×10  (sku → AB1)        r2 1005 2025-03-10 U2 已完成 AB1 3×10
 r3 1001 2025-01-05 U1 已完成 AB2 1×30                     r3 R-1  2025-03-20 U2 已完成 AB1 −1×10 (a return)
 r4 1002 2025-02-01 U2 退款成功 AB1 1×10 (refunded)        r4 = a.csv r3 (the overlap: dropped)
 r5 1003 2025-02-02 U3 已取消 AB1 1×10 (cancelled)
 r6 1004 2025-02-03 U1 待付款 AB2 1×30 (unpaid)
 r7 1001 2025-03-09 U4 已完成 AB1 1×10 (1001 reused: another order)
 r8 1005 2025-03-10 U2 已完成 POST 1×8 (postage: excluded)
 r9 T-1  2025-03-11 U9 已完成 AB1 1×10 (a test order: excluded)

By hand: 11 rows read, 1 overlap, 1 SKU upper-cased, 10 line amounts computed, 1 postage and 1
test row excluded, 1 return (matched to U2's purchase of AB1 on 10 March: order 1005), 4 paid /
1 refunded / 1 cancelled / 1 unpaid status rows, 1 reused order id, 6 orders from 7 lines, 2
products. 2025: GMV 50 (1001) + 10 (1002) + 10 (1001 of March) + 30 (1005) = 100; refunds 10
(1002) + 10 (the return) = 20; net sales 80; 4 orders; buyers U1, U2, U4 = 3; repeat U2 → 1/3.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fupan.site.context import build_review
from fupan.site.page_macros import export_rules

HEADER = "order,date,buyer,status,sku,qty,price\n"
A_ROWS = ["1001,2025-01-05,U1,已完成,ab1,2,10", "1001,2025-01-05,U1,已完成,AB2,1,30",
          "1002,2025-02-01,U2,退款成功,AB1,1,10", "1003,2025-02-02,U3,已取消,AB1,1,10",
          "1004,2025-02-03,U1,待付款,AB2,1,30", "1001,2025-03-09,U4,已完成,AB1,1,10",
          "1005,2025-03-10,U2,已完成,POST,1,8", "T-1,2025-03-11,U9,已完成,AB1,1,10"]
B_ROWS = ["1005,2025-03-10,U2,已完成,AB1,3,10", "R-1,2025-03-20,U2,已完成,AB1,-1,10", A_ROWS[1]]
CONTRACT = """
exports:
  shop:
    path: ["a.csv", "b.csv"]
    columns:
      order_id: {header: order}
      ordered_at: {header: date}
      user_id: {header: buyer}
      status: {header: status}
      sku: {header: sku}
      quantity: {header: qty}
      unit_price: {header: price}
      platform: {value: 自营}
    rules:
      status: {column: status, paid: [已完成], refunded: [退款成功], cancelled: [已取消], unpaid: [待付款]}
      exclude:
        - {column: sku, values: [POST], reason: {zh: 邮费, en: postage}}
        - {column: order_id, starts_with: "T-", reason: {zh: 测试订单, en: test orders}}
      returns:
        - {column: order_id, starts_with: "R-", reason: {zh: 退货单, en: returns}}
      compute: {line_amount: quantity * unit_price}
      order_key: [order_id, ordered_at]
      normalise: {sku: upper}
"""
EXPECTED_RULES = {
    "read": 11, "overlap": 1, "normalise": 1, "compute": 10, "exclude": [1, 1], "returns": 1,
    "status_paid": 4, "status_refunded": 1, "status_cancelled": 1, "status_unpaid": 1, "order_key": 1,
    "returns_buyer": 1, "orders": 6, "products": 2,
}


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory):
    project = tmp_path_factory.mktemp("rules")
    data = project / "data"
    data.mkdir()
    (data / "a.csv").write_text(HEADER + "\n".join(A_ROWS) + "\n", encoding="utf-8")
    (data / "b.csv").write_text(HEADER + "\n".join(B_ROWS) + "\n", encoding="utf-8")
    (data / "datasets.yml").write_text(CONTRACT, encoding="utf-8")
    return build_review({"review": {"company": "测试", "year": 2025, "min_group_size": 1}}, Path(project))


def test_every_rule_kind_counts_the_rows_it_touched(review) -> None:
    counted: dict[str, object] = {}
    for rule in review.store.intake.rules:
        if rule.kind == "exclude":
            counted.setdefault("exclude", []).append(rule.rows)
        else:
            counted[rule.kind] = rule.rows
    assert counted == EXPECTED_RULES
    lines = {r.kind: r.params for r in review.store.intake.rules}
    assert lines["orders"]["lines"] == "7"
    assert lines["returns_buyer"]["amount"] == "10.00"


def test_the_figures_are_those_the_rules_leave(review) -> None:
    period = review.period(None)
    assert review.engine.value("gmv", period) == pytest.approx(100)
    assert review.engine.value("net_sales", period) == pytest.approx(80)
    assert review.engine.value("orders", period) == 4
    assert review.engine.value("buyers", period) == 3
    assert review.engine.value("repurchase_rate", period) == pytest.approx(1 / 3)


@pytest.mark.parametrize("locale, words", [
    ("zh-CN", ["读取 2 个文件中的数据行", "只保留先出现的文件中的一份", "统一商品编码的写法：统一为大写",
               "计算列：成交金额 = 数量 × 成交单价", "不计入销售：邮费", "不计入销售：测试订单",
               "计为退款而非负销售：退货单", "退货行按买家和商品对应到此前最近一次购买",
               "订单状态「已完成」计为已支付", "订单状态「退款成功」计为已支付后全额退款",
               "订单状态「已取消」计为已取消", "订单状态「待付款」计为未支付", "以订单编号 + 下单时间区分订单",
               "7 行订单明细整理为订单", "由订单明细整理出的商品"]),
    ("en", ["Data rows read from 2 file(s)", "Not sales: postage", "Not sales: test orders",
            "counted as refunds, not negative sales: returns", "Status 已完成 counted as paid",
            "orders told apart by Order id + Order time",
            "Computed column: Line amount = Quantity × Unit price", "7 order lines gathered into orders"]),
])
def test_the_data_sources_section_lists_each_rule_in_words_with_its_rows(review, locale, words) -> None:
    html = export_rules(review, locale=locale)
    for text in words:
        assert text in html, text
    assert html.count("<tr") == 1 + len(review.store.intake.rules)  # the head row and one per rule
    assert "<th>" + ("规则" if locale == "zh-CN" else "Rule") + "</th>" in html  # one export: no export column


@pytest.mark.parametrize("expression, row, expected", [
    ("quantity * unit_price", {"quantity": 3, "unit_price": 2.5}, 7.5),
    ("line_amount - line_profit", {"line_amount": 20, "line_profit": 4.5}, 15.5),
    ("(line_amount - line_profit) / quantity", {"line_amount": 20, "line_profit": 4, "quantity": 2}, 8.0),
    ("line_amount / (quantity - 2)", {"line_amount": 20, "quantity": 2}, None),  # ÷ 0: no value, no error
    ("line_amount / quantity * 2", {"line_amount": 20, "quantity": 4}, 10.0),
    ("unit_price * 1.13", {"unit_price": 100}, 113.0),
])
def test_computed_columns_are_arithmetic_over_canonical_columns(expression, row, expected) -> None:
    import duckdb
    from fupan.intake.declaration import expression_columns
    from fupan.intake.derive import _expression_sql

    assert expression_columns(expression) == set(row)
    values = ", ".join(f"CAST({v} AS DOUBLE) AS {k}" for k, v in row.items())
    got = duckdb.connect().execute(f"SELECT {_expression_sql(expression)} FROM (SELECT {values})").fetchone()[0]
    assert got == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("expression", ["quantity ** 2", "import os", "(quantity", "quantity)", ""])
def test_a_computation_that_is_not_plain_arithmetic_is_refused(expression) -> None:
    from fupan.intake.declaration import expression_columns

    with pytest.raises(ValueError):
        expression_columns(expression)


def test_an_order_cancelled_after_payment_is_a_sale_refunded_in_full(tmp_path: Path) -> None:
    """Taobao's 交易关闭 and JD's 已取消 name both an order never paid and one paid, then refunded
    in full; the payment time tells them apart. By hand: A (paid 10 March, 50, closed later) is a
    sale of 50 refunded 50; B (never paid, 30) is no sale; C (paid, 20) a sale. GMV 70, net 20,
    orders 2 (A and C were paid), buyers 2."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "o.csv").write_text("单号,买家,创建,付款,金额,状态\n"
                                "A,U1,2025-03-10 10:00:00,2025-03-10 10:01:00,50,交易关闭\n"
                                "B,U2,2025-03-11 10:00:00,,30,交易关闭\n"
                                "C,U2,2025-03-12 10:00:00,2025-03-12 10:05:00,20,交易成功\n", encoding="utf-8")
    (data / "datasets.yml").write_text("""
exports:
  shop:
    path: o.csv
    shape: orders
    columns:
      order_id: {header: 单号}
      user_id: {header: 买家}
      ordered_at: {header: 创建}
      paid_at: {header: 付款}
      order_amount: {header: 金额}
      status: {header: 状态}
      product_name: {value: 商品}
    rules:
      status: {column: status, paid: [交易成功], cancelled: [交易关闭]}
""", encoding="utf-8")
    review = build_review({"review": {"company": "测试", "year": 2025, "min_group_size": 1}}, tmp_path)
    period = review.period(None)
    assert review.engine.value("gmv", period) == pytest.approx(70)
    assert review.engine.value("net_sales", period) == pytest.approx(20)
    assert review.engine.value("orders", period) == 2
    assert review.engine.value("buyers", period) == 2
    counted = {r.kind: r.rows for r in review.store.intake.rules}
    assert counted["status_cancelled"] == 2 and counted["cancelled_after_payment"] == 1
    assert "已支付后才取消或关闭的订单" in export_rules(review)


MIXED_CONTRACT = """
exports:
  shop:
    path: lines.csv
    columns:
      order_id: {header: order}
      ordered_at: {header: date}
      user_id: {header: buyer}
      status: {header: status}
      sku: {header: sku}
      quantity: {header: qty}
      unit_price: {header: price}
      platform: {value: 自营}
    rules:
      status: {column: status, paid: [已完成], cancelled: [已取消]}
      compute: {line_amount: quantity * unit_price}
"""


def _derived_lines(root: Path, rows: list[str]) -> list[tuple]:
    import duckdb

    data = root / "data"
    data.mkdir(parents=True)
    (data / "lines.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    (data / "datasets.yml").write_text(MIXED_CONTRACT, encoding="utf-8")
    review = build_review({"review": {"company": "测试", "year": 2025, "min_group_size": 1}}, root)
    lines = review.store.intake.files["order_lines"]
    return duckdb.connect().sql(f"SELECT order_id, sku, quantity, line_amount, _source_row FROM '{lines}'").fetchall()


def test_a_paid_orders_cancelled_line_is_left_out_and_a_cancelled_order_keeps_its_lines(tmp_path: Path) -> None:
    # 2001 is paid with one line cancelled (left out: row 3); 2002 is cancelled as a whole (its
    # line stays, the order is no sale); 2003 is paid.
    rows = ["2001,2025-04-01,U1,已完成,AB1,1,10", "2001,2025-04-01,U1,已取消,AB2,1,30",
            "2002,2025-04-02,U2,已取消,AB1,2,10", "2003,2025-04-03,U3,已完成,AB2,1,30"]
    assert _derived_lines(tmp_path / "mixed", rows) == [
        ("2001", "AB1", 1, 10.0, 2), ("2002", "AB1", 2, 20.0, 4), ("2003", "AB2", 1, 30.0, 5)]
    # Without the cancelled line of a paid order every line stays, in the file's order.
    assert _derived_lines(tmp_path / "plain", [rows[0], rows[2], rows[3]]) == [
        ("2001", "AB1", 1, 10.0, 2), ("2002", "AB1", 2, 20.0, 3), ("2003", "AB2", 1, 30.0, 4)]


def test_the_derivation_runs_under_the_computing_memory_limit(tmp_path: Path, monkeypatch) -> None:
    """Deriving stores tables like the catalogue's models: under the checks' limit it would
    spill them to disk. The checks' limit is back once it is done."""
    import fupan.intake.derive as derive_module
    from fupan.data.contract import load_contract
    from fupan.data.store import CHECK_MEMORY_LIMIT, COMPUTE_MEMORY_LIMIT, DataStore

    seen: list[str] = []
    real = derive_module.derive

    def derive(exports, staged, shown, con, *args, **kwargs):
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return real(exports, staged, shown, con, *args, **kwargs)

    monkeypatch.setattr(derive_module, "derive", derive)
    data = tmp_path / "data"
    data.mkdir()
    (data / "lines.csv").write_text(HEADER + "2001,2025-04-01,U1,已完成,AB1,1,10\n", encoding="utf-8")
    (data / "datasets.yml").write_text(MIXED_CONTRACT, encoding="utf-8")
    store = DataStore(load_contract(data / "datasets.yml"), tmp_path / ".cache")
    limit = store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert store.intake is not None and not store.intake.errors
    assert store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == limit
    assert seen == [shown_limit(COMPUTE_MEMORY_LIMIT)] and limit == shown_limit(CHECK_MEMORY_LIMIT)


def shown_limit(gigabytes: float) -> str:
    """DuckDB's memory_limit setting as it shows it ("2.7 GiB") once set to `gigabytes`."""
    import duckdb
    from fupan.data.backends import memory_limit_sql

    con = duckdb.connect()
    con.execute(memory_limit_sql(gigabytes))
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
