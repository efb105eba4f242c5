"""SQL written from declarative requests: the second step of a per-entity question (buckets,
median split with quantile scores) and lookups of a dataset's rows.

The analyses (analyses.py) describe what they want with these classes and the engine's public
methods (`Engine.per_entity`, `Engine.rows`); only this module and the engine write SQL, in the
portable subset that data/backends.py translates for other engines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fupan.data.backends import exact
from fupan.data.store import quote_literal
from fupan.semantics.catalogue import IDENT

# The aggregates a lookup may ask for (column → aggregate over a dataset's rows).
LOOKUP_AGGS = {"sum": "SUM(" + exact("{}") + ")", "min": "MIN({})", "max": "MAX({})",
               "avg": "AVG(" + exact("{}") + ")", "count": "COUNT({})",
               "any": "MAX(CASE WHEN {} THEN 1 ELSE 0 END)"}


@dataclass(frozen=True)
class Buckets:
    """Entities counted by a whole-number measure, values from `cap` up in one bucket (1, 2,
    …, cap+): one row per bucket with `entities` and the sum of every measure."""

    measure: str
    cap: int


@dataclass(frozen=True)
class MedianSplit:
    """Entities split by being better than the median on each measure ("better" is the
    catalogue metric's `better`: lower recency, higher frequency), and scored 1..`tiles` on each
    by quantile (ties broken by entity key, so scores are stable). One row per combination of
    the `<measure>_high` flags, with `entities` and the sums of the measures and scores."""

    tiles: int = 5


Step = Buckets | MedianSplit


def _name(text: str) -> str:
    if not IDENT.fullmatch(text):
        raise ValueError(f"{text!r} is not a plain name")
    return text


def step_sql(inner: str, measures: dict[str, str], step: Step) -> tuple[str, list[str]]:
    """The second step over `inner` (one row per entity: entity_key and the measures), with the
    key columns of its groups. `measures` maps each measure to "higher" or "lower" (better)."""
    names = [_name(m) for m in measures]
    sums = [f"SUM({exact(m)}) AS {m}_sum" for m in names]
    if isinstance(step, Buckets):
        measure = _name(step.measure)
        cap = int(step.cap)
        sql = (f"SELECT CASE WHEN {measure} >= {cap} THEN {cap} ELSE {measure} END AS bucket, "
               f"COUNT(*) AS entities, {', '.join(sums)} FROM ({inner}) AS e GROUP BY 1 ORDER BY 1")
        return sql, ["bucket"]
    tiles = int(step.tiles)
    medians = ", ".join(f"MEDIAN({m}) AS {m}_median" for m in names)
    scored = []
    for m in names:
        lower = measures[m] == "lower"
        # Score `tiles` is the best fifth: a lower-is-better measure is ranked from its highest.
        scored.append(f"NTILE({tiles}) OVER (ORDER BY {m}{' DESC' if lower else ''}, entity_key) AS {m}_score")
        scored.append(f"CASE WHEN {m} {'<' if lower else '>'} md.{m}_median THEN 1 ELSE 0 END AS {m}_high")
    flags = [f"{m}_high" for m in names]
    score_sums = [f"SUM({m}_score) AS {m}_score_sum" for m in names]
    positions = ", ".join(str(i + 1) for i in range(len(flags)))
    sql = (f"WITH e AS ({inner}), medians AS (SELECT {medians} FROM e), "
           f"scored AS (SELECT e.*, {', '.join(scored)} FROM e CROSS JOIN medians md) "
           f"SELECT {', '.join(flags)}, COUNT(*) AS entities, {', '.join(sums + score_sums)} "
           f"FROM scored GROUP BY {positions} ORDER BY {positions}")
    return sql, flags


def literal(value: Any) -> str:
    """A Python value as an SQL literal (dates as DATE '…')."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE {quote_literal(value.isoformat()[:10])}"
    return quote_literal(str(value))


@dataclass(frozen=True)
class Between:
    """A condition `low <= column <= high` (either end may be open: None)."""

    low: Any = None
    high: Any = None


@dataclass(frozen=True)
class Present:
    """A condition that the column has a value (IS NOT NULL)."""


def _condition(column: str, wanted: Any) -> str:
    column = _name(column)
    if isinstance(wanted, Between):
        parts = ([f"{column} >= {literal(wanted.low)}"] if wanted.low is not None else []) + (
            [f"{column} <= {literal(wanted.high)}"] if wanted.high is not None else [])
        return " AND ".join(parts) or "TRUE"
    if isinstance(wanted, Present):
        return f"{column} IS NOT NULL"
    if isinstance(wanted, (list, tuple, set)):
        return f"{column} IN ({', '.join(literal(v) for v in sorted(wanted))})"
    return f"{column} = {literal(wanted)}"


def lookup_sql(dataset: str, columns: list[str] | tuple[str, ...] = (), where: dict[str, Any] | None = None,
               order_by: list[str] | tuple[str, ...] = (), by: list[str] | tuple[str, ...] = (),
               aggregates: dict[str, tuple[str, str]] | None = None) -> str:
    """Rows of a dataset: `columns` as they are, or, with `aggregates` ({output: (agg, column)}),
    one row per combination of `by`. `where` holds conditions on columns (a value, a list of
    values, Between or Present); `order_by` names output columns (a leading "-" sorts down)."""
    if aggregates:
        items = [_name(c) for c in by] + [
            f"{LOOKUP_AGGS[agg].format('*' if column == '*' else _name(column))} AS {_name(out)}"
            for out, (agg, column) in aggregates.items()]
    else:
        items = [_name(c) for c in columns]
    sql = f"SELECT {', '.join(items)} FROM {_name(dataset)}"
    conditions = [_condition(c, w) for c, w in sorted((where or {}).items())]
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if aggregates and by:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(by)))
    if order_by:
        sql += " ORDER BY " + ", ".join(f"{_name(o[1:])} DESC" if o.startswith("-") else _name(o)
                                         for o in order_by)
    return sql
