"""Section macros: tables and charts of the analyses the chapters need (targets, initiatives,
RFM, keywords, campaigns, inventory, team, market, …).

Each macro calls one analysis, formats every number through `fmt`, and renders with the shared
components (sortable tables, charts), so a section never formats or styles anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fupan.presentation import charts, components, fmt
from fupan.semantics import analyses
from fupan.site.context import Review
from fupan.site.registry import macro
from fupan.site.report_macros import figure, number
from fupan.speed.lazy import lazy_import

pd = lazy_import("pandas")

# Column labels: {field: (zh, en)}.
LABELS: dict[str, tuple[str, str]] = {
    "key": ("期间", "Period"), "value": ("数值", "Value"), "change": ("环比", "Change"),
    "metric": ("指标", "Metric"), "scope": ("范围", "Scope"), "target": ("目标", "Target"),
    "actual": ("实际", "Actual"), "attainment": ("达成率", "Attainment"),
    "implied_change": ("隐含增长", "Implied growth"),
    "initiative_id": ("编号", "ID"), "area": ("领域", "Area"), "name": ("名称", "Name"),
    "owner_role": ("负责岗位", "Owner"), "status": ("状态", "Status"), "kpi": ("衡量指标", "KPI"),
    "completion": ("完成度", "Completion"),
    "bucket": ("购买次数", "Orders per buyer"), "buyers": ("购买用户数", "Buyers"),
    "share": ("占比", "Share"), "net_sales": ("净销售额", "Net sales"), "aov": ("人均消费", "Sales per buyer"),
    "segment": ("RFM 分层", "RFM segment"), "buyer_share": ("人数占比", "Share of buyers"),
    "sales_share": ("销售额占比", "Share of sales"), "buyers_change": ("人数同比", "Buyers YoY"),
    "sales_change": ("销售额同比", "Sales YoY"), "recency_days": ("平均最近购买天数", "Avg. recency (days)"),
    "frequency": ("平均购买次数", "Avg. orders"),
    "keyword": ("关键词", "Keyword"), "channel": ("渠道", "Channel"), "impressions": ("展现量", "Impressions"),
    "clicks": ("点击量", "Clicks"), "conversions": ("转化数", "Conversions"), "spend": ("花费", "Spend"),
    "revenue": ("成交金额", "Revenue"), "ctr": ("点击率", "CTR"), "cvr": ("转化率", "CVR"), "roas": ("ROAS", "ROAS"),
    "start": ("开始", "Start"), "end": ("结束", "End"), "days": ("天数", "Days"),
    "participants": ("参与人数", "Participants"), "participations": ("参与人次", "Participations"),
    "coupon_redemption": ("核销率", "Coupon redemption"), "baseline": ("基线销售额", "Baseline"),
    "uplift": ("增量", "Uplift"), "uplift_pct": ("增量幅度", "Uplift %"),
    "feedback_score": ("活动满意度", "Feedback score"),
    "month": ("月份", "Month"), "points_earned": ("发放积分", "Points earned"),
    "points_redeemed": ("兑换积分", "Points redeemed"), "points_redemption": ("积分兑换率", "Points redemption"),
    "coupons_issued": ("发券数", "Coupons issued"), "coupons_redeemed": ("核销券数", "Coupons redeemed"),
    "function": ("职能", "Function"), "employees": ("考核人数", "Assessed"), "mean_score": ("平均分", "Mean score"),
    "promoted": ("晋升人数", "Promoted"), "promotion_rate": ("晋升率", "Promotion rate"),
    "planned_headcount": ("计划人数", "Planned"), "headcount": ("当前人数", "Current"), "gap": ("缺口", "Gap"),
    "company": ("公司", "Company"), "sales": ("销售额", "Sales"), "base_share": ("上年占有率", "Prior-year share"),
    "share_change": ("占有率变化", "Share change"),
    "sku": ("SKU", "SKU"), "product": ("商品", "Product"), "category": ("品类", "Category"),
    "stockout_days": ("缺货天数", "Stockout days"), "first_day": ("首次缺货", "First day"),
    "last_day": ("最后缺货", "Last day"), "on_hand_units": ("在库件数", "Units on hand"),
    "stock_value": ("库存金额", "Stock value"), "last_sale": ("最近售出", "Last sale"),
    "rank": ("排名", "Rank"), "units": ("销量", "Units"), "growth": ("同比", "YoY"),
    "avg_price": ("成交均价", "Avg. price"), "rating": ("评分", "Rating"), "launch_days": ("上市天数", "Days on sale"),
    "campaign_share": ("活动销售占比", "Campaign share"), "is_hit": ("爆款", "Hit"),
    "start_followers": ("期初粉丝", "Followers at start"), "end_followers": ("期末粉丝", "Followers at end"),
    "platform": ("平台", "Platform"), "source": ("流量来源", "Traffic source"), "device": ("终端", "Device"),
    "campaign": ("活动", "Campaign"), "city_tier": ("城市等级", "City tier"),
}
STATUS_ORDER = ["已完成", "进行中", "延期", "未启动"]


@dataclass(frozen=True)
class Col:
    field: str
    kind: str = "text"  # "text" or a fmt kind (currency, count, percent, pct_change, pp_change, ...)
    label: str | None = None
    metric: str | None = None  # link the header to this metric's definition


def _label(field: str, locale: str) -> str:
    zh, en = LABELS.get(field, (field, field))
    return en if locale == "en" else zh


def _frame_table(review: Review, frame: pd.DataFrame, cols: list[Col], locale: str, caption: str = "",
                 download: str | None = None) -> str:
    columns = [components.Column(label=c.label or _label(c.field, locale), numeric=c.kind != "text",
                                 href=review.link(f"definitions/#{c.metric}") if c.metric else None,
                                 kind="change" if c.kind in fmt.CHANGE_KINDS else "value")
               for c in cols]
    rows = []
    for _, record in frame.iterrows():
        cells = []
        for c in cols:
            raw = record.get(c.field)
            if c.kind == "text":
                text = "—" if raw is None or (not isinstance(raw, str) and pd.isna(raw)) else str(raw)
                cells.append(components.Cell(text=text, sort=text))
            elif c.kind == "bool":
                cells.append(components.Cell(text="✔" if bool(raw) else "", sort=1.0 if raw else 0.0))
            else:
                tone = ""
                if c.kind in fmt.CHANGE_KINDS:
                    tone = components.tone_class(fmt.direction(raw, c.kind), review.config.colors)
                value = None if raw is None or pd.isna(raw) else float(raw)
                cells.append(components.Cell(text=number(review, value, c.kind, locale), sort=value, tone=tone))
        rows.append(cells)
    columns = [components.Column(label=col.label, numeric=col.numeric, href=col.href,
                                 kind="dim" if i == 0 else col.kind) for i, col in enumerate(columns)]
    table = components.Table(columns=columns, rows=rows, caption=caption, download=download,
                             labels={"sort": "排序" if locale == "zh-CN" else "Sort",
                                     "download": "下载 CSV" if locale == "zh-CN" else "Download CSV"})
    return components.data_table(table, review.unique_id(components.table_id(table)))


def _metric_name(review: Review, metric_id: str, locale: str) -> str:
    metric = review.catalogue.metrics.get(metric_id)
    return metric.label(locale) if metric else metric_id


def _metric_kind(review: Review, metric_id: str) -> str:
    metric = review.catalogue.metrics.get(metric_id)
    return metric.unit if metric else "decimal"


def _targets_rows(review: Review, frame: pd.DataFrame, locale: str, change_field: str) -> str:
    """Targets have one unit per row: format each row with its metric's unit."""
    columns = [components.Column(_label(f, locale), numeric=(i > 1), kind="dim" if i == 0 else "value")
               for i, f in enumerate(["metric", "scope", "target", "actual", change_field])]
    rows = []
    for _, r in frame.iterrows():
        unit = _metric_kind(review, r["metric"])
        metric = review.catalogue.metrics.get(r["metric"])
        if change_field == "attainment":
            change_text = number(review, r["attainment"], "percent", locale)
            change_sort = r["attainment"]
        else:
            kind = metric.change_kind if metric else "pct_change"
            change_text = number(review, r["implied_change"], kind, locale)
            change_sort = r["implied_change"]
        rows.append([
            components.Cell(_metric_name(review, r["metric"], locale), _metric_name(review, r["metric"], locale)),
            components.Cell(str(r["scope"]), str(r["scope"])),
            components.Cell(number(review, r["target"], unit, locale), _num(r["target"])),
            components.Cell(number(review, r["actual"], unit, locale), _num(r["actual"])),
            components.Cell(change_text, _num(change_sort)),
        ])
    table = components.Table(columns=columns, rows=rows, labels={"sort": "排序" if locale == "zh-CN" else "Sort"})
    return components.data_table(table, review.unique_id(components.table_id(table)))


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
    rows = pd.DataFrame({
        "x": [fmt.format_value(m, "month", loc) for m in frame["month"]],
        "x_order": [int(m[:4]) * 12 + int(m[5:7]) for m in frame["month"]],
        "series": frame[by].astype(str), "value": frame["value"],
        "value_text": [number(review, v, metric_def.unit, loc) for v in frame["value"]],
        "rank": [keep.index(v) for v in frame[by]],  # legend in order of the totals
    }).sort_values(["rank", "x_order"], kind="mergesort").drop(columns="rank")
    chart = charts.trend(rows, kind=metric_def.unit, locale=loc, currency=review.config.currency_symbol)
    caption = (f"{metric_def.label(loc)}：按月、按{LABELS.get(by, (by, by))[0]}" if loc == "zh-CN"
               else f"{metric_def.label(loc)} by month and {LABELS.get(by, (by, by))[1].lower()}")
    if len(totals) > len(keep):
        caption += (f"（前 {len(keep)} 项）" if loc == "zh-CN" else f" (top {len(keep)})")
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
    cols = [Col("key", "text", "季度" if grain == "quarter" and loc == "zh-CN" else None)]
    for metric_id in ids:
        frame = analyses.period_table(review.engine, metric_id, p, grain)
        frame = frame.rename(columns={"value": metric_id, "change": f"{metric_id}__change"})
        frame = frame[["key", metric_id, f"{metric_id}__change"]]
        merged = frame if merged is None else merged.merge(frame, on="key", how="outer")
        metric = review.catalogue.metrics[metric_id]
        change_label = {"month": ("环比", "MoM"), "quarter": ("环比", "QoQ")}[grain][loc == "en"]
        change_title = f"{metric.label(loc)}{'' if loc == 'zh-CN' else ' '}{change_label}"
        cols += [Col(metric_id, metric.unit, metric.label(loc), metric_id),
                 Col(f"{metric_id}__change", metric.change_kind, change_title)]
    assert merged is not None
    merged["key"] = [fmt.format_value(k, grain, loc) for k in merged["key"]]
    return _frame_table(review, merged, cols, loc)


@macro
def targets_table(review: Review, year: int | None = None, locale: str | None = None) -> str:
    """Target vs actual for every target of the year in the targets file, with attainment
    (for "lower is better" metrics such as the complaint rate: target ÷ actual).

    Example: {{ targets_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.target_attainment(review.engine, int(year or review.config.year), review.config.as_of)
    return _targets_rows(review, frame, loc, "attainment")


@macro
def next_targets(review: Review, metrics: list[str] | None = None, locale: str | None = None) -> str:
    """Next year's targets (targets file) next to this year's actual and the growth they imply.

    Example: {{ next_targets(["net_sales", "roas"]) }}
    """
    loc = review.locale(locale)
    frame = analyses.next_year_targets(review.engine, review.config.year, review.config.as_of)
    if metrics:
        frame = frame[frame["metric"].isin(metrics)]
    return _targets_rows(review, frame, loc, "implied_change")


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
        Col("area", "text"), Col("total", "count", "举措数" if loc == "zh-CN" else "Initiatives"),
        Col("done", "count", "已完成" if loc == "zh-CN" else "Completed"),
        Col("done_share", "percent", "完成占比" if loc == "zh-CN" else "Completed share"),
        Col("completion", "percent", "平均完成度" if loc == "zh-CN" else "Avg. completion")], loc)
    detail = _frame_table(review, frame, [
        Col("initiative_id"), Col("area"), Col("name"), Col("owner_role"), Col("status"), Col("kpi"),
        Col("target", "number"), Col("actual", "number"), Col("completion", "percent")], loc)
    return head + "\n\n" + detail


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
    summary = {"sku": "—", "product": "其他 SKU 平均" if loc == "zh-CN" else "Average of other SKUs",
               "category": "—", "net_sales": rest["net_sales"].mean(), "share": rest["share"].mean(),
               "growth": None, "avg_price": rest["avg_price"].mean(), "rating": rest["rating"].mean(),
               "launch_days": rest["launch_days"].mean(), "campaign_share": rest["campaign_share"].mean()}
    table = pd.concat([hits, pd.DataFrame([summary])], ignore_index=True)
    rule = ("爆款规则：净销售额前 10 名中占全店净销售额 ≥ 3%，且同比增长（或本年新品）。" if loc == "zh-CN" else
            "Rule: among the top 10 SKUs by net sales, at least 3% of net sales and growing year on year.")
    return _frame_table(review, table, [
        Col("product"), Col("sku"), Col("category"), Col("net_sales", "currency", metric="net_sales"),
        Col("share", "percent"), Col("growth", "pct_change"), Col("avg_price", "currency"),
        Col("rating", "decimal"), Col("launch_days", "count"), Col("campaign_share", "percent")],
        loc, caption=rule)


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
    hit_label = "爆款" if loc == "zh-CN" else "Hits"
    rest_label = "其他 SKU" if loc == "zh-CN" else "Other SKUs"
    share_word = "占比" if loc == "zh-CN" else "share"
    return _frame_table(review, frame, [
        Col(by, "text", LABELS.get(by, (by, by))[loc == "en"]),
        Col("hit", "currency", f"{hit_label}{_label('net_sales', loc)}", "net_sales"),
        Col("hit_share", "percent", f"{hit_label}{share_word}"),
        Col("rest_share", "percent", f"{rest_label}{share_word}")], loc)


@macro
def stockout_table(review: Review, period: str | int | None = None, top: int = 10, locale: str | None = None) -> str:
    """SKUs out of stock during the period: days, first and last day, and their net sales.

    Example: {{ stockout_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.stockouts(review.engine, review.period(period)).head(int(top))
    for field in ("first_day", "last_day"):
        frame[field] = [fmt.format_value(d, "date", loc) for d in frame[field]]
    return _frame_table(review, frame, [Col("product"), Col("sku"), Col("category"), Col("stockout_days", "count"),
                                        Col("first_day"), Col("last_day"),
                                        Col("net_sales", "currency", metric="net_sales")], loc)


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
    caption = (f"共 {total} 个 SKU 超过 {days} 天未售出（按库存金额列出前 {len(frame)} 个）" if loc == "zh-CN"
               else f"{total} SKUs unsold for over {days} days (top {len(frame)} by stock value)")
    return _frame_table(review, frame, [Col("product"), Col("sku"), Col("category"), Col("on_hand_units", "count"),
                                        Col("stock_value", "currency"), Col("last_sale")], loc, caption=caption)


# ---- chapter 4 ---------------------------------------------------------------------------
@macro
def frequency_chart(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Buyers by number of orders in the period (1, 2, 3, 4, 5+), with share.

    Example: {{ frequency_chart() }}
    """
    loc = review.locale(locale)
    frame = analyses.frequency_distribution(review.engine, review.period(period))
    rows = pd.DataFrame({
        "label": frame["bucket"], "value": frame["buyers"],
        "value_text": [number(review, v, "count", loc) for v in frame["buyers"]],
        "share_text": [number(review, v, "percent", loc) for v in frame["share"]],
    })
    chart = charts.bars(rows, kind="count", locale=loc, currency=review.config.currency_symbol, horizontal=False)
    caption = "购买次数分布" if loc == "zh-CN" else "Orders per buyer"
    top = rows.iloc[0] if not rows.empty else None
    description = caption if top is None else (
        f"{caption}：{top['label']} {top['value_text']}（{top['share_text']}）")
    return figure(review, chart, description, caption, review.locale())


@macro
def rfm_table(review: Review, compare: str = "yoy", period: str | int | None = None, locale: str | None = None) -> str:
    """RFM segments: buyers, share, net sales and share, and change versus the prior year;
    churn-risk segments (重要保持、重要挽留) are flagged.

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
        Col("churn", "bool", "流失风险" if loc == "zh-CN" else "Churn risk")], loc)


@macro
def churn_risk(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """The number of buyers in the churn-risk segments and their share of sales.

    Example: 流失风险客户 {{ churn_risk() }}。
    """
    loc = review.locale(locale)
    frame = analyses.rfm_compare(review.engine, review.period(period))
    risk = frame[frame["churn_risk"]]
    buyers = risk["buyers"].sum()
    share = risk["net_sales"].sum() / frame["net_sales"].sum() if frame["net_sales"].sum() else None
    count, pct = number(review, buyers, "count", loc), number(review, share, "percent", loc)
    text = f"{count}人（贡献 {pct} 的净销售额）" if loc == "zh-CN" else f"{count} buyers ({pct} of net sales)"
    return f'<strong class="fupan-inline">{components.esc(text)}</strong>'


@macro
def loyalty_table(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """The loyalty programme month by month: points earned and redeemed, coupons issued and
    redeemed, and their redemption rates.

    Example: {{ loyalty_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.loyalty_summary(review.engine, review.period(period))
    frame["month"] = [fmt.format_value(m, "month", loc) for m in frame["month"]]
    return _frame_table(review, frame, [Col("month"), Col("points_earned", "count"), Col("points_redeemed", "count"),
                                        Col("points_redemption", "percent"), Col("coupons_issued", "count"),
                                        Col("coupons_redeemed", "count"), Col("coupon_redemption", "percent")], loc)


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
        caption = (f"ROAS 最高：{best[0]}；最低：{worst[0]}（只比较花费不低于中位数的关键词）" if loc == "zh-CN"
                   else f"Best ROAS: {best[0]}; worst: {worst[0]} (keywords with at least median spend)")
    return _frame_table(review, frame.head(int(top)), [
        Col("keyword"), Col("channel"), Col("impressions", "count"), Col("clicks", "count"),
        Col("ctr", "percent", metric="ctr"), Col("cvr", "percent", metric="cvr"),
        Col("spend", "currency", metric="ad_spend"), Col("revenue", "currency", metric="ad_revenue"),
        Col("roas", "ratio", metric="roas")], loc, caption=caption, download="keywords.csv")


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
    return _frame_table(review, frame, cols, loc)


@macro
def followers_chart(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Month-end followers by social platform through the period.

    Example: {{ followers_chart() }}
    """
    loc = review.locale(locale)
    frame = analyses.follower_series(review.engine, review.period(period))
    rows = pd.DataFrame({
        "x": [fmt.format_value(m, "month", loc) for m in frame["month"]],
        "x_order": [int(m[:4]) * 12 + int(m[5:7]) for m in frame["month"]],
        "series": frame["platform"], "value": frame["followers"],
        "value_text": [number(review, v, "count", loc) for v in frame["followers"]],
    })
    chart = charts.trend(rows, kind="count", locale=loc, currency=review.config.currency_symbol)
    caption = "各平台粉丝数（月末）" if loc == "zh-CN" else "Followers by platform (month end)"
    last = rows[rows["x_order"] == rows["x_order"].max()]
    description = caption + "：" + "，".join(f"{s} {t}" for s, t in zip(last["series"], last["value_text"],
                                                                      strict=True))
    return figure(review, chart, description, caption, review.locale())


@macro
def follower_table(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Followers by platform at the start and end of the period and their growth.

    Example: {{ follower_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.follower_growth(review.engine, review.period(period))
    return _frame_table(review, frame, [Col("platform"), Col("start_followers", "count"), Col("end_followers", "count"),
                                        Col("growth", "pct_change", "粉丝增长率" if loc == "zh-CN" else "Growth")], loc)


# ---- chapter 6 ---------------------------------------------------------------------------
@macro
def kpi_score_table(review: Review, year: int | None = None, locale: str | None = None) -> str:
    """KPI score distribution of the year by function (bands), mean score and promotions;
    functions smaller than the minimum group size are merged.

    Example: {{ kpi_score_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.kpi_distribution(review.engine, int(year or review.config.year))
    bands = [label for _, label in analyses.KPI_BANDS]
    return _frame_table(review, frame, [Col("function"), Col("employees", "count"), Col("mean_score", "decimal")]
                        + [Col(b, "count", b) for b in bands]
                        + [Col("promoted", "count"), Col("promotion_rate", "percent")], loc)


@macro
def hiring_table(review: Review, plan_year: int | None = None, locale: str | None = None) -> str:
    """Next year's hiring plan by function next to the headcount at the end of the review year.

    Example: {{ hiring_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.hiring_gap(review.engine, review.period(), int(plan_year or review.config.year + 1))
    return _frame_table(review, frame, [Col("function"), Col("headcount", "count", metric="headcount"),
                                        Col("planned_headcount", "count"), Col("gap", "count")], loc)


# ---- chapter 7 ---------------------------------------------------------------------------
@macro
def market_table(review: Review, locale: str | None = None) -> str:
    """Market share of us and our competitors (market data file), this year and last.

    Example: {{ market_table() }}
    """
    loc = review.locale(locale)
    frame = analyses.market_share_table(review.engine, review.config.year)
    frame["company"] = [f"{c}（本公司）" if us and loc == "zh-CN" else (f"{c} (us)" if us else c)
                        for c, us in zip(frame["company"], frame["is_us"], strict=True)]
    return _frame_table(review, frame, [Col("company"), Col("sales", "currency"),
                                        Col("share", "percent", "市场占有率" if loc == "zh-CN" else "Market share",
                                            metric="market_share"),
                                        Col("base_share", "percent"), Col("share_change", "pp_change")], loc)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
