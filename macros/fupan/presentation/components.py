"""HTML components: KPI cards, chart figures, tables, callouts, notices. Pure functions of their
inputs (already computed and formatted values in, one line of HTML out), except that cards,
inline numbers and tables tell the build's figures recorder (site/figures.py) what they show.

Every text that comes from data goes through :func:`esc`: HTML-escaped, and the characters that
Markdown or a template engine could read (``| { } * _ ` [ ] \\ ~``) written as character
references, so a product called ``<b>A|B</b> {{ x }}`` shows literally wherever it lands. Every
component is emitted as a single line of HTML so that Markdown leaves it alone (and admonitions
can indent it).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from fupan.errors import ArgumentError, FupanError, Location
from fupan.presentation import fmt, i18n
from fupan.site import figures
from fupan.speed.lazy import lazy_import

alt = lazy_import("altair")

ARROWS = {"up": "▲", "down": "▼", "flat": "■"}
CALLOUT_KINDS = ("note", "abstract", "info", "tip", "success", "question", "warning", "failure",
                 "danger", "bug", "example", "quote")
_BLOCK_START = re.compile(r"\s*<(p|div|ul|ol|dl|table|figure|blockquote|h[1-6])[\s>]", re.I)
# Characters Markdown (tables, emphasis, code, links, escapes) or Jinja could act on.
_MARKUP = {ord(c): f"&#{ord(c)};" for c in "|{}*_`[]\\~"}


class ChartTooLarge(FupanError, ValueError):
    """A chart would embed more rows than allowed: aggregate before charting."""

    def __init__(self, message: str):
        super().__init__(message, location=Location("mkdocs.yml", key="extra.review.max_chart_rows"),
                         hint="aggregate the data first (e.g. by month or top N)")


def esc(text: Any) -> str:
    """Text from data (names, labels, formatted numbers) as inert HTML text or attribute value."""
    return escape(str(text), quote=True).translate(_MARKUP)


# ---------------------------------------------------------------------------------------------
# KPI cards
# ---------------------------------------------------------------------------------------------


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
    sparkline: str = ""  # an inline SVG from sparkline_svg(), or ""
    # What the figures file says about the card (site/figures.py): unit, period, change
    unit: str | None = None
    period: str | None = None
    change: float | None = None
    change_unit: str | None = None  # pct_change | pp_change
    comparison: str | None = None  # yoy | prev: what `change` compares with
    unit_text: str = ""  # the catalogue's word after the number (小时, 年) where the unit names none


def tone_class(direction: str | None, colors: str = "red-up", prefix: str = "fupan-tone") -> str:
    """CSS class for a change: red or green by the review's convention (red-up: mainland)."""
    if direction not in ("up", "down"):
        return ""
    rising = direction == "up"
    red = rising if colors == "red-up" else not rising
    return f"{prefix}--red" if red else f"{prefix}--green"


def kpi_grid(cards: list[Card], colors: str = "red-up") -> str:
    """A responsive grid of KPI cards; colour follows `colors` (red-up: mainland convention)."""
    parts = []
    for card in cards:
        tone = tone_class(card.direction, colors, "fupan-kpi__delta")
        arrow = ARROWS.get(card.direction or "", "")
        raw = "" if fmt.is_missing(card.value) else repr(fmt.embedded_number(card.value))  # machine value
        unit = f' data-unit="{escape(card.unit)}"' if card.unit else ""
        word = (f'<span class="fupan-kpi__unit">{esc(fmt.unit_word(card.unit_text))}</span>'
                if card.unit_text and not fmt.is_missing(card.value) else "")
        figures.record("card", "", card.value, card.unit, card.metric_id, card.period)
        if card.comparison:
            figures.record("card", "", card.change, card.change_unit, card.metric_id, card.period,
                           comparison=card.comparison)
        parts.append(
            f'<a class="fupan-kpi" href="{escape(card.href)}" data-metric="{escape(card.metric_id)}">'
            f'<span class="fupan-kpi__label">{esc(card.label)}</span>'
            f'<span class="fupan-kpi__value" data-value="{raw}"{unit}>{esc(card.value_text)}{word}</span>'
            f'<span class="fupan-kpi__delta{" " + tone if tone else ""}">{arrow} '
            f'{esc(card.change_text)} <small>{esc(card.comparison_label)}</small></span>'
            f"{card.sparkline}</a>"
        )
    return f'<div class="fupan-kpis">{"".join(parts)}</div>'


def sparkline_svg(values: Sequence[float | None], width: int = 120, height: int = 28) -> str:
    """A tiny inline line chart of a series (e.g. the months of the year), built server-side.

    Gaps (None) break the line; the last point is dotted. Decorative: the card states the number,
    so the SVG is hidden from screen readers. Colour comes from CSS (currentColor).
    """
    points = [None if fmt.is_missing(v) else float(v) for v in values]  # type: ignore[arg-type]
    known = [v for v in points if v is not None]
    if len(points) < 2 or len(known) < 2:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    pad = 3.0
    step = (width - 2 * pad) / (len(points) - 1)

    def xy(i: int, v: float) -> tuple[str, str]:
        y = height - pad - (v - low) / span * (height - 2 * pad) if high != low else height / 2
        return f"{pad + i * step:.1f}", f"{y:.1f}"

    runs: list[list[str]] = [[]]
    for i, v in enumerate(points):
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        x, y = xy(i, v)
        runs[-1].append(f"{x},{y}")
    lines = "".join(f'<polyline points="{" ".join(r)}"/>' for r in runs if len(r) >= 2)
    last = max(i for i, v in enumerate(points) if v is not None)
    cx, cy = xy(last, points[last])  # type: ignore[arg-type]
    return (
        f'<svg class="fupan-spark" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-hidden="true" focusable="false" preserveAspectRatio="none">'
        f'<g fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" '
        f'stroke-linecap="round">{lines}</g>'
        f'<circle cx="{cx}" cy="{cy}" r="2" fill="currentColor"/></svg>'
    )


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------


def chart_spec(chart: alt.TopLevelMixin, max_rows: int) -> dict[str, Any]:
    """The Vega-Lite spec to embed, without the theme config (the page applies light or dark).

    The chart fills its container's width (the static SVG gets a fixed width instead).
    """
    from fupan.presentation.theme import enable

    enable()
    # Not validated against the Vega-Lite schema here: jsonschema took ~10% of a cold build,
    # and the specs come from our own builders, not from writers. The test suite validates
    # every chart of the built site instead (test_site_content).
    spec = chart.to_dict(validate=False)
    rows = sum(len(v) for v in spec.get("datasets", {}).values())
    if rows > max_rows:
        raise ChartTooLarge(
            f"this chart would embed {rows} rows (limit {max_rows}, `max_chart_rows` in "
            "extra.review): aggregate the data first (e.g. by month or top N)"
        )
    spec.pop("config", None)
    spec.pop("$schema", None)
    spec = _round_chart_data(spec)
    if not any(key in spec for key in ("hconcat", "vconcat", "concat", "facet", "repeat")):
        spec.setdefault("width", "container")
    return spec


def _round_chart_data(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its inline datasets at the embedding precision (fmt.embedded_number),
    each renamed after its rounded rows (Altair names a dataset by the hash of its rows)."""
    datasets = spec.get("datasets") or {}
    if not datasets:
        return spec
    renamed = {}
    for name, rows in datasets.items():
        for row in rows:
            for key, value in row.items():
                if isinstance(value, float) and math.isfinite(value):
                    row[key] = fmt.embedded_number(value)
        text = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        renamed[name] = "data-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    text = json.dumps(spec, ensure_ascii=False)
    for old, new in renamed.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    return json.loads(text)


def spec_id(spec: dict[str, Any]) -> str:
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "chart-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def static_image(source: str) -> str:
    """The build-time SVG of a chart as an image: shown without JavaScript and in print.
    `source`: the SVG's data URL (svgrender.data_url), or the token of one still being drawn.

    An <img> (data URL) rather than inline SVG: its ids and text cannot clash with the page's,
    it never runs script, and it scales through the SVG's viewBox.
    """
    if not source:
        return ""
    return f'<img class="fupan-chart__static" alt="" aria-hidden="true" src="{escape(source)}">'


def chart_figure(spec: dict[str, Any], element_id: str, description: str, caption: str = "",
                 static_source: str = "", dimension: str | None = None) -> str:
    """A figure the page script draws the chart into; the description is for screen readers.

    The static SVG (from vl-convert; `static_source` is its `src`) sits in the figure too: CSS
    hides it once the live chart has drawn, and shows it instead of the live chart in print. The
    spec is a block-level attribute (Markdown leaves it alone), so plain HTML escaping suffices
    there.
    """
    data = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    # The dimension whose label the spec carries as its category title (checked across pages).
    dim = f' data-dimension="{esc(dimension)}"' if dimension else ""
    return (
        f'<figure class="fupan-chart" id="{escape(element_id)}"{dim} tabindex="0">'
        f'<div class="fupan-chart__view" role="img" aria-label="{esc(description)}" '
        f'data-spec="{escape(data)}"></div>{static_image(static_source)}'
        f'<p class="fupan-sr-only">{esc(description)}</p>{cap}</figure>'
    )


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column: `numeric` columns sort by number, the others as text."""

    label: str
    numeric: bool = True
    href: str | None = None  # the metric's definition
    kind: str = "value"  # dim | value | change
    dimension: str | None = None  # the catalogue dimension the column shows (marked on its header)
    # For the figures file and the CSV: the column's key (metric id or analysis field), its
    # metric, the unit of its numbers and, for a change column, what it compares with.
    key: str | None = None
    metric: str | None = None
    unit: str | None = None
    comparison: str | None = None


@dataclass(frozen=True)
class Cell:
    text: str  # already formatted by fmt
    sort: float | str | None = None  # the raw value the browser sorts by
    tone: str = ""  # a CSS class (tone_class) for changes
    unit: str | None = None  # the cell's own unit where its column has one per row (targets)


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    rows: list[list[Cell]]
    totals: list[Cell] | None = None
    caption: str = ""
    download: str | None = None  # the CSV's suggested file name (default: its page and the table's id)
    labels: dict[str, str] = field(default_factory=dict)  # sort / download control texts
    period: str | None = None  # the period the numbers cover (Period.key), for the figures file
    offer_download: bool = True  # the CSV download control (written with the site)


def _sort_attr(value: float | str | None) -> str:
    if value is None or (not isinstance(value, str) and fmt.is_missing(value)):
        return ' data-sort-value=""'
    if isinstance(value, str):
        return f' data-sort-value="{esc(value)}"'
    return f' data-sort-value="{fmt.embedded_number(value)!r}"'


def _row(cells: list[Cell], columns: list[Column]) -> str:
    """One row: the first cell is the row's header (the dimension value)."""
    out = []
    for i, cell in enumerate(cells):
        tag, scope = ("th", ' scope="row"') if i == 0 else ("td", "")
        classes = ["fupan-table__num"] if columns[i].numeric else []
        if cell.tone:
            classes.append(cell.tone)
        cls = f' class="{" ".join(classes)}"' if classes else ""
        unit = f' data-unit="{esc(cell.unit)}"' if cell.unit and columns[i].numeric else ""
        out.append(f"<{tag}{scope}{cls}{unit}{_sort_attr(cell.sort)}>{esc(cell.text)}</{tag}>")
    return "".join(out)


def data_table(table: Table, element_id: str) -> str:
    """A sortable table: each cell carries its raw value in data-sort-value; a click on a header
    sorts by it, and a small icon beside a metric's header links to its definition. Its numbers
    go to the build's figures file and its rows, with raw values, to a CSV file of the site that
    the table's download control links to.

    The <table> has no class, so Material styles it (and wraps it for horizontal scrolling)
    like any Markdown table; the wrapper div carries the fupan class.
    """
    for row in [*table.rows, *([table.totals] if table.totals is not None else [])]:
        if len(row) != len(table.columns):
            raise ValueError(f"table row has {len(row)} cells for {len(table.columns)} columns")
    sort_label = table.labels.get("sort") or i18n.text("table.sort", fmt.DEFAULT_LOCALE)
    definition_label = table.labels.get("definition") or i18n.text("table.definition", fmt.DEFAULT_LOCALE)
    for_column = table.labels.get("for_column") or i18n.text("table.for_column", fmt.DEFAULT_LOCALE)
    head = []
    for column in table.columns:
        definition_of = for_column.format(action=esc(definition_label), column=esc(column.label))
        # The header text sorts (a click anywhere on the header but a link); the metric's
        # definition is a small icon beside it, so reading a column never leaves the page by accident.
        label = f'<span class="fupan-table__label">{esc(column.label)}</span>'
        if column.href:
            label += (f'<a class="fupan-table__def" href="{escape(column.href)}" '
                      f'title="{definition_of}" aria-label="{definition_of}"></a>')
        cls = ' class="fupan-table__num"' if column.numeric else ""
        dim = f' data-dimension="{esc(column.dimension)}"' if column.dimension else ""
        # The unit of the column's numbers (a fmt kind): pages and tests read values with it.
        dim += f' data-unit="{esc(column.unit)}"' if column.unit and column.numeric else ""
        head.append(
            f'<th{cls}{dim} data-type="{"number" if column.numeric else "text"}" '
            f'data-label="{esc(column.label)}" aria-sort="none">{label}'
            f'<button type="button" class="fupan-table__sort" title="{esc(sort_label)}" '
            f'aria-label="{for_column.format(action=esc(sort_label), column=esc(column.label))}"></button></th>'
        )
    body = "".join(f"<tr>{_row(row, table.columns)}</tr>" for row in table.rows)
    foot = ""
    if table.totals is not None:
        foot = (f'<tfoot><tr class="fupan-table__total">{_row(table.totals, table.columns)}'
                "</tr></tfoot>")
    caption = f"<caption>{esc(table.caption)}</caption>" if table.caption else ""
    _record_figures(table, element_id)
    tools = ""
    where = figures.table_file(element_id) if table.offer_download else None
    if where is not None:
        path, href = where
        figures.record_table(element_id, path, table.caption, [c.label for c in table.columns],
                             [_csv_row(row, table.columns) for row in _all_rows(table)])
        download_label = table.labels.get("download") or i18n.text("table.download", fmt.DEFAULT_LOCALE)
        download_title = (table.labels.get("download_title")
                          or i18n.text("table.download_title", fmt.DEFAULT_LOCALE))
        # Without a name of its own: the page and the table id (chapters-03-products-table-….csv).
        name = table.download or path.replace("/", "-").removeprefix(figures.TABLES_DIR + "-")
        tools = (f'<div class="fupan-table__tools"><a class="md-button fupan-table__download" '
                 f'href="{escape(href)}" download="{esc(name)}" '
                 f'type="text/csv" title="{esc(download_title)}">{esc(download_label)}</a></div>')
    return (
        f'<div class="fupan-table" id="{escape(element_id)}">{tools}'
        f'<table id="{escape(element_id)}-table">{caption}<thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>{body}</tbody>{foot}</table></div>"
    )


def _all_rows(table: Table) -> list[list[Cell]]:
    return [*table.rows, *([table.totals] if table.totals is not None else [])]


def _csv_row(cells: list[Cell], columns: list[Column]) -> list[Any]:
    """A row as the CSV holds it: numbers raw (the cells' sort values), text as shown."""
    return [(None if cell.sort is None or isinstance(cell.sort, str) or fmt.is_missing(cell.sort)
             else float(cell.sort)) if column.numeric else cell.text
            for cell, column in zip(cells, columns, strict=True)]


def _record_figures(table: Table, element_id: str) -> None:
    """Every number of the table, with the row's dimension values (text columns: their raw
    value where the cell has one) — the totals row's figures have none (they cover all rows)."""
    for index, cells in enumerate(_all_rows(table)):
        total = table.totals is not None and index == len(table.rows)
        dims: dict[str, Any] = {}
        if not total:
            for cell, column in zip(cells, table.columns, strict=True):
                if not column.numeric:
                    name = column.dimension or column.key or column.label
                    dims[name] = cell.sort if isinstance(cell.sort, str) else cell.text
        for cell, column in zip(cells, table.columns, strict=True):
            if column.numeric:
                figures.record("table", element_id, cell.sort, cell.unit or column.unit, column.metric, table.period,
                               dims, column=column.key or column.label, comparison=column.comparison)


def table_id(table: Table) -> str:
    """A stable id from the table's content."""
    text = json.dumps([[c.label for c in table.columns],
                       [[c.text for c in row] for row in table.rows], table.caption],
                      ensure_ascii=False)
    return "table-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


# ---------------------------------------------------------------------------------------------
# Boxes and inline numbers
# ---------------------------------------------------------------------------------------------


def callout(text_html: str, kind: str = "info", title: str = "") -> str:
    """An admonition-style box for a computed finding. `text_html` is trusted HTML (data in it
    must already be escaped with esc()); the title is escaped here."""
    if kind not in CALLOUT_KINDS:
        raise ArgumentError(f"callout kind {kind!r} unknown; use one of {', '.join(CALLOUT_KINDS)}")
    head = f'<p class="admonition-title">{esc(title)}</p>' if title else ""
    body = " ".join(str(text_html).split("\n"))
    if not _BLOCK_START.match(body):  # sentences get a paragraph; blocks (findings) stay as they are
        body = f"<p>{body}</p>"
    return f'<div class="admonition {kind} fupan-callout">{head}{body}</div>'


def _notice_title(text: str) -> str:
    """A notice's title: its words before the first colon (Chinese full-width, else English)."""
    for colon in ("：", ": "):
        if colon in text:
            return text.split(colon)[0]
    return text


def notice(text: str, kind: str = "warning") -> str:
    """A visible notice box (e.g. a section whose optional data file is absent)."""
    return (
        f'<div class="admonition {escape(kind)} fupan-notice"><p class="admonition-title">'
        f'{esc(_notice_title(text))}</p><p>{esc(text)}</p></div>'
    )


def inline_value(value_text: str, metric_id: str, href: str, change_text: str | None = None,
                 direction: str | None = None, colors: str = "red-up", *, unit: str | None = None,
                 value: float | None = None, period: str | None = None, change: float | None = None,
                 comparison: str | None = None, change_unit: str | None = None, locale: str = "zh-CN") -> str:
    """A number for use inside a sentence, linked to its definition. With its `unit`, the
    number also carries its machine value (data-value) and goes to the build's figures file,
    with its `change` from the `comparison` period when one is shown, in the locale's brackets."""
    raw = ""
    if unit is not None:
        number = "" if fmt.is_missing(value) else repr(fmt.embedded_number(value))  # type: ignore[arg-type]
        raw = f' data-value="{number}" data-unit="{escape(unit)}"'
        figures.record("value", "", value, unit, metric_id, period)
        if comparison:
            figures.record("value", "", change, change_unit, metric_id, period, comparison=comparison)
    shown_change = ""
    if change_text is not None:
        tone = tone_class(direction, colors)
        cls = f"fupan-inline__change {tone}".strip()
        bracketed = i18n.text("format.parenthesised", locale, text="", inner=esc(change_text))
        shown_change = f'<span class="{cls}">{bracketed}</span>'
    return (
        f'<a class="fupan-inline" href="{escape(href)}" data-metric="{escape(metric_id)}"{raw}>'
        f"{esc(value_text)}</a>{shown_change}"
    )


def format_number(value: Any, kind: str, locale: str, currency: str, pp_label: str | None) -> str:
    """Shorthand used by the macros: one call into fmt with the build's settings."""
    return fmt.format_value(value, kind, locale, currency=currency, pp_label=pp_label)
