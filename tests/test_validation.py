"""Validation against the data contract: every rule names the exact file, row, column and value.

Each case starts from the tiny shop (tests/tiny.py) in a temp project and breaks one file. Rows
are reported as a person sees them: for CSV/Excel the header is row 1, so the 2nd data row is
row 3; for Parquet the 1-based row. Files are shown relative to the project (data/...).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import build_env, run_build
from fupan.data.store import DataStore
from fupan.data.validation import ValidationReport, validate
from tiny import contract_for, lines_frame, orders_frame, users_frame, write_tiny_data

PRODUCT_HEADER = ["商品编码", "商品名称", "品类", "子品类", "标价", "单位成本", "上市日期", "评分"]
PRODUCT_ROWS = [
    ["P1", "坚果礼盒", "零食", "零食", "10", "4", "2023-01-01", "4.5"],
    ["P2", "收纳箱", "家居", "家居", "50", "30", "2023-01-01", "4.5"],
]
INITIATIVE_HEADER = ["举措编号", "年度", "领域", "举措", "负责岗位", "状态", "衡量指标", "目标值",
                     "实际值", "完成度"]


# -- fixture helpers ----------------------------------------------------------------------------
def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def edit_contract(data: Path, dataset: str, **settings) -> None:
    """Change dataset-level settings in the project's copy of datasets.yml."""
    path = data / "datasets.yml"
    contract = yaml.safe_load(path.read_text(encoding="utf-8"))
    contract["datasets"][dataset].update(settings)
    path.write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False), encoding="utf-8")


def products_with(header_or_cell: str, row: int, value: str | None) -> Callable[[Path], None]:
    """Overwrite one cell of products.csv (row = 0-based data row) with `value` ('' = empty)."""

    def setup(data: Path) -> None:
        rows = [list(r) for r in PRODUCT_ROWS]
        rows[row][PRODUCT_HEADER.index(header_or_cell)] = value
        write_csv(data / "products.csv", PRODUCT_HEADER, rows)

    return setup


def parquet_with(name: str, frame_fn: Callable[[], pd.DataFrame], header: str, row: int,
                 value, as_text: bool = False) -> Callable[[Path], None]:
    """Overwrite one cell of a Parquet dataset (as_text: store the column as strings first)."""

    def setup(data: Path) -> None:
        frame = frame_fn()
        if as_text:
            frame[header] = frame[header].map(lambda v: None if pd.isna(v) else str(v)).astype(object)
        frame.loc[row, header] = value
        frame.to_parquet(data / f"{name}.parquet", index=False)

    return setup


def order_lines_csv_with(header: str, row: int, value: str) -> Callable[[Path], None]:
    """order_lines exported as CSV (contract switched to it) with one cell overwritten."""

    def setup(data: Path) -> None:
        frame = lines_frame().astype(str)
        frame.loc[row, header] = value
        frame.to_csv(data / "order_lines.csv", index=False)
        (data / "order_lines.parquet").unlink()
        edit_contract(data, "order_lines", path="order_lines.csv", format="csv")

    return setup


def duplicate_product_key(data: Path) -> None:
    rows = [*PRODUCT_ROWS, ["P1", "坚果礼盒（重复）", "零食", "零食", "12", "4", "2023-02-01", "4"]]
    write_csv(data / "products.csv", PRODUCT_HEADER, rows)


def duplicate_order_line(data: Path) -> None:
    frame = lines_frame()
    assert tuple(frame.loc[3, ["订单编号", "行号"]]) == ("O3", 2)
    frame.loc[3, "行号"] = 1  # O3 line 2 becomes a second O3 line 1
    frame.to_parquet(data / "order_lines.parquet", index=False)


def rename_product_header(old: str, new: str) -> Callable[[Path], None]:
    def setup(data: Path) -> None:
        write_csv(data / "products.csv", [new if h == old else h for h in PRODUCT_HEADER],
                  PRODUCT_ROWS)

    return setup


def initiatives_with(completions: list[str]) -> Callable[[Path], None]:
    def setup(data: Path) -> None:
        rows = [[f"I{i}", "2025", "商品策略", f"举措{i}", "运营经理", "进行中", "", "", "", c]
                for i, c in enumerate(completions, start=1)]
        write_csv(data / "initiatives.csv", INITIATIVE_HEADER, rows)

    return setup


def remove(name: str) -> Callable[[Path], None]:
    def setup(data: Path) -> None:
        (data / name).unlink()

    return setup


def run(project: Path, setup: Callable[[Path], None] | None = None, cap: int | None = None
        ) -> tuple[DataStore, ValidationReport]:
    data = write_tiny_data(project / "data")
    if setup is not None:
        setup(data)
    store = DataStore(contract_for(data), project / ".cache" / "fupan")
    report = validate(store) if cap is None else validate(store, cap)
    return store, report


def report_line(report: ValidationReport, problem) -> str:
    """The line of report.text() that shows `problem`."""
    lines = [ln for ln in report.text().splitlines()
             if ln.strip() == f"{problem.severity.upper()}: {problem.text()}"]
    assert len(lines) == 1, report.text()
    return lines[0]


# -- one case per rule --------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    setup: Callable[[Path], None]
    file: str
    row: int | None
    header: str | None
    column: str | None
    value: str | None
    rule: str
    message: str
    hint: str = ""


CASES = {
    "type-decimal": Case(products_with("标价", 1, "abc"), "data/products.csv", 3, "标价",
                         "list_price", "abc", "type", "is not a valid decimal", "1234.50"),
    "type-date": Case(products_with("上市日期", 1, "2025-13-01"), "data/products.csv", 3,
                      "上市日期", "launch_date", "2025-13-01", "type", "is not a valid date",
                      "2025年6月18日"),
    "type-integer-csv": Case(order_lines_csv_with("数量", 4, "1.5x"), "data/order_lines.csv", 6,
                             "数量", "quantity", "1.5x", "type", "is not a valid integer",
                             "whole numbers"),
    "type-timestamp-parquet": Case(
        parquet_with("orders", orders_frame, "下单时间", 3, "2025-06-18 25:00:00", as_text=True),
        "data/orders.parquet", 4, "下单时间", "ordered_at", "2025-06-18 25:00:00", "type",
        "is not a valid timestamp", "2025-06-18 14:30:00"),
    "type-boolean-parquet": Case(
        parquet_with("orders", orders_frame, "是否用券", 2, "也许", as_text=True),
        "data/orders.parquet", 3, "是否用券", "coupon_used", "也许", "type",
        "is not a valid boolean", "是/否"),
    "required-empty": Case(products_with("商品名称", 1, ""), "data/products.csv", 3, "商品名称",
                           "name", None, "required", "a value is required",
                           "fill in the missing value"),
    "unique": Case(duplicate_product_key, "data/products.csv", 4, "商品编码", "sku", "P1",
                   "unique", "already in row 2", "keep one row per product"),
    "primary-key-composite": Case(duplicate_order_line, "data/order_lines.parquet", 4,
                                  "订单编号 + 行号", "order_id, line_no", "O3 / 1", "unique",
                                  "already in row 3"),
    "allowed-near-miss": Case(parquet_with("orders", orders_frame, "平台", 0, "天描"),
                              "data/orders.parquet", 1, "平台", "platform", "天描", "allowed",
                              "is not one of the allowed values", 'did you mean "天猫"'),
    "min-csv": Case(products_with("单位成本", 0, "-1"), "data/products.csv", 2, "单位成本",
                    "unit_cost", "-1", "min", "below the minimum 0", "≥ 0"),
    "min-parquet": Case(parquet_with("users", users_frame, "出生年份", 1, 1900),
                        "data/users.parquet", 2, "出生年份", "birth_year", "1900", "min",
                        "below the minimum 1930", "≥ 1930"),
    "max": Case(products_with("评分", 1, "6"), "data/products.csv", 3, "评分", "rating", "6",
                "max", "above the maximum 5", "≤ 5"),
    "max-after-percent-clean": Case(initiatives_with(["50%", "120%"]), "data/initiatives.csv", 3,
                                    "完成度", "completion", "120%", "max", "above the maximum 1"),
    "references": Case(parquet_with("order_lines", lines_frame, "商品编码", 2, "P9"),
                       "data/order_lines.parquet", 3, "商品编码", "sku", "P9", "references",
                       "not found in data/products.csv column 商品编码 (products.sku)",
                       "add it to data/products.csv"),
    "missing-required-header": Case(rename_product_header("商品名称", "商品名"), "data/products.csv",
                                    None, "商品名称", "name", None, "header",
                                    "column header '商品名称' (canonical name) not found",
                                    'the file has "商品名": map it with `header: 商品名`'),
    "missing-required-file": Case(remove("orders.parquet"), "data/orders.parquet", None, None,
                                  None, None, "file", "required file not found",
                                  "export orders"),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_rule_reports_file_row_column_value(tmp_path: Path, case: Case) -> None:
    _, report = run(tmp_path / "project", case.setup)

    assert len(report.errors) == 1, report.text()
    (problem,) = report.errors
    assert (problem.file, problem.row, problem.header, problem.column, problem.value,
            problem.rule) == (case.file, case.row, case.header, case.column, case.value, case.rule)
    assert case.message in problem.message
    assert case.hint in problem.hint

    line = report_line(report, problem)
    assert line.startswith(f"  ERROR: {case.file}")
    if case.row is not None:
        assert f", row {case.row}," in line
    else:
        assert ", row " not in line
    if case.header is not None:
        assert f"column {case.header} ({case.column})" in line
    if case.value is not None:
        assert f"value {case.value!r}" in line
    assert f"[rule: {case.rule}]" in line
    assert case.hint in line
    assert report.text().startswith("Data validation: 1 error(s)")


def test_missing_optional_file_is_listed_not_an_error(tmp_path: Path) -> None:
    _, report = run(tmp_path / "project", remove("users.parquet"))

    assert report.errors == [], report.text()
    assert "data/users.parquet" in report.missing_optional
    # orders.user_id references users: with users absent the reference is not checked.
    assert not [c for c in report.checks if c.rule == "references" and "users" in c.check]
    optional_line = report.text().splitlines()[-1]
    assert optional_line.startswith("  Optional data not provided")
    assert "data/users.parquet" in optional_line


def test_missing_optional_header_is_a_warning(tmp_path: Path) -> None:
    _, report = run(tmp_path / "project", rename_product_header("评分", "评价分"))

    assert report.errors == [], report.text()
    (warning,) = report.warnings
    assert (warning.file, warning.header, warning.column, warning.rule) == (
        "data/products.csv", "评分", "rating", "header")
    assert '"评价分"' in warning.hint
    assert f"  WARNING: {warning.text()}" in report.text().splitlines()


@pytest.mark.parametrize("cap", [None, 5])
def test_many_errors_are_capped_with_a_count_of_the_rest(tmp_path: Path, cap: int | None) -> None:
    def thirty_bad_prices(data: Path) -> None:
        rows = [[f"P{i}", f"商品{i}", "零食", "", f"坏{i}" if i > 2 else "10", "4", "2023-01-01", ""]
                for i in range(1, 33)]
        write_csv(data / "products.csv", PRODUCT_HEADER, rows)

    _, report = run(tmp_path / "project", thirty_bad_prices, cap)
    shown = 20 if cap is None else cap

    assert len(report.errors) == shown
    assert {p.rule for p in report.errors} == {"type"}
    # The first `shown` bad rows, in file order: P3 is the 3rd data row = spreadsheet row 4.
    assert [p.row for p in report.errors] == list(range(4, 4 + shown))
    assert [p.value for p in report.errors] == [f"坏{i}" for i in range(3, 3 + shown)]
    assert report.more == {"products|list_price|type": 30 - shown}
    text = report.text()
    assert f"  … and {30 - shown} more type problem(s) in products.list_price" in text.splitlines()
    assert text.startswith(f"Data validation: {shown} error(s)")
    check = next(c for c in report.checks if c.check == "type 标价 (list_price)")
    assert check.failures == 30


def test_errors_of_several_rules_and_files_are_reported_together(tmp_path: Path) -> None:
    def break_everything(data: Path) -> None:
        products_with("标价", 1, "abc")(data)
        parquet_with("orders", orders_frame, "平台", 4, "天描")(data)
        frame = lines_frame()
        frame.loc[0, "商品编码"] = "P9"
        frame.loc[1, "数量"] = 0
        frame.to_parquet(data / "order_lines.parquet", index=False)
        parquet_with("users", users_frame, "会员等级", 2, None)(data)

    _, report = run(tmp_path / "project", break_everything)

    found = {(p.file, p.row, p.column, p.rule) for p in report.errors}
    assert found == {
        ("data/products.csv", 3, "list_price", "type"),
        ("data/orders.parquet", 5, "platform", "allowed"),
        ("data/order_lines.parquet", 1, "sku", "references"),
        ("data/order_lines.parquet", 2, "quantity", "min"),
        ("data/users.parquet", 3, "member_level", "required"),
    }, report.text()
    text = report.text()
    assert text.startswith("Data validation: 5 error(s), 0 warning(s)")
    for problem in report.errors:
        assert f"  ERROR: {problem.text()}" in text.splitlines()


# -- cleaning rules and date spellings -----------------------------------------------------------
@pytest.mark.parametrize(("raw", "cleaned"), [
    ("P1", "P1"),
    (" P1", "P1"),                  # ASCII space, either side
    ("P1 ", "P1"),
    ("\u3000P1\u3000", "P1"),       # ideographic (全角) space, as Chinese exports have
    ("\u00a0P1", "P1"),             # no-break space
    ("P 1", "P 1"),                 # inner spaces stay
    ("", None),                     # blank is missing
    ("   ", None),
    ("\u3000", None),
    (None, None),
])
def test_text_is_trimmed_and_blank_is_missing(raw: str | None, cleaned: str | None) -> None:
    import duckdb
    from fupan.data.store import trimmed_text_sql

    got = duckdb.connect().execute(f"SELECT {trimmed_text_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [raw]).fetchone()[0]
    assert got == cleaned


def test_only_checks_reading_a_changed_file_run_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Failure counts are kept per check, keyed by the files the check reads: after products.csv
    changes, only the products checks and the references into products are counted again; a
    corrupt kept count is counted again too."""
    project = tmp_path / "project"
    data = write_tiny_data(project / "data")
    cache = project / ".cache" / "fupan"
    first = validate(DataStore(contract_for(data), cache), cache_dir=cache)
    assert first.errors == []

    rows = [list(r) for r in PRODUCT_ROWS]
    rows[1][PRODUCT_HEADER.index("标价")] = "-5"
    write_csv(data / "products.csv", PRODUCT_HEADER, rows)
    store = DataStore(contract_for(data), cache)
    counted: list[str] = []
    real_rows = store.rows
    monkeypatch.setattr(store, "rows", lambda sql: counted.append(sql) or real_rows(sql))
    report = validate(store, cache_dir=cache)

    counting = [sql for sql in counted if sql.startswith("SELECT SUM(") or " AS c0 FROM" in sql]
    assert counting and all('"products' in sql for sql in counting), counting
    assert any('FROM "order_lines" t LEFT JOIN' in sql for sql in counting)  # order_lines.sku → products
    assert not any('FROM "orders' in sql for sql in counting)
    assert [(p.file, p.row, p.header, p.value, p.rule) for p in report.errors] == [
        ("data/products.csv", 3, "标价", "-5", "min")]

    kept_counts = list((cache / "validation-counts").rglob("*.json"))
    assert kept_counts
    for kept in kept_counts:
        kept.write_text("{not json", encoding="utf-8")
    again = validate(DataStore(contract_for(data), cache), cache_dir=cache)
    assert [(p.file, p.row, p.value) for p in again.errors] == [("data/products.csv", 3, "-5")]
    assert again.checks == validate(DataStore(contract_for(data), tmp_path / "uncached")).checks


def test_a_typed_parquet_column_is_not_scanned_for_its_type(tmp_path: Path) -> None:
    """A Parquet column already of the declared type cannot fail its type rule: the check is
    listed (0 failures) without a scan; a text column still gets the scan and its errors."""
    from fupan.data.validation import _count_parts, _rules

    store, report = run(tmp_path / "project",
                        parquet_with("users", users_frame, "出生年份", 0, "abc", as_text=True))
    users = store.loaded["users"]
    rules = {(r.column.name, r.rule): r.condition for r in _rules(users)}
    assert rules[("birth_year", "type")] is not None  # stored as text here
    orders = store.loaded["orders"]
    assert orders.raw_types["支付时间"].startswith("TIMESTAMP")
    assert {(r.column.name, r.rule): r.condition for r in _rules(orders)}[("paid_at", "type")] is None
    assert not any("__typed__paid_at\") IS NULL" in sql for sql, _, _ in _count_parts(store))
    assert any(c.dataset == "orders" and c.rule == "type" and "paid_at" in c.check and c.failures == 0
               for c in report.checks)
    assert [(p.file, p.header, p.value, p.rule) for p in report.errors] == [
        ("data/users.parquet", "出生年份", "abc", "type")]


def test_thousands_and_currency_are_cleaned(tmp_path: Path) -> None:
    def money(data: Path) -> None:
        rows = [list(r) for r in PRODUCT_ROWS]
        rows[0][PRODUCT_HEADER.index("标价")] = "¥1,234.50"
        rows[1][PRODUCT_HEADER.index("标价")] = "￥12,000"
        rows[1][PRODUCT_HEADER.index("单位成本")] = " 30.5 "
        write_csv(data / "products.csv", PRODUCT_HEADER, rows)

    store, report = run(tmp_path / "project", money)

    assert report.errors == [], report.text()
    got = store.query("SELECT sku, list_price, unit_cost FROM products ORDER BY sku")
    assert got.to_dict("records") == [
        {"sku": "P1", "list_price": 1234.5, "unit_cost": 4.0},
        {"sku": "P2", "list_price": 12000.0, "unit_cost": 30.5},
    ]


def test_without_clean_rules_a_formatted_number_is_a_type_error(tmp_path: Path) -> None:
    """Cleaning happens only where declared: users.birth_year has no `clean:`."""
    _, report = run(tmp_path / "project",
                    parquet_with("users", users_frame, "出生年份", 0, "1,990", as_text=True))

    (problem,) = report.errors
    assert (problem.row, problem.column, problem.value, problem.rule) == (
        1, "birth_year", "1,990", "type")


def test_percent_is_cleaned_to_a_fraction(tmp_path: Path) -> None:
    store, report = run(tmp_path / "project", initiatives_with(["12.5%", "80%", "0.5", " 100% "]))

    assert report.errors == [], report.text()
    assert "data/initiatives.csv" not in report.missing_optional
    got = store.query("SELECT initiative_id, completion FROM initiatives ORDER BY initiative_id")
    assert got["initiative_id"].tolist() == ["I1", "I2", "I3", "I4"]
    assert got["completion"].tolist() == pytest.approx([0.125, 0.8, 0.5, 1.0])


def test_chinese_date_spellings_load_as_the_same_date(tmp_path: Path) -> None:
    spellings = ["2025-06-18", "2025/6/18", "2025年6月18日", "2025/06/18", "2025.6.18", "20250618"]

    def dates(data: Path) -> None:
        rows = [[f"P{i}", f"商品{i}", "零食", "", "10", "4", d, ""]
                for i, d in enumerate(spellings, start=1)]
        write_csv(data / "products.csv", PRODUCT_HEADER, rows)

    store, report = run(tmp_path / "project", dates)

    assert report.errors == [], report.text()
    got = store.query("SELECT launch_date FROM products ORDER BY _row")["launch_date"]
    assert [pd.Timestamp(d).date() for d in got] == [dt.date(2025, 6, 18)] * len(spellings)


# -- a failing check stops the build and leaves the last good site as it was ---------------------
BAD_PRICE_LINE = "ERROR: data/products.csv, row 3, column 标价 (list_price): value 'abc'"


def tree_hashes(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def break_price(project: Path) -> None:
    products_with("标价", 1, "abc")(project / "data")


@dataclass(frozen=True)
class BrokenAfterBuild:
    project: Path
    site: Path  # the project's site/, built by a strict build while the data was good
    hashes: dict[str, str]


@pytest.fixture(scope="module")
def broken_after_build(tiny_project_factory) -> BrokenAfterBuild:
    """A tiny project built once with `mkdocs build --strict -d site`, then given a bad price."""
    project = tiny_project_factory("build-bad-data")
    site = project / "site"
    first = run_build(project, site)
    assert first.returncode == 0, first.stderr[-4000:]
    hashes = tree_hashes(site)
    assert "index.html" in hashes and "chapters/02-overall/index.html" in hashes
    break_price(project)
    return BrokenAfterBuild(project, site, hashes)


def test_mkdocs_strict_build_fails_on_bad_data_and_keeps_the_old_site(
        broken_after_build: BrokenAfterBuild) -> None:
    built = broken_after_build
    result = run_build(built.project, built.site)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert BAD_PRICE_LINE in output, output[-4000:]
    assert "[rule: type]" in output
    assert tree_hashes(built.site) == built.hashes


def test_fupan_build_fails_on_bad_data_and_keeps_the_old_site(
        broken_after_build: BrokenAfterBuild) -> None:
    built = broken_after_build
    data_before = {p.name: p.stat().st_mtime_ns for p in (built.project / "data").iterdir()}
    result = subprocess.run([sys.executable, "-m", "fupan", "build"], cwd=built.project,
                            env=build_env(), capture_output=True, text=True, timeout=300, check=False)

    assert result.returncode == 1, result.stderr[-4000:]
    assert BAD_PRICE_LINE in result.stderr, result.stderr[-4000:]
    assert f"{built.site} was left as it was" in result.stderr
    assert tree_hashes(built.site) == built.hashes
    assert not list(built.project.glob(".fupan-build-*")), "temporary build folder left behind"
    assert {p.name: p.stat().st_mtime_ns for p in (built.project / "data").iterdir()} == data_before
