"""The macros writers call from Markdown. Each docstring is the writers' reference: the first
line says what it shows, `Example:` gives a call that the macro reference page renders live.

Macros compute through the engine, format through `fmt`, draw through `charts` and emit HTML
through `components`; they hold no numbers or styling of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from html import escape
from typing import Any

import pandas as pd

from . import charts, components, fmt
from .context import Review, log
from .engine import MissingData

MONTH_LABELS = {"zh-CN": [f"{m}月" for m in range(1, 13)],
                "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                       "Dec"]}
COMPARISON_LABELS = {
    "yoy": {"zh-CN": "同比", "en": "YoY"},
    "prev": {"zh-CN": "环比", "en": "vs prev."},
}
TEXT = {
    "missing": {
        "zh-CN": "缺少数据：本部分需要数据文件 {paths}（{names}），放入 data/ 后重新构建即可显示。",
        "en": "Missing data: this part needs the data file {paths} ({names}); add it to data/ and rebuild.",
    },
}


def _missing_notice(review: Review, exc: MissingData, locale: str) -> str:
    names = "、".join(review.contract.datasets[d].description(locale) for d in exc.datasets)
    paths = ", ".join(f"data/{p}" for p in exc.paths)
    review.missing_sections.append(f"{review.page_path}: needs {paths}")
    log.info("fupan: %s shows a notice: optional data %s is absent", review.page_path, paths)
    return components.notice(TEXT["missing"][locale].format(paths=paths, names=names))


def _guard_missing(review: Review, fn: Callable[..., str]) -> Callable[..., str]:
    """Turn an absent optional dataset into a visible notice instead of an error."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            return fn(*args, **kwargs)
        except MissingData as exc:
            return _missing_notice(review, exc, review.locale(kwargs.get("locale")))

    return wrapper


def make_macros(review: Review) -> dict[str, Callable[..., str]]:
    """The writer macros bound to one build's review context."""
    cfg = review.config

    def number(value: Any, kind: str, locale: str) -> str:
        return components.format_number(value, kind, locale, cfg.currency_symbol, cfg.pp_label)

    def change_text(metric_id: str, change: float | None, locale: str) -> tuple[str, str | None]:
        kind = "pp_change" if review.catalogue.metrics[metric_id].is_rate else "pct_change"
        return number(change, kind, locale), fmt.direction(change, kind)

    def definition_href(metric_id: str) -> str:
        return review.link(f"definitions/#{metric_id}")

    def kpis(metrics: list[str] | str, period: str | int | None = None, compare: str = "yoy",
             locale: str | None = None) -> str:
        """KPI cards: each metric's value for the period with its change and arrow.

        Colour follows the review's convention (red = up by default). Each card links to the
        metric's definition.

        Example: {{ kpis(["net_sales", "orders", "aov", "buyers"]) }}
        """
        loc = review.locale(locale)
        ids = [metrics] if isinstance(metrics, str) else list(metrics)
        p = review.period(period)
        cards = []
        for metric_id in ids:
            review.engine.require(metric_id)
            cmp = review.engine.compare(metric_id, p, compare)
            text, direction = change_text(metric_id, cmp.change, loc)
            cards.append(components.Card(
                metric_id=metric_id,
                label=cmp.metric.label(loc),
                value=cmp.value,
                value_text=number(cmp.value, cmp.metric.unit, loc),
                change_text=text,
                direction=direction,
                comparison_label=COMPARISON_LABELS.get(compare, COMPARISON_LABELS["yoy"])[loc],
                href=definition_href(metric_id),
            ))
        return components.kpi_grid(cards, cfg.colors)

    def value(metric: str, period: str | int | None = None, compare: str | None = None,
              filters: dict | None = None, locale: str | None = None) -> str:
        """One formatted number for use inside a sentence, optionally with its change.

        Example: 全年净销售额 {{ value("net_sales", compare="yoy") }}。
        """
        loc = review.locale(locale)
        p = review.period(period)
        metric_def = review.engine.check_request(metric, (), filters)
        if compare:
            cmp = review.engine.compare(metric, p, compare, filters)
            text, direction = change_text(metric, cmp.change, loc)
            label = COMPARISON_LABELS.get(compare, COMPARISON_LABELS["yoy"])[loc]
            return components.inline_value(number(cmp.value, metric_def.unit, loc), metric,
                                           definition_href(metric), f"{label} {text}", direction)
        v = review.engine.value(metric, p, filters)
        return components.inline_value(number(v, metric_def.unit, loc), metric, definition_href(metric))

    def monthly_trend(metric: str, period: str | int | None = None, compare: str = "yoy",
                      filters: dict | None = None, title: str | None = None,
                      locale: str | None = None) -> str:
        """Monthly line of a metric for the period, the comparison year overlaid, with the
        peak and trough months marked.

        Example: {{ monthly_trend("net_sales") }}
        """
        loc = review.locale(locale)
        p = review.period(period)
        metric_def = review.engine.check_request(metric, ("month",), filters)
        from .periods import comparison_period

        frames = []
        for series_period in [p, comparison_period(p, compare)]:
            if series_period is None:
                continue
            frame = review.engine.compute(metric, series_period, ("month",), filters)
            frame["series"] = (f"{series_period.start.year}年" if loc == "zh-CN"
                               else str(series_period.start.year))
            frames.append(frame)
        rows = pd.concat(frames, ignore_index=True)
        rows["x_order"] = rows["month"].str[5:7].astype(int)
        rows["x"] = [MONTH_LABELS[loc][m - 1] for m in rows["x_order"]]
        rows["value_text"] = [number(v, metric_def.unit, loc) for v in rows["value"]]
        current = rows[rows["series"] == rows["series"].iloc[0]]
        marks = pd.DataFrame()
        if len(current) >= 2:
            peak = current.loc[current["value"].idxmax()]
            trough = current.loc[current["value"].idxmin()]
            words = ("峰值", "谷值") if loc == "zh-CN" else ("Peak", "Trough")
            marks = pd.DataFrame([
                {"x": peak["x"], "value": peak["value"], "label": words[0]},
                {"x": trough["x"], "value": trough["value"], "label": words[1]},
            ])
        chart = charts.trend(rows[["x", "x_order", "series", "value", "value_text"]], kind=metric_def.unit,
                             locale=loc, currency=cfg.currency_symbol, marks=marks)
        caption = title or (f"{metric_def.label(loc)}：按月趋势" if loc == "zh-CN"
                            else f"{metric_def.label(loc)} by month")
        description = _describe_trend(rows, marks, metric_def.label(loc), loc)
        return _figure(chart, description, caption)

    def ranking(metric: str, by: str, top: int = 10, period: str | int | None = None,
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
        top_rows["label"] = top_rows[by].astype(str)
        top_rows["value_text"] = [number(v, metric_def.unit, loc) for v in top_rows["value"]]
        if metric_def.additive and total:
            top_rows["share_text"] = [number(v / total, "percent", loc) for v in top_rows["value"]]
        chart = charts.bars(top_rows[[c for c in ("label", "value", "value_text", "share_text")
                                      if c in top_rows.columns]],
                            kind=metric_def.unit, locale=loc, currency=cfg.currency_symbol)
        caption = title or (f"{metric_def.label(loc)}排行" if loc == "zh-CN"
                            else f"{metric_def.label(loc)} ranking")
        lead = top_rows.iloc[0] if not top_rows.empty else None
        description = caption if lead is None else (
            f"{caption}：第一名 {lead['label']}，{lead['value_text']}" if loc == "zh-CN"
            else f"{caption}: first is {lead['label']} at {lead['value_text']}")
        return _figure(chart, description, caption)

    def _figure(chart: Any, description: str, caption: str) -> str:
        spec = components.chart_spec(chart, cfg.max_chart_rows)
        element_id = review.unique_id(components.spec_id(spec))
        return components.chart_figure(spec, element_id, description, caption)

    def metric_definitions(locale: str | None = None) -> str:
        """The table of every metric definition (口径), with an anchor per metric id.

        Example: {{ metric_definitions() }}
        """
        loc = review.locale(locale)
        head = (["指标", "ID", "口径", "单位", "数据集", "可拆分维度"] if loc == "zh-CN"
                else ["Metric", "ID", "Definition", "Unit", "Datasets", "Dimensions"])
        rows = []
        for metric in review.catalogue.metrics.values():
            datasets = ", ".join(review.catalogue.datasets_of(metric.id))
            dims = ", ".join(review.catalogue.dimensions_of(metric.id))
            rows.append(
                f'<tr id="{escape(metric.id)}"><td>{escape(metric.label(loc))}</td>'
                f"<td><code>{escape(metric.id)}</code></td><td>{escape(metric.description(loc))}</td>"
                f"<td>{escape(metric.unit)}</td><td>{escape(datasets)}</td><td>{escape(dims)}</td></tr>"
            )
        header = "".join(f"<th>{escape(h)}</th>" for h in head)
        return (f'<div class="md-typeset__table"><table class="fupan-definitions"><thead><tr>{header}'
                f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')

    macros = {
        "kpis": kpis,
        "value": value,
        "monthly_trend": monthly_trend,
        "ranking": ranking,
        "metric_definitions": metric_definitions,
    }
    return {name: _guard_missing(review, fn) for name, fn in macros.items()}


def _describe_trend(rows: pd.DataFrame, marks: pd.DataFrame, label: str, locale: str) -> str:
    """A one-sentence text alternative for screen readers."""
    if marks.empty:
        return label
    peak, trough = marks.iloc[0], marks.iloc[1]
    values = dict(zip(rows["x"] + rows["series"], rows["value_text"], strict=True))
    series = rows["series"].iloc[0]
    if locale == "zh-CN":
        return (f"{label}按月趋势（{series}）：峰值在{peak['x']}（{values[peak['x'] + series]}），"
                f"谷值在{trough['x']}（{values[trough['x'] + series]}）")
    return (f"{label} by month ({series}): peak in {peak['x']} ({values[peak['x'] + series]}), "
            f"trough in {trough['x']} ({values[trough['x'] + series]})")
