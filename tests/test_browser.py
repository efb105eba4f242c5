"""The built site in a real (headless, offline) Chromium.

Every test here runs against one strict build of the repo's site (see conftest.py); the `page`
fixture fails a test on any console error or any request to a host but the local server.
KPI numbers are recomputed here with plain pandas, straight from the files in data/, so the
check does not go through the metric engine or the formatter it is checking.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml

CHART_VIEW = ".fupan-chart__view"
KPI_METRICS = ["net_sales", "orders", "aov", "buyers"]
CURRENCY_METRICS = {"net_sales", "aov"}

# ---------------------------------------------------------------------------
# Expected numbers: plain pandas over data/
# ---------------------------------------------------------------------------


class _TaggedLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, whose !ENV / !!python tags safe_load refuses; tagged values -> None."""


_TaggedLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
_TaggedLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def _review_year(project: Path) -> int:
    config = yaml.load((project / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_TaggedLoader)
    return int(config["extra"]["review"]["year"])


def _read_dataset(data_dir: Path, spec: dict) -> pd.DataFrame:
    path = data_dir / spec["path"]
    fmt = spec.get("format") or path.suffix.lstrip(".")
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "csv":
        return pd.read_csv(path, encoding=spec.get("encoding", "utf-8"))
    if fmt == "xlsx":
        return pd.read_excel(path, sheet_name=spec.get("sheet", 0))
    raise AssertionError(f"unexpected format {fmt!r} for {path}")


def _header(spec: dict, column: str) -> str:
    return spec["columns"][column].get("header", column)


def _number(series: pd.Series) -> pd.Series:
    if series.dtype == object or str(series.dtype).startswith("string"):
        series = series.astype(str).str.replace(r"[,¥￥$\s]", "", regex=True)
    return pd.to_numeric(series)


def pandas_kpis(project: Path, year: int) -> dict[str, float]:
    """net_sales, orders, aov, buyers of paid orders whose 支付时间 falls in `year`."""
    data_dir = project / "data"
    contract = yaml.safe_load((data_dir / "datasets.yml").read_text(encoding="utf-8"))["datasets"]
    o_spec, l_spec = contract["orders"], contract["order_lines"]
    orders = _read_dataset(data_dir, o_spec)
    lines = _read_dataset(data_dir, l_spec)
    order_id, buyer, paid_at = (_header(o_spec, c) for c in ("order_id", "user_id", "paid_at"))
    l_order, refunded, price, amount = (
        _header(l_spec, c) for c in ("order_id", "refunded_quantity", "unit_price", "line_amount"))

    paid = pd.to_datetime(orders[paid_at])
    in_year = orders[paid.notna() & (paid.dt.year == year)]
    ids = set(in_year[order_id].astype(str))
    year_lines = lines[lines[l_order].astype(str).isin(ids)]
    gmv = float(_number(year_lines[amount]).sum())
    refunds = float((_number(year_lines[refunded]).fillna(0)
                     * _number(year_lines[price])).sum())
    net_sales = gmv - refunds
    n_orders = in_year[order_id].nunique()
    return {
        "net_sales": net_sales,
        "orders": float(n_orders),
        "aov": net_sales / n_orders if n_orders else float("nan"),
        "buyers": float(in_year[buyer].nunique()),
    }


def _half_up(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def expected_zh_text(value: float, currency: bool) -> str:
    """zh-CN display by hand rules: ≥1亿 → 2 decimals 亿, ≥1万 → 1 decimal 万, else 2 decimals
    (currency) or an integer (count); the unit is chosen on the value rounded to 4 significant
    digits; thousands separators; ¥ prefix for amounts."""
    magnitude = abs(Decimal(repr(float(value))))
    probe = magnitude
    if magnitude:
        probe = magnitude.quantize(Decimal(1).scaleb(magnitude.adjusted() - 3),
                                   rounding=ROUND_HALF_UP)
    if probe >= Decimal("1e8"):
        body = f"{_half_up(magnitude / Decimal('1e8'), 2):,f}亿"
    elif probe >= Decimal("1e4"):
        body = f"{_half_up(magnitude / Decimal('1e4'), 1):,f}万"
    else:
        body = f"{_half_up(magnitude, 2 if currency else 0):,f}"
    body = ("¥" if currency else "") + body
    return ("-" + body) if value < 0 and body.strip("¥0.,") else body


def expected_change_text(current: float, base: float) -> str:
    change = (Decimal(repr(current)) - Decimal(repr(base))) / Decimal(repr(base)) * 100
    shown = _half_up(abs(change), 1)
    sign = "" if shown == 0 else ("+" if change > 0 else "-")
    return f"{sign}{shown:,f}%"


@pytest.fixture(scope="module")
def expected_kpis(built_site):
    year = _review_year(built_site.project)
    return pandas_kpis(built_site.project, year), pandas_kpis(built_site.project, year - 1)


# ---------------------------------------------------------------------------
# Page helpers
# ---------------------------------------------------------------------------


def open_page(page, url: str) -> None:
    page.goto(url, wait_until="load")


def wait_charts_drawn(page) -> int:
    """Wait until every chart on the page is drawn (or one fails); return how many there are."""
    page.wait_for_function(
        """(sel) => {
            const views = document.querySelectorAll(sel);
            if (!views.length) return false;
            for (const v of views) {
                if (v.hasAttribute('data-error')) return true;
                if (v.getAttribute('data-drawn') !== 'true') return false;
                if (!v.querySelector('svg')) return false;
            }
            return true;
        }""",
        arg=CHART_VIEW,
    )
    errors = page.eval_on_selector_all(
        CHART_VIEW, "els => els.map(e => e.getAttribute('data-error')).filter(Boolean)")
    assert not errors, f"charts failed to draw: {errors}"
    total = page.locator(CHART_VIEW).count()
    drawn = page.locator(f"{CHART_VIEW}[data-drawn=true]").count()
    assert drawn == total, f"{drawn} of {total} charts drawn"
    return total


def _wait_true(page, expression: str, arg=None, timeout: float = 10_000) -> bool:
    """wait_for_function that returns False on timeout, so the test can say what it saw."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout)
    except PlaywrightTimeout:
        return False
    return True


def mark_counts(page) -> list[dict]:
    """Per chart: how many mark groups and mark items (paths etc.) its SVG holds."""
    return page.eval_on_selector_all(
        CHART_VIEW,
        """els => els.map(e => {
            const groups = e.querySelectorAll('svg g.role-mark');
            let items = 0, drawnPaths = 0;
            groups.forEach(g => { items += g.children.length; });
            e.querySelectorAll('svg g.role-mark path').forEach(p => {
                if ((p.getAttribute('d') || '').length > 2) drawnPaths += 1;
            });
            return {id: e.parentNode.id, groups: groups.length, items, drawnPaths};
        })""",
    )


def axis_label_fills(page) -> list[str]:
    return page.eval_on_selector_all(
        f"{CHART_VIEW} svg g.role-axis-label text",
        "els => els.map(t => getComputedStyle(t).fill)",
    )


def css_color(page, color: str) -> str:
    """A CSS colour as the browser computes it (e.g. '#a0a4ad' -> 'rgb(160, 164, 173)')."""
    return page.evaluate(
        """(c) => { const d = document.createElement('div'); d.style.color = c;
                    document.body.appendChild(d); const out = getComputedStyle(d).color;
                    d.remove(); return out; }""",
        color,
    )


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_home_kpi_cards_match_pandas(page, site_server, expected_kpis):
    current, prior = expected_kpis
    open_page(page, site_server)
    for metric in KPI_METRICS:
        card = page.locator(f".fupan-kpi[data-metric={metric}]")
        assert card.count() == 1, f"KPI card {metric} not found once on the home page"
        value = card.locator(".fupan-kpi__value")
        raw = value.get_attribute("data-value")
        assert raw, f"{metric}: empty data-value"
        assert float(raw) == pytest.approx(current[metric], rel=1e-6), (
            f"{metric}: data-value {raw} but pandas gives {current[metric]!r}")

        text = value.inner_text().strip()
        is_currency = metric in CURRENCY_METRICS
        expected = expected_zh_text(current[metric], is_currency)
        magnitude = abs(current[metric])
        if magnitude >= 1e8:
            assert text.endswith("亿"), f"{metric}: {text!r} should be in 亿"
        elif magnitude >= 1e4 and round(magnitude / 1e4, 1) < 10000:
            assert text.endswith("万"), f"{metric}: {text!r} should be in 万"
            assert float(text.lstrip("¥").rstrip("万").replace(",", "")) == pytest.approx(
                round(magnitude / 1e4, 1), abs=0.051)
        assert text == expected, f"{metric}: shows {text!r}, expected {expected!r}"

        delta = card.locator(".fupan-kpi__delta").inner_text()
        want = expected_change_text(current[metric], prior[metric])
        found = re.findall(r"[+-]?[\d,]+\.\d%", delta)
        assert found == [want], f"{metric}: change shows {delta!r}, expected {want} (YoY)"
        arrow = "▲" if want.startswith("+") else "▼" if want.startswith("-") else "■"
        assert arrow in delta, f"{metric}: change {delta!r} lacks the {arrow} arrow"


def test_home_chart_draws(page, site_server):
    open_page(page, site_server)
    assert wait_charts_drawn(page) >= 1
    for chart in mark_counts(page):
        assert chart["groups"] >= 1 and chart["items"] >= 1 and chart["drawnPaths"] >= 1, (
            f"chart {chart['id']} has an SVG without drawn marks: {chart}")


def test_instant_navigation_keeps_page_and_draws(page, site_server):
    open_page(page, site_server)
    wait_charts_drawn(page)
    page.evaluate("window.__marker = 1")
    link = page.locator("a.md-tabs__link", has_text="整体情况")
    if not link.count():
        link = page.locator("nav.md-nav a.md-nav__link", has_text="整体情况")
    link.first.click()
    page.wait_for_url(re.compile(r"/overall/(index\.html)?$"))
    page.wait_for_function(
        "() => document.querySelector('article h1') && "
        "document.querySelector('article h1').textContent.includes('整体情况')")
    assert page.evaluate("window.__marker") == 1, (
        "navigating to 整体情况 reloaded the page: Material's instant navigation did not run "
        "(is site_url's host:port the served one?)")
    total = wait_charts_drawn(page)
    assert total >= 2, f"expected the overall page's charts, found {total}"
    for chart in mark_counts(page):
        assert chart["items"] >= 1, f"chart {chart['id']} drew no marks: {chart}"


def test_dark_toggle_redraws_charts_in_dark(page, site_server):
    open_page(page, site_server)
    wait_charts_drawn(page)
    themes = page.evaluate("window.FUPAN.themes")
    light = css_color(page, themes["light"]["axis"]["labelColor"])
    dark = css_color(page, themes["dark"]["axis"]["labelColor"])
    assert light != dark, "light and dark axis label colours are the same"
    fills = axis_label_fills(page)
    assert fills and set(fills) == {light}, f"light axis labels {set(fills)} != {light}"

    toggle = page.locator("form[data-md-component=palette] label.md-header__button:visible")
    if not toggle.count():
        toggle = page.locator("form[data-md-component=palette] label[for^=__palette]:visible")
    toggle.first.click()
    page.wait_for_function(
        "() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
    redrawn = _wait_true(page,
        """([sel, want]) => {
            const views = [...document.querySelectorAll(sel)];
            if (!views.length || views.some(v => v.getAttribute('data-scheme') !== 'dark'))
                return false;
            const labels = [...document.querySelectorAll(sel + ' svg g.role-axis-label text')];
            return labels.length > 0 && labels.every(t => getComputedStyle(t).fill === want);
        }""",
        [CHART_VIEW, dark],
    )
    schemes = page.eval_on_selector_all(CHART_VIEW, "els => els.map(e => e.dataset.scheme)")
    fills = set(axis_label_fills(page))
    assert redrawn, (f"charts not re-drawn in dark after the toggle: data-scheme {schemes}, "
                     f"axis label fills {fills}, dark labelColor {dark}")
    assert schemes and set(schemes) == {"dark"}
    assert fills == {dark}
    wait_charts_drawn(page)


def test_offline_only_local_server(page, site_server, page_log, built_site):
    for path in ("", "overall/", "definitions/"):
        open_page(page, site_server + path)
        if path != "definitions/":
            wait_charts_drawn(page)
        page.wait_for_load_state("networkidle")
    assert page_log.requests, "no request recorded"
    assert page_log.hosts() == {built_site.host}, f"hosts contacted: {page_log.hosts()}"


def test_chinese_search_finds_words(page, site_server):
    open_page(page, site_server)
    page.wait_for_load_state("networkidle")
    box = page.locator(".md-search__input")
    box.click()
    box.fill("净销售额")
    page.keyboard.press("End")  # Material's search listens to keyup
    results = page.locator(".md-search-result__list li")
    found = _wait_true(page, "(sel) => document.querySelectorAll(sel).length > 0",
                       ".md-search-result__list li")
    assert found and results.count() >= 1, (
        "no search result for 净销售额 (is jieba installed for the build?); search meta: "
        f"{page.locator('.md-search-result__meta').inner_text()!r}")
    meta = page.locator(".md-search-result__meta").inner_text()
    assert not re.search(r"没有|no match", meta, re.I), f"search meta says {meta!r}"
