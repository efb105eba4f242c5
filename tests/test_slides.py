"""The slide deck (slides/index.html, `fupan slides`).

The first tests cut small hand-written articles into slides; the others read the repo's built
site (conftest.py): every chapter has slides, the deck's numbers are the pages' own, the keys
and the URL hash move through it in Chromium, and `fupan slides --pdf` prints one 16:9 page a
slide.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from fupan.site import slides

# ---------------------------------------------------------------------------
# Cutting articles into slides (no build)
# ---------------------------------------------------------------------------


def _svg(width: int, height: int) -> str:
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _figure(name: str, width: int, height: int) -> str:
    return (f'<figure class="fupan-chart" id="chart-{name}" tabindex="0"><div class="fupan-chart__view" role="img" '
            f'aria-label="{name}：峰值在11月" data-spec="{{}}"></div><img class="fupan-chart__static" alt="" '
            f'aria-hidden="true" src="{_svg(width, height)}"><p class="fupan-sr-only">{name}</p>'
            f"<figcaption>{name}</figcaption></figure>\n")


def _h(level: int, text: str) -> str:
    return f'<h{level} id="x">{text}<a class="headerlink" href="#x" title="Permanent link">&para;</a></h{level}>\n'


CARD = ('<a class="fupan-kpi" href="../../definitions/#{m}" data-metric="{m}">'
        '<span class="fupan-kpi__label">{m}</span><span class="fupan-kpi__value" data-value="{v}">{v}</span>'
        '<svg class="fupan-spark"><polyline points="0,1 2,3"/></svg></a>')

CHAPTER = (
    _h(1, "02 整体回顾")
    + '<div class="admonition info fupan-callout"><p class="admonition-title">本章要点</p>'
      '<p class="fupan-finding">峰值在<strong>11月</strong>。</p>'
      '<p class="fupan-finding">目标达成率 <strong>95.3%</strong>。</p></div>\n'
    + "<p>本章从四个方面回顾。</p>\n"
    + _h(2, "2.1 销售") + _h(3, "概览")
    + '<div class="fupan-kpis">' + CARD.format(m="gmv", v="100.0") + CARD.format(m="orders", v="7.0") + "</div>\n"
    + _h(3, "趋势") + _figure("净销售额：按月趋势", 600, 300) + _figure("满意度分布", 680, 120)
    + _figure("NPS 分布", 680, 120)
    + '<div class="admonition note">\n<p class="admonition-title">分析师点评（示例）</p>\n'
      '<p>增长来自<a class="fupan-inline" href="../../definitions/#orders" data-metric="orders">订单</a>。</p>'
      "\n</div>\n"
    + _h(2, "2.2 团队") + '<div class="fupan-table"><table><tr><td>1</td></tr></table></div>\n'
    + '<div class="admonition note fupan-notice"><p class="admonition-title">缺少数据</p><p>缺少数据：…</p></div>\n'
    + '<div class="admonition note">\n<p class="admonition-title">分析师点评（示例）</p>\n<p>团队稳定。</p>\n</div>\n'
)


def test_a_chapter_is_cut_into_its_cards_charts_and_findings():
    title, cut = slides.page_slides(CHAPTER)
    assert title == "02 整体回顾"
    assert [s.kind for s in cut] == ["findings", "kpis", "charts", "charts", "table"]
    findings, kpis, trend, strips, section = cut
    assert findings.body.count("<li>") == 2 and "<strong>95.3%</strong>" in findings.body
    # The cards as the page has them, without their links (a click turns the slide).
    assert re.findall(r'data-metric="(\w+)"><span class="fupan-kpi__label">', kpis.body) == ["gmv", "orders"]
    assert re.findall(r'data-value="([\d.]+)"', kpis.body) == ["100.0", "7.0"]
    assert "href" not in kpis.body and "<a " not in kpis.body
    assert 'class="fupan-kpis fupan-kpis--2"' in kpis.body
    assert "<h2>概览</h2>" in kpis.body and "02 整体回顾 · 2.1 销售" in kpis.body
    # A chart of its own; two wide strips of one heading share a slide, stacked.
    assert trend.body.count("<figure") == 1 and "fupan-deck-charts--single-1" in trend.body
    assert 'alt="净销售额：按月趋势：峰值在11月"' in trend.body and "aria-hidden" not in trend.body
    assert strips.body.count("<figure") == 2 and "fupan-deck-charts--rows-2" in strips.body
    # The section's commentary is the notes of its slides; a section of tables gets a slide for its own.
    assert findings.notes == []
    for slide in (kpis, trend, strips):
        assert len(slide.notes) == 1 and "增长来自<span" in slide.notes[0] and "href" not in slide.notes[0]
    assert "<h2>2.2 团队</h2>" in section.body and len(section.notes) == 1 and "团队稳定。" in section.notes[0]
    assert '<div class="fupan-deck-table"><table><tr><td>1</td></tr></table></div>' in section.body
    assert not any("缺少数据" in note for slide in cut for note in slide.notes)  # a notice is not commentary


def test_svg_aspect_reads_the_static_chart_size():
    assert slides.svg_aspect(f'<img src="{_svg(680, 120)}">') == pytest.approx(680 / 120)
    assert slides.svg_aspect('<img src="chart.png">') == 1.0


SETTINGS = slides.DeckSettings(company="测试小店", year=2031, compare_year=2030, period="2031年1月1日 – 2031年12月31日",
                               as_of="2031年11月30日", locale="zh-CN")

HOME = (_h(1, "测试小店 2031 年复盘") + _h(2, "年度核心指标") + '<div class="fupan-kpis">'
        + CARD.format(m="net_sales", v="5.0") + "</div>\n")


def test_the_deck_opens_with_title_and_contents_and_ends_with_thanks():
    deck = slides.deck_slides([(True, HOME), (False, CHAPTER)], SETTINGS)
    assert [s.kind for s in deck] == ["title", "agenda", "kpis", "chapter", "findings", "kpis", "charts", "charts",
                                      "table", "closing"]
    title = deck[0].body
    assert "测试小店 2031 年电商运营年终复盘" in title and "2030" in title
    assert "2031年1月1日 – 2031年12月31日" in title and "2031年11月30日" in title
    assert re.findall(r"<li>(.*?)</li>", deck[1].body) == ["年度摘要", "02 整体回顾"]
    assert "<h1>02 整体回顾</h1>" in deck[3].body and "<li>2.1 销售</li><li>2.2 团队</li>" in deck[3].body
    assert "年度摘要" in deck[2].body
    english = slides.deck_slides([(True, HOME)], slides.DeckSettings(**{**SETTINGS.__dict__, "locale": "en"}))
    assert "测试小店 2031 e-commerce year-end review" in english[0].body and "Thank you" in english[-1].body
    # A table too large for a slide is left on the page (the section keeps a slide for its notes).
    rows = "".join(f"<tr><td>{n}</td></tr>" for n in range(slides.DENSE_ROWS + 1))
    large = (_h(1, "08 明细") + _h(2, "8.1 全部") + f'<div class="fupan-table"><table>{rows}</table></div>\n'
             + '<div class="admonition note"><p class="admonition-title">点评</p><p>略。</p></div>\n')
    assert [(s.kind, "<table" in s.body) for s in slides.page_slides(large)[1]] == [("section", False)]
    # A chapter with nothing to show (tables only, no commentary) still has its divider slide.
    bare = _h(1, "09 附表") + _h(2, "9.1 明细") + '<div class="fupan-table"><table></table></div>\n'
    assert [s.kind for s in slides.deck_slides([(False, bare)], SETTINGS)] == ["title", "agenda", "chapter", "closing"]


def test_the_deck_page_numbers_its_slides_and_loads_only_its_own_assets():
    deck = slides.deck_slides([(True, HOME), (False, CHAPTER)], SETTINGS)
    page = slides.deck_html(deck, SETTINGS)
    assert re.findall(r'data-slide="(\d+)"', page) == [str(n) for n in range(1, len(deck) + 1)]
    assert f'data-total="{len(deck)}"' in page and f"1 / {len(deck)}" in page
    assert page.count('<aside class="fupan-slide__notes" hidden><div class="fupan-note">') == 4
    urls = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert urls and all(u.startswith("../") or u.startswith("data:") for u in urls), urls
    assert '<html lang="zh-CN">' in page


def _page(home: bool = False, parent: object = None, meta: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(is_homepage=home, parent=parent, previous_page=None, next_page=None, meta=meta or {})


def test_pages_follow_the_navigation_and_skip_what_it_left_out():
    home, first, left_out, second, appendix = _page(True), _page(), _page(), _page(), _page(parent=object())
    not_shown = _page(meta={"slides": False})  # the writer left it out of the deck
    # The navigation's chain without the left-out chapter (chapters.py relinks its neighbours).
    for before, after in [(home, first), (first, not_shown), (not_shown, second), (second, appendix)]:
        before.next_page, after.previous_page = after, before
    kept = slides.DeckPages()
    shown = {}
    for page, name in [(second, "second"), (appendix, "appendix"), (left_out, "left"), (first, "first"),
                       (home, "home"), (not_shown, "not shown")]:
        html = f'<article class="md-content__inner md-typeset"><h1 id="t">{name}</h1><p>x</p></article>'
        shown[name] = kept.keep(page, html, "zh-CN")
    assert [article.split("</h1>")[0][len('<h1 id="t">'):] for _, article in kept.in_order()] == [
        "home", "first", "second"]
    assert [is_home for is_home, _ in kept.in_order()] == [True, False, False]
    assert f'</h1><p class="fupan-deck-link"><a href="{slides.DECK_PATH}">' in shown["home"]
    assert "fupan-deck-link" not in shown["first"] and shown["appendix"].endswith("<p>x</p></article>")


def test_printing_without_chromium_says_how_to_install_it(tmp_path):
    deck = tmp_path / "index.html"
    deck.write_text("<main></main>", encoding="utf-8")
    with pytest.raises(slides.SlidesError, match=r"apt-get install -y chromium"):
        slides.print_pdf(deck, tmp_path / "deck.pdf", chromium=tmp_path / "no-chromium")


def test_slides_command_on_a_site_without_a_deck(tmp_path, capsys):
    from fupan.cli import main

    assert main(["slides", "--site", str(tmp_path)]) == 1
    assert "holds no deck (slides/index.html)" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# The repo's built site
# ---------------------------------------------------------------------------


class _Tagged(yaml.SafeLoader):
    """mkdocs.yml's !ENV and python tags read as None."""


_Tagged.add_multi_constructor("!", lambda loader, suffix, node: None)
_Tagged.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def _top_pages(project: Path) -> list[str]:
    """The site paths of the navigation's top-level pages (the home page and the chapters)."""
    config = yaml.load((project / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Tagged)
    paths = []
    for item in config["nav"]:
        target = item if isinstance(item, str) else next(iter(item.values()))
        if isinstance(target, str):
            stem = target[: -len(".md")]
            paths.append("" if stem == "index" else stem + "/")
    return paths


def _article(site: Path, path: str) -> str:
    return slides.article_of((site / path / "index.html").read_text(encoding="utf-8"))


def _deck_sections(site: Path) -> list[tuple[str, str]]:
    """(kind, HTML) of every slide of the built deck."""
    page = (site / slides.DECK_PATH).read_text(encoding="utf-8")
    return re.findall(r'<section class="fupan-slide fupan-slide--(\w+)"(.*?)</section>', page, re.S)


def _by_chapter(site: Path) -> dict[str, list[tuple[str, str]]]:
    """The deck's slides after each chapter's divider (keyed by the chapter's title text)."""
    out: dict[str, list[tuple[str, str]]] = {}
    current = None
    for kind, body in _deck_sections(site):
        if kind == "chapter":
            current = slides.plain(re.search(r"<h1>(.*?)</h1>", body).group(1))
            out[current] = []
        elif kind == "closing":
            current = None
        elif current is not None:
            out[current].append((kind, body))
    return out


def _cards(html: str) -> list[tuple[str, str]]:
    """(metric, data-value) of every KPI card, in order."""
    return re.findall(r'class="fupan-kpi"[^>]*data-metric="(\w+)">.*?data-value="([^"]+)"', html, re.S)


def _chapters(built_site) -> list[tuple[str, str]]:
    """(site path, title) of every chapter of the navigation."""
    out = []
    for path in _top_pages(built_site.project):
        if path:
            h1 = re.search(r"<h1[^>]*>(.*?)</h1>", _article(built_site.site_dir, path), re.S)
            out.append((path, slides.plain(slides._HEADERLINK.sub("", h1.group(1)))))
    return out


def test_every_chapter_has_slides(built_site):
    chapters = _chapters(built_site)
    assert len(chapters) >= 3
    deck = _by_chapter(built_site.site_dir)
    assert list(deck) == [title for _, title in chapters]
    for title, own in deck.items():
        assert own, f"chapter {title} has no slide"
        assert {kind for kind, _ in own} <= {"kpis", "charts", "findings", "table", "section"}
    kinds = {kind for own in deck.values() for kind, _ in own}
    assert {"kpis", "charts", "findings"} <= kinds


def test_the_slides_show_the_sites_numbers(built_site):
    site = built_site.site_dir
    deck = _by_chapter(site)
    compared = 0
    for path, title in _chapters(built_site):
        on_page = _cards(_article(site, path))
        on_slides = _cards("".join(body for _, body in deck[title]))
        assert on_slides == on_page, f"{title}: the slides' cards differ from the page's"
        compared += len(on_page)
        # The findings are the page's sentences (computed ones, or a writer's callout text).
        page_findings = []
        for block in slides.blocks(_article(site, path)):
            if "fupan-callout" in block.classes:
                found = re.findall(r'<p class="fupan-finding">(.*?)</p>', block.inner, re.S)
                page_findings += [slides.plain(f) for f in found or re.findall(r"<p>(.*?)</p>", block.inner, re.S)]
        slide_findings = [slides.plain(f) for kind, body in deck[title] if kind == "findings"
                          for f in re.findall(r"<li>(.*?)</li>", body, re.S)]
        assert slide_findings == page_findings
    assert compared >= 20
    # The home page's cards open the deck, after the title and contents slides.
    home = _cards(_article(site, ""))
    sections = _deck_sections(site)
    assert home and _cards(sections[2][1]) == home


def test_the_writers_commentary_is_in_the_notes(built_site):
    site = built_site.site_dir
    deck = _by_chapter(site)
    for path, title in _chapters(built_site):
        notes = " ".join(slides.plain(n) for _, body in deck[title]
                         for n in re.findall(r'<div class="fupan-note">(.*?)</div>', body, re.S))
        for box in re.findall(r'<div class="admonition note">(.*?)</div>', _article(site, path), re.S):
            text = slides.plain(re.sub(r'<p class="admonition-title">.*?</p>', "", box))
            assert text and text in notes, f"{title}: commentary missing from the notes: {text[:40]}"


def test_the_home_page_links_to_the_deck(built_site):
    home = (built_site.site_dir / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{slides.DECK_PATH}">' in home
    assert (built_site.site_dir / slides.DECK_PATH).exists()


# ---------------------------------------------------------------------------
# In Chromium
# ---------------------------------------------------------------------------


def _fupan() -> list[str]:
    fupan = Path(sys.executable).with_name("fupan")
    return [str(fupan)] if fupan.exists() else [sys.executable, "-m", "fupan"]


def _at(page, total: int) -> int:
    """The slide shown: the counter, the hash and the visible slide agree."""
    counter = page.locator(".fupan-deck__counter").inner_text()
    number = int(counter.split("/")[0])
    assert counter == f"{number} / {total}"
    assert page.evaluate("location.hash") == f"#{number}"
    shown = page.locator(".fupan-slide:visible")
    assert shown.count() == 1 and shown.get_attribute("data-slide") == str(number)
    return number


def test_keys_clicks_and_the_hash_move_through_the_deck(page, site_server, built_site):
    total = len(_deck_sections(built_site.site_dir))
    page.goto(site_server + slides.DECK_PATH)
    page.wait_for_selector(".fupan-slide.is-current")
    assert _at(page, total) == 1
    for key, expected in [("ArrowRight", 2), ("PageDown", 3), (" ", 4), ("ArrowLeft", 3), ("PageUp", 2),
                          ("ArrowDown", 3), ("ArrowUp", 2), ("End", total), ("ArrowRight", total), ("Home", 1),
                          ("ArrowLeft", 1)]:
        page.keyboard.press(key)
        assert _at(page, total) == expected, key
    page.goto(site_server + slides.DECK_PATH + "#5")
    page.reload()
    assert _at(page, total) == 5  # a reload stays on the slide
    width = page.viewport_size["width"]
    page.mouse.click(width * 0.8, 300)
    assert _at(page, total) == 6
    page.mouse.click(width * 0.1, 300)
    assert _at(page, total) == 5
    page.locator(".fupan-deck__next-button").click()
    assert _at(page, total) == 6
    page.keyboard.press("b")  # a black screen, then back on the same slide
    assert page.locator(".fupan-slide:visible").count() == 0
    page.keyboard.press("b")
    assert _at(page, total) == 6
    # The slide is scaled to the window, 16:9, whole.
    box = page.locator(".fupan-slide.is-current").bounding_box()
    assert box["width"] / box["height"] == pytest.approx(16 / 9, rel=0.01)
    assert box["x"] >= -0.5 and box["y"] >= -0.5 and box["x"] + box["width"] <= width + 0.5


def test_the_presenter_view_shows_the_notes_and_the_next_slide(page, site_server, built_site):
    sections = _deck_sections(built_site.site_dir)
    with_notes = next(n for n, (_, body) in enumerate(sections, 1) if 'class="fupan-note"' in body)
    page.goto(site_server + slides.DECK_PATH + f"#{with_notes}")
    page.wait_for_selector(".fupan-slide.is-current")
    assert page.locator(".fupan-deck__presenter").is_hidden()
    page.keyboard.press("n")
    assert page.locator(".fupan-deck__presenter").is_visible()
    expected = slides.plain("".join(re.findall(r'<aside class="fupan-slide__notes" hidden>(.*?)</aside>',
                                               sections[with_notes - 1][1], re.S)))
    assert slides.plain(page.locator(".fupan-deck__notes").inner_html()) == expected
    preview = page.locator(".fupan-deck__next .fupan-slide")
    assert preview.get_attribute("data-slide") == str(with_notes + 1)
    page.keyboard.press("ArrowRight")
    assert page.locator(".fupan-deck__next .fupan-slide").get_attribute("data-slide") == str(with_notes + 2)
    page.keyboard.press("n")
    assert page.locator(".fupan-deck__presenter").is_hidden()


def test_the_home_pages_link_opens_the_deck_in_the_sites_colours(page, site_server, built_site):
    total = len(_deck_sections(built_site.site_dir))
    page.goto(site_server)
    page.locator(".fupan-deck-link a").click()
    page.wait_for_selector(".fupan-slide.is-current")
    assert _at(page, total) == 1
    assert page.locator("body").get_attribute("data-scheme") == "light"  # the context's system scheme
    # The reader chose the dark palette on the site (Material keeps it in localStorage).
    page.evaluate("""localStorage.setItem(new URL('..', location.href).pathname + '.__palette',
                     JSON.stringify({index: 1, color: {scheme: 'slate', primary: 'indigo', accent: 'indigo'}}))""")
    page.reload()
    assert page.locator("body").get_attribute("data-scheme") == "dark"


def test_slides_pdf_prints_one_16_9_page_a_slide(built_site, tmp_path):
    from pypdf import PdfReader

    out = tmp_path / "deck.pdf"
    result = subprocess.run([*_fupan(), "slides", "--site", str(built_site.site_dir), "--pdf", str(out)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    pages = PdfReader(str(out)).pages
    assert len(pages) == len(_deck_sections(built_site.site_dir))
    for pdf_page in pages:
        assert float(pdf_page.mediabox.width) / float(pdf_page.mediabox.height) == pytest.approx(16 / 9, rel=0.005)
    assert "one 16:9 page each" in result.stdout


# ---------------------------------------------------------------------------
# A shop with orders only: the chapters the navigation leaves out are not in the deck
# ---------------------------------------------------------------------------


def test_chapters_left_out_of_the_navigation_are_left_out_of_the_deck(tmp_path):
    from conftest import build_env
    from test_absent import only_orders
    from tiny import make_project

    project = make_project(tmp_path / "project", data_writer=only_orders)
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    (project / "mkdocs.yml").write_text(config.replace("  review:\n", "  review:\n    min_group_size: 1\n", 1),
                                        encoding="utf-8")
    site = project / "site"
    # `fupan slides` builds the site (strict, like `fupan build`) and says where the deck is.
    result = subprocess.run([*_fupan(), "-f", str(project / "mkdocs.yml"), "slides", "-d", str(site)],
                            cwd=project, env=build_env(), capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"the deck is {site / slides.DECK_PATH}" in result.stdout
    home = (site / "index.html").read_text(encoding="utf-8")
    in_nav = re.findall(r'<a href="(chapters/[^"]+/)" class="md-tabs__link">', home)
    built = sorted(p.parent.relative_to(site).as_posix() + "/" for p in site.glob("chapters/*/index.html"))
    assert set(in_nav) < set(built), "the orders-only shop should leave chapters out of the navigation"
    titles = []
    for path in in_nav:
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", _article(site, path), re.S).group(1)
        titles.append(slides.plain(slides._HEADERLINK.sub("", h1)))
    assert list(_by_chapter(site)) == titles
