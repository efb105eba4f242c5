"""Each model's rows, computed once per data version and kept as Parquet in the cache.

Metric queries select from a model: a join of datasets with their cleaning rules, plus window
columns such as a buyer's first order. Recomputing that join for every one of a build's
hundreds of queries was most of the build time (profile of the sample site: 191 ms per query
over the `sales_lines` join, 1 ms over its stored rows). So, on DuckDB, the first query that
needs a model writes the model's rows to `<cache>/models/<model>-<data>-<sql>.parquet`
(atomically: a temporary file renamed into place) and every query reads that file instead.

The result cache is keyed by the logical SQL (the model's own query), so cached results stay
valid whether or not the model's file exists. Files for another data version of the same model
are removed when a new one is written. Spark keeps the data on the cluster: not used there.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import duckdb

from .loading import quote_literal


class ModelFiles:
    """Swaps the models' SQL in a query for their stored rows, writing them when missing."""

    def __init__(self, con: duckdb.DuckDBPyConnection, cache_dir: Path,
                 fingerprint: Callable[[list[str]], str]):
        self.con = con
        self.dir = Path(cache_dir) / "models"
        self.fingerprint = fingerprint
        self._models: dict[str, tuple[str, list[str]]] = {}  # model SQL -> (model name, datasets)
        self._files: dict[str, Path] = {}  # model SQL -> its file, once written or found

    def register(self, sql: str, model: str, datasets: list[str]) -> None:
        """Remember a model query the engine generated, so `physical` can recognise it."""
        self._models.setdefault(sql, (model, list(datasets)))

    def physical(self, sql: str) -> str:
        """`sql` with each registered model query in it replaced by a scan of its stored rows."""
        for model_sql in sorted(self._models, key=len, reverse=True):  # the longest first
            if model_sql in sql:
                path = self._file(model_sql)
                sql = sql.replace(model_sql, f"SELECT * FROM read_parquet({quote_literal(str(path))})")
        return sql

    def _file(self, model_sql: str) -> Path:
        if model_sql in self._files:
            return self._files[model_sql]
        model, datasets = self._models[model_sql]
        data = self.fingerprint(datasets)
        query = hashlib.sha256(model_sql.encode()).hexdigest()[:16]
        path = self.dir / f"{model}-{data}-{query}.parquet"
        if not path.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
            try:
                self.con.execute(f"COPY ({model_sql}) TO {quote_literal(str(tmp))} (FORMAT parquet)")
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            for old in self.dir.glob(f"{model}-*.parquet"):
                if not old.name.startswith(f"{model}-{data}-"):  # an older version of the data
                    old.unlink(missing_ok=True)
        self._files[model_sql] = path
        return path
