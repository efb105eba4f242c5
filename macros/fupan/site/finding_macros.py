"""Computed findings: each turns data into one sentence in the page's locale.

A finding states only what the numbers say (largest, smallest, share, change); why it happened
is the writer's job. Every number in a sentence goes through `fmt`, and every name from the
data is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from fupan.errors import ArgumentError
from fupan.presentation import fmt
from fupan.semantics import analyses
from fupan.site.context import Review
from fupan.site.registry import macro
from fupan.site.report_macros import number

TEMPLATES: dict[str, dict[str, str]] = {
    "peak": {
        "zh-CN": "{label}峰值在<strong>{peak}</strong>（{peak_value}，占全年 {peak_share}），"
                 "谷值在<strong>{trough}</strong>（{trough_value}，占 {trough_share}）。",
        "en": "{label} peaked in <strong>{peak}</strong> ({peak_value}, {peak_share} of the year) "
              "and was lowest in <strong>{trough}</strong> ({trough_value}, {trough_share}).",
    },
    "mover": {
        "zh-CN": "增长最快的{dim}是<strong>{up}</strong>（{label}{up_change}），"
                 "下滑最多的是<strong>{down}</strong>（{down_change}）。",
        "en": "The fastest-growing {dim} was <strong>{up}</strong> ({label} {up_change}); "
              "the largest decline was <strong>{down}</strong> ({down_change}).",
    },
    "mover_all_up": {
        "zh-CN": "增长最快的{dim}是<strong>{up}</strong>（{label}{up_change}），"
                 "增长最慢的是<strong>{down}</strong>（{down_change}）。",
        "en": "The fastest-growing {dim} was <strong>{up}</strong> ({label} {up_change}); "
              "the slowest was <strong>{down}</strong> ({down_change}).",
    },
    "share_shift": {
        "zh-CN": "<strong>{item}</strong>的{label}占比从 {base} 变为 {value}（{change}），"
                 "是{dim}结构中变化最大的一项。",
        "en": "<strong>{item}</strong>'s share of {label} moved from {base} to {value} ({change}), "
              "the largest shift among {dim}s.",
    },
    "roi": {
        "zh-CN": "ROI 最高的广告渠道是<strong>{best}</strong>（ROI {best_roi}，ROAS {best_roas}），"
                 "最低的是<strong>{worst}</strong>（ROI {worst_roi}，ROAS {worst_roas}）。{below}",
        "en": "The best ad channel by ROI was <strong>{best}</strong> (ROI {best_roi}, ROAS {best_roas}); "
              "the worst was <strong>{worst}</strong> (ROI {worst_roi}, ROAS {worst_roas}). {below}",
    },
    "roi_below": {
        "zh-CN": "ROI 低于 1 的渠道：{names}。",
        "en": "Channels with ROI below 1: {names}.",
    },
    "pareto": {
        "zh-CN": "销售额排名前 {fraction} 的 SKU（{count} 个，共 {items} 个）"
                 "贡献了 <strong>{share}</strong> 的净销售额。",
        "en": "The top {fraction} of SKUs ({count} of {items}) brought <strong>{share}</strong> of net sales.",
    },
    "complaint": {
        "zh-CN": "投诉最多的原因是<strong>{reason}</strong>（{count} 起，占 {share}）；"
                 "投诉率最高的月份是<strong>{month}</strong>（{rate}）。",
        "en": "The most common complaint reason was <strong>{reason}</strong> ({count}, {share} of all); "
              "the complaint rate peaked in <strong>{month}</strong> ({rate}).",
    },
    "target": {
        "zh-CN": "{label}目标达成率 <strong>{attainment}</strong>（目标 {target}，实际 {actual}）。",
        "en": "{label} reached <strong>{attainment}</strong> of target (target {target}, actual {actual}).",
    },
    "stockout": {
        "zh-CN": "缺货最久的 SKU 是<strong>{product}</strong>（{sku}），{first} 至 {last} 共缺货 {days} 天。",
        "en": "The longest stockout was <strong>{product}</strong> ({sku}): {days} days between {first} and {last}.",
    },
}
NOTHING = {
    "zh-CN": "{what}：本期没有可比较的数据。",
    "en": "{what}: no comparable data in the period.",
}
DIMENSION_WORDS = {
    "category": {"zh-CN": "品类", "en": "category"},
    "platform": {"zh-CN": "平台", "en": "platform"},
    "channel": {"zh-CN": "渠道", "en": "channel"},
    "source": {"zh-CN": "流量来源", "en": "traffic source"},
    "device": {"zh-CN": "终端", "en": "device"},
    "product": {"zh-CN": "商品", "en": "product"},
    "sku": {"zh-CN": "SKU", "en": "SKU"},
    "province": {"zh-CN": "省份", "en": "province"},
    "city": {"zh-CN": "城市", "en": "city"},
    "city_tier": {"zh-CN": "城市等级", "en": "city tier"},
    "member_level": {"zh-CN": "会员等级", "en": "member level"},
    "member_status": {"zh-CN": "会员类型", "en": "membership"},
    "gender": {"zh-CN": "性别", "en": "gender"},
    "age_band": {"zh-CN": "年龄段", "en": "age band"},
    "campaign": {"zh-CN": "活动", "en": "campaign"},
    "reason": {"zh-CN": "投诉原因", "en": "complaint reason"},
    "function": {"zh-CN": "职能", "en": "function"},
    "social_platform": {"zh-CN": "社交平台", "en": "social platform"},
    "content_type": {"zh-CN": "内容类型", "en": "content type"},
}


def _dim_word(dim: str, locale: str) -> str:
    return DIMENSION_WORDS.get(dim, {}).get(locale, dim)


def _month_label(key: str, locale: str) -> str:
    return fmt.format_value(key, "month", locale)


def _wrap(html: str) -> str:
    return f'<p class="fupan-finding">{html}</p>'


def _nothing(what: str, locale: str) -> str:
    """The sentence for a finding whose data is empty (e.g. every group merged for privacy)."""
    return _wrap(NOTHING[locale].format(what=escape(what)))


@macro
def finding_peak(review: Review, metric: str = "net_sales", period: str | int | None = None,
                 locale: str | None = None) -> str:
    """Finding: the peak and trough month of a metric, with their share of the period.

    Example: {{ finding_peak("net_sales") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    metric_def = review.engine.check_request(metric, ("month",))
    frame = review.engine.compute(metric, p, ("month",)).dropna(subset=["value"])
    total = review.engine.value(metric, p)
    if frame.empty:
        return _nothing(metric_def.label(loc), loc)
    peak = frame.loc[frame["value"].idxmax()]
    trough = frame.loc[frame["value"].idxmin()]

    def share(v: float) -> str:
        return number(review, v / total, "percent", loc) if total else fmt.MISSING

    return _wrap(TEMPLATES["peak"][loc].format(
        label=escape(metric_def.label(loc)),
        peak=_month_label(peak["month"], loc), peak_value=number(review, peak["value"], metric_def.unit, loc),
        peak_share=share(peak["value"]),
        trough=_month_label(trough["month"], loc),
        trough_value=number(review, trough["value"], metric_def.unit, loc), trough_share=share(trough["value"]),
    ))


@macro
def finding_mover(review: Review, metric: str = "net_sales", by: str = "category",
                  period: str | int | None = None, compare: str = "yoy", locale: str | None = None) -> str:
    """Finding: the fastest-growing and the most-declining item of a breakdown (by % change).

    Example: {{ finding_mover("net_sales", by="category") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    metric_def = review.engine.check_request(metric, (by,))
    frame = review.engine.compare_by(metric, p, (by,), compare)
    frame = frame[frame["change"].notna()].sort_values(["change", by], kind="mergesort")
    if len(frame) < 2:
        return _nothing(f"{metric_def.label(loc)} · {_dim_word(by, loc)}", loc)
    kind = metric_def.change_kind
    up, down = frame.iloc[-1], frame.iloc[0]
    template = TEMPLATES["mover" if down["change"] < 0 else "mover_all_up"][loc]
    return _wrap(template.format(
        dim=_dim_word(by, loc), label=escape(metric_def.label(loc)),
        up=escape(str(up[by])), up_change=number(review, up["change"], kind, loc),
        down=escape(str(down[by])), down_change=number(review, down["change"], kind, loc),
    ))


@macro
def finding_share_shift(review: Review, metric: str = "net_sales", by: str = "platform",
                        period: str | int | None = None, compare: str = "yoy", locale: str | None = None) -> str:
    """Finding: the item whose share of the total moved most versus the comparison period.

    Example: {{ finding_share_shift("net_sales", by="platform") }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    metric_def = review.engine.check_request(metric, (by,))
    frame = review.engine.compare_by(metric, p, (by,), compare).fillna({"value": 0.0, "base": 0.0})
    frame["share"] = frame["value"] / frame["value"].sum()
    frame["base_share"] = frame["base"] / frame["base"].sum()
    frame["shift"] = frame["share"] - frame["base_share"]
    frame = frame.dropna(subset=["shift"])
    if len(frame) < 2:
        return _nothing(f"{metric_def.label(loc)} · {_dim_word(by, loc)}", loc)
    row = frame.loc[frame["shift"].abs().idxmax()]
    return _wrap(TEMPLATES["share_shift"][loc].format(
        item=escape(str(row[by])), label=escape(metric_def.label(loc)), dim=_dim_word(by, loc),
        base=number(review, row["base_share"], "percent", loc), value=number(review, row["share"], "percent", loc),
        change=number(review, row["shift"], "pp_change", loc),
    ))


@macro
def finding_roi(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Finding: the best and worst ad channel by ROI (with ROAS), and channels with ROI below 1.

    Example: {{ finding_roi() }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    roi = review.engine.compute("roi", p, ("channel",)).rename(columns={"value": "roi"})
    roas = review.engine.compute("roas", p, ("channel",)).rename(columns={"value": "roas"})
    frame = roi.merge(roas, on="channel").dropna(subset=["roi"]).sort_values(["roi", "channel"],
                                                                             kind="mergesort")
    if frame.empty:
        return _nothing("ROI", loc)
    best, worst = frame.iloc[-1], frame.iloc[0]
    below = frame[frame["roi"] < 1]["channel"].tolist()
    sep = "、" if loc == "zh-CN" else ", "
    below_text = TEMPLATES["roi_below"][loc].format(names=sep.join(escape(str(b)) for b in below)) if below else ""
    return _wrap(TEMPLATES["roi"][loc].format(
        best=escape(str(best["channel"])), best_roi=number(review, best["roi"], "ratio", loc),
        best_roas=number(review, best["roas"], "ratio", loc),
        worst=escape(str(worst["channel"])), worst_roi=number(review, worst["roi"], "ratio", loc),
        worst_roas=number(review, worst["roas"], "ratio", loc), below=below_text,
    ).strip())


@macro
def finding_pareto(review: Review, period: str | int | None = None, top_fraction: float = 0.2,
                   locale: str | None = None) -> str:
    """Finding: the share of net sales from the top 20% of SKUs (头部集中度).

    Example: {{ finding_pareto() }}
    """
    loc = review.locale(locale)
    result = analyses.pareto(review.engine, review.period(period), "sku", top_fraction)
    return _wrap(TEMPLATES["pareto"][loc].format(
        fraction=number(review, top_fraction, "percent", loc).replace(".0%", "%"),
        count=number(review, result.top_count, "count", loc), items=number(review, result.items, "count", loc),
        share=number(review, result.share, "percent", loc),
    ))


@macro
def finding_complaints(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Finding: the most common complaint reason and the month with the highest complaint rate.

    Example: {{ finding_complaints() }}
    """
    loc = review.locale(locale)
    p = review.period(period)
    by_reason = review.engine.compute("complaints", p, ("reason",))
    by_reason = by_reason.sort_values(["value", "reason"], ascending=[False, True], kind="mergesort")
    rate = review.engine.compute("complaint_rate", p, ("month",)).dropna(subset=["value"])
    if by_reason.empty or rate.empty:
        return _nothing(review.catalogue.metrics["complaints"].label(loc), loc)
    top = by_reason.iloc[0]
    worst = rate.loc[rate["value"].idxmax()]
    return _wrap(TEMPLATES["complaint"][loc].format(
        reason=escape(str(top["reason"])), count=number(review, top["value"], "count", loc),
        share=number(review, top["value"] / by_reason["value"].sum(), "percent", loc),
        month=_month_label(worst["month"], loc), rate=number(review, worst["value"], "percent", loc),
    ))


@macro
def finding_target(review: Review, metric: str = "net_sales", year: int | None = None,
                   locale: str | None = None) -> str:
    """Finding: attainment of the year's target for a metric (from the targets file).

    Example: {{ finding_target("net_sales") }}
    """
    loc = review.locale(locale)
    metric_def = review.engine.check_request(metric)
    frame = analyses.target_attainment(review.engine, int(year or review.config.year), review.config.as_of)
    row = frame[(frame["metric"] == metric) & (frame["scope"] == "全部")]
    if row.empty:
        raise ArgumentError(f"finding_target: the targets file has no {metric!r} target (scope 全部) "
                         f"for {year or review.config.year}")
    row = row.iloc[0]
    return _wrap(TEMPLATES["target"][loc].format(
        label=escape(metric_def.label(loc)), attainment=number(review, row["attainment"], "percent", loc),
        target=number(review, row["target"], metric_def.unit, loc),
        actual=number(review, row["actual"], metric_def.unit, loc),
    ))


@macro
def finding_stockout(review: Review, period: str | int | None = None, locale: str | None = None) -> str:
    """Finding: the SKU with the longest stockout in the period and when it happened.

    Example: {{ finding_stockout() }}
    """
    loc = review.locale(locale)
    frame = analyses.stockouts(review.engine, review.period(period))
    if frame.empty:
        return _wrap("本期没有缺货的 SKU。" if loc == "zh-CN" else "No SKU was out of stock in the period.")
    row = frame.iloc[0]
    return _wrap(TEMPLATES["stockout"][loc].format(
        product=escape(str(row["product"])), sku=escape(str(row["sku"])),
        days=number(review, row["stockout_days"], "count", loc),
        first=fmt.format_value(row["first_day"], "date", loc), last=fmt.format_value(row["last_day"], "date", loc),
    ))
