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
import json
import re
from dataclasses import dataclass
from pathlib import Path

from fupan.data.backends import DuckDBBackend, is_uri, quote_ident, quote_literal
from fupan.data.contract import Column, Contract, Dataset
from fupan.errors import FupanError, Location, shown_path
from fupan.speed.cache import (
    CacheRoot,
    cache_key,
    file_digest,
    keep,
    read_sealed,
    seal_file,
    sealed_file_ok,
    write_file,
)
from fupan.speed.lazy import lazy_import

duckdb = lazy_import("duckdb")

# DuckDB would use up to 80% of RAM. Checks run under CHECK_MEMORY_LIMIT: one hash table at a
# time (keys of the order lines) fits. Computing gets more: storing the order-lines model joins
# every line to its order's attributes, which spills heavily under less (bench/README.md has
# the measurements). A plan that does not fit even so (the full review's model, with users
# joined too) gets more: see DuckDBBackend._with_memory.
CHECK_MEMORY_LIMIT = 1.0  # GB
COMPUTE_MEMORY_LIMIT = 3.0  # GB (raised by the backend when a plan does not fit)
STAGE_VERSION = "1"  # bump when staging output changes, so old staged files are not reused
TIDY_VERSION = "1"  # bump when what counts as tidy text changes, so kept findings are not reused

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


def file_hash(path: Path) -> str:
    """Content hash of a file (XXH3, 128 bits, hex). Always the content: size and modification
    time cannot tell an edit in place that keeps the size and restores the time."""
    return file_digest(path)


def resolve_files(contract: Contract, dataset: Dataset) -> list[Path]:
    """The files a dataset's path or glob matches, in a stable order."""
    pattern = str(contract.data_dir / dataset.path)
    if any(ch in dataset.path for ch in "*?["):
        return [Path(p) for p in sorted(glob.glob(pattern))]
    path = Path(pattern)
    return [path] if path.exists() else []


def resolve_export_paths(contract: Contract, paths: tuple[str, ...]) -> list[Path]:
    """The files an export's paths and globs match, each once, in a stable order."""
    found: list[Path] = []
    for pattern in paths:
        full = str(contract.data_dir / pattern)
        matches = sorted(glob.glob(full)) if any(ch in pattern for ch in "*?[") else [full]
        found += [Path(p) for p in matches if Path(p).is_file() and Path(p) not in found]
    return found


def export_files(contract: Contract, export_name: str) -> list[Path]:
    """Every file of the export a derived dataset comes from, and of the export holding its lines;
    empty when a declared file is missing (the dataset is then missing as a whole)."""
    export = contract.exports[export_name]
    files: list[Path] = []
    for name in [export_name] + ([export.lines] if export.lines else []):
        matched = resolve_export_paths(contract, contract.exports[name].paths)
        if not matched:
            return []
        files += matched
    return files


def _stage_csv(source: Path, encoding: str, target: Path, con: duckdb.DuckDBPyConnection) -> Path:
    """CSV → all-text Parquet. DuckDB reads UTF-8 only, so other encodings are transcoded first,
    streaming, into a temporary UTF-8 file next to the target (never into data/). A file DuckDB
    cannot read in the contract's dialect is read by Python's csv module, which says where it
    breaks (csvfile.py). The path written (another folder's when the cache folder cannot take
    it: `write_file`)."""
    from fupan.data import csvfile

    csvfile.check_start(source)
    utf8_path = source
    tmp_utf8: Path | None = None
    try:
        if encoding in ("gbk", "gb18030", "utf-8-sig"):
            tmp_utf8 = target.with_suffix(".utf8.csv")
            decoder_name = "gb18030" if encoding in ("gbk", "gb18030") else "utf-8-sig"
            with source.open("rb") as src, tmp_utf8.open("w", encoding="utf-8", newline="") as dst:
                reader = codecs.getreader(decoder_name)(src, errors="strict")
                for chunk in iter(lambda: reader.read(1 << 20), ""):
                    dst.write(chunk)
            utf8_path = tmp_utf8
        names = csvfile.header(utf8_path)
        try:
            if csvfile.odd_quotes(utf8_path):
                raise ValueError("a quoted value is never closed")
            return write_file(target, lambda tmp: con.execute(
                f"COPY (SELECT * FROM {csvfile.duckdb_source(utf8_path, names)}) TO {quote_literal(str(tmp))} "
                "(FORMAT parquet)"))
        except (duckdb.Error, ValueError):
            problem = csvfile.diagnose(utf8_path, len(names))
            if problem is not None:
                raise csvfile.CsvProblem(source, problem.reason, problem.hint, problem.row) from None
            return write_file(target, lambda tmp: csvfile.stage_with_python(utf8_path, names, tmp))
    finally:
        if tmp_utf8 is not None:
            tmp_utf8.unlink(missing_ok=True)


def _stage_xlsx(source: Path, sheet: str, target: Path) -> Path:
    """Excel sheet → all-text Parquet, streaming rows with openpyxl's read-only mode (the path
    written, as for `_stage_csv`)."""
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

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, schema) as writer:
            batch: list[tuple] = []
            for row in rows:
                batch.append(tuple(as_text(v) for v in row[: len(headers)]))
                if len(batch) >= 50_000:
                    writer.write_table(pa.Table.from_pylist([dict(zip(headers, r, strict=False)) for r in batch],
                                                            schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist([dict(zip(headers, r, strict=False)) for r in batch], schema))

    try:
        return write_file(target, write)
    finally:
        workbook.close()


@dataclass
class LoadedDataset:
    dataset: Dataset
    files: list[Path]
    scanned: list[Path]  # the Parquet files DuckDB reads (originals or staged copies)
    raw_types: dict[str, str]  # file header → DuckDB type
    missing_headers: list[Column]
    token: str | None = None  # fingerprint of data that is not a local file (Spark URI or table)
    # Headers of text columns in which trimming changes no value (see DataStore._tidy_text).
    tidy_text: frozenset[str] = frozenset()

    @property
    def derived(self) -> bool:
        """Derived from a shop's exports (fupan.intake): its rows name the export's own file and
        row in `_source_file` / `_source_row`."""
        return self.dataset.derived_from is not None

    @property
    def row_columns(self) -> tuple[str, str]:
        """The raw view's columns holding each row's file and row number."""
        return ("_source_file", "_source_row") if self.derived else ("filename", "file_row_number")

    @property
    def header_row_offset(self) -> int:
        """Add to the row number of `row_columns` to get the row a person sees (header is row 1)."""
        if self.derived:
            return 0
        return 2 if self.dataset.format in ("csv", "xlsx") else 1


class UnreadableFile(FupanError, ValueError):
    """A data file that cannot be read as the contract declares it (encoding, sheet, format)."""

    def __init__(self, dataset: Dataset, path: Path, reason: str, hint: str, row: int | None = None):
        self.dataset = dataset
        self.path = path
        self.reason = reason
        self.row = row  # where the file stops being readable, when known (a CSV's row)
        super().__init__(f"{path}: {reason}. Hint: {hint}", location=Location(shown_path(path), row=row), hint=hint)

    def text(self) -> str:
        return self.message  # names the file and gives the hint


def _read_hint(dataset: Dataset, exc: BaseException) -> str:
    if getattr(exc, "hint", None):  # csvfile.CsvProblem knows what is wrong
        return str(exc.hint)
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "encoding" in text.lower() or "unicode" in text.lower():
        other = "gbk" if dataset.encoding.startswith("utf") else "utf-8"
        return (f"the file is not valid {dataset.encoding}; if it was exported by Excel or a Chinese "
                f"back-end, declare `encoding: {other}` for {dataset.name} in data/datasets.yml")
    if "sheet" in text:
        return f"set `sheet:` for {dataset.name} in data/datasets.yml to one of the workbook's sheets"
    return f"check that the file is a valid {dataset.format} file, or fix `format:` in data/datasets.yml"


class DataStore:
    """A raw, a typed and a canonical view for every available dataset, in the backend's
    database (DuckDB by default, or Spark: see backends.py). CSV and Excel files are staged
    with this store's own DuckDB connection (`con`) whatever the backend.

    Files that cannot be read at all are collected in `unreadable` (validation reports them)
    instead of stopping at the first one.
    """

    def __init__(self, contract: Contract, cache_dir: Path, backend=None):
        self.contract = contract
        self.cache_dir = Path(cache_dir)
        # The store's own DuckDB connection stages CSV and Excel files; it is the backend's when
        # none is given. Both connect on first use (DuckDBBackend.con).
        self.backend = backend if backend is not None else DuckDBBackend()
        self._staging = self.backend if backend is None else DuckDBBackend()
        # DuckDB would use up to 80% of RAM; cap it and let big sorts, windows and hash tables
        # spill to the cache folder, so 10M+ order checks and builds stay within a few GB.
        spill = CacheRoot(self.cache_dir).dir("duckdb-spill")
        spill.mkdir(parents=True, exist_ok=True)
        for duck in self._duckdb_backends():
            duck.configure("temp_directory", f"SET temp_directory = {quote_literal(str(spill))}")
        self.set_memory_limit(CHECK_MEMORY_LIMIT)
        self._loaded: dict[str, LoadedDataset] = {}
        self._fingerprints: dict[tuple[str, ...], str] = {}
        self._hashes: dict[Path, str] = {}  # each file's content hash, read once per build
        self.missing: list[str] = []
        self.empty: list[str] = []  # optional datasets whose files have no data row: taken as missing
        self._unreadable: list[UnreadableFile] = []
        # Local files are found now and registered (staged, typed views) on first use: a build
        # whose results all come from the caches never pays for it.
        self._files: dict[str, list[Path]] = {}
        self._registered = False
        self._intake = None  # the exports' derivation (fupan.intake), run with the first query
        tables = getattr(self.backend, "tables", {})
        remote = False
        for dataset in contract.datasets.values():
            source = tables.get(dataset.name) or (dataset.path if is_uri(dataset.path) else None)
            try:
                if source is not None:  # a Spark catalog table or a URI the cluster reads
                    remote = True
                    if not self._remote_exists(dataset, source):
                        self.missing.append(dataset.name)
                        continue
                    self._loaded[dataset.name] = self._register_remote(dataset, source)
                    continue
                files = (export_files(contract, dataset.derived_from) if dataset.derived_from
                         else resolve_files(contract, dataset))
                if not files or self._no_rows(dataset, files):
                    self.missing.append(dataset.name)
                    continue
                self._files[dataset.name] = files
            except self._errors as exc:
                self._unreadable.append(UnreadableFile(dataset, source, str(exc).splitlines()[0][:300],
                                                       _read_hint(dataset, exc)))
        if remote:  # keep the contract's order of datasets in `loaded`
            self.ensure_registered()

    def _no_rows(self, dataset: Dataset, files: list[Path]) -> bool:
        """An optional CSV dataset whose files are empty or hold only their header has no rows:
        it is taken as not provided (its sections show their notice; validation says why)."""
        if dataset.required or dataset.format != "csv" or dataset.derived_from is not None:
            return False
        from fupan.data.csvfile import has_no_rows

        if all(has_no_rows(f, dataset.encoding) for f in files):
            self.empty.append(dataset.name)
            return True
        return False

    def ensure_registered(self) -> None:
        """Register every local dataset's views (once): before any query reads them."""
        if self._registered:
            return
        self._registered = True
        loaded: dict[str, LoadedDataset] = {}
        for dataset in self.contract.datasets.values():
            if dataset.name in self._loaded:
                loaded[dataset.name] = self._loaded[dataset.name]
            files = self._files.get(dataset.name)
            if not files:
                continue
            try:
                if dataset.derived_from is not None:
                    derived = self._derive().files.get(dataset.name)
                    if derived is not None:  # else the intake's problems say why
                        loaded[dataset.name] = self._register(dataset, files, [Path(derived)])
                    continue
                loaded[dataset.name] = self._register(dataset, files)
            except self._errors as exc:
                reason = str(exc).splitlines()[0][:300]
                self._unreadable.append(UnreadableFile(dataset, getattr(exc, "path", None) or files[0], reason,
                                                       _read_hint(dataset, exc), getattr(exc, "row", None)))
        self._loaded = loaded

    @property
    def loaded(self) -> dict[str, LoadedDataset]:
        """The datasets that could be read, by name (registering the local files first)."""
        self.ensure_registered()
        return self._loaded

    @property
    def unreadable(self) -> list[UnreadableFile]:
        """Files that could not be read at all (validation reports them)."""
        self.ensure_registered()
        return self._unreadable

    def available(self) -> set[str]:
        """The datasets whose files exist (without reading them)."""
        return set(self._files) | set(self._loaded)

    # -- public -----------------------------------------------------------------------------
    def set_memory_limit(self, gigabytes: float) -> None:
        """The most memory DuckDB may use before spilling to the cache folder."""
        for duck in self._duckdb_backends():
            duck.set_memory_limit(gigabytes)  # the backend may raise its own (_with_memory)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The store's own DuckDB connection (staging files)."""
        return self._staging.con

    @property
    def _errors(self) -> tuple[type[BaseException], ...]:
        """What reading a file can raise (DuckDB's errors import DuckDB: only when reading)."""
        return (*self._staging.errors, UnicodeDecodeError, ValueError, OSError, *self.backend.errors)

    def _duckdb_backends(self) -> list[DuckDBBackend]:
        return list({id(b): b for b in (self._staging, self.backend)
                     if isinstance(b, DuckDBBackend)}.values())

    def has(self, name: str) -> bool:
        return name in self.loaded

    def fingerprint(self, names: list[str] | tuple[str, ...] | None = None) -> str:
        """Short hash of the named datasets' files (all datasets when None). Memoised: the files
        do not change during a build (a store lives for one build), and the engine asks for
        every query."""
        names = tuple(sorted(names if names is not None else self.contract.datasets))
        if names not in self._fingerprints:
            self._fingerprints[names] = self._fingerprint(names)
        return self._fingerprints[names]

    def _fingerprint(self, names: tuple[str, ...]) -> str:
        digest = hashlib.sha256()
        for name in names:
            digest.update(name.encode())
            derived_from = self.contract.datasets[name].derived_from if name in self.contract.datasets else None
            if derived_from is not None:  # the derivation depends on the declaration too
                digest.update(self._intake_key().encode())
            loaded = self._loaded.get(name)  # remote data: registered at start, with its token
            if loaded is not None and loaded.token is not None:
                digest.update(loaded.token.encode())
            for path in self._files.get(name, []):
                digest.update(path.name.encode())
                digest.update(self.file_hash(path).encode())
        return digest.hexdigest()[:16]

    def file_hash(self, path: Path) -> str:
        """A data file's content hash (`file_hash`), read once for the store's build."""
        if path not in self._hashes:
            self._hashes[path] = file_hash(path)
        return self._hashes[path]

    def query(self, sql: str, params: list | None = None):
        """Run SQL (DuckDB dialect; transpiled for other backends) and return a small pandas
        DataFrame."""
        self.ensure_registered()
        if params:
            return self.con.execute(sql, params).df()
        return self.backend.query(sql)

    def rows(self, sql: str) -> list[tuple]:
        """Run SQL (DuckDB dialect) and return its rows as tuples of Python values."""
        self.ensure_registered()
        return self.backend.rows(sql)

    @property
    def intake(self):
        """The exports' derivation (fupan.intake.derive.IntakeResult): its rules with the rows
        they touched, and its problems; None when the contract declares no exports."""
        if not self.contract.exports:
            return None
        if self._intake is None and any(d.derived_from for d in self.contract.datasets.values()
                                        if d.name in self._files):
            self._derive()
        return self._intake

    def _intake_key(self) -> str:
        """The derivation's cache key: the exports' declarations, their files and the code."""
        from fupan.speed.cache import code_version

        files = sorted({str(p) for name in self._files for p in self._files[name]
                        if self.contract.datasets[name].derived_from})
        return cache_key("intake", code_version(), repr(sorted(self.contract.exports.items())),
                         sorted(self.contract.datasets), [self.file_hash(Path(f)) for f in files])

    def _derive(self):
        """Derive orders, lines and products from the exports once per content (kept in the cache
        folder: a rebuild with the same exports reads the kept Parquet)."""
        if self._intake is not None:
            return self._intake
        from fupan.intake.derive import IntakeResult

        key = self._intake_key()[:24]
        folder = CacheRoot(self.cache_dir).dir("derived") / key
        report = folder / "intake.json"
        kept = read_sealed(report)
        try:
            result = IntakeResult.from_json(kept.decode("utf-8")) if kept is not None else None
            # every file checked: a damaged one is removed, and the derivation made again
            if result is not None and all([sealed_file_ok(Path(f)) for f in result.files.values()]):
                self._intake = result
                return result
        except (ValueError, KeyError, TypeError):
            pass  # not derived yet, or unreadable: derive again
        # Deriving stores tables like the catalogue's models (an export's rows typed, its lines
        # and orders): it gets the computing limit, not the checks' (which would make it spill).
        limit = self._staging.memory_gb
        self._staging.set_memory_limit(max(limit or 0, COMPUTE_MEMORY_LIMIT))
        try:
            return self._derive_into(folder, report, key)
        finally:
            if limit is not None:
                self._staging.set_memory_limit(limit)

    def _derive_into(self, folder: Path, report: Path, key: str):
        """The derivation itself, kept in `folder`. A work folder of its own: two builds deriving
        at once never write into each other's files; the first to finish puts its result in
        place, the other's is dropped."""
        import shutil
        import tempfile

        from fupan.data.problems import Problem
        from fupan.intake.derive import IntakeResult, derive, mapped_headers
        from fupan.intake.reading import UnreadableExport, stage_export

        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{key}-"))
        # The exports are staged for this derivation only: its result is what is kept.
        staged: dict[str, list] = {}
        unreadable = []
        for export in self.contract.exports.values():
            staged[export.name] = []
            for i, path in enumerate(resolve_export_paths(self.contract, export.paths)):
                try:
                    staged[export.name].append(stage_export(
                        path, work / "staged" / f"{export.name}-{i}.parquet", format=export.format,
                        encoding=export.encoding, sheet=export.sheet, con=self.con, keep=mapped_headers(export)))
                except UnreadableExport as exc:  # every unreadable file is reported, then nothing derived
                    unreadable.append(Problem("error", export.name, self.shown(path), "file",
                                              f"cannot be read: {exc.reason}", exc.hint or "", exc.location.line))
        if unreadable:
            shutil.rmtree(work, ignore_errors=True)
            self._intake = IntakeResult(problems=unreadable)
            return self._intake
        declared_products = "products" in self.contract.datasets and \
            self.contract.datasets["products"].derived_from is None
        result = derive(self.contract.exports, staged, self.shown, self.con, work,
                        derive_products=not declared_products)
        shutil.rmtree(work / "staged", ignore_errors=True)
        if not result.errors:
            for file in result.files.values():
                seal_file(Path(file))
            try:
                work.rename(folder)
            except OSError:  # another build put the same result in place first, or a broken one is there
                names = [Path(v).name for v in result.files.values()]
                if all([sealed_file_ok(folder / n) for n in names]):  # each checked (a damaged one goes)
                    shutil.rmtree(work, ignore_errors=True)
                else:
                    shutil.rmtree(folder, ignore_errors=True)
                    work.rename(folder)
            result.files = {k: str(folder / Path(v).name) for k, v in result.files.items()}
            keep(report, result.to_json())
        else:
            shutil.rmtree(work, ignore_errors=True)
        self._intake = result
        return result

    def shown(self, path: Path) -> str:
        """A data file's path as a person sees it: relative to the project folder."""
        try:
            return str(Path(path).relative_to(self.contract.data_dir.parent))
        except ValueError:
            return str(path)

    # -- internals --------------------------------------------------------------------------
    def _stage(self, dataset: Dataset, path: Path) -> Path:
        if dataset.format == "parquet":
            return path
        stage_dir = CacheRoot(self.cache_dir).dir("staged")
        stage_dir.mkdir(parents=True, exist_ok=True)
        key = cache_key(STAGE_VERSION, dataset.format, dataset.encoding, str(dataset.sheet),
                        self.file_hash(path))[:20]
        target = stage_dir / f"{dataset.name}-{key}.parquet"
        if sealed_file_ok(target):  # a damaged one is removed and staged again (never blamed on the data)
            return target
        if dataset.format == "csv":
            return _stage_csv(path, dataset.encoding, target, self.con)
        return _stage_xlsx(path, str(dataset.sheet), target)

    def _register(self, dataset: Dataset, files: list[Path], scanned: list[Path] | None = None) -> LoadedDataset:
        if scanned is None:
            scanned = [self._stage(dataset, f) for f in files]
        raw_types = self.backend.register_parquet(f"{dataset.name}__raw", [str(p) for p in scanned])
        return self._typed_views(LoadedDataset(dataset, files, scanned, raw_types, []))

    def _remote_exists(self, dataset: Dataset, source: str) -> bool:
        if not hasattr(self.backend, "register_uri"):
            raise ValueError(f"{source}: a URI or catalog table needs `engine: spark` in extra.review")
        if dataset.name in getattr(self.backend, "tables", {}):
            return self.backend.table_exists(source)
        if dataset.format != "parquet":
            raise ValueError(f"{source}: data at a URI must be Parquet (convert the {dataset.format} file, "
                             "keep it as a local file, or register it as a table)")
        return self.backend.exists(source)

    def _register_remote(self, dataset: Dataset, source: str) -> LoadedDataset:
        view = f"{dataset.name}__raw"
        if dataset.name in getattr(self.backend, "tables", {}):
            raw_types, token = self.backend.register_table(view, source)
        else:
            raw_types, token = self.backend.register_uri(view, source)
        return self._typed_views(LoadedDataset(dataset, [], [], raw_types, [], token=token))

    def _typed_views(self, loaded: LoadedDataset) -> LoadedDataset:
        """`<name>__typed` (the raw columns plus each typed column, for validation) and the
        canonical `<name>`, in the backend's dialect."""
        dataset, raw_types, dialect = loaded.dataset, loaded.raw_types, self.backend.dialect
        loaded.missing_headers = [c for c in dataset.columns.values() if c.header not in raw_types]
        loaded.tidy_text = self._tidy_text(loaded)
        typed = [
            f"{conversion_sql(col, raw_types.get(col.header), dialect, tidy=col.header in loaded.tidy_text)} "
            f"AS {quote_ident(typed_name(col), dialect)}"
            for col in dataset.columns.values()
        ]
        self.backend.create_view(
            f"{dataset.name}__typed",
            f"SELECT *, {', '.join(typed)} FROM {self.backend.ref(f'{dataset.name}__raw')}")
        canonical = [f"{quote_ident(typed_name(col), dialect)} AS {quote_ident(col.name, dialect)}"
                     for col in dataset.columns.values()]
        file_col, row_col = (quote_ident(c, dialect) for c in loaded.row_columns)
        self.backend.create_view(
            dataset.name,
            f"SELECT {', '.join(canonical)}, {row_col} AS _row, {file_col} AS _file "
            f"FROM {self.backend.ref(f'{dataset.name}__typed')}")
        return loaded

    def _tidy_text(self, loaded: LoadedDataset) -> frozenset[str]:
        """Headers of the dataset's text columns in which no value is empty or starts or ends
        with a space: trimming would change nothing there, so their typed columns read the text
        as it is. Trimming every value is costly on large files, and a cold build scans them
        several times (checks, keys, references, both stored models); finding the tidy columns
        costs one such scan, and the finding is kept in the cache folder by the files' content
        (local DuckDB data only)."""
        headers = sorted({c.header for c in loaded.dataset.columns.values()
                          if loaded.raw_types.get(c.header) == "VARCHAR"})
        if loaded.derived:  # every text value was cleaned when derived (intake.values.clean_text_sql)
            return frozenset(headers)
        if not headers or self.backend.name != "duckdb" or not loaded.files:
            return frozenset()
        dataset = loaded.dataset
        key = cache_key(TIDY_VERSION, STAGE_VERSION, dataset.name, dataset.format, dataset.encoding,
                        dataset.sheet, headers, self.fingerprint([dataset.name]))
        path = CacheRoot(self.cache_dir).dir("tidy") / f"{key[:32]}.json"
        data = read_sealed(path)
        try:
            kept = json.loads(data) if data is not None else None
            if isinstance(kept, list) and set(kept) <= set(headers):
                return frozenset(kept)
        except ValueError:
            pass  # not found yet, or unreadable: look again
        untidy = ", ".join(f"BOOL_OR({untidy_text_sql(quote_ident(h))}) AS u{i}" for i, h in enumerate(headers))
        flags = self.backend.rows(f"SELECT {untidy} FROM {self.backend.ref(f'{dataset.name}__raw')}")[0]
        tidy = [h for h, flag in zip(headers, flags, strict=True) if not flag]  # NULL: no values
        keep(path, json.dumps(tidy, ensure_ascii=False))
        return frozenset(tidy)


def typed_name(col: Column) -> str:
    """The typed column's name in the `<dataset>__typed` view."""
    return f"__typed__{col.name}"


_TRIMMED_SPACES = (" ", "\u00a0", "\u3000")


def trimmed_text_sql(expr: str, dialect: str = "duckdb") -> str:
    """The value as text without surrounding spaces; NULL when blank."""
    text = _text_sql(expr, dialect)
    # TRIM builds a new string for every row (3 s per 22M values, paid by every query reading
    # the column); most values have nothing to trim, so trim only those that start or end with
    # a space: ASCII, no-break or ideographic (全角). Rarer Unicode spaces are left in place.
    edges = _edge_space_sql(text)
    return f"(CASE WHEN {edges} THEN NULLIF(TRIM({text}), '') WHEN {text} = '' THEN NULL ELSE {text} END)"


def untidy_text_sql(expr: str) -> str:
    """True for a value that `trimmed_text_sql` changes: empty, or starting or ending with a
    space it trims. A column where this holds for no value is the same trimmed or not."""
    text = _text_sql(expr)
    return f"({text} = '' OR {_edge_space_sql(text)})"


def _text_sql(expr: str, dialect: str = "duckdb") -> str:
    return f"CAST({expr} AS {'STRING' if dialect == 'spark' else 'VARCHAR'})"


def _edge_space_sql(text: str) -> str:
    return " OR ".join(f"{text} LIKE {quote_literal(p)}" for c in _TRIMMED_SPACES for p in (c + "%", "%" + c))


def cleaned_text_sql(col: Column, expr: str, dialect: str = "duckdb", tidy: bool = False) -> str:
    """Trim text, turn empty into NULL, and apply the declared cleaning rules. `tidy`: no value
    of the column is empty or has a space to trim (`DataStore._tidy_text`), so none is trimmed."""
    out = _text_sql(expr, dialect) if tidy else trimmed_text_sql(expr, dialect)
    if "thousands" in col.clean:  # the separator is the mark that is not the decimal one
        out = f"REPLACE({out}, {quote_literal('.' if col.decimal == ',' else ',')}, '')"
    if col.decimal == "," and col.type == "decimal":  # a decimal comma (1.234,50): as SQL reads numbers
        out = f"REPLACE({out}, ',', '.')"
    if "currency" in col.clean:
        flags = "" if dialect == "spark" else ", 'g'"  # Spark replaces every match
        out = f"TRIM(REGEXP_REPLACE({out}, '[¥￥$]|RMB|CNY|元', ''{flags}))"
    return out


def conversion_sql(col: Column, raw_type: str | None, dialect: str = "duckdb", tidy: bool = False) -> str:
    """SQL that turns the raw column into the canonical type; NULL where it cannot. `tidy`: the
    raw text needs no trimming (see `cleaned_text_sql`).

    The one piece of SQL written per dialect (the parsing functions differ and do not
    transpile); `spark_conversion_sql` mirrors this function rule for rule."""
    if dialect == "spark":
        return spark_conversion_sql(col, raw_type)
    sql_type = SQL_TYPES[col.type]
    if raw_type is None:
        return f"CAST(NULL AS {sql_type})"
    src = quote_ident(col.header)
    if raw_type != "VARCHAR":
        return f"TRY_CAST({src} AS {sql_type})"
    text = cleaned_text_sql(col, src, tidy=tidy)
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
        return boolean_sql(text)
    raise ValueError(f"unsupported column type {col.type!r}")


SPARK_SQL_TYPES = {
    "string": "STRING", "integer": "BIGINT", "decimal": "DOUBLE", "date": "DATE",
    "timestamp": "TIMESTAMP", "boolean": "BOOLEAN",
}
_PATTERN_FIELDS = {"%Y": ("yyyy", "yyyy"), "%m": ("M", "MM"), "%d": ("d", "dd"), "%H": ("H", "HH"),
                   "%M": ("m", "mm"), "%S": ("s", "ss")}


def boolean_sql(text: str) -> str:
    """A yes/no text as a boolean (the same SQL in DuckDB and Spark); other words give NULL."""
    trues = ", ".join(quote_literal(w) for w in TRUE_WORDS)
    falses = ", ".join(quote_literal(w) for w in FALSE_WORDS)
    return f"CASE WHEN LOWER({text}) IN ({trues}) THEN TRUE WHEN LOWER({text}) IN ({falses}) THEN FALSE END"


def spark_pattern(strptime_format: str) -> str:
    """A DuckDB strptime format as a Spark datetime pattern. DuckDB's %m %d %H %M %S read one
    or two digits, like Spark's single letters; fields written without a separator between
    them (%Y%m%d) have fixed widths in both."""
    tokens = re.findall(r"%[A-Za-z]|[^%]+", strptime_format)
    out = []
    for i, token in enumerate(tokens):
        if token in _PATTERN_FIELDS:
            flexible, fixed = _PATTERN_FIELDS[token]
            glued = any(0 <= j < len(tokens) and tokens[j] in _PATTERN_FIELDS for j in (i - 1, i + 1))
            out.append(fixed if glued else flexible)
        elif token.startswith("%"):
            raise ValueError(f"no Spark pattern for {token!r} in {strptime_format!r}")
        else:
            out.append(token if all(ch in "-/.: " for ch in token) else "'" + token.replace("'", "''") + "'")
    return "".join(out)


def spark_conversion_sql(col: Column, raw_type: str | None) -> str:
    """`conversion_sql` in Spark SQL, with DuckDB's results: text to BIGINT rounds a decimal
    half away from zero ('1.5' → 2, '1e3' → 1000), a DOUBLE column half to even, as DuckDB
    does; dates and times try the same formats
    in the same order (COALESCE of TRY_TO_TIMESTAMP, the session being UTC)."""
    sql_type = SPARK_SQL_TYPES[col.type]
    if raw_type is None:
        return f"CAST(NULL AS {sql_type})"
    src = quote_ident(col.header, "spark")
    if raw_type != "VARCHAR":
        if col.type == "integer" and (raw_type in ("DOUBLE", "FLOAT") or raw_type.startswith("DECIMAL")):
            return f"TRY_CAST(BROUND({src}) AS BIGINT)"  # DuckDB rounds half to even; Spark truncates
        return f"TRY_CAST({src} AS {sql_type})"
    text = cleaned_text_sql(col, src, "spark")
    if col.type == "string":
        return text
    if col.type == "integer":
        return (f"COALESCE(TRY_CAST({text} AS BIGINT), "
                f"TRY_CAST(ROUND(TRY_CAST({text} AS DECIMAL(38, 9))) AS BIGINT))")
    if col.type == "decimal":
        if "percent" in col.clean:
            return (
                f"CASE WHEN RIGHT({text}, 1) = '%' "
                f"THEN TRY_CAST(TRIM(TRAILING '%' FROM {text}) AS DOUBLE) / 100 "
                f"ELSE TRY_CAST({text} AS DOUBLE) END"
            )
        return f"TRY_CAST({text} AS DOUBLE)"
    if col.type in ("date", "timestamp"):
        formats = DATE_FORMATS if col.type == "date" else TIMESTAMP_FORMATS
        parsed = ", ".join(f"TRY_TO_TIMESTAMP({text}, {quote_literal(spark_pattern(f))})" for f in formats)
        return f"CAST(COALESCE({parsed}) AS DATE)" if col.type == "date" else f"COALESCE({parsed})"
    if col.type == "boolean":
        return boolean_sql(text)
    raise ValueError(f"unsupported column type {col.type!r}")
