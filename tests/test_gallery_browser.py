"""The component gallery (docs/gallery.md) in a real, offline Chromium.

One strict build of a temp project (tests/tiny.py's shop plus a few orders, funnel, ad and
campaign files written here, and a product whose name is an HTML/Jinja injection attempt), served
on 127.0.0.1. The `page` fixture of this module (like conftest's) fails a test on any console
error or request to another host.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import _is_local, free_port, run_build, serving
from fupan.presentation import fmt

XSS_NAME = "<script>alert(1)</script> | {{ x }}"
CHART_VIEW = ".fupan-chart__view"

# ---------------------------------------------------------------------------------------------
# The gallery shop: tiny.py's shop and a few more orders, so that platform totals include
# ¥12,000.00 next to ¥9,010.00 (text order ≠ number order), plus funnel, ads and campaigns.
# ---------------------------------------------------------------------------------------------

EXTRA_PRODUCTS = [
    {"商品编码": "P3", "商品名称": XSS_NAME, "品类": "零食", "子品类": "零食", "标价": 20,
     "单位成本": 8, "上市日期": "2024-06-01", "评分": 4.8},
]
EXTRA_ORDERS = [
    # order_id, user, platform, paid_at, campaign, lines [(sku, qty, price, refunded)]
    ("O8", "U2", "小程序", "2025-09-09 10:00:00", None, [("P2", 240, 50.0, 0)]),
    ("O9", "U2", "京东", "2025-12-12 10:00:00", None, [("P1", 900, 10.0, 0)]),
    ("O10", "U3", "天猫", "2025-08-08 10:00:00", None, [("P3", 9, 20.0, 0)]),
    ("O11", "U1", "天猫", "2024-08-08 10:00:00", None, [("P3", 2, 20.0, 0)]),
]
CAMPAIGN_OF_ORDER = {"O4": "C618", "O7": "C1111"}
FUNNEL = """日期,平台,访客数,加购人数,下单人数,支付人数
2024-06-18,抖音,1500,400,150,120
2025-01-15,天猫,1000,300,120,100
2025-06-18,抖音,2000,500,200,180
"""
ADS = """日期,广告渠道,展现量,点击量,转化数,花费,成交金额
2024-06-18,直通车,80000,2000,100,8000,20000
2025-03-01,直通车,100000,3000,150,9000,27000
2025-06-18,巨量千川,200000,5000,200,12000,9600
2025-11-11,京东快车,50000,1500,90,4000,14000
"""
CAMPAIGNS = '''活动编号,活动名称,开始日期,结束日期,参与人数,参与人次,发券数,核销券数,预算
C2411,2024年双11狂欢节,2024-11-01,2024-11-11,100,150,80,40,5000
CNY,2025年货节,2025-01-05,2025-01-18,90,120,60,30,4000
C618,2025年618年中大促,2025-05-28,2025-06-18,120,200,100,60,8000
C1111,"2025年双11 <狂欢> & ""节""",2025-11-01,2025-11-11,150,260,120,70,9000
'''


def write_gallery_data(data_dir: Path) -> Path:
    import tiny

    tiny.write_tiny_data(data_dir)
    products = pd.concat([tiny.products_frame(), pd.DataFrame(EXTRA_PRODUCTS)], ignore_index=True)
    products.to_csv(data_dir / "products.csv", index=False)

    orders = tiny.orders_frame()
    template = orders.iloc[0].to_dict()
    extra, lines = [], [tiny.lines_frame()]
    for order_id, user, platform, paid, campaign, items in EXTRA_ORDERS:
        extra.append({**template, "订单编号": order_id, "买家ID": user, "平台": platform,
                      "下单时间": pd.Timestamp(paid), "支付时间": pd.Timestamp(paid),
                      "实付金额": float(sum(q * p for _, q, p, _ in items)),
                      "退款金额": float(sum(r * p for _, _, p, r in items)), "活动编号": campaign})
        lines.append(pd.DataFrame([
            {"订单编号": order_id, "行号": n, "商品编码": sku, "数量": qty, "成交单价": price,
             "成交金额": qty * price, "退货数量": refunded}
            for n, (sku, qty, price, refunded) in enumerate(items, start=1)]))
    orders = pd.concat([orders, pd.DataFrame(extra)], ignore_index=True)
    orders["活动编号"] = [CAMPAIGN_OF_ORDER.get(o, c) for o, c in
                        zip(orders["订单编号"], orders["活动编号"], strict=True)]
    orders["活动编号"] = orders["活动编号"].astype("string")
    for column in ("下单时间", "支付时间"):
        orders[column] = pd.to_datetime(orders[column]).astype("datetime64[us]")
    orders.to_parquet(data_dir / "orders.parquet", index=False)
    pd.concat(lines, ignore_index=True).to_parquet(data_dir / "order_lines.parquet", index=False)

    (data_dir / "funnel.csv").write_text(FUNNEL, encoding="utf-8")
    (data_dir / "ad_channels.csv").write_text(ADS, encoding="utf-8")
    (data_dir / "campaigns.csv").write_text(CAMPAIGNS, encoding="utf-8")
    return data_dir


# ---------------------------------------------------------------------------------------------
# Fixtures: build once, serve, one fresh page per test
# ---------------------------------------------------------------------------------------------


HOME = "# 组件示例站点\n\n{{ monthly_trend(\"net_sales\") }}\n\n[组件示例](gallery.md)\n"
DEFINITIONS = "# 指标口径\n\n{{ metric_definitions() }}\n"


def keep_only_gallery(project: Path) -> Path:
    """Only the gallery (and a home and definitions page of this test's own) are built, so that
    the build depends on the components and docs/gallery.md alone, not on the site's other
    pages. Groups of one person are shown (the tiny shop has three users)."""
    docs = project / "docs"
    for path in sorted(docs.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(docs).as_posix() != "gallery.md":
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    (docs / "index.md").write_text(HOME, encoding="utf-8")
    (docs / "definitions.md").write_text(DEFINITIONS, encoding="utf-8")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    nav = "nav:\n  - 首页: index.md\n  - 组件示例: gallery.md\n  - 指标口径: definitions.md\n"
    text = re.sub(r"^nav:\n(?:[ \t]+.*\n?)*", nav, text, flags=re.M)
    text = re.sub(r"^(  review:\n)", r"\1    min_group_size: 1\n", text, count=1, flags=re.M)
    config.write_text(text, encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def gallery_site(tiny_project_factory, tmp_path_factory):
    port = free_port()
    project = keep_only_gallery(tiny_project_factory("gallery", data_writer=write_gallery_data))
    site = tmp_path_factory.mktemp("gallery-site") / "site"
    result = run_build(project, site, f"http://127.0.0.1:{port}/", timeout=240)
    if result.returncode != 0:
        pytest.fail(f"gallery build failed (exit {result.returncode}):\n{result.stderr[-6000:]}\n"
                    f"{result.stdout[-1500:]}", pytrace=False)
    with serving(site, port):
        yield {"url": f"http://127.0.0.1:{port}/gallery/", "host": f"127.0.0.1:{port}",
               "site": site, "output": result.stdout + result.stderr}


@pytest.fixture
def page(browser, gallery_site):
    """conftest's Chromium; fails the test on console errors, other hosts, or a dialog."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light",
                                   locale="zh-CN", service_workers="block", accept_downloads=True)
    context.set_default_timeout(20_000)
    requests: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []
    context.on("request", lambda req: requests.append(req.url))
    context.route("**/*", lambda route: route.continue_()
                  if _is_local(route.request.url, gallery_site["host"]) else route.abort())
    pg = context.new_page()
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()
    outside = sorted({u for u in requests if not _is_local(u, gallery_site["host"])})
    assert not outside, f"requests to other hosts: {outside}"
    assert not errors, "console errors:\n" + "\n".join(errors)
    assert not dialogs, f"a dialog opened (script ran): {dialogs}"


def wait_drawn(page) -> int:
    page.hover(".fupan-chart >> nth=0")  # the Vega runtime loads on the first interaction
    page.wait_for_function(
        """(sel) => {
            const views = document.querySelectorAll(sel);
            if (!views.length) return false;
            return [...views].every(v => v.hasAttribute('data-error') ||
                (v.getAttribute('data-drawn') === 'true' && v.querySelector('svg')));
        }""", arg=CHART_VIEW)
    failed = page.eval_on_selector_all(
        CHART_VIEW, "els => els.map(e => e.getAttribute('data-error')).filter(Boolean)")
    assert not failed, f"charts failed to draw: {failed}"
    return page.locator(CHART_VIEW).count()


def table_rows(page, table_id: str) -> list[list[str]]:
    return page.eval_on_selector(
        f"#{table_id}",
        "t => [...t.querySelectorAll('thead tr, tbody tr, tfoot tr')].map("
        "r => [...r.cells].map(c => (c.getAttribute('data-label') || c.textContent).trim()))")


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

CHART_KINDS = 10  # figures on the gallery page with the gallery shop's data


def test_gallery_builds_without_notices(gallery_site):
    html = (gallery_site["site"] / "gallery" / "index.html").read_text(encoding="utf-8")
    assert "fupan-notice" not in html, "a component showed a missing-data notice"
    assert html.count('class="fupan-chart"') == CHART_KINDS
    assert html.count('class="fupan-chart__static"') == CHART_KINDS, "a chart lacks its static SVG"
    for macro in ("fupan-kpis", "fupan-spark", "fupan-inline", "fupan-table", "fupan-callout",
                  "fupan-definitions"):
        assert macro in html, f"{macro} missing from the gallery"


def test_all_charts_draw_without_errors(page, gallery_site):
    page.goto(gallery_site["url"], wait_until="load")
    total = wait_drawn(page)
    assert total == CHART_KINDS
    empty = page.eval_on_selector_all(
        CHART_VIEW, "els => els.filter(e => !e.querySelector('svg g.role-mark')).map(e => e.parentNode.id)")
    assert not empty, f"charts drawn without marks: {empty}"
    # Once drawn, the static SVG is hidden (the live chart replaces it on screen).
    visible_static = page.locator(".fupan-chart__static:visible").count()
    assert visible_static == 0


def test_bar_tooltip_shows_formatted_value(page, gallery_site):
    page.goto(gallery_site["url"], wait_until="load")
    wait_drawn(page)
    figure = page.locator("figure.fupan-chart", has=page.locator("figcaption", has_text="净销售额排行"))
    bar = figure.locator("g.mark-rect.role-mark path").first
    bar.scroll_into_view_if_needed()
    bar.hover()
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "¥" in text and re.search(r"¥[\d,.]+(万|亿)?", text), text
    assert "占比" in text


def test_sorting_is_numeric(page, gallery_site):
    page.goto(gallery_site["url"], wait_until="load")
    table = page.locator(".fupan-table").first
    table_id = table.locator("table").get_attribute("id")
    header = table.locator("thead th", has_text="净销售额").first

    def column(index: int) -> tuple[list[str], list[float]]:
        texts = page.eval_on_selector_all(
            f"#{table_id} tbody tr", f"rs => rs.map(r => r.cells[{index}].textContent.trim())")
        raws = page.eval_on_selector_all(
            f"#{table_id} tbody tr",
            f"rs => rs.map(r => parseFloat(r.cells[{index}].getAttribute('data-sort-value')))")
        return texts, raws

    index = page.eval_on_selector(
        f"#{table_id} thead tr", "(tr) => [...tr.cells].findIndex(c => c.dataset.label === '净销售额')")
    texts, _ = column(index)
    # One unit per column: 1.2万 is written out next to 9,010.00 (text order is not number order).
    assert "¥12,000.00" in texts and "¥9,010.00" in texts, texts  # the data are what this test needs

    header.locator(".fupan-table__sort").click()
    texts, raws = column(index)
    assert raws == sorted(raws, reverse=True), f"not numeric descending: {texts}"
    assert texts[0] == "¥12,000.00" and texts[1] == "¥9,010.00", texts
    assert texts != sorted(texts, reverse=True), "the data cannot tell text from number sorting"
    assert header.get_attribute("aria-sort") == "descending"

    header.locator(".fupan-table__sort").click()
    texts, raws = column(index)
    assert raws == sorted(raws), f"not numeric ascending: {texts}"
    assert header.get_attribute("aria-sort") == "ascending"
    # Totals stay at the bottom.
    assert page.locator(f"#{table_id} tfoot tr").count() == 1


def test_sorting_after_instant_navigation(page, gallery_site):
    home = gallery_site["url"].replace("gallery/", "")
    page.goto(home, wait_until="networkidle")
    page.evaluate("window.__marker = 1")
    page.locator("a.md-tabs__link, nav.md-nav a.md-nav__link", has_text="组件示例").first.click()
    page.wait_for_url(re.compile(r"/gallery/(index\.html)?$"))
    page.locator(".fupan-table").first.wait_for()
    assert page.evaluate("window.__marker") == 1, "the page reloaded: no instant navigation"
    wait_drawn(page)
    table_id = page.locator(".fupan-table table").first.get_attribute("id")
    header = page.locator(f"#{table_id} thead th[data-label='销量']")
    header.locator(".fupan-table__sort").click()
    index = page.eval_on_selector(f"#{table_id} thead th[data-label='销量']", "th => th.cellIndex")
    values = page.eval_on_selector_all(
        f"#{table_id} tbody tr",
        f"rs => rs.map(r => parseFloat(r.cells[{index}].getAttribute('data-sort-value')))")
    assert values == sorted(values, reverse=True) and values[0] == 901, values


def test_without_javascript_the_static_charts_show(browser, gallery_site):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(gallery_site["url"], wait_until="load")
        assert page.locator(".fupan-chart__static:visible").count() == CHART_KINDS
        assert page.locator(".fupan-chart__view svg").count() == 0
    finally:
        context.close()


def test_csv_download_holds_the_tables_raw_values(page, gallery_site):
    """The download is the build's CSV of the table: every row (in the table's own order,
    whatever the reader sorted), numbers unrounded, headers as shown."""
    page.goto(gallery_site["url"], wait_until="load")
    table = page.locator(".fupan-table", has=page.locator(".fupan-table__download")).first
    table_id = table.locator("table").get_attribute("id")
    raw_rows = page.eval_on_selector(
        f"#{table_id}", "t => [...t.querySelectorAll('tbody tr, tfoot tr')].map("
        "r => [...r.cells].map(c => c.getAttribute('data-sort-value')))")
    header = table_rows(page, table_id)[0]
    table.locator("thead th", has_text="订单量").first.locator(".fupan-table__sort").click()
    with page.expect_download() as info:
        table.locator(".fupan-table__download").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV lacks the UTF-8 BOM Excel needs"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == header
    assert len(rows) == 1 + 4 + 1  # header, four platforms, totals
    for shown, got in zip(raw_rows, rows[1:], strict=True):
        for value, cell in list(zip(shown, got, strict=True))[1:]:  # the numbers after the row's name
            assert (cell == "") if value == "" else float(value) == fmt.embedded_number(float(cell))


def test_dark_toggle_rethemes_charts(page, gallery_site):
    page.goto(gallery_site["url"], wait_until="load")
    wait_drawn(page)
    themes = page.evaluate("window.FUPAN.themes")
    assert set(page.eval_on_selector_all(CHART_VIEW, "els => els.map(e => e.dataset.scheme)")) == {"light"}
    page.locator("form[data-md-component=palette] label[for^=__palette]:visible").first.click()
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
    page.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].every(v => v.dataset.scheme === 'dark' "
        "&& v.dataset.drawn === 'true' && v.querySelector('svg'))", arg=CHART_VIEW)
    dark = page.evaluate(
        """(c) => { const d = document.createElement('div'); d.style.color = c;
                    document.body.appendChild(d); const out = getComputedStyle(d).color;
                    d.remove(); return out; }""", themes["dark"]["axis"]["labelColor"])
    page.wait_for_function(
        "([sel, want]) => { const t = [...document.querySelectorAll(sel + ' svg g.role-axis-label text')];"
        " return t.length > 0 && t.every(x => getComputedStyle(x).fill === want); }",
        arg=[CHART_VIEW, dark])


def test_print_shows_static_charts_and_no_navigation(page, gallery_site, tmp_path):
    page.goto(gallery_site["url"], wait_until="load")
    wait_drawn(page)
    page.emulate_media(media="print")
    charts = page.locator("figure.fupan-chart").count()
    assert charts == CHART_KINDS
    assert page.locator(".fupan-chart__static:visible").count() == charts, "static SVGs not all shown"
    assert page.locator(".fupan-chart__view:visible").count() == 0
    assert page.locator(".md-sidebar:visible").count() == 0, "navigation sidebar printed"
    assert page.locator(".md-header:visible").count() == 0
    # The static images have loaded and scale to the text width.
    sizes = page.eval_on_selector_all(
        ".fupan-chart__static",
        "els => els.map(e => [e.complete && e.naturalWidth > 0, e.getBoundingClientRect().width,"
        " e.parentNode.getBoundingClientRect().width])")
    for loaded, width, parent in sizes:
        assert loaded and width == pytest.approx(parent, abs=2), sizes
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    (tmp_path / "gallery.pdf").write_bytes(pdf)


def test_injected_product_name_is_literal_and_inert(page, gallery_site):
    html = (gallery_site["site"] / "gallery" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html
    page.goto(gallery_site["url"], wait_until="load")
    wait_drawn(page)
    text = page.locator("article").inner_text()
    assert XSS_NAME in text, "the product name does not appear literally"
    assert page.evaluate("document.querySelectorAll('article script').length") == 0
    # The name is drawn as text in the charts too.
    labels = page.eval_on_selector_all(f"{CHART_VIEW} svg text", "els => els.map(e => e.textContent)")
    assert XSS_NAME in labels
    # dialogs are checked by the fixture after the test
