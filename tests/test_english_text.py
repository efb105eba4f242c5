"""The English edition's text: its pages' commentary reminders and macros that say nothing in Chinese."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from fupan.presentation import components
from fupan.site.reminders import edition_pages, find_unfinished
from fupan.site.report_macros import table, value
from fupan.site.section_macros import frequency_chart, kpi_score_table
from tiny import tiny_review


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_each_edition_reminds_of_its_own_pages_only(tmp_path):
    docs = tmp_path / "docs"
    _write(docs / "index.md", '# 首页\n\n!!! note "分析师点评（示例，请替换）"\n    样例。\n')
    _write(docs / "index.en.md", '# Home\n\ntext\n\n!!! note "Analyst\'s commentary (sample, replace)"\n    Sample.\n')
    _write(docs / "chapters" / "a.md", '# A\n\n!!! note "原因分析（待填写）"\n    \n')
    # No English version of b.md: the English edition reads the Chinese page.
    _write(docs / "chapters" / "b.md", '# B\n\n!!! note "点评（示例，请替换）"\n    x\n')
    _write(docs / "chapters" / "a.en.md", '# A\n\n!!! note "Root causes (to be written)"\n    \n')

    def where(found):
        return ([(b.page, b.line) for b in found.samples], [(b.page, b.line) for b in found.unwritten])

    assert [p.relative_to(docs).as_posix() for p in edition_pages(docs, "en")] == [
        "chapters/a.en.md", "chapters/b.md", "index.en.md"]
    assert where(find_unfinished(docs, "zh-CN")) == ([("chapters/b.md", 3), ("index.md", 3)], [("chapters/a.md", 3)])
    assert where(find_unfinished(docs, "en")) == ([("chapters/b.md", 3), ("index.en.md", 5)],
                                                  [("chapters/a.en.md", 3)])
    # The build log names every unfinished box, in both languages.
    assert len(find_unfinished(docs).samples) == 3 and len(find_unfinished(docs).unwritten) == 2


# ---- macros that printed Chinese whatever the locale ----------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    # 3 people at least per group: the tiny team's functions (运营 2, 客服 1) merge into one group.
    return tiny_review(tmp_path_factory.mktemp("english"), extras=True, min_group_size=3)


def _header_texts(html: str) -> list[str]:
    cells = re.findall(r"<th\b[^>]*>(.*?)</th>", html, re.S)
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in cells]


def test_kpi_score_bands_and_merged_groups_are_in_the_pages_language(shop):
    # E1 92, E2 75, E3 85: one each in Excellent, Satisfactory and Good; the 3 people in one merged row.
    html = kpi_score_table(shop, locale="en")
    headers = _header_texts(html)
    for band in ("Excellent (≥90)", "Good (80–89)", "Satisfactory (70–79)", "Needs improvement (<70)"):
        assert any(h.startswith(band) for h in headers), (band, headers)
    assert ">Others<" in html and not CJK.search(html)
    zh = kpi_score_table(shop, locale="zh-CN")
    assert any(h.startswith("优秀（≥90）") for h in _header_texts(zh)) and ">其他<" in zh
    # The generic table: at year end E1 and E3 (运营) are employed, too few to show apart.
    html = table(shop, ["headcount"], by="function", locale="en")
    assert ">Others<" in html and "其他" not in html


def test_buyers_by_number_of_orders_are_labelled_in_the_pages_language(shop):
    # 2025: U1 paid O3 and O5, U3 paid O4 and O7: both buyers in the 2-order group.
    html = frequency_chart(shop, locale="en")
    assert "2 orders" in html and "单" not in html
    assert "2 单" in frequency_chart(shop, locale="zh-CN")


def test_an_inline_change_is_bracketed_as_the_page_language_writes_it(shop):
    # Net sales 2025 = 206, 2024 = 70 (tiny.py): +194.3% year on year.
    html = value(shop, "net_sales", compare="yoy", locale="en")
    assert re.sub(r"<[^>]+>", "", html) == "CN¥206.00 (YoY +194.3%)"
    assert "（" not in html
    assert re.sub(r"<[^>]+>", "", value(shop, "net_sales", compare="yoy", locale="zh-CN")).endswith("（同比 +194.3%）")


def test_table_header_controls_and_notices_punctuate_as_the_page_language_does(shop):
    html = table(shop, ["net_sales"], by="platform", locale="en")
    assert 'aria-label="Sort: Platform"' in html
    assert 'title="Definition: Net sales" aria-label="Definition: Net sales"' in html
    assert "：" not in html
    zh = table(shop, ["net_sales"], by="platform", locale="zh-CN")
    assert 'aria-label="排序：平台"' in zh and 'title="指标口径：净销售额"' in zh
    # A notice's title is its words before the colon, in either language.
    box = components.notice("Missing data: this part needs the data file data/x.csv")
    assert '<p class="admonition-title">Missing data</p>' in box
    assert '<p class="admonition-title">缺少数据</p>' in components.notice("缺少数据：本节需要 data/x.csv")
