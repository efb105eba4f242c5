"""HTML components: KPI cards, chart figures, notices. Pure functions of their inputs.

Every text that comes from data is HTML-escaped here, and every component is emitted as a
single line of HTML so that Markdown leaves it alone (and admonitions can indent it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from html import escape
from typing import Any

import altair as alt

from . import fmt

ARROWS = {"up": "▲", "down": "▼", "flat": "■"}


class ChartTooLarge(ValueError):
    """A chart would embed more rows than allowed: aggregate before charting."""


@dataclass(frozen=True)
class Card:
    metric_id: str
    label: str
    value: float | None
    value_text: str
    change_text: str
    direction: str | None  # up | down | flat | None
    comparison_label: str
    href: str
    good_when_up: bool = True


def kpi_grid(cards: list[Card], colors: str = "red-up") -> str:
    """A responsive grid of KPI cards; colour follows `colors` (red-up: mainland convention)."""
    parts = []
    for card in cards:
        tone = ""
        if card.direction in ("up", "down"):
            rising = card.direction == "up"
            red = rising if colors == "red-up" else not rising
            tone = " fupan-kpi__delta--red" if red else " fupan-kpi__delta--green"
        arrow = ARROWS.get(card.direction or "", "")
        raw = "" if card.value is None else f"{card.value:.6g}"
        parts.append(
            f'<a class="fupan-kpi" href="{escape(card.href)}" data-metric="{escape(card.metric_id)}">'
            f'<span class="fupan-kpi__label">{escape(card.label)}</span>'
            f'<span class="fupan-kpi__value" data-value="{raw}">{escape(card.value_text)}</span>'
            f'<span class="fupan-kpi__delta{tone}">{arrow} {escape(card.change_text)} '
            f'<small>{escape(card.comparison_label)}</small></span></a>'
        )
    return f'<div class="fupan-kpis">{"".join(parts)}</div>'


def chart_spec(chart: alt.TopLevelMixin, max_rows: int) -> dict[str, Any]:
    """The Vega-Lite spec to embed, without the theme config (the page applies light or dark)."""
    spec = chart.to_dict()
    rows = sum(len(v) for v in spec.get("datasets", {}).values())
    if rows > max_rows:
        raise ChartTooLarge(
            f"this chart would embed {rows} rows (limit {max_rows}, `max_chart_rows` in "
            "extra.review): aggregate the data first (e.g. by month or top N)"
        )
    spec.pop("config", None)
    spec.pop("$schema", None)
    return spec


def spec_id(spec: dict[str, Any]) -> str:
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "chart-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def chart_figure(spec: dict[str, Any], element_id: str, description: str, caption: str = "") -> str:
    """A figure the page script draws the chart into; the description is for screen readers."""
    data = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (
        f'<figure class="fupan-chart" id="{escape(element_id)}">'
        f'<div class="fupan-chart__view" role="img" aria-label="{escape(description)}" '
        f'data-spec="{escape(data)}"></div>'
        f'<p class="fupan-sr-only">{escape(description)}</p>{cap}</figure>'
    )


def notice(text: str, kind: str = "warning") -> str:
    """A visible notice box (e.g. a section whose optional data file is absent)."""
    return (
        f'<div class="admonition {escape(kind)} fupan-notice"><p class="admonition-title">'
        f'{escape(text.split("：")[0] if "：" in text else text)}</p><p>{escape(text)}</p></div>'
    )


def inline_value(value_text: str, metric_id: str, href: str, change_text: str | None = None,
                 direction: str | None = None) -> str:
    """A number for use inside a sentence, linked to its definition."""
    change = ""
    if change_text is not None:
        change = f'<span class="fupan-inline__change">（{escape(change_text)}）</span>'
    return (
        f'<a class="fupan-inline" href="{escape(href)}" data-metric="{escape(metric_id)}">'
        f"{escape(value_text)}</a>{change}"
    )


def format_number(value: Any, kind: str, locale: str, currency: str, pp_label: str | None) -> str:
    """Shorthand used by the macros: one call into fmt with the build's settings."""
    return fmt.format_value(value, kind, locale, currency=currency, pp_label=pp_label)
