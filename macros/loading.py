"""Loading input files into DuckDB views with canonical column names and types.

Every dataset of the contract becomes two views in one DuckDB connection:

* ``<name>__raw``: the file as it is, with its own headers and a ``_row`` column (0-based data
  row) and ``_file``; used by validation to point at rows as a person sees them.
* ``<name>``: canonical names and types, after the declared cleaning rules. Metrics query these.

Parquet is scanned in place. CSV (any declared encoding) and ``.xlsx`` are first staged, streaming,
into an all-text Parquet file in the cache folder keyed by the file's content hash, so large files
never pass through pandas and ``data/`` is never written to.
"""

from __future__ import annotations

import codecs
import datetime as dt
import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .contract import Column, Contract, Dataset

STAGE_VERSION = "1"  # bump when staging output changes, so old staged files are not reused
_HASH_MEMO: dict[tuple[str, int, int], str] = {}

# Date and time spellings accepted in text exports (ISO first; common Chinese back-end forms).
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]
TIMESTAMP_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y-%m-%dT%H:%M:%S",
] + DATE_FORMATS
TRUE_WORDS = ("true", "1", "是", "y", "yes", "t")
FALSE_WORDS = ("false", "0", "否", "n", "no", "f")
SQL_TYPES = {
    "string": "VARCHAR", "integer": "BIGINT", "decimal": "DOUBLE", "date": "DATE",
    "timestamp": "TIMESTAMP", "boolean": "BOOLEAN",
}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def file_hash(path: Path, cache_dir: Path | None = None) -> str:
    """Content hash of a file (sha256), memoised by path, size and modification time — in this
    process, and on disk under `cache_dir` so a rebuild does not re-read gigabytes of Parquet."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _HASH_MEMO:
        return _HASH_MEMO[key]
    memo = None
    if cache_dir is not None:
        memo = Path(cache_dir) / "hashes" / (hashlib.sha256(repr(key).encode()).hexdigest()[:32] + ".txt")
        try:
            cached = memo.read_text(encoding="ascii").strip()
            if len(cached) == 64:
                _HASH_MEMO[key] = cached
                return cached
        except OSError:
            pass
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    _HASH_MEMO[key] = digest.hexdigest()
    if memo is not None:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(_HASH_MEMO[key], encoding="ascii")
        os.replace(tmp, memo)
    return _HASH_MEMO[key]


def resolve_files(contract: Contract, dataset: Dataset) -> list[Path]:
    """The files a dataset's path or glob matches, in a stable order."""
    pattern = str(contract.data_dir / dataset.path)
    if any(ch in dataset.path for ch in "*?["):
        return [Path(p) for p in sorted(glob.glob(pattern))]
    path = Path(pattern)
    return [path] if path.exists() else []


def _atomic_replace(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)


def _stage_csv(source: Path, encoding: str, target: Path, con: duckdb.DuckDBPyConnection) -> None:
    """CSV → all-text Parquet. DuckDB reads UTF-8 only, so other encodings are transcoded first,
    streaming, into a temporary UTF-8 file next to the target (never into data/)."""
    tmp_parquet = target.with_suffix(".tmp.parquet")
    utf8_path = source
    tmp_utf8: Path | None = None
    if encoding in ("gbk", "gb18030", "utf-8-sig"):
        tmp_utf8 = target.with_suffix(".utf8.csv")
        decoder_name = "gb18030" if encoding in ("gbk", "gb18030") else "utf-8-sig"
        with source.open("rb") as src, tmp_utf8.open("w", encoding="utf-8", newline="") as dst:
            reader = codecs.getreader(decoder_name)(src, errors="strict")
            for chunk in iter(lambda: reader.read(1 << 20), ""):
                dst.write(chunk)
        utf8_path = tmp_utf8
    try:
        con.execute(
            f"COPY (SELECT * FROM read_csv({quote_literal(str(utf8_path))}, header=true, "
            f"all_varchar=true)) TO {quote_literal(str(tmp_parquet))} (FORMAT parquet)"
        )
        _atomic_replace(tmp_parquet, target)
    finally:
        if tmp_utf8 is not None:
            tmp_utf8.unlink(missing_ok=True)
        tmp_parquet.unlink(missing_ok=True)


def _stage_xlsx(source: Path, sheet: str, target: Path) -> None:
    """Excel sheet → all-text Parquet, streaming rows with openpyxl's read-only mode."""
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    if sheet not in workbook.sheetnames:
        names = ", ".join(workbook.sheetnames)
        workbook.close()
        raise ValueError(f"{source}: sheet {sheet!r} not found; the workbook has: {names}")
    rows = workbook[sheet].iter_rows(values_only=True)
    headers = [str(h) if h is not None else "" for h in next(rows, ())]
    schema = pa.schema([(h, pa.string()) for h in headers])
    tmp = target.with_suffix(".tmp.parquet")

    def as_text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, dt.datetime):  # Excel date cells arrive as datetimes
            return value.strftime("%Y-%m-%d" if value.time() == dt.time(0) else "%Y-%m-%d %H:%M:%S")
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)

    with pq.ParquetWriter(tmp, schema) as writer:
        batch: list[tuple] = []
        for row in rows:
            batch.append(tuple(as_text(v) for v in row[: len(headers)]))
            if len(batch) >= 50_000:
                writer.write_table(pa.Table.from_pylist([dict(zip(headers, r, strict=False)) for r in batch], schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist([dict(zip(headers, r, strict=False)) for r in batch], schema))
    workbook.close()
    _atomic_replace(tmp, target)


@dataclass
class LoadedDataset:
    dataset: Dataset
    files: list[Path]
    scanned: list[Path]  # the Parquet files DuckDB reads (originals or staged copies)
    raw_types: dict[str, str]  # file header → DuckDB type
    missing_headers: list[Column]

    @property
    def header_row_offset(self) -> int:
        """Add to the 0-based data row to get the row a person sees (header is row 1)."""
        return 2 if self.dataset.format in ("csv", "xlsx") else 1


class UnreadableFile(ValueError):
    """A data file that cannot be read as the contract declares it (encoding, sheet, format)."""

    def __init__(self, dataset: Dataset, path: Path, reason: str, hint: str):
        self.dataset = dataset
        self.path = path
        self.reason = reason
        self.hint = hint
        super().__init__(f"{path}: {reason}. Hint: {hint}")


def _read_hint(dataset: Dataset, exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "encoding" in text.lower() or "unicode" in text.lower():
        other = "gbk" if dataset.encoding.startswith("utf") else "utf-8"
        return (f"the file is not valid {dataset.encoding}; if it was exported by Excel or a Chinese "
                f"back-end, declare `encoding: {other}` for {dataset.name} in data/datasets.yml")
    if "sheet" in text:
        return f"set `sheet:` for {dataset.name} in data/datasets.yml to one of the workbook's sheets"
    return f"check that the file is a valid {dataset.format} file, or fix `format:` in data/datasets.yml"


class DataStore:
    """One DuckDB connection with a raw and a canonical view for every available dataset.

    Files that cannot be read at all are collected in `unreadable` (validation reports them)
    instead of stopping at the first one.
    """

    def __init__(self, contract: Contract, cache_dir: Path):
        self.contract = contract
        self.cache_dir = Path(cache_dir)
        self.con = duckdb.connect()
        self.loaded: dict[str, LoadedDataset] = {}
        self.missing: list[str] = []
        self.unreadable: list[UnreadableFile] = []
        for dataset in contract.datasets.values():
            files = resolve_files(contract, dataset)
            if not files:
                self.missing.append(dataset.name)
                continue
            try:
                self.loaded[dataset.name] = self._register(dataset, files)
            except (duckdb.Error, UnicodeDecodeError, ValueError, OSError) as exc:
                reason = str(exc).splitlines()[0][:300]
                self.unreadable.append(UnreadableFile(dataset, files[0], reason, _read_hint(dataset, exc)))

    # -- public -----------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.loaded

    def fingerprint(self, names: list[str] | tuple[str, ...] | None = None) -> str:
        """Short hash of the named datasets' files (all datasets when None)."""
        digest = hashlib.sha256()
        for name in sorted(names if names is not None else self.contract.datasets):
            digest.update(name.encode())
            for path in self.loaded[name].files if name in self.loaded else []:
                digest.update(path.name.encode())
                digest.update(file_hash(path, self.cache_dir).encode())
        return digest.hexdigest()[:16]

    def query(self, sql: str, params: list | None = None):
        """Run SQL and return a pandas DataFrame."""
        return self.con.execute(sql, params or []).df()

    # -- internals --------------------------------------------------------------------------
    def _stage(self, dataset: Dataset, path: Path) -> Path:
        if dataset.format == "parquet":
            return path
        stage_dir = self.cache_dir / "staged"
        stage_dir.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(
            f"{STAGE_VERSION}|{dataset.format}|{dataset.encoding}|{dataset.sheet}|{file_hash(path, self.cache_dir)}"
            .encode()
        ).hexdigest()[:20]
        target = stage_dir / f"{dataset.name}-{key}.parquet"
        if not target.exists():
            if dataset.format == "csv":
                _stage_csv(path, dataset.encoding, target, self.con)
            else:
                _stage_xlsx(path, str(dataset.sheet), target)
        return target

    def _register(self, dataset: Dataset, files: list[Path]) -> LoadedDataset:
        scanned = [self._stage(dataset, f) for f in files]
        file_list = "[" + ", ".join(quote_literal(str(p)) for p in scanned) + "]"
        raw_view = quote_ident(f"{dataset.name}__raw")
        self.con.execute(
            f"CREATE OR REPLACE VIEW {raw_view} AS SELECT * "
            f"FROM read_parquet({file_list}, file_row_number=true, filename=true, union_by_name=true)"
        )
        described = self.con.execute(f"DESCRIBE {raw_view}").fetchall()
        raw_types = {row[0]: row[1] for row in described}
        missing = [c for c in dataset.columns.values() if c.header not in raw_types]
        select = [
            f"{conversion_sql(col, raw_types.get(col.header))} AS {quote_ident(col.name)}"
            for col in dataset.columns.values()
        ]
        view = quote_ident(dataset.name)
        self.con.execute(
            f"CREATE OR REPLACE VIEW {view} AS SELECT {', '.join(select)}, "
            f"file_row_number AS _row, filename AS _file FROM {raw_view}"
        )
        return LoadedDataset(dataset, files, scanned, raw_types, missing)


def cleaned_text_sql(col: Column, expr: str) -> str:
    """Trim text, turn empty into NULL, and apply the declared cleaning rules."""
    out = f"NULLIF(TRIM(CAST({expr} AS VARCHAR)), '')"
    if "thousands" in col.clean:
        out = f"REPLACE({out}, ',', '')"
    if "currency" in col.clean:
        out = f"TRIM(REGEXP_REPLACE({out}, '[¥￥$]|RMB|CNY|元', '', 'g'))"
    return out


def conversion_sql(col: Column, raw_type: str | None) -> str:
    """SQL that turns the raw column into the canonical type; NULL where it cannot."""
    sql_type = SQL_TYPES[col.type]
    if raw_type is None:
        return f"CAST(NULL AS {sql_type})"
    src = quote_ident(col.header)
    if raw_type != "VARCHAR":
        return f"TRY_CAST({src} AS {sql_type})"
    text = cleaned_text_sql(col, src)
    if col.type == "string":
        return text
    if col.type == "integer":
        return f"TRY_CAST({text} AS BIGINT)"
    if col.type == "decimal":
        if "percent" in col.clean:
            return (
                f"CASE WHEN {text} LIKE '%\\%' ESCAPE '\\' "
                f"THEN TRY_CAST(RTRIM({text}, '%') AS DOUBLE) / 100 "
                f"ELSE TRY_CAST({text} AS DOUBLE) END"
            )
        return f"TRY_CAST({text} AS DOUBLE)"
    if col.type == "date":
        formats = "[" + ", ".join(quote_literal(f) for f in DATE_FORMATS) + "]"
        return f"CAST(TRY_STRPTIME({text}, {formats}) AS DATE)"
    if col.type == "timestamp":
        formats = "[" + ", ".join(quote_literal(f) for f in TIMESTAMP_FORMATS) + "]"
        return f"TRY_STRPTIME({text}, {formats})"
    if col.type == "boolean":
        trues = ", ".join(quote_literal(w) for w in TRUE_WORDS)
        falses = ", ".join(quote_literal(w) for w in FALSE_WORDS)
        return (
            f"CASE WHEN LOWER({text}) IN ({trues}) THEN TRUE "
            f"WHEN LOWER({text}) IN ({falses}) THEN FALSE END"
        )
    raise ValueError(f"unsupported column type {col.type!r}")
