"""Export text to typed values (fupan.intake.values), run through a real DuckDB connection.

Every case is one cell as a seller backend writes it, the declared `format:` list, and the value
worked out by hand. Each expression is run on a one-row table, so a case passes only when the SQL
itself reads the cell.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

import duckdb
import pytest
from fupan.intake.values import (
    EMPTY_WORDS,
    VALUE_TYPES,
    clean_text_sql,
    format_hint,
    format_problems,
    unparsed_sql,
    value_sql,
)

CON = duckdb.connect()
RAWS: list[str | None] = []  # every cell of the tables below, registered as they are built


def cells(cases: list[tuple]) -> list[tuple]:
    """A case table; its cells (the first item of each case) are read in one query per type."""
    RAWS.extend(case[0] for case in cases if case[0] not in RAWS)
    return cases


def _run(sql_of_v: str, raw: object) -> object:
    return CON.execute(f"SELECT {sql_of_v} FROM (SELECT ? AS v)", [raw]).fetchone()[0]


@functools.cache
def _column(sql_of_v: str) -> dict[str | None, object]:
    # One query per expression over every registered cell: binding a timestamp expression takes
    # a good part of a second, reading a cell almost nothing.
    rows = CON.execute(f"SELECT v, {sql_of_v} FROM (SELECT unnest(?::VARCHAR[]) AS v)", [RAWS]).fetchall()
    return dict(rows)


def value(raw: str | None, value_type: str, formats: Sequence[str] = ()) -> object:
    return _column(value_sql("v", value_type, formats))[raw]


def unparsed(raw: str | None, value_type: str, formats: Sequence[str] = ()) -> object:
    return _column(unparsed_sql("v", value_type, formats))[raw]


EMPTY_CASES = cells([(word, None) for word in EMPTY_WORDS]
                    + [("  ", None), ("\t", None), ("\u3000", None), (None, None)])


@pytest.mark.parametrize(("raw", "expected"), cells([
    ("abc", "abc"),
    ('="0123"', "0123"),                      # Taobao: an id kept as text by Excel
    ('="A01 "', "A01"),
    ("'13800138000", "13800138000"),         # a phone number behind a leading '
    ("  收货地址 ", "收货地址"),
    ("3729184756\t", "3729184756"),          # Douyin ids end with a tab
    ("\r\nx\r\n", "x"),
    ("\u00a0甲\u3000", "甲"),                 # no-break and ideographic spaces
    ("a b", "a b"),                          # inner spaces stay
    ("第一行\n第二行", "第一行\n第二行"),        # inner line breaks stay
    ("=SUM(A1)", "=SUM(A1)"),                # not the ="…" form
    ("'", None),
    ('="-"', None),                          # an empty word inside the quoting
    (" 无 ", None),
    ("N/A ", None),
    ("none", "none"),                        # not an empty word
    # Cells that start with a character below `(` take the cleaning path: without a space,
    # quoting or an empty word at their edges they come back as they are.
    ("#N/A", "#N/A"),
    ('"引号"', '"引号"'),
    ("$12.50", "$12.50"),
    ("!it's", "!it's"),
    ("&'-'", "&'-'"),
    ("x́", "x́"),                   # ends with a combining mark, not a space
    *EMPTY_CASES,
]))
def test_text(raw: str | None, expected: str | None) -> None:
    assert value(raw, "text") == expected
    assert _run(clean_text_sql("v"), raw) == expected


def test_clean_text_casts_any_type_and_takes_its_own_empty_words() -> None:
    assert _run(clean_text_sql("v"), 42) == "42"
    assert _run(clean_text_sql("v", empty_words=("缺",)), " 缺 ") is None
    assert _run(clean_text_sql("v", empty_words=("缺",)), "-") == "-"
    assert _run(clean_text_sql("v", empty_words=()), "") is None     # empty is never a value
    assert _run(clean_text_sql("v", empty_words=()), " - ") == "-"
    assert _run(clean_text_sql("v", empty_words=("#N/A",)), "#N/A") is None
    assert _run(clean_text_sql("v", empty_words=("#N/A",)), "'#N/A ") is None
    assert value("-", "decimal") is None
    assert _run(value_sql("v", "decimal", empty_words=("缺",)), "缺") is None


@pytest.mark.parametrize(("raw", "formats", "expected"), cells([
    ("1234.5", (), 1234.5),
    ("-12", (), -12.0),
    ("+3", (), 3.0),
    (".5", (), 0.5),
    ("1,234.50", (), 1234.5),
    ("1,234,567.5", (), 1234567.5),
    ("1，200", (), 1200.0),                   # full-width comma
    ("¥1,234.50", (), 1234.5),
    ("￥88", (), 88.0),
    ("99.9元", (), 99.9),
    ("$5", (), 5.0),
    ("£7.25", (), 7.25),
    ("€ 1.000", (), 1.0),                    # a point is a decimal point, never a separator
    ("RMB 300", (), 300.0),
    ("cny300", (), 300.0),
    ("USD 1,200.00", (), 1200.0),
    ("GBP12", (), 12.0),
    ("12 EUR", (), 12.0),
    ("-¥12.50", (), -12.5),
    ("¥-12.50", (), -12.5),
    ("168.00（系统计算中，该值仅供参考）", (), 168.0),   # JD
    ("168.00 (estimated)", (), 168.0),
    ("(12.50)", (), -12.5),                  # accounting negative
    ("（12.50）", (), -12.5),
    ("($1,200.00)", (), -1200.0),
    ("(12.50)（退款）", (), -12.5),
    ("−4.5", (), -4.5),                      # U+2212 minus sign
    ("1.5E+07", (), 15000000.0),             # Excel's scientific notation
    (" 12.5 ", (), 12.5),
    ('="12.5"', (), 12.5),
    ("12.5%", ("percent",), 0.125),
    ("12.5 ％", ("percent",), 0.125),
    ("0.3", ("percent",), 0.3),              # already a fraction
    # no value
    ("12.5%", (), None),                     # a percentage only when declared
    ("abc", (), None),
    ("1.234,50", (), None),                  # a decimal comma: never read as 1.2345
    ("12,5", (), None),
    ("nan", (), None),
    ("inf", (), None),
    ("1.2.3", (), None),
    ("无退款申请", (), None),                  # Taobao writes this in 退款金额
    ("168.00（系统", (), None),
    ("(12.50", (), None),                    # an accounting bracket never closed
    *[(raw, (), None) for raw, _ in EMPTY_CASES],
]))
def test_decimal(raw: str | None, formats: tuple[str, ...], expected: float | None) -> None:
    got = value(raw, "decimal", formats)
    assert got == (pytest.approx(expected) if expected is not None else None)
    assert got is None or isinstance(got, float)


@pytest.mark.parametrize(("raw", "expected"), cells([
    ("3", 3),
    ("3.0", 3),
    ("1,200", 1200),
    ("-2", -2),
    ("+7", 7),
    (" 12 ", 12),
    ("2件", None),
    ("2.5", None),
    ("0.1", None),
    ("abc", None),
    ("1e30", None),                          # beyond BIGINT
    *EMPTY_CASES,
]))
def test_integer(raw: str | None, expected: int | None) -> None:
    got = value(raw, "integer")
    assert got == expected
    assert got is None or type(got) is int


T = dt.datetime


@pytest.mark.parametrize(("raw", "formats", "expected"), cells([
    ("2024-01-02 10:20:30", (), T(2024, 1, 2, 10, 20, 30)),
    ("2024-01-02 10:20", (), T(2024, 1, 2, 10, 20)),
    ("2024/01/02 10:20:30", (), T(2024, 1, 2, 10, 20, 30)),
    ("2016/5/23 22:02", (), T(2016, 5, 23, 22, 2)),       # Taobao after an Excel re-save
    ("2024-01-02T10:20:30", (), T(2024, 1, 2, 10, 20, 30)),
    ("2024年1月2日 10:20:30", (), T(2024, 1, 2, 10, 20, 30)),
    ("2024年01月02日 10:20", (), T(2024, 1, 2, 10, 20)),
    ("2024-01-02", (), T(2024, 1, 2)),
    ("2024/1/2", (), T(2024, 1, 2)),
    ("2024.01.02", (), T(2024, 1, 2)),
    ("2024年1月2日", (), T(2024, 1, 2)),
    ("20240102", (), T(2024, 1, 2)),
    ("20241231", (), T(2024, 12, 31)),
    ("2024-01-02 10:00:00.123", (), T(2024, 1, 2, 10, 0, 0, 123000)),
    # a UTC offset is dropped: the wall-clock time as written is kept
    ("2012-01-01 11:13:25 -0500", (), T(2012, 1, 1, 11, 13, 25)),    # Shopify
    ("2024-01-02 10:00:00+08:00", (), T(2024, 1, 2, 10, 0)),
    ("2024-01-02T10:00:00Z", (), T(2024, 1, 2, 10, 0)),
    ("2024-01-02T10:00:00.5Z", (), T(2024, 1, 2, 10, 0, 0, 500000)),
    ("2024-01-02T23:30:00+08", (), T(2024, 1, 2, 23, 30)),
    ("2024-01-02 10:00 UTC", (), T(2024, 1, 2, 10, 0)),
    # declared formats, tried first
    ("01/02/2024", ("%m/%d/%Y",), T(2024, 1, 2)),
    ("01/02/2024 14:05", ("%d/%m/%Y %H:%M",), T(2024, 2, 1, 14, 5)),
    ("02.01.2024", ("%m/%d/%Y", "%d.%m.%Y"), T(2024, 1, 2)),
    ("1/2/2024 3:04 PM", ("%m/%d/%Y %I:%M %p",), T(2024, 1, 2, 15, 4)),
    ("1/2/2024 3:04 -0500", ("%m/%d/%Y %H:%M",), T(2024, 1, 2, 3, 4)),
    ("2024-01-02", ("%m/%d/%Y",), T(2024, 1, 2)),         # the built-ins still apply
    # Excel serial day numbers: day 1 = 1899-12-31, 43831 = 2020-01-01
    ("43831", ("excel",), T(2020, 1, 1)),
    ("43831.75", ("excel",), T(2020, 1, 1, 18)),
    ("43831.5416666667", ("excel",), T(2020, 1, 1, 13)),  # 13:00, stored to 10 digits
    ("1", ("excel",), T(1899, 12, 31)),
    ("2958465", ("excel",), T(9999, 12, 31)),
    ("45000", ("%m/%d/%Y", "excel"), T(2023, 3, 15)),
    ("03/15/2023", ("%m/%d/%Y", "excel"), T(2023, 3, 15)),
    ("2023-03-15 08:00:00", ("excel",), T(2023, 3, 15, 8)),
    # no value
    ("43831", (), None),                     # a serial day only when declared
    ("0", ("excel",), None),
    ("2958466", ("excel",), None),
    ("-5", ("excel",), None),
    ("13/45/2020", ("%m/%d/%Y",), None),
    ("01/02/2024", (), None),                # undeclared: never guessed
    ("2024-13-01", (), None),
    ("2024-02-30", (), None),
    ("01-02-2024", (), None),                # no time: the year is no UTC offset
    ("abc", (), None),
    ("2024-01-02 25:00:00", (), None),
    *[(raw, (), None) for raw, _ in EMPTY_CASES],
]))
def test_timestamp(raw: str | None, formats: tuple[str, ...], expected: dt.datetime | None) -> None:
    assert value(raw, "timestamp", formats) == expected
    assert value(raw, "date", formats) == (expected.date() if expected else None)


@pytest.mark.parametrize(("raw", "expected"), cells([
    ("是", True), ("否", False),
    ("true", True), ("FALSE", False), ("True", True),
    ("1", True), ("0", False),
    ("y", True), ("N", False),
    ("yes", True), ("No", False),
    ("t", True), ("F", False),
    (" 是 ", True),
    ("2", None), ("abc", None), ("对", None),
    *EMPTY_CASES,
]))
def test_boolean(raw: str | None, expected: bool | None) -> None:
    assert value(raw, "boolean") is expected


@pytest.mark.parametrize(("raw", "value_type", "formats", "expected"), cells([
    ("abc", "decimal", (), True),
    ("12.5%", "decimal", (), True),
    ("12.5%", "decimal", ("percent",), False),
    ("¥1,234.50", "decimal", (), False),
    ("2.5", "integer", (), True),
    ("3", "integer", (), False),
    ("13/45/2020", "date", ("%m/%d/%Y",), True),
    ("12/31/2020", "date", ("%m/%d/%Y",), False),
    ("43831", "timestamp", (), True),
    ("43831", "timestamp", ("excel",), False),
    ("maybe", "boolean", (), True),
    ("是", "boolean", (), False),
    ("anything", "text", (), False),
    # an empty cell has no value to miss
    ("", "decimal", (), False),
    ("-", "integer", (), False),
    ("无", "timestamp", (), False),
    ("  ", "boolean", (), False),
    (None, "date", (), False),
]))
def test_unparsed(raw: str | None, value_type: str, formats: tuple[str, ...], expected: bool) -> None:
    assert unparsed(raw, value_type, formats) is expected


def test_value_types_have_the_documented_sql_types() -> None:
    types = {t: CON.execute(f"SELECT typeof({value_sql('v', t)}) FROM (SELECT '1' AS v)").fetchone()[0]
             for t in VALUE_TYPES}
    assert types == {"text": "VARCHAR", "integer": "BIGINT", "decimal": "DOUBLE", "timestamp": "TIMESTAMP",
                     "date": "DATE", "boolean": "BOOLEAN"}


def test_a_whole_column_is_read_row_by_row() -> None:
    rows = ["¥1,234.50", "12", None, "-", "abc", "(3)"]
    got = CON.execute(
        f"SELECT {value_sql('v', 'decimal')}, {unparsed_sql('v', 'decimal')} "
        "FROM (SELECT unnest(?) AS v, generate_subscripts(?, 1) AS i) ORDER BY i",
        [rows, rows],
    ).fetchall()
    assert got == [(1234.5, False), (12.0, False), (None, False), (None, False), (None, True), (-3.0, False)]


@pytest.mark.parametrize(("value_type", "formats", "expected"), [
    ("timestamp", ("%Y-%q-%d",), ['format "%Y-%q-%d" has an unknown directive %q']),
    ("date", ("%Y-%m-%d %z",), ['format "%Y-%m-%d %z": %z cannot be used']),
    ("date", ("%Y-%m-%",), ['format "%Y-%m-%" ends with a lone "%"']),
    ("date", ("%m/%d",), ['format "%m/%d" has no year']),
    ("date", ("%Y/%-b",), ['format "%Y/%-b": "-" (no padding) does not apply to %b']),
    ("text", ("excel",), ['format "excel" does not apply to a text column']),
    ("decimal", ("%Y",), ['format "%Y" does not apply to a decimal column: the only decimal format is "percent"']),
    ("integer", ("percent",), ['format "percent" does not apply to a integer column']),
    ("timestamp", ("percent",), ['"percent" is a format of decimal columns, not of a timestamp column']),
    ("boolean", ("是/否",), ['format "是/否" does not apply to a boolean column']),
    ("date", ("",), ["format '' is not a format"]),
    ("money", (), ["unknown value type 'money'; valid: text, integer, decimal, timestamp, date, boolean"]),
])
def test_format_problems(value_type: str, formats: tuple[str, ...], expected: list[str]) -> None:
    problems = format_problems(value_type, formats)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start)


def test_format_problems_say_what_is_valid() -> None:
    [unknown] = format_problems("timestamp", ["%Y-%q-%d"])
    assert "%Y year (2024)" in unknown and "%m month (01)" in unknown
    assert format_problems("timestamp", ["%m/%d/%Y %H:%M", "excel", "%Y年%-m月%-d日", "%d%%%Y"]) == []
    assert format_problems("decimal", ["percent"]) == []
    assert format_problems("text", []) == []


def test_a_declaration_with_problems_is_not_turned_into_sql() -> None:
    with pytest.raises(ValueError, match="unknown directive %q"):
        value_sql("v", "date", ["%Y-%q"])


def test_format_hint_names_the_spellings_read_and_how_to_declare_another() -> None:
    hint = format_hint("timestamp", ["%m/%d/%Y"])
    assert 'the declared formats "%m/%d/%Y", then 2024-01-31 23:59:59' in hint
    assert 'declare the column\'s format in data/datasets.yml, e.g. `format: ["%m/%d/%Y %H:%M"]`' in hint
    assert "`format: [excel]`" in hint
    assert "2024-01-31 23:59:59" in format_hint("date", [])
    assert '`format: ["percent"]`' in format_hint("decimal", [])
    assert "12.5% as 0.125" in format_hint("decimal", ["percent"])
    assert "2.5 is not whole" in format_hint("integer", [])
    assert "是/否" in format_hint("boolean", [])
