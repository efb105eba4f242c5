"""Models stored once per data version (materialize.py): same numbers, fresh after a data change."""

import math

import pandas as pd
import pytest
from fupan.semantics.periods import comparison_period, parse_period
from fupan.site.context import build_review
from tiny import tiny_review, users_frame, write_tiny_extras

Y2025, Y2024 = parse_period("2025"), parse_period("2024")


def model_files(review) -> list[str]:
    return sorted(p.name for p in (review.store.cache_dir / "models").glob("*.parquet"))


def test_a_model_is_stored_once_and_read_from_its_file(tmp_path):
    review = tiny_review(tmp_path)
    assert model_files(review) == []
    assert review.engine.value("net_sales", Y2025) == 206.0  # by hand: tiny.py
    stored = model_files(review)
    assert len(stored) == 1 and stored[0].startswith("sales_lines-")
    assert review.engine.value("units", Y2025) == 11.0  # 3 + 1 + 2 + 1 + 4
    assert review.engine.value("net_sales", Y2024) == 70.0  # O1 20 + O2 50
    assert model_files(review) == stored  # the same rows for every period and metric
    # The query sent to DuckDB reads the file; the cache key stays the model's own SQL.
    sql = review.engine.metric_sql(review.catalogue.metrics["units"], Y2025, (), {})
    assert "read_parquet" not in sql and "read_parquet" in review.engine._physical(sql)


def test_every_metric_is_the_same_with_and_without_stored_models(tmp_path):
    stored = tiny_review(tmp_path / "a", extras=True)
    direct = tiny_review(tmp_path / "b", extras=True)
    direct.engine.model_files = None  # every query recomputes the model's join, as before
    base = comparison_period(Y2025, "yoy")
    for metric in sorted(stored.catalogue.metrics):
        for period in (Y2025, base):
            a, b = stored.engine.value(metric, period), direct.engine.value(metric, period)
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-12), (metric, period, a, b)
    for metric, by in [("net_sales", ("month",)), ("buyers", ("platform",)), ("aov", ("member_level",))]:
        pd.testing.assert_frame_equal(stored.engine.compute(metric, Y2025, by),
                                      direct.engine.compute(metric, Y2025, by))
    assert {f.split("-")[0] for f in model_files(stored)} >= {"sales_lines", "paid_orders", "inventory"}
    assert model_files(direct) == []


def test_a_data_change_replaces_the_stored_rows(tmp_path):
    review = tiny_review(tmp_path)
    review.engine.value("net_sales", Y2025)
    before = model_files(review)
    data = review.config.project_dir / "data"
    users = users_frame()
    users.loc[users["买家ID"] == "U1", "出生年份"] = 2000
    users.to_parquet(data / "users.parquet", index=False)
    again = build_review({"review": {"company": "测试", "year": 2025, "min_group_size": 1}}, review.config.project_dir)
    assert again.engine.value("net_sales", Y2025) == 206.0
    after = model_files(again)
    assert len(after) == 1 and after != before  # the old version is gone, not left to pile up


@pytest.mark.parametrize(("year", "expected"), [
    # U1 born 2000: 25 in 2025 (O3 70 + O5 10), 24 in 2024 (O1 20); U2, U3 born 1990.
    (Y2025, {"25–30岁": 80.0, "31–40岁": 126.0}),
    (Y2024, {"18–24岁": 20.0, "31–40岁": 50.0}),
])
def test_age_band_is_the_age_in_the_period_year(tmp_path, year, expected):
    review = tiny_review(tmp_path)
    users = users_frame()
    users.loc[users["买家ID"] == "U1", "出生年份"] = 2000
    users.to_parquet(review.config.project_dir / "data" / "users.parquet", index=False)
    write_tiny_extras(review.config.project_dir / "data")
    review = build_review({"review": {"company": "测试", "year": 2025, "min_group_size": 1}}, review.config.project_dir)
    frame = review.engine.compute("net_sales", year, ("age_band",))
    assert dict(zip(frame["age_band"], frame["value"], strict=True)) == expected
    assert len(model_files(review)) == 1  # one stored model serves both years


# A query DuckDB cannot spill: one list of 10M numbers (80 MB) under a 10 MB limit.
_UNSPILLABLE = "SELECT len(list(i)) FROM range(10000000) t(i)"


def test_duckdb_out_of_memory_retries_with_more_memory(monkeypatch):
    """A plan that does not fit the limit (and cannot spill) runs again with the limit doubled,
    and the build goes on; beyond 3/4 of the machine's memory the error stands."""
    import duckdb
    from fupan.data import backends

    backend = backends.DuckDBBackend()
    backend.set_memory_limit(0.01)
    with pytest.raises(duckdb.OutOfMemoryException):
        backend.con.execute(_UNSPILLABLE)  # the plain connection: out of memory
    assert backend.rows(_UNSPILLABLE) == [(10_000_000,)]
    assert backend.memory_gb > 0.01

    small = backends.DuckDBBackend()
    small.set_memory_limit(0.01)
    monkeypatch.setattr(backends, "machine_memory_gb", lambda: 0.02)  # no room to grow
    with pytest.raises(duckdb.OutOfMemoryException):
        small.rows(_UNSPILLABLE)


def test_a_model_is_stored_joining_in_the_written_order(tmp_path):
    """The model's joins run in the order the catalogue writes them (fact table first), not
    the optimizer's: its estimates put all 10M orders in two hash tables at once and ran out
    of memory. Checked in DuckDB's own profile of the COPY; the rows are the query's, and the
    optimizer is back on afterwards."""
    import json

    from fupan.data import backends

    backend = backends.DuckDBBackend()
    con = backend.con
    con.execute("CREATE TABLE f AS SELECT i AS id, i % 1000 AS k1, i % 20000 AS k2 FROM range(50000) t(i)")
    con.execute("CREATE TABLE d1 AS SELECT i AS k1, 'n' || i AS name FROM range(1000) t(i)")
    con.execute("CREATE TABLE d2 AS SELECT i AS k2, 'm' || i AS label FROM range(20000) t(i)")
    # The selective filter on d1 makes the optimizer join f with d1 first.
    query = ("SELECT f.id, d2.label, d1.name FROM f JOIN d2 ON f.k2 = d2.k2 "
             "JOIN d1 ON f.k1 = d1.k1 WHERE d1.name = 'n7'")

    def joins(run) -> list[str]:
        profile = tmp_path / "profile.json"
        con.execute("SET enable_profiling = 'json'")
        con.execute(f"SET profiling_output = '{profile}'")
        run()
        con.execute("PRAGMA disable_profiling")
        found: list[str] = []

        def walk(node: dict) -> None:
            if node["name"] == "HASH_JOIN":
                found.append(node["extra_info"]["Conditions"])
            for child in node.get("children", []):
                walk(child)

        walk(json.loads(profile.read_text())["operator"][0])
        return found  # outermost join first

    out = tmp_path / "model.parquet"
    assert joins(lambda: con.execute(f"COPY ({query}) TO '{tmp_path / 'plain.parquet'}'")) == ["k2 = k2", "k1 = k1"]
    assert joins(lambda: backend.copy_to_parquet(query, str(out))) == ["k1 = k1", "k2 = k2"]
    stored = sorted(con.execute(f"SELECT * FROM read_parquet('{out}')").fetchall())
    assert stored == sorted(con.execute(query).fetchall())
    assert len(stored) == 50 and {name for _, _, name in stored} == {"n7"}
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone() == ("",)
    with pytest.raises(backend.errors):
        backend.copy_to_parquet("SELECT no_such_column FROM f", str(tmp_path / "bad.parquet"))
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone() == ("",)
