"""Distinct counts answered from a coarser model (`rolls_up_to` in metrics.yml).

Counting distinct orders or buyers over the order-lines model builds a hash table of every
order among all the lines (slow on large data, and a review asks dozens). paid_orders has one
row per order: there the orders are its rows, and the buyers a distinct count over half as many
rows. Both give the same number when all of this holds:

- the declaration (`rolls_up_to: {model: paid_orders, key: order_id}` on the lines): each row
  of the fine model belongs to the coarse row with the same key, so a column defined by the same
  SQL over the same dataset in both models has that row's value. This is the catalogue's claim,
  as a join condition is;
- the data: every coarse key has a fine row, every fine key has a coarse row, and no coarse key
  repeats (a paid order without lines would be counted by paid_orders and not by the lines).
  One query checks it (`agreement_sql`), cached by the data's fingerprint like any result;
- the question: the counted column (the key, or a shared column), the metric's filter, the
  time column and every breakdown and filter dimension use shared columns only, and each
  dimension has the same SQL in both models.

Anything else (orders by category, a count with a line-level filter) is counted on the fine
model, as written. So is everything until the coarse model's rows are stored for another
question (Engine._counted_as): storing paid_orders only to count orders would cost more than
it saves. Results are cached under the query as written either way.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from fupan.semantics.catalogue import TIME_DIMENSIONS, Catalogue, Metric, Model, alias_of, referenced_names


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def column_definitions(model: Model, available: set[str]) -> dict[str, str]:
    """Each column's SQL with its table aliases replaced by the datasets they name (a joined
    column with its join): two models define a column alike when these texts are equal. A
    column that reads an alias not bound to a dataset (a subquery's) has no definition here,
    so it is never taken as shared."""
    aliases = model.aliases()

    def resolved(sql: str) -> str | None:
        unbound = False

        def dataset_of(match: re.Match) -> str:
            nonlocal unbound
            if match[1] not in aliases:
                unbound = True
            return f"{aliases.get(match[1], match[1])}.{match[2]}"

        # (An alias-like word inside a string literal counts too: at worst a column is not shared.)
        text = re.sub(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)", dataset_of, sql)
        return None if unbound else _normal(text)

    out: dict[str, str] = {}
    sources: list[tuple[str, tuple[str, ...]]] = [("", model.select)]
    sources += [(join.sql, join.select) for join in model.joins if join.dataset in available]
    for join_sql, items in sources:
        join_text = resolved(join_sql) if join_sql else ""
        for item in items:
            text = resolved(item)
            if text is not None and join_text is not None:
                out[alias_of(item)] = f"{text} | {join_text}"
    return out


def agreement_sql(fine_sql: str, coarse_sql: str, key: str) -> str:
    """Keys on one side only, or repeated on the coarse side (0 when the roll-up holds). A NULL
    key never matches, so it counts as a disagreement.

    One grouping of both sides' keys together: faster than a DISTINCT of the fine keys, a
    grouping of the coarse ones and a full join of the two."""
    return (
        "SELECT CAST(COUNT(*) AS DOUBLE) AS disagreements FROM ("
        "SELECT k, COUNT(*) FILTER (WHERE side = 'fine') AS fine, COUNT(*) FILTER (WHERE side = 'coarse') AS coarse "
        f"FROM (SELECT {key} AS k, 'fine' AS side FROM ({fine_sql}) AS m "
        f"UNION ALL SELECT {key} AS k, 'coarse' AS side FROM ({coarse_sql}) AS m) AS keys GROUP BY k) AS g "
        "WHERE k IS NULL OR fine = 0 OR coarse <> 1"
    )


class RollUps:
    """Which questions a coarser model answers with the same number (the data check aside)."""

    def __init__(self, catalogue: Catalogue, available: set[str]):
        self.catalogue = catalogue
        self.available = set(available)
        self._shared: dict[str, frozenset[str]] = {}

    def shared_columns(self, model: Model) -> frozenset[str]:
        """Columns `model` defines as the model it rolls up to does."""
        if model.rolls_up_to is None:
            return frozenset()
        if model.name not in self._shared:
            coarse = self.catalogue.models[model.rolls_up_to.model]
            mine = column_definitions(model, self.available)
            theirs = column_definitions(coarse, self.available)
            self._shared[model.name] = frozenset(n for n, text in mine.items() if theirs.get(n) == text)
        return self._shared[model.name]

    def coarse_model(self, model: Model, dims: Iterable[str], columns: Iterable[str] = ()) -> Model | None:
        """The model `model` rolls up to, when a question over these dimensions and columns
        reads only what both define alike; else None."""
        if model.rolls_up_to is None:
            return None
        coarse = self.catalogue.models[model.rolls_up_to.model]
        shared = self.shared_columns(model)
        if coarse.time != model.time or (model.time and model.time not in shared):
            return None  # every question filters on its period, by the model's time column
        if not set(columns) <= shared:
            return None
        for dim in dims:
            if dim in TIME_DIMENSIONS:
                if not model.time:
                    return None
                continue
            expr = model.dimensions.get(dim)
            if (expr is None or _normal(coarse.dimensions.get(dim, "")) != _normal(expr)
                    or not referenced_names(expr) <= shared):
                return None
        return coarse

    def answer(self, metric: Metric, dims: Iterable[str]) -> Metric | None:
        """`metric` as counted on the coarse model (the key's distinct count becomes a row
        count there: one row per key), or None where the fine model must count it."""
        if metric.kind != "aggregate" or metric.agg != "count_distinct" or not metric.model:
            return None
        model = self.catalogue.models[metric.model]
        coarse = self.coarse_model(model, dims, referenced_names(metric.filter or ""))
        if coarse is None or model.rolls_up_to is None:  # (the second only narrows the type)
            return None
        expr = (metric.expr or "").strip()
        if expr == model.rolls_up_to.key:
            return dataclasses.replace(metric, model=coarse.name, agg="count")
        if expr in self.shared_columns(model):
            return dataclasses.replace(metric, model=coarse.name)
        return None

    def people_model(self, model: Model, dims: Iterable[str]) -> Model:
        """The model to count a group's people on (`people` in metrics.yml): the coarse one
        when it counts them with the same SQL over shared columns."""
        coarse = self.coarse_model(model, dims, referenced_names(model.people or ""))
        if coarse is None or _normal(coarse.people or "") != _normal(model.people or ""):
            return model
        return coarse
