"""Section macros: tables and charts of the analyses the chapters need (targets, initiatives,
RFM, keywords, campaigns, inventory, team, market, …).

Each macro calls one analysis, formats every number through `fmt`, and renders with the shared
components (sortable tables, charts), so a section never formats or styles anything itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from fupan.presentation import charts, components, fmt, i18n
from fupan.semantics import analyses
from fupan.semantics.engine import OTHER_GROUP
from fupan.semantics.periods import Period
from fupan.site.context import Review
from fupan.site.registry import macro
from fupan.site.report_macros import (dim_label, empty_months, figure, month_labels, no_data_text, number,
                                      with_empty_months)
from fupan.speed.lazy import lazy_import

pd = lazy_import("pandas")

STATUS_ORDER = ["已完成", "进行中", "延期", "未启动"]


@dataclass(frozen=True)
class Col:
    field: str
    kind: str = "text"  # "text" or a fmt kind (currency, count, percent, pct_change, pp_change, ...)
    label: str | None = None  # default: the dimension's catalogue label, else the table's `column.<field>`
    metric: str | None = None  # link the header to this metric's definition
    dimension: str | None = None  # the column shows this catalogue dimension


def _dim(field: str, dimension: str | None = None) -> Col:
    """A text column holding a catalogue dimension (labelled and marked as that dimension)."""
    return Col(field, "text", dimension=dimension or field)


def _label(field: str, locale: str) -> str:
    return i18n.text(f"column.{field}", locale)


def _col_label(review: Review, col: Col, locale: str) -> str:
    if col.label:
        return col.label
    if col.dimension:
        return dim_label(review, col.dimension, locale)
    return _label(col.field, locale)


def _table_labels(locale: str) -> dict[str, str]:
    return {"sort": i18n.text("table.sort", locale), "download": i18n.text("table.download", locale),
            "download_title": i18n.text("table.download_title", locale),
            "definition": i18n.text("table.definition", locale), "for_column": i18n.text("table.for_column", locale)}


def _frame_table(review: Review, frame: pd.DataFrame, cols: list[Col], locale: str, caption: str = "",
                 download: str | None = None, period: Period | None = None) -> str:
    columns = [components.Column(label=_col_label(review, c, locale), numeric=c.kind != "text",
                                 href=review.link(f"definitions/#{c.metric}") if c.metric else None,
                                 kind="change" if c.kind in fmt.CHANGE_KINDS else "value", dimension=c.dimension,
                                 key=c.field, metric=c.metric, unit=None if c.kind == "text" else c.kind)
               for c in cols]
    # One unit per column (never ¥3,808.69 above ¥1.6万).
    units = {c.field: fmt.column_unit(frame[c.field], c.kind, locale) for c in cols
             if c.kind in fmt.NUMBER_RULES and c.field in frame.columns}
    rows = []
    for _, record in frame.iterrows():
        cells = []
        for c in cols:
            raw = record.get(c.field)
            if c.kind == "text":
                text = "—" if raw is None or (not isinstance(raw, str) and pd.isna(raw)) else str(raw)
                if c.dimension and text == OTHER_GROUP:  # the engine's merged small groups, in the page's language
                    text = i18n.text("report.others", locale)
                cells.append(components.Cell(text=text, sort=text))
            elif c.kind == "bool":
                cells.append(components.Cell(text="✔" if bool(raw) else "", sort=1.0 if raw else 0.0))
            else:
                tone = ""
                if c.kind in fmt.CHANGE_KINDS:
                    tone = components.tone_class(fmt.direction(raw, c.kind), review.config.colors)
                value = None if raw is None or pd.isna(raw) else float(raw)
                cells.append(components.Cell(text=number(review, value, c.kind, locale, units.get(c.field)),
                                             sort=value, tone=tone))
        rows.append(cells)
    columns = [dataclasses.replace(col, kind="dim" if i == 0 else col.kind) for i, col in enumerate(columns)]
    table = components.Table(columns=columns, rows=rows, caption=caption, download=download,
                             labels=_table_labels(locale), period=(period or review.period()).key)
    return components.data_table(table, review.unique_id(components.table_id(table)))


def _metric_name(review: Review, metric_id: str, locale: str) -> str:
    metric = review.catalogue.metrics.get(metric_id)
    return metric.label(locale) if metric else metric_id


def _metric_kind(review: Review, metric_id: str) -> str:
    metric = review.catalogue.metrics.get(metric_id)
    return metric.unit if metric else "decimal"


def _targets_rows(review: Review, frame: pd.DataFrame, locale: str, change_field: str, period: Period) -> str:
    """Targets in the catalogue's order (whole shop before each platform), one unit per row (its
    metric's); attainment gets a met/missed mark (attainment is already target ÷ actual for
    metrics where lower is better, so ≥ 100 % is met either way)."""
    marked = change_field == "attainment"
    fields = ["metric", "scope", "target", "actual", change_field] + (["result"] if marked else [])
    columns = [components.Column(_label(f, locale), numeric=(1 < i < 5), kind="dim" if i == 0 else "value", key=f)
               for i, f in enumerate(fields)]
    rows = []
    for _, r in _in_catalogue_order(review, frame).iterrows():
        unit = _metric_kind(review, r["metric"])
        metric = review.catalogue.metrics.get(r["metric"])
        if marked:
            change_kind = "percent"
            change_sort = r["attainment"]
        else:
            change_kind = metric.change_kind if metric else "pct_change"
            change_sort = r["implied_change"]
        scope = i18n.text("targets.all", locale) if r["scope"] in analyses.ALL_SCOPES else str(r["scope"])
        row = [
            components.Cell(_metric_name(review, r["metric"], locale), _metric_name(review, r["metric"], locale)),
            components.Cell(scope, scope),
            components.Cell(number(review, r["target"], unit, locale), _num(r["target"]), unit=unit),
            components.Cell(number(review, r["actual"], unit, locale), _num(r["actual"]), unit=unit),
            components.Cell(number(review, change_sort, change_kind, locale), _num(change_sort), unit=change_kind),
        ]
        if marked:
            met = None if pd.isna(change_sort) else bool(change_sort >= 1)
            text = "—" if met is None else i18n.text("targets.met" if met else "targets.missed", locale)
            row.append(components.Cell(text, -1 if met is None else int(met)))
        rows.append(row)
    table = components.Table(columns=columns, rows=rows, labels=_table_labels(locale), period=period.key)
    return components.data_table(table, review.unique_id(components.table_id(table)))


def _in_catalogue_order(review: Review, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by the metric's place in the catalogue (unknown ids last, by id), the whole shop's
    target before the platforms' (by name)."""
    if frame.empty:
        return frame
    place = {metric_id: i for i, metric_id in enumerate(review.catalogue.metrics)}
    keys = [(place.get(m, len(place)), str(m), s not in analyses.ALL_SCOPES, str(s))
            for m, s in zip(frame["metric"], frame["scope"], strict=True)]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return frame.iloc[order].reset_index(drop=True)


# ---- any chapter ---------------------------------------------------------------------------
@macro
def trend_by(review: Review, metric: str, by: str, period: str | int | None = None, top: int = 6,
             locale: str | None = None) -> str:
    """Monthly lines of a metric, one per value of a dimension (the top N by the period's
    total; the rest are left out and said so in the caption).

    Example: {{ trend_by("net_sales", by="platform") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    metric_def = review.engine.check_request(metric, ("month", by))
    totals = review.engine.compute(metric, p, (by,)).sort_values(["value", by], ascending=[False, True],
                                                                 kind="mergesort")
    keep = list(totals[by].head(int(top)))
    frame = review.engine.compute(metric, p, ("month", by))
    frame = frame[frame[by].isin(keep)]
    # A month without data keeps its place on the axis, marked (else its neighbours close up)
    empty = empty_months(review, [metric], p)
    labels = month_labels(review, p, empty, loc)
    rows = pd.DataFrame({
        "x": [labels.get(m) or fmt.format_value(m, "month", loc) for m in frame["month"]],
        "x_order": [int(m[:4]) * 12 + int(m[5:7]) for m in frame["month"]],
        "series": frame[by].astype(str), "value": frame["value"],
        "value_text": [number(review, v, metric_def.unit, loc) for v in frame["value"]],
        "rank": [keep.index(v) for v in frame[by]],  # legend in order of the totals
    }).sort_values(["rank", "x_order"], kind="mergesort").drop(columns="rank")
    chart = charts.trend(rows, kind=metric_def.unit, locale=loc, currency=review.config.currency_symbol,
                         x_domain=list(labels.values()) if empty else None)
    caption = i18n.text("trend.by_caption", loc, metric=metric_def.label(loc),
                        dim=dim_label(review, by, loc, in_sentence=True))
    if len(totals) > len(keep):
        caption = i18n.text("trend.top", loc, caption=caption, n=len(keep))
    return figure(review, chart, caption, caption, review.locale())


# ---- chapter 2 ---------------------------------------------------------------------------
@macro
def period_table(review: Review, metrics: list[str] | str = "net_sales", grain: str = "month",
                 period: str | int | None = None, locale: str | None = None) -> str:
    """A table of each month (or quarter) of the period with the change versus the previous
    one (MoM / QoQ) for one or more metrics.

    Example: {{ period_table(["net_sales", "orders"], grain="quarter") }}
    """
    loc = review.locale(locale)
    ids = [metrics] if isinstance(metrics, str) else list(metrics)
    p = review.period(period)
    merged: pd.DataFrame | None = None
    if grain not in ("month", "quarter"):
        raise ValueError(f"period_table(): grain {grain!r} unknown; use 'month' or 'quarter'")
    cols = [Col("key", "text", dimension=grain)]
    for metric_id in ids:
        frame = analyses.period_table(review.engine, metric_id, p, grain)
        frame = frame.rename(columns={"value": metric_id, "change": f"{metric_id}__change"})
        frame = frame[["key", metric_id, f"{metric_id}__change"]]
        merged = frame if merged is None else merged.merge(frame, on="key", how="outer")
        metric = review.catalogue.metrics[metric_id]
        change_label = i18n.text("column.mom" if grain == "month" else "column.qoq", loc)
        change_title = i18n.text("column.with_comparison", loc, metric=metric.label(loc), comparison=change_label)
        cols += [Col(metric_id, metric.unit, metric.label(loc), metric_id),
                 Col(f"{metric_id}__change", metric.change_kind, change_title)]
    assert merged is not None
    p = review.period(period)
    # a month the period or the data cover only in part says which days it holds; one without
    # data says so (its row shows no value, which must not read as a zero)
    empty = empty_months(review, ids, p) if grain == "month" else set()
    merged["key"] = [no_data_text(fmt.format_value(k, grain, loc), loc) if k in empty else
                     review.partial_month_text(fmt.format_value(k, grain, loc),
                                               review.partial_days(p, int(str(k)[5:7])) if grain == "month" else None,
                                               loc) for k in merged["key"]]
    return _frame_table(review, merged, cols, loc, period=p)


@macro
def targets_table(review: Review, year: int | None = None, locale: str | None = None) -> str:
    """Target vs actual for every target of the year in the targets file, with attainment
    (for "lower is better" metrics such as the complaint rate: target ÷ actual).

    Example: {{ targets_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.target_attainment(review.engine, int(year or review.config.year), review.config.as_of)
    return _targets_rows(review, frame, loc, "attainment", review.period(year))


@macro
def next_targets(review: Review, metrics: list[str] | None = None, locale: str | None = None) -> str:
    """Next year's targets (targets file) next to this year's actual and the growth they imply.

    Example: {{ next_targets(["net_sales", "roas"]) }}
    """
    loc = review.locale(locale)
    frame = analyses.next_year_targets(review.engine, review.config.year, review.config.as_of)
    if metrics:
        frame = frame[frame["metric"].isin(metrics)]
    return _targets_rows(review, frame, loc, "implied_change", review.period())


@macro
def initiatives_table(review: Review, locale: str | None = None) -> str:
    """The year's initiatives from the initiatives file: area, owner role, status, target,
    actual and completion; preceded by a summary per area.

    Example: {{ initiatives_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.initiatives(review.engine, review.config.year)
    summary = frame.groupby("area", sort=True).agg(
        total=("initiative_id", "count"),
        done=("status", lambda s: float((s == "已完成").sum())),
        completion=("completion", "mean"),
    ).reset_index()
    summary["done_share"] = summary["done"] / summary["total"]
    head = _frame_table(review, summary, [
        _dim("area"), Col("total", "count", _label("initiatives", loc)),
        Col("done", "count", _label("completed", loc)),
        Col("done_share", "percent", _label("completed_share", loc)),
        Col("completion", "percent", _label("avg_completion", loc))], loc)
    detail = _initiatives_detail(review, frame, loc)
    return head + "\n\n" + detail


# An initiative's KPI is the writer's wording, not a metric id: words its unit is read from when
# no catalogue metric's name ends it (a growth, share or rate is a percent; "…数" is a count).
_PERCENT_ENDINGS = ("增长", "增长率", "增速", "占比", "比例", "率", "growth", "share", "rate", "%")
_COUNT_ENDINGS = ("数", "数量", "count", "number")


def kpi_unit(review: Review, kpi: Any) -> str:
    """The unit (a fmt kind) of an initiative's target and actual, from its KPI's wording: the unit
    of the catalogue metric whose name (zh or en) ends the wording, the longest such name first
    (整体 ROAS → roas → ratio, 复购率 → percent); else a growth, share or rate is a percent, a
    "…数" a count, anything else a plain number."""
    text = str(kpi).strip() if isinstance(kpi, str) else ""
    if not text:
        return "number"
    names = sorted(((name, metric.unit) for metric in review.catalogue.metrics.values()
                    for name in (metric.label("zh-CN"), metric.label("en")) if name),
                   key=lambda item: -len(item[0]))
    lower = text.lower()
    for name, unit in names:
        if lower.endswith(name.lower()):
            return unit
    if lower.endswith(_PERCENT_ENDINGS):
        return "percent"
    if lower.endswith(_COUNT_ENDINGS):
        return "count"
    return "number"


def _initiatives_detail(review: Review, frame: pd.DataFrame, locale: str) -> str:
    """One row per initiative; its target and actual in the unit its KPI is measured in."""
    texts = [Col("initiative_id"), _dim("area"), Col("name"), Col("owner_role"), Col("status"), Col("kpi")]
    columns = [components.Column(_col_label(review, c, locale), numeric=False, kind="dim" if i == 0 else "value",
                                 dimension=c.dimension, key=c.field) for i, c in enumerate(texts)]
    columns += [components.Column(_label(f, locale), key=f) for f in ("target", "actual")]
    columns.append(components.Column(_label("completion", locale), key="completion", unit="percent"))
    rows = []
    for _, record in frame.iterrows():
        unit = kpi_unit(review, record["kpi"])
        cells = []
        for c in texts:
            raw = record.get(c.field)
            text = "—" if raw is None or (not isinstance(raw, str) and pd.isna(raw)) else str(raw)
            cells.append(components.Cell(text=text, sort=text))
        cells += [components.Cell(number(review, _num(record[f]), unit, locale), _num(record[f]), unit=unit)
                  for f in ("target", "actual")]
        cells.append(components.Cell(number(review, _num(record["completion"]), "percent", locale),
                                     _num(record["completion"])))
        rows.append(cells)
    table = components.Table(columns=columns, rows=rows, labels=_table_labels(locale), period=review.period().key)
    return components.data_table(table, review.unique_id(components.table_id(table)))


# ---- chapter 3 ---------------------------------------------------------------------------
@macro
def hits_table(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """The hit products (rule stated below the table) with their features next to the
    average of all other SKUs.

    Example: {{ hits_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.hit_products(review.engine, review.period(period))
    hits = frame[frame["is_hit"]].copy()
    rest = frame[~frame["is_hit"]]
    summary = {"sku": "—", "product": i18n.text("section.hits.rest_average", loc, dim=dim_label(review, "sku", loc)),
               "category": "—", "net_sales": rest["net_sales"].mean(), "share": rest["share"].mean(),
               "growth": None, "avg_price": rest["avg_price"].mean(), "rating": rest["rating"].mean(),
               "launch_days": rest["launch_days"].mean(), "campaign_share": rest["campaign_share"].mean()}
    table = pd.concat([hits, pd.DataFrame([summary])], ignore_index=True)
    rule = i18n.text("section.hits.rule", loc)
    return _frame_table(review, table, [
        _dim("product"), _dim("sku"), _dim("category"), Col("net_sales", "currency", metric="net_sales"),
        Col("share", "percent"), Col("growth", "pct_change"), Col("avg_price", "currency"),
        Col("rating", "decimal"), Col("launch_days", "count"), Col("campaign_share", "percent")],
        loc, caption=rule, period=review.period(period))


@macro
def hits_breakdown(review: Review, by: str = "source", period: str | int | None = None,
                   locale: str | None = None) -> str:
    """Where the hit products sell: their net sales by a dimension (traffic source, platform,
    campaign …) with share, next to the share of all other SKUs.

    Example: {{ hits_breakdown(by="source") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    review.engine.check_request("net_sales", (by,))
    hits = analyses.hit_products(review.engine, p)
    hit_skus = list(hits[hits["is_hit"]]["sku"])
    rest_skus = list(hits[~hits["is_hit"]]["sku"])
    part = review.engine.compute("net_sales", p, (by,), {"sku": hit_skus}).rename(columns={"value": "hit"})
    other = review.engine.compute("net_sales", p, (by,), {"sku": rest_skus}).rename(columns={"value": "rest"})
    frame = part.merge(other, on=by, how="outer").fillna({"hit": 0.0, "rest": 0.0})
    frame["hit_share"] = frame["hit"] / frame["hit"].sum()
    frame["rest_share"] = frame["rest"] / frame["rest"].sum()
    frame = frame.sort_values(["hit", by], ascending=[False, True], kind="mergesort")
    frame[by] = frame[by].astype(str)
    return _frame_table(review, frame, [
        _dim(by),
        Col("hit", "currency", i18n.text("column.hit_sales", loc, metric=_label("net_sales", loc)), "net_sales"),
        Col("hit_share", "percent", _label("hit_share", loc)),
        Col("rest_share", "percent",
            i18n.text("column.rest_share", loc, dim=dim_label(review, "sku", loc, in_sentence=True)))], loc, period=review.period(period))


@macro
def stockout_table(review: Review, period: str | int | None = None, top: int = 10, locale: str | None = None) -> str:
    """SKUs out of stock during the period: days, first and last day, and their net sales.

    Example: {{ stockout_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.stockouts(review.engine, review.period(period)).head(int(top))
    for field in ("first_day", "last_day"):
        frame[field] = [fmt.format_value(d, "date", loc) for d in frame[field]]
    return _frame_table(review, frame, [_dim("product"), _dim("sku"), _dim("category"), Col("stockout_days", "count"),
                                        Col("first_day"), Col("last_day"),
                                        Col("net_sales", "currency", metric="net_sales")], loc, period=review.period(period))


@macro
def slow_moving_table(review: Review, days: int = 90, period: str | int | None = None, top: int = 15,
                      locale: str | None = None) -> str:
    """Slow-moving SKUs: stock on hand at period end and no sale in the last N days.

    Example: {{ slow_moving_table(days=90) }}
    """
    loc = review.locale(locale)
    frame = analyses.slow_moving_skus(review.engine, review.period(period), int(days))
    total = len(frame)
    frame = frame.head(int(top)).copy()
    frame["last_sale"] = [fmt.format_value(d, "date", loc) for d in frame["last_sale"]]
    caption = i18n.text("section.slow_moving.caption", loc, total=total, days=days, n=len(frame),
                        dim=dim_label(review, "sku", loc, in_sentence=True))
    return _frame_table(review, frame, [_dim("product"), _dim("sku"), _dim("category"), Col("on_hand_units", "count"),
                                        Col("stock_value", "currency"), Col("last_sale")], loc, caption=caption, period=review.period(period))


# ---- chapter 4 ---------------------------------------------------------------------------
@macro
def frequency_chart(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Buyers by number of orders in the period (1, 2, 3, 4, 5+), with share.

    Example: {{ frequency_chart() }}
    """
    loc = review.locale(locale)
    frame = analyses.frequency_distribution(review.engine, review.period(period))
    names = i18n.text("frequency.buckets", loc)
    rows = pd.DataFrame({
        "label": [names[analyses.FREQUENCY_BUCKETS.index(b)] for b in frame["bucket"]], "value": frame["buyers"],
        "value_text": [number(review, v, "count", loc) for v in frame["buyers"]],
        "share_text": [number(review, v, "percent", loc) for v in frame["share"]],
    })
    chart = charts.bars(rows, kind="count", locale=loc, currency=review.config.currency_symbol, horizontal=False)
    caption = i18n.text("frequency.caption", loc)
    top = rows.iloc[0] if not rows.empty else None
    description = caption if top is None else i18n.text("format.described", loc, caption=caption, items=i18n.text(
        "format.parenthesised", loc, text=f"{top['label']} {top['value_text']}", inner=top["share_text"]))
    return figure(review, chart, description, caption, review.locale())


@macro
def rfm_table(review: Review, compare: str = "yoy", period: str | int | None = None, locale: str | None = None) -> str:
    """RFM segments: buyers, share, net sales and share, and change versus the prior year;
    churn-risk segments ("Loyal, at risk" and "Big spenders to win back") are flagged.

    Example: {{ rfm_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.rfm_compare(review.engine, review.period(period), compare)
    if loc == "en":
        frame["segment"] = frame["segment_en"]
    frame["churn"] = frame["churn_risk"]
    return _frame_table(review, frame, [
        Col("segment"), Col("buyers", "count"), Col("buyer_share", "percent"),
        Col("net_sales", "currency", metric="net_sales"), Col("sales_share", "percent"),
        Col("buyers_change", "pct_change"), Col("sales_change", "pct_change"),
        Col("recency_days", "days"), Col("frequency", "ratio"),
        Col("churn", "bool")], loc, period=review.period(period))


@macro
def churn_risk(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """The number of buyers in the churn-risk segments and their share of sales.

    Example: {{ churn_risk() }}
    """
    loc = review.locale(locale)
    frame = analyses.rfm_compare(review.engine, review.period(period))
    risk = frame[frame["churn_risk"]]
    buyers = risk["buyers"].sum()
    share = risk["net_sales"].sum() / frame["net_sales"].sum() if frame["net_sales"].sum() else None
    count, pct = number(review, buyers, "count", loc), number(review, share, "percent", loc)
    text = i18n.text("section.churn.inline", loc, count=count, share=pct)
    return f'<strong class="fupan-inline">{components.esc(text)}</strong>'


@macro
def loyalty_table(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """The loyalty programme month by month: points earned and redeemed, coupons issued and
    redeemed, and their redemption rates.

    Example: {{ loyalty_table() }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    frame = analyses.loyalty_summary(review.engine, p)
    empty = set(review.engine.months_without_rows(["loyalty"], p))  # a row without figures, marked
    frame = with_empty_months(frame, "month", empty).sort_values("month", kind="mergesort")
    labels = month_labels(review, p, empty, loc)
    frame["month"] = [labels.get(m) or fmt.format_value(m, "month", loc) for m in frame["month"]]
    return _frame_table(review, frame, [_dim("month"), Col("points_earned", "count"), Col("points_redeemed", "count"),
                                        Col("points_redemption", "percent"), Col("coupons_issued", "count"),
                                        Col("coupons_redeemed", "count"), Col("coupon_redemption", "percent")], loc, period=review.period(period))


# ---- chapter 5 ---------------------------------------------------------------------------
@macro
def keyword_table(review: Review, top: int = 20, period: str | int | None = None, locale: str | None = None) -> str:
    """Search keywords by spend: impressions, clicks, CTR, CVR, spend, revenue and ROAS;
    the best and worst keyword by ROAS (among those with at least median spend) are named.

    Example: {{ keyword_table(top=10) }}
    """
    loc = review.locale(locale)
    frame = analyses.keyword_table(review.engine, review.period(period))
    best = frame[frame["best"]]["keyword"].tolist()
    worst = frame[frame["worst"]]["keyword"].tolist()
    caption = ""
    if best and worst:
        caption = i18n.text("section.keywords.caption", loc, best=best[0], worst=worst[0])
    return _frame_table(review, frame.head(int(top)), [
        Col("keyword"), _dim("channel"), Col("impressions", "count"), Col("clicks", "count"),
        Col("ctr", "percent", metric="ctr"), Col("cvr", "percent", metric="cvr"),
        Col("spend", "currency", metric="ad_spend"), Col("revenue", "currency", metric="ad_revenue"),
        Col("roas", "ratio", metric="roas")], loc, caption=caption, download="keywords.csv", period=review.period(period))


@macro
def campaign_table(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Every campaign of the period: dates, participants, coupon redemption, net sales during
    it versus the baseline of the 28 days before (uplift) and its survey feedback score.

    Example: {{ campaign_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.campaign_uplift(review.engine, review.period(period))
    for field in ("start", "end"):
        frame[field] = [fmt.format_value(d, "date", loc) for d in frame[field]]
    cols = [Col("name"), Col("start"), Col("days", "count"), Col("participants", "count"),
            Col("participations", "count"), Col("coupon_redemption", "percent"),
            Col("net_sales", "currency", metric="net_sales"), Col("baseline", "currency"),
            Col("uplift", "currency"), Col("uplift_pct", "pct_change")]
    if "feedback_score" in frame.columns:
        cols.append(Col("feedback_score", "decimal"))
    return _frame_table(review, frame, cols, loc, period=review.period(period))


@macro
def followers_chart(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Month-end followers by social platform through the period.

    Example: {{ followers_chart() }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    frame = analyses.follower_series(review.engine, p)
    empty = set(review.engine.months_without_rows(["social_followers"], p))  # kept on the axis, marked
    labels = month_labels(review, p, empty, loc)
    rows = pd.DataFrame({
        "x": [labels.get(m) or fmt.format_value(m, "month", loc) for m in frame["month"]],
        "x_order": [int(m[:4]) * 12 + int(m[5:7]) for m in frame["month"]],
        "series": frame["platform"], "value": frame["followers"],
        "value_text": [number(review, v, "count", loc) for v in frame["followers"]],
    })
    chart = charts.trend(rows, kind="count", locale=loc, currency=review.config.currency_symbol,
                         x_domain=list(labels.values()) if empty else None)
    caption = i18n.text("followers.caption", loc, dim=dim_label(review, "social_platform", loc, in_sentence=True))
    last = rows[rows["x_order"] == rows["x_order"].max()]
    description = i18n.text("format.described", loc, caption=caption, items=i18n.text("list.comma", loc).join(
        f"{s} {t}" for s, t in zip(last["series"], last["value_text"], strict=True)))
    return figure(review, chart, description, caption, review.locale())


@macro
def follower_table(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Followers by platform at the start and end of the period and their growth.

    Example: {{ follower_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.follower_growth(review.engine, review.period(period))
    return _frame_table(review, frame, [_dim("platform", "social_platform"), Col("start_followers", "count"),
                                        Col("end_followers", "count"),
                                        Col("growth", "pct_change", _label("follower_growth", loc))], loc, period=review.period(period))


# ---- chapter 6 ---------------------------------------------------------------------------
@macro
def kpi_score_table(review: Review, year: int | None = None, locale: str | None = None) -> str:
    """KPI score distribution of the year by function (bands), mean score and promotions;
    functions smaller than the minimum group size are merged.

    Example: {{ kpi_score_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.kpi_distribution(review.engine, int(year or review.config.year))
    names = i18n.text("section.kpi_bands", loc)
    bands = [Col(band, "count", name) for (_, band), name in zip(analyses.KPI_BANDS, names, strict=True)]
    return _frame_table(review, frame, [_dim("function"), Col("employees", "count"), Col("mean_score", "decimal")]
                        + bands
                        + [Col("promoted", "count"), Col("promotion_rate", "percent")], loc)


@macro
def hiring_table(review: Review, plan_year: int | None = None, locale: str | None = None) -> str:
    """Next year's hiring plan by function next to the headcount at the end of the review year.

    Example: {{ hiring_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.hiring_gap(review.engine, review.period(), int(plan_year or review.config.year + 1))
    return _frame_table(review, frame, [_dim("function"), Col("headcount", "count", metric="headcount"),
                                        Col("planned_headcount", "count"), Col("gap", "count")], loc)


# ---- chapter 7 ---------------------------------------------------------------------------
@macro
def market_table(review: Review, locale: str | None = None) -> str:
    """Market share of us and our competitors (market data file), this year and last.

    Example: {{ market_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.market_share_table(review.engine, review.config.year)
    frame["company"] = [i18n.text("section.market.us", loc, company=c) if us else c
                        for c, us in zip(frame["company"], frame["is_us"], strict=True)]
    return _frame_table(review, frame, [Col("company"), Col("sales", "currency"),
                                        Col("share", "percent", _label("market_share", loc), metric="market_share"),
                                        Col("base_share", "percent"), Col("share_change", "pp_change")], loc)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
