"""The review's pages as a manager reads them, in a real (headless, offline) Chromium: tables sort
from their headers, fit or show that they scroll, and nothing shows a raw ratio.

Runs against the strict build of the repo's site (conftest.py's `built_site`); the `page` fixture
fails a test on any console error or request off the local server.
"""

from __future__ import annotations

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
