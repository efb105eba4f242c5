"""One shop export of any kind read into an all-text Parquet file, rows in the file's order.

Seller backends export CSV in UTF-8 (with or without a BOM) or GBK/GB18030, `.xlsx` workbooks,
legacy `.xls` workbooks (often not workbooks at all but HTML pages named `.xls`), and data
warehouses hand over Parquet. `stage_export` turns any of them into a Parquet file whose every
column is text, so that the values are typed later by declared formats (`intake/values.py`)
instead of by a library's guess. Row `file_row_number` of the staged file is the file's row
`first_row + file_row_number` as a person sees it: empty rows are kept (all NULL) so the
numbering stays true to the file.

Headers are normalised (`normalise_header`) so that `订单付款时间 `, `商品总价（元）` and a header
carrying a BOM match their declared names; `StagedFile.columns` maps each normalised header to
its column in the staged file. A file that cannot be read raises `UnreadableExport`, which says
what the file really is (an HTML page, an `.xlsx` renamed `.xls`, text in another encoding) and
what to declare or do; library errors never reach the person as a traceback.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fupan.errors import FupanError, Location, render, shown_path
from fupan.intake.transcoding import BadBytes, Utf8Text, first_bad_bytes, hazards_of, utf8_copy
from fupan.speed.cache import write_atomically
from fupan.speed.lazy import lazy_import

duckdb = lazy_import("duckdb")

FORMATS = ("csv", "xlsx", "xls", "parquet")
_EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls",
    ".parquet": "parquet",
}
# Declared encoding -> the codec that reads it. GBK and GB2312 are read as GB18030, their
# superset: "GBK" exports from Chinese backends do contain characters only GB18030 has.
_CODECS = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb2312": "gb18030",
    "cp936": "gb18030", "gb18030": "gb18030", "utf-16": "utf-16",
}
_CHUNK = 1 << 20
_BATCH = 50_000  # rows per Parquet row group written from Python
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and password-protected .xlsx)
_ZIP_MAGIC = b"PK\x03\x04"  # .xlsx
_DELIMITERS = (",", "\t", ";", "|")  # in order of preference when the header fits several

_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "：": ":"})
_INVISIBLE = str.maketrans("", "", "\ufeff\u200b\u200c\u200d\u2060")
_SPACES = re.compile(r"\s+")  # str patterns: includes no-break (U+00A0) and ideographic (U+3000) spaces


class UnreadableExport(FupanError):
    """An export file that cannot be read: missing, empty, not what its name says, a sheet it
    does not have, or bytes in no encoding fupan reads. The message says what the file is and
    the hint what to declare or do."""

    def __init__(self, path: Path | str, reason: str, *, hint: str | None = None, line: int | None = None):
        self.path = Path(path)
        self.reason = reason
        shown = shown_path(path)
        super().__init__(f"{shown}: {reason}", location=Location(shown, line=line), hint=hint)

    def text(self) -> str:
        location = self.location
        if location is not None and f"line {location.line}" in self.reason:  # said once is enough
            location = Location(location.file)
        return render(self.reason, location, self.hint)


@dataclass(frozen=True)
class StagedFile:
    """One export read: where its all-text rows are and how its columns are named there."""

    source: Path
    parquet: Path  # all-text Parquet (every column VARCHAR), rows in file order; the source for Parquet
    columns: dict[str, str]  # normalised header -> the column's name in `parquet`
    raw_headers: tuple[str, ...]  # headers as written in the file, one per column of `columns`
    first_row: int  # the row a person sees for the parquet's first data row (file_row_number 0)
    format: str
    encoding: str | None  # the codec the CSV was read with, or None
    notes: tuple[str, ...] = ()
    # A temporary table of the staging connection holding the rows instead of `parquet` (a CSV
    # staged with the derivation's own connection): Parquet would be written only to be read once.
    table: str | None = None

    def scan_sql(self) -> str:
        """The rows as SQL, with `file_row_number` (0 for the first data row)."""
        if self.table is not None:  # rowid: the file's order, as read (`_copy_csv_with_duckdb`)
            return f"(SELECT rowid AS file_row_number, * FROM {_sql_ident(self.table)})"
        return f"read_parquet({_sql_text(str(self.parquet))}, file_row_number = true)"


# -- headers ---------------------------------------------------------------------------------
def normalise_header(text: object) -> str:
    """A header as it is matched: surrounding spaces, tabs, line breaks, BOM, no-break and
    ideographic spaces removed; full-width brackets and colon made half-width; inner runs of
    spaces made one space. `None` is the empty header."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else (_cell_text(text) or "")
    value = value.translate(_INVISIBLE).translate(_FULLWIDTH)
    return _SPACES.sub(" ", value).strip()


def _name_columns(raw: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Normalised header -> column name, and the notes on headers that had to be named."""
    columns: dict[str, str] = {}
    taken: set[str] = set()  # lower-cased: DuckDB column names ignore case
    notes: list[str] = []
    for index, header in enumerate(raw, 1):
        base = normalise_header(header)
        if not base:
            base = f"column {index}"
            notes.append(f"column {index} has no header: named {base!r}")
        key, n = base, 1
        while key in columns:
            n += 1
            key = f"{base}#{n}"
        if key != base:
            notes.append(f"duplicate header {base!r} renamed {key!r}")
        name, m = key, 1
        while name.lower() in taken:
            m += 1
            name = f"{key}#{m}"
        taken.add(name.lower())
        columns[key] = name
    return columns, notes


# -- cells as text -----------------------------------------------------------------------------
def _number_text(value: float) -> str:
    """A float as a person sees it in Excel: whole numbers without `.0`, at most 15 significant
    digits (so binary noise such as 1234.4999999999998 reads 1234.5), never in exponent form."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = format(value, ".15g")
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


def _datetime_text(value: dt.datetime) -> str:
    """ISO text rounded to the second (Excel day fractions carry sub-second noise); a date alone
    when the time is midnight."""
    if value.microsecond >= 500_000:
        value += dt.timedelta(seconds=1)
    value = value.replace(microsecond=0, tzinfo=None)
    if value.time() == dt.time(0):
        return value.date().isoformat()
    return value.isoformat(sep=" ")


def _cell_text(value: object) -> str | None:
    """An openpyxl cell value as text; None and the empty string are NULL."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    return str(value)


# -- formats and encodings ---------------------------------------------------------------------
def detect_format(path: Path) -> str:
    """csv, xlsx, xls or parquet from the file's extension (.txt and .tsv are csv)."""
    found = _EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        raise UnreadableExport(path, f"cannot tell the kind of file from its extension {Path(path).suffix!r}",
                               hint="declare `format:` (csv, xlsx, xls or parquet) for this export")
    return found


def detect_encoding(path: Path, whole: bool = True) -> str:
    """The encoding of a text export: "utf-8-sig" with a UTF-8 BOM ("utf-16" with a UTF-16 BOM,
    as Excel's "Unicode text" is saved); "utf-8" if the whole file decodes as UTF-8; else
    "gb18030" (a superset of GBK and GB2312) if the file decodes as that — the whole file, or
    with `whole=False` only its start (staging decodes the rest anyway and says where it fails,
    so a GBK file is not read to its end twice). Reads in chunks: memory stays small."""
    path = Path(path)
    head = _head(path, 4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    not_utf8 = first_bad_bytes(path, "utf-8")
    if not_utf8 is None:
        return "utf-8"
    not_gb = first_bad_bytes(path, "gb18030", None if whole else 4)
    if not_gb is None:
        return "gb18030"
    raise _neither(path, not_utf8, not_gb)


def _neither(path: Path, not_utf8: BadBytes, not_gb: BadBytes) -> UnreadableExport:
    return UnreadableExport(
        path, f"the file is neither UTF-8 (invalid at {not_utf8.where()}) nor GB18030/GBK (invalid at "
              f"{not_gb.where()})", line=not_gb.line,
        hint="re-save the file as UTF-8 CSV, or declare its `encoding:` (utf-8, utf-8-sig, gbk, gb18030) "
             "if you know it; the bytes at that offset may be damaged")


def _codec(path: Path, encoding: str) -> str:
    codec = _CODECS.get(encoding.strip().lower().replace("_", "-"))
    if codec is None:
        raise UnreadableExport(path, f"unknown encoding {encoding!r}",
                               hint="declare `encoding:` as one of utf-8, utf-8-sig, gbk, gb18030, or leave it "
                                    "out to have it detected")
    return codec


def _encoding_error(path: Path, encoding: str, bad: BadBytes, declared: bool) -> UnreadableExport:
    other = "gbk" if encoding.startswith("utf") else "utf-8"
    hint = (f"declare `encoding: {other}` for this export (Excel and Chinese backends often write GBK), "
            "or leave `encoding:` out to have it detected" if declared
            else "re-save the file as UTF-8 CSV")
    return UnreadableExport(path, f"the file is not valid {encoding}: invalid at {bad.where()}", line=bad.line,
                            hint=hint)


# -- reading files ---------------------------------------------------------------------------------
def _head(path: Path, size: int) -> bytes:
    try:
        with Path(path).open("rb") as fh:
            return fh.read(size)
    except FileNotFoundError:
        raise UnreadableExport(path, "file not found", hint="check `path:` of this export") from None
    except IsADirectoryError:
        raise UnreadableExport(path, "is a folder, not a file", hint="check `path:` of this export") from None
    except OSError as exc:
        raise UnreadableExport(path, f"cannot be opened: {exc.strerror or exc}") from None


def _looks_like_text(head: bytes) -> bool:
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return True
    if b"\x00" in head:
        return False
    for codec in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(codec)("strict").decode(head, final=False)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _head_text(head: bytes) -> str:
    """The start of a file as text, as well as it decodes (only to tell what kind of file it is)."""
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return head.decode("utf-16", errors="ignore")
    return head.decode("utf-8", errors="ignore")


def _not_a_workbook(path: Path, format: str, detail: str = "") -> UnreadableExport:
    """What a file named as a workbook really is, and what to do about it."""
    head = _head(path, 4096)
    if not head:
        return UnreadableExport(path, "the file is empty: no header row", hint="export the file again")
    if _head_text(head).lstrip("\ufeff \t\r\n").startswith("<"):
        return UnreadableExport(
            path, f"this is an HTML or XML page with a .{format} name, not an Excel workbook (many Chinese "
                  "seller backends export their 'Excel' files this way)",
            hint="open it in Excel or WPS and save it as .xlsx (or as CSV), then point `path:` at that file")
    if format == "xlsx" and head.startswith(_ZIP_MAGIC):
        reason = "a damaged .xlsx workbook"
        return UnreadableExport(path, f"{reason}: {detail}" if detail else reason,
                                hint="open it in Excel or WPS and save it again as .xlsx (or as CSV), or export it "
                                     "again")
    if format == "xls" and head.startswith(_ZIP_MAGIC):
        return UnreadableExport(path, "this is an .xlsx workbook with an .xls name",
                                hint="declare `format: xlsx` for this export, or rename the file to .xlsx")
    if format == "xlsx" and head.startswith(_OLE2_MAGIC):
        return UnreadableExport(path, "this is a legacy .xls workbook (or a password-protected workbook) with an "
                                      ".xlsx name",
                                hint="declare `format: xls` for this export; if it has a password, save it "
                                     "without one")
    if _looks_like_text(head):
        return UnreadableExport(path, f"this is a text file, not an Excel workbook, although it is named .{format}",
                                hint="if it is comma- or tab-separated, declare `format: csv` for this export; "
                                     "otherwise open it in Excel or WPS and save it as .xlsx")
    reason = f"not a readable .{format} workbook (damaged, or another kind of file)"
    return UnreadableExport(path, f"{reason}: {detail}" if detail else reason,
                            hint="open it in Excel or WPS and save it again as .xlsx (or as CSV)")


def _sheet_error(path: Path, sheet: str, names: Sequence[str]) -> UnreadableExport:
    listed = ", ".join(names) if names else "(none)"
    example = names[0] if names else sheet
    return UnreadableExport(path, f"sheet {sheet!r} not found; the workbook has: {listed}",
                            hint=f"declare the sheet by one of those names, e.g. `sheet: {example}`")


def _header_width(cells: Sequence[object]) -> int:
    """Cells up to the last non-empty one: Excel rows carry empty formatted cells at their end."""
    width = len(cells)
    while width and _cell_text(cells[width - 1]) is None:
        width -= 1
    return width


class _TooWide(Exception):
    """A row has more cells than the columns being written."""


def _write_rows(target: Path, names: Sequence[str], rows: Iterable[Sequence[str | None]], *,
                empty_is_null: bool = False, too_wide: bool = False) -> None:
    """Rows of text (None = NULL) into an all-text Parquet file, atomically, in row groups.
    Cells beyond the columns are dropped, or raise `_TooWide` with `too_wide`; `empty_is_null`
    turns empty strings into NULL (as DuckDB reads an empty CSV field)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.string()) for name in names])
    width = len(names)
    null = pa.scalar(None, pa.string())

    def table(batch: list[Sequence[str | None]]) -> pa.Table:
        for i, row in enumerate(batch):
            if len(row) != width:
                if len(row) > width and too_wide:
                    raise _TooWide
                batch[i] = list(row[:width]) + [None] * (width - len(row))
        arrays = [pa.array(column, pa.string()) for column in zip(*batch, strict=True)]
        if empty_is_null:
            arrays = [pc.if_else(pc.equal(a, ""), null, a) for a in arrays]
        return pa.Table.from_arrays(arrays, schema=schema)

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, schema) as writer:
            batch: list[Sequence[str | None]] = []
            for row in rows:
                batch.append(row)
                if len(batch) == _BATCH:
                    writer.write_table(table(batch))
                    batch = []
            if batch:
                writer.write_table(table(batch))

    write_atomically(target, write, seal=False)  # a derivation's work file, not a cache entry


# -- CSV ---------------------------------------------------------------------------------------
def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the header into the most non-empty headers (comma first on a
    tie): a tab at the end of every cell of a comma-separated export must not win."""
    best, best_score = ",", -1
    for delimiter in _DELIMITERS:
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        score = sum(1 for cell in header if normalise_header(cell)) if len(header) > 1 else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_header(text: str, path: Path) -> tuple[str, list[str]]:
    """The delimiter and the raw header cells, from the start of the file's text."""
    if not text.strip():
        raise UnreadableExport(path, "the file is empty: no header row", hint="export the file again")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(text)
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    if not any(normalise_header(cell) for cell in header):
        raise UnreadableExport(path, "the first row is empty: the header must be the file's first row", line=1,
                               hint="delete the empty or title rows above the header and save the file again")
    return delimiter, header


def _text_start(path: Path, codec: str, size: int = _CHUNK, *, declared: bool = True) -> str:
    """The first `size` bytes of the file as text (a character cut at the end is left out)."""
    head = _head(path, size)
    try:
        text = codecs.getincrementaldecoder(codec)("strict").decode(head, final=len(head) < size)
    except UnicodeDecodeError as exc:
        bad = first_bad_bytes(path, codec) or BadBytes(exc.start, 1, head[exc.start: exc.start + 4])
        raise _encoding_error(path, codec.removesuffix("-sig"), bad, declared) from None
    return text.lstrip("\ufeff")


@contextmanager
def _as_utf8(path: Path, codec: str, target: Path, declared: bool) -> Iterator[Utf8Text]:
    """The file as UTF-8 for DuckDB, with its `RowHazards`: itself when it is UTF-8, else
    transcoded into a temporary folder next to the target (the data folder is never written
    to), removed afterwards."""
    if codec in ("utf-8", "utf-8-sig"):
        yield Utf8Text((path,), hazards_of(path))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    try:
        try:
            text = utf8_copy(path, codec, folder)
        except BadBytes as bad:
            raise _transcoding_error(path, codec, bad, declared) from None
        yield text
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _transcoding_error(path: Path, codec: str, bad: BadBytes, declared: bool) -> UnreadableExport:
    if not declared and codec == "gb18030":  # detected from the file's start: neither fits it
        return _neither(path, first_bad_bytes(path, "utf-8") or bad, bad)
    return _encoding_error(path, codec, bad, declared)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy_csv_with_duckdb(text: Utf8Text, delimiter: str, names: Sequence[str], target: Path, con,
                          table: str | None, kept: Sequence[str] | None = None) -> None:
    # Everything is declared (no sniffing): DuckDB would otherwise guess a comment character or
    # skip rows it takes for a preamble. Parallel reading cannot pad short rows when quoted
    # fields hold line breaks, so a file with any quote is read serially. Either way the rows
    # keep the file's order (DuckDB preserves insertion order), which numbers them (`rowid`).
    # `kept`: the only columns the table holds (every field is still parsed, fewer are stored).
    columns = "{" + ", ".join(f"{_sql_text(name)}: 'VARCHAR'" for name in names) + "}"

    def source(parts: Sequence[Path]) -> str:
        files = "[" + ", ".join(_sql_text(str(part)) for part in parts) + "]"
        return (f"read_csv({files}, auto_detect=false, header=true, delim={_sql_text(delimiter)}, "
                f"quote='\"', escape='\"', null_padding=true, parallel={str(not text.hazards.quoted).lower()}, "
                f"columns={columns})")

    if table is not None:
        selected = ", ".join(_sql_ident(name) for name in kept) if kept is not None else "*"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_sql_ident(table)} AS SELECT {selected} FROM {source(text.parts)}")
        return
    write_atomically(target, lambda tmp: con.execute(
        f"COPY (SELECT * FROM {source(text.parts)}) TO {_sql_text(str(tmp))} (FORMAT parquet)"), seal=False)


class _BadCsv(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


def _csv_records(utf8: Path, delimiter: str) -> Iterator[list[str]]:
    # csv's default field limit (128 KiB) is smaller than some product descriptions in real exports.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    with utf8.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
        while True:
            start = reader.line_num + 1  # the line the next record starts on
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "end of data" in str(exc):
                    raise _BadCsv(start, f"the quoted value in the record starting on line {start} is never "
                                         "closed") from None
                raise _BadCsv(start, f"the record starting on line {start} cannot be read: {exc}") from None
            yield record


def _copy_csv_with_python(utf8: Path, delimiter: str, raw: list[str], target: Path,
                          notes: list[str]) -> tuple[list[str], dict[str, str]]:
    """The slower, exact path: keeps empty lines as rows and gives fields beyond the header
    columns of their own (named like empty headers; a second pass finds how many)."""
    columns, _ = _name_columns(raw)
    try:
        _write_rows(target, list(columns.values()), _csv_data(utf8, delimiter), empty_is_null=True, too_wide=True)
        return raw, columns
    except _TooWide:
        pass
    width = max(len(record) for record in _csv_records(utf8, delimiter))
    notes.append(f"some rows have {width} fields but the header has {len(raw)}: the extra fields are in "
                 f"columns named 'column {len(raw) + 1}' …")
    raw = raw + [""] * (width - len(raw))
    columns, header_notes = _name_columns(raw)
    notes.extend(n for n in header_notes if n not in notes)
    _write_rows(target, list(columns.values()), _csv_data(utf8, delimiter), empty_is_null=True)
    return raw, columns


def _csv_data(utf8: Path, delimiter: str) -> Iterator[list[str]]:
    records = _csv_records(utf8, delimiter)
    next(records, None)  # the header
    return records


def _stage_csv(path: Path, target: Path, encoding: str | None, con, notes: list[str],
               table: str | None = None, keep: Collection[str] | None = None
               ) -> tuple[list[str], dict[str, str], str, str | None]:
    if encoding is None:
        codec = detect_encoding(path, whole=False)
        notes.append(f"encoding detected as {codec}")
    else:
        codec = _codec(path, encoding)
        if codec == "gb18030" and encoding.strip().lower() != "gb18030":
            notes.append(f"declared encoding {encoding} read as gb18030, its superset")
    with _as_utf8(path, codec, target, declared=encoding is not None) as text:
        delimiter, raw = _csv_header(_text_start(text.parts[0], "utf-8-sig", declared=encoding is not None), path)
        if delimiter != ",":
            notes.append(f"delimiter {delimiter!r}")
        columns, header_notes = _name_columns(raw)
        notes.extend(header_notes)
        if text.hazards.fine:
            try:
                # At least one column, so that each row is still a row (`rowid`, blank rows kept).
                kept = None if keep is None or table is None else \
                    [name for header, name in columns.items() if header in keep] or list(columns.values())[:1]
                _copy_csv_with_duckdb(text, delimiter, list(columns.values()), target, con, table, kept)
                return raw, columns, codec, table
            except duckdb.Error as exc:
                if "unicode" in str(exc).lower():
                    bad = first_bad_bytes(path, codec)
                    if bad is not None:
                        raise _encoding_error(path, codec, bad, declared=encoding is not None) from None
                # Anything else (rows longer than the header, mixed line ends): the exact path
                # reads it or says precisely what is wrong.
        utf8 = text.joined()
        try:
            raw, columns = _copy_csv_with_python(utf8, delimiter, raw, target, notes)
        except UnicodeDecodeError:
            bad = first_bad_bytes(path, codec)
            if bad is None:
                raise
            raise _encoding_error(path, codec, bad, declared=encoding is not None) from None
        except _BadCsv as bad:
            raise UnreadableExport(path, bad.reason, line=bad.line,
                                   hint='inside a quoted value a quote is written twice (""); fix the quotes '
                                        "there, or export the file again") from None
    return raw, columns, codec, None


# -- Excel -------------------------------------------------------------------------------------
def _xlsx_errors() -> tuple[type[BaseException], ...]:
    from openpyxl.utils.exceptions import InvalidFileException

    return (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, OSError, EOFError,
            SyntaxError, zlib.error)  # SyntaxError: the XML parsers' ParseError


@contextmanager
def _xlsx_sheet(path: Path, sheet: str | None) -> Iterator[Iterator[tuple]]:
    """The rows of a workbook's sheet (values only), row 1 first, empty rows included."""
    import openpyxl

    if not _head(path, 4).startswith(_ZIP_MAGIC):
        raise _not_a_workbook(path, "xlsx")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _xlsx_errors() as exc:
        raise _not_a_workbook(path, "xlsx", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    try:
        names = workbook.sheetnames
        name = sheet if sheet is not None else (names[0] if names else None)
        if name not in names:
            raise _sheet_error(path, str(sheet), names)
        worksheet = workbook[name]
        if not hasattr(worksheet, "iter_rows"):
            raise UnreadableExport(path, f"sheet {name!r} is a chart, not a table",
                                   hint=f"declare the sheet that holds the rows (sheets: {', '.join(names)})")
        # Other programs write wrong sheet dimensions; without them each row is read to its last cell.
        worksheet.reset_dimensions()
        yield worksheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _xls_errors() -> tuple[type[BaseException], ...]:
    import xlrd
    from xlrd.compdoc import CompDocError

    return (xlrd.XLRDError, CompDocError, struct.error, OSError, ValueError, KeyError, IndexError,
            AssertionError, EOFError, UnicodeDecodeError)


def _xls_cell_text(cell, datemode: int) -> str | None:
    import xlrd

    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return value or None
    if kind == xlrd.XL_CELL_DATE:
        try:
            if 0 <= value < 1:  # a time of day alone
                return xlrd.xldate_as_datetime(value, datemode).time().isoformat(timespec="seconds")
            return _datetime_text(xlrd.xldate_as_datetime(value, datemode))
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return _number_text(float(value))
    if kind == xlrd.XL_CELL_NUMBER:
        return _number_text(float(value))
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR")
    return str(value)


@contextmanager
def _xls_sheet(path: Path, sheet: str | None) -> Iterator[Iterator[list[str | None]]]:
    """The rows of a legacy workbook's sheet as text, row 1 first, empty rows included."""
    import xlrd

    if not _head(path, 8).startswith(_OLE2_MAGIC):
        raise _not_a_workbook(path, "xls")
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except _xls_errors() as exc:
        # An encrypted .xlsx is an OLE2 container too, holding no workbook xlrd knows.
        if "encrypted" in str(exc).lower() or "find workbook" in str(exc).lower():
            raise UnreadableExport(path, "the workbook is password-protected",
                                   hint="open it in Excel or WPS and save it without a password") from None
        raise _not_a_workbook(path, "xls", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    try:
        names = book.sheet_names()
        name = sheet if sheet is not None else (names[0] if names else None)
        if name not in names:
            raise _sheet_error(path, str(sheet), names)
        try:
            worksheet = book.sheet_by_name(name)
        except _xls_errors() as exc:
            raise _not_a_workbook(path, "xls", str(exc).splitlines()[0]) from None
        mode = book.datemode
        yield ([_xls_cell_text(cell, mode) for cell in worksheet.row(r)] for r in range(worksheet.nrows))
    finally:
        book.release_resources()


def _excel_rows(path: Path, format: str, sheet: str | None):
    """The sheet's rows, as a context manager that closes the workbook."""
    return _xlsx_sheet(path, sheet) if format == "xlsx" else _xls_sheet(path, sheet)


def _stage_excel(path: Path, format: str, sheet: str | None, target: Path,
                 notes: list[str]) -> tuple[list[str], dict[str, str]]:
    convert = _cell_text if format == "xlsx" else (lambda text: text)
    with _excel_rows(path, format, sheet) as rows:
        first = next(rows, None)
        if first is None:
            raise UnreadableExport(path, "the sheet is empty: no header row",
                                   hint="check `sheet:` of this export, or export the file again")
        width = _header_width(first)
        if width == 0:
            raise UnreadableExport(path, "the first row is empty: the header must be the sheet's first row",
                                   hint="delete the empty or title rows above the header and save the file again")
        raw = [convert(cell) or "" for cell in first[:width]]
        columns, header_notes = _name_columns(raw)
        notes.extend(header_notes)
        beyond = [0]

        errors = _xlsx_errors() if format == "xlsx" else _xls_errors()

        def cells() -> Iterator[list[str | None]]:
            while True:
                try:  # the library parses the sheet as it goes: a damaged part shows up here
                    row = next(rows)
                except StopIteration:
                    return
                except errors as exc:
                    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise _not_a_workbook(path, format, detail) from None
                if len(row) > width and any(convert(cell) is not None for cell in row[width:]):
                    beyond[0] += 1
                yield [convert(cell) for cell in row[:width]]

        _write_rows(target, list(columns.values()), cells())
    if beyond[0]:
        notes.append(f"{beyond[0]} row(s) have values right of the last header; those values are not read")
    return raw, columns


# -- Parquet -----------------------------------------------------------------------------------
def _parquet_names(path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _head(path, 4)
    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableExport(path, f"not a readable Parquet file: {str(exc).splitlines()[0]}",
                               hint="write the file again, or declare the `format:` it really has") from None


def _parquet_columns(names: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Normalised header -> the file's own column name (Parquet is read in place)."""
    keys, notes = _name_columns(names)
    return dict(zip(keys, names, strict=True)), notes


# -- public entry points -------------------------------------------------------------------------
def read_headers(path: Path, format: str | None = None, encoding: str | None = None,
                 sheet: str | None = None) -> tuple[str, ...]:
    """The normalised headers of an export (as keys of `StagedFile.columns`, before any extra
    unnamed CSV fields), reading only the start of the file: to tell which preset it looks like."""
    path = Path(path)
    format = (format or detect_format(path)).lower()
    if format == "csv":
        if encoding is None:
            head = _head(path, _CHUNK)
            codec = ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else
                     "utf-16" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else None)
            if codec is None:
                try:
                    codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=len(head) < _CHUNK)
                    codec = "utf-8"
                except UnicodeDecodeError:
                    codec = "gb18030"
        else:
            codec = _codec(path, encoding)
        _, raw = _csv_header(_text_start(path, codec, declared=encoding is not None), path)
        return tuple(_name_columns(raw)[0])
    if format in ("xlsx", "xls"):
        with _excel_rows(path, format, sheet) as rows:
            first = next(rows, None) or []
        convert = _cell_text if format == "xlsx" else (lambda text: text)
        return tuple(_name_columns([convert(cell) or "" for cell in first[:_header_width(first)]])[0])
    if format == "parquet":
        return tuple(_parquet_columns(_parquet_names(path))[0])
    raise _unknown_format(path, format)


def _unknown_format(path: Path, format: str) -> UnreadableExport:
    return UnreadableExport(path, f"unknown format {format!r}", hint="declare `format:` as csv, xlsx, xls or parquet")


def stage_export(path: Path, target: Path, *, format: str | None = None, encoding: str | None = None,
                 sheet: str | None = None, con: duckdb.DuckDBPyConnection | None = None,
                 keep: Collection[str] | None = None) -> StagedFile:
    """Read one export into an all-text Parquet file at `target` (written atomically), rows in
    the file's order, empty rows kept. CSV: `encoding` as declared or detected, delimiter found
    from the header; xlsx/xls: `sheet` by name (default the first), numbers and dates as a person
    sees them ("3", "3.5", "2024-01-02 10:00:00"); Parquet: not copied (`parquet` is the source).
    `keep` (normalised headers): a CSV staged into `con` holds only these columns, as a
    platform's export has many more than the review reads; `columns` still lists every header.
    Raises `UnreadableExport` for a file that cannot be read."""
    path, target = Path(path), Path(target)
    format = (format or detect_format(path)).lower()
    notes: list[str] = []
    if format == "parquet":
        names = _parquet_names(path)
        columns, notes = _parquet_columns(names)
        return StagedFile(path, path, columns, tuple(names), 1, "parquet", None, tuple(notes))
    if format not in FORMATS:
        raise _unknown_format(path, format)
    _head(path, 1)  # a missing file is named as such before anything else
    if format == "csv":
        own = con is None
        connection = duckdb.connect() if own else con
        # With the caller's connection the rows stay in it (a temporary table named after the
        # target) for the caller to read once; a connection of our own closes, so Parquet it is.
        table = None if own else "staged_" + re.sub(r"\W", "_", target.stem)
        try:
            raw, columns, codec, table = _stage_csv(path, target, encoding, connection, notes, table, keep)
        finally:
            if own:
                connection.close()
        return StagedFile(path, target, columns, tuple(raw), 2, "csv", codec, tuple(notes), table)
    raw, columns = _stage_excel(path, format, sheet, target, notes)
    return StagedFile(path, target, columns, tuple(raw), 2, format, None, tuple(notes))

