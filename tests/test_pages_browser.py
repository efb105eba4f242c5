"""The review's pages as a manager reads them, in a real (headless, offline) Chromium: tables sort
from their headers, fit or show that they scroll, and nothing shows a raw ratio.

Runs against the strict build of the repo's site (conftest.py's `built_site`); the `page` fixture
fails a test on any console error or request off the local server.
"""

from __future__ import annotations

import re

import yaml
from test_browser import _nav_files, _TaggedLoader, page_path


def _column_values(page, table_id: str, index: int) -> list[float | None]:
    return page.eval_on_selector_all(
        f"#{table_id} tbody tr",
        f"""rs => rs.map(r => {{ const v = r.cells[{index}].getAttribute('data-sort-value');
                               return v === '' || v === null ? null : parseFloat(v); }})""")


def test_header_click_sorts_and_stays_on_the_page(page, site_server, built_site):
    _, path = page_path(built_site.project, r"chapters/02-")
    url = site_server + path
    page.goto(url, wait_until="load")
    page.evaluate("window.__marker = 1")
    # A metric column with a definition icon and at least three different values.
    found = page.evaluate(
        """() => {
            for (const table of document.querySelectorAll('.fupan-table table')) {
                const heads = [...table.tHead.rows[0].cells];
                for (const th of heads) {
                    if (th.dataset.type !== 'number' || !th.querySelector('a.fupan-table__def')) continue;
                    const values = [...table.tBodies[0].rows].map(r => r.cells[th.cellIndex]
                        .getAttribute('data-sort-value')).filter(v => v !== '');
                    if (new Set(values).size >= 3) return [table.id, th.cellIndex];
                }
            }
            return null;
        }""")
    assert found, f"no table on {path} has a metric column to sort"
    table_id, index = found
    header = page.locator(f"#{table_id} thead th").nth(index)
    # Not a link any more: the header text is plain text, the definition a separate small link.
    assert header.locator(".fupan-table__label a").count() == 0
    definition = header.locator("a.fupan-table__def")
    assert "definitions/#" in (definition.get_attribute("href") or "")
    assert definition.get_attribute("title"), "the definition icon says what it links to"
    before = _column_values(page, table_id, index)

    header.locator(".fupan-table__label").click()
    assert page.url == url, f"clicking the header text left the page for {page.url}"
    assert page.evaluate("window.__marker") == 1, "the page reloaded"
    values = _column_values(page, table_id, index)
    numbers = [v for v in values if v is not None]
    assert numbers == sorted(numbers, reverse=True), values
    assert values != before or before == sorted(before, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"

    header.locator(".fupan-table__label").click()
    numbers = [v for v in _column_values(page, table_id, index) if v is not None]
    assert numbers == sorted(numbers), numbers
    assert header.get_attribute("aria-sort") == "ascending"
    assert page.url == url

    # The icon still leads to the definition.
    definition.click()
    page.wait_for_url(lambda u: "definitions/" in u)


def _site_pages(built_site) -> list[str]:
    """Site path of every page in the navigation."""
    config = yaml.load((built_site.project / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_TaggedLoader)
    out = []
    for _, file in _nav_files(config.get("nav")):
        stem = file[: -len(".md")]
        out.append(stem[: -len("index")] if stem == "index" or stem.endswith("/index") else stem + "/")
    return out


# Every table wrapper: does it hide columns to the right, and does its edge show a cue (a mask
# that fades it)? Measured after the page's scripts ran (rAF) and with the wrapper at the start.
_TABLE_FIT = """() => [...document.querySelectorAll('.md-content table')].map(t => {
    const wrap = t.closest('.md-typeset__scrollwrap') || t.parentElement;
    const style = getComputedStyle(wrap);
    const mask = style.maskImage || style.webkitMaskImage || 'none';
    return {id: t.id || (t.tHead ? t.tHead.innerText.slice(0, 40) : ''),
            hidden: wrap.scrollWidth - wrap.clientWidth - wrap.scrollLeft,
            overflow: style.overflowX, cue: mask !== 'none' && mask.includes('gradient')};
})"""


def test_wide_screen_tables_fit_or_show_they_scroll(page, site_server, built_site):
    page.set_viewport_size({"width": 1440, "height": 900})
    problems, content_widths = [], []
    for path in _site_pages(built_site):
        page.goto(site_server + path, wait_until="load")
        page.wait_for_timeout(50)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        content_widths.append(page.evaluate("document.querySelector('.md-content__inner').clientWidth"))
        for table in page.evaluate(_TABLE_FIT):
            if table["hidden"] > 1 and not table["cue"]:
                problems.append(f"{path} {table['id']}: {table['hidden']}px hidden, no scroll cue")
            if table["hidden"] > 1 and table["overflow"] not in ("auto", "scroll"):
                problems.append(f"{path} {table['id']}: {table['hidden']}px clipped, cannot scroll")
    assert not problems, "\n".join(problems)
    # The wide layout itself: the review's column is wider than Material's 720 px at 1440 px.
    assert min(content_widths) >= 880, content_widths


def test_scroll_cue_follows_the_scroll(page, site_server, built_site):
    """A table made wider than its column shows the cue until scrolled to its end."""
    page.set_viewport_size({"width": 1440, "height": 900})
    _, path = page_path(built_site.project, r"chapters/02-")
    page.goto(site_server + path, wait_until="load")
    table = page.locator(".fupan-table table").first
    table.evaluate("t => { t.style.minWidth = '3000px'; }")
    wrap = page.locator(".fupan-table .md-typeset__scrollwrap").first
    page.wait_for_function("w => w.getAttribute('data-fupan-more') === 'right'", arg=wrap.element_handle())
    mask = wrap.evaluate("w => getComputedStyle(w).maskImage || getComputedStyle(w).webkitMaskImage")
    assert "gradient" in mask, mask
    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    page.wait_for_function("w => !w.hasAttribute('data-fupan-more')", arg=wrap.element_handle())
    table.evaluate("t => { t.style.minWidth = ''; }")


def test_phone_pages_do_not_scroll_sideways(page, site_server, built_site):
    page.set_viewport_size({"width": 390, "height": 844})
    wide = []
    for path in _site_pages(built_site):
        page.goto(site_server + path, wait_until="load")
        width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        if width > 390:
            wide.append(f"{path}: {width}px")
    assert not wide, "pages wider than a 390-px phone:\n" + "\n".join(wide)


# Every number a page shows with its machine value and unit: cards and inline numbers carry
# data-value and data-unit; table cells data-sort-value and their own or their column's data-unit.
_SHOWN_VALUES = """() => {
    const out = [];
    document.querySelectorAll('.md-content [data-value]').forEach(e => out.push({
        where: e.className || e.tagName, value: e.dataset.value, unit: e.dataset.unit || null,
        text: e.textContent.trim()}));
    document.querySelectorAll('.md-content .fupan-table table').forEach(t => {
        const heads = [...t.tHead.rows[0].cells];
        [...t.querySelectorAll('tbody tr, tfoot tr')].forEach(r => [...r.cells].forEach((c, i) => {
            if (heads[i].dataset.type !== 'number') return;
            out.push({where: t.id + ' ' + heads[i].dataset.label, value: c.getAttribute('data-sort-value'),
                      unit: c.dataset.unit || heads[i].dataset.unit || null, text: c.textContent.trim()});
        }));
    });
    return out;
}"""
PERCENT_UNITS = {"percent", "pct_change", "pp_change"}
RAW_DECIMAL = re.compile(r"^[-+]?\d+\.\d{3,}$")


def _shown_number(text: str) -> float | None:
    match = re.search(r"[-+]?[\d,]+(\.\d+)?", text)
    return float(match.group(0).replace(",", "")) if match else None


def value_problems(item: dict) -> list[str]:
    """What is wrong with one shown value: no unit, a raw decimal, or a ratio not shown as one."""
    text, unit, raw = item["text"], item["unit"], item["value"]
    where = f"{item['where']}: {text!r} (value {raw}, unit {unit})"
    if raw in (None, "") or text in ("", "—"):
        return []
    if RAW_DECIMAL.match(text):
        return [f"raw decimal {where}"]
    if unit is None:
        return [f"no unit {where}"]
    shown = _shown_number(text)
    if unit in PERCENT_UNITS:
        if not re.search(r"%|百分点|pp", text):
            return [f"ratio without % {where}"]
        if shown is None or abs(abs(shown) - abs(float(raw)) * 100) > 0.051:
            return [f"percent not value×100 {where}"]
    if unit == "ratio" and (shown is None or abs(abs(shown) - abs(float(raw))) > 0.0051):
        return [f"ratio not shown at two decimals {where}"]
    return []


def test_value_problems_catches_raw_ratios():
    """The checker itself, on values a broken page showed."""
    assert value_problems({"where": "t", "text": "0.7415", "unit": "number", "value": "0.7415"})
    assert value_problems({"where": "t", "text": "0.4", "unit": "percent", "value": "0.4"})
    assert value_problems({"where": "t", "text": "5.098", "unit": "number", "value": "5.0982"})
    assert value_problems({"where": "t", "text": "0.74%", "unit": "percent", "value": "0.7415"})
    assert value_problems({"where": "t", "text": "3.1", "unit": None, "value": "3.1"})
    assert not value_problems({"where": "t", "text": "74.2%", "unit": "percent", "value": "0.7415"})
    assert not value_problems({"where": "t", "text": "+1.2个百分点", "unit": "pp_change", "value": "0.012"})
    assert not value_problems({"where": "t", "text": "5.10", "unit": "ratio", "value": "5.0982"})


def test_no_page_shows_a_raw_ratio(page, site_server, built_site):
    problems, seen = [], 0
    for path in _site_pages(built_site):
        page.goto(site_server + path, wait_until="load")
        for item in page.evaluate(_SHOWN_VALUES):
            seen += 1
            problems += [f"{path} {p}" for p in value_problems(item)]
    assert seen > 500, seen  # the sample's pages are full of numbers: the selectors found them
    assert not problems, f"{len(problems)} values:\n" + "\n".join(problems[:60])


def test_initiatives_in_their_kpis_units(page, site_server, built_site):
    """data/initiatives.csv by hand: I2501 growth 0.4 / 0.7415, I2506 complaint rate 0.012 /
    0.0141, I2508 ROAS 5.5 / 5.0982, I2509 followers 100000 / 126653."""
    _, path = page_path(built_site.project, r"chapters/02-")
    page.goto(site_server + path, wait_until="load")
    rows = page.eval_on_selector_all(
        ".fupan-table tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent.trim()))")
    by_id = {r[0]: r for r in rows if re.fullmatch(r"I25\d\d", r[0])}
    assert by_id["I2501"][6:9] == ["40.0%", "74.2%", "100.0%"], by_id["I2501"]
    assert by_id["I2506"][6:8] == ["1.2%", "1.4%"], by_id["I2506"]
    assert by_id["I2508"][6:8] == ["5.50", "5.10"], by_id["I2508"]
    assert by_id["I2509"][6:8] == ["10.0万", "12.7万"], by_id["I2509"]
    assert by_id["I2512"][7] == "—", by_id["I2512"]


def test_kpi_cards_show_their_units(page, site_server, built_site):
    """The team chapter's cards: hours and years after the number, the number itself unchanged
    (data-value at one decimal)."""
    _, path = page_path(built_site.project, r"chapters/06-")
    page.goto(site_server + path, wait_until="load")
    cards = page.eval_on_selector_all(
        ".fupan-kpi", "cs => cs.map(c => [c.dataset.metric, c.querySelector('.fupan-kpi__value').textContent,"
                      " c.querySelector('.fupan-kpi__value').dataset.value])")
    shown = {metric: (text, float(value)) for metric, text, value in cards}
    for metric, word in (("training_hours_per_head", "小时"), ("avg_tenure_years", "年")):
        text, value = shown[metric]
        assert text == f"{value:.1f}{word}", (metric, text, value)
    text, value = shown["headcount"]
    assert text == f"{value:.0f}人", text


def test_section_anchors_are_readable(built_site):
    """Headings get their words as anchors (toc slugify), and every internal link still lands."""
    from fupan.site.linkcheck import check_site

    numeric = []
    for html in sorted(built_site.site_dir.rglob("*.html")):
        for level, anchor in re.findall(r'<h([1-6]) id="([^"]+)"', html.read_text(encoding="utf-8")):
            if re.fullmatch(r"_?\d+", anchor):
                numeric.append(f"{html.relative_to(built_site.site_dir)}: h{level} #{anchor}")
    assert not numeric, "\n".join(numeric[:30])
    _, path = page_path(built_site.project, r"chapters/02-")
    page = (built_site.site_dir / path / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="21-年度销售额及增长率">2.1 年度销售额及增长率' in page
    assert '<h3 id="全年销售概览">' in page
    broken = check_site(built_site.site_dir)
    assert not broken, "\n".join(b.text() for b in broken[:30])


WRITERS_TITLES = ("写作指南", "宏参考", "组件示例", "导入平台导出文件")


def test_readers_navigation_holds_the_review_and_its_appendix(page, site_server, built_site):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(site_server, wait_until="load")
    tabs = [t.strip() for t in page.locator(".md-tabs__link").all_inner_texts()]
    assert tabs == ["首页", "01 引言", "02 整体回顾", "03 商品运营", "04 用户运营", "05 营销推广",
                    "06 团队建设", "07 总结展望", "附录"], tabs
    assert not [t for t in WRITERS_TITLES if t in " ".join(tabs)], tabs
    # The appendix's own menu (Material shows the current tab's section at this width).
    page.goto(site_server + "about/", wait_until="load")
    menu = page.locator("nav.md-nav--primary").inner_text()
    assert "指标口径" in menu and "关于本报告" in menu, menu
    assert not [t for t in WRITERS_TITLES if t in menu], menu
    # The writers' pages are still built, where the guide's links and the tests reach them.
    for path in ("guide/", "guide/macros/", "guide/exports/jd/", "gallery/"):
        assert (built_site.site_dir / path / "index.html").is_file(), path


def test_404_page_in_the_sites_language(built_site):
    html = (built_site.site_dir / "404.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in html
    assert "<h1>页面不存在</h1>" in html and "返回报告首页" in html
    assert "Not found" not in html


def test_print_shows_no_scroll_cue(page, site_server, built_site):
    """In print the table is shown whole: the fade that says "more to the right" is gone."""
    page.set_viewport_size({"width": 1440, "height": 900})
    _, path = page_path(built_site.project, r"chapters/02-")
    page.goto(site_server + path, wait_until="load")
    page.locator(".fupan-table table").first.evaluate("t => { t.style.minWidth = '3000px'; }")
    wrap = page.locator(".fupan-table .md-typeset__scrollwrap").first
    page.wait_for_function("w => w.getAttribute('data-fupan-more') === 'right'", arg=wrap.element_handle())
    page.emulate_media(media="print")
    mask = wrap.evaluate("w => getComputedStyle(w).maskImage || getComputedStyle(w).webkitMaskImage")
    assert mask == "none", mask
