"""HTML components and chart builders, fed by hand-made inputs, against snapshots; escaping of
data; the chart-size guard; the static-SVG cache; and the table/share/event logic of the writer
macros on the tiny shop.

Snapshots live in tests/snapshots/*.html. A difference fails the test; after a deliberate
change, regenerate them with `UPDATE_SNAPSHOTS=1 python -m pytest tests/test_components.py`
and review the diff.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from fupan.presentation import charts, components
from fupan.presentation.components import Card, Cell, Column, Table
from fupan.site.report_macros import (
    callout,
    combo,
    funnel,
    has_data,
    hit_scatter,
    kpis,
    monthly_trend,
    ranking,
    retention_heatmap,
    share,
    table,
)
from fupan.speed.cache import read_sealed
from fupan.speed.svgrender import data_url

SNAPSHOTS = Path(__file__).with_name("snapshots")
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
XSS = "<script>alert(1)</script> | {{ x }}"
FAKE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5" viewBox="0 0 10 5"></svg>'
FAKE_IMAGE = data_url(FAKE_SVG)


def assert_snapshot(name: str, html: str) -> None:
    path = SNAPSHOTS / f"{name}.html"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(html + "\n", encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 to create it"
    expected = path.read_text(encoding="utf-8").rstrip("\n")
    if html != expected:
        diff = "\n".join(difflib.unified_diff(
            _lines(expected), _lines(html), "snapshot", "now", lineterm="", n=1))
        pytest.fail(f"{name} differs from tests/snapshots/{path.name} "
                    f"(UPDATE_SNAPSHOTS=1 to accept):\n{diff[:4000]}")


def _lines(html: str) -> list[str]:
    """One tag per line, so a diff shows where the HTML changed."""
    return re.sub(r"(<[^/])", r"\n\1", html).splitlines()


class _Parsed(HTMLParser):
    """Tags, attributes and text of a fragment, with character references decoded."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)

    def handle_data(self, data) -> None:
        self.text.append(data)


# ---------------------------------------------------------------------------------------------
# Hand-made inputs
# ---------------------------------------------------------------------------------------------

def trend_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "x": ["1月", "2月", "3月", "1月", "2月", "3月"], "x_order": [1, 2, 3, 1, 2, 3],
        "series": ["2025年"] * 3 + ["2024年"] * 3, "value": [120.0, 300.0, 80.0, 100.0, 90.0, 95.0],
        "value_text": ["¥120.00", "¥300.00", "¥80.00", "¥100.00", "¥90.00", "¥95.00"]})


def share_rows() -> pd.DataFrame:
    return pd.DataFrame({"label": ["天猫", XSS, "其他"], "value": [50.0, 30.0, 20.0],
                         "value_text": ["¥50.00", "¥30.00", "¥20.00"], "share": [0.5, 0.3, 0.2],
                         "share_text": ["50.0%", "30.0%", "20.0%"]})


def chart_builders() -> dict[str, object]:
    """Every chart builder once, with hand-made rows."""
    marks = pd.DataFrame([{"x": "2月", "value": 300.0, "label": "峰值"},
                          {"x": "3月", "value": 80.0, "label": "谷值"}])
    events = pd.DataFrame([{"x": "1月", "label": "年货节"}, {"x": "2月", "label": "<618> & 双11"}])
    return {
        "trend": charts.trend(trend_rows(), kind="currency", locale="zh-CN", currency="¥",
                              marks=marks, events=events, x_domain=["1月", "2月", "3月", "4月"]),
        "bars": charts.bars(pd.DataFrame({"label": [XSS, "京东"], "value": [12000.0, 9000.0],
                                          "value_text": ["¥1.2万", "¥9,000.00"],
                                          "share_text": ["57.1%", "42.9%"]}),
                            kind="currency", locale="zh-CN", currency="¥", label_title="平台",
                            value_title="净销售额"),
        "share_donut": charts.share(share_rows(), locale="zh-CN"),
        "share_bar": charts.share(share_rows(), locale="zh-CN", style="bar"),
        "funnel": charts.funnel(pd.DataFrame({
            "label": ["访客", "加购", "下单", "支付"], "users": [1000.0, 300.0, 120.0, 100.0],
            "users_text": ["1,000", "300", "120", "100"],
            "rate_prev_text": ["—", "30.0%", "40.0%", "83.3%"],
            "rate_first_text": ["100.0%", "30.0%", "12.0%", "10.0%"]}), locale="zh-CN"),
        "heatmap": charts.heatmap(pd.DataFrame({
            "cohort": ["2025年1月", "2025年1月", "2025年2月"], "month_offset": [0, 1, 0],
            "retention": [1.0, 0.25, 1.0], "retention_text": ["100.0%", "25.0%", "100.0%"],
            "buyers_text": ["4", "1", "2"], "cohort_size_text": ["4", "4", "2"]}), locale="zh-CN"),
        "scatter": charts.scatter(pd.DataFrame({
            "x": [10.0, 50.0, 20.0], "y": [66.0, 140.0, 180.0], "highlight": [False, True, True],
            "group": ["其他商品", "爆款", "爆款"], "label": ["", "收纳箱", XSS],
            "product_text": ["坚果礼盒", "收纳箱", XSS], "net_sales_text": ["¥66.00", "¥140.00", "¥180.00"]}),
            x_kind="currency", y_kind="currency", locale="zh-CN", currency="¥", x_title="平均成交价",
            y_title="净销售额", tooltip=[("product_text", "商品"), ("net_sales_text", "净销售额")]),
        "combo": charts.combo(pd.DataFrame({
            "label": ["直通车", "巨量千川"], "bar_value": [9000.0, 12000.0],
            "bar_text": ["¥9,000.00", "¥1.2万"], "line_value": [3.0, 0.8], "line_text": ["3.00", "0.80"]}),
            bar_kind="currency", line_kind="ratio", bar_label="广告花费", line_label="ROAS 投入产出比",
            locale="zh-CN", currency="¥", x_title="广告渠道"),
    }


def sample_table(download: str | None = "净销售额-按平台.csv") -> Table:
    columns = [Column("平台", numeric=False, kind="dim"),
               Column("净销售额", href="../definitions/#net_sales"),
               Column("净销售额同比", kind="change")]
    rows = [
        [Cell("小程序", "小程序"), Cell("¥1.2万", 12000.0), Cell("—", None)],
        [Cell(XSS, XSS), Cell("¥9,000.00", 9000.0), Cell("+12.5%", 0.125, "fupan-tone--red")],
        [Cell("抖音", "抖音"), Cell("¥10.00", 10.0), Cell("-3.0%", -0.03, "fupan-tone--green")],
    ]
    totals = [Cell("合计"), Cell("¥2.1万", 21010.0), Cell("+8.0%", 0.08, "fupan-tone--red")]
    return Table(columns, rows, totals, caption="各平台", download=download,
                 labels={"sort": "排序", "download": "下载 CSV"})


# ---------------------------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------------------------

def test_snapshot_kpi_grid():
    spark = components.sparkline_svg([1.0, 3.0, None, 2.0, 5.0])
    cards = [
        Card("net_sales", "净销售额", 206.0, "¥206.00", "+194.3%", "up", "同比",
             "../definitions/#net_sales", sparkline=spark),
        Card("refund_rate", "退款率", 0.046, "4.6%", "-1.2个百分点", "down", "同比",
             "../definitions/#refund_rate"),
        Card("orders", "订单量", None, "—", "—", None, "同比", "../definitions/#orders"),
    ]
    assert_snapshot("kpi_grid", components.kpi_grid(cards))
    green = components.kpi_grid(cards[:2], colors="green-up")
    assert "fupan-kpi__delta--green" in green.split("退款率")[0]  # up is green
    assert "fupan-kpi__delta--red" in green.split("退款率")[1]


def test_snapshot_sparkline():
    svg = components.sparkline_svg([5, 7, None, 6, 9, 4, 8])
    assert_snapshot("sparkline", svg)
    assert svg.count("<polyline") == 2  # the gap splits the line
    assert components.sparkline_svg([1.0]) == ""
    assert components.sparkline_svg([None, 2.0, None]) == ""
    flat = components.sparkline_svg([3.0, 3.0, 3.0])
    assert 'points="3.0,14.0 60.0,14.0 117.0,14.0"' in flat


@pytest.mark.parametrize("name", list(chart_builders()))
def test_snapshot_chart_figure(name):
    chart = chart_builders()[name]
    spec = components.chart_spec(chart, max_rows=100)
    spec["description"] = f"{name} 的文字说明 <b>"
    element_id = components.spec_id(spec)
    html = components.chart_figure(spec, element_id, f"{name} 的文字说明 <b>", f"{name} 图题",
                                   FAKE_IMAGE)
    assert_snapshot(f"chart_{name}", html)
    assert spec["width"] == "container"
    assert "config" not in spec and "$schema" not in spec
    assert "\n" not in html


def test_snapshot_table():
    from fupan.site import figures

    spec = sample_table()
    figures.start(lambda: ("chapters/02-overall.md", "chapters/02-overall/"))  # as in a build: the CSV is a file
    try:
        html = components.data_table(spec, components.table_id(spec))
    finally:
        figures.stop()
    assert_snapshot("table", html)
    assert components.table_id(spec) == components.table_id(sample_table())
    assert "fupan-table__download" not in components.data_table(sample_table(None), "t")
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        components.data_table(Table(sample_table().columns, [[Cell("a"), Cell("b")]]), "t")


def test_snapshot_boxes_and_inline():
    assert_snapshot("callout", components.callout("净销售额 <strong>¥206.00</strong>\n同比增长",
                                                  "tip", f"发现 {XSS}"))
    assert_snapshot("notice", components.notice(f"缺少数据：需要 data/{XSS}.csv"))
    assert_snapshot("inline_value", components.inline_value(
        "¥206.00", "net_sales", "../definitions/#net_sales", "同比 +194.3%", "up"))
    with pytest.raises(ValueError, match="callout kind"):
        components.callout("x", "nonsense")
    findings = '<p class="fupan-finding">一</p><p class="fupan-finding">二</p>'
    assert components.callout(findings, "info", "要点") == (
        '<div class="admonition info fupan-callout"><p class="admonition-title">要点</p>'
        f"{findings}</div>")  # block content is not nested in another <p>


# ---------------------------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------------------------

def _without_spec(html: str) -> str:
    return re.sub(r' data-spec="[^"]*"', "", re.sub(r' src="data:[^"]*"', "", html))


def _with_recorder(render):
    """Render as in a build, where a table's download control links to its CSV file."""
    from fupan.site import figures

    figures.start(lambda: ("gallery.md", "gallery/"))
    try:
        return render()
    finally:
        figures.stop()


def xss_fragments() -> dict[str, str]:
    spec = components.chart_spec(chart_builders()["bars"], 100)
    table = sample_table(download=f"{XSS}.csv")
    return {
        "kpi": components.kpi_grid([Card("m", XSS, 1.0, XSS, XSS, "up", XSS, "../x/")]),
        "chart": components.chart_figure(spec, "chart-x", XSS, XSS, FAKE_IMAGE),
        "table": _with_recorder(lambda: components.data_table(Table(
            [Column(XSS, numeric=False), Column(XSS), Column(XSS, kind="change")],
            table.rows, table.totals, XSS, table.download), "t")),
        "callout": components.callout("fixed", "info", XSS),
        "notice": components.notice(XSS),
        "inline": components.inline_value(XSS, "m", "../x/", XSS, "down"),
    }


@pytest.mark.parametrize("name", list(xss_fragments()))
def test_data_text_is_escaped_and_inert(name):
    html = xss_fragments()[name]
    parsed = _Parsed(html)
    assert "script" not in parsed.tags
    text = "".join(parsed.text)
    assert XSS in text or any(v == XSS for _, v in parsed.attrs), "the name is not shown literally"
    # Nothing Markdown or Jinja could act on is left raw outside the (block-level) chart spec.
    outside = _without_spec(html)
    for raw in ("<script", "{{", "}}", "|"):
        assert raw not in outside, f"{raw!r} left raw in {name}"
    assert "\n" not in html


def test_spec_attribute_round_trips():
    spec = components.chart_spec(chart_builders()["bars"], 100)
    html = components.chart_figure(spec, "chart-x", "d")
    parsed = _Parsed(html)
    data = dict(parsed.attrs)["data-spec"]
    assert json.loads(data) == json.loads(json.dumps(spec))
    assert XSS in data


# ---------------------------------------------------------------------------------------------
# Guards, ids, static SVG
# ---------------------------------------------------------------------------------------------

def test_chart_guard_refuses_too_many_rows():
    rows = pd.DataFrame({"label": [f"SKU{i}" for i in range(30)], "value": range(30),
                         "value_text": [str(i) for i in range(30)]})
    chart = charts.bars(rows, kind="count", locale="zh-CN", currency="¥")
    with pytest.raises(components.ChartTooLarge, match="30 rows.*limit 20.*max_chart_rows"):
        components.chart_spec(chart, max_rows=20)
    assert components.chart_spec(chart, max_rows=30)


def test_spec_id_is_stable_and_content_based():
    a = {"mark": "bar", "data": {"values": [1, 2]}}
    b = {"data": {"values": [1, 2]}, "mark": "bar"}
    assert components.spec_id(a) == components.spec_id(b)
    assert re.fullmatch(r"chart-[0-9a-f]{10}", components.spec_id(a))
    assert components.spec_id(a) != components.spec_id({**a, "mark": "line"})
    spec1 = components.chart_spec(chart_builders()["combo"], 100)
    spec2 = components.chart_spec(chart_builders()["combo"], 100)
    assert components.spec_id(spec1) == components.spec_id(spec2)


def test_builders_carry_no_styling():
    """Colours and fonts come from the theme only."""
    for name, chart in chart_builders().items():
        text = json.dumps(components.chart_spec(chart, 100), ensure_ascii=False)
        assert not re.search(r"#[0-9a-fA-F]{3,6}\b|rgb\(|\"font\"|\"color\": \"", text), name


def test_static_svg_is_cached_by_spec(tmp_path, monkeypatch):
    import vl_convert

    spec = components.chart_spec(chart_builders()["bars"], 100)
    calls = []
    real = vl_convert.vegalite_to_svg

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(vl_convert, "vegalite_to_svg", counting)
    svg = charts.static_svg(spec, tmp_path, "zh-CN")
    assert svg.startswith("<svg") and 'viewBox="0 0 680 ' in svg
    assert calls and calls[0]["allowed_base_urls"] == []
    files = list((tmp_path / "svg").rglob("*.svg"))
    assert len(files) == 1 and read_sealed(files[0]) == svg.encode("utf-8")  # kept sealed (cache.py)
    assert not list((tmp_path / "svg").rglob(".tmp-*"))
    assert charts.static_svg(spec, tmp_path, "zh-CN") == svg
    assert len(calls) == 1, "an unchanged chart was rendered again"
    assert spec["width"] == "container", "the embedded spec was changed"
    changed = {**spec, "description": "other"}
    charts.static_svg(changed, tmp_path, "zh-CN")
    assert len(calls) == 2 and len(list((tmp_path / "svg").rglob("*.svg"))) == 2


def test_static_image_is_a_scalable_data_url():
    html = components.static_image(FAKE_IMAGE)
    assert html == ('<img class="fupan-chart__static" alt="" aria-hidden="true" src="data:image/svg+xml;'
                    'base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxMCIgaGVpZ2h0'
                    'PSI1IiB2aWV3Qm94PSIwIDAgMTAgNSI+PC9zdmc+">')
    assert components.static_image("") == ""


# ---------------------------------------------------------------------------------------------
# Writer macros on the tiny shop
# ---------------------------------------------------------------------------------------------

CAMPAIGNS_CSV = """活动编号,活动名称,开始日期,结束日期
C1,2025年618年中大促,2025-05-28,2025-06-18
C2,2025年货节,2025-01-05,2025-01-18
C3,2024年双11狂欢节,2024-11-01,2024-11-11
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The review context of the tiny shop (groups of one shown), with a campaigns file."""
    import tiny
    from fupan.site.context import build_review

    project = tmp_path_factory.mktemp("writer") / "project"
    tiny.write_tiny_data(project / "data")
    (project / "data" / "campaigns.csv").write_text(CAMPAIGNS_CSV, encoding="utf-8")
    # as_of: the tiny shop's orders stop on 11 November but it stands for a whole year
    review = build_review({"review": {"company": "测试", "year": 2025, "locale": "zh-CN",
                                      "min_group_size": 1, "as_of": "2025-12-31"}}, project)
    yield review
    shutil.rmtree(project / ".cache", ignore_errors=True)


def _table_cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html)
    return [["".join(_Parsed(c).text) for c in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", row)]
            for row in rows]


def test_table_totals_sum_only_additive_metrics(shop):
    html = table(shop, ["net_sales", "aov", "buyers"], by="platform", totals=True)
    cells = _table_cells(html)
    assert cells[0] == ["平台", "净销售额", "客单价", "购买用户数"]
    # by hand: 抖音 126 (2 orders), 天猫 70, 京东 10; buyers U3 | U1 | U1
    assert cells[1:4] == [["抖音", "¥126.00", "¥63.00", "1"], ["天猫", "¥70.00", "¥70.00", "1"],
                          ["京东", "¥10.00", "¥10.00", "1"]]
    # 206 summed; AOV 206 ÷ 4 orders (not 143 or 47.67); buyers 2 distinct (not 3)
    assert cells[4] == ["合计", "¥206.00", "¥51.50", "2"]
    assert 'data-sort-value="126.0"' in html


def test_table_compare_sort_top(shop):
    html = table(shop, ["net_sales"], by="platform", compare="yoy", totals=True,
                           sort="net_sales asc", top=2)
    cells = _table_cells(html)
    assert cells[0] == ["平台", "净销售额", "净销售额同比"]
    # 2024: 天猫 20, 京东 50; 抖音 had none
    assert cells[1:3] == [["京东", "¥10.00", "-80.0%"], ["天猫", "¥70.00", "+250.0%"]]
    assert cells[3] == ["合计（全部 3 项）", "¥206.00", "+194.3%"]
    assert "fupan-tone--green" in html and "fupan-tone--red" in html
    with pytest.raises(ValueError, match="sort="):
        table(shop, ["net_sales"], by="platform", sort="nonsense")


def test_table_by_month_compares_each_month(shop):
    from fupan.site import figures

    figures.start(lambda: ("chapters/02-overall.md", "chapters/02-overall/"))  # as in a build: the CSV is a file
    try:
        html = table(shop, ["net_sales", "orders"], by="month", compare="yoy", download=True)
    finally:
        figures.stop()
    cells = _table_cells(html)
    # The tiny shop sold in January, June and November only: the other months keep their row,
    # marked as without data, their figures "—" (never a zero)
    sold = {1, 6, 11}
    assert [row[0] for row in cells[1:]] == [f"2025年{m}月" if m in sold else f"2025年{m}月（无数据）"
                                             for m in range(1, 13)]
    assert all(row[1:] == ["—"] * 4 for m, row in enumerate(cells[1:], start=1) if m not in sold)
    assert cells[1][2] == "—"  # no January 2024
    assert 'download="净销售额、订单量-按月份.csv"' in html


def test_share_needs_an_additive_metric(shop):
    from fupan.semantics.engine import MetricError

    with pytest.raises(MetricError, match="not additive"):
        share(shop, "aov", by="platform")
    html = share(shop, "net_sales", by="platform", top=2)
    spec = json.loads(dict(_Parsed(html).attrs)["data-spec"])
    labels = [row["label"] for row in next(iter(spec["datasets"].values()))]
    assert labels == ["抖音", "天猫", "其他"]
    assert 'class="fupan-chart__static"' in html


def test_trend_marks_campaigns_and_explicit_events(shop):
    auto = monthly_trend(shop, "net_sales")
    spec = json.dumps(json.loads(dict(_Parsed(auto).attrs)["data-spec"]), ensure_ascii=False)
    assert "618年中大促" in spec and "年货节" in spec and "双11" not in spec  # 2024's is out
    assert "标注活动" in auto
    explicit = monthly_trend(shop, "net_sales", events=[{"month": "2025-11", "label": "双11"}])
    spec = json.dumps(json.loads(dict(_Parsed(explicit).attrs)["data-spec"]), ensure_ascii=False)
    assert "双11" in spec and "618" not in spec
    none = monthly_trend(shop, "net_sales", events=False)
    assert "标注活动" not in none
    with pytest.raises(ValueError, match="month"):
        monthly_trend(shop, "net_sales", events=[{"label": "x"}])


@pytest.mark.parametrize(("name", "label"), [
    ("2025年618年中大促", "618年中大促"), ("2025年货节", "年货节"), ("2025年双11狂欢节", "双11狂欢节"),
    ("2025春上新·三八焕新季", "春上新·三八焕新季"), ("2025年99划算节", "99划算节"), ("双12", "双12"),
])
def test_event_labels_drop_the_year(name, label):
    from fupan.site.report_macros import event_label

    assert event_label(name) == label


def test_kpis_have_sparklines_and_other_charts_render(shop):
    html = kpis(shop, ["net_sales", "aov"])
    assert html.count('<svg class="fupan-spark"') == 2
    assert 'class="fupan-spark"' not in kpis(shop, ["net_sales"], sparkline=False)
    for call in (lambda: retention_heatmap(shop), lambda: hit_scatter(shop),
                 lambda: combo(shop, "net_sales", "aov", by="platform"),
                 lambda: ranking(shop, "net_sales", by="product")):
        out = call()
        assert out.startswith('<figure class="fupan-chart"') and "fupan-chart__static" in out
    from fupan.semantics.engine import MissingData
    from fupan.site.registry import bound_macros

    with pytest.raises(MissingData):  # the tiny shop has no funnel file: a page shows a notice
        funnel(shop)
    marked = bound_macros(shop)["funnel"]()
    assert marked == "<!--fupan-absent:funnel-->"  # the section settles it into its notice
    assert has_data(shop, "campaigns") is True and has_data(shop, "funnel") is False
    box = callout(shop, "全年净销售额 <b>¥206.00</b>。", kind="tip")
    assert box.startswith('<div class="admonition tip fupan-callout"><p class="admonition-title">数据发现')


def test_share_folds_groups_the_engine_merged_into_one_other_slice(tmp_path):
    from fupan.site.context import build_review
    from test_gallery_browser import write_gallery_data

    # 2025 buyers: 京东 U1+U2 (kept), 天猫 U1, 抖音 U3, 小程序 U2 (merged: fewer than 2 people)
    write_gallery_data(tmp_path / "data")
    review = build_review({"review": {"year": 2025, "min_group_size": 2}}, tmp_path)
    review.catalogue.people_dimensions |= {"platform"}  # platforms describe no one: declared here to merge
    html = share(review, "net_sales", by="platform", top=1)
    spec = json.loads(dict(_Parsed(html).attrs)["data-spec"])
    rows = next(iter(spec["datasets"].values()))
    assert [row["label"] for row in rows] == ["京东", "其他"]
    assert [row["value"] for row in rows] == [9010.0, 250.0 + 126.0 + 12000.0]


def test_trend_of_an_empty_period_is_a_notice(shop):
    html = monthly_trend(shop, "net_sales", period="2023", compare="none")
    assert "fupan-notice" in html and "本期没有数据" in html


def test_chart_data_is_embedded_at_a_stated_precision():
    """Values that differ only in the last bits (another engine's order of additions) embed the
    same spec: rounded to fmt.EMBED_DIGITS significant digits, the dataset named after them."""
    import altair as alt
    from fupan.presentation import fmt

    def spec(share: float) -> dict:
        frame = pd.DataFrame({"k": ["a", "b"], "v": [share, 1 / 3]})
        return components.chart_spec(alt.Chart(frame).mark_bar().encode(x="k", y="v"), max_rows=100)

    a, b = spec(0.5692982228946), spec(0.5692982228948)
    assert a == b
    (rows,) = a["datasets"].values()
    assert [r["v"] for r in rows] == [0.56929822, 0.33333333]
    assert a["data"]["name"] in a["datasets"]
    assert fmt.EMBED_DIGITS == 8


@pytest.mark.parametrize(("value", "embedded"), [
    (206.0, 206.0), (0.5692982228946, 0.56929822), (12345678.25, 12345678.0),
    (-0.007657349886, -0.0076573499), (-0.007657349885, -0.0076573499), (-0.0001234567891234, -0.00012345679),
])
def test_embedded_number(value, embedded):
    from fupan.presentation import fmt

    assert fmt.embedded_number(value) == embedded


def test_a_chart_with_events_leaves_its_top_fifth_to_their_labels() -> None:
    """Event labels (two rows at the plot's top) never cross a line, a bar or a peak label: the
    values' scale reaches 1.25 × the largest value when events are drawn, and only then."""
    import pandas as pd
    from fupan.presentation import charts

    rows = pd.DataFrame({"x": ["1月", "2月"], "x_order": [1, 2], "series": ["2025年"] * 2, "value": [120.0, 400.0],
                         "value_text": ["120", "400"]})
    events = pd.DataFrame({"x": ["2月"], "label": ["双11"]})
    with_events = charts.trend(rows, kind="currency", locale="zh-CN", currency="¥", events=events).to_dict()
    assert with_events["layer"][0]["encoding"]["y"]["scale"] == {"domainMax": 500.0}
    plain = charts.trend(rows, kind="currency", locale="zh-CN", currency="¥").to_dict()
    assert "scale" not in plain["layer"][0]["encoding"]["y"]
    combo_rows = pd.DataFrame({"label": ["a", "b"], "bar_value": [8.0, 2.0], "bar_text": ["8", "2"],
                               "line_value": [4.0, 1.0], "line_text": ["4", "1"]})
    combo = charts.combo(combo_rows, bar_kind="currency", line_kind="ratio", bar_label="花费", line_label="ROAS",
                         locale="zh-CN", currency="¥", events=pd.DataFrame({"x": ["a"], "label": ["618"]})).to_dict()
    scales = [layer["encoding"]["y"]["scale"] for layer in combo["layer"][0]["layer"]]
    assert scales == [{"domainMax": 10.0}, {"domainMax": 5.0}]
