"""The macros writers call from Markdown. Each docstring is the writers' reference: the first
line says what it shows, `Example:` gives a call that the macro reference page renders live.

Macros compute through the engine, format through `fmt`, draw through `charts` and emit HTML
through `components`; they hold no numbers or styling of their own.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from html import escape
from typing import Any

from fupan.presentation import charts
from fupan.presentation import components
from fupan.presentation import fmt
from fupan.site.context import Review
from fupan.semantics.engine import OTHER_GROUP, MetricError, MissingData, change_between
from fupan.speed.lazy import lazy_import
from fupan.data.store import quote_literal
from fupan.semantics.periods import Period, comparison_period, parse_period

pd = lazy_import("pandas")

MONTH_LABELS = {"zh-CN": [f"{m}月" for m in range(1, 13)],
                "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                       "Dec"]}
COMPARISON_LABELS = {
    "yoy": {"zh-CN": "同比", "en": "YoY"},
    "prev": {"zh-CN": "环比", "en": "vs prev."},
}
TIME_DIMS = ("month", "quarter", "date", "year")
# What a dimension is called in table headers and chart titles.
DIM_LABELS = {
    "platform": ("平台", "Platform"), "source": ("流量来源", "Traffic source"),
    "device": ("终端", "Device"), "province": ("省份", "Province"), "city": ("城市", "City"),
    "city_tier": ("城市等级", "City tier"), "campaign": ("活动", "Campaign"),
    "category": ("品类", "Category"), "product": ("商品", "Product"), "sku": ("商品编码", "SKU"),
    "member_level": ("会员等级", "Member level"), "member_status": ("会员身份", "Membership"),
    "gender": ("性别", "Gender"), "age_band": ("年龄段", "Age band"),
    "first_month": ("首购月份", "First purchase month"),
    "channel": ("广告渠道", "Ad channel"), "area": ("领域", "Area"), "theme": ("主题", "Theme"),
    "reason": ("原因", "Reason"), "supplier": ("供应商", "Supplier"),
    "social_platform": ("社交平台", "Social platform"), "content_type": ("内容类型", "Content type"),
    "function": ("职能", "Function"), "level": ("职级", "Level"),
    "training_type": ("培训类型", "Training type"),
    "month": ("月份", "Month"), "quarter": ("季度", "Quarter"), "date": ("日期", "Date"),
    "year": ("年度", "Year"),
}
TEXT = {
    "missing": {
        "zh-CN": "缺少数据：本部分需要数据文件 {paths}（{names}），放入 data/ 后重新构建即可显示。",
        "en": "Missing data: this part needs the data file {paths} ({names}); add it to data/ and rebuild.",
    },
    "total": {"zh-CN": "合计", "en": "Total"},
    "total_all": {"zh-CN": "合计（全部 {n} 项）", "en": "Total (all {n})"},
    "others": {"zh-CN": "其他", "en": "Others"},
    "unknown": {"zh-CN": "（未知）", "en": "(unknown)"},
    "sort": {"zh-CN": "排序", "en": "Sort"},
    "download": {"zh-CN": "下载 CSV", "en": "Download CSV"},
    "finding": {"zh-CN": "数据发现", "en": "Finding"},
    "hit": {"zh-CN": "爆款", "en": "Hits"},
    "other_products": {"zh-CN": "其他商品", "en": "Other products"},
    "no_data": {"zh-CN": "{what}：本期没有数据。", "en": "{what}: no data in the period."},
    "no_cohorts": {"zh-CN": "本期没有首购用户，无法计算留存。",
                   "en": "No first-time buyers in the period: no retention to show."},
}
# Campaign names often start with the year ("2025年618年中大促"); on a chart of that year the
# year is noise. "年" goes too when a number or 双 follows it (2025年双11 → 双11), but not in
# 2025年货节 (年货节).
_YEAR_PREFIX = re.compile(r"^\s*\d{4}(?:年(?=[0-9０-９双]))?\s*")


def _missing_notice(review: Review, exc: MissingData, locale: str) -> str:
    names = "、".join(review.contract.datasets[d].description(locale) for d in exc.datasets)
    paths = ", ".join(f"data/{p}" for p in exc.paths)
    review.note_missing(paths)
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


def _month_keys(period: Period) -> list[str]:
    """'YYYY-MM' of every month the period touches, in order."""
    keys = []
    index = period.start.year * 12 + period.start.month - 1
    last = period.end.year * 12 + period.end.month - 1
    while index <= last:
        keys.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
        index += 1
    return keys


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


def make_macros(review: Review) -> dict[str, Callable[..., Any]]:
    """The writer macros bound to one build's review context."""
    cfg = review.config

    def number(value: Any, kind: str, locale: str) -> str:
        return components.format_number(value, kind, locale, cfg.currency_symbol, cfg.pp_label)

    def change_kind(metric_id: str) -> str:
        return review.catalogue.metrics[metric_id].change_kind

    def change_text(metric_id: str, change: float | None, locale: str) -> tuple[str, str | None]:
        kind = change_kind(metric_id)
        return number(change, kind, locale), fmt.direction(change, kind)

    def definition_href(metric_id: str) -> str:
        return review.link(f"definitions/#{metric_id}")

    def comparison_label(compare: str, locale: str) -> str:
        return COMPARISON_LABELS.get(compare, COMPARISON_LABELS["yoy"])[locale]

    def dim_label(dim: str, locale: str) -> str:
        zh, en = DIM_LABELS.get(dim, (dim, dim))
        return zh if locale == "zh-CN" else en

    def dim_value_text(dim: str, key: Any, locale: str) -> str:
        if fmt.is_missing(key):
            return TEXT["unknown"][locale]
        if dim in ("month", "quarter", "date"):
            return number(key, dim, locale)
        if dim == "year" and locale == "zh-CN":
            return f"{key}年"
        return str(key)

    def _figure(chart: Any, description: str, caption: str, locale: str) -> str:
        spec = components.chart_spec(chart, cfg.max_chart_rows)
        spec["description"] = description  # vega-embed labels the drawn chart with it
        element_id = review.unique_id(components.spec_id(spec))
        image = charts.static_image_source(spec, cfg.cache_dir, locale)
        return components.chart_figure(spec, element_id, description, caption, image)

    # -- events (618, 双11 …) on time axes ------------------------------------------------------
    def event_months(events: Any, period: Period, locale: str) -> list[tuple[str, str]]:
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
                raise ValueError('events must be a list such as [{"month": "2025-06", "label": '
                                 '"618"}], or False for none')
            for item in events:
                if not isinstance(item, dict) or "label" not in item or not (
                        "month" in item or "date" in item):
                    raise ValueError(f'event {item!r}: give "month" (YYYY-MM) or "date" '
                                     '(YYYY-MM-DD) and "label", e.g. {"month": "2025-06", '
                                     '"label": "618"}')
                when = str(item.get("month") or item.get("date"))
                if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", when):
                    raise ValueError(f"event {item!r}: {when!r} is not YYYY-MM or YYYY-MM-DD")
                key = when[:7]
                if period.start.strftime("%Y-%m") <= key <= period.end.strftime("%Y-%m"):
                    found.append((key, str(item["label"])))
        joined: dict[str, list[str]] = {}
        for key, label in found:
            if label not in joined.setdefault(key, []):
                joined[key].append(label)
        glue = "、" if locale == "zh-CN" else " / "
        return [(key, glue.join(labels)) for key, labels in sorted(joined.items())]

    # -- KPI cards -------------------------------------------------------------------------------
    def monthly_series(metric_id: str, p: Period) -> list[float | None]:
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
        return [values.get(k, fill) for k in _month_keys(p)]

    def kpis(metrics: list[str] | str, period: str | int | None = None, compare: str = "yoy",
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
        for metric_id in ids:
            review.engine.require(metric_id)
            cmp = review.engine.compare(metric_id, p, compare)
            text, direction = change_text(metric_id, cmp.change, loc)
            spark = components.sparkline_svg(monthly_series(metric_id, p)) if sparkline else ""
            cards.append(components.Card(
                metric_id=metric_id,
                label=cmp.metric.label(loc),
                value=cmp.value,
                value_text=number(cmp.value, cmp.metric.unit, loc),
                change_text=text,
                direction=direction,
                comparison_label=comparison_label(compare, loc),
                href=definition_href(metric_id),
                sparkline=spark,
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
            return components.inline_value(number(cmp.value, metric_def.unit, loc), metric,
                                           definition_href(metric),
                                           f"{comparison_label(compare, loc)} {text}", direction,
                                           cfg.colors)
        v = review.engine.value(metric, p, filters)
        return components.inline_value(number(v, metric_def.unit, loc), metric, definition_href(metric))

    # -- charts ----------------------------------------------------------------------------------
    def monthly_trend(metric: str, period: str | int | None = None, compare: str = "yoy",
                      filters: dict | None = None, events: list[dict] | bool | None = None,
                      title: str | None = None, locale: str | None = None) -> str:
        """Monthly line of a metric for the period, the comparison year overlaid, with the
        peak and trough months and events (618, 双11 …) marked.

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
            frame["series"] = (f"{series_period.start.year}年" if loc == "zh-CN"
                               else str(series_period.start.year))
            frames.append(frame)
        rows = pd.concat(frames, ignore_index=True)
        rows = rows[rows["month"].notna()].reset_index(drop=True)
        if rows.empty:
            return components.notice(TEXT["no_data"][loc].format(what=metric_def.label(loc)), "info")
        rows["x_order"] = rows["month"].str[5:7].astype(int)
        rows["x"] = [MONTH_LABELS[loc][m - 1] for m in rows["x_order"]]
        rows["value_text"] = [number(v, metric_def.unit, loc) for v in rows["value"]]
        current = rows[rows["series"] == rows["series"].iloc[0]]
        marks = pd.DataFrame()
        known = current[current["value"].notna()]
        if len(known) >= 2:
            peak = known.loc[known["value"].idxmax()]
            trough = known.loc[known["value"].idxmin()]
            words = ("峰值", "谷值") if loc == "zh-CN" else ("Peak", "Trough")
            marks = pd.DataFrame([
                {"x": peak["x"], "value": peak["value"], "label": words[0]},
                {"x": trough["x"], "value": trough["value"], "label": words[1]},
            ])
        event_rows = pd.DataFrame(
            [{"x": MONTH_LABELS[loc][int(key[5:7]) - 1], "label": label}
             for key, label in event_months(events, p, loc)], columns=["x", "label"])
        domain = list(dict.fromkeys(MONTH_LABELS[loc][int(k[5:7]) - 1] for k in _month_keys(p)))
        chart = charts.trend(rows[["x", "x_order", "series", "value", "value_text"]], kind=metric_def.unit,
                             locale=loc, currency=cfg.currency_symbol, marks=marks,
                             events=event_rows, x_domain=domain)
        caption = title or (f"{metric_def.label(loc)}：按月趋势" if loc == "zh-CN"
                            else f"{metric_def.label(loc)} by month")
        description = _describe_trend(rows, marks, metric_def.label(loc), loc)
        if not event_rows.empty:
            names = ("、" if loc == "zh-CN" else ", ").join(
                f"{x} {label}" for x, label in zip(event_rows["x"], event_rows["label"], strict=True))
            description += f"；标注活动：{names}" if loc == "zh-CN" else f"; events: {names}"
        return _figure(chart, description, caption, loc)

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
        top_rows["label"] = [dim_value_text(by, k, loc) for k in top_rows[by]]
        top_rows["value_text"] = [number(v, metric_def.unit, loc) for v in top_rows["value"]]
        if metric_def.additive and total:
            top_rows["share_text"] = [number(v / total, "percent", loc) for v in top_rows["value"]]
        chart = charts.bars(top_rows[[c for c in ("label", "value", "value_text", "share_text")
                                      if c in top_rows.columns]],
                            kind=metric_def.unit, locale=loc, currency=cfg.currency_symbol,
                            label_title=dim_label(by, loc), value_title=metric_def.label(loc))
        caption = title or (f"{metric_def.label(loc)}排行" if loc == "zh-CN"
                            else f"{metric_def.label(loc)} ranking")
        lead = top_rows.iloc[0] if not top_rows.empty else None
        description = caption if lead is None else (
            f"{caption}：第一名 {lead['label']}，{lead['value_text']}" if loc == "zh-CN"
            else f"{caption}: first is {lead['label']} at {lead['value_text']}")
        return _figure(chart, description, caption, loc)

    def share(metric: str, by: str, period: str | int | None = None, top: int = 6,
              style: str = "donut", filters: dict | None = None, title: str | None = None,
              locale: str | None = None) -> str:
        """Each part's share of the total as a donut (or one stacked bar: `style="bar"`); parts
        beyond the top N are summed as 其他.

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
            raise ValueError(f"share(): style {style!r} unknown; use 'donut' or 'bar'")
        frame = review.engine.compute(metric, p, (by,), filters)
        frame = frame[frame["value"].notna()].sort_values(["value", by], ascending=[False, True],
                                                          kind="mergesort")
        if (frame["value"] < 0).any():
            raise ValueError(f"share(): {metric!r} is negative for some {by}; a share of a "
                             "whole needs parts ≥ 0 (use ranking() instead)")
        total = float(frame["value"].sum())
        # Groups the engine already merged (too few people to show) join the 其他 slice.
        merged_other = frame[by].astype(str) == OTHER_GROUP
        named = frame[~merged_other]
        head = named.head(int(top))
        parts = [(dim_value_text(by, k, loc), float(v)) for k, v in zip(head[by], head["value"],
                                                                       strict=True)]
        rest = pd.concat([named.iloc[int(top):], frame[merged_other]])
        if not rest.empty:
            parts.append((TEXT["others"][loc], float(rest["value"].sum())))
        rows = pd.DataFrame(parts, columns=["label", "value"])
        rows["share"] = rows["value"] / total if total else float("nan")
        rows["value_text"] = [number(v, metric_def.unit, loc) for v in rows["value"]]
        rows["share_text"] = [number(s, "percent", loc) for s in rows["share"]]
        chart = charts.share(rows, locale=loc, style=style, label_title=dim_label(by, loc))
        caption = title or (f"{metric_def.label(loc)}：各{dim_label(by, loc)}占比" if loc == "zh-CN"
                            else f"{metric_def.label(loc)}: share by {dim_label(by, loc).lower()}")
        glue = "，" if loc == "zh-CN" else ", "
        description = caption + ("：" if loc == "zh-CN" else ": ") + glue.join(
            f"{a} {b}" for a, b in zip(rows["label"], rows["share_text"], strict=True))
        return _figure(chart, description, caption, loc)

    def funnel(period: str | int | None = None, filters: dict | None = None,
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
            "users_text": [number(v, "count", loc) for v in frame["users"]],
            "rate_prev_text": [number(v, "percent", loc) for v in frame["rate_prev"]],
            "rate_first_text": [number(v, "percent", loc) for v in frame["rate_first"]],
        })
        chart = charts.funnel(rows, locale=loc)
        caption = title or ("转化漏斗" if loc == "zh-CN" else "Conversion funnel")
        steps = ("，" if loc == "zh-CN" else ", ").join(
            f"{a} {b}" + ("" if r == fmt.MISSING else f"（{r}）" if loc == "zh-CN" else f" ({r})")
            for a, b, r in zip(rows["label"], rows["users_text"], rows["rate_prev_text"],
                               strict=True))
        return _figure(chart, f"{caption}：{steps}" if loc == "zh-CN" else f"{caption}: {steps}",
                       caption, loc)

    def retention_heatmap(period: str | int | None = None, max_months: int = 12,
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
            return components.notice(TEXT["no_cohorts"][loc], kind="info")
        rows = pd.DataFrame({
            "cohort": [number(c, "month", loc) for c in frame["cohort"]],
            "month_offset": frame["month_offset"].astype(int),
            "retention": frame["retention"].astype(float),
            "retention_text": [number(v, "percent", loc) for v in frame["retention"]],
            "buyers_text": [number(v, "count", loc) for v in frame["buyers"]],
            "cohort_size_text": [number(v, "count", loc) for v in frame["cohort_size"]],
        })
        chart = charts.heatmap(rows, locale=loc)
        caption = title or ("首购月份同期群留存率" if loc == "zh-CN" else "Cohort retention by first-order month")
        one = rows[rows["month_offset"] == 1]
        if one.empty:
            description = caption
        else:
            best = one.loc[one["retention"].idxmax()]
            description = (f"{caption}：次月留存最高的是 {best['cohort']}（{best['retention_text']}）"
                           if loc == "zh-CN" else
                           f"{caption}: best next-month retention {best['cohort']} "
                           f"({best['retention_text']})")
        return _figure(chart, description, caption, loc)

    def hit_scatter(period: str | int | None = None, title: str | None = None,
                    locale: str | None = None) -> str:
        """Products as points, average selling price against net sales, the hits (爆款)
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
            "group": [TEXT["hit"][loc] if h else TEXT["other_products"][loc] for h in hit],
            "label": [str(n) if h else "" for n, h in zip(frame["product"], hit, strict=True)],
            "product_text": frame["product"].astype(str),
            "category_text": frame["category"].astype(str),
            "net_sales_text": [number(v, "currency", loc) for v in frame["net_sales"]],
            "avg_price_text": [number(v, "currency", loc) for v in frame["avg_price"]],
            "growth_text": [number(v, "pct_change", loc) for v in frame["growth"]],
            "units_text": [number(v, "count", loc) for v in frame["units"]],
        }).reset_index(drop=True)
        def t(zh: str, en: str) -> str:
            return zh if loc == "zh-CN" else en

        chart = charts.scatter(
            rows, x_kind="currency", y_kind="currency", locale=loc, currency=cfg.currency_symbol,
            x_title=t("平均成交价", "Average price"), y_title=t("净销售额", "Net sales"),
            tooltip=[("product_text", t("商品", "Product")), ("category_text", t("品类", "Category")),
                     ("group", t("类别", "Group")), ("net_sales_text", t("净销售额", "Net sales")),
                     ("growth_text", t("同比", "YoY")), ("avg_price_text", t("平均成交价", "Avg price")),
                     ("units_text", t("销量", "Units"))])
        caption = title or t("爆款商品：价格与销售额", "Hit products: price and sales")
        hits = [str(n) for n in rows.loc[rows["highlight"], "product_text"]]
        description = (f"{caption}：共 {len(rows)} 个商品，爆款 {len(hits)} 个"
                       + (f"：{'、'.join(hits)}" if hits else "") if loc == "zh-CN" else
                       f"{caption}: {len(rows)} products, {len(hits)} hits"
                       + (f": {', '.join(hits)}" if hits else ""))
        return _figure(chart, description, caption, loc)

    def combo(bar_metric: str, line_metric: str, by: str, period: str | int | None = None,
              filters: dict | None = None, top: int | None = None,
              events: list[dict] | bool | None = None, title: str | None = None,
              locale: str | None = None) -> str:
        """Bars of one metric and a line of another by the same dimension, on two y axes
        (e.g. ad spend and ROAS by channel).

        Categories are ordered by the bar metric (largest first), time buckets by time; with
        `by="month"` events (618, 双11 …) are marked as in monthly_trend. Ad spend and ROAS by
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
        if by in TIME_DIMS:
            rows = rows.sort_values(by, kind="mergesort", na_position="last")
        else:
            rows = rows.sort_values(["bar_value", by], ascending=[False, True], kind="mergesort",
                                    na_position="last")
        if top:
            rows = rows.head(int(top))
        rows = rows.reset_index(drop=True)
        rows["label"] = [dim_value_text(by, k, loc) for k in rows[by]]
        rows["bar_text"] = [number(v, bar_def.unit, loc) for v in rows["bar_value"]]
        rows["line_text"] = [number(v, line_def.unit, loc) for v in rows["line_value"]]
        event_rows = None
        if by == "month":
            labels = dict(zip(rows[by], rows["label"], strict=True))
            event_rows = pd.DataFrame(
                [{"x": labels[key], "label": label} for key, label in event_months(events, p, loc)
                 if key in labels], columns=["x", "label"])
        chart = charts.combo(rows[["label", "bar_value", "bar_text", "line_value", "line_text"]],
                             bar_kind=bar_def.unit, line_kind=line_def.unit,
                             bar_label=bar_def.label(loc), line_label=line_def.label(loc),
                             locale=loc, currency=cfg.currency_symbol, x_title=dim_label(by, loc),
                             events=event_rows)
        caption = title or (f"{bar_def.label(loc)}与{line_def.label(loc)}：按{dim_label(by, loc)}"
                            if loc == "zh-CN" else
                            f"{bar_def.label(loc)} and {line_def.label(loc)} by "
                            f"{dim_label(by, loc).lower()}")
        glue = "；" if loc == "zh-CN" else "; "
        description = caption + ("：" if loc == "zh-CN" else ": ") + glue.join(
            f"{a} {b}, {c}" for a, b, c in zip(rows["label"], rows["bar_text"], rows["line_text"],
                                               strict=True))
        return _figure(chart, description, caption, loc)

    # -- tables ----------------------------------------------------------------------------------
    def compare_rows(metric_id: str, p: Period, by: str, compare: str,
                     filters: dict | None) -> pd.DataFrame:
        """Breakdown with value and change; time buckets compare with their own comparison
        bucket (June with last June for yoy, with May for prev)."""
        if by not in TIME_DIMS:
            return review.engine.compare_by(metric_id, p, (by,), compare, filters)
        metric_def = review.catalogue.metrics[metric_id]
        frame = review.engine.compute(metric_id, p, (by,), filters)
        changes = []
        for key, v in zip(frame[by], frame["value"], strict=True):
            base_period = (comparison_period(_bucket_period(by, str(key), cfg.as_of), compare)
                           if not fmt.is_missing(key) else None)
            base = review.engine.value(metric_id, base_period, filters) if base_period else None
            changes.append(change_between(metric_def, None if pd.isna(v) else float(v), base))
        frame["change"] = changes
        return frame

    def parse_sort(sort: str | None, by: str, ids: list[str]) -> tuple[str, bool]:
        if sort is None:
            return (by, True) if by in TIME_DIMS else (ids[0], False)
        parts = str(sort).split()
        key = parts[0]
        order = parts[1].lower() if len(parts) > 1 else None
        valid = [by, *ids]
        if key not in valid or order not in (None, "asc", "desc") or len(parts) > 2:
            raise ValueError(f"table(): sort={sort!r} not understood; use one of "
                             f"{', '.join(valid)}, optionally followed by ' asc' or ' desc'")
        if order is None:
            return key, key == by
        return key, order == "asc"

    def table(metrics: list[str] | str, by: str = "platform", period: str | int | None = None,
              compare: str | None = None, top: int | None = None, totals: bool = False,
              download: bool = False, sort: str | None = None, filters: dict | None = None,
              title: str | None = None, locale: str | None = None) -> str:
        """A table of metrics (columns) by a dimension (rows), sortable by clicking a header,
        with optional change columns, totals row and CSV download.

        `compare="yoy"` (or "prev") adds a change column after each metric; `totals=True` adds
        a 合计 row (additive metrics summed, rates and averages recomputed for the whole);
        `sort="aov"` orders by a metric (largest first; add " asc" for smallest first), the
        default is the first metric (time buckets: in time order); `top=10` keeps the first 10
        rows; `download=True` adds a 下载 CSV button for the rows shown.

        Example: {{ table(["net_sales", "orders", "aov"], by="platform", compare="yoy", totals=True, download=True) }}
        """
        loc = review.locale(locale)
        p = review.period(period)
        ids = [metrics] if isinstance(metrics, str) else list(metrics)
        if not ids:
            raise ValueError("table(): give at least one metric id")
        if compare in (None, "", "none", False):
            compare = None
        defs = {m: review.engine.check_request(m, (by,), filters) for m in ids}
        for m in ids:
            review.engine.require(m)
        merged: pd.DataFrame | None = None
        for m in ids:
            frame = (compare_rows(m, p, by, compare, filters) if compare
                     else review.engine.compute(m, p, (by,), filters))
            keep = [by, "value"] + (["change"] if compare else [])
            frame = frame[keep].rename(columns={"value": m, "change": f"{m}__change"})
            merged = frame if merged is None else merged.merge(frame, on=by, how="outer")
        assert merged is not None
        key, ascending = parse_sort(sort, by, ids)
        secondary = [by] if key != by else []
        merged = merged.sort_values([key, *secondary], ascending=[ascending] + [True] * len(secondary),
                                    kind="mergesort", na_position="last").reset_index(drop=True)
        shown = merged.head(int(top)) if top else merged

        columns = [components.Column(dim_label(by, loc), numeric=False, kind="dim")]
        for m in ids:
            columns.append(components.Column(defs[m].label(loc), href=definition_href(m)))
            if compare:
                word = comparison_label(compare, loc)
                columns.append(components.Column(
                    f"{defs[m].label(loc)}{word}" if loc == "zh-CN" else f"{defs[m].label(loc)} {word}",
                    kind="change"))

        def metric_cells(m: str, v: Any, change: Any) -> list[components.Cell]:
            v = None if fmt.is_missing(v) else float(v)
            cells = [components.Cell(number(v, defs[m].unit, loc), v)]
            if compare:
                change = None if fmt.is_missing(change) else float(change)
                text, direction = change_text(m, change, loc)
                cells.append(components.Cell(text, change,
                                             components.tone_class(direction, cfg.colors)))
            return cells

        body = []
        for record in shown.to_dict("records"):
            row = [components.Cell(dim_value_text(by, record[by], loc),
                                   None if fmt.is_missing(record[by]) else str(record[by]))]
            for m in ids:
                row.extend(metric_cells(m, record[m], record.get(f"{m}__change")))
            body.append(row)
        total_row = None
        if totals:
            label = (TEXT["total_all"][loc].format(n=len(merged)) if len(shown) < len(merged)
                     else TEXT["total"][loc])
            total_row = [components.Cell(label)]
            for m in ids:
                if defs[m].additive:
                    v = merged[m].sum(min_count=1)
                else:  # rates and distinct counts: recomputed for the whole, never summed
                    v = review.engine.value(m, p, filters)
                change = review.engine.compare(m, p, compare, filters).change if compare else None
                total_row.extend(metric_cells(m, v, change))
        labels = [defs[m].label(loc) for m in ids]
        caption = title or ""
        filename = None
        if download:
            stem = title or ("、".join(labels) + "-按" + dim_label(by, loc) if loc == "zh-CN"
                             else ", ".join(labels) + " by " + dim_label(by, loc).lower())
            filename = re.sub(r'[\\/:*?"<>|\s]+', "_", stem).strip("_") + ".csv"
        spec = components.Table(columns=columns, rows=body, totals=total_row, caption=caption,
                                download=filename,
                                labels={"sort": TEXT["sort"][loc], "download": TEXT["download"][loc]})
        return components.data_table(spec, review.unique_id(components.table_id(spec)))

    # -- text ------------------------------------------------------------------------------------
    def callout(text_html: str, kind: str = "info", title: str | None = None,
                locale: str | None = None) -> str:
        """A highlighted box for a finding (admonition style); findings macros fill it with
        computed sentences.

        `kind` is an admonition type (info, tip, success, warning, danger, note …); the title
        defaults to 数据发现.

        Example: {{ callout("全年净销售额 " ~ value("net_sales", compare="yoy") ~ "。", kind="tip") }}
        """
        loc = review.locale(locale)
        return components.callout(text_html, kind, TEXT["finding"][loc] if title is None else title)

    def has_data(dataset: str) -> bool:
        """True when data/ holds the (optional) dataset, for sections that should only appear
        with their data: `{% if has_data("funnel") %} … {% endif %}`.

        Example: {{ has_data("campaigns") }}
        """
        if dataset not in review.contract.datasets:
            from fupan.data.contract import unknown_name_message

            raise ValueError(unknown_name_message("dataset", dataset, review.contract.datasets))
        return review.store.has(dataset)

    def metric_definitions(locale: str | None = None) -> str:
        """The table of every metric definition (口径), with an anchor per metric id.

        Example: {{ metric_definitions() }}
        """
        loc = review.locale(locale)
        head = (["指标", "ID", "口径", "单位", "数据集", "可拆分维度"] if loc == "zh-CN"
                else ["Metric", "ID", "Definition", "Unit", "Datasets", "Dimensions"])
        code = review.config.currency.upper()
        currency = "元" if loc == "zh-CN" and code in ("CNY", "RMB") else code
        rows = []
        for metric in review.catalogue.metrics.values():
            datasets = ", ".join(review.catalogue.datasets_of(metric.id))
            dims = ("、" if loc == "zh-CN" else ", ").join(
                dim_label(d, loc) for d in review.catalogue.dimensions_of(metric.id))
            unit = fmt.unit_label(metric.unit, loc, currency=currency)
            rows.append(
                f'<tr id="{escape(metric.id)}"><td>{escape(metric.label(loc))}</td>'
                f"<td><code>{escape(metric.id)}</code></td><td>{escape(metric.description(loc))}</td>"
                f"<td>{escape(unit)}</td><td>{escape(datasets)}</td><td>{escape(dims)}</td></tr>"
            )
        header = "".join(f"<th>{escape(h)}</th>" for h in head)
        return (f'<div class="fupan-definitions"><table><thead><tr>{header}'
                f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')

    macros: dict[str, Callable[..., Any]] = {
        "kpis": kpis,
        "value": value,
        "monthly_trend": monthly_trend,
        "ranking": ranking,
        "share": share,
        "funnel": funnel,
        "retention_heatmap": retention_heatmap,
        "hit_scatter": hit_scatter,
        "combo": combo,
        "table": table,
        "callout": callout,
        "metric_definitions": metric_definitions,
    }
    guarded: dict[str, Callable[..., Any]] = {
        name: _guard_missing(review, fn) for name, fn in macros.items()}
    guarded["has_data"] = has_data
    return guarded


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
