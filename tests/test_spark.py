"""The review computed on Apache Spark (local mode) equals DuckDB's: every metric, every
analysis, every data-check message and every page of the site.

One Spark session serves the module (local[2], few shuffle partitions, no UI); the reviews find
it as the active session. Spark needs a JVM: without `java` the module is skipped, never
otherwise (CI installs Java and `.[test]` installs pyspark).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import math
import re
import shutil
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import SOURCE_DATE_EPOCH
from fupan.config import ConfigError, review_config
from fupan.data.backends import _set_runtime_conf, exact, to_spark_sql
from fupan.data.contract import load_contract
from fupan.data.store import DataStore, spark_pattern
from fupan.data.validation import validate
from fupan.semantics import analyses
from fupan.semantics.periods import comparison_period, parse_period
from fupan.site.context import build_review
from tiny import REPO, lines_frame, make_project, orders_frame, write_tiny_data, write_tiny_extras

SPARK = {"name": "spark", "master": "local[2]"}
Y2025 = parse_period("2025")
QUARTER, MONTH = parse_period("2025-Q2"), parse_period("2025-06")
AS_OF = parse_period("2025", dt.date(2025, 11, 30))
# Settings for a quick local session on small data: few shuffle partitions, no UI, and neither
# adaptive re-planning nor generated code (compiling it costs more than these small queries).
SESSION_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: PySpark's local mode needs a JVM (Java 17+)")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("fupan-tests")
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# ---- comparing results ---------------------------------------------------------------------------

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def assert_same_value(expected, got, exact: bool, where: str) -> None:
    """Counts exactly, amounts and rates within 1e-9 relative; missing equals missing."""
    if _missing(expected) or _missing(got):
        assert _missing(expected) and _missing(got), f"{where}: DuckDB {expected!r}, Spark {got!r}"
    elif exact:
        assert got == expected, f"{where}: DuckDB {expected!r}, Spark {got!r}"
    else:
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), f"{where}: DuckDB {expected!r}, Spark {got!r}"


def assert_same_validation(duck, on_spark) -> None:
    """The data contract's checks: the same checks, failures and report text."""
    assert on_spark.validation.checks == duck.validation.checks
    assert on_spark.validation.text() == duck.validation.text()


def assert_same_frame(expected: pd.DataFrame, got: pd.DataFrame, where: str) -> None:
    """Same columns, types, row order and values (floats within 1e-9 relative)."""
    try:
        pd.testing.assert_frame_equal(expected.reset_index(drop=True), got.reset_index(drop=True),
                                      check_exact=False, rtol=1e-9, atol=1e-12)
    except AssertionError as exc:
        raise AssertionError(f"{where}: {exc}") from None


def assert_same_result(expected, got, where: str) -> None:
    if isinstance(expected, pd.DataFrame):
        assert_same_frame(expected, got, where)
    elif dataclasses.is_dataclass(expected):
        for field in dataclasses.fields(expected):
            assert_same_result(getattr(expected, field.name), getattr(got, field.name), f"{where}.{field.name}")
    else:
        assert_same_value(expected, got, isinstance(expected, int), where)


def is_count(review, metric_id: str) -> bool:
    return review.catalogue.metrics[metric_id].unit == "count"


# ---- every analysis, called the same way on both engines ---------------------------------------

ANALYSIS_ARGS = {"period": Y2025, "year": 2025, "plan_year": 2026, "metric": "net_sales"}


def every_analysis() -> dict[str, object]:
    """The public analyses of macros/analyses.py (functions taking the engine first)."""
    found = {}
    for name, fn in inspect.getmembers(analyses, inspect.isfunction):
        params = list(inspect.signature(fn).parameters)
        if fn.__module__ == analyses.__name__ and not name.startswith("_") and params[:1] == ["engine"]:
            found[name] = fn
    return found


def call_analysis(fn, engine, period=Y2025):
    kwargs = {}
    for name, param in list(inspect.signature(fn).parameters.items())[1:]:
        if param.default is not inspect.Parameter.empty:
            continue
        assert name in ANALYSIS_ARGS, f"{fn.__name__}: how to call it? (argument {name!r})"
        kwargs[name] = period if name == "period" else ANALYSIS_ARGS[name]
    return fn(engine, **kwargs)


def test_every_analysis_is_called():
    assert len(every_analysis()) >= 20
    for fn in every_analysis().values():
        required = [n for n, p in list(inspect.signature(fn).parameters.items())[1:]
                    if p.default is inspect.Parameter.empty]
        assert set(required) <= set(ANALYSIS_ARGS), fn.__name__


# ---- the tiny shop with every optional file: each metric and analysis ----------------------------

@pytest.fixture(scope="module")
def tiny(spark, tmp_path_factory):
    """DuckDB and Spark reviews of the same tiny project. On Spark, `orders` comes from a table
    of the session's catalog instead of the file (the `tables:` setting)."""
    project = tmp_path_factory.mktemp("spark-tiny") / "project"
    write_tiny_data(project / "data")
    write_tiny_extras(project / "data")
    spark.read.parquet(str(project / "data" / "orders.parquet")).createOrReplaceTempView("shop_orders")
    settings = {"year": 2025, "min_group_size": 1}
    duck = build_review({"review": settings}, project)
    on_spark = build_review({"review": {**settings, "engine": {**SPARK, "tables": {"orders": "shop_orders"}}}},
                            project)
    assert on_spark.store.backend.name == "spark" and duck.store.backend.name == "duckdb"
    return duck, on_spark


def test_tiny_validation_is_the_same(tiny):
    assert_same_validation(*tiny)


def test_tiny_every_metric(tiny):
    """Every metric of the catalogue, each aggregate by its own query on Spark (ratios and
    derived metrics combine them) for the year; and for the prior year, a quarter, a month and
    a year to date (as_of) with its prior year, fetched in one query per model."""
    duck, on_spark = tiny
    kinds = {m: duck.catalogue.metrics[m].kind for m in duck.catalogue.metrics}
    metrics = sorted(kinds, key=lambda m: (kinds[m] not in ("aggregate", "per_entity"), m))
    fetched = [comparison_period(Y2025, "yoy"), QUARTER, MONTH, AS_OF, comparison_period(AS_OF, "yoy")]
    on_spark.engine.prefetch(metrics, fetched)
    for metric in metrics:
        for period in [Y2025, *fetched]:
            assert_same_value(duck.engine.value(metric, period), on_spark.engine.value(metric, period),
                              is_count(duck, metric), f"{metric} {period}")
    # Each model's rows were computed once: a persisted view on Spark, a Parquet file on DuckDB.
    stored = on_spark.engine.model_files._sources.values()
    assert any(s.startswith("SELECT * FROM model__sales_lines_") for s in stored), stored
    assert all("read_parquet" in s for s in duck.engine.model_files._sources.values())


def test_tiny_breakdowns(tiny):
    duck, on_spark = tiny
    for metric, by in [("net_sales", ("month",)), ("buyers", ("platform",)), ("roi", ("channel",)),
                       ("net_sales", ("quarter",)), ("aov", ("member_level",)), ("complaints", ("date",)),
                       ("avg_inventory_value", ("category",)), ("csat", ("csat_score",))]:
        assert_same_frame(duck.engine.compute(metric, Y2025, by), on_spark.engine.compute(metric, Y2025, by),
                          f"{metric} by {by}")
    assert_same_frame(duck.engine.compare_by("net_sales", Y2025, ("category",)),
                      on_spark.engine.compare_by("net_sales", Y2025, ("category",)), "compare_by")


def test_tiny_every_analysis(tiny):
    duck, on_spark = tiny
    for name, fn in every_analysis().items():
        assert_same_result(call_analysis(fn, duck.engine), call_analysis(fn, on_spark.engine), name)
    whole = parse_period("2024-01-01..2025-12-31")
    assert_same_frame(analyses.cohort_retention(duck.engine, whole),
                      analyses.cohort_retention(on_spark.engine, whole), "cohorts 2024–2025")
    profiles = [pd.DataFrame(r.engine.profiles()).drop(columns="files") for r in (duck, on_spark)]
    assert_same_frame(*profiles, "profiles")


# ---- a contract violation: the same messages -------------------------------------------------------

def break_the_data(data: Path) -> None:
    """Several rules broken at once, in CSV (staged) and Parquet files."""
    (data / "products.csv").write_text(
        "商品编码,商品名称,品类,子品类,标价,单位成本,上市日期,评分\n"
        "P1,坚果礼盒,零食,零食,\"¥1,234.50\",4,2025年6月18日,4.5\n"
        "P2,收纳箱,家居,家居,abc,30,2023/1/1,6\n"
        "P3,茶,饮品,,12%,5,20250618,\n"
        "P4,杯子,家居,,10,-1,2025-13-01,3\n", encoding="utf-8")
    orders = orders_frame()
    orders.loc[1, "平台"] = "天描"
    orders.loc[2, "实付金额"] = -12345678.9  # a DOUBLE below the minimum: shown as DuckDB writes it
    orders.to_parquet(data / "orders.parquet", index=False)
    lines = lines_frame()
    lines.loc[0, "商品编码"] = "P9"
    lines.loc[3, "行号"] = 1  # a second O3 line 1
    lines["数量"] = 0  # every line below the minimum of 1: more than the cap
    lines.to_parquet(data / "order_lines.parquet", index=False)


def test_contract_violations_give_the_same_report(spark, tmp_path):
    """Also the path for a cluster that cannot see this machine's files: they are sent to it."""
    data = write_tiny_data(tmp_path / "project" / "data")
    break_the_data(data)
    contract = load_contract(data / "datasets.yml")
    cache = tmp_path / "project" / ".cache" / "fupan"
    duck_store = DataStore(contract, cache)
    backend = make_spark_backend()
    backend.reads_local_files = False  # as with a remote master: upload the local files
    spark_store = DataStore(contract, cache, backend)
    duck, on_spark = validate(duck_store, cap=3), validate(spark_store, cap=3)
    assert len(duck.errors) >= 8, duck.text()
    assert on_spark.problems == duck.problems
    assert on_spark.checks == duck.checks and on_spark.more == duck.more
    assert on_spark.text() == duck.text()
    assert "value '-12345678.9'" in duck.text()
    # The canonical table (cleaning rules, date spellings) is the same too.
    sql = "SELECT * FROM products ORDER BY _row"
    assert_same_frame(duck_store.query(sql), spark_store.query(sql), "canonical products")


def test_parquet_at_a_uri(spark, tmp_path):
    """A contract path the cluster resolves (here file://): read by Spark, fingerprinted by its
    files' metadata, and the same rows and checks as the local file."""
    local = write_tiny_data(tmp_path / "local")
    contract = yaml.safe_load((local / "datasets.yml").read_text(encoding="utf-8"))
    contract["datasets"] = {k: v for k, v in contract["datasets"].items() if k in ("orders", "order_lines", "products")}
    for spec in contract["datasets"].values():
        for column in spec["columns"].values():
            if str(column.get("references", "")).split(".")[0] not in contract["datasets"]:
                column.pop("references", None)
    (local / "datasets.yml").write_text(yaml.safe_dump(contract, allow_unicode=True), encoding="utf-8")
    remote = tmp_path / "remote"
    remote.mkdir()
    shutil.copy(local / "products.csv", remote / "products.csv")
    for name in ("orders", "order_lines"):
        contract["datasets"][name]["path"] = (local / f"{name}.parquet").as_uri()
    (remote / "datasets.yml").write_text(yaml.safe_dump(contract, allow_unicode=True), encoding="utf-8")
    duck = DataStore(load_contract(local / "datasets.yml"), tmp_path / "cache")
    stores = [DataStore(load_contract(remote / "datasets.yml"), tmp_path / "cache", make_spark_backend())
              for _ in range(2)]
    assert stores[0].loaded["order_lines"].token == stores[1].loaded["order_lines"].token is not None
    assert stores[0].fingerprint() == stores[1].fingerprint()
    sql = "SELECT order_id, line_no, sku, quantity, line_amount, _row FROM order_lines ORDER BY _row"
    assert_same_frame(duck.query(sql), stores[0].query(sql), "order_lines from a URI")
    duck_report, spark_report = validate(duck), validate(stores[0])
    assert spark_report.errors == duck_report.errors == []
    assert [(c.check, c.failures) for c in spark_report.checks] == [(c.check, c.failures) for c in duck_report.checks]


def make_spark_backend():
    from fupan.config import EngineConfig
    from fupan.data.backends import make_backend

    return make_backend(EngineConfig("spark", "local[2]"))


# ---- the whole site, byte for byte -------------------------------------------------------------------

def build_site(project: Path, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mkdocs build --strict` in this process (so it finds this module's Spark session)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    monkeypatch.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
    monkeypatch.delenv("FUPAN_SITE_URL", raising=False)
    build(load_config(str(project / "mkdocs.yml"), site_dir=str(site), strict=True))


def test_site_is_identical_on_spark(spark, tmp_path, monkeypatch):
    # The tiny shop with every optional file, so every section of every chapter renders.
    project = make_project(tmp_path / "project", lambda data: write_tiny_extras(write_tiny_data(data)))
    config = project / "mkdocs.yml"
    build_site(project, tmp_path / "duckdb", monkeypatch)
    text = config.read_text(encoding="utf-8")
    assert re.search(r"^  review:\n", text, re.M)
    config.write_text(text.replace("\n  review:\n", '\n  review:\n    engine: {name: spark, master: "local[2]"}\n'),
                      encoding="utf-8")
    build_site(project, tmp_path / "spark", monkeypatch)
    pages = sorted(p.relative_to(tmp_path / "duckdb") for p in (tmp_path / "duckdb").rglob("*.html"))
    assert len(pages) > 5
    assert pages == sorted(p.relative_to(tmp_path / "spark") for p in (tmp_path / "spark").rglob("*.html"))
    different = [str(p) for p in pages
                 if (tmp_path / "duckdb" / p).read_bytes() != (tmp_path / "spark" / p).read_bytes()]
    assert different == []
    results = project / ".cache" / "fupan" / "results"
    assert len(list(results.rglob("*.json"))) > 0


def test_exact_sums_agree_with_decimal_arithmetic(spark):
    """Spark adds exact sums as scaled integers (backends._exact_sum_on_spark): the same sum
    and average as decimal arithmetic, to the twelfth decimal, for fractions, negative values,
    whole numbers and the contract's largest value; an overflowing sum is an error."""
    values = [0.1, 0.2, -0.3, 2191 / 365.25, -1 / 3, 7.0, 1e12, -0.000000000001, 123456.789]
    spark.createDataFrame([(v, 1) for v in values] + [(None, 1)], "x DOUBLE, g INT") \
        .createOrReplaceTempView("exact_sums")
    sql = f"SELECT SUM({exact('x')}) AS s, AVG({exact('x')}) AS a, SUM({exact('g')}) AS n FROM exact_sums"
    row = spark.sql(to_spark_sql(sql, {})).collect()[0]
    twelve = [Decimal(v).quantize(Decimal("1e-12"), ROUND_HALF_EVEN) for v in values]
    assert row.s == float(sum(twelve))
    assert row.a == pytest.approx(float(sum(twelve) / len(values)), rel=1e-15)
    assert row.n == 10
    spark.createDataFrame([(9e11,)] * 20, "x DOUBLE").createOrReplaceTempView("exact_overflow")
    overflow = to_spark_sql(f"SELECT SUM({exact('x')}) AS s FROM exact_overflow", {})
    _set_runtime_conf(spark, {})
    with pytest.raises(Exception, match="(?i)overflow"):
        spark.sql(overflow).collect()


# ---- settings and the SQL layer (no Spark needed) ----------------------------------------------------

def test_engine_setting():
    assert review_config({"review": {"year": 2025}}, REPO).engine.name == "duckdb"
    engine = review_config({"review": {"year": 2025, "engine": {
        "name": "spark", "master": "sc://spark.example:15002", "tables": {"orders": "sales.orders"}}}}, REPO).engine
    assert (engine.name, engine.master, engine.tables) == ("spark", "sc://spark.example:15002",
                                                           {"orders": "sales.orders"})
    assert review_config({"review": {"year": 2025, "engine": "spark"}}, REPO).engine.master == "local[*]"
    for bad, message in [("sparky", "not an engine"), ({"name": "spark", "mastr": "local"}, 'Did you mean "master"'),
                         ({"name": "flink"}, 'unknown engine "flink"'), ({"name": "spark", "master": "http://x"},
                                                                          "not a Spark master")]:
        with pytest.raises(ConfigError, match=message):
            review_config({"review": {"year": 2025, "engine": bad}}, REPO)


def test_unknown_table_dataset_is_a_config_error(tmp_path):
    project = tmp_path / "project"
    write_tiny_data(project / "data")
    with pytest.raises(ConfigError, match='Did you mean "orders"'):
        build_review({"review": {"year": 2025, "engine": {**SPARK, "tables": {"order": "x"}}}}, project)


def test_spark_patterns_and_portable_rules():
    assert spark_pattern("%Y-%m-%d %H:%M:%S") == "yyyy-M-d H:m:s"
    assert spark_pattern("%Y%m%d") == "yyyyMMdd"
    assert spark_pattern("%Y年%m月%d日") == "yyyy'年'M'月'd'日'"
    assert spark_pattern("%Y-%m-%dT%H:%M:%S") == "yyyy-M-d'T'H:m:s"
    sql = to_spark_sql("SELECT SUM(x) AS s, AVG(y / 365.25) AS a FROM orders o WHERE o.sku IN () ORDER BY 1",
                       {"orders": "fupan1_orders"})
    assert sql == ("SELECT CAST(SUM(x) AS DOUBLE) AS s, AVG(y / CAST(365.25 AS DOUBLE)) AS a "
                   "FROM `fupan1_orders` AS o WHERE FALSE ORDER BY 1 NULLS LAST")


# ---- the committed sample company ------------------------------------------------------------------

SAMPLE_DIMS = ("platform", "category", "channel")


@pytest.fixture(scope="module")
def sample(spark, tmp_path_factory):
    """The repo's data/ (the site's settings: min_group_size 5), each engine with its own cache.
    These tests come last: on 10^5 rows generated code pays off, so it is turned back on."""
    spark.conf.set("spark.sql.codegen.wholeStage", "true")
    spark.conf.set("spark.sql.codegen.factoryMode", "FALLBACK")
    cache = tmp_path_factory.mktemp("spark-sample")
    settings = {"year": 2025, "data_dir": str(REPO / "data")}
    duck = build_review({"review": {**settings, "cache_dir": str(cache / "duckdb")}}, REPO)
    on_spark = build_review({"review": {**settings, "cache_dir": str(cache / "spark"), "engine": SPARK}}, REPO)
    return duck, on_spark


def test_sample_validation_is_the_same(sample):
    assert_same_validation(*sample)


def test_sample_every_metric(sample):
    """Every metric for the year with its YoY comparison, by month and by platform, category or
    channel where it has them. Spark computes them with one query per model (`prefetch`; DuckDB
    too, to keep this affordable): the numbers must agree. Shorter periods are compared on the
    tiny shop (test_tiny_every_metric): each period is one more copy of every distinct count's
    rows in Spark's plan, minutes on these 10^5 rows."""
    duck, on_spark = sample
    metrics = sorted(duck.catalogue.metrics)
    dims = {m: duck.catalogue.dimensions_of(m, duck.engine.available) for m in metrics}
    # each metric is compared by month and by the first of SAMPLE_DIMS it has: only those are fetched
    chosen = {m: next((d for d in SAMPLE_DIMS if d in dims[m]), None) for m in metrics}
    for engine in (duck.engine, on_spark.engine):
        engine.prefetch(metrics, [Y2025, comparison_period(Y2025, "yoy")])
        engine.prefetch([m for m in metrics if "month" in dims[m]], Y2025, ("month",))
        for dim in SAMPLE_DIMS:
            engine.prefetch([m for m in metrics if chosen[m] == dim], Y2025, (dim,))
    for metric in metrics:
        counted = is_count(duck, metric)
        a, b = duck.engine.compare(metric, Y2025), on_spark.engine.compare(metric, Y2025)
        for part in ("value", "base", "change"):
            assert_same_value(getattr(a, part), getattr(b, part), counted and part != "change",
                              f"{metric} {Y2025} {part}")
        by_dim = chosen[metric]
        for by in [("month",)] * ("month" in dims[metric]) + [(by_dim,)] * (by_dim is not None):
            assert_same_frame(duck.engine.compute(metric, Y2025, by), on_spark.engine.compute(metric, Y2025, by),
                              f"{metric} by {by}")


def test_sample_every_analysis(sample):
    duck, on_spark = sample
    for name, fn in every_analysis().items():
        assert_same_result(call_analysis(fn, duck.engine), call_analysis(fn, on_spark.engine), name)
