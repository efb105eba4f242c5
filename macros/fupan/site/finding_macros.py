"""Computed findings: each turns data into one sentence in the page's locale.

A finding states only what the numbers say (largest, smallest, share, change); why it happened
is the writer's job. Every number in a sentence goes through `fmt`, and every name from the
data is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from fupan.errors import ArgumentError
from fupan.presentation import fmt, i18n
from fupan.semantics import analyses
from fupan.site.context import Review
from fupan.site.registry import macro
from fupan.site.report_macros import dim_label
from fupan.site.report_macros import number as _number


def number(review: Review, value: float | None, kind: str, locale: str) -> str:
    """A formatted value as HTML: the currency symbol and pp label are settings, shown as text."""
    return escape(_number(review, value, kind, locale))


def _dim_word(review: Review, dim: str, locale: str, starts_sentence: bool = False) -> str:
    """A dimension's catalogue label as a word of a sentence, marked with the dimension id (so a
    test can compare it with every other place the site names the dimension)."""
    label = dim_label(review, dim, locale, in_sentence=not starts_sentence)
    return f'<span data-dimension="{escape(dim)}">{escape(label)}</span>'


def _month_label(key: str, locale: str) -> str:
    return fmt.format_value(key, "month", locale)


def _wrap(html: str) -> str:
    return f'<p class="fupan-finding">{html}</p>'


def _nothing(what_html: str, locale: str) -> str:
    """The sentence for a finding whose data is empty (e.g. every group merged for privacy);
    `what_html` is already escaped."""
    return _wrap(i18n.text("finding.nothing", locale, what=what_html))


def _topic(review: Review, metric_label: str, dim: str, locale: str) -> str:
    """'净销售额 · 品类': what an empty breakdown finding was about."""
    return i18n.text("finding.topic", locale, what=escape(metric_label), dim=_dim_word(review, dim, locale))


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
        return _nothing(escape(metric_def.label(loc)), loc)
    peak = frame.loc[frame["value"].idxmax()]
    trough = frame.loc[frame["value"].idxmin()]

    def share(v: float) -> str:
        return number(review, v / total, "percent", loc) if total else fmt.MISSING

    return _wrap(i18n.text(
        "finding.peak", loc,
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
        return _nothing(_topic(review, metric_def.label(loc), by, loc), loc)
    kind = metric_def.change_kind
    up, down = frame.iloc[-1], frame.iloc[0]
    return _wrap(i18n.text(
        "finding.mover" if down["change"] < 0 else "finding.mover_all_up", loc,
        dim=_dim_word(review, by, loc), label=escape(metric_def.label(loc)),
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
        return _nothing(_topic(review, metric_def.label(loc), by, loc), loc)
    row = frame.loc[frame["shift"].abs().idxmax()]
    return _wrap(i18n.text(
        "finding.share_shift", loc,
        item=escape(str(row[by])), label=escape(i18n.in_sentence(metric_def.label(loc), loc)),
        dim=_dim_word(review, by, loc), base=number(review, row["base_share"], "percent", loc), value=number(review, row["share"], "percent", loc),
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
    sep = i18n.text("list.separator", loc)
    below_text = i18n.text("finding.roi_below", loc, dim=_dim_word(review, "channel", loc, starts_sentence=True),
                           names=sep.join(escape(str(b)) for b in below)) if below else ""
    return _wrap(i18n.text(
        "finding.roi", loc, dim=_dim_word(review, "channel", loc),
        best=escape(str(best["channel"])), best_roi=number(review, best["roi"], "ratio", loc),
        best_roas=number(review, best["roas"], "ratio", loc),
        worst=escape(str(worst["channel"])), worst_roi=number(review, worst["roi"], "ratio", loc),
        worst_roas=number(review, worst["roas"], "ratio", loc), below=below_text,
    ).strip())


@macro
def finding_pareto(review: Review, period: str | int | None = None, top_fraction: float = 0.2,
                   locale: str | None = None) -> str:
    """Finding: the share of net sales from the top 20% of SKUs (concentration at the top).

    Example: {{ finding_pareto() }}
    """
    loc = review.locale(locale)
    result = analyses.pareto(review.engine, review.period(period), "sku", top_fraction)
    return _wrap(i18n.text(
        "finding.pareto", loc, dim=_dim_word(review, "sku", loc),
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
        return _nothing(escape(review.catalogue.metrics["complaints"].label(loc)), loc)
    top = by_reason.iloc[0]
    worst = rate.loc[rate["value"].idxmax()]
    return _wrap(i18n.text(
        "finding.complaint", loc,
        reason_dim=_dim_word(review, "reason", loc), month_dim=_dim_word(review, "month", loc),
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
    return _wrap(i18n.text(
        "finding.target", loc,
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
        return _wrap(i18n.text("finding.no_stockout", loc, dim=_dim_word(review, "sku", loc)))
    row = frame.iloc[0]
    return _wrap(i18n.text(
        "finding.stockout", loc, dim=_dim_word(review, "sku", loc),
        product=escape(str(row["product"])), sku=escape(str(row["sku"])),
        days=number(review, row["stockout_days"], "count", loc),
        first=fmt.format_value(row["first_day"], "date", loc), last=fmt.format_value(row["last_day"], "date", loc),
    ))
