"""The tiny shop (tests/tiny.py) as real exports come: one writer per shape, each with the quirks
that shape brings, and the hand-worked figures the review must show from it.

Every export holds the tiny shop's seven orders plus rows the rules must keep out or count
apart, so the figures of 2025 stay those of tests/tiny.py — net sales 206, orders 4, AOV 51.5,
buyers 2 (U1, U3), repurchase rate 100 % (both bought twice) — unless a shape adds the two
orders without a buyer id, A1 (2025-03-01, 20) and A2 (2025-04-01, 30): then orders 6, net sales
256, AOV 256 / 6 = 42.666…, and still 2 buyers with a repurchase rate of 100 % (an id-less order
is never a buyer; counted as one, buyers would be 3 and the rate 2/3 or 3/3).

Extra rows and what must happen to them:
- a postage line (SKU POST, 10) in O4: excluded as non-merchandise, so O4 stays 90;
- a test order (TEST-1, 2025-05-05, 999): excluded by its id;
- O6 unpaid (status words of each shape): an order, not a sale.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tiny import ORDERS, PRODUCTS

NAMES = {sku: name for sku, name, *_ in PRODUCTS}
CATEGORIES = {sku: cat for sku, _, cat, *_ in PRODUCTS}
ANONYMOUS = [("A1", None, "天猫", "2025-03-01 10:00:00", [("P1", 2, 10.0, 0)]),
             ("A2", None, "天猫", "2025-04-01 10:00:00", [("P2", 1, 30.0, 0)])]
EXPECTED = {"net_sales": 206.0, "orders": 4, "aov": 51.5, "buyers": 2, "repurchase_rate": 1.0}
EXPECTED_WITH_ANONYMOUS = {"net_sales": 256.0, "orders": 6, "aov": 256 / 6, "buyers": 2, "repurchase_rate": 1.0}
ORDERED_UNPAID = "2025-11-11 00:00:00"


def _orders(with_anonymous: bool) -> list[tuple]:
    return ORDERS + (ANONYMOUS if with_anonymous else [])


def _us_date(iso: str) -> str:
    """2025-01-15 09:00:00 → 1/15/2025 9:00 (a US retailer's export)."""
    date, time = iso.split(" ")
    y, m, d = date.split("-")
    hh, mm, _ = time.split(":")
    return f"{int(m)}/{int(d)}/{y} {int(hh)}:{mm}"


def _write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8-sig",
               newline: str = "\r\n") -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


LINES_DECLARATION = """
exports:
  shop:
    path: lines.csv
    shape: lines
    columns:
      order_id: {header: Order ID}
      ordered_at: {header: Order Date, format: ["%m/%d/%Y %H:%M"]}
      user_id: {header: Customer ID}
      platform: {header: Platform}
      order_amount: {header: Order Total}
      status: {header: Status}
      sku: {header: Product ID}
      product_name: {header: Product Name}
      category: {header: Category}
      quantity: {header: Quantity}
      unit_price: {header: Unit Price}
      line_amount: {header: Sales}
      refunded_quantity: {header: Returned Qty}
    rules:
      status: {column: status, paid: [Completed, Refunded*], unpaid: [Pending]}
      exclude:
        - {column: sku, values: [POST], reason: {zh: 邮费, en: postage}}
        - {column: order_id, starts_with: TEST, reason: {zh: 测试订单, en: test orders}}
"""


def write_lines_shape(data: Path, with_anonymous: bool = True) -> str:
    """One row per order line, the order's fields (date, buyer, total) repeated on each line; US
    dates, a BOM, CRLF. The order total is order-level: summed over O3's two lines it would be
    counted twice (fan-out)."""
    rows = []
    for order_id, user, platform, paid, lines in _orders(with_anonymous):
        total = sum(q * p for _, q, p, _ in lines)
        status = "Pending" if paid is None else "Completed"
        when = _us_date(paid or ORDERED_UNPAID)
        for sku, qty, price, refunded in lines:
            rows.append([order_id, when, user or "", platform, f"{total:.2f}", status, sku, NAMES[sku],
                         CATEGORIES[sku], qty, f"{price:.2f}", f"{qty * price:.2f}", refunded])
        if order_id == "O4":
            rows.append([order_id, when, user, platform, f"{total:.2f}", status, "POST", "邮费", "", 1, "10.00",
                         "10.00", 0])
    rows.append(["TEST-1", "5/5/2025 10:00", "U9", "天猫", "999.00", "Completed", "P2", NAMES["P2"], "家居", 1,
                 "999.00", "999.00", 0])
    _write_csv(data / "lines.csv", ["Order ID", "Order Date", "Customer ID", "Platform", "Order Total", "Status",
                                    "Product ID", "Product Name", "Category", "Quantity", "Unit Price", "Sales",
                                    "Returned Qty"], rows)
    return LINES_DECLARATION


FIRST_LINE_DECLARATION = """
exports:
  shop:
    path: orders_export.csv
    shape: first_line
    columns:
      order_id: {header: Name}
      user_id: {header: Email}
      status: {header: Financial Status}
      paid_at: {header: Paid at}
      ordered_at: {header: Created at}
      order_amount: {header: Total}
      refund_amount: {header: Refunded Amount}
      platform: {value: Shopify}
      quantity: {header: Lineitem quantity}
      product_name: {header: Lineitem name}
      unit_price: {header: Lineitem price}
      sku: {header: Lineitem sku}
    rules:
      status: {column: status, paid: [paid, partially_refunded], refunded: [refunded], unpaid: [pending]}
"""


def write_first_line_shape(data: Path) -> str:
    """Shopify-like: order fields only on an order's first line; times with a UTC offset; the
    refund as an order-level amount."""
    rows = []
    for order_id, user, _, paid, lines in ORDERS:
        total = sum(q * p for _, q, p, _ in lines)
        refund = sum(r * p for _, _, p, r in lines) if paid else 0.0
        status = "pending" if paid is None else ("partially_refunded" if refund else "paid")
        created = (paid or ORDERED_UNPAID) + " +0800"
        for i, (sku, qty, price, _) in enumerate(lines):
            order_fields = [user, status, (paid + " +0800") if paid else "", created, f"{total:.2f}",
                            f"{refund:.2f}"] if i == 0 else ["", "", "", "", "", ""]
            rows.append([order_id, *order_fields, qty, NAMES[sku], f"{price:.2f}", sku])
    _write_csv(data / "orders_export.csv", ["Name", "Email", "Financial Status", "Paid at", "Created at", "Total",
                                            "Refunded Amount", "Lineitem quantity", "Lineitem name",
                                            "Lineitem price", "Lineitem sku"], rows, encoding="utf-8", newline="\n")
    return FIRST_LINE_DECLARATION


ORDERS_DECLARATION = """
exports:
  shop:
    path: ExportOrderList.csv
    shape: orders
    columns:
      order_id: {header: 订单编号}
      user_id: {header: 买家会员名}
      ordered_at: {header: 订单创建时间}
      paid_at: {header: 订单付款时间}
      order_amount: {header: 买家实际支付金额}
      refund_amount: {header: 退款金额}
      status: {header: 订单状态}
      product_name: {header: 宝贝标题}
      quantity: {header: 宝贝总数量}
      platform: {value: 天猫}
    rules:
      status: {column: status, paid: [交易成功, 卖家已发货，等待买家确认], unpaid: [等待买家付款]}
      exclude:
        - {column: order_id, starts_with: TEST, reason: {zh: 测试订单, en: test orders}}
"""


def write_orders_shape(data: Path, with_anonymous: bool = True) -> str:
    """Taobao 订单报表-like: one row per order, no line detail; GBK without a declared encoding;
    ids as ="…", amounts with 元, re-saved dates (2025/1/15 9:00), a header with a trailing space."""
    rows = []
    for order_id, user, _, paid, lines in _orders(with_anonymous):
        total = sum(q * p for _, q, p, _ in lines)
        refund = sum(r * p for _, _, p, r in lines) if paid else 0.0
        title = "，".join(NAMES[s] for s, *_ in lines)
        status = "等待买家付款" if paid is None else "交易成功"

        def saved(iso: str) -> str:
            date, time = iso.split(" ")
            y, m, d = date.split("-")
            return f"{y}/{int(m)}/{int(d)} {int(time[:2])}:{time[3:5]}"

        rows.append([f'="{order_id}"', user or "", saved(paid or ORDERED_UNPAID), saved(paid) if paid else "",
                     f"{total:.2f}元", f"{refund:.2f}", status, title, sum(q for _, q, _, _ in lines)])
    rows.append(['="TEST-1"', "U9", "2025/5/5 10:00", "2025/5/5 10:00", "999.00元", "0", "交易成功",
                 NAMES["P2"], 1])
    _write_csv(data / "ExportOrderList.csv", ["订单编号", "买家会员名", "订单创建时间", "订单付款时间 ",
                                              "买家实际支付金额", "退款金额", "订单状态", "宝贝标题", "宝贝总数量"],
               rows, encoding="gbk")
    return ORDERS_DECLARATION


JOINED_DECLARATION = """
exports:
  orders:
    path: ExportOrderList.csv
    shape: orders
    lines: items
    columns:
      order_id: {header: 订单编号}
      user_id: {header: 买家会员名}
      ordered_at: {header: 订单创建时间}
      paid_at: {header: 订单付款时间}
      order_amount: {header: 买家实际支付金额}
      status: {header: 订单状态}
      platform: {value: 天猫}
    rules:
      status: {column: status, paid: [交易成功], unpaid: [等待买家付款]}
  items:
    path: ExportOrderDetailList.csv
    shape: lines
    columns:
      order_id: {header: 主订单编号}
      line_id: {header: 子订单编号}
      sku: {header: 商家编码}
      product_name: {header: 标题}
      unit_price: {header: 价格}
      quantity: {header: 购买数量}
      line_refund_amount: {header: 退款金额, empty: [无退款申请, ""]}
    rules:
      normalise: {sku: upper}
"""


def write_joined_shape(data: Path) -> str:
    """Taobao 订单报表 + 宝贝报表: orders from one file, their lines from the other, joined by
    order id; SKU codes in lower case in some lines (normalised); 退款金额 per line with
    `无退款申请` as text."""
    orders, items = [], []
    for order_id, user, _, paid, lines in ORDERS:
        total = sum(q * p for _, q, p, _ in lines)
        orders.append([order_id, user, paid or ORDERED_UNPAID, paid or "", f"{total:.2f}",
                       "等待买家付款" if paid is None else "交易成功"])
        for i, (sku, qty, price, refunded) in enumerate(lines, start=1):
            items.append([f"{order_id}-{i}", order_id, sku.lower() if order_id == "O7" else sku, NAMES[sku],
                          f"{price:.2f}", qty, f"{refunded * price:.2f}" if refunded else "无退款申请"])
    _write_csv(data / "ExportOrderList.csv", ["订单编号", "买家会员名", "订单创建时间", "订单付款时间",
                                              "买家实际支付金额", "订单状态"], orders, encoding="gbk")
    _write_csv(data / "ExportOrderDetailList.csv", ["子订单编号", "主订单编号", "商家编码", "标题", "价格",
                                                    "购买数量", "退款金额"], items, encoding="gbk")
    return JOINED_DECLARATION


RETURNS_DECLARATION = """
exports:
  shop:
    path: [retail_2024.csv, retail_2025.csv]
    shape: lines
    columns:
      order_id: {header: [InvoiceNo, Invoice]}
      ordered_at: {header: InvoiceDate, format: ["%m/%d/%Y %H:%M"]}
      user_id: {header: [CustomerID, Customer ID]}
      sku: {header: StockCode}
      product_name: {header: Description}
      quantity: {header: Quantity}
      unit_price: {header: [UnitPrice, Price]}
      platform: {value: 天猫}
    rules:
      returns:
        - column: order_id
          starts_with: C
          reason: {zh: 退货单（C 开头、数量为负）, en: "credit notes (C…, negative quantities)"}
      exclude:
        - {column: sku, values: [POST], reason: {zh: 邮费, en: postage}}
      normalise: {sku: upper}
"""


def write_returns_shape(data: Path) -> str:
    """An online retailer's invoice lines in two yearly files with different headers and one
    overlapping row; no line amount (quantity × unit price); the refund of O3 comes as a credit
    note of its own (C-O3, −1 × P1, after the sale), matched to U1's purchase of P1."""
    def rows_of(year: str) -> list[list]:
        out = []
        for order_id, user, _, paid, lines in ORDERS:
            if paid is None or not paid.startswith(year):
                continue
            for sku, qty, price, _ in lines:
                out.append([order_id, sku, NAMES[sku], qty, _us_date(paid), f"{price:.2f}", user])
            if order_id == "O4":
                out.append([order_id, "POST", "POSTAGE", 1, _us_date(paid), "10.00", user])
        return out

    rows_2024 = rows_of("2024")
    rows_2025 = rows_of("2025") + [["C-O3", "p1", NAMES["P1"], -1, "2/1/2025 10:00", "10.00", "U1"]]
    overlap = rows_2025[0]  # the first 2025 invoice line is in both files (an overlapping week)
    _write_csv(data / "retail_2024.csv", ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
                                          "UnitPrice", "CustomerID"], rows_2024 + [overlap])
    _write_csv(data / "retail_2025.csv", ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate",
                                          "Price", "Customer ID"], rows_2025)
    return RETURNS_DECLARATION


def broken_derivation_guarantees(files: dict[str, str]) -> dict[str, int]:
    """The derived rows that would break a check the data checks report as holding by
    construction (fupan.intake.schema), counted here over the derived Parquet files: repeated
    order ids, repeated (order id, line number), lines whose order is not among the orders,
    when the products are derived too, repeated SKUs and lines whose SKU is not a product; and
    text values the store takes as tidy (none blank or with spaces at its ends)."""
    import duckdb

    con = duckdb.connect()
    orders, lines = (f"read_parquet('{files[name]}')" for name in ("orders", "order_lines"))
    counts = {
        "orders: order_id repeated": f"SELECT COUNT(*) - COUNT(DISTINCT order_id) FROM {orders}",
        "order_lines: (order_id, line_no) repeated":
            f"SELECT COUNT(*) - (SELECT COUNT(*) FROM (SELECT DISTINCT order_id, line_no FROM {lines})) FROM {lines}",
        "order_lines: order_id not an order":
            f"SELECT COUNT(*) FROM {lines} WHERE order_id IS NULL OR order_id NOT IN (SELECT order_id FROM {orders})",
    }
    if "products" in files:
        products = f"read_parquet('{files['products']}')"
        counts["products: sku repeated"] = f"SELECT COUNT(*) - COUNT(DISTINCT sku) FROM {products}"
        counts["order_lines: sku not a product"] = (
            f"SELECT COUNT(*) FROM {lines} WHERE sku IS NULL OR sku NOT IN (SELECT sku FROM {products})")
    # Text the store reads as it is (DataStore._tidy_text): no value blank or with spaces at its ends.
    for name, path in files.items():
        described = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{path}'))")
        for column, kind in described.fetchall():
            if kind == "VARCHAR":
                counts[f"{name}: {column} untidy"] = (
                    f"SELECT COUNT(*) FROM read_parquet('{path}') WHERE \"{column}\" = '' "
                    f"OR regexp_matches(\"{column}\", '^[\\s\\p{{Z}}]|[\\s\\p{{Z}}]$')")
    return {name: con.execute(sql).fetchone()[0] for name, sql in counts.items()}
