"""`fupan pdf`: the whole review as one A4 PDF (issue 20, acceptance 5).

A small sample company is built and printed with the system Chromium; the PDF is read back
with pypdf. Chapter titles come from the built pages' headings, the charts' own words (tick
labels, legends) from the static SVGs in the built pages: nothing expected is typed here.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import CHROMIUM, REPO, STUB_PAGES, build_env
from fupan.presentation import i18n

pytest.importorskip("pypdf")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the system Chromium")

SAMPLE_ORDERS = 3_000


def plain(text: str) -> str:
    """Text as compared here: pypdf adds spaces between runs."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


RADICALS = "[\u2e80-\u2fdf]"


def pattern(text: str) -> str:
    """A regex for `text` as pypdf reads it back: the CJK font names some characters by their
    radical's code point (⽬ for 目, ⻚ for 页), so a Chinese character also matches any radical."""
    return "".join(f"(?:{re.escape(c)}|{RADICALS})" if "\u4e00" <= c <= "\u9fff" else re.escape(c)
                   for c in plain(text))


def has(text: str, haystack: str) -> bool:
    return re.search(pattern(text), haystack) is not None


class _Page(HTMLParser):
    """The article's first heading, its text outside charts, and its static charts' SVGs."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.in_title = False
        self.in_headerlink = False
        self.svgs: list[str] = []
        self.text: list[str] = []
        self.in_article = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "article":
            self.in_article = True
        if self.in_article and tag == "h1" and not self.title:
            self.in_title = True
        if tag == "a" and "headerlink" in (a.get("class") or ""):
            self.in_headerlink = True
        if tag == "img" and "fupan-chart__static" in (a.get("class") or ""):
            src = a.get("src") or ""
            self.svgs.append(base64.b64decode(src.split(",", 1)[1]).decode("utf-8"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self.in_title = False
        if tag == "a":
            self.in_headerlink = False
        if tag == "article":
            self.in_article = False

    def handle_data(self, data: str) -> None:
        if self.in_title and not self.in_headerlink:
            self.title += data
        if self.in_article:
            self.text.append(data)


def read_page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.title = page.title.strip()
    return page


def chart_words(svg: str) -> set[str]:
    """The words a chart draws itself (axis ticks, legend, labels)."""
    return {plain(html.unescape(t)) for t in re.findall(r"<text[^>]*>([^<]+)</text>", svg) if plain(t)}


@pytest.fixture(scope="module")
def printed(tiny_project_factory, tmp_path_factory):
    from fupan.sample.generator import generate

    def sample(data: Path) -> None:
        generate(data, orders=SAMPLE_ORDERS)
        shutil.copy(REPO / "data" / "datasets.yml", data / "datasets.yml")

    project = tiny_project_factory("pdf", data_writer=sample, docs=STUB_PAGES)
    out = tmp_path_factory.mktemp("pdf")
    site, pdf = out / "site", out / "review.pdf"
    fupan = [sys.executable, "-m", "fupan"]
    built = subprocess.run([*fupan, "build", "-d", str(site)], cwd=project, env=build_env(),
                           capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr[-4000:]
    run = subprocess.run([*fupan, "pdf", "--site", str(site), "-o", str(pdf)], cwd=project, env=build_env(),
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-4000:]
    return project, site, pdf


def nav_files(project: Path) -> list[str]:
    """The review's pages in mkdocs.yml's nav: chapters and the appendix, not the writers' pages."""
    from screenshots import nav_pages

    return [path for _, path in nav_pages(project) if not path.startswith(("guide/", "gallery/"))]


def test_pdf_has_every_chapter_page_numbers_contents_and_charts(printed) -> None:
    from pypdf import PdfReader

    project, site, pdf = printed
    reader = PdfReader(pdf)
    pages = [plain(p.extract_text()) for p in reader.pages]
    total = len(pages)
    assert reader.pages[0].mediabox.width == pytest.approx(595.92, abs=1)  # A4: 210 mm
    assert reader.pages[0].mediabox.height == pytest.approx(842.88, abs=1)  # 297 mm

    # Cover: company, year, the review's name and the data's end date, from the settings and data.
    cover = pages[0]
    for word in ("山野良品", i18n.text("time.year", "zh-CN", year=2025), i18n.text("print.title", "zh-CN"),
                 i18n.text("print.as_of", "zh-CN", date="2025年12月31日")):
        assert has(word, cover), word
    assert "/" not in cover  # the cover has no footer ("第 N 页 / 共 M 页")

    # Every other page: "第 N 页 / 共 M 页" in the footer.
    for n, text in enumerate(pages[1:], start=2):
        assert has(i18n.text("print.page", "zh-CN", page=n, total=total), text), f"page {n}"

    # Every page of the review's navigation, in order, each starting on a page of its own; the
    # contents page lists each title with that page's number.
    chapters = [read_page(site / (path + "index.html")) for path in nav_files(project)]
    assert len(chapters) >= 10 and all(c.title for c in chapters)
    contents = pages[1]
    assert has(i18n.text("print.contents", "zh-CN"), contents)
    starts = []
    for chapter in chapters:
        title = pattern(chapter.title)
        first = next((n for n in range(2, total) if re.match(title, pages[n])), None)
        assert first is not None, f"no page starts with {chapter.title!r}"
        assert first > (starts[-1] if starts else 1), f"{chapter.title!r} is out of order"
        starts.append(first)

    # The contents: each title followed by its page's number (1-based), in order; as one pattern
    # because the numbers run into the next title ("…复盘3" + "01 引言").
    listed = "".join(f"{pattern(c.title)}{n + 1}" for c, n in zip(chapters, starts, strict=True))
    assert re.search(listed, contents), f"contents should list pages {[n + 1 for n in starts]}"

    # Every chart of every chapter is printed as vector content: the words the chart draws itself
    # (and the page's HTML does not say) are text in that chapter's pages.
    charted = 0
    for chapter, start, end in zip(chapters, starts, [*starts[1:], total], strict=True):
        html_words = plain("".join(chapter.text))  # what the page says outside its charts
        printed_text = "".join(pages[start:end])
        checked = found = 0
        for svg in chapter.svgs:
            own = {w for w in chart_words(svg) if w not in html_words and len(w) > 1}
            if own:  # a chart whose every word the page also says cannot be told apart by text
                checked += 1
                found += any(has(w, printed_text) for w in own)
        assert checked or not chapter.svgs, f"{chapter.title}: no chart could be checked"
        # The acceptance: at least one chart per chapter. (Not every one: a chart whose own words
        # are only numbers such as 1,000 can come back from the PDF's text split differently.)
        assert found or not checked, f"{chapter.title}: no chart of the chapter is in the PDF"
        charted += bool(found)
    # The home page and the chapters have charts; a page whose charts draw only words its text
    # also says (one, since the readers' menu changed) cannot be told apart by text.
    assert charted >= 7, "the home page and the chapters have charts"


def test_pdf_without_chromium_says_how_to_install_it(tmp_path, monkeypatch, capsys) -> None:
    from fupan import cli
    from fupan.site import printing

    monkeypatch.setattr(printing, "CHROMIUM", tmp_path / "no-chromium")
    code = cli.main(["-f", str(tmp_path / "mkdocs.yml"), "pdf", "-o", str(tmp_path / "x.pdf")])
    err = capsys.readouterr().err
    assert code == 1
    assert "apt-get install -y chromium" in err and "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()
