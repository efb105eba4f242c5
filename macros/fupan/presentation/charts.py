"""Chart builders: tidy, already-aggregated rows in, an Altair chart out; and the static SVG of a
chart, rendered once at build time with vl-convert and cached on disk by spec.

Builders decide marks, encodings and layout only; every colour, font and size comes from the
registered theme (`theme.py`), and every number shown in a tooltip or label was formatted by
`fmt.py` before it reached the builder (columns ending in `_text`). Positions computed here
(funnel bar ends, stacked shares) are geometry, never displayed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from fupan.errors import ArgumentError
from fupan.presentation import fmt, i18n
from fupan.presentation import theme as _theme
from fupan.speed import svgrender
from fupan.speed.cache import read_sealed, write_atomically
from fupan.speed.lazy import lazy_import
from fupan.speed.svgrender import SvgRequest, data_url, draw, svg_request

pd = lazy_import("pandas")
alt = lazy_import("altair")

STATIC_WIDTH = 680  # px: about the text width of an A4 page at 96 dpi
BAND = 26  # px per bar or row of charts with one band per category


def _y_axis(kind: str, locale: str, currency: str, title: str | None = None, values: Any = (),
            **kwargs: Any) -> alt.Axis:
    """A value axis whose ticks all carry one unit, the one `values` (the plotted numbers) need."""
    unit = fmt.axis_unit(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), kind, locale)
    return alt.Axis(labelExpr=fmt.axis_label_expr(kind, locale, currency=currency, unit=unit), title=title,
                    **kwargs)


def _event_layers(events: pd.DataFrame | None, x_sort: list[str], x_field: str = "x",
                  x_scale: Any = None) -> list[alt.Chart]:
    """Vertical rules with labels (618, 双11 …) on a nominal time axis; labels alternate between
    two rows so that neighbouring months stay readable.

    events: x (the axis label of the event's month), label.
    """
    if events is None or events.empty:
        return []
    frame = pd.DataFrame({
        x_field: list(events["x"]),
        "event": list(events["label"]),
        "event_y": [2 + 14 * (i % 2) for i in range(len(events))],
    })
    rule = alt.Chart(frame).encode(x=alt.X(f"{x_field}:N", sort=x_sort,
                                           scale=alt.Undefined if x_scale is None else x_scale),
                                   tooltip=[alt.Tooltip("event:N", title=None)])
    return [
        rule.mark_rule(strokeDash=[2, 3]),
        rule.mark_text(align="left", dx=3, baseline="top").encode(
            text="event:N", y=alt.Y("event_y:Q", scale=None, axis=None)),
    ]


# The event labels take the top ~30 px of a 280-px plot (two rows, _event_layers); a chart with
# events leaves its top fifth free of data, so no line, bar or peak label (14 px above its point)
# reaches them.
EVENT_HEADROOM = 1.25


def _value_scale(values: Any, events: pd.DataFrame | None) -> Any:
    """The y scale of a chart's values: with events, room above the largest for their labels."""
    if events is None or events.empty:
        return alt.Undefined
    top = pd.to_numeric(pd.Series(values), errors="coerce").max()
    return alt.Scale(domainMax=float(top) * EVENT_HEADROOM) if pd.notna(top) and top > 0 else alt.Undefined


def trend(
    rows: pd.DataFrame,
    *,
    kind: str,
    locale: str,
    currency: str,
    x_title: str | None = None,
    y_title: str | None = None,
    marks: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    x_domain: list[str] | None = None,
) -> alt.LayerChart:
    """Lines over time, one per `series` (review year first), with optional peak/trough marks.

    rows: x (label), x_order (int), series, value, value_text.
    marks: x, value, label — points annotated on the first series (peak, trough).
    events: x, label — vertical rules for events such as 618 or 双11.
    x_domain: every x label in order (months without data keep their place on the axis).
    """
    series_order = list(dict.fromkeys(rows["series"]))
    x_order = x_domain or list(dict.fromkeys(rows.sort_values("x_order", kind="mergesort")["x"]))
    x_scale = alt.Scale(domain=x_order) if x_domain else alt.Undefined
    x = alt.X("x:N", sort=x_order, title=x_title, scale=x_scale)
    base = alt.Chart(rows).encode(
        x=x,
        y=alt.Y("value:Q", axis=_y_axis(kind, locale, currency, y_title, rows["value"]),
                scale=_value_scale(rows["value"], events)),
        color=alt.Color("series:N", sort=series_order, legend=alt.Legend(title=None)),
        tooltip=[
            alt.Tooltip("series:N", title=i18n.text("chart.series", locale)),
            alt.Tooltip("x:N", title=i18n.text("chart.period", locale)),
            alt.Tooltip("value_text:N", title=i18n.text("chart.value", locale)),
        ],
    )
    layers: list[alt.Chart] = [
        base.mark_line(point=True).encode(strokeDash=alt.StrokeDash("series:N", sort=series_order,
                                                                    legend=None))
    ]
    layers.extend(_event_layers(events, x_order, x_scale=x_scale))
    if marks is not None and not marks.empty:
        point = alt.Chart(marks).encode(x=alt.X("x:N", sort=x_order, scale=x_scale), y="value:Q")
        layers.append(point.mark_point(size=120, filled=False, strokeWidth=2))
        layers.append(point.mark_text(dy=-14).encode(text="label:N"))
    return alt.layer(*layers)


def bars(
    rows: pd.DataFrame,
    *,
    kind: str,
    locale: str,
    currency: str,
    horizontal: bool = True,
    label_title: str | None = None,
    value_title: str | None = None,
) -> alt.LayerChart:
    """Ranked bars with the formatted value (and share, when given) printed beside each bar.

    rows: label, value, value_text, optional share_text; drawn in the given row order.
    """
    order = list(rows["label"])
    tooltip = [alt.Tooltip("label:N", title=label_title or i18n.text("chart.item", locale)),
               alt.Tooltip("value_text:N", title=value_title or i18n.text("chart.value", locale))]
    text_field = "value_text:N"
    if "share_text" in rows.columns:
        tooltip.append(alt.Tooltip("share_text:N", title=i18n.text("chart.share", locale)))
        rows = rows.assign(bar_text=rows["value_text"] + "（" + rows["share_text"] + "）"
                           if locale == "zh-CN" else rows["value_text"] + " (" + rows["share_text"] + ")")
        text_field = "bar_text:N"
    axis = _y_axis(kind, locale, currency, value_title, rows["value"])
    if horizontal:
        # A fixed height per bar (not a Vega-Lite "step", which fit-x autosizing warns about).
        base = alt.Chart(rows, height=BAND * max(len(rows), 2)).encode(
            y=alt.Y("label:N", sort=order, title=None),
            x=alt.X("value:Q", axis=axis),
            tooltip=tooltip,
        )
        text = base.mark_text(align="left", dx=4).encode(text=text_field)
    else:
        base = alt.Chart(rows).encode(
            x=alt.X("label:N", sort=order, title=None),
            y=alt.Y("value:Q", axis=axis),
            tooltip=tooltip,
        )
        text = base.mark_text(dy=-6).encode(text=text_field)
    return alt.layer(base.mark_bar(), text)


def share(rows: pd.DataFrame, *, locale: str, style: str = "donut",
          label_title: str | None = None) -> alt.LayerChart:
    """Parts of a whole as a donut (default) or one 100% stacked bar, shares printed.

    rows: label, value, value_text, share (fraction), share_text; drawn in row order.
    """
    order = list(rows["label"])
    rows = rows.reset_index(drop=True).assign(order=range(len(rows)))
    tooltip = [alt.Tooltip("label:N", title=label_title or i18n.text("chart.item", locale)),
               alt.Tooltip("value_text:N", title=i18n.text("chart.value", locale)),
               alt.Tooltip("share_text:N", title=i18n.text("chart.share", locale))]
    color = alt.Color("label:N", sort=order, legend=alt.Legend(title=None))
    if style == "donut":
        base = alt.Chart(rows).encode(
            theta=alt.Theta("value:Q", stack=True), order=alt.Order("order:Q"), color=color,
            tooltip=tooltip)
        return alt.layer(
            base.mark_arc(innerRadius=70, outerRadius=118),
            base.mark_text(radius=138).encode(text="share_text:N"),
        )
    if style != "bar":
        raise ArgumentError(f"share style {style!r} unknown; use 'donut' or 'bar'")
    ends = rows["share"].fillna(0).cumsum()
    rows = rows.assign(start=ends - rows["share"].fillna(0), end=ends,
                       mid=ends - rows["share"].fillna(0) / 2)
    scale = alt.Scale(domain=[0, 1])
    base = alt.Chart(rows).encode(tooltip=tooltip)
    return alt.layer(
        base.mark_bar(cornerRadiusEnd=0).encode(
            x=alt.X("start:Q", scale=scale, axis=None), x2="end:Q", color=color,
            y=alt.value(0), y2=alt.value(36)),
        base.mark_text(baseline="top").encode(
            x=alt.X("mid:Q", scale=scale), y=alt.value(42), text="share_text:N"),
    ).properties(height=56)


def funnel(rows: pd.DataFrame, *, locale: str) -> alt.LayerChart:
    """A funnel: one centred bar per step, with users and the rate of the previous step.

    rows: label, users, users_text, rate_prev_text, rate_first_text; in step order.
    """
    order = list(rows["label"])
    top = float(pd.to_numeric(rows["users"], errors="coerce").max() or 0) or 1.0
    users = pd.to_numeric(rows["users"], errors="coerce").fillna(0).astype(float)
    rate_word = i18n.text("chart.conversion", locale)
    rows = rows.assign(
        x0=(top - users) / 2, x1=(top + users) / 2,
        bar_text=[u if r == fmt.MISSING else f"{u} · {rate_word} {r}"
                  for u, r in zip(rows["users_text"], rows["rate_prev_text"], strict=True)],
    )
    scale = alt.Scale(domain=[0, top * 1.45], nice=False)
    base = alt.Chart(rows).encode(
        y=alt.Y("label:N", sort=order, title=None),
        tooltip=[alt.Tooltip("label:N", title=i18n.text("chart.step", locale)),
                 alt.Tooltip("users_text:N", title=i18n.text("chart.users", locale)),
                 alt.Tooltip("rate_prev_text:N", title=i18n.text("chart.of_previous", locale)),
                 alt.Tooltip("rate_first_text:N", title=i18n.text("chart.of_first", locale))],
    )
    return alt.layer(
        base.mark_bar().encode(x=alt.X("x0:Q", scale=scale, axis=None), x2="x1:Q"),
        base.mark_text(align="left", dx=6).encode(x=alt.X("x1:Q", scale=scale, axis=None),
                                                 text="bar_text:N"),
    ).properties(height=44 * max(len(rows), 2))


def heatmap(rows: pd.DataFrame, *, locale: str) -> alt.Chart:
    """Cohort retention: first-purchase month down, months since across, share as colour.

    rows: cohort (label, in cohort order), month_offset (int), retention (fraction),
    retention_text, cohort_size_text, buyers_text. Month 0 is 100% by definition, so the colour scale spans the
    later months (month 0 is clamped to the darkest colour).
    """
    later = pd.to_numeric(rows.loc[rows["month_offset"] > 0, "retention"], errors="coerce")
    high = float(later.max()) if later.notna().any() and later.max() > 0 else 1.0
    cohorts = list(dict.fromkeys(rows["cohort"]))
    return alt.Chart(rows).mark_rect().encode(
        x=alt.X("month_offset:O", title=i18n.text("chart.months_since", locale),
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("cohort:O", sort=cohorts, title=i18n.text("chart.first_month", locale)),
        color=alt.Color("retention:Q", scale=alt.Scale(domain=[0, high], clamp=True),
                        legend=alt.Legend(title=None, labelExpr="format(datum.value, '.0%')")),
        tooltip=[alt.Tooltip("cohort:O", title=i18n.text("chart.cohort", locale)),
                 alt.Tooltip("month_offset:O", title=i18n.text("chart.month_offset", locale)),
                 alt.Tooltip("retention_text:N", title=i18n.text("chart.retention", locale)),
                 alt.Tooltip("buyers_text:N", title=i18n.text("chart.buyers", locale)),
                 alt.Tooltip("cohort_size_text:N", title=i18n.text("chart.cohort_size", locale))],
    ).properties(height=BAND * max(len(cohorts), 2))


def scatter(rows: pd.DataFrame, *, x_kind: str, y_kind: str, locale: str, currency: str,
            x_title: str, y_title: str, tooltip: list[tuple[str, str]]) -> alt.LayerChart:
    """Points of items (e.g. products: average price against sales), a group highlighted and
    labelled.

    rows: x, y, group (label; the highlighted group first), highlight (bool), label, and the
    `tooltip` columns as (column, title) pairs.
    """
    groups = list(dict.fromkeys(rows.sort_values("highlight", ascending=False,
                                                 kind="mergesort")["group"]))
    base = alt.Chart(rows).encode(
        x=alt.X("x:Q", axis=_y_axis(x_kind, locale, currency, x_title, rows["x"]),
                scale=alt.Scale(zero=False)),
        y=alt.Y("y:Q", axis=_y_axis(y_kind, locale, currency, y_title, rows["y"])),
    )
    return alt.layer(
        base.mark_point(filled=True).encode(
            color=alt.Color("group:N", sort=groups, legend=alt.Legend(title=None)),
            shape=alt.Shape("group:N", sort=groups, legend=None),
            tooltip=[alt.Tooltip(f"{c}:N", title=t) for c, t in tooltip]),
        base.mark_text(align="left", dx=7, baseline="middle").encode(text="label:N")
        .transform_filter("datum.highlight"),
    )


def combo(rows: pd.DataFrame, *, bar_kind: str, line_kind: str, bar_label: str, line_label: str,
          locale: str, currency: str, x_title: str | None = None,
          events: pd.DataFrame | None = None) -> alt.LayerChart:
    """Bars of one metric and a line of another over the same categories, each on its own
    y axis (left: bars, right: line); e.g. ad spend and ROAS by channel.

    rows: label, bar_value, bar_text, line_value, line_text; drawn in row order.
    """
    order = list(rows["label"])
    x = alt.X("label:N", sort=order, title=x_title)
    tooltip = [alt.Tooltip("label:N", title=x_title or i18n.text("chart.item", locale)),
               alt.Tooltip("bar_text:N", title=bar_label),
               alt.Tooltip("line_text:N", title=line_label)]
    base = alt.Chart(rows).encode(x=x, tooltip=tooltip)
    bars_layer = base.mark_bar().encode(
        y=alt.Y("bar_value:Q", axis=_y_axis(bar_kind, locale, currency, bar_label, rows["bar_value"]),
                scale=_value_scale(rows["bar_value"], events)),
        color=alt.ColorDatum(bar_label))
    line_layer = base.mark_line(point=True).encode(
        y=alt.Y("line_value:Q", axis=_y_axis(line_kind, locale, currency, line_label, rows["line_value"],
                                             orient="right", grid=False),
                scale=_value_scale(rows["line_value"], events)),
        color=alt.ColorDatum(line_label))
    layers: list[alt.Chart] = [bars_layer, line_layer]
    chart = alt.layer(*layers).resolve_scale(y="independent")
    extra = _event_layers(events, order, x_field="label")
    if extra:
        chart = alt.layer(chart, *extra)
    return chart


# ---------------------------------------------------------------------------------------------
# Static SVG (no JavaScript, print)
# ---------------------------------------------------------------------------------------------


def _vl_locales(locale: str) -> tuple[str, str]:
    return ("zh-CN", "zh-CN") if locale == "zh-CN" else ("en-US", "en-US")


def _svg_request(spec: dict[str, Any], cache_dir: Path, locale: str, width: int) -> SvgRequest:
    static = copy.deepcopy(spec)
    if static.get("width") == "container":
        static["width"] = width
    number_locale, time_locale = _vl_locales(locale)
    return svg_request(static, _theme.theme_config("light")["config"], number_locale, time_locale,
                       cache_dir)


def static_svg(spec: dict[str, Any], cache_dir: Path, locale: str,
               width: int = STATIC_WIDTH) -> str:
    """The chart as an SVG in the light theme, rendered by vl-convert at a fixed width, now.

    Cached under `cache_dir/svg/` by a hash of spec, theme, locale and vl-convert version
    (atomic write), so an unchanged chart is never rendered twice.
    """
    request = _svg_request(spec, cache_dir, locale, width)
    kept = read_sealed(request.path)  # checked: a damaged SVG is drawn again
    if kept is not None:
        return kept.decode("utf-8")
    svg = draw(request)
    write_atomically(request.path, svg)
    return svg


def static_image_source(spec: dict[str, Any], cache_dir: Path, locale: str,
                        width: int = STATIC_WIDTH) -> str:
    """The `src` of the chart's static image. During a build, a token for the SVG the build's
    worker draws while the pages go on (svgrender.py); otherwise the SVG's data URL."""
    if svgrender.RENDERER is None:
        return data_url(static_svg(spec, cache_dir, locale, width))
    return svgrender.RENDERER.image_source(_svg_request(spec, cache_dir, locale, width))
