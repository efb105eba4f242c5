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


def _nav_files(nav) -> list[tuple[str, str]]:
    """(title, file) of every page in a mkdocs nav, in order."""
    out: list[tuple[str, str]] = []
    for item in nav or []:
        if isinstance(item, str):
            out.append(("", item))
        elif isinstance(item, dict):
            for title, value in item.items():
                if isinstance(value, str):
                    out.append((title, value))
                else:
                    out.extend(_nav_files(value))
    return out


def page_path(project: Path, pattern: str) -> tuple[str, str]:
    """(nav title, site path) of the first nav page whose file matches `pattern`, e.g.
    ("02 整体回顾", "chapters/02-overall/") for the overall chapter."""
    config = yaml.load((project / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_TaggedLoader)
    for title, file in _nav_files(config.get("nav")):
        if re.search(pattern, file):
            stem = file[: -len(".md")]
            if stem == "index" or stem.endswith("/index"):
                return title, stem[: -len("index")]
            return title, stem + "/"
    raise AssertionError(f"no page matching {pattern!r} in mkdocs.yml's nav")


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
    built_site.assert_data_unchanged()
    year = _review_year(built_site.project)
    expected = pandas_kpis(built_site.project, year), pandas_kpis(built_site.project, year - 1)
    built_site.assert_data_unchanged()
    return expected


# ---------------------------------------------------------------------------
# Page helpers
# ---------------------------------------------------------------------------


def open_page(page, url: str) -> None:
    page.goto(url, wait_until="load")


def wait_charts_drawn(page) -> int:
    """Wait until every chart on the page is drawn (or one fails); return how many there are.

    The Vega runtime loads on the first interaction with a chart: hover one first, as a reader
    would (a no-op once the runtime is loaded)."""
    page.hover(".fupan-chart >> nth=0")
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
    problems: list[str] = []  # every card is checked; all mismatches are reported together
    for metric in KPI_METRICS:
        card = page.locator(f".fupan-kpi[data-metric={metric}]")
        if card.count() != 1:
            problems.append(f"{metric}: {card.count()} KPI cards on the home page, expected 1")
            continue
        value = card.locator(".fupan-kpi__value")
        raw = value.get_attribute("data-value") or ""
        want_value = current[metric]
        try:
            if float(raw) != pytest.approx(want_value, rel=1e-6):
                problems.append(f"{metric}: data-value {raw} but pandas gives {want_value!r}")
        except ValueError:
            problems.append(f"{metric}: data-value {raw!r} is not a number")

        text = value.inner_text().strip()
        expected = expected_zh_text(want_value, metric in CURRENCY_METRICS)
        if expected.endswith(("亿", "万")) and not text.endswith(expected[-1]):
            problems.append(f"{metric}: shows {text!r}, should be in {expected[-1]}")
        if expected.endswith("万"):
            shown = float(re.sub(r"[¥,万-]", "", text) or "nan")
            if shown != pytest.approx(round(abs(want_value) / 1e4, 1), abs=0.051):
                problems.append(f"{metric}: shows {text!r}, pandas/1e4 = {want_value / 1e4:.2f}")
        if text != expected:
            problems.append(f"{metric}: shows {text!r}, expected {expected!r}")

        delta = card.locator(".fupan-kpi__delta").inner_text()
        want = expected_change_text(want_value, prior[metric])
        found = re.findall(r"[+-]?[\d,]+\.\d%", delta)
        if found != [want]:
            problems.append(f"{metric}: change shows {delta!r}, expected {want} YoY "
                            f"(pandas: {want_value!r} vs {prior[metric]!r})")
        arrow = "▲" if want.startswith("+") else "▼" if want.startswith("-") else "■"
        if arrow not in delta:
            problems.append(f"{metric}: change {delta!r} lacks the {arrow} arrow")
    assert not problems, "KPI cards disagree with pandas:\n" + "\n".join(problems)


def test_home_chart_draws(page, site_server):
    open_page(page, site_server)
    assert wait_charts_drawn(page) >= 1
    for chart in mark_counts(page):
        assert chart["groups"] >= 1 and chart["items"] >= 1 and chart["drawnPaths"] >= 1, (
            f"chart {chart['id']} has an SVG without drawn marks: {chart}")


def click_nav_link(page, url: str) -> None:
    """Click the visible nav tab (or sidebar link) that points at `url`, as a reader would."""
    found = page.evaluate(
        """(url) => {
            document.querySelectorAll('[data-test-target]')
                .forEach(a => a.removeAttribute('data-test-target'));
            const links = [...document.querySelectorAll(
                '.md-tabs a, .md-header a, .md-sidebar--primary a.md-nav__link')];
            const a = links.find(a => a.href === url && a.offsetParent !== null);
            if (a) a.setAttribute('data-test-target', '1');
            return !!a;
        }""",
        url,
    )
    assert found, f"no visible navigation link to {url}"
    page.locator("[data-test-target]").click()


def test_instant_navigation_keeps_page_and_draws(page, site_server, built_site):
    title, overall = page_path(built_site.project, r"overall")
    open_page(page, site_server)
    home_charts = wait_charts_drawn(page)
    home_h1 = page.locator("article h1").first.inner_text()
    page.evaluate("window.__marker = 1")

    click_nav_link(page, site_server + overall)
    page.wait_for_url(site_server + overall)
    page.wait_for_function(  # the new page's content is in
        "(h1) => document.querySelector('article h1') "
        "&& document.querySelector('article h1').innerText !== h1", arg=home_h1)
    assert page.evaluate("window.__marker") == 1, (
        f"navigating to {title} reloaded the page: Material's instant navigation did not run "
        "(is site_url's host:port the served one?)")
    views = page.locator(CHART_VIEW).count()
    if views:
        assert wait_charts_drawn(page) == views
        for chart in mark_counts(page):
            assert chart["items"] >= 1, f"chart {chart['id']} drew no marks: {chart}"

    # And back to the home page, again without a reload: its charts are drawn anew.
    click_nav_link(page, site_server)
    page.wait_for_url(site_server)
    page.wait_for_function(
        "(h1) => document.querySelector('article h1') "
        "&& document.querySelector('article h1').innerText === h1", arg=home_h1)
    assert page.evaluate("window.__marker") == 1, "navigating back home reloaded the page"
    assert wait_charts_drawn(page) == home_charts
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
    paths = ["", page_path(built_site.project, r"overall")[1],
             page_path(built_site.project, r"definitions")[1]]
    for path in paths:
        response = page.goto(site_server + path, wait_until="load")
        assert response and response.ok, f"{site_server + path}: HTTP {response and response.status}"
        if page.locator(CHART_VIEW).count():
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


def test_vega_loads_only_when_a_chart_is_used(page, site_server):
    """First visit: static charts, no Vega runtime; hovering a chart loads it and draws live."""
    bundles = []
    page.on("request", lambda r: bundles.append(r.url) if "vega-bundle" in r.url else None)
    open_page(page, site_server + "/")
    page.wait_for_timeout(500)
    assert bundles == [], "the Vega runtime was loaded before any interaction"
    assert page.locator(".fupan-chart img.fupan-chart__static").count() >= 1
    assert page.evaluate("typeof window.vegaEmbed") == "undefined"
    wait_charts_drawn(page)
    assert len(bundles) == 1
