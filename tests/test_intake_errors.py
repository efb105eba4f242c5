"""Exports that would give wrong numbers, or cannot be read, stop `fupan check` with fupan's own
message — naming the file, the row, the column and the fix — never a traceback."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import tiny_exports as te
import yaml
from test_intake_shapes import build, make_export_project
from tiny import write_tiny_data


def check(project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ}
    return subprocess.run([sys.executable, "-m", "fupan", "check"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600)


def assert_clean_failure(result: subprocess.CompletedProcess, *needles: str) -> str:
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "Traceback" not in out, out
    for needle in needles:
        assert needle in out, (needle, out[-3000:])
    return out


def test_a_line_level_file_declared_as_orders_without_unique_fails_instead_of_summing_twice(tmp_path):
    """The fan-out of the issue: order-level amounts on every line of a line-level file, read as
    `orders` with `unique` removed from the contract, gave GMV many times too high. The review's
    own key check stops it and says how to declare the file."""
    def write(data: Path) -> str:
        write_tiny_data(data)
        orders = pd.read_parquet(data / "orders.parquet")
        lines = pd.read_parquet(data / "order_lines.parquet")
        repeated = orders.merge(lines[["订单编号"]], on="订单编号")  # O3 has two lines: its row twice
        repeated.to_parquet(data / "orders.parquet", index=False)
        contract = yaml.safe_load((data / "datasets.yml").read_text(encoding="utf-8"))
        del contract["datasets"]["orders"]["primary_key"]
        contract["datasets"]["orders"]["columns"]["order_id"].pop("unique")
        return yaml.safe_dump(contract, allow_unicode=True)

    project = make_export_project(tmp_path / "fanout", write)
    out = assert_clean_failure(check(project), "data/orders.parquet", "row 4", "订单编号", "O3",
                               "already in row 3", "shape: lines")
    assert "remove the duplicate row" not in out


def test_an_order_total_mapped_as_the_line_amount_fails(tmp_path):
    def write(data: Path) -> str:
        te.write_lines_shape(data)
        return te.LINES_DECLARATION.replace("      order_amount: {header: Order Total}\n", "").replace(
            "line_amount: {header: Sales}", "line_amount: {header: Order Total}")

    project = make_export_project(tmp_path / "fanout-export", write)
    assert_clean_failure(check(project), "data/lines.csv", "row 4", "Order Total",
                         "looks like an order-level amount", "order O3", "row 4: 80.00, row 5: 80.00",
                         "order_amount: {header: Order Total}")


def test_an_order_total_mapped_as_the_line_amount_of_a_lines_export_fails(tmp_path):
    """The same mistake in the line export of two joined exports (宝贝报表 with the order's
    total on each line): O3's two lines both carry its total, 80."""
    def write(data: Path) -> str:
        te.write_joined_shape(data)
        path = data / "ExportOrderDetailList.csv"
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="gbk"))))
        totals = {}
        for row in rows[1:]:
            totals[row[1]] = totals.get(row[1], 0.0) + float(row[4]) * int(row[5])
        rows = [rows[0] + ["订单金额"]] + [row + [f"{totals[row[1]]:.2f}"] for row in rows[1:]]
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        path.write_text(out.getvalue(), encoding="gbk")
        return te.JOINED_DECLARATION.replace("      unit_price: {header: 价格}\n",
                                             "      line_amount: {header: 订单金额}\n")

    project = make_export_project(tmp_path / "fanout-items", write)
    assert_clean_failure(check(project), "data/ExportOrderDetailList.csv", "订单金额",
                         "looks like an order-level amount", "order O3", ": 80.00, row ",
                         "order_amount: {header: 订单金额}")


def test_an_export_without_any_amount_names_the_metrics_and_the_column(tmp_path):
    def write(data: Path) -> str:
        te.write_lines_shape(data)
        return (te.LINES_DECLARATION.replace("      unit_price: {header: Unit Price}\n", "")
                .replace("      line_amount: {header: Sales}\n", ""))

    project = make_export_project(tmp_path / "no-amount", write)
    assert_clean_failure(check(project), "net_sales", "order_lines.line_amount",
                         "line_amount: quantity * unit_price")


def test_lines_that_disagree_on_an_order_field_name_the_rows_and_suggest_a_composite_key(tmp_path):
    """A retailer's .xls reuses one order id for orders of different days and buyers: an error
    naming both rows, whose fix — a composite order key — then reads the file."""
    import xlwt

    def write(data: Path) -> str:
        book = xlwt.Workbook()
        sheet = book.add_sheet("订单")
        date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
        header = ["订单 ID", "订单日期", "客户 ID", "产品 ID", "数量", "销售额", "利润"]
        rows = [("CN-1", (2025, 3, 1), "U1", "P1", 2, 20.0, 12.0),
                ("CN-1", (2025, 3, 1), "U1", "P2", 1, 50.0, 20.0),
                ("CN-1", (2025, 9, 9), "U3", "P1", 1, 10.0, 6.0),   # the id reused: another order
                ("CN-2", (2025, 4, 2), "U3", "P2", 2, 90.0, 30.0)]
        for col, text in enumerate(header):
            sheet.write(0, col, text)
        import datetime as dt

        for r, (oid, day, user, sku, qty, sales, profit) in enumerate(rows, start=1):
            sheet.write(r, 0, oid)
            sheet.write(r, 1, dt.datetime(*day), date)
            for c, v in enumerate((user, sku, qty, sales, profit), start=2):
                sheet.write(r, c, v)
        book.add_sheet("退货").write(0, 0, "订单 ID")
        book.save(str(data / "superstore.xls"))
        return """
exports:
  shop:
    path: superstore.xls
    sheet: 订单
    shape: lines
    columns:
      order_id: {header: 订单 ID}
      ordered_at: {header: 订单日期}
      user_id: {header: 客户 ID}
      sku: {header: 产品 ID}
      quantity: {header: 数量}
      line_amount: {header: 销售额}
      line_profit: {header: 利润}
      platform: {value: 门店}
    rules:
      compute: {line_cost: line_amount - line_profit}
"""

    project = make_export_project(tmp_path / "reused", write)
    assert_clean_failure(check(project), "data/superstore.xls", "order CN-1", "row 2:", "row 4:",
                         "order_key: [order_id, ordered_at]")
    contract = project / "data" / "datasets.yml"
    contract.write_text(contract.read_text(encoding="utf-8") + "      order_key: [order_id, ordered_at]\n",
                        encoding="utf-8")
    result, html = build(project)
    assert result.returncode == 0, result.stderr[-3000:]
    # By hand: three orders (CN-1 of 1 March: 20 + 50; CN-1 of 9 September: 10; CN-2: 90) = 170;
    # buyers U1, U3 (U3 twice: repurchase 1 of 2).
    from test_intake_shapes import shown

    assert shown(html, "NS") == 170.0
    assert shown(html, "OR") == 3
    assert shown(html, "BU") == 2
    assert shown(html, "RR") == 0.5
    assert "以订单编号 + 下单时间区分订单" in html


def test_an_html_page_saved_as_xls_is_a_clear_error(tmp_path):
    def write(data: Path) -> str:
        (data / "orders.xls").write_text("<html><body><table><tr><td>订单号</td></tr></table></body></html>",
                                         encoding="utf-8")
        return te.LINES_DECLARATION.replace("path: lines.csv", "path: orders.xls")

    project = make_export_project(tmp_path / "html-xls", write)
    assert_clean_failure(check(project), "orders.xls")


def test_a_file_given_to_the_wrong_preset_says_which_columns_it_expected(tmp_path):
    def write(data: Path) -> str:
        te.write_lines_shape(data)
        return "exports:\n  shop:\n    preset: jd\n    path: lines.csv\n"

    project = make_export_project(tmp_path / "wrong-preset", write)
    assert_clean_failure(check(project), "data/lines.csv", "订单号", "the file's headers are: Order ID",
                         "not found: order_id (订单号)", "preset: generic_lines")


def test_check_prints_the_rules_an_export_was_read_by_with_their_rows(tmp_path):
    project = make_export_project(tmp_path / "returns", te.write_returns_shape)
    result = check(project)
    assert result.returncode == 0, result.stdout + result.stderr
    # By hand (tests/tiny_exports.py): 10 rows in two files, one of them in both; 1 postage line.
    for line in ("shop: Data rows read from 2 file(s) — 10",
                 "shop: Rows present in two files (overlapping periods): the earlier file's copy kept — 1",
                 "shop: Not sales: postage — 1",
                 "shop: Return rows matched to the buyer's latest earlier purchase of the product — 1"):
        assert line in result.stdout, result.stdout
