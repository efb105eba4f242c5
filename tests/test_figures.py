"""Every number machine-readable (issue 19 item 7): figures.json lists every figure of every page,
every table links to a CSV of its raw values, and `fupan figures` prints the headline figures.

The site tests read the built sample site (conftest's `built_site`): the HTML's machine values
(data-value, data-sort-value) against figures.json and the CSV files. The unit tests render
small tables by hand with a recorder started, as a build does.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fupan.cli import main
from fupan.presentation import components, fmt
from fupan.presentation.components import Card, Cell, Column, Table
from fupan.site import figures

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# Reading the built site
# ---------------------------------------------------------------------------------------------

class _Machine(HTMLParser):
    """The machine values of one page: KPI cards and inline numbers (data-value), and each
    .fupan-table's numeric cells (data-sort-value), rows and CSV link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: list[tuple[str, str, str]] = []  # (kind, metric, data-value)
        self.cards: list[tuple[str, str]] = []  # (metric, data-value) in page order
        self.tables: dict[str, dict] = {}
        self._table: str | None = None
        self._metric = ""
        self._numeric: list[bool] = []
        self._row: list[str | None] | None = None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        classes = attrs.get("class", "").split()
        if "fupan-kpi" in classes:
            self._metric = attrs.get("data-metric", "")
        if "fupan-kpi__value" in classes:
            self.values.append(("card", self._metric, attrs["data-value"]))
            self.cards.append((self._metric, attrs["data-value"]))
        if tag == "a" and "fupan-inline" in classes and "data-value" in attrs:
            self.values.append(("value", attrs.get("data-metric", ""), attrs["data-value"]))
        if tag == "div" and "fupan-table" in classes:
            self._table = attrs["id"]
            self.tables[self._table] = {"rows": [], "csv": None, "name": None, "numeric": []}
        if self._table is None:
            return
        table = self.tables[self._table]
        if "fupan-table__download" in classes:
            table["csv"], table["name"] = attrs.get("href"), attrs.get("download")
        if tag == "th" and "data-type" in attrs:
            table["numeric"].append(attrs["data-type"] == "number")
        if tag == "tr" and table["numeric"] and self._row is None:
            self._row = []
        if tag in ("td", "th") and self._row is not None and "data-sort-value" in attrs:
            self._row.append(attrs["data-sort-value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._table is not None and self._row is not None:
            self.tables[self._table]["rows"].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None


def _page_source(site: Path, html: Path) -> str:
    """The docs/ source of a built page (directory URLs: X/index.html ← X.md or X/index.md)."""
    rel = html.relative_to(site).as_posix()
    if rel == "index.html":
        return "index.md"
    stem = rel[: -len("/index.html")]
    return f"{stem}.md" if (REPO / "docs" / f"{stem}.md").exists() else f"{stem}/index.md"


@pytest.fixture(scope="module")
def site(built_site) -> Path:
    return Path(built_site.site_dir)


@pytest.fixture(scope="module")
def machine(site: Path) -> dict[str, _Machine]:
    out = {}
    for html in sorted(site.rglob("index.html")):
        if not (REPO / "docs" / _page_source(site, html)).exists():
            continue  # 404, search
        parser = _Machine()
        parser.feed(html.read_text(encoding="utf-8"))
        parser.close()
        out[_page_source(site, html)] = parser
    return out


@pytest.fixture(scope="module")
def document(site: Path) -> dict:
    return figures.read(site)


def _shown(value: float | None) -> str:
    """A figure's value as the page embeds it (data-value, data-sort-value)."""
    return "" if value is None else repr(fmt.embedded_number(value))


# ---------------------------------------------------------------------------------------------
# figures.json
# ---------------------------------------------------------------------------------------------

def test_every_data_value_of_the_site_has_its_figure(machine, document):
    on_pages = Counter((page, kind, metric, value) for page, parsed in machine.items()
                       for kind, metric, value in parsed.values)
    assert sum(on_pages.values()) > 150  # cards and inline numbers of every chapter
    recorded = Counter((f["page"], f["kind"], f["metric"], _shown(f["value"])) for f in document["figures"]
                       if f["kind"] in ("card", "value") and f["comparison"] is None)
    assert on_pages - recorded == Counter(), "data-values on pages without a figure"
    assert recorded - on_pages == Counter(), "figures not shown on their page"


def test_every_number_of_every_table_has_its_figure(machine, document):
    recorded: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in document["figures"]:
        if f["kind"] == "table":
            recorded[(f["page"], f["element"])].append(_shown(f["value"]))
    tables = 0
    for page, parsed in machine.items():
        for element, table in parsed.tables.items():
            tables += 1
            numbers = [v for row in table["rows"] for v, numeric in zip(row, table["numeric"], strict=True)
                       if numeric]
            assert recorded.pop((page, element), []) == numbers, f"{page} {element}"
    assert tables > 50
    assert not recorded, f"figures of tables not on their page: {sorted(recorded)[:5]}"


def test_figures_carry_their_meaning(document):
    """Spot checks of what an entry says, against the sample site's own pages."""
    by_page = defaultdict(list)
    for f in document["figures"]:
        by_page[f["page"]].append(f)
    home = [f for f in by_page["index.md"] if f["kind"] == "card" and f["comparison"] is None]
    assert [f["metric"] for f in home] == ["net_sales", "orders", "aov", "buyers", "gross_margin",
                                            "conversion_rate", "repurchase_rate", "complaint_rate"]
    assert {f["period"] for f in home} == {"2025-01-01..2025-12-31"}
    assert [f["unit"] for f in home[:3]] == ["currency", "count", "currency"]
    assert home[1]["value"] == int(home[1]["value"])  # an order count is whole
    # The totals row of a table has no dimension values; its other rows name theirs.
    monthly = [f for f in by_page["chapters/02-overall.md"] if f["kind"] == "table" and f["dimensions"]]
    assert any("month" in f["dimensions"] for f in monthly)
    changes = [f for f in document["figures"] if f["comparison"] == "yoy"]
    assert changes and all(f["unit"].endswith("_change") for f in changes)
    assert list(document) == ["figures", "tables"]


# ---------------------------------------------------------------------------------------------
# Tables' CSV files
# ---------------------------------------------------------------------------------------------

def test_every_table_downloads_a_csv_of_its_raw_numbers(site, machine, document):
    files = {(t["page"], t["element"]): t["file"] for t in document["tables"]}
    checked = 0
    for page, parsed in machine.items():
        depth = 0 if page == "index.md" else page.removesuffix("/index.md").removesuffix(".md").count("/") + 1
        for element, table in parsed.tables.items():
            assert table["csv"], f"{page} {element}: no download control"
            assert table["name"].endswith(".csv")
            assert table["csv"] == "../" * depth + files[(page, element)]
            raw = (site / files[(page, element)]).read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM: Excel would garble the Chinese text"
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
            assert len(rows) == 1 + len(table["rows"]), f"{page} {element}"
            for html_row, csv_row in zip(table["rows"], rows[1:], strict=True):
                for shown, cell, numeric in zip(html_row, csv_row, table["numeric"], strict=True):
                    if not numeric:
                        continue
                    if shown == "":
                        assert cell == ""
                    else:
                        number = float(cell)  # a number, not 31.9万
                        assert fmt.embedded_number(number) == float(shown), f"{page} {element}: {cell} vs {shown}"
            checked += 1
    assert checked == len(files) > 50


def test_csv_headers_are_the_table_headers_in_the_readers_language(site, document):
    table = next(t for t in document["tables"] if t["page"] == "chapters/02-overall.md")
    rows = list(csv.reader(io.StringIO((site / table["file"]).read_text(encoding="utf-8-sig"), newline="")))
    assert rows[0][0] == "月份"
    assert all("\u4e00" <= h[0] <= "\u9fff" for h in rows[0]), rows[0]


@pytest.fixture
def recorder():
    where = {"page": ("chapters/03-products.md", "chapters/03-products/")}
    rec = figures.start(lambda: where["page"])
    yield rec
    figures.stop()


def _hand_table() -> Table:
    columns = [Column("商品", numeric=False, kind="dim", dimension="product"),
               Column("净销售额", key="net_sales", metric="net_sales", unit="currency"),
               Column("净销售额同比", kind="change", key="net_sales", metric="net_sales", unit="pct_change",
                      comparison="yoy")]
    rows = [[Cell("=HYPERLINK(\"http://x\")", "=HYPERLINK(\"http://x\")"), Cell("¥31.9万", 318_765.4321),
             Cell("-3.0%", -0.0301234)],
            [Cell("@SUM(A1)", "@SUM(A1)"), Cell("—", None), Cell("+12.5%", 0.125)],
            [Cell("-2 号", "-2 号"), Cell("¥12.00", 12.0), Cell("—", None)]]
    totals = [Cell("合计"), Cell("¥31.9万", 318_777.4321), Cell("+1.0%", 0.01)]
    return Table(columns, rows, totals, caption="各商品", download="商品.csv", period="2025-01-01..2025-12-31")


def test_table_csv_is_raw_and_neutralised(recorder, tmp_path):
    html = components.data_table(_hand_table(), "table-x")
    assert ('href="../../tables/chapters/03-products/table-x.csv" download="商品.csv"' in html)
    figures.write(tmp_path)
    raw = (tmp_path / "tables/chapters/03-products/table-x.csv").read_bytes()
    assert raw == ("\ufeff商品,净销售额,净销售额同比\r\n"
                   '"\'=HYPERLINK(""http://x"")",318765.4321,-0.0301234\r\n'
                   "'@SUM(A1),,0.125\r\n"
                   "'-2 号,12,\r\n"
                   "合计,318777.4321,0.01\r\n").encode("utf-8")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"  # shown as text by Excel, never run


def test_a_table_without_a_name_downloads_as_its_page_and_id(recorder):
    table = Table(_hand_table().columns, _hand_table().rows)
    assert 'download="chapters-03-products-table-y.csv"' in components.data_table(table, "table-y")


def test_table_figures_by_hand(recorder, tmp_path):
    components.data_table(_hand_table(), "table-x")
    figures.write(tmp_path)
    text = (tmp_path / "figures.json").read_text(encoding="utf-8")
    entries = json.loads(text)["figures"]
    assert len(entries) == 8  # 4 rows × 2 numbers
    assert len(text.splitlines()) == 1 + (1 + 8 + 1) + (1 + 1 + 1) + 1  # a line per figure and table: diffable
    first = entries[0]
    assert first == {"page": "chapters/03-products.md", "kind": "table", "element": "table-x",
                     "metric": "net_sales", "column": "net_sales", "comparison": None,
                     "dimensions": {"product": "=HYPERLINK(\"http://x\")"},
                     "period": "2025-01-01..2025-12-31", "value": 318765.4321, "unit": "currency"}
    assert entries[1]["comparison"] == "yoy" and entries[1]["value"] == -0.0301234
    assert entries[2]["value"] is None  # a missing value stays missing, not 0
    assert entries[-2]["dimensions"] == {} and entries[-2]["value"] == 318777.4321  # the totals row


def test_cards_and_inline_values_by_hand(recorder):
    html = components.kpi_grid([Card("aov", "客单价", 185.000344444, "¥185.00", "+1.0%", "up", "同比", "../x/",
                                     unit="currency", period="2025", change=0.0101, change_unit="pct_change",
                                     comparison="yoy")])
    assert 'data-value="185.00034"' in html  # the page: 8 significant digits
    inline = components.inline_value("¥206.00", "net_sales", "../x/", unit="currency", value=206.0, period="2025")
    assert 'data-value="206.0"' in inline
    assert [(f["kind"], f["metric"], f["value"], f["unit"], f["comparison"]) for f in recorder.figures] == [
        ("card", "aov", 185.000344444, "currency", None), ("card", "aov", 0.0101, "pct_change", "yoy"),
        ("value", "net_sales", 206.0, "currency", None)]


def test_cached_macro_output_replays_its_figures(recorder):
    """What a macro call recorded comes back when the cache answers the call instead."""
    before = figures.mark()
    components.data_table(_hand_table(), "table-x")
    saved = json.loads(json.dumps(figures.since(before)))  # as the cache entry keeps it
    figures.start(recorder.where)
    figures.replay(saved)
    assert len(figures.RECORDER.figures) == 8 and len(figures.RECORDER.tables) == 1
    assert figures.RECORDER.figures == recorder.figures and figures.RECORDER.tables == recorder.tables


def test_without_a_build_components_record_nothing():
    figures.stop()
    html = components.data_table(_hand_table(), "table-x")
    assert "fupan-table__download" not in html  # no site to hold the file
    figures.record("card", "", 1.0, "count", "orders")  # no recorder: nothing happens


@pytest.mark.parametrize("value, cell", [
    (12.0, "12"), (0.1 + 0.2, "0.30000000000000004"), (-3.5, "-3.5"), (None, ""), (math.nan, ""),
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-x", "'-x"), ("@a", "'@a"), ("a=b", "a=b"), ("天猫", "天猫"),
])
def test_csv_cell(value, cell):
    assert figures.csv_cell(value) == cell


# ---------------------------------------------------------------------------------------------
# fupan figures
# ---------------------------------------------------------------------------------------------

def test_fupan_figures_prints_the_home_page_cards(site, machine, capsys):
    assert main(["figures", "--site", str(site)]) == 0
    printed = json.loads(capsys.readouterr().out)
    values = [(f["metric"], _shown(f["value"])) for f in printed if f["comparison"] is None]
    assert values == machine["index.md"].cards
    assert len(values) == 8
    assert all(f["page"] == "index.md" and f["kind"] == "card" for f in printed)
    assert main(["figures", "--site", str(site), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["metric"], repr(fmt.embedded_number(float(r["value"])))) for r in rows if not r["comparison"]] == values
    assert main(["figures", "--site", str(site), "--all"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(figures.read(site)["figures"])


def test_fupan_figures_without_a_built_site(tmp_path, capsys):
    assert main(["figures", "--site", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "figures.json not found" in err and "fupan build" in err


# ---------------------------------------------------------------------------------------------
# A table macro on the tiny shop, by hand
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The review context of the tiny shop (groups of one shown)."""
    import shutil

    import tiny
    from fupan.site.context import build_review

    project = tmp_path_factory.mktemp("figures") / "project"
    tiny.write_tiny_data(project / "data")
    # as_of: the tiny shop's orders stop on 11 November but it stands for a whole year
    review = build_review({"review": {"company": "测试", "year": 2025, "locale": "zh-CN",
                                      "min_group_size": 1, "as_of": "2025-12-31"}}, project)
    yield review
    shutil.rmtree(project / ".cache", ignore_errors=True)


def test_table_macro_csv_in_english_with_raw_values(shop, recorder, tmp_path):
    from fupan.site.report_macros import table

    html = table(shop, ["net_sales", "aov"], by="platform", compare="yoy", totals=True, locale="en")
    assert 'download="Net&#95;sales,&#95;Average&#95;order&#95;value&#95;by&#95;platform.csv"' in html
    figures.write(tmp_path)
    path = tmp_path / recorder.tables[0]["file"]
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert rows[0][0] == "Platform" and rows[0][1] == "Net sales"  # the reader's language
    # by hand: 抖音 126 (2 orders, none in 2024), 天猫 70 (2024: 20), 京东 10 (2024: 50)
    assert [r[:3] for r in rows[1:4]] == [["抖音", "126", ""], ["天猫", "70", "2.5"], ["京东", "10", "-0.8"]]
    assert [r[3] for r in rows[1:4]] == ["63", "70", "10"]  # AOV: 126 ÷ 2, 70 ÷ 1, 10 ÷ 1
    assert rows[4][:2] == ["Total", "206"] and rows[4][3] == "51.5"  # 206 ÷ 4 orders
    by_platform = {f["dimensions"].get("platform"): f["value"] for f in recorder.figures
                   if f["metric"] == "net_sales" and f["comparison"] is None}
    assert by_platform == {"抖音": 126.0, "天猫": 70.0, "京东": 10.0, None: 206.0}
    assert {f["period"] for f in recorder.figures} == {"2025-01-01..2025-12-31"}
