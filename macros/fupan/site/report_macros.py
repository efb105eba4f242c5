"""The macros writers call from Markdown. Each docstring is the writers' reference: the first
line says what it shows, `Example:` gives a call that the macro reference page renders live.

Macros compute through the engine, format through `fmt`, draw through `charts` and emit HTML
through `components`; they hold no numbers or styling of their own.

Every macro (here and in the finding, section and page macro modules) is a module-level function
whose first parameter is the build's review context, registered by `@macro` (registry.py), which
binds the review and wraps the macro once per build. `number` and `figure` are the helpers the
macro modules share.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from html import escape
from typing import Any

from fupan.data.store import quote_literal
from fupan.presentation import charts, components, fmt, i18n
from fupan.intake.derive import UNCATEGORISED
from fupan.semantics.engine import OTHER_GROUP, MetricError, MissingData, change_between
from fupan.semantics.periods import Period, comparison_period, month_keys, parse_period
from fupan.site.context import Review
from fupan.site import absent
from fupan.site.page_macros import published_path
from fupan.site.registry import macro
from fupan.speed.lazy import lazy_import

pd = lazy_import("pandas")

TIME_DIMS = ("month", "quarter", "date", "year")
# Campaign names often start with the year ("2025年618年中大促"); on a chart of that year the
# year is noise. "年" goes too when a number or 双 follows it (2025年双11 → 双11), but not in
# 2025年货节 (年货节).
_YEAR_PREFIX = re.compile(r"^\s*\d{4}(?:年(?=[0-9０-９双]))?\s*")


def missing_notice(review: Review, datasets: list[str], locale: str) -> str:
    """The one notice of a section whose optional data is absent: what the data is and the
    file that would enable it (declared in data/datasets.yml, or where to put it and declare it)."""
    declared = review.contract.datasets
    sep = i18n.text("list.separator", locale)
    names = sep.join(declared[d].description(locale) if d in declared else review.catalogue.dataset_label(d, locale)
                     for d in datasets)
    paths = ", ".join(published_path(declared[d].path, review.config.project_dir, review.contract.data_dir)
                      if d in declared else f"data/{review.catalogue.dataset_file(d)}" for d in datasets)
    return components.notice(i18n.text("report.missing" if all(d in declared for d in datasets)
                                       else "report.missing_undeclared", locale, paths=paths, names=names))


def _guard_missing(review: Review, fn: Callable[..., str]) -> Callable[..., str]:
    """An absent optional dataset: the output gives way to a marker, which the page settles
    into at most one notice per section (site/absent.py)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            return fn(*args, **kwargs)
        except MissingData as exc:
            review.note_missing(", ".join(exc.datasets))
            return absent.marker(exc.datasets)

    return wrapper


def _bucket_period(dim: str, key: str, as_of: dt.date | None) -> Period:
    """The period one time bucket of a breakdown covers (month '2025-06', quarter '2025-Q2',
    year '2025', date '2025-06-18')."""
    if dim == "date":
        return parse_period(f"{key}..{key}", as_of)
    return parse_period(key, as_of)


def event_label(name: str) -> str:
    """A campaign name as an event label on a chart: without a leading year."""
    short = _YEAR_PREFIX.sub("", str(name)).strip()
    return short or str(name)


# -- helpers every macro module shares ---------------------------------------------------------
def number(review: Review, value: Any, kind: str, locale: str, unit: str | None = None) -> str:
    """A value formatted with the build's currency and percentage-point label; `unit`: the one
    unit of the column it is in (fmt.column_unit)."""
    return fmt.format_value(value, kind, locale, currency=review.config.currency_symbol,
                            pp_label=review.config.pp_label, unit=unit)


def figure(review: Review, chart: Any, description: str, caption: str, locale: str,
           dimension: str | None = None) -> str:
    """A chart as a figure: embedded spec (drawn in the browser), static SVG (print and no
    JavaScript), stable id on the current page and a text description for screen readers.
    `dimension`: the dimension whose label the chart's category field carries as its title."""
    spec = components.chart_spec(chart, review.config.max_chart_rows)
    spec["description"] = description  # vega-embed labels the drawn chart with it
    element_id = review.unique_id(components.spec_id(spec))
    image = charts.static_image_source(spec, review.config.cache_dir, locale)
    return components.chart_figure(spec, element_id, description, caption, image, dimension)


# -- report macros' own helpers ---------------------------------------------------------------
def _change_kind(review: Review, metric_id: str) -> str:
    return review.catalogue.metrics[metric_id].change_kind


def _change_text(review: Review, metric_id: str, change: float | None, locale: str) -> tuple[str, str | None]:
    kind = _change_kind(review, metric_id)
    return number(review, change, kind, locale), fmt.direction(change, kind)


def _definition_href(review: Review, metric_id: str) -> str:
    return review.link(f"definitions/#{metric_id}")


def _comparison_label(compare: str, locale: str) -> str:
    return i18n.text("comparison.prev" if compare == "prev" else "comparison.yoy", locale)


def dim_label(review: Review, dim: str, locale: str, in_sentence: bool = False) -> str:
    """What a dimension is called (the catalogue's label); `in_sentence` writes it as a word
    inside a sentence (English: lower case unless an acronym)."""
    label = review.catalogue.dimension_label(dim, locale)
    return i18n.in_sentence(label, locale) if in_sentence else label


def empty_months(review: Review, metric_ids: list[str] | tuple[str, ...], period: Period) -> set[str]:
    """The months ('2025-03') of `period` without a row in data the metrics read that a shop
    records every month it trades (engine.months_without_rows)."""
    datasets = [d for m in metric_ids for d in review.catalogue.datasets_of(m)]
    return set(review.engine.months_without_rows(datasets, period))


def no_data_text(text: str, locale: str) -> str:
    """A month's label marked as one without data: a gap in a line, a missing bar or a "—" must
    not read as a month of real zeros."""
    return i18n.text("time.no_data_month", locale, month=text)


def month_labels(review: Review, period: Period, empty: set[str], locale: str) -> dict[str, str]:
    """Each month of the period ('2025-03') → its label on a time axis over months (2025年3月),
    marked when the month is without data."""
    return {key: no_data_text(number(review, key, "month", locale), locale) if key in empty
            else number(review, key, "month", locale) for key in month_keys(period)}


def with_empty_months(frame: pd.DataFrame, by: str, empty: set[str]) -> pd.DataFrame:
    """`frame` with a row (its values missing) for each month of `empty` it lacks: a month
    without data keeps its place in a table or chart, marked, rather than vanishing."""
    extra = sorted(empty - {str(k) for k in frame[by]})
    if not extra:
        return frame
    return pd.concat([frame, pd.DataFrame({by: extra})], ignore_index=True)


def _dim_value_text(review: Review, dim: str, key: Any, locale: str, empty: set[str] = frozenset()) -> str:
    if fmt.is_missing(key):
        return i18n.text("report.unknown", locale)
    if dim == "month" and str(key) in empty:
        return no_data_text(number(review, key, dim, locale), locale)
    if dim == "month":  # a month of the review year covered only in part says which days
        text = number(review, key, dim, locale)
        p = review.period()
        inside = p.start <= dt.date(int(str(key)[:4]), int(str(key)[5:7]), 1) <= p.end
        return review.partial_month_text(text, review.partial_days(p, int(str(key)[5:7])) if inside else None,
                                         locale)
    if dim in ("quarter", "date"):
        return number(review, key, dim, locale)
    if dim == "year":
        return i18n.text("time.year", locale, year=key)
    # Values fupan itself writes into the data (a merged group, a product without a category)
    # are shown in the page's language, unlike the shop's own values.
    if str(key) == OTHER_GROUP:
        return i18n.text("report.others", locale)
    if str(key) == UNCATEGORISED:
        return i18n.text("report.uncategorised", locale)
    return review.catalogue.dimension_value_label(dim, str(key), locale)


# -- events (618, 双11 …) on time axes ------------------------------------------------------
def _event_months(review: Review, events: Any, period: Period, locale: str) -> list[tuple[str, str]]:
    """(month key, label) of the events to mark in the period: the explicit list, else the
    campaigns dataset when present (each campaign at the month it ends in), else none."""
    found: list[tuple[str, str]] = []
    if events is False or events == []:
        return []
    if events is None:
        if not review.store.has("campaigns"):
            return []
        sql = (
            "SELECT name, CAST(start_date AS VARCHAR) AS start_date, "
            "CAST(end_date AS VARCHAR) AS end_date FROM campaigns "
            f"WHERE end_date >= DATE {quote_literal(period.start.isoformat())} "
            f"AND start_date <= DATE {quote_literal(period.end.isoformat())} "
            "ORDER BY end_date, start_date, name"
        )
        frame = review.engine.run(sql, ["campaigns"])
        for name, _start, end in frame.itertuples(index=False, name=None):
            if fmt.is_missing(name) or fmt.is_missing(end):
                continue
            day = min(dt.date.fromisoformat(str(end)[:10]), period.end)
            found.append((f"{day.year:04d}-{day.month:02d}", event_label(name)))
    else:
        if not isinstance(events, (list, tuple)):
            raise MetricError('events must be a list such as [{"month": "2025-06", "label": '
                             '"618"}], or False for none')
        for item in events:
            if not isinstance(item, dict) or "label" not in item or not (
                    "month" in item or "date" in item):
                raise MetricError(f'event {item!r}: give "month" (YYYY-MM) or "date" '
                                 '(YYYY-MM-DD) and "label", e.g. {"month": "2025-06", '
                                 '"label": "618"}')
            when = str(item.get("month") or item.get("date"))
            if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", when):
                raise MetricError(f"event {item!r}: {when!r} is not YYYY-MM or YYYY-MM-DD")
            key = when[:7]
            if period.start.strftime("%Y-%m") <= key <= period.end.strftime("%Y-%m"):
                found.append((key, str(item["label"])))
    joined: dict[str, list[str]] = {}
    for key, label in found:
        if label not in joined.setdefault(key, []):
            joined[key].append(label)
    glue = i18n.text("list.events", locale)
    return [(key, glue.join(labels)) for key, labels in sorted(joined.items())]


# -- KPI cards -------------------------------------------------------------------------------
def _monthly_series(review: Review, metric_id: str, p: Period) -> list[float | None]:
    """The metric's value in each month of the period (for sparklines)."""
    if "month" not in review.catalogue.dimensions_of(metric_id):
        return []
    metric = review.catalogue.metrics[metric_id]
    frame = review.engine.compute(metric_id, p, ("month",))
    values = {k: v for k, v in zip(frame["month"], frame["value"], strict=True)
              if not fmt.is_missing(v)}
    countable = metric.additive or (metric.kind == "aggregate"
                                    and metric.agg in ("sum", "count", "count_distinct"))
    fill = 0.0 if countable else None
    empty = empty_months(review, [metric_id], p)  # a gap in the line, not a zero
    return [values.get(k, None if k in empty else fill) for k in month_keys(p)]


@macro
def kpis(review: Review, metrics: list[str] | str, period: str | int | None = None, compare: str = "yoy",
         sparkline: bool = True, locale: str | None = None) -> str:
    """KPI cards: each metric's value for the period with its change, arrow and a sparkline
    of its months.

    Colour follows the review's convention (`extra.review.colors`: red = up by default).
    Each card links to the metric's definition. `sparkline=False` leaves out the tiny
    monthly line.

    Example: {{ kpis(["net_sales", "orders", "aov", "buyers"]) }}
    """
    loc = review.locale(locale)
    ids = [metrics] if isinstance(metrics, str) else list(metrics)
    p = review.period(period)
    cards = []
    absent_data: list[str] = []  # a card whose data is absent is left out; the others show
    for metric_id in ids:
        try:
            review.engine.require(metric_id)
        except MissingData as exc:
            absent_data.extend(d for d in exc.datasets if d not in absent_data)
            continue
        cmp = review.engine.compare(metric_id, p, compare)
        text, direction = _change_text(review, metric_id, cmp.change, loc)
        spark = components.sparkline_svg(_monthly_series(review, metric_id, p)) if sparkline else ""
        cards.append(components.Card(
            metric_id=metric_id,
            label=cmp.metric.label(loc),
            value=cmp.value,
            value_text=number(review, cmp.value, cmp.metric.unit, loc),
            change_text=text,
            direction=direction,
            comparison_label=_comparison_label(compare, loc),
            href=_definition_href(review, metric_id),
            sparkline=spark,
            unit=cmp.metric.unit, period=p.key, change=cmp.change, change_unit=_change_kind(review, metric_id),
            comparison=compare if compare in ("yoy", "prev") else None,
            unit_text=cmp.metric.unit_text(loc),
        ))
    if not cards:
        raise MissingData(absent_data, [])
    grid = components.kpi_grid(cards, review.config.colors)
    if absent_data:
        review.note_missing(", ".join(absent_data))
        return grid + absent.marker(absent_data)
    return grid


@macro
def value(review: Review, metric: str, period: str | int | None = None, compare: str | None = None,
          filters: dict | None = None, locale: str | None = None) -> str:
    """One formatted number for use inside a sentence, optionally with its change.

    Example: {{ value("net_sales", compare="yoy") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    metric_def = review.engine.check_request(metric, (), filters)
    if compare:
        cmp = review.engine.compare(metric, p, compare, filters)
        text, direction = _change_text(review, metric, cmp.change, loc)
        return components.inline_value(number(review, cmp.value, metric_def.unit, loc), metric,
                                       _definition_href(review, metric),
                                       f"{_comparison_label(compare, loc)} {text}", direction,
                                       review.config.colors, unit=metric_def.unit, value=cmp.value,
                                       period=p.key, change=cmp.change,
                                       comparison=compare if compare in ("yoy", "prev") else None,
                                       change_unit=_change_kind(review, metric), locale=loc)
    v = review.engine.value(metric, p, filters)
    return components.inline_value(number(review, v, metric_def.unit, loc), metric, _definition_href(review, metric),
                                   unit=metric_def.unit, value=v, period=p.key)


# -- charts ----------------------------------------------------------------------------------
@macro
def monthly_trend(review: Review, metric: str, period: str | int | None = None, compare: str = "yoy",
                  filters: dict | None = None, events: list[dict] | bool | None = None,
                  title: str | None = None, locale: str | None = None) -> str:
    """Monthly line of a metric for the period, the comparison year overlaid, with the
    peak and trough months and events (618, Double 11 …) marked.

    Events come from the campaigns dataset when it is present, or from
    `events=[{"month": "2025-06", "label": "618"}]`; `events=False` shows none.

    Example: {{ monthly_trend("net_sales") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    metric_def = review.engine.check_request(metric, ("month",), filters)

    frames = []
    for series_period in [p, comparison_period(p, compare)]:
        if series_period is None:
            continue
        frame = review.engine.compute(metric, series_period, ("month",), filters)
        frame["series"] = i18n.text("time.year", loc, year=series_period.start.year)
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["month"].notna()].reset_index(drop=True)
    if rows.empty:
        return components.notice(i18n.text("report.no_data", loc, what=metric_def.label(loc)), "info")
    months = [review.month_label(m, p, loc) for m in range(1, 13)]  # partial months say their days
    # A month without data is marked on the axis: the line passes it with no point, which alone
    # could read as a dip or go unseen. The label speaks of the review year, as partial days do.
    for key in empty_months(review, [metric], p):
        months[int(key[5:7]) - 1] = no_data_text(months[int(key[5:7]) - 1], loc)
    rows["x_order"] = rows["month"].str[5:7].astype(int)
    rows["x"] = [months[m - 1] for m in rows["x_order"]]
    rows["value_text"] = [number(review, v, metric_def.unit, loc) for v in rows["value"]]
    current = rows[rows["series"] == rows["series"].iloc[0]]
    marks = pd.DataFrame()
    known = current[current["value"].notna()]
    if len(known) >= 2:
        peak = known.loc[known["value"].idxmax()]
        trough = known.loc[known["value"].idxmin()]
        words = (i18n.text("trend.peak", loc), i18n.text("trend.trough", loc))
        marks = pd.DataFrame([
            {"x": peak["x"], "value": peak["value"], "label": words[0]},
            {"x": trough["x"], "value": trough["value"], "label": words[1]},
        ])
    event_rows = pd.DataFrame(
        [{"x": months[int(key[5:7]) - 1], "label": label}
         for key, label in _event_months(review, events, p, loc)], columns=["x", "label"])
    domain = list(dict.fromkeys(months[int(k[5:7]) - 1] for k in month_keys(p)))
    chart = charts.trend(rows[["x", "x_order", "series", "value", "value_text"]], kind=metric_def.unit,
                         locale=loc, currency=review.config.currency_symbol, marks=marks,
                         events=event_rows, x_domain=domain)
    caption = title or i18n.text("trend.caption", loc, metric=metric_def.label(loc))
    description = _describe_trend(rows, marks, metric_def.label(loc), loc)
    if not event_rows.empty:
        names = i18n.text("list.separator", loc).join(
            f"{x} {label}" for x, label in zip(event_rows["x"], event_rows["label"], strict=True))
        description = i18n.text("trend.events", loc, text=description, names=names)
    return figure(review, chart, description, caption, loc)


@macro
def ranking(review: Review, metric: str, by: str, top: int = 10, period: str | int | None = None,
            filters: dict | None = None, title: str | None = None,
            locale: str | None = None) -> str:
    """Ranked bars of a metric by a dimension (top N), each with its share of the total.

    Example: {{ ranking("net_sales", by="platform") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    metric_def = review.engine.check_request(metric, (by,), filters)
    frame = review.engine.compute(metric, p, (by,), filters)
    frame = frame.sort_values(["value", by], ascending=[False, True], kind="mergesort")
    total = frame["value"].sum()
    top_rows = frame.head(int(top)).copy()
    top_rows["label"] = [_dim_value_text(review, by, k, loc) for k in top_rows[by]]
    top_rows["value_text"] = [number(review, v, metric_def.unit, loc) for v in top_rows["value"]]
    if metric_def.additive and total:
        top_rows["share_text"] = [number(review, v / total, "percent", loc) for v in top_rows["value"]]
    chart = charts.bars(top_rows[[c for c in ("label", "value", "value_text", "share_text")
                                  if c in top_rows.columns]],
                        kind=metric_def.unit, locale=loc, currency=review.config.currency_symbol,
                        label_title=dim_label(review, by, loc), value_title=metric_def.label(loc))
    caption = title or i18n.text("ranking.caption", loc, metric=metric_def.label(loc))
    lead = top_rows.iloc[0] if not top_rows.empty else None
    description = caption if lead is None else i18n.text(
        "ranking.description", loc, caption=caption, label=lead["label"], value=lead["value_text"])
    return figure(review, chart, description, caption, loc, by)


@macro
def share(review: Review, metric: str, by: str, period: str | int | None = None, top: int = 6,
          style: str = "donut", filters: dict | None = None, title: str | None = None,
          locale: str | None = None) -> str:
    """Each part's share of the total as a donut (or one stacked bar: `style="bar"`); parts
    beyond the top N are summed as Others.

    Only additive metrics (sales, orders, spend …) make a whole; rates cannot be shared.

    Example: {{ share("net_sales", by="platform") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    metric_def = review.engine.check_request(metric, (by,), filters)
    if not metric_def.additive:
        raise MetricError(f"share(): {metric!r} ({metric_def.label(loc)}) is not additive, so "
                          "its parts do not add up to a whole; use ranking() or table()")
    if style not in ("donut", "bar"):
        raise MetricError(f"share(): style {style!r} unknown; use 'donut' or 'bar'")
    frame = review.engine.compute(metric, p, (by,), filters)
    frame = frame[frame["value"].notna()].sort_values(["value", by], ascending=[False, True],
                                                      kind="mergesort")
    if (frame["value"] < 0).any():
        raise MetricError(f"share(): {metric!r} is negative for some {by}; a share of a "
                         "whole needs parts ≥ 0 (use ranking() instead)")
    total = float(frame["value"].sum())
    # Groups the engine already merged (too few people to show) join the 其他 slice.
    merged_other = frame[by].astype(str) == OTHER_GROUP
    named = frame[~merged_other]
    head = named.head(int(top))
    parts = [(_dim_value_text(review, by, k, loc), float(v)) for k, v in zip(head[by], head["value"],
                                                                             strict=True)]
    rest = pd.concat([named.iloc[int(top):], frame[merged_other]])
    if not rest.empty:
        parts.append((i18n.text("report.others", loc), float(rest["value"].sum())))
    rows = pd.DataFrame(parts, columns=["label", "value"])
    rows["share"] = rows["value"] / total if total else float("nan")
    rows["value_text"] = [number(review, v, metric_def.unit, loc) for v in rows["value"]]
    rows["share_text"] = [number(review, s, "percent", loc) for s in rows["share"]]
    chart = charts.share(rows, locale=loc, style=style, label_title=dim_label(review, by, loc))
    caption = title or i18n.text("share.caption", loc, metric=metric_def.label(loc),
                                 dim=dim_label(review, by, loc, in_sentence=True))
    description = i18n.text("format.described", loc, caption=caption, items=i18n.text("list.comma", loc).join(
        f"{a} {b}" for a, b in zip(rows["label"], rows["share_text"], strict=True)))
    return figure(review, chart, description, caption, loc, by)


@macro
def funnel(review: Review, period: str | int | None = None, filters: dict | None = None,
           title: str | None = None, locale: str | None = None) -> str:
    """The conversion funnel visit → add to cart → order → pay, with each step's users and
    its rate of the previous step.

    Example: {{ funnel() }}
    """
    from fupan.semantics.analyses import funnel_steps

    loc = review.locale(locale)
    p = review.period(period)
    frame = funnel_steps(review.engine, p, filters)
    rows = pd.DataFrame({
        "label": frame["label_zh"] if loc == "zh-CN" else frame["label_en"],
        "users": frame["users"].astype(float),
        "users_text": [number(review, v, "count", loc) for v in frame["users"]],
        "rate_prev_text": [number(review, v, "percent", loc) for v in frame["rate_prev"]],
        "rate_first_text": [number(review, v, "percent", loc) for v in frame["rate_first"]],
    })
    chart = charts.funnel(rows, locale=loc)
    caption = title or i18n.text("funnel.caption", loc)
    steps = i18n.text("list.comma", loc).join(
        f"{a} {b}" if r == fmt.MISSING else i18n.text("format.parenthesised", loc, text=f"{a} {b}", inner=r)
        for a, b, r in zip(rows["label"], rows["users_text"], rows["rate_prev_text"],
                           strict=True))
    return figure(review, chart, i18n.text("format.described", loc, caption=caption, items=steps), caption, loc)


@macro
def retention_heatmap(review: Review, period: str | int | None = None, max_months: int = 12,
                      title: str | None = None, locale: str | None = None) -> str:
    """Monthly cohort retention as a heatmap: each first-purchase month's share of buyers
    who bought again 1, 2, … months later.

    Example: {{ retention_heatmap() }}
    """
    from fupan.semantics.analyses import cohort_retention

    loc = review.locale(locale)
    p = review.period(period)
    frame = cohort_retention(review.engine, p, int(max_months))
    if frame.empty:
        # No cohort to show is not always no first-time buyers: every cohort may be smaller than
        # min_group_size and so merged for privacy, which the notice must say instead.
        new_buyers = review.engine.value("new_buyers", p)
        if review.engine.min_group_size > 1 and new_buyers is not None and new_buyers > 0:
            return components.notice(i18n.text("report.cohorts_hidden", loc, min=review.engine.min_group_size),
                                     kind="info")
        return components.notice(i18n.text("report.no_cohorts", loc), kind="info")
    rows = pd.DataFrame({
        "cohort": [number(review, c, "month", loc) for c in frame["cohort"]],
        "month_offset": frame["month_offset"].astype(int),
        "retention": frame["retention"].astype(float),
        "retention_text": [number(review, v, "percent", loc) for v in frame["retention"]],
        "buyers_text": [number(review, v, "count", loc) for v in frame["buyers"]],
        "cohort_size_text": [number(review, v, "count", loc) for v in frame["cohort_size"]],
    })
    chart = charts.heatmap(rows, locale=loc)
    caption = title or i18n.text("retention.caption", loc)
    one = rows[rows["month_offset"] == 1]
    if one.empty:
        description = caption
    else:
        best = one.loc[one["retention"].idxmax()]
        description = i18n.text("retention.description", loc, caption=caption, cohort=best["cohort"],
                                rate=best["retention_text"])
    return figure(review, chart, description, caption, loc)


@macro
def hit_scatter(review: Review, period: str | int | None = None, title: str | None = None,
                locale: str | None = None) -> str:
    """Products as points, average selling price against net sales, the hit products
    highlighted and named.

    The hit rule is stated on the definitions page (top sellers that grew).

    Example: {{ hit_scatter() }}
    """
    from fupan.semantics.analyses import hit_products

    loc = review.locale(locale)
    p = review.period(period)
    frame = hit_products(review.engine, p)
    frame = frame[frame["avg_price"].notna() & frame["net_sales"].notna()]
    hit = frame["is_hit"].astype(bool)
    rows = pd.DataFrame({
        "x": frame["avg_price"].astype(float),
        "y": frame["net_sales"].astype(float),
        "highlight": hit,
        "group": [i18n.text("scatter.hit" if h else "scatter.other_products", loc) for h in hit],
        "label": [str(n) if h else "" for n, h in zip(frame["product"], hit, strict=True)],
        "product_text": frame["product"].astype(str),
        "category_text": frame["category"].astype(str),
        "net_sales_text": [number(review, v, "currency", loc) for v in frame["net_sales"]],
        "avg_price_text": [number(review, v, "currency", loc) for v in frame["avg_price"]],
        "growth_text": [number(review, v, "pct_change", loc) for v in frame["growth"]],
        "units_text": [number(review, v, "count", loc) for v in frame["units"]],
    }).reset_index(drop=True)
    def t(key: str) -> str:
        return i18n.text(f"scatter.{key}", loc)

    chart = charts.scatter(
        rows, x_kind="currency", y_kind="currency", locale=loc, currency=review.config.currency_symbol,
        x_title=t("x_title"), y_title=t("y_title"),
        tooltip=[("product_text", dim_label(review, "product", loc)),
                 ("category_text", dim_label(review, "category", loc)),
                 ("group", t("group")), ("net_sales_text", t("net_sales")),
                 ("growth_text", t("growth")), ("avg_price_text", t("avg_price")),
                 ("units_text", t("units"))])
    caption = title or t("caption")
    hits = [str(n) for n in rows.loc[rows["highlight"], "product_text"]]
    description = i18n.text("scatter.description", loc, caption=caption, products=len(rows), hits=len(hits))
    if hits:
        description = i18n.text("format.described", loc, caption=description,
                                items=i18n.text("list.separator", loc).join(hits))
    return figure(review, chart, description, caption, loc)


@macro
def combo(review: Review, bar_metric: str, line_metric: str, by: str, period: str | int | None = None,
          filters: dict | None = None, top: int | None = None,
          events: list[dict] | bool | None = None, title: str | None = None,
          locale: str | None = None) -> str:
    """Bars of one metric and a line of another by the same dimension, on two y axes
    (e.g. ad spend and ROAS by channel).

    Categories are ordered by the bar metric (largest first), time buckets by time; with
    `by="month"` events (618, Double 11 …) are marked as in monthly_trend. Ad spend and ROAS by
    channel: `combo("ad_spend", "roas", by="channel")`.

    Example: {{ combo("net_sales", "aov", by="platform") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    bar_def = review.engine.check_request(bar_metric, (by,), filters)
    line_def = review.engine.check_request(line_metric, (by,), filters)
    bar = review.engine.compute(bar_metric, p, (by,), filters).rename(columns={"value": "bar_value"})
    line = review.engine.compute(line_metric, p, (by,), filters).rename(columns={"value": "line_value"})
    rows = bar.merge(line, on=by, how="outer")
    empty = empty_months(review, [bar_metric, line_metric], p) if by == "month" else set()
    rows = with_empty_months(rows, by, empty)
    if by in TIME_DIMS:
        rows = rows.sort_values(by, kind="mergesort", na_position="last")
    else:
        rows = rows.sort_values(["bar_value", by], ascending=[False, True], kind="mergesort",
                                na_position="last")
    if top:
        rows = rows.head(int(top))
    rows = rows.reset_index(drop=True)
    rows["label"] = [_dim_value_text(review, by, k, loc, empty) for k in rows[by]]
    rows["bar_text"] = [number(review, v, bar_def.unit, loc) for v in rows["bar_value"]]
    rows["line_text"] = [number(review, v, line_def.unit, loc) for v in rows["line_value"]]
    event_rows = None
    if by == "month":
        labels = dict(zip(rows[by], rows["label"], strict=True))
        event_rows = pd.DataFrame(
            [{"x": labels[key], "label": label} for key, label in _event_months(review, events, p, loc)
             if key in labels], columns=["x", "label"])
    chart = charts.combo(rows[["label", "bar_value", "bar_text", "line_value", "line_text"]],
                         bar_kind=bar_def.unit, line_kind=line_def.unit,
                         bar_label=bar_def.label(loc), line_label=line_def.label(loc),
                         locale=loc, currency=review.config.currency_symbol,
                         x_title=dim_label(review, by, loc), events=event_rows)
    caption = title or i18n.text("combo.caption", loc, bar=bar_def.label(loc), line=line_def.label(loc),
                                 dim=dim_label(review, by, loc, in_sentence=True))
    description = i18n.text("format.described", loc, caption=caption, items=i18n.text("list.semicolon", loc).join(
        f"{a} {b}, {c}" for a, b, c in zip(rows["label"], rows["bar_text"], rows["line_text"],
                                           strict=True)))
    return figure(review, chart, description, caption, loc, by)


# -- tables ----------------------------------------------------------------------------------
def _compare_rows(review: Review, metric_id: str, p: Period, by: str, compare: str,
                  filters: dict | None) -> pd.DataFrame:
    """Breakdown with value and change; time buckets compare with their own comparison
    bucket (June with last June for yoy, with May for prev)."""
    if by not in TIME_DIMS:
        return review.engine.compare_by(metric_id, p, (by,), compare, filters)
    metric_def = review.catalogue.metrics[metric_id]
    frame = review.engine.compute(metric_id, p, (by,), filters)
    changes = []
    for key, v in zip(frame[by], frame["value"], strict=True):
        base_period = (comparison_period(_bucket_period(by, str(key), review.config.as_of), compare)
                       if not fmt.is_missing(key) else None)
        base = review.engine.value(metric_id, base_period, filters) if base_period else None
        changes.append(change_between(metric_def, None if pd.isna(v) else float(v), base))
    frame["change"] = changes
    return frame


def _parse_sort(sort: str | None, by: str, ids: list[str]) -> tuple[str, bool]:
    if sort is None:
        return (by, True) if by in TIME_DIMS else (ids[0], False)
    parts = str(sort).split()
    key = parts[0]
    order = parts[1].lower() if len(parts) > 1 else None
    valid = [by, *ids]
    if key not in valid or order not in (None, "asc", "desc") or len(parts) > 2:
        raise MetricError(f"table(): sort={sort!r} not understood; use one of "
                         f"{', '.join(valid)}, optionally followed by ' asc' or ' desc'")
    if order is None:
        return key, key == by
    return key, order == "asc"


@macro
def table(review: Review, metrics: list[str] | str, by: str = "platform", period: str | int | None = None,
          compare: str | None = None, top: int | None = None, totals: bool = False,
          download: bool = True, sort: str | None = None, filters: dict | None = None,
          title: str | None = None, locale: str | None = None) -> str:
    """A table of metrics (columns) by a dimension (rows), sortable by clicking a header,
    with optional change columns, totals row and CSV download.

    `compare="yoy"` (or "prev") adds a change column after each metric; `totals=True` adds
    a totals row (additive metrics summed, rates and averages recomputed for the whole);
    `sort="aov"` orders by a metric (largest first; add " asc" for smallest first), the
    default is the first metric (time buckets: in time order); `top=10` keeps the first 10
    rows. Like every table, it offers its rows as a CSV file of raw values (Download CSV);
    `download=False` leaves that out.

    Example: {{ table(["net_sales", "orders", "aov"], by="platform", compare="yoy", totals=True, download=True) }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    ids = [metrics] if isinstance(metrics, str) else list(metrics)
    if not ids:
        raise MetricError("table(): give at least one metric id")
    if compare in (None, "", "none", False):
        compare = None
    defs = {m: review.engine.check_request(m, (by,), filters) for m in ids}
    for m in ids:
        review.engine.require(m)
    merged: pd.DataFrame | None = None
    for m in ids:
        frame = (_compare_rows(review, m, p, by, compare, filters) if compare
                 else review.engine.compute(m, p, (by,), filters))
        keep = [by, "value"] + (["change"] if compare else [])
        frame = frame[keep].rename(columns={"value": m, "change": f"{m}__change"})
        merged = frame if merged is None else merged.merge(frame, on=by, how="outer")
    assert merged is not None
    empty = empty_months(review, ids, p) if by == "month" else set()
    merged = with_empty_months(merged, by, empty)
    key, ascending = _parse_sort(sort, by, ids)
    secondary = [by] if key != by else []
    merged = merged.sort_values([key, *secondary], ascending=[ascending] + [True] * len(secondary),
                                kind="mergesort", na_position="last").reset_index(drop=True)
    shown = merged.head(int(top)) if top else merged

    columns = [components.Column(dim_label(review, by, loc), numeric=False, kind="dim", dimension=by)]
    for m in ids:
        columns.append(components.Column(defs[m].label(loc), href=_definition_href(review, m), key=m, metric=m,
                                         unit=defs[m].unit))
        if compare:
            word = _comparison_label(compare, loc)
            columns.append(components.Column(
                i18n.text("column.with_comparison", loc, metric=defs[m].label(loc), comparison=word),
                kind="change", key=m, metric=m, unit=_change_kind(review, m), comparison=compare))

    total_values: dict[str, Any] = {}
    if totals:
        for m in ids:
            if defs[m].additive:
                total_values[m] = merged[m].sum(min_count=1)
            else:  # rates and distinct counts: recomputed for the whole, never summed
                total_values[m] = review.engine.value(m, p, filters)
    # One unit per column, the total included (never ¥3,808.69 above ¥1.6万).
    units = {m: fmt.column_unit([*shown[m], total_values.get(m)], defs[m].unit, loc) for m in ids}

    def metric_cells(m: str, v: Any, change: Any) -> list[components.Cell]:
        v = None if fmt.is_missing(v) else float(v)
        cells = [components.Cell(number(review, v, defs[m].unit, loc, units[m]), v)]
        if compare:
            change = None if fmt.is_missing(change) else float(change)
            text, direction = _change_text(review, m, change, loc)
            cells.append(components.Cell(text, change,
                                         components.tone_class(direction, review.config.colors)))
        return cells

    body = []
    for record in shown.to_dict("records"):
        label = _dim_value_text(review, by, record[by], loc, empty)
        key = None if fmt.is_missing(record[by]) else str(record[by])
        row = [components.Cell(label, label if key == OTHER_GROUP else key)]
        for m in ids:
            row.extend(metric_cells(m, record[m], record.get(f"{m}__change")))
        body.append(row)
    total_row = None
    if totals:
        label = (i18n.text("report.total_all", loc, n=len(merged)) if len(shown) < len(merged)
                 else i18n.text("report.total", loc))
        total_row = [components.Cell(label)]
        for m in ids:
            change = review.engine.compare(m, p, compare, filters).change if compare else None
            total_row.extend(metric_cells(m, total_values[m], change))
    labels = [defs[m].label(loc) for m in ids]
    caption = title or ""
    stem = title or i18n.text("table.download_name", loc, metrics=i18n.text("list.separator", loc).join(labels),
                              dim=dim_label(review, by, loc, in_sentence=True))
    filename = re.sub(r'[\\/:*?"<>|\s]+', "_", stem).strip("_") + ".csv"
    spec = components.Table(columns=columns, rows=body, totals=total_row, caption=caption,
                            download=filename, period=p.key, offer_download=bool(download),
                            labels={"sort": i18n.text("table.sort", loc), "download": i18n.text("table.download", loc),
                                    "download_title": i18n.text("table.download_title", loc),
                                    "definition": i18n.text("table.definition", loc),
                                    "for_column": i18n.text("table.for_column", loc)})
    return components.data_table(spec, review.unique_id(components.table_id(spec)))


# -- text ------------------------------------------------------------------------------------
@macro
def callout(review: Review, text_html: str, kind: str = "info", title: str | None = None,
            locale: str | None = None) -> str:
    """A highlighted box for a finding (admonition style); findings macros fill it with
    computed sentences.

    `kind` is an admonition type (info, tip, success, warning, danger, note …); the title
    defaults to the locale's word for a finding.

    Example: {{ callout(finding_peak("net_sales"), kind="tip") }}
    """
    loc = review.locale(locale)
    # Findings whose data is absent give way to markers: the box shows the others, or goes.
    absent_data = absent.absent_in(str(text_html))
    body = absent.without_markers(str(text_html))
    if absent_data and not body.strip():
        raise MissingData(absent_data, [])
    box = components.callout(body, kind, i18n.text("report.finding", loc) if title is None else title)
    return box + absent.marker(absent_data) if absent_data else box


@macro
def metric_definitions(review: Review, locale: str | None = None) -> str:
    """The table of every metric definition, with an anchor per metric id.

    Example: {{ metric_definitions() }}
    """
    loc = review.locale(locale)
    head = i18n.text("definitions.head", loc)
    code = review.config.currency.upper()
    # The locale's own name of the yuan (元), where it has one; else the currency code.
    currency = (i18n.text("definitions.local_currency", loc) if code in ("CNY", "RMB") else "") or code
    rows = []
    for metric in review.catalogue.metrics.values():
        datasets = ", ".join(review.catalogue.datasets_of(metric.id))
        dims = i18n.text("list.separator", loc).join(
            f'<span data-dimension="{escape(d)}">{escape(dim_label(review, d, loc))}</span>'
            for d in review.catalogue.dimensions_of(metric.id))
        unit = fmt.unit_label(metric.unit, loc, currency=currency)
        rows.append(
            f'<tr id="{escape(metric.id)}"><td>{escape(metric.label(loc))}</td>'
            f"<td><code>{escape(metric.id)}</code></td><td>{escape(metric.description(loc))}</td>"
            f"<td>{escape(unit)}</td><td>{escape(datasets)}</td><td>{dims}</td></tr>"
        )
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (f'<div class="fupan-definitions"><table><thead><tr>{header}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


@macro(missing_notice=False)
def has_data(review: Review, dataset: str) -> bool:
    """True when data/ holds the (optional) dataset, for sections that should only appear
    with their data: `{% if has_data("funnel") %} … {% endif %}`.

    Example: {{ has_data("campaigns") }}
    """
    if dataset not in review.contract.datasets:
        if dataset in review.catalogue.dataset_labels:  # a dataset this shop does not have
            return False
        from fupan.data.contract import unknown_name_message

        raise MetricError(unknown_name_message("dataset", dataset, review.catalogue.dataset_labels))
    return review.store.has(dataset)


def _describe_trend(rows: pd.DataFrame, marks: pd.DataFrame, label: str, locale: str) -> str:
    """A one-sentence text alternative for screen readers."""
    if marks.empty:
        return label
    peak, trough = marks.iloc[0], marks.iloc[1]
    values = dict(zip(rows["x"] + rows["series"], rows["value_text"], strict=True))
    series = rows["series"].iloc[0]
    return i18n.text("trend.description", locale, metric=label, series=series, peak=peak["x"],
                     peak_value=values[peak["x"] + series], trough=trough["x"],
                     trough_value=values[trough["x"] + series])
