"""A data file declared `format: csv` read strictly, its mistakes named where they are.

The contract's CSV files are comma-separated with double quotes (a quote inside a quoted value
written twice), one header row. DuckDB reads them with exactly that dialect and no guessing: its
sniffer, left to guess, took a file with one unquoted comma for a one-column file, and named a
truncated file, mixed line endings or a binary file "not valid UTF-8". When DuckDB cannot read
a file, Python's csv module reads it again to say which row broke and why; a file it reads
whole (e.g. line endings mixed between rows, which DuckDB rejects) is staged from there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from fupan.data.backends import quote_literal

_HEAD = 1 << 16
_BATCH = 50_000
_ZIP_MAGIC = b"PK\x03\x04"
_BOM = b"\xef\xbb\xbf"
REEXPORT = "export the file again (as CSV, UTF-8, comma-separated) or fix it in a text editor"


class CsvProblem(ValueError):
    """A CSV file that cannot be read as the contract declares it: which file, which row (as a
    spreadsheet counts them: the header is row 1), what is wrong and what to do."""

    def __init__(self, path: Path, reason: str, hint: str, row: int | None = None):
        super().__init__(reason)
        self.path, self.reason, self.hint, self.row = Path(path), reason, hint, row


def _head(path: Path, size: int = _HEAD) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def check_start(path: Path) -> None:
    """An empty file, or one that is not text at all (a workbook or archive renamed .csv),
    raises CsvProblem before any reader guesses at it."""
    head = _head(path)
    if not head.replace(_BOM, b"").strip():
        reason = "the file is empty" if not head else "the file holds only blank space: no header, no rows"
        raise CsvProblem(path, reason, f"{REEXPORT}; its first row names the columns", row=None)
    if head.startswith(_ZIP_MAGIC):
        raise CsvProblem(path, "the file is not CSV text but a zip archive (an Excel .xlsx workbook renamed .csv?)",
                         "declare `format: xlsx` and `sheet:` for it in data/datasets.yml, or save it from Excel as "
                         "CSV UTF-8")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise CsvProblem(path, f"the file is not CSV text: it holds binary data (a NUL byte at byte {nul + 1})",
                         "a CSV file is text; export the data again as CSV (an Excel .xls/.xlsx workbook: save it "
                         "as CSV UTF-8, or declare its `format:` in data/datasets.yml)")


def has_no_rows(path: Path, encoding: str) -> bool:
    """Whether the file is empty or has a header and no data row (looked at in its first
    64 KiB: a file with a row has it there)."""
    head = _head(path)
    if not head.replace(_BOM, b"").strip():
        return True
    codec = "gb18030" if encoding in ("gbk", "gb18030") else "utf-8-sig"
    text = head.decode(codec, errors="replace")
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline="")) if any(v.strip() for v in r)]
    except csv.Error:
        return False  # a quote left open in the first 64 KiB: the data has more, the reader says what
    return len(records) == 1 and len(head) < _HEAD


def header(utf8: Path) -> list[str]:
    """The header row's names, as DuckDB is given them: blank or repeated names get a number
    (a repeated header is the contract's problem to name, not the reader's)."""
    with utf8.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        try:
            raw = next(csv.reader(fh), [])
        except csv.Error:
            raw = []
    names: list[str] = []
    for i, name in enumerate(raw, start=1):
        name = name if name.strip() else f"column{i}"
        while name in names:
            name += f"_{i}"
        names.append(name)
    return names


def duckdb_source(utf8: Path, names: list[str]) -> str:
    """`read_csv(…)` of the file in the contract's dialect, nothing guessed, every column text."""
    columns = "{" + ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in names) + "}"
    return (f"read_csv({quote_literal(str(utf8))}, auto_detect=false, header=true, delim=',', quote='\"', "
            f"escape='\"', strict_mode=true, columns={columns})")


def odd_quotes(utf8: Path) -> bool:
    """An odd number of quote characters: a quoted value is never closed, and DuckDB would drop
    it without a word."""
    quotes = 0
    with utf8.open("rb") as fh:
        while block := fh.read(1 << 22):
            quotes += block.count(b'"')
    return quotes % 2 == 1


def _line_endings(utf8: Path) -> list[str]:
    crlf = cr = lf = 0
    tail = b""
    with utf8.open("rb") as fh:
        while block := fh.read(1 << 22):
            text = tail + block
            n = text.count(b"\r\n")
            crlf, cr, lf = crlf + n, cr + text.count(b"\r") - n, lf + text.count(b"\n") - n
            # a CR ending this block is counted with the next one, where its LF may be
            tail = b"\r" if text.endswith(b"\r") else b""
            if tail:
                cr -= 1
    cr += len(tail)
    return [name for name, count in (("CRLF", crlf), ("CR", cr), ("LF", lf)) if count]


def _records(utf8: Path) -> Iterator[tuple[int, list[str]]]:
    """(row as a spreadsheet counts it, values) of every non-blank record; raises CsvProblem, or
    UnicodeDecodeError for text that is not UTF-8 (decoded ahead of the rows: no row to name;
    the store's hint names the encoding to declare)."""
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    with utf8.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=",", quotechar='"', doublequote=True, strict=True)
        row = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "end of data" in str(exc) or "EOF" in str(exc):
                    raise CsvProblem(utf8, f"the quoted value on row {row + 1} is never closed: the file ends "
                                           "inside it (cut short, or a quote is missing)",
                                     f'close the quote; a quote inside a quoted value is written twice (""); '
                                     f"if the file was cut short, {REEXPORT}", row=row + 1) from None
                raise CsvProblem(utf8, f"row {row + 1} cannot be read: {exc}",
                                 f'a value with a quote must be quoted as a whole ("a ""b"" c"); {REEXPORT}',
                                 row=row + 1) from None
            if not record:  # a blank line: DuckDB skips it too
                continue
            row += 1
            yield row, record


def diagnose(utf8: Path, width: int) -> CsvProblem | None:
    """The first row Python's csv reader cannot take as a row of `width` values, as a
    CsvProblem; None when every row is well formed."""
    ends_with_newline = True
    with utf8.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell():
            fh.seek(-1, 2)
            ends_with_newline = fh.read(1) in (b"\n", b"\r")
    try:
        last: tuple[int, list[str]] | None = None
        for row, record in _records(utf8):
            if last is not None:
                problem = _width_problem(utf8, *last, width, final=False)
                if problem is not None:
                    return problem
            last = (row, record)
        if last is not None:
            return _width_problem(utf8, *last, width, final=not ends_with_newline)
    except CsvProblem as problem:
        return problem
    return None


def _width_problem(utf8: Path, row: int, record: list[str], width: int, final: bool) -> CsvProblem | None:
    if len(record) == width:
        return None
    endings = _line_endings(utf8)
    mixed = (f"; the file mixes line endings ({', '.join(endings)}): a stray line break splits rows"
             if len(endings) > 1 else "")
    if len(record) > width:
        return CsvProblem(utf8, f"row {row} has {len(record)} values but the header has {width}{mixed}",
                          'a value containing a comma must be in double quotes ("坚果,礼盒"); or remove the extra '
                          "comma" + ("; save the file with one kind of line ending" if mixed else ""), row=row)
    if final:
        return CsvProblem(utf8, f"the file ends in the middle of row {row} ({len(record)} of the header's {width} "
                                "values): it was cut short", f"{REEXPORT}; the last row is incomplete", row=row)
    return CsvProblem(utf8, f"row {row} has {len(record)} values but the header has {width}{mixed}",
                      "a value may be missing its comma, or a line break inside a value is not in double quotes"
                      + ("; save the file with one kind of line ending (CRLF or LF)" if mixed else ""), row=row)


def stage_with_python(utf8: Path, names: list[str], target: Path) -> None:
    """The rows as Python's csv reader reads them into all-text Parquet at `target` (empty
    values as NULL, as DuckDB reads them). Every row has been checked by `diagnose`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.string()) for name in names])
    records = _records(utf8)
    next(records, None)  # the header
    with pq.ParquetWriter(target, schema) as writer:
        batch: list[list[str | None]] = []
        for _, record in records:
            batch.append([v if v != "" else None for v in record])
            if len(batch) == _BATCH:
                writer.write_table(pa.Table.from_arrays([pa.array(c, pa.string()) for c in zip(*batch, strict=True)],
                                                        schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_arrays([pa.array(c, pa.string()) for c in zip(*batch, strict=True)],
                                                    schema=schema))
