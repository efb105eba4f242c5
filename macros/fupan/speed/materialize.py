"""Each model's rows, computed once and kept for the build's queries.

Metric queries select from a model: a join of datasets with their cleaning rules, plus window
columns such as a buyer's first order. Recomputing that join for every one of a build's
hundreds of queries was most of the build time, and scanning its stored rows costs next to
nothing. So the first query that needs a model stores the model's rows, and every query reads
them instead:

* on DuckDB, in `<cache>/models/<model>-<data>-<sql>.parquet`, written atomically
  (`write_atomically`) and kept across builds until the model's data changes (files for
  another data version of the same model are removed when a new one is written);
* on Spark, as a persisted temporary view: the rows stay on the cluster (memory, spilling to
  its disks), and only aggregates come back, as before.

The result cache is keyed by the logical SQL (the model's own query), so cached results stay
valid whether or not a model's rows are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fupan.data.store import quote_literal
from fupan.speed.cache import CacheRoot, cache_key, sealed_file_ok, write_file


class ModelFiles:
    """Swaps the models' SQL in a query for their stored rows, storing them when missing."""

    def __init__(self, backend: Any, cache_dir: Path, fingerprint: Callable[[list[str]], str]):
        self.backend = backend
        self.dir = CacheRoot(cache_dir).dir("models")
        self.fingerprint = fingerprint
        self._models: dict[str, tuple[str, list[str]]] = {}  # model SQL -> (model name, datasets)
        self._sources: dict[str, str] = {}  # model SQL -> the query reading its stored rows

    def register(self, sql: str, model: str, datasets: list[str]) -> None:
        """Remember a model query the engine generated, so `physical` can recognise it."""
        self._models.setdefault(sql, (model, list(datasets)))

    def physical(self, sql: str) -> str:
        """`sql` with each registered model query in it replaced by a scan of its stored rows."""
        for model_sql in sorted(self._models, key=len, reverse=True):  # the longest first
            if model_sql in sql:
                sql = sql.replace(model_sql, self._stored(model_sql))
        return sql

    def is_stored(self, model_sql: str) -> bool:
        """Whether a registered model's rows are stored already (in this build, or on disk for
        this version of its data), so reading them costs a scan and not the model's join."""
        if model_sql in self._sources:
            return True
        if model_sql not in self._models or self.backend.name != "duckdb":
            return False
        model, datasets = self._models[model_sql]
        return self._path(model, self.fingerprint(datasets), model_sql).exists()

    def _stored(self, model_sql: str) -> str:
        """A query reading the model's stored rows (storing them first if needed)."""
        if model_sql not in self._sources:
            model, datasets = self._models[model_sql]
            if self.backend.name == "duckdb":
                path = self._file(model, self.fingerprint(datasets), model_sql)
                self._sources[model_sql] = f"SELECT * FROM read_parquet({quote_literal(str(path))})"
            else:
                view = f"model__{model}_{_query_hash(model_sql)}"
                self.backend.persist_view(view, model_sql)
                self._sources[model_sql] = f"SELECT * FROM {view}"
        return self._sources[model_sql]

    def _path(self, model: str, data: str, model_sql: str) -> Path:
        return self.dir / f"{model}-{data}-{_query_hash(model_sql)}.parquet"

    def _file(self, model: str, data: str, model_sql: str) -> Path:
        path = self._path(model, data, model_sql)
        if not sealed_file_ok(path):  # missing, or damaged (then removed)
            written = write_file(path, lambda tmp: self.backend.copy_to_parquet(model_sql, str(tmp)))
            if written != path:  # the cache folder could not take it
                return written
            for old in self.dir.glob(f"{model}-*.parquet*"):
                if not old.name.startswith(f"{model}-{data}-"):  # an older version of the data
                    old.unlink(missing_ok=True)
        return path


def _query_hash(model_sql: str) -> str:
    return cache_key(model_sql)[:16]
