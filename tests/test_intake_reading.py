"""Reading shop exports: every fixture is written here, byte by byte, and every expected value
is what a person reads in the file (row numbers as Excel shows them, header = row 1)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlwt
from fupan.errors import FupanError
from fupan.intake.reading import (
    StagedFile,
    UnreadableExport,
    detect_encoding,
    detect_format,
    normalise_header,
    read_headers,
    stage_export,
)


def staged_rows(staged: StagedFile, *headers: str) -> list[tuple]:
    """(row as a person sees it, values of `headers`) for every staged row, in file order."""
    cols = ", ".join('"' + staged.columns[h].replace('"', '""') + '"' for h in headers)
    sql = (f"SELECT file_row_number + {staged.first_row} AS row, {cols} FROM "
           f"read_parquet('{staged.parquet}', file_row_number=true) ORDER BY file_row_number")
    return duckdb.connect().sql(sql).fetchall()


def all_varchar(staged: StagedFile) -> bool:
    types = duckdb.connect().sql(f"SELECT * FROM read_parquet('{staged.parquet}')").types
    return all(str(t) == "VARCHAR" for t in types)


def unreadable(call, *args, **kwargs) -> UnreadableExport:
    with pytest.raises(UnreadableExport) as info:
        call(*args, **kwargs)
    error = info.value
    assert isinstance(error, FupanError)
    assert error.__cause__ is None  # the library's exception does not travel with it
    assert "Traceback" not in error.text()
    return error


# -- headers -----------------------------------------------------------------------------------
def test_normalise_header_strips_and_makes_brackets_half_width() -> None:
    assert normalise_header("订单付款时间 ") == "订单付款时间"
    assert normalise_header("\ufeff订单编号\t\r\n") == "订单编号"
    assert normalise_header("\u3000商品总价（元）\u00a0") == "商品总价(元)"
    assert normalise_header("【赠品】名称") == "[赠品]名称"
    assert normalise_header("备注：买家") == "备注:买家"
    assert normalise_header("Lineitem   \u3000 price") == "Lineitem price"
    assert normalise_header(None) == ""
    assert normalise_header(2024.0) == "2024"


def test_detect_format_from_extension() -> None:
    assert [detect_format(Path(n)) for n in ("a.CSV", "a.txt", "a.tsv", "a.xlsx", "a.xls", "a.parquet")] == [
        "csv", "csv", "csv", "xlsx", "xls", "parquet"]
    error = unreadable(detect_format, Path("orders.json"))
    assert "format:" in error.hint


# -- CSV ---------------------------------------------------------------------------------------
def test_utf8_bom_crlf_quoted_comma_and_newline(tmp_path: Path) -> None:
    src = tmp_path / "orders.csv"
    src.write_bytes("\ufeff订单号,备注,金额\r\n"
                    'A1,"红色, 大号\r\n第二行",10.50\r\n'
                    "A2,,3\r\n".encode())
    staged = stage_export(src, tmp_path / "cache" / "orders.parquet")
    assert staged.encoding == "utf-8-sig"
    assert staged.format == "csv" and staged.first_row == 2
    assert staged.raw_headers == ("订单号", "备注", "金额")  # the BOM is not part of the first header
    assert all_varchar(staged)
    # The quoted field keeps its comma and its line break; the next record is still row 3.
    assert staged_rows(staged, "订单号", "备注", "金额") == [
        (2, "A1", "红色, 大号\r\n第二行", "10.50"),
        (3, "A2", None, "3"),
    ]
    assert list((tmp_path / "cache").iterdir()) == [staged.parquet]  # no temporary file left behind


def test_gbk_detected_without_declaration_and_declared(tmp_path: Path) -> None:
    src = tmp_path / "jd.csv"
    src.write_bytes("订单号,商品名称,订单状态\n1001,保温杯,已完成\n1002,茶叶,(删除)等待出库\n".encode("gbk"))
    assert detect_encoding(src) == "gb18030"
    detected = stage_export(src, tmp_path / "d.parquet")
    assert detected.encoding == "gb18030"
    assert "encoding detected as gb18030" in detected.notes
    expected = [(2, "1001", "保温杯", "已完成"), (3, "1002", "茶叶", "(删除)等待出库")]
    assert staged_rows(detected, "订单号", "商品名称", "订单状态") == expected
    declared = stage_export(src, tmp_path / "g.parquet", encoding="gbk")
    assert staged_rows(declared, "订单号", "商品名称", "订单状态") == expected
    assert not any("detected" in note for note in declared.notes)
    # Transcoding happens next to the target, never in the data folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet", "g.parquet", "jd.csv"]


def test_gb18030_only_character(tmp_path: Path) -> None:
    # U+20000 has no GBK code: GB18030 writes it as the four bytes 95 32 82 36.
    assert "𠀀".encode("gb18030") == b"\x95\x32\x82\x36"
    with pytest.raises(UnicodeEncodeError):
        "𠀀".encode("gbk")
    src = tmp_path / "names.csv"
    src.write_bytes("买家,城市\n𠀀先生,北京\n".encode("gb18030"))
    assert detect_encoding(src) == "gb18030"
    for encoding in (None, "gbk", "gb18030"):  # a declared GBK file is read with its superset
        staged = stage_export(src, tmp_path / f"{encoding}.parquet", encoding=encoding)
        assert staged_rows(staged, "买家", "城市") == [(2, "𠀀先生", "北京")]


def table_rows(con: duckdb.DuckDBPyConnection, staged: StagedFile, *headers: str) -> list[tuple]:
    """`staged_rows` for a file staged into a table of `con`."""
    cols = ", ".join('"' + staged.columns[h].replace('"', '""') + '"' for h in headers)
    return con.execute(f"SELECT file_row_number + {staged.first_row} AS row, {cols} FROM {staged.scan_sql()} "
                       "ORDER BY file_row_number").fetchall()


GBK_ROWS = "订单号,商品名称,备注\n" + "".join(f'{i},"保温杯, {i} 号","第一行\n第二行"\n' for i in range(1, 3001))
# No quote anywhere: DuckDB may read it in parallel. 𠀀 is four bytes in GB18030 (95 32 82 36).
PLAIN_ROWS = "订单号,商品名称,数量\n" + "".join(f"{i},𠀀保温杯{i}号,{i % 7}\n" for i in range(1, 3001))


@pytest.fixture
def halves(monkeypatch) -> list:
    """Files of more than 1,000 bytes are decoded in two halves; each `Utf8Text` made is listed."""
    import fupan.intake.reading as reading
    import fupan.intake.transcoding as transcoding

    made: list = []

    def recorded(*args):
        made.append(transcoding.utf8_copy(*args))
        return made[-1]

    monkeypatch.setattr(transcoding, "SPLIT_BYTES", 1000)
    monkeypatch.setattr(reading, "utf8_copy", recorded)
    return made


def expected_rows(text: str) -> list[tuple]:
    """Each record of a CSV text with its row as a person sees it (header = row 1), by Python's
    csv module: rows counted by records, a quoted line break inside one."""
    import csv
    import io

    rows, line = [], 2
    for record in list(csv.reader(io.StringIO(text)))[1:]:
        rows.append((line, *record))
        line += 1
    return rows


@pytest.mark.parametrize("text", [PLAIN_ROWS, GBK_ROWS], ids=["plain", "quoted-line-breaks"])
def test_gbk_decoded_in_two_halves_gives_every_row_in_order(tmp_path: Path, halves: list, text: str) -> None:
    src = tmp_path / "jd.csv"
    src.write_bytes(text.encode("gb18030"))
    expected = expected_rows(text)
    assert len(expected) == 3000
    con = duckdb.connect()
    for encoding in (None, "gbk"):
        staged = stage_export(src, tmp_path / "work" / "jd-0.parquet", encoding=encoding, con=con)
        assert staged.table is not None and staged.encoding == "gb18030"
        assert table_rows(con, staged, *list(staged.columns)) == expected
        # Quoted values may hold a line break across the cut: those halves are read as one file.
        assert len(halves[-1].parts) == (1 if text is GBK_ROWS else 2)
        assert halves[-1].hazards.quoted == (text is GBK_ROWS)
    own = stage_export(src, tmp_path / "own.parquet")  # its own connection: one Parquet file
    assert staged_rows(own, *list(own.columns)) == expected
    assert list((tmp_path / "work").iterdir()) == []  # the halves are gone


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_file_read_in_parallel_keeps_every_row_in_its_place(tmp_path: Path, halves: list, encoding: str) -> None:
    """More than DuckDB reads in one buffer (32 MB), so its threads read parts of the file at
    once: the rows are still numbered as they stand in the file."""
    src = tmp_path / "big.csv"
    with src.open("w", encoding=encoding, newline="") as out:
        out.write("编号,名称,备注\n")
        for start in range(0, 1_200_000, 100_000):
            rows = range(start, start + 100_000)
            out.write("".join(f"{i},商品{i % 997},{'短' * 10 if i % 5 else ''}\n" for i in rows))
    assert src.stat().st_size > 32 << 20
    con = duckdb.connect()
    staged = stage_export(src, tmp_path / "work" / "big-0.parquet", con=con)
    assert staged.table is not None
    if encoding == "gb18030":  # decoded in two halves, read in parallel
        assert len(halves[-1].parts) == 2 and not halves[-1].hazards.quoted
    misplaced, rows, empty = con.execute(
        f"SELECT COUNT(*) FILTER (WHERE CAST(\"编号\" AS BIGINT) <> file_row_number "
        f"OR \"名称\" <> '商品' || (CAST(\"编号\" AS BIGINT) % 997)), COUNT(*), "
        f"COUNT(*) FILTER (WHERE \"备注\" IS NULL) FROM {staged.scan_sql()}").fetchone()
    assert (misplaced, rows, empty) == (0, 1_200_000, 240_000)


def test_gbk_in_two_halves_with_bad_bytes_in_the_second_names_them(tmp_path: Path, halves: list) -> None:
    src = tmp_path / "jd.csv"
    good = PLAIN_ROWS.encode("gb18030")
    src.write_bytes(good + b"3001,\xff\xff,x\n" + "3002,杯,1\n".encode("gb18030"))
    con = duckdb.connect()
    for encoding in ("gbk", None):
        error = unreadable(stage_export, src, tmp_path / "work" / "jd-0.parquet", encoding=encoding, con=con)
        assert f"byte offset {len(good) + 5}" in error.message and "0xFF 0xFF" in error.message
        assert error.location.line == PLAIN_ROWS.count("\n") + 1
        assert ("neither UTF-8" in error.message) == (encoding is None)
    assert con.execute("SELECT COUNT(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0
    assert list((tmp_path / "work").iterdir()) == []


def test_gbk_in_two_halves_keeps_an_empty_line_at_the_cut_as_a_row(tmp_path: Path, halves: list) -> None:
    import fupan.intake.transcoding as transcoding

    src = tmp_path / "jd.csv"
    data = PLAIN_ROWS.encode("gb18030")
    src.write_bytes(data)
    cut = transcoding._split_point(src, "gb18030")
    assert cut is not None and data[cut - 1:cut] == b"\n"
    src.write_bytes(data[:cut] + b"\n" + data[cut:])  # an empty line right where the file is cut
    lines = data[:cut].count(b"\n")  # the empty line is line lines + 1
    con = duckdb.connect()
    staged = stage_export(src, tmp_path / "work" / "jd-0.parquet", con=con)
    rows = staged_rows(staged, "订单号") if staged.table is None else table_rows(con, staged, "订单号")
    assert rows[lines - 2:lines + 1] == [(lines, str(lines - 1)), (lines + 1, None), (lines + 2, str(lines))]
    assert len(rows) == 3001 and rows[-1] == (3002, "3000")


def test_gbk_whose_second_half_cannot_be_decoded_by_a_child_is_decoded_whole(tmp_path: Path, halves: list,
                                                                               monkeypatch) -> None:
    import fupan.intake.transcoding as transcoding

    monkeypatch.setattr(transcoding.sys, "executable", "/bin/false")  # the child process fails at once
    src = tmp_path / "jd.csv"
    src.write_bytes(PLAIN_ROWS.encode("gb18030"))
    con = duckdb.connect()
    staged = stage_export(src, tmp_path / "work" / "jd-0.parquet", con=con)
    assert len(halves[-1].parts) == 1
    assert table_rows(con, staged, *list(staged.columns)) == expected_rows(PLAIN_ROWS)


def test_row_hazards_of_two_halves_are_those_of_the_whole() -> None:
    from fupan.intake.transcoding import RowHazards

    texts = [b"a,b\n1,2\n\n3,4\n", b"a,b\n1,\"x\"\n", b"a,b\r\n1,2\r\n\r\n", b"a\n1\n", b"a\n\"1\n"]
    for text in texts:
        whole = RowHazards()
        whole.feed(text)
        for cut in range(1, len(text)):
            first = RowHazards()
            first.feed(text[:cut])
            second = RowHazards(text[:cut][-2:])
            second.feed(text[cut:])
            both = first.then(second)
            assert (both.fine, both.quoted, both.blank_at_end) == (whole.fine, whole.quoted, whole.blank_at_end), \
                (text, cut)


def test_only_the_columns_the_review_reads_are_staged_and_every_row_keeps_its_number(tmp_path: Path) -> None:
    """A platform's export has three or four times the columns a preset maps: the staged table
    holds the kept ones, every header is still listed (the unmapped ones are warned about), and
    a row whose kept fields are all empty is still a row, in its place."""
    src = tmp_path / "taobao.csv"
    src.write_bytes(("订单编号 ,买家留言,订单状态,（备注）\n"
                     "1,送货前联系,交易成功,\n"
                     ",只有留言,,\n"
                     "3,,交易关闭,加急\n").encode("gbk"))
    con = duckdb.connect()
    staged = stage_export(src, tmp_path / "work" / "tb-0.parquet", con=con, keep={"订单编号", "订单状态", "不存在"})
    assert list(staged.columns) == ["订单编号", "买家留言", "订单状态", "(备注)"]
    stored = [name for (name,) in con.execute(
        f"SELECT column_name FROM (DESCRIBE SELECT * FROM {staged.scan_sql()})").fetchall()]
    assert stored == ["file_row_number", "订单编号", "订单状态"]
    assert table_rows(con, staged, "订单编号", "订单状态") == [(2, "1", "交易成功"), (3, None, None),
                                                              (4, "3", "交易关闭")]
    nothing = stage_export(src, tmp_path / "work" / "tb-1.parquet", con=con, keep=set())
    assert table_rows(con, nothing, "订单编号") == [(2, "1"), (3, None), (4, "3")]  # one column, every row


def test_gbk_into_a_connection_that_duckdb_cannot_read_takes_the_exact_path(tmp_path: Path) -> None:
    con = duckdb.connect()
    wide = tmp_path / "wide.csv"  # a row longer than the header
    wide.write_bytes("订单号,金额\n1,2\n2,3,多\n".encode("gbk"))
    staged = stage_export(wide, tmp_path / "work" / "wide-0.parquet", con=con)
    assert list(staged.columns) == ["订单号", "金额", "column 3"]
    assert staged_rows(staged, "订单号", "金额", "column 3") == [(2, "1", "2", None), (3, "2", "3", "多")]
    blank = tmp_path / "blank.csv"  # an empty line keeps its row number
    blank.write_bytes("订单号,金额\n1,2\n\n2,3\n".encode("gbk"))
    staged = stage_export(blank, tmp_path / "work" / "blank-0.parquet", con=con)
    rows = staged_rows(staged, "订单号", "金额") if staged.table is None else table_rows(con, staged, "订单号", "金额")
    assert rows == [(2, "1", "2"), (3, None, None), (4, "2", "3")]


def test_utf8_without_bom_is_utf8(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("order_id,amount\nA,1\n", encoding="utf-8")
    assert detect_encoding(src) == "utf-8"
    assert stage_export(src, tmp_path / "a.parquet").encoding == "utf-8"


def test_headers_normalised_and_duplicates_renamed(tmp_path: Path) -> None:
    src = tmp_path / "pdd.csv"
    src.write_text("订单号 ,商品总价（元）,订单号,\t备注\t,,订单号\n"
                   "P1,99.00,P1-dup,好评,x,P1-third\n", encoding="utf-8")
    staged = stage_export(src, tmp_path / "pdd.parquet")
    assert list(staged.columns) == ["订单号", "商品总价(元)", "订单号#2", "备注", "column 5", "订单号#3"]
    assert staged.raw_headers == ("订单号 ", "商品总价（元）", "订单号", "\t备注\t", "", "订单号")
    assert "duplicate header '订单号' renamed '订单号#2'" in staged.notes
    assert "column 5 has no header: named 'column 5'" in staged.notes
    assert staged_rows(staged, "订单号", "商品总价(元)", "订单号#2", "备注", "column 5", "订单号#3") == [
        (2, "P1", "99.00", "P1-dup", "好评", "x", "P1-third")]


def test_headers_differing_only_in_case_get_distinct_columns(tmp_path: Path) -> None:
    # DuckDB column names ignore case: "SKU" and "sku" must not land in one column.
    src = tmp_path / "a.csv"
    src.write_text("SKU,sku\nA,a\n", encoding="utf-8")
    staged = stage_export(src, tmp_path / "a.parquet")
    assert list(staged.columns) == ["SKU", "sku"]
    assert staged_rows(staged, "SKU", "sku") == [(2, "A", "a")]


def test_tab_separated_with_trailing_tabs_in_cells(tmp_path: Path) -> None:
    tsv = tmp_path / "export.txt"
    tsv.write_text("主订单编号\t商品数量\t商家编码\n6912\t2\tSKU-1\n", encoding="utf-8")
    staged = stage_export(tsv, tmp_path / "t.parquet")
    assert list(staged.columns) == ["主订单编号", "商品数量", "商家编码"]
    assert staged_rows(staged, "主订单编号", "商品数量", "商家编码") == [(2, "6912", "2", "SKU-1")]
    # Douyin: comma-separated, ids ending with a tab; the tab stays in the cell (cleaned later).
    csv_ = tmp_path / "fxg_export_1.csv"
    csv_.write_bytes("\ufeff主订单编号\t,子订单编号\t,商品数量\n6912\t,6912-1\t,2\n".encode())
    staged = stage_export(csv_, tmp_path / "c.parquet")
    assert list(staged.columns) == ["主订单编号", "子订单编号", "商品数量"]
    assert staged_rows(staged, "主订单编号", "子订单编号", "商品数量") == [(2, "6912\t", "6912-1\t", "2")]


def test_first_row_and_file_order_with_empty_and_ragged_lines(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    # row 1 header, 2 data, 3 empty, 4 data, 5 only separators, 6 ragged last line without newline
    src.write_bytes(b"id,name,qty\r\nA,x,1\r\n\r\nB,y,2\r\n,,\r\nC")
    staged = stage_export(src, tmp_path / "a.parquet")
    assert staged.first_row == 2
    assert staged_rows(staged, "id", "name", "qty") == [
        (2, "A", "x", "1"), (3, None, None, None), (4, "B", "y", "2"), (5, None, None, None), (6, "C", None, None)]
    # The same without the empty line goes through DuckDB's reader: numbering is the same rule.
    src.write_bytes(b"id,name,qty\r\nA,x,1\r\nB,y,2\r\n,,\r\nC")
    staged = stage_export(src, tmp_path / "b.parquet")
    assert staged_rows(staged, "id", "name", "qty") == [
        (2, "A", "x", "1"), (3, "B", "y", "2"), (4, None, None, None), (5, "C", None, None)]


def test_fields_beyond_the_header_get_columns_of_their_own(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("id,amount\nA,1\nB,2,3\n", encoding="utf-8")
    staged = stage_export(src, tmp_path / "a.parquet")
    assert list(staged.columns) == ["id", "amount", "column 3"]
    assert staged.raw_headers == ("id", "amount", "")
    assert staged_rows(staged, "id", "amount", "column 3") == [(2, "A", "1", None), (3, "B", "2", "3")]


def test_unclosed_quote_is_an_error_not_lost_rows(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    # The quote opened on line 3 is never closed: lines 3 and 4 would silently become one value.
    src.write_text('id,note\n1,ok\n2,"broken\n3,x\n', encoding="utf-8")
    error = unreadable(stage_export, src, tmp_path / "a.parquet")
    assert error.location.line == 3 and "never closed" in error.message
    assert not (tmp_path / "a.parquet").exists()


def test_mixed_line_ends_around_a_quoted_line_break(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_bytes(b'id,note\n1,"x,\r\ny"\r\n2,z')
    staged = stage_export(src, tmp_path / "a.parquet")
    assert staged_rows(staged, "id", "note") == [(2, "1", "x,\r\ny"), (3, "2", "z")]


def test_invalid_bytes_in_both_encodings_name_the_offset(tmp_path: Path) -> None:
    src = tmp_path / "broken.csv"
    # b"id,name\n" (8 bytes) + b"1,ok\n" (5) + b"2," (2): the 0xFF bytes start at offset 15, line 3.
    src.write_bytes(b"id,name\n1,ok\n2,\xff\xffz\n")
    for call in (lambda: detect_encoding(src), lambda: stage_export(src, tmp_path / "b.parquet")):
        error = unreadable(call)
        assert "byte offset 15" in error.message
        assert "0xFF" in error.message
        assert error.location.line == 3
        assert "encoding:" in error.hint
    assert not (tmp_path / "b.parquet").exists()


def test_offset_is_exact_when_characters_straddle_read_chunks(tmp_path: Path, monkeypatch) -> None:
    import fupan.intake.transcoding as transcoding

    monkeypatch.setattr(transcoding, "CHUNK", 5)  # every two-byte GBK character may be cut between reads
    src = tmp_path / "cut.csv"
    # "订单号,金额\n" in GBK is 6 + 1 + 4 + 1 = 12 bytes, then "1," (2): the lone 0x80 is at offset 14.
    src.write_bytes("订单号,金额\n".encode("gbk") + b"1,\x80\n")
    error = unreadable(detect_encoding, src)
    assert "GB18030/GBK (invalid at byte offset 14 (line 2, bytes 0x80 0x0A))" in error.message
    good = tmp_path / "good.csv"
    good.write_bytes("订单号,金额\n1,𠀀\n".encode("gb18030"))
    assert detect_encoding(good) == "gb18030"


def test_declared_utf8_that_is_gbk_names_offset_and_suggests_gbk(tmp_path: Path) -> None:
    src = tmp_path / "taobao.csv"
    src.write_bytes("订单编号,买家会员名\n1,张三\n".encode("gbk"))
    error = unreadable(stage_export, src, tmp_path / "t.parquet", encoding="utf-8")
    assert "byte offset 0" in error.message  # the first header's first byte (GBK 0xB6)
    assert error.location.line == 1
    assert "encoding: gbk" in error.hint


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty" in unreadable(stage_export, empty, tmp_path / "e.parquet").message
    blank_first = tmp_path / "blank.csv"
    blank_first.write_text("\nid,qty\n1,2\n", encoding="utf-8")
    assert "first row is empty" in unreadable(stage_export, blank_first, tmp_path / "e.parquet").message
    error = unreadable(stage_export, tmp_path / "nope.csv", tmp_path / "n.parquet")
    assert "not found" in error.message and "path:" in error.hint


# -- Excel -------------------------------------------------------------------------------------
def _two_sheet_workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "汇总"
    summary.append(["说明"])
    summary.append(["not the orders"])
    orders = workbook.create_sheet("订单")
    orders.append(["订单编号", "订单创建时间 ", "商品价格（元）", "付款日期", "数量"])
    orders.append(["T1", dt.datetime(2024, 1, 2, 10, 0, 0), 3.0, dt.datetime(2024, 1, 5), 2])
    orders.append([])
    orders.append(["T2", dt.datetime(2024, 3, 4, 23, 59, 59), 1234.5, dt.date(2024, 3, 6), 1])
    workbook.save(path)


def test_xlsx_sheet_by_name_with_dates_and_numbers(tmp_path: Path) -> None:
    src = tmp_path / "ExportOrderDetailList.xlsx"
    _two_sheet_workbook(src)
    staged = stage_export(src, tmp_path / "x.parquet", sheet="订单")
    assert staged.format == "xlsx" and staged.first_row == 2 and staged.encoding is None
    assert list(staged.columns) == ["订单编号", "订单创建时间", "商品价格(元)", "付款日期", "数量"]
    assert all_varchar(staged)
    assert staged_rows(staged, *staged.columns) == [
        (2, "T1", "2024-01-02 10:00:00", "3", "2024-01-05", "2"),
        (3, None, None, None, None, None),  # the empty row is kept: numbering stays true
        (4, "T2", "2024-03-04 23:59:59", "1234.5", "2024-03-06", "1"),
    ]
    first = stage_export(src, tmp_path / "first.parquet")  # no sheet: the first one
    assert staged_rows(first, "说明") == [(2, "not the orders")]


def test_xlsx_wrong_sheet_lists_the_sheets(tmp_path: Path) -> None:
    src = tmp_path / "orders.xlsx"
    _two_sheet_workbook(src)
    error = unreadable(stage_export, src, tmp_path / "x.parquet", sheet="Orders")
    assert "'Orders' not found" in error.message and "汇总, 订单" in error.message
    assert "sheet: 汇总" in error.hint
    assert not (tmp_path / "x.parquet").exists()


def _xls_workbook(path: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    book.add_sheet("Sheet1").write(0, 0, "empty")
    sheet = book.add_sheet("订单")
    for col, header in enumerate(["订单号", "下单时间", "订购数量", "京东价", "完成日期"]):
        sheet.write(0, col, header)
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    sheet.write(1, 0, "J1")
    sheet.write(1, 1, dt.datetime(2024, 1, 2, 10, 0), stamp)
    sheet.write(1, 2, 3)
    sheet.write(1, 3, 1234.5)
    sheet.write(1, 4, dt.datetime(2024, 1, 9), day)
    # row 3 left empty
    sheet.write(3, 0, "J2")
    sheet.write(3, 2, 1)
    sheet.write(3, 3, 0.1 + 0.2)  # 0.30000000000000004 in binary; Excel shows 0.3
    book.save(str(path))


def test_xls_sheet_with_date_and_numbers(tmp_path: Path) -> None:
    src = tmp_path / "jd.xls"
    _xls_workbook(src)
    staged = stage_export(src, tmp_path / "x.parquet", sheet="订单")
    assert staged.format == "xls" and staged.first_row == 2
    assert all_varchar(staged)
    assert staged_rows(staged, "订单号", "下单时间", "订购数量", "京东价", "完成日期") == [
        (2, "J1", "2024-01-02 10:00:00", "3", "1234.5", "2024-01-09"),
        (3, None, None, None, None, None),
        (4, "J2", None, "1", "0.3", None),
    ]


def test_xls_wrong_sheet_lists_the_sheets(tmp_path: Path) -> None:
    src = tmp_path / "jd.xls"
    _xls_workbook(src)
    error = unreadable(stage_export, src, tmp_path / "x.parquet", sheet="orders")
    assert "Sheet1, 订单" in error.message and "sheet: Sheet1" in error.hint


def test_text_file_named_xls(tmp_path: Path) -> None:
    src = tmp_path / "orders.xls"
    src.write_bytes("订单号\t金额\n1\t2\n".encode("gbk"))
    error = unreadable(stage_export, src, tmp_path / "x.parquet")
    assert "text file" in error.message and "format: csv" in error.hint
    # Declared as what it is, it reads.
    staged = stage_export(src, tmp_path / "x.parquet", format="csv")
    assert staged_rows(staged, "订单号", "金额") == [(2, "1", "2")]


def test_html_table_saved_as_xls(tmp_path: Path) -> None:
    src = tmp_path / "ExportOrderList.xls"
    src.write_text("\r\n<html><head><meta charset='gbk'></head><body><table><tr><td>订单编号</td></tr>"
                   "<tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    error = unreadable(stage_export, src, tmp_path / "x.parquet")
    assert "HTML" in error.message
    assert ".xlsx" in error.hint and "CSV" in error.hint
    assert "HTML" in unreadable(read_headers, src).message
    utf16 = tmp_path / "Export.xls"  # some backends write the page in UTF-16
    utf16.write_bytes("<html><body><table><tr><td>订单编号</td></tr></table></body></html>".encode("utf-16"))
    assert "HTML" in unreadable(stage_export, utf16, tmp_path / "y.parquet").message


def test_excel_unicode_text_named_xls_reads_as_csv(tmp_path: Path) -> None:
    # Excel's "Unicode text": UTF-16 with a BOM, tab-separated, often given an .xls name.
    src = tmp_path / "report.xls"
    src.write_bytes("订单号\t金额（元）\r\nA1\t12.5\r\n".encode("utf-16"))
    assert "format: csv" in unreadable(stage_export, src, tmp_path / "x.parquet").hint
    staged = stage_export(src, tmp_path / "x.parquet", format="csv")
    assert staged.encoding == "utf-16"
    assert staged_rows(staged, "订单号", "金额(元)") == [(2, "A1", "12.5")]
    assert read_headers(src, format="csv") == ("订单号", "金额(元)")


def test_workbooks_with_the_wrong_extension(tmp_path: Path) -> None:
    xls_as_xlsx = tmp_path / "real-xls.xlsx"
    _xls_workbook(xls_as_xlsx)
    assert "format: xls" in unreadable(stage_export, xls_as_xlsx, tmp_path / "a.parquet").hint
    xlsx_as_xls = tmp_path / "real-xlsx.xls"
    _two_sheet_workbook(xlsx_as_xls)
    assert "format: xlsx" in unreadable(stage_export, xlsx_as_xls, tmp_path / "b.parquet").hint
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert "damaged" in unreadable(stage_export, damaged, tmp_path / "c.parquet").message


def test_xlsx_with_a_truncated_sheet_is_damaged_not_a_traceback(tmp_path: Path) -> None:
    src = tmp_path / "cut.xlsx"
    _two_sheet_workbook(src)
    with zipfile.ZipFile(src) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet2.xml"] = parts["xl/worksheets/sheet2.xml"][:-200]  # the rows' XML cut off
    with zipfile.ZipFile(src, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    error = unreadable(stage_export, src, tmp_path / "cut.parquet", sheet="订单")
    assert "damaged .xlsx" in error.message
    assert not (tmp_path / "cut.parquet").exists()


# -- Parquet -----------------------------------------------------------------------------------
def test_parquet_is_read_in_place(tmp_path: Path) -> None:
    src = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"order_id ": ["a", "b"], "amount（元）": [1.5, 2.0]}), src)
    target = tmp_path / "cache" / "never.parquet"
    staged = stage_export(src, target)
    assert staged.parquet == src and staged.first_row == 1 and staged.format == "parquet"
    assert staged.columns == {"order_id": "order_id ", "amount(元)": "amount（元）"}
    assert staged.raw_headers == ("order_id ", "amount（元）")
    assert not target.exists()
    rows = duckdb.connect().sql(f"SELECT file_row_number + {staged.first_row}, \"order_id \" "
                                f"FROM read_parquet('{src}', file_row_number=true) ORDER BY 1").fetchall()
    assert rows == [(1, "a"), (2, "b")]
    not_parquet = tmp_path / "fake.parquet"
    not_parquet.write_text("id\n1\n", encoding="utf-8")
    assert "Parquet" in unreadable(stage_export, not_parquet, target).message


# -- read_headers --------------------------------------------------------------------------------
def test_read_headers_of_each_kind(tmp_path: Path) -> None:
    gbk = tmp_path / "jd.csv"
    gbk.write_bytes("订单号 ,商品名称,订单号\n1,杯,2\n".encode("gbk"))
    assert read_headers(gbk) == ("订单号", "商品名称", "订单号#2")
    assert read_headers(gbk, encoding="gbk") == ("订单号", "商品名称", "订单号#2")
    bom = tmp_path / "fxg.csv"
    bom.write_bytes("\ufeff主订单编号\t,商品（件）\n".encode())
    assert read_headers(bom) == ("主订单编号", "商品(件)")
    tsv = tmp_path / "a.tsv"
    tsv.write_text("a\tb , c\n", encoding="utf-8")
    assert read_headers(tsv) == ("a", "b , c")
    xlsx = tmp_path / "t.xlsx"
    _two_sheet_workbook(xlsx)
    assert read_headers(xlsx) == ("说明",)
    assert read_headers(xlsx, sheet="订单") == ("订单编号", "订单创建时间", "商品价格(元)", "付款日期", "数量")
    xls = tmp_path / "jd.xls"
    _xls_workbook(xls)
    assert read_headers(xls, sheet="订单") == ("订单号", "下单时间", "订购数量", "京东价", "完成日期")
    parquet = tmp_path / "p.parquet"
    pq.write_table(pa.table({"Name ": ["x"], "Paid at": ["y"]}), parquet)
    assert read_headers(parquet) == ("Name", "Paid at")
    # The same names as a full read gives.
    for path, kwargs in ((gbk, {}), (bom, {}), (xlsx, {"sheet": "订单"}), (xls, {"sheet": "订单"})):
        assert read_headers(path, **kwargs) == tuple(stage_export(path, tmp_path / "h.parquet", **kwargs).columns)
    assert "'x' not found" in unreadable(read_headers, xls, sheet="x").message


def test_numbers_read_as_excel_shows_them(tmp_path: Path) -> None:
    header = ["商品ID", "折扣", "金额", "负数", "整数", "是否手机订单"]
    expected = [(2, "1234567890123456", "0.000015", "1234.5", "-2.5", "3", "TRUE")]
    # A 16-digit id stored as a float keeps every digit; tiny values are not in exponent form;
    # binary noise past 15 significant digits is not shown; a whole float has no ".0".
    xlsx = tmp_path / "n.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    workbook.active.append([1234567890123456, 0.000015, 1234.4999999999998, -2.50, 3, True])
    workbook.save(xlsx)
    # openpyxl writes whole numbers as integers; other writers store them as floats: say so in the XML.
    with zipfile.ZipFile(xlsx) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<v>1234567890123456</v>", b"<v>1.234567890123456E15</v>")
    parts[sheet] = parts[sheet].replace(b"<v>3</v>", b"<v>3.0</v>")
    assert parts[sheet].count(b"E15</v>") == 1 and parts[sheet].count(b"<v>3.0</v>") == 1
    with zipfile.ZipFile(xlsx, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    staged = stage_export(xlsx, tmp_path / "n.parquet")
    assert staged_rows(staged, *staged.columns) == expected
    xls = tmp_path / "n.xls"  # every .xls number is a float
    book = xlwt.Workbook(encoding="utf-8")
    sheet_ = book.add_sheet("s")
    for col, value in enumerate(header):
        sheet_.write(0, col, value)
    for col, value in enumerate([1234567890123456.0, 0.000015, 1234.4999999999998, -2.50, 3.0, True]):
        sheet_.write(1, col, value)
    book.save(str(xls))
    staged = stage_export(xls, tmp_path / "s.parquet")
    assert staged_rows(staged, *staged.columns) == expected
