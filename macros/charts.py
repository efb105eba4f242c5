"""Chart builders: tidy, already-aggregated rows in, an Altair chart out.

Builders decide marks and encodings only; every colour, font and size comes from the registered
theme (`theme.py`), and every number shown in a tooltip or label was formatted by `fmt.py`
before it reached the builder (columns ending in `_text`).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from . import fmt
from . import theme as _theme  # noqa: F401  (registers and enables the theme)


def _y_axis(kind: str, locale: str, currency: str, title: str | None = None) -> alt.Axis:
    return alt.Axis(labelExpr=fmt.axis_label_expr(kind, locale, currency=currency), title=title)


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
) -> alt.LayerChart:
    """Lines over time, one per `series` (review year first), with optional peak/trough marks.

    rows: x (label), x_order (int), series, value, value_text.
    marks: x, value, label — points annotated on the first series (peak, trough).
    events: x, label — vertical rules for events such as 618 or 双11.
    """
    series_order = list(dict.fromkeys(rows["series"]))
    x_order = list(dict.fromkeys(rows.sort_values("x_order", kind="mergesort")["x"]))
    x = alt.X("x:N", sort=x_order, title=x_title)
    base = alt.Chart(rows).encode(
        x=x,
        y=alt.Y("value:Q", axis=_y_axis(kind, locale, currency, y_title)),
        color=alt.Color("series:N", sort=series_order, legend=alt.Legend(title=None)),
        tooltip=[
            alt.Tooltip("series:N", title="系列" if locale == "zh-CN" else "Series"),
            alt.Tooltip("x:N", title="时间" if locale == "zh-CN" else "Period"),
            alt.Tooltip("value_text:N", title="数值" if locale == "zh-CN" else "Value"),
        ],
    )
    layers: list[alt.Chart] = [
        base.mark_line(point=True).encode(strokeDash=alt.StrokeDash("series:N", sort=series_order,
                                                                    legend=None))
    ]
    if events is not None and not events.empty:
        rule = alt.Chart(events).encode(x=alt.X("x:N", sort=x_order))
        layers.append(rule.mark_rule(strokeDash=[2, 3]))
        layers.append(rule.mark_text(align="left", dx=3, baseline="top").encode(
            text="label:N", y=alt.value(2)))
    if marks is not None and not marks.empty:
        point = alt.Chart(marks).encode(x=alt.X("x:N", sort=x_order), y="value:Q")
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
    tooltip = [alt.Tooltip("label:N", title=label_title or ("项目" if locale == "zh-CN" else "Item")),
               alt.Tooltip("value_text:N", title=value_title or ("数值" if locale == "zh-CN" else "Value"))]
    text_field = "value_text:N"
    if "share_text" in rows.columns:
        tooltip.append(alt.Tooltip("share_text:N", title="占比" if locale == "zh-CN" else "Share"))
        rows = rows.assign(bar_text=rows["value_text"] + "（" + rows["share_text"] + "）"
                           if locale == "zh-CN" else rows["value_text"] + " (" + rows["share_text"] + ")")
        text_field = "bar_text:N"
    axis = _y_axis(kind, locale, currency, value_title)
    if horizontal:
        base = alt.Chart(rows).encode(
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
