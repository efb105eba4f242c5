"""The one Altair theme that styles every chart, in a light and a dark variant.

Chart builders carry no styling. The light variant is registered with Altair (and used for the
static SVGs); both variants are exported to the browser, where the chart script applies the one
that matches Material's palette toggle and re-draws on change.
"""

from __future__ import annotations

import copy
from typing import Any

from fupan.speed.lazy import lazy_import

alt = lazy_import("altair")

THEME_NAME = "fupan"
# The family the static SVGs are laid out with: fupan declares it (the weblate-fonts package) and
# svgrender.py hands its files to vl-convert, so a label's measured width never depends on the
# build machine's fonts. Browsers without it use the system fonts that follow.
CHART_FONT = "Kurinto Sans"
FONT = (
    f'"{CHART_FONT}", -apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", '
    "Roboto, Helvetica, Arial, sans-serif"
)
# Material indigo first; the rest are distinguishable in both schemes and for common colour
# vision deficiencies (Okabe–Ito inspired).
CATEGORY = ["#3f51b5", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8c8c8c", "#f0e442"]
# On Material's dark background (slate) the indigo of the first series is too dark to read:
# the dark variant lightens it (the other colours keep their contrast).
CATEGORY_DARK = ["#7986cb", *CATEGORY[1:]]
# Comparison series (prior year) is drawn in a muted colour.
COMPARISON = {"light": "#9fa8da", "dark": "#5c6bc0"}
SCHEMES: dict[str, dict[str, str]] = {
    "light": {"fg": "#1f2430", "muted": "#5f6368", "grid": "#e6e8eb", "domain": "#b0b4ba",
              "ramp": "blues"},
    "dark": {"fg": "#e2e4e9", "muted": "#a0a4ad", "grid": "#3a3f4b", "domain": "#6b7080",
             "ramp": "darkblue"},
}


def theme_config(scheme: str = "light") -> dict[str, Any]:
    """The Vega-Lite config for one colour scheme."""
    colors = SCHEMES[scheme]
    category = CATEGORY_DARK if scheme == "dark" else CATEGORY
    axis = {
        "labelFont": FONT, "titleFont": FONT, "labelColor": colors["muted"],
        "titleColor": colors["fg"], "gridColor": colors["grid"], "domainColor": colors["domain"],
        "tickColor": colors["domain"], "labelFontSize": 11, "titleFontSize": 12,
        "titleFontWeight": "normal",
    }
    return {
        "config": {
            "background": "transparent",
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 560, "continuousHeight": 280},
            "autosize": {"type": "fit-x", "contains": "padding"},
            "padding": {"left": 4, "right": 12, "top": 8, "bottom": 4},
            "title": {"font": FONT, "color": colors["fg"], "fontSize": 14, "anchor": "start",
                      "fontWeight": "normal"},
            "axis": axis,
            # Long time labels (2025年1月 …) on a narrow chart: drop every other label rather
            # than print them on top of each other.
            "axisX": {"grid": False, "labelAngle": 0, "labelOverlap": True, "labelSeparation": 6},
            "axisY": {"domain": False, "ticks": False},
            # Chinese titles read horizontally: a vertical axis puts its title above the axis
            # instead of turning it on its side.
            "axisLeft": {"titleAngle": 0, "titleAlign": "left", "titleBaseline": "bottom",
                         "titleAnchor": "end", "titleX": -4, "titleY": -8, "titleFontSize": 11},
            "axisRight": {"titleAngle": 0, "titleAlign": "right", "titleBaseline": "bottom",
                          "titleAnchor": "end", "titleX": 4, "titleY": -8, "titleFontSize": 11},
            "axisQuantitative": {"tickCount": 6},
            "legend": {"labelFont": FONT, "titleFont": FONT, "labelColor": colors["fg"],
                       "titleColor": colors["fg"], "orient": "top", "title": None,
                       "labelFontSize": 12, "symbolSize": 90, "columnPadding": 14,
                       "offset": 26},
            "header": {"labelFont": FONT, "titleFont": FONT, "labelColor": colors["fg"],
                       "titleColor": colors["fg"]},
            "text": {"font": FONT, "color": colors["fg"]},
            "range": {"category": category, "ramp": {"scheme": colors["ramp"]},
                      "heatmap": {"scheme": colors["ramp"]}},
            "line": {"strokeWidth": 2.5},
            "point": {"filled": True, "size": 50},
            "bar": {"cornerRadiusEnd": 2},
            "arc": {"stroke": "transparent"},
            "mark": {"color": category[0]},
            "rule": {"color": colors["muted"]},
            "customFormatTypes": True,
        }
    }


def comparison_color(scheme: str = "light") -> str:
    return COMPARISON[scheme]


def _fupan_theme() -> dict[str, Any]:
    return copy.deepcopy(theme_config("light"))


def enable() -> None:
    """Register the fupan theme with Altair and make it the active one (idempotent). Called
    before a chart becomes a spec, not on import: importing Altair is half a second that a
    build serving every chart from the cache does not pay."""
    if THEME_NAME not in alt.theme.names():
        alt.theme.register(THEME_NAME, enable=False)(_fupan_theme)
    if alt.theme.active != THEME_NAME:
        alt.theme.enable(THEME_NAME)
