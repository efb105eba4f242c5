"""Pieces of #20 item 1 that need no browser: KPI cards with the catalogue's unit words, the
unit an initiative's KPI wording is measured in."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fupan.data.contract import load_contract
from fupan.presentation import components
from fupan.presentation.components import Card
from fupan.semantics.catalogue import CATALOGUE_PATH, load_catalogue
from fupan.site.section_macros import kpi_unit

REPO = Path(__file__).resolve().parents[1]
# Indices without a unit of their own: NPS is a score from -100 to 100.
UNITLESS_DECIMALS = {"nps"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(load_contract(REPO / "data" / "datasets.yml"), CATALOGUE_PATH)


def test_card_shows_the_unit_word_after_its_number():
    card = Card("training_hours_per_head", "人均培训时长", 28.422222, "28.4", "+3.0%", "up", "同比",
                "../definitions/#training_hours_per_head", unit="decimal", unit_text="小时")
    html = components.kpi_grid([card])
    assert ('<span class="fupan-kpi__value" data-value="28.422222" data-unit="decimal">28.4'
            '<span class="fupan-kpi__unit">小时</span></span>') in html
    # No value, no unit word: "— 小时" would read as a number.
    missing = components.kpi_grid([Card("avg_tenure_years", "平均司龄", None, "—", "—", None, "同比", "#",
                                        unit="decimal", unit_text="年")])
    assert "fupan-kpi__unit" not in missing and ">—</span>" in missing
    # An English word is set off by a (no-break) space: "4.05 points", never "4.05points".
    en = components.kpi_grid([Card("csat", "CSAT", 4.0548, "4.05", "-0.04", "down", "YoY", "#",
                                   unit="decimal", unit_text="points")])
    assert ('data-unit="decimal">4.05<span class="fupan-kpi__unit">\u00a0points</span></span>') in en


def test_catalogue_unit_words(catalogue):
    metrics = catalogue.metrics
    assert (metrics["training_hours_per_head"].unit_text("zh-CN"), metrics["training_hours_per_head"].unit_text("en")) \
        == ("小时", "h")
    assert metrics["avg_tenure_years"].unit_text("zh-CN") == "年"
    assert metrics["net_sales"].unit_text("zh-CN") == ""  # ¥ says it
    # Every plain decimal metric says what it counts, so its card never shows a bare 28.4.
    bare = sorted(m.id for m in metrics.values()
                  if m.unit == "decimal" and not m.unit_text("zh-CN") and m.id not in UNITLESS_DECIMALS)
    assert not bare, f"decimal metrics without unit_text in metrics.yml: {bare}"


@pytest.mark.parametrize(("kpi", "unit"), [
    ("整体 ROAS", "ratio"),                     # the catalogue's en name of roas ends the wording
    ("复购率", "percent"),                      # a catalogue metric's zh name
    ("投诉率", "percent"),
    ("个护清洁净销售额同比增长", "percent"),      # a growth
    ("抖音净销售额占比", "percent"),              # a share (净销售额 does not end it)
    ("年度新品上市数", "count"),
    ("小红书粉丝数", "count"),
    ("平均首次响应时长（秒）", "number"),
    ("", "number"),
    (None, "number"),
])
def test_initiative_kpi_unit(catalogue, kpi, unit):
    assert kpi_unit(SimpleNamespace(catalogue=catalogue), kpi) == unit
