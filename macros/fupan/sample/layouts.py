"""The sample company's orders written in each platform preset's export layout.

`write_layout("jd", data/, out/)` reads the canonical sample (orders, order lines, products) and
writes the file(s) that platform's seller backend would export for the same orders: its headers
(the preset's, so headers are declared in one place), encoding, date and amount formats, status
words and quirks. It returns the `exports:` declaration that reads them back.

How the sample's facts are written, on every platform:
- unpaid orders (no 支付时间) get the platform's closed/cancelled (or, in the last days, awaiting
  payment) status word and no payment time; the BI export has no unpaid orders at all;
- refunds are the sample's refunded line quantities × the line's unit price, per line where the
  layout has a line refund column, else summed per order; a paid order refunded after delivery
  keeps its completed status (only Shopify/WooCommerce/拼多多 have a word of their own for it);
- buyers: the sample's 买家ID goes into the platform's buyer column.

Files are deterministic (rows sorted by order and line, fixed number formatting, no clock) and
written by DuckDB straight from Parquet to CSV, so the 1M-order sample never sits in Python
memory; GBK and BOM files are re-encoded from DuckDB's UTF-8 output in fixed-size blocks.
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from fupan.data.contract import UnknownName, unknown_name_message
from fupan.intake.presets import declaration, expected_headers, load_preset, preset_names

# DuckDB's own budget while writing: the 1M-order sample streams through it in well under this.
MEMORY_LIMIT = "400MB"
BLOCK = 1 << 20  # bytes re-encoded at a time

# Province → the region a BI export groups it under.
REGIONS = {
    "华东": ("上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省"),
    "华北": ("北京市", "天津市", "河北省", "山西省", "内蒙古自治区"),
    "华南": ("广东省", "广西壮族自治区", "海南省"),
    "华中": ("河南省", "湖北省", "湖南省"),
    "西南": ("重庆市", "四川省", "贵州省", "云南省", "西藏自治区"),
    "西北": ("陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区"),
    "东北": ("辽宁省", "吉林省", "黑龙江省"),
}

_MACROS = """
CREATE OR REPLACE TEMP MACRO money(c) AS
  (CASE WHEN c < 0 THEN '-' ELSE '' END) || CAST(abs(c) // 100 AS VARCHAR) || '.'
  || lpad(CAST(abs(c) % 100 AS VARCHAR), 2, '0');
CREATE OR REPLACE TEMP MACRO money_k(c) AS
  (CASE WHEN c < 0 THEN '-' ELSE '' END) || format('{:,}', abs(c) // 100) || '.'
  || lpad(CAST(abs(c) % 100 AS VARCHAR), 2, '0');
CREATE OR REPLACE TEMP MACRO ts(t) AS strftime(t, '%Y-%m-%d %H:%M:%S');
"""

# One row per order with what every layout needs: amounts in cents (exact), the order's fate, a
# sequence number for the quirks that hit only some rows, and whether it is one of the last
# days' orders (still in transit: the platforms' shipped/awaiting words).
_ORDERS = """
CREATE TEMP VIEW ord AS
SELECT 订单编号 AS oid, 买家ID AS uid, 下单时间 AS ordered, 支付时间 AS paid_at,
       CAST(round(实付金额 * 100) AS BIGINT) AS amount_c,
       CAST(round(COALESCE(退款金额, 0) * 100) AS BIGINT) AS refund_c,
       省份 AS province, 城市 AS city,
       支付时间 IS NOT NULL AS paid,
       支付时间 IS NOT NULL AND 退款金额 > 0 AND round(退款金额 * 100) >= round(实付金额 * 100) AS full_refund,
       下单时间 >= (SELECT max(下单时间) FROM read_parquet('{orders}')) - INTERVAL 3 DAY AS recent,
       row_number() OVER (ORDER BY 订单编号) AS seq
FROM read_parquet('{orders}');
CREATE TEMP VIEW prod AS
SELECT 商品编码 AS sku, 商品名称 AS pname, 品类 AS category, 子品类 AS subcategory,
       CAST(round(CAST(单位成本 AS DOUBLE) * 100) AS BIGINT) AS cost_c
FROM read_csv('{products}', header = true, all_varchar = true);
CREATE TEMP VIEW ol AS
SELECT o.*, l.行号 AS line_no, l.商品编码 AS sku, p.pname, p.category, p.subcategory, p.cost_c,
       l.数量 AS qty, CAST(round(l.成交单价 * 100) AS BIGINT) AS price_c,
       CAST(round(l.成交金额 * 100) AS BIGINT) AS line_c, COALESCE(l.退货数量, 0) AS rqty,
       COALESCE(l.退货数量, 0) * CAST(round(l.成交单价 * 100) AS BIGINT) AS line_refund_c
FROM read_parquet('{lines}') l JOIN ord o ON l.订单编号 = o.oid JOIN prod p ON l.商品编码 = p.sku;
CREATE TEMP VIEW agg AS
SELECT oid, sum(qty) AS qty, string_agg(pname, '，' ORDER BY line_no) AS titles,
       string_agg(pname || '(' || qty || '件)', ';' ORDER BY line_no) AS titles_qty,
       string_agg(pname, ', ' ORDER BY line_no) AS titles_en, sum(rqty) AS rqty
FROM ol GROUP BY oid;
"""


def _taobao_status() -> str:
    return """CASE WHEN NOT paid AND recent THEN '等待买家付款' WHEN NOT paid THEN '交易关闭'
                   WHEN recent THEN '卖家已发货，等待买家确认' ELSE '交易成功' END"""


def _taobao_time(col: str) -> str:
    # Every fourth order as after an Excel re-save: no seconds, no zero padding.
    return f"CASE WHEN seq % 4 = 0 THEN strftime({col}, '%Y/%-m/%-d %-H:%M') ELSE ts({col}) END"


def _sql_taobao_orders() -> str:
    return f"""
SELECT '="' || o.oid || '"', o.uid, {_taobao_status()}, {_taobao_time('ordered')}, {_taobao_time('paid_at')},
       CASE WHEN seq % 3 = 0 THEN money(amount_c) || '元' ELSE money(amount_c) END,
       a.titles, a.qty
FROM ord o JOIN agg a USING (oid) ORDER BY seq"""


def _sql_taobao_items() -> str:
    return f"""
SELECT '="' || oid || lpad(CAST(line_no AS VARCHAR), 2, '0') || '"', '="' || oid || '"', uid, {_taobao_status()},
       {_taobao_time('ordered')}, {_taobao_time('paid_at')}, pname, sku, money(price_c), qty, money(line_c),
       CASE WHEN line_refund_c > 0 THEN money(line_refund_c) WHEN seq % 2 = 0 THEN '无退款申请' END
FROM ol ORDER BY seq, line_no"""


def _sql_jd() -> str:
    return """
SELECT oid, uid,
       CASE WHEN NOT paid AND seq % 10 = 3 THEN '(删除)已取消' WHEN NOT paid THEN '已取消'
            WHEN recent THEN '等待确认收货' ELSE '完成' END,
       ts(ordered), ts(paid_at),
       CASE WHEN paid AND recent THEN money(amount_c) || '（系统计算中，该值仅供参考）' ELSE money(amount_c) END,
       money(refund_c), sku, pname, qty, money(price_c)
FROM ol ORDER BY seq, line_no"""


def _sql_pinduoduo() -> str:
    return """
SELECT oid, uid,
       CASE WHEN NOT paid THEN '已取消' WHEN full_refund THEN '已签收，退款成功' WHEN recent THEN '待发货'
            ELSE '已签收' END,
       ts(ordered), ts(paid_at), money(amount_c), money(line_c), money(line_refund_c), sku, pname, qty,
       province, city
FROM ol ORDER BY seq, line_no"""


def _sql_douyin() -> str:
    # Ids end with a tab, amounts from 1000 up carry thousands separators, '-' stands for empty.
    return """
SELECT oid || chr(9), oid || lpad(CAST(line_no AS VARCHAR), 2, '0') || chr(9), uid,
       CASE WHEN NOT paid THEN '已关闭' WHEN recent THEN '待发货' ELSE '已完成' END,
       ts(ordered), COALESCE(ts(paid_at), '-'), money_k(amount_c), sku, pname, qty, money_k(price_c),
       CASE WHEN line_refund_c > 0 THEN money_k(line_refund_c) ELSE '-' END, province, city
FROM ol ORDER BY seq, line_no"""


def _sql_youzan() -> str:
    return """
SELECT oid, uid,
       CASE WHEN NOT paid AND recent THEN '待付款' WHEN NOT paid THEN '交易关闭' WHEN recent THEN '已发货'
            ELSE '交易成功' END,
       ts(ordered), ts(paid_at), a.titles_qty, money(amount_c), money(refund_c), province, city
FROM ord o JOIN agg a USING (oid) ORDER BY seq"""


def _sql_shopify() -> str:
    # Order fields only on an order's first line; times with the shop's UTC offset.
    def first(expr: str) -> str:
        return f"CASE WHEN line_no = 1 THEN {expr} END"

    status = """CASE WHEN NOT paid AND recent THEN 'pending' WHEN NOT paid THEN 'voided'
                     WHEN full_refund THEN 'refunded' WHEN refund_c > 0 THEN 'partially_refunded' ELSE 'paid' END"""
    return f"""
SELECT '#' || oid, {first("lower(uid) || '@example.com'")}, {first(status)},
       {first("ts(ordered) || ' +0800'")}, {first("ts(paid_at) || ' +0800'")},
       {first('money(amount_c)')}, {first('money(refund_c)')}, qty, pname, money(price_c), sku,
       {first('province')}, {first('city')}
FROM ol ORDER BY seq, line_no"""


def _sql_woocommerce() -> str:
    # Date is the payment time (the report's date type set to Date paid); a refunded order's second
    # row is dated on the refund, three days later but inside the same year as the sale, so the
    # sample's refunds stay in the year of their sale as they do in the canonical data.
    status = """CASE WHEN NOT paid AND recent THEN 'pending' WHEN NOT paid THEN 'cancelled'
                     WHEN full_refund THEN 'refunded' WHEN recent THEN 'processing' ELSE 'completed' END"""
    iso = "'%Y-%m-%dT%H:%M:%S'"
    return f"""
SELECT "Date", "Order #", "Status", "Customer", "Product(s)", "Items sold", "Net sales" FROM (
  SELECT seq, 0 AS k, strftime(COALESCE(paid_at, ordered), {iso}) AS "Date", oid AS "Order #", {status} AS "Status",
         uid AS "Customer", a.titles_en AS "Product(s)", a.qty AS "Items sold", money(amount_c) AS "Net sales"
  FROM ord o JOIN agg a USING (oid)
  UNION ALL
  SELECT seq, 1, strftime(least(paid_at + INTERVAL 3 DAY,
                                 make_timestamp(year(paid_at), 12, 31, 23, 59, 59)), {iso}),
         oid, {status}, uid, a.titles_en, -a.rqty, money(-refund_c)
  FROM ord o JOIN agg a USING (oid) WHERE paid AND refund_c > 0
) ORDER BY seq, k"""


def _sql_generic_lines() -> str:
    # Paid orders only (a BI sales table); a refunded quantity is a return row of its own with
    # negative quantity, sales and profit, on the sale's date.
    region = "CASE " + " ".join(
        f"WHEN province IN ({', '.join(repr(p) for p in provinces)}) THEN '{name}'"
        for name, provinces in REGIONS.items()) + " END"
    date = "strftime(paid_at, '%m/%d/%Y')"
    return f"""
SELECT "Order ID", "Order Date", "Customer ID", "Product ID", "Product Name", "Category", "Sub-Category",
       "Quantity", "Sales", "Profit", "Country", "Region" FROM (
  SELECT seq, line_no, 0 AS k, oid AS "Order ID", {date} AS "Order Date", uid AS "Customer ID",
         sku AS "Product ID", pname AS "Product Name", category AS "Category", subcategory AS "Sub-Category",
         qty AS "Quantity", money(line_c) AS "Sales", money(line_c - qty * cost_c) AS "Profit",
         'China' AS "Country", {region} AS "Region"
  FROM ol WHERE paid
  UNION ALL
  SELECT seq, line_no, 1, oid, {date}, uid, sku, pname, category, subcategory, -rqty, money(-line_refund_c),
         money(-(line_refund_c - rqty * cost_c)), 'China', {region}
  FROM ol WHERE paid AND rqty > 0
) ORDER BY seq, line_no, k"""


# preset → (file name, encoding, the SELECT whose columns are the preset's headers in order)
LAYOUTS: dict[str, tuple[str, str, Callable[[], str]]] = {
    "taobao_orders": ("ExportOrderList.csv", "gbk", _sql_taobao_orders),
    "taobao_items": ("ExportOrderDetailList.csv", "gbk", _sql_taobao_items),
    "jd": ("jd_orders.csv", "gbk", _sql_jd),
    "pinduoduo": ("pinduoduo_orders.csv", "utf-8", _sql_pinduoduo),
    "douyin": ("fxg_export_sample.csv", "utf-8-sig", _sql_douyin),
    "youzan": ("youzan_orders.csv", "utf-8", _sql_youzan),
    "shopify": ("orders_export.csv", "utf-8", _sql_shopify),
    "woocommerce": ("woocommerce_orders.csv", "utf-8", _sql_woocommerce),
    "generic_lines": ("sales_lines.csv", "utf-8", _sql_generic_lines),
}

# Headers as the platform writes them where they differ from the preset's (which normalises them):
# Taobao's trailing spaces, 拼多多's full-width brackets in some columns.
WRITTEN_HEADERS = {
    "taobao_orders": {"订单付款时间": "订单付款时间 "},
    "pinduoduo": {"用户实付金额(元)": "用户实付金额（元）", "退款金额(元)": "退款金额（元）"},
}


def layout_file(preset: str) -> str:
    """The file name the sample's export in `preset`'s layout is written as."""
    if preset not in LAYOUTS:
        raise UnknownName(unknown_name_message("preset", preset, LAYOUTS))
    return LAYOUTS[preset][0]


def written_headers(preset: str) -> list[str]:
    """The header row the sample's file in `preset`'s layout carries, as written."""
    renamed = WRITTEN_HEADERS.get(preset, {})
    return [renamed.get(h, h) for h in expected_headers(load_preset(preset))]


def write_layout(preset: str, data_dir: Path, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Write the canonical sample in `data_dir` as `preset`'s export file(s) into `out_dir`;
    return the `exports:` declaration (export name → settings) that reads them.

    A preset whose lines come from another export (Taobao's order report and its item report)
    writes both files and declares the orders with `lines: items`.
    """
    if preset not in preset_names() or preset not in LAYOUTS:
        raise UnknownName(unknown_name_message("preset", preset, LAYOUTS))
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fupan-layout-") as tmp:
        con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(Path(tmp) / "spill"),
                                     "preserve_insertion_order": True})
        try:
            con.execute(_MACROS)
            con.execute(_ORDERS.format(orders=_sql_path(data_dir / "orders.parquet"),
                                       lines=_sql_path(data_dir / "order_lines.parquet"),
                                       products=_sql_path(data_dir / "products.csv")))
            lines_preset = load_preset(preset).lines_preset
            names = [preset, lines_preset] if lines_preset else [preset]
            for name in names:
                _write(con, name, out_dir / layout_file(name), Path(tmp))
        finally:
            con.close()
    return declaration(load_preset(preset), {name: layout_file(name) for name in names})


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _write(con: duckdb.DuckDBPyConnection, preset: str, target: Path, tmp: Path) -> None:
    _, encoding, select = LAYOUTS[preset]
    headers = written_headers(preset)
    query = select()
    columns = con.sql(query).columns
    if len(columns) != len(headers):  # a layout out of step with its preset: a bug here
        raise AssertionError(f"layout {preset}: {len(columns)} columns for {len(headers)} headers")
    aliased = ", ".join(f'c{i} AS "{h.replace(chr(34), chr(34) * 2)}"' for i, h in enumerate(headers))
    renamed = f"SELECT {aliased} FROM ({query}) AS t({', '.join(f'c{i}' for i in range(len(headers)))})"
    staged = tmp / f"{preset}.utf8.csv"
    con.execute(f"COPY ({renamed}) TO '{_sql_path(staged)}' (FORMAT csv, HEADER true, DELIMITER ',')")
    _reencode(staged, target, encoding)


def _reencode(source: Path, target: Path, encoding: str) -> None:
    """Copy DuckDB's UTF-8 file as `encoding`, a block at a time (a block may end mid-character:
    the incremental decoder keeps the rest for the next block)."""
    if encoding == "utf-8":
        shutil.copyfile(source, target)
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(source, "rb") as src, open(target, "wb") as dst:
        if encoding == "utf-8-sig":
            dst.write(codecs.BOM_UTF8)
            shutil.copyfileobj(src, dst, BLOCK)
            return
        while block := src.read(BLOCK):
            dst.write(decoder.decode(block).encode(encoding))
        dst.write(decoder.decode(b"", final=True).encode(encoding))
