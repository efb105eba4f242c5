"""#19 acceptance 3: on the sample site and on the orders-only site, every table's total row equals
the headline figure of the same metric and period, and no product, category or country is merged
into 其他 by default.

The total row is read from the HTML (its cells' data-sort-value), the metric and period of each
of its cells from figures.json (which the same cells wrote); the headline is the KPI cards' figure
of that metric and period, wherever a card shows it, and the engine's value of the metric for the
whole period, computed without any breakdown: the total must equal both.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_build
from fupan.data.contract import load_contract
from fupan.semantics.catalogue import load_catalogue
from fupan.semantics.periods import parse_period
from test_absent import only_orders
from tiny import make_project

# Dimensions whose values name things, not people: never merged into 其他 by default.
THINGS = {"product", "sku", "category", "country", "platform", "channel", "campaign", "keyword", "supplier"}


class _TotalRows(HTMLParser):
    """Each table's id and the data-sort-value of every numeric cell of its total row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.totals: dict[str, list[float | None]] = {}
        self._table: str | None = None
        self._in_total = False
        self._numeric: list[bool] = []
        self._column = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "div" and "fupan-table" in (values.get("class") or "").split():
            self._table, self._numeric = values.get("id"), []
        elif tag == "th" and self._table and "data-type" in values:
            self._numeric.append(values["data-type"] == "number")
        elif tag == "tr" and self._table and "fupan-table__total" in (values.get("class") or ""):
            self._in_total, self._column = True, 0
            self.totals[str(self._table)] = []
        elif tag in ("td", "th") and self._in_total:
            if self._numeric[self._column]:
                raw = values.get("data-sort-value")
                self.totals[str(self._table)].append(None if raw in (None, "") else float(raw))
            self._column += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._in_total = False


def _mkdocs_review_settings(project: Path) -> dict:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)  # !ENV, !!python/name: …
    return yaml.load((project / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)["extra"]


def check_site(site: Path, project: Path) -> tuple[int, int]:
    """Assert acceptance 3 on a built site; return (total cells checked, of which against a card)."""
    from fupan.site.context import build_review

    figures = json.loads((site / "figures.json").read_text(encoding="utf-8"))["figures"]
    headlines: dict[tuple[str, str], list[float]] = {}
    for entry in figures:
        # KPI cards take no filters (an inline figure may: a member's frequency is no headline)
        if entry["kind"] == "card" and entry["comparison"] is None and entry["value"] is not None:
            headlines.setdefault((entry["metric"], entry["period"]), []).append(entry["value"])
    total_cells: dict[tuple[str, str], list[dict]] = {}  # (page source, table id): its total row
    for entry in figures:
        if entry["kind"] == "table" and not entry["dimensions"]:
            total_cells.setdefault((entry["page"], entry["element"]), []).append(entry)
    sources = {entry["page"] for entry in figures}

    review = build_review(_mkdocs_review_settings(project), project)
    checked = on_cards = 0
    wrong = []
    # another edition of the review (site/en/) has its own figures file: checked on its own
    editions = [p for p in sorted(site.iterdir()) if p.is_dir() and (p / "figures.json").is_file()]
    for page in sorted(site.rglob("*.html")):
        if any(page.is_relative_to(edition) for edition in editions):
            continue
        parser = _TotalRows()
        parser.feed(page.read_text(encoding="utf-8"))
        url = page.relative_to(site).as_posix().removesuffix("index.html")
        source = next((s for s in (url.rstrip("/") + ".md", url + "index.md") if s in sources), url)
        for element, values in parser.totals.items():
            entries = total_cells.get((source, element))
            assert entries is not None, f"{page}: total row of {element} is not in figures.json"
            # the page embeds a value to 8 significant digits (fmt.embedded_number), figures.json unrounded
            recorded = [e["value"] for e in entries]
            assert [v is None for v in values] == [v is None for v in recorded], f"{page}: {element}"
            assert [v for v in values if v is not None] == pytest.approx(
                [v for v in recorded if v is not None], rel=1e-7, abs=1e-12), f"{page}: {element} vs figures.json"
            for entry in entries:
                if entry["comparison"] is not None or entry["value"] is None:
                    continue  # a change, or no value (a figure hidden for privacy)
                metric, period = entry["metric"], entry["period"]
                assert metric, f"{page}: {element} column {entry['column']} totals no catalogue metric"
                shown = headlines.get((metric, period), [])
                on_cards += bool(shown)
                expected = [*shown, review.engine.value(metric, parse_period(period))]
                checked += 1
                if not all(v == pytest.approx(entry["value"], rel=1e-9, abs=1e-9) for v in expected):
                    wrong.append((entry["page"], element, metric, period, entry["value"], expected))
    assert not wrong, "total rows that are not the headline figure:\n" + "\n".join(map(str, wrong))

    catalogue = load_catalogue(load_contract(project / "data" / "datasets.yml"))
    merged = {d for e in figures if e["kind"] == "table" for d, v in e["dimensions"].items() if v == "其他"}
    assert not merged & THINGS, f"merged into 其他: {merged & THINGS}"
    assert merged <= catalogue.people_dimensions, merged - catalogue.people_dimensions
    for edition in editions:
        more = check_site(edition, project)
        checked, on_cards = checked + more[0], on_cards + more[1]
    return checked, on_cards


def test_every_total_row_of_the_sample_site_is_the_headline_figure(built_site) -> None:
    if built_site.project != REPO:
        pytest.skip("the sample site is the repo's (FUPAN_BROWSER_PROJECT=tiny builds the tiny shop)")
    checked, on_cards = check_site(built_site.site_dir, REPO)
    assert checked >= 90 and on_cards >= 70  # the sample site's total rows: about 100 figures, most on cards


@pytest.fixture(scope="module")
def orders_only(tmp_path_factory: pytest.TempPathFactory):
    # The default settings: min_group_size 5, more than the tiny shop's 3 buyers.
    project = make_project(tmp_path_factory.mktemp("orders-only-totals") / "project", data_writer=only_orders)
    result = run_build(project, project / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    yield project
    shutil.rmtree(project, ignore_errors=True)


def test_every_total_row_of_the_orders_only_site_is_the_headline_figure(orders_only: Path) -> None:
    checked, _ = check_site(orders_only / "site", orders_only)
    assert checked >= 1
    figures = json.loads((orders_only / "site" / "figures.json").read_text(encoding="utf-8"))["figures"]
    # the things the tiny shop sells and where: shown by name (2 SKUs, 2 categories, 3 platforms)
    shown = {d: {e["dimensions"][d] for e in figures if e["kind"] == "table" and d in e["dimensions"]}
             for d in ("sku", "category", "platform")}
    assert {d: v for d, v in shown.items() if v} and all("其他" not in v for v in shown.values())
    assert re.search(r"P1|坚果礼盒", json.dumps(figures, ensure_ascii=False))
