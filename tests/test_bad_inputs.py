"""Bad inputs from an adversarial run (issue 21, "Why"): each ends in fupan's own error with its
location and hint, a stated warning, or a correct site — never a traceback, never a changed
figure without a message.

Settings (`extra.review`) reach the page escaped: `<script>` in every text setting shows as text
in Chromium and no script runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import STUB_PAGES, check_fails, free_port, run_build, serving
from conftest import run_fupan as _fupan

# Every text setting of extra.review that can hold any text (the others are checked against a
# list: locale, colors, engine) gets a payload that runs script if it reaches the page as HTML.
SCRIPT = "<script>window.__fupan_xss = (window.__fupan_xss || 0) + 1</script>"
IMAGE = '<img src="x" onerror="window.__fupan_xss = (window.__fupan_xss || 0) + 1">'
HOSTILE_SETTINGS = {"company": SCRIPT + "山野", "currency": SCRIPT, "pp_label": IMAGE}
# Pages that print the company (Markdown text and the page title), formatted amounts (currency)
# and changes in percentage points (pp_label), in text, tables, findings and charts.
PAGES = ["", "chapters/01-introduction/", "chapters/02-overall/", "chapters/04-users/", "about/"]


def set_review(project: Path, **settings) -> None:
    """Change settings of extra.review in the project's mkdocs.yml (its `!ENV` tag kept)."""
    path = project / "mkdocs.yml"
    text = path.read_text(encoding="utf-8")
    # JSON is YAML: each value in flow style, quoted as needed.
    block = "".join(f"    {key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in settings.items())
    for key in settings:  # drop the setting as the repo's mkdocs.yml writes it
        text = "\n".join(line for line in text.split("\n") if not line.startswith(f"    {key}:"))
    path.write_text(text.replace("  review:\n", "  review:\n" + block), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_site(tiny_project_factory, tmp_path_factory):
    project = tiny_project_factory("hostile", docs=STUB_PAGES)
    set_review(project, **HOSTILE_SETTINGS)
    port = free_port()
    site = tmp_path_factory.mktemp("hostile-site") / "site"
    result = run_build(project, site, f"http://127.0.0.1:{port}/", timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    with serving(site, port):
        yield site, f"http://127.0.0.1:{port}/"


def test_settings_show_literally_and_run_nothing(hostile_site, browser):
    site, base = hostile_site
    context = browser.new_context(service_workers="block")
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                  else route.abort())
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        seen = set()
        for path in PAGES:
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.evaluate("window.__fupan_xss") is None, f"a setting ran script on /{path}"
            text = page.inner_text("body")
            seen |= {key for key, value in HOSTILE_SETTINGS.items() if value in text}
        assert not dialogs
    finally:
        context.close()
    # Each setting was printed somewhere, as the text written in mkdocs.yml.
    assert seen == set(HOSTILE_SETTINGS), f"not shown as text: {set(HOSTILE_SETTINGS) - seen}"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__fupan_xss" in home and "<script>window.__fupan_xss" not in home


def test_macros_get_settings_as_written():
    """A page passing a setting to a macro (`title=config.extra.review.company`) gives the macro
    the text as written: the macro escapes it once, as it escapes any argument."""
    from fupan.site.plugin import escaped
    from fupan.site.writer_errors import guard_macro

    settings = escaped({"company": "A&B <i>", "year": 2025, "names": ["<b>"]})
    assert settings == {"company": "A&amp;B &lt;i&gt;", "year": 2025, "names": ["&lt;b&gt;"]}
    seen = []
    guarded = guard_macro("demo", lambda title, names=(): seen.append((title, names)) or "")
    guarded(settings["company"], names=settings["names"])
    assert seen == [("A&B <i>", ["<b>"])] and type(seen[0][0]) is str


# -- every error in fupan's own format (issue 21, item 6) ----------------------------------------

def _sub(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _products(project: Path) -> Path:
    return project / "data" / "products.csv"


def _bytes(project: Path, change) -> None:
    path = _products(project)
    path.write_bytes(change(path.read_bytes()))


def _extras_with(name: str, text: str):
    def write(project: Path) -> None:
        from tiny import write_tiny_extras

        write_tiny_extras(project / "data")
        (project / "data" / name).write_text(text, encoding="utf-8")
    return write


# products.csv of the tiny shop, as tiny.py writes it (pandas: LF line ends, a final LF):
#   row 1 商品编码,商品名称,品类,子品类,标价,单位成本,上市日期,评分
#   row 2 P1,坚果礼盒,零食,零食,10,4,2023-01-01,4.5
#   row 3 P2,收纳箱,家居,家居,50,30,2023-01-01,4.5
# The line of the repo's contract that the contract_yaml case breaks (its `[` is in column 11).
ORDERS_PATH_LINE = (Path(__file__).resolve().parents[1] / "data" / "datasets.yml").read_text(
    encoding="utf-8").split("\n").index("    path: orders.parquet") + 1
# The line of the repo's mkdocs.yml that the mkdocs_yaml case breaks (the flow sequence opens
# in column 11 of `    year: [2025`, the next line's colon is in column 17).
YEAR_LINE = (Path(__file__).resolve().parents[1] / "mkdocs.yml").read_text(
    encoding="utf-8").split("\n").index("    year: 2025") + 1
COMPLAINTS_HEADER = "投诉编号,投诉日期,订单编号,投诉原因,领域,解决日期\n"
# (name, what breaks the tiny project, expected lines of `fupan check`'s output)
CHECK_CASES = [
    ("mkdocs_yaml", lambda p: _sub(p / "mkdocs.yml", "    year: 2025", "    year: [2025"),
     [f"mkdocs.yml, line {YEAR_LINE + 1}, column 17: not valid YAML: expected ',' or ']', but got ':' "
      f"(while parsing a flow sequence at line {YEAR_LINE}, column 11)", "Hint: check the indentation"]),
    ("contract_yaml", lambda p: _sub(p / "data" / "datasets.yml", "    path: orders.parquet",
                                     "    path: [orders.parquet\n  format: parquet"),
     [f"line {ORDERS_PATH_LINE + 1}, column 9: not valid YAML: did not find expected ',' or ']' "
      f"(while parsing a flow sequence at line {ORDERS_PATH_LINE}, column 11)"]),
    ("compare_year_text", lambda p: _sub(p / "mkdocs.yml", "compare_year: 2024", "compare_year: 去年"),
     ["mkdocs.yml: extra.review.compare_year: '去年' is not a whole number (≥ 1900); write it as e.g. "
      "`compare_year: 2024`"]),
    ("min_group_size_text",
     lambda p: _sub(p / "mkdocs.yml", "    year: 2025", "    year: 2025\n    min_group_size: 五"),
     ["mkdocs.yml: extra.review.min_group_size: '五' is not a whole number (≥ 1)"]),
    ("truncated_mid_row", lambda p: _bytes(p, lambda b: b[:-9]),  # "P2,…,2023-01" of row 3
     ["data/products.csv, row 3 — cannot be read: the file ends in the middle of row 3 (7 of the header's 8 "
      "values): it was cut short [rule: file]. Hint: export the file again"]),
    ("unquoted_comma", lambda p: _sub(_products(p), "坚果礼盒", "坚果,礼盒"),
     ["data/products.csv, row 2 — cannot be read: row 2 has 9 values but the header has 8 [rule: file]. "
      'Hint: a value containing a comma must be in double quotes ("坚果,礼盒")']),
    ("lone_cr_splits_a_row", lambda p: _sub(_products(p), "坚果礼盒", "坚果\r礼盒"),
     ["data/products.csv, row 2 — cannot be read: row 2 has 2 values but the header has 8; the file mixes "
      "line endings (CR, LF): a stray line break splits rows"]),
    ("quote_never_closed", lambda p: _sub(_products(p), "收纳箱", '"收纳箱'),
     ["data/products.csv, row 3 — cannot be read: the quoted value on row 3 is never closed"]),
    ("binary_named_csv", lambda p: _products(p).write_bytes(bytes(range(256)) * 8),
     ["data/products.csv — cannot be read: the file is not CSV text: it holds binary data (a NUL byte at byte 1)"]),
    ("workbook_named_csv", lambda p: _products(p).write_bytes(b"PK\x03\x04" + b"\x14" * 200),
     ["data/products.csv — cannot be read: the file is not CSV text but a zip archive", "`format: xlsx`"]),
    ("empty_required_file", lambda p: _products(p).write_bytes(b""),
     ["data/products.csv — cannot be read: the file is empty [rule: file]"]),
    ("header_only_required_file", lambda p: _products(p).write_text(
        "商品编码,商品名称,品类,子品类,标价,单位成本,上市日期,评分\n", encoding="utf-8"),
     ["ERROR: data/products.csv — the file has no data rows (only its header): the review cannot be built "
      "without product master [rule: rows]"]),
]


@pytest.mark.parametrize(("name", "breaks", "expected"), CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_fupan_check_names_the_file_and_row(tmp_path, name, breaks, expected):
    from tiny import make_project

    project = make_project(tmp_path / "p")
    breaks(project)
    output = check_fails(project, expected)
    assert "<unicode string>" not in output
    assert "Error when sniffing" not in output and "not found in data/products.csv" not in output


def _products_read(project: Path) -> list[tuple]:
    from fupan.data.store import DataStore
    from tiny import contract_for

    store = DataStore(contract_for(project / "data"), project / ".cache" / "fupan")
    return store.rows("SELECT sku, name, list_price FROM products ORDER BY sku")


# Files that are odd but whole are read as written: the same rows, no message needed.
READ_CASES = [
    ("lone_cr_line_ends", lambda b: b.replace(b"\n", b"\r")),  # classic Mac line ends throughout
    ("mixed_line_ends", lambda b: b.replace(b"\n", b"\r\n", 1).replace(b"4.5\n", b"4.5\r", 1)),  # CRLF, CR, LF
    ("quoted_comma_and_line_break", lambda b: b.replace("坚果礼盒".encode(), '"坚果,\n礼盒"'.encode())),
]


@pytest.mark.parametrize(("name", "change"), READ_CASES, ids=[c[0] for c in READ_CASES])
def test_odd_but_whole_csv_files_are_read_as_written(tmp_path, name, change):
    from tiny import make_project

    project = make_project(tmp_path / "p")
    _bytes(project, change)
    result = _fupan(project, "check")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    name_p1 = "坚果,\n礼盒" if "quoted" in name else "坚果礼盒"
    assert _products_read(project) == [("P1", name_p1, 10.0), ("P2", "收纳箱", 50.0)]


def test_empty_and_header_only_optional_files_are_no_rows(tiny_project_factory, tmp_path_factory):
    """An optional CSV with no data row is taken as not provided, with a warning; the site is
    built and its sections show their no-data notice. A Parquet file without rows is read as
    it is: the data-sources table lists it with 0 rows and no dates."""
    import pandas as pd

    project = tiny_project_factory("no-rows", docs=STUB_PAGES)
    _extras_with("complaints.csv", COMPLAINTS_HEADER)(project)
    (project / "data" / "funnel.csv").write_text("", encoding="utf-8")
    inventory = project / "data" / "inventory.parquet"  # a Parquet file without rows is read as such
    pd.read_parquet(inventory).iloc[0:0].to_parquet(inventory, index=False)
    check = _fupan(project, "check")
    output = check.stdout + check.stderr
    assert check.returncode == 0, output[-3000:]
    for file in ("data/complaints.csv", "data/funnel.csv"):
        assert (f"WARNING: {file} — the file has no data rows (it is empty or holds only its header): taken as "
                "not provided, so the sections that need it show their no-data notice [rule: rows]") in output
    assert "column0" not in output
    site = tmp_path_factory.mktemp("no-rows-site") / "site"
    build = run_build(project, site, timeout=240)
    assert build.returncode == 0, (build.stdout + build.stderr)[-4000:]
    overall = (site / "chapters" / "02-overall" / "index.html").read_text(encoding="utf-8")
    assert "缺少数据：本部分需要数据文件 data/complaints.csv" in overall
    sources = (site / "chapters" / "01-introduction" / "index.html").read_text(encoding="utf-8")
    # The data-sources table (each dataset by its name in the catalogue): no rows, no date range (its NaT dates
    # crashed the table).
    assert ("<tr><td>库存日快照</td><td>库存日快照</td><td>仓储管理系统 WMS</td><td><code>data/inventory.parquet"
            "</code></td><td>0</td><td>—</td>") in sources


def test_data_outside_the_review_year_is_a_data_error(tmp_path):
    from fupan.data.validation import DataValidationError
    from fupan.site.context import build_review
    from tiny import write_tiny_data

    write_tiny_data(tmp_path / "project" / "data")
    with pytest.raises(DataValidationError) as caught:
        build_review({"review": {"company": "测试", "year": 2031}}, tmp_path / "project")
    assert ("ERROR: data/orders.parquet — no paid order falls in the review year 2031 (extra.review.year): the "
            "orders' 支付时间 (paid_at) run from 2024-03-05 to 2025-11-11 [rule: review year]. Hint: set `year:` of "
            "extra.review in mkdocs.yml to a year the data covers (2024 or 2025), or add that year's orders"
            ) in caught.value.text()


BROKEN_MACROS = '''

def define_env(env):  # noqa: F811 - this review's own macros after fupan's
    from fupan.site.plugin import define_env as fupan_env

    fupan_env(env)

    @env.macro
    def shaky(metric):
        """A macro of this review with a bug."""
        return {}[metric]
'''


def test_a_macro_that_raises_names_page_line_and_macro(tiny_project_factory, tmp_path_factory):
    project = tiny_project_factory("shaky", docs={
        **STUB_PAGES, "broken.md": "---\ntitle: 坏页\n---\n# 坏页\n\n文字\n\n{{ shaky('net_sales') }}\n"})
    with (project / "macros" / "main.py").open("a", encoding="utf-8") as fh:
        fh.write(BROKEN_MACROS)
    build = run_build(project, tmp_path_factory.mktemp("shaky-site") / "site", timeout=240)
    output = build.stdout + build.stderr
    assert build.returncode != 0
    assert ("docs/broken.md, line 8: shaky() failed: KeyError: 'net_sales'\n"
            "    {{ shaky('net_sales') }}\n"
            "  Hint: a fault in the macro's code") in output, output[-3000:]
    assert "Traceback" not in output


# -- values are checked, not trusted (issue 21, item 1) ----------------------------------------

def _orders(project: Path, **changes) -> None:
    """Change cells of the tiny shop's orders.parquet: {column: {order_id: value}}."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = project / "data" / "orders.parquet"
    frame = pd.read_parquet(path)
    for column, values in changes.items():
        for order, value in values.items():
            frame.loc[frame["订单编号"] == order, column] = value
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for column in changes:  # a NaN stays NaN (pandas would write it as a missing value)
        if frame[column].dtype == "float64":
            index = table.schema.get_field_index(column)
            table = table.set_column(index, column, pa.array(frame[column].tolist(), pa.float64()))
    pq.write_table(table, path)


PRODUCTS_HEADER = "商品编码,商品名称,品类,子品类,标价,单位成本,上市日期,评分\n"
VALUE_CASES = [
    ("decimal_comma_in_a_point_column",
     lambda p: _sub(_products(p), "零食,10,4", '零食,"1.234,50",4'),
     ["ERROR: data/products.csv, row 2, column 标价 (list_price): value '1.234,50' — does not fit the column's "
      "number format (1,234.50): its value would be misread [rule: number format]. Hint: a file writing 1.234,50 "
      '(decimal comma) needs `decimal: ","`']),
    ("comma_not_in_thousands", lambda p: _sub(_products(p), "零食,10,4", '零食,"1,5",4'),
     ["ERROR: data/products.csv, row 2, column 标价 (list_price): value '1,5' — does not fit the column's number "
      "format (1,234.50)"]),
    ("nan_inf_huge_in_csv", lambda p: _products(p).write_text(
        PRODUCTS_HEADER + "P1,坚果礼盒,零食,零食,10,NaN,2023-01-01,4.5\nP2,收纳箱,家居,家居,1e308,inf,2023-01-01,4.5\n",
        encoding="utf-8"),
     ["ERROR: data/products.csv, row 3, column 标价 (list_price): value '1e308' — is NaN, infinite or beyond "
      "±1e+12: not a usable number [rule: magnitude]. Hint: leave the cell empty when the value is unknown",
      "ERROR: data/products.csv, row 2, column 单位成本 (unit_cost): value 'NaN' — is NaN, infinite",
      "ERROR: data/products.csv, row 3, column 单位成本 (unit_cost): value 'inf' — is NaN, infinite"]),
    ("nan_in_parquet", lambda p: _orders(p, 实付金额={"O4": float("nan")}),
     ["ERROR: data/orders.parquet, row 4, column 实付金额 (order_amount): value 'nan' — is NaN, infinite or "
      "beyond ±1e+12"]),
    ("order_dated_2031", lambda p: _orders(p, 支付时间={"O7": pd_timestamp("2031-06-01 10:00:00")}),
     ["ERROR: data/orders.parquet, row 7, column 支付时间 (paid_at): value '2031-06-01 10:00:00' — is after "
      "2025-12-31 (the build's date, or the review year's end): the review would leave the row out "
      "[rule: future date]"]),
    ("refund_above_paid", lambda p: _orders(p, 退款金额={"O5": 25.0}),
     ["ERROR: data/orders.parquet, row 5, column 退款金额 (refund_amount): value '25.0' — is larger than 实付金额 "
      "(order_amount) of the same row [rule: bound]. Hint: a refund cannot exceed what was paid"]),
]


def pd_timestamp(text: str):
    import pandas as pd

    return pd.Timestamp(text)


@pytest.mark.parametrize(("name", "breaks", "expected"), VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_fupan_check_names_values_it_cannot_trust(tmp_path, name, breaks, expected):
    from tiny import make_project

    project = make_project(tmp_path / "p")
    breaks(project)
    check_fails(project, expected)


def test_a_date_far_before_the_review_year_is_a_warning(tmp_path):
    from tiny import make_project

    project = make_project(tmp_path / "p")
    _orders(project, 支付时间={"O1": pd_timestamp("1924-03-05 10:00:00")})
    result = _fupan(project, "check")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert ("WARNING: data/orders.parquet, row 1, column 支付时间 (paid_at): value '1924-03-05 10:00:00' — is "
            "before 2005-01-01, more than 20 years before the review year: no period shown includes it "
            "[rule: past date]. Hint: check the year (1925 for 2025?)") in output


def test_a_declared_decimal_comma_is_read_as_written(tmp_path):
    import yaml
    from tiny import make_project

    project = make_project(tmp_path / "p")
    contract_path = project / "data" / "datasets.yml"
    contract = yaml.safe_load(contract_path.read_text(encoding="utf-8"))
    contract["datasets"]["products"]["decimal"] = ","
    contract_path.write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _products(project).write_text(PRODUCTS_HEADER + 'P1,坚果礼盒,零食,零食,"1.234,50",4,2023-01-01,"4,5"\n'
                                  'P2,收纳箱,家居,家居,50,"30,25",2023-01-01,4\n', encoding="utf-8")
    result = _fupan(project, "check")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    from fupan.data.store import DataStore
    from tiny import contract_for

    store = DataStore(contract_for(project / "data"), project / ".cache" / "fupan")
    assert store.rows("SELECT sku, list_price, unit_cost, rating FROM products ORDER BY sku") == [
        ("P1", 1234.5, 4.0, 4.5), ("P2", 50.0, 30.25, 4.0)]
    # A point in that file is not a decimal point: 4.5 there is an error, not 4.5 or 45.
    _sub(_products(project), '"4,5"', "4.5")
    result = _fupan(project, "check")
    assert result.returncode == 1
    assert ("data/products.csv, row 2, column 评分 (rating): value '4.5' — does not fit the column's number "
            "format (1.234,50)") in result.stdout + result.stderr
