"""Currency and locale (issue 19.5): the configured currency's symbol, 万/亿 in zh-CN and K/M/B in
en, one unit per table column and chart axis. Expected texts are written out by hand from the
rules in fmt.py (symbols: CLDR's, as Babel gives them for each locale)."""

from __future__ import annotations

import re

import pytest
from fupan.errors import ArgumentError
from fupan.presentation import fmt

ZH, EN = "zh-CN", "en"
NBSP = "\u00a0"

# (value, currency, locale, expected)
CURRENCY_TABLE = [
    # zh-CN: 亿 from 1e8 (2 decimals), 万 from 1e4 (1 decimal), below: 2 decimals
    (123_456_789, "CNY", ZH, "¥1.23亿"),
    (123_456_789, "USD", ZH, "US$1.23亿"),
    (123_456_789, "GBP", ZH, "£1.23亿"),
    (123_456_789, "EUR", ZH, "€1.23亿"),
    (9_832_000, "CNY", ZH, "¥983.2万"),
    (9_832_000, "USD", ZH, "US$983.2万"),
    (9_832_000, "GBP", ZH, "£983.2万"),  # the "GBP983.2万"
    (9_832_000, "EUR", ZH, "€983.2万"),
    (3_808.69, "CNY", ZH, "¥3,808.69"),
    (3_808.69, "USD", ZH, "US$3,808.69"),
    (3_808.69, "GBP", ZH, "£3,808.69"),
    (3_808.69, "EUR", ZH, "€3,808.69"),
    (-15_000, "EUR", ZH, "-€1.5万"),
    # en: K from 1e4 (thousands, 0 decimals), M from 1e6 and B from 1e9 (3 decimals), below: 2
    # decimals; each as precise as zh's figure (983.2万: 9.832M)
    (1_234_567_890, "CNY", EN, "CN¥1.235B"),
    (1_234_567_890, "USD", EN, "$1.235B"),
    (1_234_567_890, "GBP", EN, "£1.235B"),
    (1_234_567_890, "EUR", EN, "€1.235B"),
    (9_832_000, "CNY", EN, "CN¥9.832M"),
    (9_832_000, "USD", EN, "$9.832M"),
    (9_832_000, "GBP", EN, "£9.832M"),
    (9_832_000, "EUR", EN, "€9.832M"),
    (45_678, "USD", EN, "$46K"),
    (987.65, "GBP", EN, "£987.65"),
    (3_808.69, "CNY", EN, "CN¥3,808.69"),
    (-45_678, "EUR", EN, "-€46K"),
    # the code in any case; RMB is CNY; a symbol is kept as given
    (9_832_000, "gbp", ZH, "£983.2万"),
    (9_832_000, "RMB", ZH, "¥983.2万"),
    (9_832_000, "¥", EN, "¥9.832M"),
    (9_832_000, "HK$", ZH, "HK$983.2万"),
    # a code without a sign of its own never sticks to the number
    (15_000, "CHF", ZH, f"CHF{NBSP}1.5万"),
    (15_000, "CHF", EN, f"CHF{NBSP}15K"),
    (1_500, "CHF", EN, f"CHF{NBSP}1,500.00"),
]


@pytest.mark.parametrize(("value", "currency", "locale", "expected"), CURRENCY_TABLE)
def test_currency_table(value, currency, locale, expected):
    assert fmt.format_value(value, "currency", locale, currency=currency) == expected


def test_every_currency_and_locale_of_the_table_is_covered():
    pairs = {(c, loc) for _, c, loc, _ in CURRENCY_TABLE}
    for code in ("CNY", "USD", "GBP", "EUR"):
        for loc in (ZH, EN):
            assert (code, loc) in pairs
    texts = [e for *_, e in CURRENCY_TABLE]
    assert any("亿" in t for t in texts) and any(t.endswith("B") for t in texts)


@pytest.mark.parametrize(("values", "kind", "locale", "unit", "texts"), [
    # the column: ¥3,808.69 above ¥1.6万 becomes one unit, the smallest number's
    ([3_808.69, 16_000], "currency", ZH, "", ["¥3,808.69", "¥16,000.00"]),
    ([50_000, 1_600_000, None], "currency", ZH, "万", ["¥5.0万", "¥160.0万", "—"]),
    # a total of 2.5亿 stays in the column's 万
    ([50_000_000, 200_000_000, 250_000_000], "currency", ZH, "万",
     ["¥5,000.0万", "¥20,000.0万", "¥25,000.0万"]),
    ([150_000_000, 250_000_000], "currency", ZH, "亿", ["¥1.50亿", "¥2.50亿"]),
    ([3_400_000, 1_200_000_000], "currency", EN, "M", ["¥3.400M", "¥1,200.000M"]),
    ([12, 35_000], "count", ZH, "", ["12", "35,000"]),
    ([12_000, 35_500], "count", EN, "K", ["12K", "36K"]),
    # the chapter's survey answers next to its orders: en as zh, both below the first unit
    ([2_175, 106_484], "count", EN, "", ["2,175", "106,484"]),
    ([2_175, 106_484], "count", ZH, "", ["2,175", "106,484"]),
    ([9_999, 10_000], "currency", EN, "", ["¥9,999.00", "¥10,000.00"]),
    ([10_000, 999_949], "currency", EN, "K", ["¥10K", "¥1,000K"]),
    # zeros and missing values do not choose the unit
    ([0, 25_000], "count", ZH, "万", ["0.0万", "2.5万"]),
    ([0, None], "count", ZH, None, ["0", "—"]),
    # kinds without units
    ([0.1, 0.25], "percent", ZH, None, ["10.0%", "25.0%"]),
])
def test_one_unit_per_column(values, kind, locale, unit, texts):
    assert fmt.column_unit(values, kind, locale) == unit
    assert fmt.format_column(values, kind, locale) == texts


def test_a_column_of_another_currency():
    assert fmt.format_column([3_808.69, 16_000], "currency", ZH, currency="GBP") == ["£3,808.69", "£16,000.00"]


@pytest.mark.parametrize(("values", "kind", "locale", "unit"), [
    ([0, 5_000, 16_000], "currency", ZH, "万"),  # ticks 0, 0.5万, 1万, 1.5万: never ¥5,000 next to ¥1万
    ([0, 800, 9_000], "currency", ZH, ""),
    ([120_000_000, 3_000], "count", ZH, "亿"),
    ([2_000_000_000, 5], "currency", EN, "B"),
    ([0, 800, 9_000], "count", EN, ""),  # K starts at 1e4: ticks 0, 2,000 … 8,000
    ([0, 5_000, 16_000], "count", EN, "K"),  # ticks 0, 5K, 10K, 15K
    ([0.1], "percent", ZH, None),
])
def test_one_unit_per_axis(values, kind, locale, unit):
    assert fmt.axis_unit(values, kind, locale) == unit


def test_axis_labels_carry_the_axis_unit_and_the_currency():
    assert fmt.axis_label_expr("currency", ZH, currency="GBP", unit="万") == (
        "datum.value == 0 ? '£0' : '£' + format(datum.value / 1e4, ',~r') + '万'")
    assert fmt.axis_label_expr("currency", EN, currency="USD", unit="B") == (
        "datum.value == 0 ? '$0' : '$' + format(datum.value / 1e9, ',~r') + 'B'")
    assert fmt.axis_label_expr("count", ZH, unit="") == "'' + format(datum.value, ',~r')"
    # K counts thousands but starts at 1e4; a tick drops trailing zeros (~): 5M, never 5.000M
    assert fmt.axis_label_expr("count", EN, unit="K") == (
        "datum.value == 0 ? '0' : '' + format(datum.value / 1e3, ',~r') + 'K'")
    assert fmt.axis_label_expr("count", EN) == (
        "abs(datum.value) >= 1e9 ? '' + format(datum.value / 1e9, ',~r') + 'B' : "
        "(abs(datum.value) >= 1e6 ? '' + format(datum.value / 1e6, ',~r') + 'M' : "
        "(abs(datum.value) >= 1e4 ? '' + format(datum.value / 1e3, ',~r') + 'K' : "
        "('' + format(datum.value, ',~r'))))")
    with pytest.raises(ArgumentError, match="unknown unit"):
        fmt.axis_label_expr("currency", EN, unit="万")


def test_a_fixed_unit_is_one_of_the_locale():
    assert fmt.format_value(3_808.69, "currency", ZH, unit="万") == "¥0.4万"
    with pytest.raises(ArgumentError, match="unknown unit 'M'"):
        fmt.format_value(1, "currency", ZH, unit="M")


@pytest.mark.parametrize(("setting", "zh", "en"), [
    ({}, "¥983.2万", "CN¥9.832M"),  # CNY by default
    ({"currency": "GBP"}, "£983.2万", "£9.832M"),
    ({"currency": "USD"}, "US$983.2万", "$9.832M"),
])
def test_the_configured_currency_reaches_the_pages(tmp_path, setting, zh, en):
    from fupan.site.context import build_review
    from fupan.site.report_macros import number
    from tiny import write_tiny_data

    write_tiny_data(tmp_path / "project" / "data")
    review = build_review({"review": {"company": "测试", "year": 2025, **setting}}, tmp_path / "project")
    assert number(review, 9_832_000, "currency", ZH) == zh
    assert number(review, 9_832_000, "currency", EN) == en


def test_no_table_column_of_the_sample_site_mixes_units(built_site):
    """Every column of money or counts on the sample site is in one unit. Tables whose rows are
    different metrics (targets: a rate above an amount) have a unit per row, and are left out."""
    from pathlib import Path

    from fupan.presentation import i18n
    from test_site_content import html_pages, read_page

    site = Path(built_site.site_dir)
    number = re.compile(r"^-?(¥)?[0-9][0-9,]*(?:\.[0-9]+)?(万|亿)?$")
    per_row = i18n.text("column.metric", ZH)
    kpi = i18n.text("column.kpi", ZH)  # the initiatives: each row's KPI has its own unit
    mixed, columns = [], 0
    for path in html_pages(site):
        for table in read_page(site, str(path.relative_to(site))).tables:
            if len(table) < 3 or table[0][:1] == [per_row] or kpi in table[0]:
                continue
            for c in range(max(len(row) for row in table)):
                cells = [row[c] for row in table[1:] if c < len(row) and number.match(row[c])]
                if len(cells) < 2:
                    continue
                columns += 1
                units = {number.match(cell).group(2) or "" for cell in cells}
                if len(units) > 1:
                    mixed.append((str(path.relative_to(site)), table[0][c] if c < len(table[0]) else c, cells[:6]))
    assert columns > 50  # the check saw the site's tables
    assert not mixed, mixed


# A figure of a laddered kind as a page shows it: sign, currency symbol, digits, decimals, unit.
_FIGURE = re.compile(r"-?(?P<symbol>[^\d\s+-]*)(?P<digits>\d[\d,]*)(?:\.(?P<decimals>\d+))?(?P<unit>万|亿|K|M|B)?")
# The power of ten each unit stands for, written out here rather than read from fmt.
_UNIT_EXPONENT = {"": 0, "万": 4, "亿": 8, "K": 3, "M": 6, "B": 9}
# An element carrying its machine value, then the text shown for it (cards, values in sentences,
# table cells).
_SHOWN = re.compile(r'data-(?:sort-)?value="(?P<key>[^"]+)"[^>]*>(?P<text>[^<]*)<')


def _step(text: str) -> float | None:
    """The value of one unit in the last digit shown (¥1,970.0万: 1,000; 19.700M: 1,000), or None
    for anything but a plain figure (percentages, durations, dates)."""
    match = _FIGURE.fullmatch(text.strip())
    if not match:
        return None
    return 10.0 ** (_UNIT_EXPONENT[match["unit"] or ""] - len(match["decimals"] or ""))


def test_the_english_edition_keeps_the_precision_of_the_chinese(built_site):
    """Issue 20.3: every figure both editions show (same machine value on the same page) is at
    least as precise in English as in Chinese: ¥1,970.0万 is CN¥19.700M, not CN¥19.7M; 2,175 is
    2,175, not 2.2K."""
    from pathlib import Path

    site = Path(built_site.site_dir)
    compared, coarser, laddered = 0, [], 0
    for en_page in sorted((site / "en").rglob("*.html")):
        zh_page = site / en_page.relative_to(site / "en")
        if not zh_page.exists():
            continue
        shown: dict[str, dict[str, list[str]]] = {}
        for edition, page in (("zh", zh_page), ("en", en_page)):
            shown[edition] = {}
            for match in _SHOWN.finditer(page.read_text(encoding="utf-8")):
                shown[edition].setdefault(match["key"], []).append(match["text"])
        for key, zh_texts in shown["zh"].items():
            # A translated page may quote a figure more or fewer times than the Chinese one.
            for zh_text, en_text in zip(zh_texts, shown["en"].get(key, []), strict=False):
                zh_step, en_step = _step(zh_text), _step(en_text)
                if zh_step is None or en_step is None:
                    continue
                compared += 1
                laddered += en_text.rstrip()[-1:] in ("K", "M", "B")
                if en_step > zh_step:
                    coarser.append((str(en_page.relative_to(site)), zh_text, en_text))
    assert compared > 500 and laddered > 100  # the check saw the pages' figures, K/M among them
    assert not coarser, coarser[:20]


def test_every_english_column_has_one_unit_and_one_number_of_decimals(built_site):
    """A column of money or counts in the English edition reads in one unit with one number of
    decimals, so its figures line up (CN¥4.625M above CN¥19.700M, never CN¥4.6M above
    CN¥19.70M). Tables whose rows are different metrics are left out, as in the zh check."""
    from pathlib import Path

    from fupan.presentation import i18n
    from test_site_content import read_page

    site = Path(built_site.site_dir)
    per_row, kpi = i18n.text("column.metric", EN), i18n.text("column.kpi", EN)
    mixed, columns = [], 0
    for path in sorted((site / "en").rglob("*.html")):
        for table in read_page(site, str(path.relative_to(site))).tables:
            if len(table) < 3 or table[0][:1] == [per_row] or kpi in table[0]:
                continue
            for c in range(max(len(row) for row in table)):
                cells = [row[c].strip() for row in table[1:] if c < len(row) and _step(row[c]) is not None]
                if len(cells) < 2:
                    continue
                columns += 1
                forms = {(m["unit"] or "", len(m["decimals"] or "")) for m in map(_FIGURE.fullmatch, cells)}
                if len(forms) > 1:
                    mixed.append((str(path.relative_to(site)), table[0][c] if c < len(table[0]) else c, cells[:6]))
    assert columns > 50  # the check saw the site's tables
    assert not mixed, mixed
