"""Where the review's SQL runs: DuckDB in this process (the default) or Apache Spark.

Every query of the metric engine, the analyses and the validation is written once, in the
DuckDB dialect of a portable SQL subset (see macros/metrics.yml). A backend

* registers each dataset's files (or, on Spark, a catalog table) as a raw view, and the typed
  and canonical views built from it with SQL that `loading.py` writes in the backend's own
  dialect (the only per-dialect SQL: the parsing of text into numbers, dates and times);
* runs a query and returns its (small, aggregated) result as pandas, with the same Python
  types whatever the engine: temporal values as pandas Timestamps, integers as int, sums as
  float (DuckDB sums integers into HUGEINT, which pandas receives as float).

On Spark the DuckDB SQL is transpiled with sqlglot, with four portable rules applied to the
syntax tree: dataset names point at this store's temporary views (prefixed, so two stores — or
the user's own tables — never collide), decimal literals are DOUBLE (Spark would otherwise do
fixed-point division, 2191 / 365.25 = 5.998631), SUM is DOUBLE as in DuckDB, exact sums
(EXACT) add scaled integers, and an empty `IN ()` is FALSE. Only
aggregated results leave the cluster: a query returning more than `max_result_rows` rows is an
error rather than a download.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
import uuid
from decimal import Decimal
from typing import Any

from fupan.config import ConfigError
from fupan.speed.lazy import lazy_import

pd = lazy_import("pandas")

log = logging.getLogger("mkdocs.plugins.fupan")
MAX_RESULT_ROWS = 200_000
_SPARK_TYPES = {
    "string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT",
    "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT", "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP", "boolean": "BOOLEAN",
}
_COUNTER = itertools.count(1)


class BackendError(ConfigError):
    """The engine cannot be started or used as configured (with what to do about it)."""

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message, key="extra.review.engine", hint=hint)


def is_uri(path: str) -> bool:
    """A contract path the cluster resolves (hdfs://, s3a://, abfss://, file:/...)."""
    return "://" in path or path.startswith("file:")


class DuckDBBackend:
    """Today's behaviour: one in-process DuckDB connection."""

    name = "duckdb"
    dialect = "duckdb"
    reads_local_files = True

    def __init__(self, con: Any = None):
        # Importing DuckDB and connecting wait for the first statement: a rebuild whose
        # results all come from the caches never runs one. Settings made before are applied
        # on connecting.
        self._con = con
        self._settings: dict[str, str] = {}

    @property
    def con(self) -> Any:
        """The DuckDB connection (connected on first use)."""
        if self._con is None:
            import duckdb

            self._con = duckdb.connect()
            for statement in self._settings.values():
                self._con.execute(statement)
        return self._con

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        import duckdb

        return (duckdb.Error,)

    def configure(self, setting: str, statement: str) -> None:
        """A `SET` statement for `setting`: run now when connected, else on connecting."""
        self._settings[setting] = statement
        if self._con is not None:
            self._con.execute(statement)

    def ref(self, view: str) -> str:
        return quote_ident(view, "duckdb")

    def register_parquet(self, view: str, paths: list[str]) -> dict[str, str]:
        files = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
        self.con.execute(
            f"CREATE OR REPLACE VIEW {self.ref(view)} AS SELECT * "
            f"FROM read_parquet({files}, file_row_number=true, filename=true, union_by_name=true)"
        )
        return {row[0]: row[1] for row in self.con.execute(f"DESCRIBE {self.ref(view)}").fetchall()}

    def create_view(self, view: str, select_sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW {self.ref(view)} AS {select_sql}")

    def query(self, sql: str) -> pd.DataFrame:
        return self._with_memory(lambda: self.con.execute(sql).df(), sql)

    def rows(self, sql: str) -> list[tuple]:
        return self._with_memory(lambda: self.con.execute(sql).fetchall(), sql)

    def execute(self, sql: str) -> None:
        """Run a statement (e.g. a COPY) for its effect."""
        self._with_memory(lambda: self.con.execute(sql), sql)

    def copy_to_parquet(self, select_sql: str, path: str) -> None:
        """Write a query's rows to a Parquet file, joining in the order the query is written.

        Used for the catalogue's models, which are written fact table first, then the tables
        it looks up (orders, products, users). DuckDB's join-order optimizer misjudges their
        filters (`paid_at IS NOT NULL` keeps ~all orders but is estimated at a fifth), so at
        10M orders it put all orders in two hash tables at once (orders joined to users, then
        that joined to the order lines): out of memory under 3 GB. In the written order the
        same model takes 28 s and 2.5 GB of RSS, instead of failing and being run again
        with 6 GB."""
        def copy() -> None:
            self.con.execute("SET disabled_optimizers = 'join_order'")
            try:
                self.con.execute(f"COPY ({select_sql}) TO {quote_literal(path)} (FORMAT parquet)")
            finally:
                self.con.execute("RESET disabled_optimizers")

        self._with_memory(copy, f"COPY ({select_sql}) TO {quote_literal(path)}")

    # -- memory ------------------------------------------------------------------------------
    memory_gb: float | None = None  # the limit set through set_memory_limit

    def set_memory_limit(self, gigabytes: float) -> None:
        """The most memory DuckDB may use before spilling to disk."""
        self.memory_gb = gigabytes
        self.configure("memory_limit", memory_limit_sql(gigabytes))

    def _with_memory(self, work: Any, sql: str) -> Any:
        """`work()`; when DuckDB runs out of memory under its limit, again with the limit
        doubled, up to 3/4 of the machine's RAM. Not every plan spills: the full review's
        order-lines model (22M lines joined to orders, products and users) failed under 3 GB
        and fit under 6 GB. A slower, bigger build beats a failed one.

        Each statement's time goes to the debug log (`mkdocs build -v`), to see where a slow
        build spends it."""
        import duckdb

        while True:
            try:
                started = time.perf_counter()
                result = work()
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("fupan: %.3f s in DuckDB: %s", time.perf_counter() - started,
                              " ".join(sql.split())[:300])
                return result
            except duckdb.OutOfMemoryException:
                grown = (self.memory_gb or 0) * 2
                if not self.memory_gb or grown > machine_memory_gb() * 0.75:
                    raise
                log.info("fupan: DuckDB ran out of memory under %g GB; trying again with %g GB",
                         self.memory_gb, grown)
                self.set_memory_limit(grown)


def memory_limit_sql(gigabytes: float) -> str:
    """The DuckDB statement that caps a connection's memory (beyond it, DuckDB spills)."""
    return f"SET memory_limit = '{gigabytes:g}GB'"


def machine_memory_gb() -> float:
    """Physical memory of this machine in GB (0 when unknown)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        return 0.0


_PERSISTED: list[Any] = []  # Spark DataFrames kept by persist_view, across backends of one process


class SparkBackend:
    """Spark in local mode, on a cluster (spark://, yarn, k8s://) or through Spark Connect (sc://).

    Datasets are temporary views of this Spark session: Parquet files read by Spark where they
    are (local paths in local mode; the contract's URIs on a cluster), CSV/Excel files through
    the all-text Parquet copy the DataStore stages locally, or a table of the Spark catalog
    (`tables:`). With a remote master, local files are sent to the cluster once per build.
    """

    name = "spark"
    dialect = "spark"
    batch_queries = True  # every query costs Spark jobs: the engine shares queries where it can

    def __init__(self, master: str = "local[*]", tables: dict[str, str] | None = None,
                 conf: dict[str, str] | None = None, session: Any = None,
                 max_result_rows: int = MAX_RESULT_ROWS):
        self.master = master
        self.tables = dict(tables or {})
        self.conf = {str(k): str(v) for k, v in (conf or {}).items()}
        self.max_result_rows = int(max_result_rows)
        self.reads_local_files = master.startswith("local")
        self.prefix = f"fupan{next(_COUNTER)}_{uuid.uuid4().hex[:8]}_"
        self.views: dict[str, str] = {}  # logical name (orders, orders__raw, ...) → temp view
        self.spark = session if session is not None else start_session(master, self.conf)
        # A new build (e.g. `mkdocs serve` rebuilding): release the rows earlier builds kept.
        # Their views still work, recomputed on use.
        while _PERSISTED:
            _PERSISTED.pop().unpersist()
        _set_runtime_conf(self.spark, self.conf)
        self.errors = _spark_errors()

    # -- names ---------------------------------------------------------------------------------
    def ref(self, view: str) -> str:
        return quote_ident(self._physical(view), "spark")

    def _physical(self, view: str) -> str:
        return self.views.setdefault(view, self.prefix + view)

    # -- registering data -----------------------------------------------------------------------
    def _finish_raw(self, view: str, frame: Any) -> dict[str, str]:
        frame.createOrReplaceTempView(self._physical(view))
        return {f.name: spark_type_name(f.dataType.simpleString()) for f in frame.schema.fields}

    def register_parquet(self, view: str, paths: list[str]) -> dict[str, str]:
        """Local Parquet files (originals or staged copies), one read per file so `filename`
        is the path exactly as DuckDB reports it."""
        from pyspark.sql import functions as F

        frames = []
        for path in paths:
            if self.reads_local_files:
                frame = self.spark.read.parquet(path).select(
                    "*", F.col("_metadata.row_index").alias("file_row_number"))
            else:
                frame = self._upload(path)
            frames.append(frame.withColumn("filename", F.lit(str(path))))
        combined = frames[0]
        for frame in frames[1:]:
            combined = combined.unionByName(frame, allowMissingColumns=True)
        return self._finish_raw(view, combined)

    def _upload(self, path: str) -> Any:
        """A local file the cluster cannot see, sent from this machine with its column types
        (rows in file order)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        table = table.append_column("file_row_number", pa.array(range(table.num_rows), pa.int64()))
        schema = ", ".join(f"{quote_ident(f.name, 'spark')} {_arrow_to_spark(f.type)}" for f in table.schema)
        rows = list(zip(*[column.to_pylist() for column in table.columns], strict=True))
        return self.spark.createDataFrame(rows, schema=schema)

    def exists(self, uri: str) -> bool:
        try:
            self.spark.read.parquet(uri).schema  # noqa: B018 - resolving the path is the check
        except self.errors as exc:
            if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in str(exc):
                return False
            raise
        return True

    def register_uri(self, view: str, uri: str) -> tuple[dict[str, str], str]:
        """Parquet at a URI the cluster reads (a file, folder or glob); returns raw types and a
        fingerprint of the files (path, size, modification time)."""
        from pyspark.sql import functions as F

        files = self.spark.read.option("mergeSchema", "true").parquet(uri)
        frame = files.select("*", F.col("_metadata.row_index").alias("file_row_number"),
                             F.col("_metadata.file_path").alias("filename"))
        return self._finish_raw(view, frame), self._file_fingerprint(files)

    def table_exists(self, table: str) -> bool:
        return bool(self.spark.catalog.tableExists(table))

    def register_table(self, view: str, table: str) -> tuple[dict[str, str], str]:
        """A table of the Spark catalog. Rows are numbered by the table's files where Spark
        exposes them (file-based tables), else in the table's scan order."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        frame = self.spark.table(table)
        try:
            meta = frame.select("_metadata").schema.fields[0].dataType.fieldNames()
        except self.errors:
            meta = []
        if "row_index" in meta and "file_path" in meta:
            fingerprint = self._file_fingerprint(frame)
            frame = frame.select("*", F.col("_metadata.row_index").alias("file_row_number"),
                                 F.col("_metadata.file_path").alias("filename"))
        else:
            fingerprint = "unversioned-" + uuid.uuid4().hex  # no file metadata: no reuse across builds
            order = Window.orderBy(F.monotonically_increasing_id())
            frame = frame.select("*", (F.row_number().over(order) - 1).alias("file_row_number"),
                                 F.lit(table).alias("filename"))
        return self._finish_raw(view, frame), fingerprint

    def _file_fingerprint(self, frame: Any) -> str:
        """Files, sizes and modification times (a metadata-only aggregate, one row per file)."""
        files = frame.select("_metadata.file_path", "_metadata.file_size",
                             "_metadata.file_modification_time").distinct().orderBy("file_path")
        digest = hashlib.sha256()
        for row in files.limit(self.max_result_rows).collect():
            digest.update("|".join(str(v) for v in row).encode())
        return digest.hexdigest()

    def create_view(self, view: str, select_sql: str) -> None:
        self.spark.sql(select_sql).createOrReplaceTempView(self._physical(view))

    def persist_view(self, view: str, select_sql: str) -> None:
        """A view of `select_sql` (DuckDB dialect) whose rows Spark computes once, on first use,
        and keeps on the cluster (memory, spilling to disk). Rows kept for an earlier build in
        this session are released when the next build's backend starts (see __init__)."""
        frame = self.spark.sql(self.translate(select_sql)).persist()
        frame.createOrReplaceTempView(self._physical(view))
        _PERSISTED.append(frame)

    # -- queries ---------------------------------------------------------------------------------
    def translate(self, sql: str) -> str:
        return to_spark_sql(sql, {name: phys for name, phys in self.views.items()})

    def _collect(self, sql: str) -> tuple[list[str], list[Any], list[tuple]]:
        from pyspark.sql import functions as F

        frame = self.spark.sql(self.translate(sql))
        fields = frame.schema.fields
        temporal = [f.dataType.simpleString() in ("date", "timestamp", "timestamp_ntz") for f in fields]
        if any(temporal):  # as text in the session's time zone (UTC): no local-time conversion
            frame = frame.select(*[
                F.date_format(F.col(f"`{f.name}`"), "yyyy-MM-dd HH:mm:ss.SSSSSS").alias(f.name) if t
                else F.col(f"`{f.name}`") for f, t in zip(fields, temporal, strict=True)])
        rows = frame.limit(self.max_result_rows + 1).collect()
        if len(rows) > self.max_result_rows:
            raise BackendError(
                f"a query returned more than {self.max_result_rows} rows; only aggregated results "
                "are brought back from Spark. Query:\n" + sql)
        return [f.name for f in fields], temporal, [tuple(r) for r in rows]

    def query(self, sql: str) -> pd.DataFrame:
        """The result as pandas, typed as DuckDB's `.df()` would give it."""
        names, temporal, rows = self._collect(sql)
        columns = {}
        for i in range(len(names)):
            values = [_plain_value(r[i]) for r in rows]
            columns[i] = pd.to_datetime(pd.Series(values, dtype=object)) if temporal[i] else values
        frame = pd.DataFrame(columns)
        frame.columns = names
        if not rows:
            frame = pd.DataFrame({n: pd.Series(dtype="datetime64[us]" if t else object)
                                  for n, t in zip(names, temporal, strict=True)})
        return frame

    def query_many(self, sqls: list[str], workers: int = 4) -> list[pd.DataFrame]:
        """Independent queries side by side: Spark schedules their jobs concurrently, so the
        fixed cost of each (planning, scheduling, small stages) overlaps."""
        from concurrent.futures import ThreadPoolExecutor

        if len(sqls) < 2:
            return [self.query(sql) for sql in sqls]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self.query, sqls))

    def rows(self, sql: str) -> list[tuple]:
        """The result as tuples of Python values (DuckDB's `fetchall`)."""
        _, temporal, rows = self._collect(sql)
        out = []
        for row in rows:
            out.append(tuple(
                (None if v is None else pd.Timestamp(v).to_pydatetime()) if t else _plain_value(v)
                for v, t in zip(row, temporal, strict=True)))
        return out


# ---- Spark session ---------------------------------------------------------------------------

def start_session(master: str, conf: dict[str, str]) -> Any:
    """The Spark session for `master`: an existing active session is reused (tests, `mkdocs
    serve` rebuilds); local mode gets a quiet, UI-less session with few shuffle partitions."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BackendError("extra.review.engine is spark but pyspark is not installed: "
                           "pip install 'fupan[spark]' (Java 17+ is needed for local mode)") from None
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        builder = SparkSession.builder.master(master).appName("fupan")
        defaults = {"spark.ui.showConsoleProgress": "false"}
        if master.startswith("local"):
            defaults.update({"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4",
                             "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"})
        for key, value in {**defaults, **conf}.items():
            builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing, master unreachable, ...
        raise BackendError(f"cannot start Spark with master {master!r}: {str(exc).splitlines()[0][:300]}. "
                           "Hint: local mode needs Java 17+ (java -version); a cluster or Spark Connect "
                           "server must be reachable from this machine") from None
    if not master.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    return session


def _set_runtime_conf(spark: Any, conf: dict[str, str]) -> None:
    """Settings the results depend on: times are wall-clock (UTC session) like DuckDB's
    TIMESTAMP, date patterns parse with the current parser, and arithmetic is ANSI (Spark 4's
    default, which the SQL is tested under): an integer sum that overflows is an error, never a
    wrapped-around number."""
    for key, value in {"spark.sql.session.timeZone": "UTC",
                       "spark.sql.legacy.timeParserPolicy": "CORRECTED",
                       **{k: v for k, v in conf.items() if k.startswith("spark.sql.")},
                       "spark.sql.ansi.enabled": "true"}.items():
        spark.conf.set(key, value)


def _spark_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    try:
        from pyspark.errors import PySparkException

        errors.append(PySparkException)
    except ImportError:  # pragma: no cover - pyspark < 3.4
        pass
    try:
        from py4j.protocol import Py4JError

        errors.append(Py4JError)
    except ImportError:  # pragma: no cover - Spark Connect without py4j
        pass
    return tuple(errors)


def _arrow_to_spark(kind: Any) -> str:
    """A Parquet (Arrow) column type as a Spark DDL type."""
    import pyarrow as pa

    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_floating(kind):
        return "DOUBLE" if pa.types.is_float64(kind) else "FLOAT"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP" if kind.tz else "TIMESTAMP_NTZ"
    if pa.types.is_decimal(kind):
        return f"DECIMAL({kind.precision}, {kind.scale})"
    return "STRING"


def spark_type_name(simple: str) -> str:
    """A Spark type as the DuckDB type name the loaders compare with (VARCHAR, BIGINT, ...)."""
    if simple.startswith("decimal"):
        return simple.upper()
    return _SPARK_TYPES.get(simple, simple.upper())


# ---- the portable SQL layer -------------------------------------------------------------------

# Sums and averages add exact decimals, never floating-point numbers: a parallel engine adds a
# column's parts in whatever order its threads finish, and floating-point addition depends on
# the order (the last digits of the same sum differed between two builds; rounding a result
# only moves the problem to values near the rounding edge). Decimal addition is integer
# addition: the same sum in any order. Twelve decimals hold money (cents) and counts exactly
# and a fraction (years of tenure, seconds) to far below what any page or figure shows; 26
# digits before the point hold any sum of the contract's numbers (each at most MAX_ABS = 1e12).
# Rounding each value to fewer decimals (money's 2 or 4) would round those fractions visibly
# in figures.json. Spark adds 38-digit decimals through Java's BigDecimal, which made its
# widest query twice as slow, so there they become two integer sums (`_exact_sum_on_spark`).
EXACT = "DECIMAL(38, 12)"
# Spark's exact sum: each value times 10^6 split into its whole part and the next six digits,
# each added as BIGINT (the same twelve decimals; overflow is an error under ANSI, pinned on).
_SCALE = 1_000_000


def exact(expr: str) -> str:
    """`expr` as an exact decimal (EXACT), for sums and averages whose order must not matter."""
    return f"CAST({expr} AS {EXACT})"


def _exact_sum_on_spark(node: Any) -> Any:
    """`SUM(CAST(x AS EXACT))` (or AVG) as integer sums that Spark adds without BigDecimal:
    (SUM(high) + SUM(low) / 10^6) / 10^6 with high = FLOOR(x · 10^6) and low the next six
    digits, so the result agrees with DuckDB's decimal sum to its twelfth decimal. None when
    `node` is not such an aggregate."""
    import sqlglot
    from sqlglot import exp

    cast = node.this
    if not (isinstance(cast, exp.Cast) and cast.to.sql(dialect="duckdb") == EXACT):
        return None
    value = cast.this.sql(dialect="duckdb")
    scaled = f"(({value}) * {_SCALE})"
    high = f"CAST(FLOOR{scaled} AS BIGINT)"
    low = f"CAST(ROUND(({scaled} - FLOOR{scaled}) * {_SCALE}) AS BIGINT)"
    total = f"((SUM({high}) + SUM({low}) / {_SCALE}) / {_SCALE})"
    if isinstance(node, exp.Avg):
        total = f"({total} / NULLIF(COUNT({value}), 0))"
    return sqlglot.parse_one(total, read="duckdb")


def to_spark_sql(sql: str, views: dict[str, str]) -> str:
    """DuckDB-dialect SQL → Spark SQL (sqlglot) with the portable rules of this module."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        name = table.name
        if table.args.get("db") or name in ctes or name not in views:
            continue
        alias = table.alias
        table.set("this", exp.to_identifier(views[name], quoted=True))
        if not alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(name, quoted=True)))
    for test in list(tree.find_all(exp.In)):  # DuckDB reads `x IN ()` as false; Spark rejects it
        if not test.expressions and not test.args.get("query") and not test.args.get("unnest"):
            test.replace(exp.false())
    for total in list(tree.find_all(exp.Sum, exp.Avg)):
        if isinstance(total.parent, exp.Window):
            continue  # a window over exact sums is not written anywhere; it keeps the decimals
        scaled = _exact_sum_on_spark(total)
        if scaled is not None:
            total.replace(scaled)
    for literal in list(tree.find_all(exp.Literal)):
        if not literal.is_string and any(c in literal.name for c in ".eE"):
            literal.replace(exp.cast(literal.copy(), "DOUBLE"))
    for total in list(tree.find_all(exp.Sum)):
        target = total.parent if isinstance(total.parent, exp.Window) else total
        if isinstance(target.parent, exp.Cast) and target.parent.to.this == exp.DataType.Type.DOUBLE:
            continue
        target.replace(exp.cast(target.copy(), "DOUBLE"))
    return tree.sql(dialect="spark")


def _plain_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def quote_ident(name: str, dialect: str = "duckdb") -> str:
    """An identifier quoted for the backend's SQL dialect."""
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A string literal (the same on every backend)."""
    return "'" + str(value).replace("'", "''") + "'"


def make_backend(engine: Any, con: Any = None) -> DuckDBBackend | SparkBackend:
    """The backend an `extra.review.engine` setting (config.EngineConfig) asks for."""
    if engine is None or engine.name == "duckdb":
        return DuckDBBackend(con)
    return SparkBackend(engine.master, engine.tables, engine.conf)
