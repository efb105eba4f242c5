"""Issue 20 acceptance 4: the sample review's English edition (site/en/) holds no Chinese
character in what it says itself — navigation, headings, callout titles, notices, generated
sentences, the writers' text — only in data values (product, category, campaign names …) and
in the language switch's 中文. Every page is `<html lang="en">`.

Data values are every text value of the sample's data files, read independently of fupan
(DuckDB over the files), and the platforms' own words the import guide quotes from the presets
(an export's column headers and status words, the seller backend's menu names that the English
steps give in brackets, as the reader sees them on screen): a run of Chinese characters on a page
passes when it is a run of Chinese characters of one of those.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
import yaml

PRESETS = Path(__file__).resolve().parents[1] / "macros" / "fupan" / "intake" / "presets"

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]+")
SKIPPED = {"script", "style", "template"}


class _VisibleText(HTMLParser):
    """The text a reader sees (and that screen readers read), without the language switch."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "path", "rect", "line"):
            if tag == "img":
                self.parts.append(dict(attrs).get("alt") or "")
            return
        values = dict(attrs)
        hidden = (tag in SKIPPED or "md-select" in (values.get("class") or "")
                  or (self.stack and self.stack[-1][1]))
        self.stack.append((tag, bool(hidden)))
        for name in ("title", "aria-label", "placeholder"):
            if values.get(name) and not hidden:
                self.parts.append(values[name] or "")

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1][1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def data_runs(data_dir: Path) -> set[str]:
    """Every run of Chinese characters in a text value of the sample's data files."""
    values: set[str] = set()
    con = duckdb.connect()
    for path in sorted(data_dir.iterdir()):
        if path.suffix == ".parquet":
            source = f"read_parquet('{path}')"
        elif path.suffix == ".csv":
            source = f"read_csv('{path}', all_varchar=true, header=true)"
        else:
            continue
        columns = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        for name, kind, *_ in columns:
            if kind != "VARCHAR":
                continue
            rows = con.execute(f'SELECT DISTINCT "{name}" FROM {source} WHERE regexp_matches("{name}", '
                               r"'[\x{3400}-\x{9fff}]')").fetchall()
            values.update(run for (v,) in rows if v for run in CJK.findall(str(v)))
    return values


def platform_words() -> set[str]:
    """The runs of Chinese characters of the presets' quoted platform words (see the docstring)."""
    words: list[str] = []

    def strings(value) -> None:
        if isinstance(value, str):
            words.append(value)
        elif isinstance(value, list):
            for item in value:
                strings(item)
        elif isinstance(value, dict):
            for item in value.values():
                strings(item)

    for path in sorted(PRESETS.glob("*.yml")):
        preset = yaml.safe_load(path.read_text(encoding="utf-8"))
        strings(preset.get("platform"))
        strings((preset.get("guide") or {}).get("en"))
        export = preset.get("export") or {}
        strings([column.get("header") for column in (export.get("columns") or {}).values()
                 if isinstance(column, dict)])
        strings(export.get("rules"))
    return {run for word in words for run in CJK.findall(word)}


@pytest.fixture(scope="module")
def english_pages(built_site) -> dict[str, str]:
    root = built_site.site_dir / "en"
    assert root.is_dir(), "the build made no English edition (site/en/)"
    return {p.relative_to(built_site.site_dir).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*.html"))}


def test_every_english_page_says_it_is_english(english_pages: dict[str, str], built_site) -> None:
    chinese = sorted(p.relative_to(built_site.site_dir).as_posix() for p in built_site.site_dir.rglob("*.html")
                     if not p.relative_to(built_site.site_dir).as_posix().startswith("en/"))
    assert len(english_pages) == len(chinese)  # every page has its English edition
    wrong = [page for page, html in english_pages.items() if '<html lang="en"' not in html]
    assert not wrong


def test_no_chinese_outside_data_values_on_any_english_page(english_pages: dict[str, str], built_site) -> None:
    runs = data_runs(built_site.project / "data")
    assert "个护清洁" in runs  # a category of the sample: the reading of the data works
    quoted = platform_words()
    assert {"商家工作台", "订单号"} <= quoted  # JD's backend and its order id column
    runs |= quoted
    found = []
    for page, html in english_pages.items():
        text = " ".join(visible_text(html).split())
        for match in CJK.finditer(text):
            if match.group() not in runs:
                found.append(f"{page}: …{text[max(0, match.start() - 40):match.end() + 40]}…")
                break
    assert not found, "\n".join(found)


def test_the_data_sources_name_each_dataset_in_the_readers_language(built_site) -> None:
    """Chapter 01's data-sources table names a dataset as the catalogue does (订单 / Orders), not
    by the contract's id (orders)."""
    def first_column(path: str) -> list[str]:
        html = (built_site.site_dir / path).read_text(encoding="utf-8")
        table = html[html.index('fupan-datasets'):]
        table = table[:table.index("</table>")]
        return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<tr>\s*<td[^>]*>(.*?)</td>", table, re.S)]

    zh = first_column("chapters/01-introduction/index.html")
    en = first_column("en/chapters/01-introduction/index.html")
    assert zh[:3] == ["订单", "订单明细", "商品档案"]
    assert en[:3] == ["Orders", "Order lines", "Product master"]
