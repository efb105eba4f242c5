"""The metric engine: turns catalogue definitions into SQL, runs it, and combines the results.

Aggregates are computed in the database (DuckDB by default) with SQL written once in a portable
subset; ratios and derived metrics are combined from those small aggregated results. No
order-level row ever reaches pandas. Every query result is cached on disk by content.
"""

from __future__ import annotations

import ast
import datetime as dt
import logging
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fupan.data.contract import split_hint, unknown_name_message
from fupan.data.store import DataStore, quote_literal
from fupan.errors import FupanError, Location
from fupan.semantics.catalogue import AGGS, Catalogue, Metric, Model, alias_of, referenced_names
from fupan.semantics.periods import Period, comparison_period, month_keys
from fupan.semantics.sql import Step, exact, lookup_sql, step_sql
from fupan.speed.cache import ResultCache, code_version
from fupan.speed.lazy import lazy_import
from fupan.speed.materialize import ModelFiles
from fupan.speed.rollup import RollUps, agreement_sql

pd = lazy_import("pandas")
np = lazy_import("numpy")
log = logging.getLogger("mkdocs.plugins.fupan")

OTHER_GROUP = "其他"
# A people expression the privacy check can bound (Engine._small_values), and the share of
# people the lower bound counts: those whose hash is 0 modulo this.
_DISTINCT_COLUMN = re.compile(r"COUNT\(DISTINCT ([A-Za-z_][A-Za-z0-9_]*)\)", re.IGNORECASE)
_PEOPLE_SAMPLE = 16
_ALL_TIME = Period(dt.date(1900, 1, 1), dt.date(2999, 12, 31), "custom")
TIME_DIM_SQL = {
    "month": "DATE_TRUNC('month', {t})",
    "quarter": "DATE_TRUNC('quarter', {t})",
    "year": "DATE_TRUNC('year', {t})",
    "date": "CAST({t} AS DATE)",
}


class MetricError(FupanError, ValueError):
    """A writer asked for something the catalogue cannot answer (with valid choices)."""

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None):
        super().__init__(message, location=location, hint=hint or split_hint(message)[1])


class MissingData(FupanError, LookupError):
    """An optional dataset a metric needs is not present in data/."""

    def __init__(self, datasets: list[str], paths: list[str]):
        self.datasets = datasets
        self.paths = paths
        super().__init__(f"missing optional dataset(s): {', '.join(datasets)} ({', '.join(paths)})",
                         location=Location(paths[0]) if paths else None)


@dataclass(frozen=True)
class Comparison:
    """A metric's value, its comparison value, and the change between them."""

    metric: Metric
    value: float | None
    base: float | None
    change: float | None  # fraction for amounts, difference for rates (see metric.is_rate)
    period: Period
    base_period: Period | None


def _period_values(period: Period) -> dict[str, str]:
    return {
        "start": f"DATE {quote_literal(period.start.isoformat())}",
        "end": f"DATE {quote_literal(period.end.isoformat())}",
        "end_excl": f"DATE {quote_literal(period.end_exclusive.isoformat())}",
        "year": str(period.end.year),
        "days": str(period.days),
    }


def _hashable_filters(filters: dict[str, Any]) -> tuple:
    """Filters as a sorted tuple usable as a dict key (a list of wanted values becomes a
    sorted tuple; `_where` reads both alike)."""
    return tuple(sorted((dim, tuple(sorted(map(str, wanted))) if isinstance(wanted, (list, tuple, set)) else wanted)
                        for dim, wanted in filters.items()))


def _agg_sql(agg: str, expr: str) -> str:
    """A catalogue aggregate over `expr`; sums and averages over exact decimals (backends.EXACT)."""
    return AGGS[agg].format(exact(expr) if agg in ("sum", "avg") else expr)


def _fill(sql: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        sql = sql.replace("{" + name + "}", value)
    return sql


def format_time_key(dim: str, value: Any) -> Any:
    """Time buckets as stable text keys: 2025-06, 2025-Q2, 2025-06-18, 2025."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    ts = pd.Timestamp(value)
    if dim == "month":
        return f"{ts.year:04d}-{ts.month:02d}"
    if dim == "quarter":
        return f"{ts.year:04d}-Q{(ts.month - 1) // 3 + 1}"
    if dim == "year":
        return f"{ts.year:04d}"
    return ts.date().isoformat()


class Engine:
    """Computes catalogue metrics for periods, breakdowns and filters."""

    def __init__(self, store: DataStore, catalogue: Catalogue, cache: ResultCache, min_group_size: int = 0,
                 use_roll_ups: bool = True):
        self.store = store
        self.catalogue = catalogue
        self.cache = cache
        self.available = store.available()
        # Breakdowns by a dimension that describes people never show a group of fewer people
        # than this: such groups are merged into OTHER_GROUP (privacy; see `describes: people`
        # and the model's `people` expression in metrics.yml).
        self.min_group_size = int(min_group_size)
        # Periods a breakdown is being compared with (set by compare_by): small groups merge
        # the same way on both sides of the comparison.
        self._privacy_with: tuple[Period, ...] = ()
        self._computed: dict[tuple, pd.DataFrame] = {}
        self._months_seen: dict[tuple[str, Period], frozenset[str]] = {}  # every KPI card asks again
        self._valid_requests: set[tuple] = set()
        # Each model's rows are computed once and stored (materialize.py).
        self.model_files: ModelFiles | None = ModelFiles(store.backend, store.cache_dir, store.fingerprint)
        # Distinct counts a coarser model answers with the same number (rollup.py); off only
        # to compare with the counts as written.
        self.roll_ups = RollUps(catalogue, self.available) if use_roll_ups else None
        self._roll_up_holds: dict[str, bool] = {}
        # A result may have been counted on the model rolled up to, so its cache key includes
        # the declarations and whether roll-ups are on: neither appears in the query as written.
        self._roll_up_salt = repr((use_roll_ups, sorted(
            (m.name, m.rolls_up_to.model, m.rolls_up_to.key) for m in catalogue.models.values() if m.rolls_up_to)))

    # -- public API ------------------------------------------------------------------------
    def check_request(self, metric_id: str, by: tuple[str, ...] = (), filters: dict | None = None) -> Metric:
        """Validate a writer's request; raise MetricError with valid choices and a suggestion."""
        # The answer depends only on the names (the catalogue and the data present are fixed
        # for the engine's life), and a build asks thousands of times.
        asked = (metric_id, tuple(by), tuple(sorted(filters or {})))
        if asked in self._valid_requests:
            return self.catalogue.metrics[metric_id]
        if metric_id not in self.catalogue.metrics:
            raise MetricError(unknown_name_message("metric", metric_id, self.catalogue.metrics))
        metric = self.catalogue.metrics[metric_id]
        dims = self.catalogue.dimensions_of(metric_id)
        for dim in list(by) + list((filters or {}).keys()):
            if dim not in dims:
                raise MetricError(
                    f"metric {metric_id!r} cannot be broken down or filtered by {dim!r}: "
                    + unknown_name_message("dimension", dim, dims)
                )
        # A dimension that comes from an optional join (e.g. member level from users) needs
        # that dataset: without it the section shows a notice, like any absent optional data.
        self.require(metric_id, tuple(by) + tuple((filters or {}).keys()))
        self._valid_requests.add(asked)
        return metric

    def require(self, metric_id: str, dims: tuple[str, ...] = ()) -> None:
        """Raise MissingData when a dataset the metric needs is absent: the models' own datasets,
        and optional joins whose columns the metric's SQL or the requested dimensions use."""
        missing: list[str] = []
        for base in self.catalogue.base_metrics(metric_id):
            model = self.catalogue.models[str(base.model)]
            needed = list(model.datasets)
            texts = (base.expr, base.filter, base.entity, base.inner)
            used = set().union(*(referenced_names(text or "") for text in texts))
            used |= set().union(*(referenced_names(model.dimensions.get(d, "")) for d in dims))
            for join in model.joins:
                if used & {alias_of(item) for item in join.select}:
                    needed.append(join.dataset)
            for ds in needed:
                if ds not in self.available and ds not in missing:
                    missing.append(ds)
        self.require_datasets(*missing)

    def compute(
        self,
        metric_id: str,
        period: Period,
        by: tuple[str, ...] | list[str] = (),
        filters: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """The metric for a period, one row per combination of `by` (sorted), column `value`."""
        by = tuple(by)
        filters = dict(filters or {})
        metric = self.check_request(metric_id, by, filters)
        self.require(metric_id)
        if metric.kind in ("ratio", "derived") and getattr(self.store.backend, "batch_queries", False):
            self.prefetch([metric_id], period, by, filters)  # its aggregates in one query per model
        return round_for_embedding(self._compute(metric_id, period, by, filters))

    def value(self, metric_id: str, period: Period, filters: dict[str, Any] | None = None) -> float | None:
        frame = self.compute(metric_id, period, (), filters)
        if frame.empty:
            return None
        result = frame["value"].iloc[0]
        return None if pd.isna(result) else float(result)

    def compare(
        self,
        metric_id: str,
        period: Period,
        comparison: str = "yoy",
        filters: dict[str, Any] | None = None,
    ) -> Comparison:
        metric = self.check_request(metric_id, (), filters)
        current = self.value(metric_id, period, filters)
        base_period = self.base_period(metric_id, period, comparison)
        base = self.value(metric_id, base_period, filters) if base_period else None
        return Comparison(metric, current, base, change_between(metric, current, base), period, base_period)

    def compare_by(
        self,
        metric_id: str,
        period: Period,
        by: tuple[str, ...] | list[str],
        comparison: str = "yoy",
        filters: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Breakdown with columns value, base, change (time dims are not aligned: use `trend`)."""
        metric = self.check_request(metric_id, tuple(by), filters)
        base_period = self.base_period(metric_id, period, comparison)
        self._privacy_with = (base_period,) if base_period else ()
        try:
            current = self.compute(metric_id, period, by, filters)
            if base_period is not None:
                self._privacy_with = (period,)
                base = self.compute(metric_id, base_period, by, filters)
        finally:
            self._privacy_with = ()
        if base_period is None:
            current["base"] = np.nan
        else:
            base = base.rename(columns={"value": "base"})
            current = current.merge(base, on=list(by), how="left") if by else current.assign(
                base=base["base"].iloc[0] if not base.empty else np.nan
            )
        current["change"] = [
            change_between(metric, v, b) for v, b in zip(current["value"], current["base"], strict=True)
        ]
        return current

    def base_period(self, metric_id: str, period: Period, comparison: str) -> Period | None:
        """The comparison period, or None when it cannot be compared fairly: a metric that
        needs purchase history (new vs returning buyers) is undefined for a period that starts
        when the data starts, since every buyer there looks new."""
        base = comparison_period(period, comparison)
        if base is None:
            return None
        for metric in [self.catalogue.metrics[metric_id], *self.catalogue.base_metrics(metric_id)]:
            if metric.history and metric.model:
                earliest = self.earliest(self.catalogue.models[metric.model])
                if earliest is not None and base.start <= earliest:
                    return None
        return base

    def earliest(self, model: Model) -> dt.date | None:
        """The first date of a model's time column over all its data (cached)."""
        if not model.time:
            return None
        sql = f"SELECT CAST(MIN({model.time}) AS DATE) AS first FROM ({self.model_sql(model, _ALL_TIME)}) AS m"
        frame = self.run(sql, self._model_datasets(model))
        value = frame["first"].iloc[0] if not frame.empty else None
        return None if value is None or pd.isna(value) else pd.Timestamp(value).date()

    def require_datasets(self, *datasets: str) -> None:
        """Raise MissingData when one of these (optional) datasets is absent."""
        missing = [d for d in datasets if d not in self.available]
        if missing:
            declared = self.store.contract.datasets
            # A dataset the contract does not declare is as absent as a declared file that is
            # missing; its notice names the dataset to declare.
            raise MissingData(missing, [declared[d].path if d in declared else f"datasets.{d}" for d in missing])

    def per_entity(self, entity: str, measures: dict[str, str], period: Period,
                   filters: dict[str, Any] | None = None, step: Step | None = None) -> pd.DataFrame:
        """Catalogue metrics per entity (a buyer, a SKU), then a declared second `step` over
        the entities (sql.Buckets, sql.MedianSplit), all in the database.

        `measures` names each metric ({"monetary": "net_sales"}); the metrics are those of the
        catalogue, computed per entity from their definitions (their base aggregates must share
        one model), so a buyer's net sales are the net sales of the catalogue. Without a step
        the per-entity rows come back; that is refused for the model's people (buyers): at
        scale they are millions of rows, and a person's own figures are not for a page. A group
        of the step with fewer than min_group_size people is hidden (its figures missing):
        the groups are fixed classes (segments, order counts) that merging into 其他 would
        mislabel."""
        filters = dict(filters or {})
        for metric_id in measures.values():
            self.check_request(metric_id, (), filters)
            self.require(metric_id)
        models = {str(base.model) for metric_id in measures.values()
                  for base in self.catalogue.base_metrics(metric_id)}
        if len(models) != 1:
            raise MetricError(f"per_entity: the metrics {sorted(measures.values())} are on different models "
                              f"({', '.join(sorted(models))}); they must share one")
        model = self.catalogue.models[models.pop()]
        columns = model.columns(self.available)
        if entity not in columns:
            raise MetricError(f"per_entity: {unknown_name_message('column of ' + model.name, entity, columns)}")
        people = bool(model.people) and entity in referenced_names(str(model.people))
        if step is None and people:
            raise MetricError(f"per_entity: rows per {entity} of model {model.name} never leave the database: "
                              "give a step that aggregates them")
        values = _period_values(period)
        # Rounded before the step compares them (medians, buckets): engines add floating-point
        # numbers in other orders, and a buyer exactly at the median must fall on the same side
        # on every engine (see ENTITY_DECIMALS).
        items = [f"ROUND({self._entity_value(metric_id, values)}, {ENTITY_DECIMALS}) AS {name}"
                 for name, metric_id in measures.items()]
        where = self._where(model, period, filters, None) + [f"{entity} IS NOT NULL"]
        inner = (f"SELECT {entity} AS entity_key, {', '.join(items)} FROM ({self.model_sql(model, period)}) AS m"
                 + (f" WHERE {' AND '.join(where)}" if where else "") + " GROUP BY 1")
        datasets = self._model_datasets(model)
        if step is None:
            return self.run(inner + " ORDER BY 1", datasets).rename(columns={"entity_key": entity})
        better = {name: self.catalogue.metrics[metric_id].better for name, metric_id in measures.items()}
        sql, keys = step_sql(inner, better, step)
        frame = self.run(sql, datasets)
        small = frame["entities"] < self.min_group_size if people and self.min_group_size > 1 else None
        if small is not None and small.any():
            figures = [c for c in frame.columns if c not in keys]
            frame[figures] = frame[figures].astype("float64").where(~small)
        return frame

    def rows(self, dataset: str, columns: list[str] | tuple[str, ...] = (), where: dict[str, Any] | None = None,
             order_by: list[str] | tuple[str, ...] = (), by: list[str] | tuple[str, ...] = (),
             aggregates: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
        """Rows of a small dataset (targets, campaigns, a day of stock), cached like any result:
        `columns` as they are, or `aggregates` ({output: (agg, column)}) per combination of `by`
        (see sql.lookup_sql). Not for the order-level datasets: ask their metrics instead."""
        # The first dataset of a dated model of people is order-level (orders, order lines).
        if dataset in {m.datasets[0] for m in self.catalogue.models.values() if m.people and m.time and m.datasets}:
            raise MetricError(f"rows: {dataset!r} is order-level; ask a metric of the catalogue")
        self.require_datasets(dataset)
        known = self.store.contract.datasets[dataset].columns
        asked = [*columns, *by, *(c for _, c in (aggregates or {}).values() if c != "*"), *(where or {})]
        for column in asked:
            if column not in known:
                raise MetricError(f"rows of {dataset}: {unknown_name_message('column', column, known)}")
        return self.run(lookup_sql(dataset, columns, where, order_by, by, aggregates), [dataset])

    def merge_small_groups(self, frame: pd.DataFrame, dim: str, people: str,
                           min_group_size: int | None = None) -> pd.DataFrame:
        """The privacy rule of breakdowns (small_groups) on an aggregated frame whose `dim`
        describes people: values of `dim` with fewer than min_group_size people (the sum of
        `people` over their rows, so each person must be in one group only) become
        OTHER_GROUP; when that group is itself too small, the smallest other value joins it,
        so the rows still add up to the whole."""
        k = self.min_group_size if min_group_size is None else int(min_group_size)
        if k <= 1 or frame.empty or dim not in self.catalogue.people_dimensions:
            return frame
        sizes = frame.groupby(dim)[people].sum()
        small = set(sizes[sizes < k].index)
        if not small:
            return frame
        if 0 < float(sizes[sorted(small)].sum()) < k:
            rest = sizes.drop(sorted(small))
            if not rest.empty:  # each of these has k people or more: one is enough
                small.add(min(rest.index, key=lambda value: (rest[value], str(value))))
        frame = frame.copy()
        frame[dim] = [OTHER_GROUP if value in small else value for value in frame[dim]]
        return frame.reset_index(drop=True)

    # -- internals -------------------------------------------------------------------------
    def _entity_value(self, metric_id: str, values: dict[str, str]) -> str:
        """A metric's value over one entity's rows, as SQL from its catalogue definition."""
        metric = self.catalogue.metrics[metric_id]
        if metric.kind == "aggregate":
            return self._aggregate_sql(metric, values)
        if metric.kind == "ratio":
            return (f"({self._entity_value(str(metric.numerator), values)}) / "
                    f"NULLIF({self._entity_value(str(metric.denominator), values)}, 0)")
        if metric.kind == "derived":
            formula = _fill(str(metric.formula), values)
            deps = set(metric.dependencies)
            return "(" + re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: f"({self._entity_value(m[0], values)})"
                                if m[0] in deps else m[0], formula) + ")"
        raise MetricError(f"per_entity: metric {metric_id!r} is itself per entity; ask its parts")

    def _compute(self, metric_id: str, period: Period, by: tuple[str, ...], filters: dict) -> pd.DataFrame:
        # A build asks for the same metric many times (the year's net sales: 117 times on the
        # sample site, 3208 requests for 646 distinct ones): compute each once per engine (one
        # build; the data cannot change within it). A copy goes out: callers may modify it.
        key = (metric_id, period, by, _hashable_filters(filters), self._privacy_with, self.min_group_size)
        if key not in self._computed:
            self._computed[key] = self._compute_once(metric_id, period, by, filters)
        return self._computed[key].copy()

    def _compute_once(self, metric_id: str, period: Period, by: tuple[str, ...], filters: dict) -> pd.DataFrame:
        metric = self.catalogue.metrics[metric_id]
        if metric.kind in ("aggregate", "per_entity"):
            return self._fetch(metric, period, by, filters)
        deps = metric.dependencies
        frames: dict[str, pd.DataFrame | float] = {}
        for dep in deps:
            dep_dims = set(self.catalogue.dimensions_of(dep))
            if dep in metric.broadcast and not set(by) <= dep_dims:
                kept = {k: v for k, v in filters.items() if k in dep_dims}
                total = self._compute(dep, period, (), kept)
                frames[dep] = float(total["value"].iloc[0]) if not total.empty else np.nan
            else:
                frames[dep] = self._compute(dep, period, by, filters)
        table = _align(frames, by)
        if metric.kind == "ratio":
            table["value"] = _safe_divide(table[str(metric.numerator)], table[str(metric.denominator)])
        else:
            formula = _fill(str(metric.formula), _period_values(period))
            table["value"] = _evaluate(formula, {d: table[d] for d in deps})
        return table[list(by) + ["value"]].reset_index(drop=True)

    def model_sql(self, model: Model, period: Period) -> str:
        items = list(model.select)
        joins = []
        for join in model.joins:
            if join.dataset in self.available:
                items.extend(join.select)
                joins.append(join.sql)
        sql = f"SELECT {', '.join(items)} FROM {model.source}"
        if joins:
            sql += " " + " ".join(joins)
        if model.where:
            sql += f" WHERE {model.where}"
        sql = _fill(sql, _period_values(period))
        if self.model_files is not None:
            self.model_files.register(sql, model.name, self._model_datasets(model))
        return sql

    def _physical(self, sql: str) -> str:
        """The query as run: models read from their stored rows where they are stored."""
        return self.model_files.physical(sql) if self.model_files is not None else sql

    def _dimension_sql(self, model: Model, dim: str, merged: tuple[str, ...] = (),
                       period: Period | None = None) -> str:
        """A dimension's SQL over the model's rows; placeholders ({year}, …) are the period's."""
        if dim in TIME_DIM_SQL:
            return TIME_DIM_SQL[dim].format(t=model.time)
        expr = model.dimensions[dim]
        if "{" in expr:
            if period is None:
                raise MetricError(f"dimension {dim!r} of model {model.name!r} depends on the period: "
                                  "pass the period")
            expr = _fill(expr, _period_values(period))
        if merged:
            values = ", ".join(quote_literal(v) for v in merged)
            # Text on both branches: a number-valued dimension merged into 其他 is text too.
            return (f"CASE WHEN CAST({expr} AS VARCHAR) IN ({values}) THEN {quote_literal(OTHER_GROUP)} "
                    f"ELSE CAST({expr} AS VARCHAR) END")
        return expr

    def group_sizes(self, model: Model, dim: str, period: Period, filters: dict) -> pd.DataFrame:
        """People per value of `dim` in the period (columns grp, people; grp as text, the way
        `_dimension_sql` compares merged values).

        Asked as the query an aggregate metric counting the model's people by `dim` is written
        as (`metric_sql`): the buyers by city that a page shows next to a privacy check of
        cities are the same numbers, so both share one result. A dimension whose values are
        not text is counted again with the values as DuckDB writes them as text."""

        typed = self._count_people(model, (dim, *filters),
                                   lambda over: self._group_sizes_sql(over, dim, period, filters))
        if all(value is None or isinstance(value, str) for value in typed[dim]):
            return pd.DataFrame({"grp": typed[dim], "people": typed["value"]})
        return self._count_people(model, (dim, *filters),
                                  lambda over: self._group_sizes_sql(over, dim, period, filters, as_text=True))

    def _counts_people_by(self, metrics: list[Metric], model: Model, by: tuple[str, ...], period: Period,
                          filters: dict) -> bool:
        """Whether one of `metrics` by `by` is the very query that counts the people per group
        for the privacy check of `by` (the buyers by category, say): counting them exactly
        then costs nothing more, since both share one result."""
        if len(by) != 1:
            return False
        people = self._group_sizes_sql(model, by[0], period, filters)
        return any(m.kind == "aggregate" and self.metric_sql(m, period, by, filters) == people for m in metrics)

    def _group_sizes_sql(self, over: Model, dim: str, period: Period, filters: dict, as_text: bool = False) -> str:
        """People per value of `dim` over a model's rows (see group_sizes)."""
        where = self._where(over, period, filters, None)
        group = self._dimension_sql(over, dim, (), period)
        return (
            (f"SELECT CAST({group} AS VARCHAR) AS grp, " if as_text else f"SELECT {group} AS {dim}, ")
            + f"CAST({_fill(str(over.people), _period_values(period))} AS DOUBLE) AS "
            + ("people" if as_text else "value")
            + f" FROM ({self.model_sql(over, period)}) AS m"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " GROUP BY 1 ORDER BY 1"
        )

    def small_groups(self, model: Model, dim: str, period: Period, filters: dict,
                     exact: bool = False) -> tuple[str, ...]:
        """Values of `dim` to merge into OTHER_GROUP (privacy), only for a dimension that
        describes people (`describes: people` in the catalogue): a product, a category or a
        channel is never merged, however few bought it.

        A value is merged when it has fewer than `min_group_size` people in the period or in
        any period it is being compared with (`_privacy_with`), so both sides of a comparison
        merge the same groups. When the merged group itself has too few people, the smallest
        other groups join it until it has enough: the merged group keeps its people and
        amounts, so a breakdown always adds up to the whole (all groups merged, it is the
        whole, which the headline figure shows anyway). `exact`: count every group's people
        (the question asked is that count, so the check shares its result; see `_small_values`).
        """
        if (not model.people or self.min_group_size <= 1 or dim in TIME_DIM_SQL
                or dim not in self.catalogue.people_dimensions):
            return ()
        periods = (period, *self._privacy_with)
        small: set[str] = set()
        for p in periods:
            small |= self._small_values(model, dim, p, filters, exact)
        if not small:
            return ()
        others: list[str] | None = None
        while self._too_few(model, small, dim, periods, filters):
            if others is None:
                # The other groups, smallest first over all the periods (the same order from
                # either side of a comparison), ties by value.
                people: dict[str, float] = {}
                for p in periods:
                    sizes = self.group_sizes(model, dim, p, filters)
                    for value, n in zip(sizes["grp"], sizes["people"], strict=True):
                        if value is not None and str(value) not in small:
                            people[str(value)] = people.get(str(value), 0.0) + float(n)
                others = sorted(people, key=lambda v: (people[v], v))
            if not others:
                break
            small.add(others.pop(0))
        return tuple(sorted(small))

    def _too_few(self, model: Model, merged: set[str], dim: str, periods: tuple[Period, ...], filters: dict) -> bool:
        """Whether the group of `merged` values has people, but fewer than min_group_size, in one
        of the periods (counted exactly: a buyer may be in several of its parts)."""
        merged_filters = {**filters, dim: sorted(merged)}
        for period in periods:
            def sql_over(over: Model, period: Period = period) -> str:
                where = self._where(over, period, merged_filters, None)
                return (f"SELECT CAST({_fill(str(over.people), _period_values(period))} AS DOUBLE) AS people "
                        f"FROM ({self.model_sql(over, period)}) AS m WHERE {' AND '.join(where)}")

            counted = self._count_people(model, tuple(merged_filters), sql_over)
            people = float(counted["people"].iloc[0]) if not counted.empty else 0.0
            if 0 < people < self.min_group_size:
                return True
        return False

    def _small_values(self, model: Model, dim: str, period: Period, filters: dict, exact: bool = False) -> set[str]:
        """The values of `dim` (as text) with fewer than `min_group_size` people in the period.

        Exact people per group cost a distinct count of every (group, person) pair per
        breakdown by product, SKU or category, which is most of what the privacy check costs,
        for a yes/no answer per group. So, where the people are counted on the model itself
        (no cheaper model they roll up to), are neither known already nor asked for (`exact`),
        and the people expression is a plain COUNT(DISTINCT column), a group is first bounded
        in one much cheaper scan (bench/README.md has the figures): its rows bound its
        people from above, and its people among a fixed sixteenth of all people (by hash)
        bound them from below. Only the groups that neither bound decides are counted exactly.
        The answer is the exact one either way."""
        entity = _DISTINCT_COLUMN.fullmatch(str(model.people).strip())
        datasets = self._model_datasets(model)
        rolls_up = self._people_model(model, (dim, *filters)) is not model  # counted on the coarse one: cheap
        if (exact or entity is None or rolls_up or self.store.backend.name != "duckdb"
                or self.cache.has(self._result_key(self._group_sizes_sql(model, dim, period, filters), datasets))):
            return self._below_threshold(self.group_sizes(model, dim, period, filters))
        where = self._where(model, period, filters, None)
        column = entity.group(1)
        bounds = self.run(
            f"SELECT CAST({self._dimension_sql(model, dim, (), period)} AS VARCHAR) AS grp, "
            "CAST(COUNT(*) AS DOUBLE) AS upper, "
            # CASE, not FILTER: DuckDB 2.0 hashes every pair for a filtered distinct (slower).
            f"CAST(COUNT(DISTINCT CASE WHEN hash({column}) % {_PEOPLE_SAMPLE} = 0 THEN {column} END) AS DOUBLE) "
            "AS lower "
            f"FROM ({self.model_sql(model, period)}) AS m" + (f" WHERE {' AND '.join(where)}" if where else "")
            + " GROUP BY 1 ORDER BY 1", datasets)
        small, undecided = set(), []
        for value, upper, lower in zip(bounds["grp"], bounds["upper"], bounds["lower"], strict=True):
            if value is None or lower >= self.min_group_size:
                continue
            if upper < self.min_group_size:
                small.add(str(value))
            else:
                undecided.append(str(value))
        if undecided:
            small |= self._below_threshold(self.group_sizes(model, dim, period, {**filters, dim: undecided}))
        return small

    def _below_threshold(self, sizes: pd.DataFrame) -> set[str]:
        """The groups of a `group_sizes` result with fewer than `min_group_size` people."""
        return {str(v) for v, n in zip(sizes["grp"], sizes["people"], strict=True)
                if v is not None and n < self.min_group_size}

    def _model_datasets(self, model: Model) -> list[str]:
        return list(model.datasets) + [j.dataset for j in model.joins if j.dataset in self.available]

    def _where(self, model: Model, period: Period, filters: dict, metric_filter: str | None) -> list[str]:
        values = _period_values(period)
        conditions = []
        if model.time:
            conditions.append(f"{model.time} >= {values['start']} AND {model.time} < {values['end_excl']}")
        for dim, wanted in sorted(filters.items()):
            options = wanted if isinstance(wanted, (list, tuple, set)) else [wanted]
            expr = self._dimension_sql(model, dim, (), period)
            conditions.append(f"{expr} IN ({', '.join(quote_literal(str(o)) for o in sorted(options))})")
        if metric_filter:
            conditions.append(f"({_fill(metric_filter, values)})")
        return conditions

    def metric_sql(self, metric: Metric, period: Period, by: tuple[str, ...], filters: dict,
                   merged: dict[str, tuple[str, ...]] | None = None) -> str:
        model = self.catalogue.models[str(metric.model)]
        values = _period_values(period)
        merged = merged or {}
        dims = [f"{self._dimension_sql(model, d, merged.get(d, ()), period)} AS {d}" for d in by]
        group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(by)))}" if by else ""
        order = f" ORDER BY {', '.join(str(i + 1) for i in range(len(by)))}" if by else ""
        source = f"({self.model_sql(model, period)}) AS m"
        if metric.kind == "aggregate":
            where = self._where(model, period, filters, None)
            expr = _fill(str(metric.expr), values)
            if metric.filter:
                cond = _fill(metric.filter, values)
                expr = "CASE WHEN " + cond + (" THEN 1 END" if expr == "*" else f" THEN {expr} END")
            select = dims + [f"CAST({_agg_sql(str(metric.agg), expr)} AS DOUBLE) AS value"]
            return (
                f"SELECT {', '.join(select)} FROM {source}"
                + (f" WHERE {' AND '.join(where)}" if where else "")
                + group + order
            )
        # per_entity: aggregate per entity, then over entities. A row without an entity (an
        # order without a buyer id) belongs to no entity: never counted as one big buyer.
        where = self._where(model, period, filters, metric.filter) + [f"{metric.entity} IS NOT NULL"]
        inner_dims = [f"{self._dimension_sql(model, d, merged.get(d, ()), period)} AS {d}" for d in by]
        inner_group = ", ".join([str(i + 1) for i in range(len(by) + 1)])
        inner = (
            f"SELECT {', '.join(inner_dims + [f'{metric.entity} AS entity_key'])}, "
            f"{exact(_fill(str(metric.inner), values))} AS inner_value FROM {source}"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + f" GROUP BY {inner_group}"
        )
        outer_dims = list(by)
        select = outer_dims + [f"CAST({metric.outer} AS DOUBLE) AS value"]
        return f"SELECT {', '.join(select)} FROM ({inner}) AS e" + group + order

    def prefetch(self, metric_ids: list[str] | tuple[str, ...], period: Period | list[Period],
                 by: tuple[str, ...] | list[str] = (), filters: dict[str, Any] | None = None) -> int:
        """Compute the aggregates that `compute(metric, period, by, filters)` will need for each
        metric and period in as few queries as possible, and store each in the result cache
        under its own query, so those `compute` calls read them from the cache.

        Aggregates over the same model share one query (one per model and period, or for
        totals without `by`, one per model for all the periods, each aggregate counting only
        its period's rows). The results are those of the separate queries: the same rows feed
        the same aggregates. Worth it where every query has a fixed cost: Spark runs jobs for
        each, and runs these queries side by side (`query_many`). Returns the queries run."""
        if not self.cache.enabled:
            return 0
        by, filters = tuple(by), dict(filters or {})
        requests: list[tuple[Metric, tuple[str, ...], dict]] = []
        for metric_id in metric_ids:
            self.check_request(metric_id, by, filters)
            try:
                self.require(metric_id)
            except MissingData:
                continue
            self._requests(metric_id, by, filters, requests)
        groups: dict[tuple, list[Metric]] = {}
        for metric, dims, kept in requests:
            group = groups.setdefault((str(metric.model), dims, _hashable_filters(kept)), [])
            if metric not in group:
                group.append(metric)
        jobs: list[tuple[str, tuple[str, ...], list[tuple[str, str]]]] = []  # sql, dims, (key, column)
        shared: dict[tuple, list[tuple[Period, Metric, str]]] = {}  # same model SQL: one query
        for one in period if isinstance(period, (list, tuple)) else [period]:
            for (model_name, dims, kept_items), metrics in groups.items():
                model, kept = self.catalogue.models[model_name], dict(kept_items)
                merged: dict[str, tuple[str, ...]] = {}
                exact = self._counts_people_by(metrics, model, dims, one, kept)
                for dim in dims:  # as in _fetch
                    small = self.small_groups(model, dim, one, kept, exact)
                    if small:
                        merged[dim] = small
                for metric in metrics:
                    sql = self.metric_sql(metric, one, dims, kept, merged)
                    key = self._result_key(sql, self._model_datasets(model))
                    if self.cache.has(key):
                        continue
                    if metric.kind == "aggregate":
                        # Stored under the query as written, but counted where it costs least.
                        counted = self._counted_as(metric, dims, kept)
                        over = self.catalogue.models[str(counted.model)]
                        group_key = (over.name, dims, kept_items, tuple(sorted(merged.items())),
                                     self.model_sql(over, one), None if not dims else one)
                        shared.setdefault(group_key, []).append((one, counted, key))
                    else:
                        jobs.append((sql, dims, [(key, "value")]))
        for (model_name, dims, kept_items, merged_items, source, _), items in shared.items():
            if len(items) == 1:
                one, metric, key = items[0]
                jobs.append((self.metric_sql(metric, one, dims, dict(kept_items), dict(merged_items)),
                             dims, [(key, "value")]))
                continue
            model, kept, merged = self.catalogue.models[model_name], dict(kept_items), dict(merged_items)
            periods = list(dict.fromkeys(one for one, _, _ in items))
            in_period = {one: " AND ".join(self._where(model, one, {}, None)) for one in periods}
            select = [f"{self._dimension_sql(model, d, merged.get(d, ()), periods[0])} AS {d}" for d in dims]
            select += [f"{self._aggregate_sql(metric, _period_values(one), in_period[one] if len(periods) > 1 else '')}"
                       f" AS v{i}" for i, (one, metric, _) in enumerate(items)]
            where = self._where(model, periods[0], kept, None) if len(periods) == 1 else (
                ([f"(({') OR ('.join(in_period.values())}))"] if all(in_period.values()) else [])
                + self._where(model, periods[0], kept, None)[1 if model.time else 0:])
            positions = ", ".join(str(i + 1) for i in range(len(dims)))
            jobs.append((f"SELECT {', '.join(select)} FROM ({source}) AS m"
                         + (f" WHERE {' AND '.join(where)}" if where else "")
                         + (f" GROUP BY {positions} ORDER BY {positions}" if dims else ""),
                         dims, [(key, f"v{i}") for i, (_, _, key) in enumerate(items)]))
        query_many = getattr(self.store.backend, "query_many", None)
        if jobs:
            self.store.ensure_registered()  # a model is stored from the views (as in run)
        sqls = [self._physical(sql) for sql, _, _ in jobs]
        frames = query_many(sqls) if query_many else [self.store.query(sql) for sql in sqls]
        for (_, dims, outputs), frame in zip(jobs, frames, strict=True):
            frame = round_for_embedding(frame)
            rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
            position = {name: i for i, name in enumerate(frame.columns)}
            keep = [position[d] for d in dims]
            for key, column in outputs:
                at = position[column]
                self.cache.put(key, [*dims, "value"], [[row[i] for i in keep] + [row[at]] for row in rows])
        return len(jobs)

    def _siblings(self, metric: Metric, by: tuple[str, ...], filters: dict) -> list[str]:
        """`metric` and the model's other cheap aggregates that can be asked the same way.

        A page asks one model for several aggregates with the same breakdown and filters (net
        sales, refunds and units by month). Computing the cheap ones (everything but
        COUNT(DISTINCT), which costs as much batched as alone) in the same scan is nearly free,
        and the later requests then come from the result cache: 372 aggregate queries on the
        sample site become 127."""
        wanted = [metric.id]
        for other in self.catalogue.metrics.values():
            if (other.model != metric.model or other.kind != "aggregate" or other.id == metric.id
                    or other.agg == "count_distinct"):
                continue
            try:
                self.check_request(other.id, by, filters)
            except (MetricError, MissingData):
                continue
            wanted.append(other.id)
        return wanted

    def _requests(self, metric_id: str, by: tuple[str, ...], filters: dict,
                  out: list[tuple[Metric, tuple[str, ...], dict]]) -> None:
        """The (aggregate metric, by, filters) fetches `_compute` makes for a metric."""
        metric = self.catalogue.metrics[metric_id]
        if metric.kind in ("aggregate", "per_entity"):
            out.append((metric, by, filters))
            return
        for dep in metric.dependencies:
            dep_dims = set(self.catalogue.dimensions_of(dep))
            if dep in metric.broadcast and not set(by) <= dep_dims:
                self._requests(dep, (), {k: v for k, v in filters.items() if k in dep_dims}, out)
            else:
                self._requests(dep, by, filters, out)

    def _counted_as(self, metric: Metric, by: tuple[str, ...], filters: dict) -> Metric:
        """The aggregate as the engine computes it: a distinct count on the coarser model it
        rolls up to, where that gives the same number (rollup.py) and that model's rows are
        stored already, else `metric` itself. Storing them only for such counts would cost
        more than it saves (a three-page site that asks for orders twice); a review that uses
        paid_orders anyway counts there from then on.

        Only the query that runs changes: results are cached under the query as written, and
        both give the same rows, so a build reuses them whichever way they were counted."""
        if self.roll_ups is None:
            return metric
        counted = self.roll_ups.answer(metric, (*by, *filters))
        if counted is None or not self._rolled_up_and_stored(self.catalogue.models[str(metric.model)]):
            return metric
        return counted

    def _count_people(self, model: Model, dims: tuple[str, ...], sql_over: Callable[[Model], str]) -> pd.DataFrame:
        """Run `sql_over(model)`, a count of people by `dims`: on the coarser model it rolls up
        to where that gives the same number and its rows are stored (as `_counted_as`)."""
        coarse = self._people_model(model, dims)
        if coarse is model:
            return self.run(sql_over(model), self._model_datasets(model))
        return self.run(sql_over(model), self._model_datasets(model),
                        (sql_over(coarse), self._model_datasets(coarse)))

    def _people_model(self, model: Model, dims: tuple[str, ...]) -> Model:
        """The model people by `dims` are counted on: the one `model` rolls up to where that
        gives the same number and its rows are stored, else `model` itself."""
        coarse = model if self.roll_ups is None else self.roll_ups.people_model(model, dims)
        return coarse if coarse is not model and self._rolled_up_and_stored(model) else model

    def _rolled_up_and_stored(self, model: Model) -> bool:
        """Whether the model it rolls up to has its rows stored (never without stored models)
        and the data agrees with the roll-up."""
        assert model.rolls_up_to is not None
        if self.model_files is None:
            return False
        coarse = self.catalogue.models[model.rolls_up_to.model]
        return self.model_files.is_stored(self.model_sql(coarse, _ALL_TIME)) and self._roll_up_agrees(model)

    def _roll_up_agrees(self, model: Model) -> bool:
        """Whether the data agrees with the model's `rolls_up_to` (same keys on both sides, one
        coarse row per key), checked once per build and cached by the data like any result."""
        if model.name not in self._roll_up_holds:
            assert model.rolls_up_to is not None
            coarse = self.catalogue.models[model.rolls_up_to.model]
            sql = agreement_sql(self.model_sql(model, _ALL_TIME), self.model_sql(coarse, _ALL_TIME),
                                model.rolls_up_to.key)
            datasets = list(dict.fromkeys(self._model_datasets(model) + self._model_datasets(coarse)))
            disagreements = float(self.run(sql, datasets)["disagreements"].iloc[0])
            self._roll_up_holds[model.name] = disagreements == 0
            if disagreements:
                log.info("fupan: %d %s key(s) of model %s and model %s do not match one to one: "
                         "distinct counts stay on %s", disagreements, model.rolls_up_to.key, model.name,
                         coarse.name, model.name)
        return self._roll_up_holds[model.name]

    def _aggregate_sql(self, metric: Metric, values: dict[str, str], only: str = "") -> str:
        """An aggregate metric's value expression (as in metric_sql), over the rows where
        `only` (a condition) holds when given."""
        expr = _fill(str(metric.expr), values)
        conds = [c for c in (only, _fill(metric.filter, values) if metric.filter else "") if c]
        if conds:
            cond = " AND ".join(f"({c})" for c in conds) if only else conds[0]
            expr = "CASE WHEN " + cond + (" THEN 1 END" if expr == "*" else f" THEN {expr} END")
        return f"CAST({_agg_sql(str(metric.agg), expr)} AS DOUBLE)"

    def _fetch(self, metric: Metric, period: Period, by: tuple[str, ...], filters: dict) -> pd.DataFrame:
        model = self.catalogue.models[str(metric.model)]
        merged: dict[str, tuple[str, ...]] = {}
        for dim in by:
            groups = self.small_groups(model, dim, period, filters,
                                       self._counts_people_by([metric], model, by, period, filters))
            if groups:
                merged[dim] = groups
        sql = self.metric_sql(metric, period, by, filters, merged)
        if metric.kind == "aggregate" and self.cache.enabled and not self.cache.has(
                self._result_key(sql, self._model_datasets(model))):
            self.prefetch(self._siblings(metric, by, filters), period, by, filters)
        counted = self._counted_as(metric, by, filters)
        same_rows = None if counted is metric else (
            self.metric_sql(counted, period, by, filters, merged),
            self._model_datasets(self.catalogue.models[str(counted.model)]))
        frame = self.run(sql, self._model_datasets(model), same_rows)
        for dim in by:
            if dim in TIME_DIM_SQL:
                frame[dim] = [format_time_key(dim, v) for v in frame[dim]]
        if not by and frame.empty:
            frame = pd.DataFrame({"value": [np.nan]})
        return frame

    def time_span(self, dataset: str) -> tuple[Any, Any]:
        """The first and last day of a dataset's time column, or (None, None) when it is absent.
        A warm build reads them from the result cache without a table (or pandas)."""
        ds = self.store.contract.datasets.get(dataset)
        if ds is None or not ds.time_column or not self.store.has(dataset):
            return None, None
        sql = (f"SELECT CAST(MIN({ds.time_column}) AS DATE) AS first_day, "
               f"CAST(MAX({ds.time_column}) AS DATE) AS last_day FROM {dataset}")
        cached = self.cache.get(self._result_key(sql, [dataset]))
        row = cached["rows"][0] if cached is not None else list(self.run(sql, [dataset]).iloc[0])
        return row[0], row[1]

    def months_without_rows(self, datasets: list[str] | tuple[str, ...], period: Period) -> list[str]:
        """The months ('2025-03') of `period` in which a present dataset of `datasets` that has a
        row in every month a shop trades (catalogue `every_month`) has none: missing data (a shop
        closed, an export short of a month), which a chart must not show as a zero. Read through
        the result cache without pandas, like time_span."""
        empty: set[str] = set()
        wanted = month_keys(period)
        for name in sorted(set(datasets) & self.catalogue.every_month):
            ds = self.store.contract.datasets.get(name)
            if ds is None or not ds.time_column or not self.store.has(name):
                continue
            if (name, period) not in self._months_seen:
                values = _period_values(period)
                t = ds.time_column
                sql = (f"SELECT DISTINCT CAST(CAST(DATE_TRUNC('month', {t}) AS DATE) AS VARCHAR) AS month "
                       f"FROM {name} WHERE {t} >= {values['start']} AND {t} < {values['end_excl']} ORDER BY month")
                cached = self.cache.get(self._result_key(sql, [name]))
                rows = cached["rows"] if cached is not None else self.run(sql, [name]).values.tolist()
                self._months_seen[(name, period)] = frozenset(str(row[0])[:7] for row in rows if row[0] is not None)
            empty.update(key for key in wanted if key not in self._months_seen[(name, period)])
        return sorted(empty)

    def profiles(self) -> list[dict[str, Any]]:
        """Per dataset of the contract: present, files, rows, date range of its time column and
        completeness (share of non-missing values in required columns). Cached like metrics."""
        out = []
        for ds in self.store.contract.datasets.values():
            loaded = self.store.loaded.get(ds.name)
            if loaded is None:
                out.append({"dataset": ds.name, "present": False, "files": []})
                continue
            required = [c.name for c in ds.columns.values() if c.required]
            parts = ["CAST(COUNT(*) AS DOUBLE) AS rows"]
            parts += [f"CAST(COUNT({c}) AS DOUBLE) AS nn_{i}" for i, c in enumerate(required)]
            if ds.time_column:
                parts += [f"CAST(MIN({ds.time_column}) AS DATE) AS min_date",
                          f"CAST(MAX({ds.time_column}) AS DATE) AS max_date"]
            row = self.run(f"SELECT {', '.join(parts)} FROM {ds.name}", [ds.name]).iloc[0]
            rows = float(row["rows"])
            filled = sum(float(row[f"nn_{i}"]) for i in range(len(required)))
            out.append({
                "dataset": ds.name, "present": True, "files": loaded.files, "rows": rows,
                "min_date": row.get("min_date") if ds.time_column else None,
                "max_date": row.get("max_date") if ds.time_column else None,
                "completeness": filled / (rows * len(required)) if rows and required else 1.0,
            })
        return out

    def _result_key(self, sql: str, datasets: list[str]) -> str:
        """A query's result-cache key: its SQL, the data it reads, the code and the engine."""
        return self.cache.key(sql, self.store.fingerprint(datasets), code_version(), self.store.backend.name,
                              self._roll_up_salt)

    def run(self, sql: str, datasets: list[str], same_rows: tuple[str, list[str]] | None = None) -> pd.DataFrame:
        """Run a query through the result cache (keyed by SQL, data, code and engine). The SQL
        is DuckDB's; other engines transpile it (backends.py). `same_rows` is another query
        (with the datasets it reads) known to give the same rows at less cost: it runs instead,
        through the cache under its own key too, since other questions may run it as such."""
        key = self._result_key(sql, datasets)
        cached = self.cache.get(key)
        if cached is not None:
            return _result_frame(cached["columns"], cached["rows"])
        if same_rows is not None:
            frame = self.run(*same_rows)
        else:
            self.store.ensure_registered()  # the stored model is written from the views
            frame = round_for_embedding(self.store.query(self._physical(sql)))
        rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        self.cache.put(key, list(frame.columns), rows)
        return _result_frame(list(frame.columns), rows)


def _result_frame(columns: list[str], rows: list[list[Any]]) -> pd.DataFrame:
    """A query result as the engine hands it on, the same whether it was just computed or read
    from the cache: plain values, `value` as float64 (missing as NaN). Built column by column:
    a third of the time of DataFrame(rows).astype(...), which a build does thousands of times."""
    # dtype=object for the lists: as DataFrame(rows) infers them (an empty column stays object).
    data: dict[str, Any] = {c: pd.Series([row[i] for row in rows], dtype=object).infer_objects()
                            if rows else pd.Series([], dtype=object) for i, c in enumerate(columns)}
    if "value" in data:
        data["value"] = np.array(data["value"], dtype="float64")
    return pd.DataFrame(data, columns=columns)


# Results are rounded to this many significant digits (a relative change below 5e-13): far more
# than the site shows, and enough to absorb the last-bit differences between engines that add
# floating-point numbers in another order, so DuckDB and Spark give identical pages. Exact values
# (whole numbers, cents below 10^11) are unchanged.
SIGNIFICANT_DIGITS = 13
# Decimals a per-entity measure keeps before a second step compares it (Engine.per_entity):
# far below a cent or a day, far above the last bits engines disagree on.
ENTITY_DECIMALS = 6


def round_for_embedding(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its float columns rounded to SIGNIFICANT_DIGITS significant digits."""
    floats = [c for c, dtype in zip(frame.columns, frame.dtypes, strict=True) if dtype.kind == "f"]
    if not floats:
        return frame
    frame = frame.copy()
    for column in floats:
        frame[column] = [float(f"{v:.{SIGNIFICANT_DIGITS}g}") if np.isfinite(v) else v
                         for v in frame[column].to_numpy(dtype="float64")]
    return frame


def _plain(value: Any) -> Any:
    """Database values as JSON-safe Python values (timestamps as ISO text)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def change_between(metric: Metric, value: float | None, base: float | None) -> float | None:
    """% change for amounts ((this − base) ÷ base); a difference for rates (pp) and scores;
    None if undefined."""
    if value is None or base is None or pd.isna(value) or pd.isna(base):
        return None
    if metric.is_difference:
        return float(value) - float(base)
    if base == 0:
        return None
    return (float(value) - float(base)) / float(base)


def _align(frames: dict[str, pd.DataFrame | float], by: tuple[str, ...]) -> pd.DataFrame:
    table: pd.DataFrame | None = None
    scalars = {k: v for k, v in frames.items() if not isinstance(v, pd.DataFrame)}
    for name, frame in frames.items():
        if name in scalars:
            continue
        part = frame.rename(columns={"value": name})
        if table is None:
            table = part
        elif by:
            table = table.merge(part, on=list(by), how="outer")
        else:
            table[name] = part[name].iloc[0] if not part.empty else np.nan
    if table is None:
        table = pd.DataFrame({"_": [0]})
    for name, scalar in scalars.items():
        table[name] = scalar
    if by:
        table = table.sort_values(list(by), kind="mergesort").reset_index(drop=True)
    return table


def _safe_divide(num: pd.Series, den: pd.Series) -> pd.Series:
    num = pd.to_numeric(num, errors="coerce").astype("float64")
    den = pd.to_numeric(den, errors="coerce").astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return out.where(den.notna() & (den != 0))


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def _evaluate(formula: str, names: dict[str, pd.Series]) -> pd.Series:
    """Evaluate + − × ÷ over metric columns; division by zero gives a missing value."""

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Div):
                if not isinstance(right, pd.Series):
                    right = pd.Series(right, index=left.index if isinstance(left, pd.Series) else None)
                if not isinstance(left, pd.Series):
                    left = pd.Series(left, index=right.index)
                return _safe_divide(left, right)
            if type(node.op) in _BINARY:
                return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.Name):
            return pd.to_numeric(names[node.id], errors="coerce").astype("float64")
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        raise MetricError(f"formula {formula!r}: only + − × ÷, numbers and metric ids are allowed")

    return walk(ast.parse(formula, mode="eval"))
