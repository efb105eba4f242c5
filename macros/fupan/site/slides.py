"""The review as a 16:9 slide deck for the year-end meeting, written to `slides/index.html`.

The deck has no source of its own: once every page is written, it takes the home page and each
chapter (the top-level pages of the navigation, in its order) as rendered, and cuts their
articles into slides: the headline KPI cards, the charts (their static SVGs), the callouts of
computed findings, and the writers' commentary (the `!!! note` boxes) as presenter notes. The
numbers are the pages' own HTML, so the deck always shows what the site shows.

Slides are laid out at 1280×720 CSS pixels and scaled to the screen by fupan-slides.js; printed
(`fupan slides --pdf`), each is one 16:9 page.
"""

from __future__ import annotations

import base64
import html as htmllib
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fupan.presentation import fmt, i18n

DECK_PATH = "slides/index.html"
CHARTS_PER_SLIDE = 2  # two strips of one heading, stacked, are still one idea
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Block:
    """One top-level element of a page's article."""

    tag: str
    classes: set[str]
    html: str  # the element's outer HTML
    inner: str


@dataclass
class Slide:
    kind: str  # title, agenda, chapter, kpis, charts, findings, table, section, closing
    body: str  # the slide's inner HTML
    notes: list[str] = field(default_factory=list)  # the writers' commentary (HTML)
    label: str = ""  # plain text, for the slide's aria-label


class _Blocks(HTMLParser):
    """Cuts an article's HTML into its top-level elements, kept as written."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.depth = 0
        self.open: tuple[str, set[str], int, int] | None = None
        self.blocks: list[Block] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _end_of_tag(self, start: int) -> int:
        return self.text.index(">", start) + 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            start = self._offset()
            classes = set((dict(attrs).get("class") or "").split())
            if tag in _VOID:
                end = self._end_of_tag(start)
                self.blocks.append(Block(tag, classes, self.text[start:end], ""))
                return
            self.open = (tag, classes, start, self._end_of_tag(start))
        if tag not in _VOID:
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            start = self._offset()
            end = self._end_of_tag(start)
            self.blocks.append(Block(tag, set((dict(attrs).get("class") or "").split()), self.text[start:end], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0 and self.open is not None:
            name, classes, start, inner_start = self.open
            close = self._offset()
            end = self._end_of_tag(close)
            self.blocks.append(Block(name, classes, self.text[start:end], self.text[inner_start:close]))
            self.open = None


def blocks(article: str) -> list[Block]:
    """The top-level elements of an article's inner HTML."""
    parser = _Blocks(article)
    parser.feed(article)
    parser.close()
    return parser.blocks


_ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">(.*)</article>', re.S)
_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.S)
_TAGS = re.compile(r"<[^>]+>")


def article_of(page_html: str) -> str:
    """The inner HTML of a Material page's article (empty when it has none)."""
    found = _ARTICLE.search(page_html)
    return found.group(1) if found else ""


def plain(fragment: str) -> str:
    """The text of an HTML fragment, unescaped, spaces collapsed."""
    return " ".join(htmllib.unescape(_TAGS.sub("", fragment)).split())


def heading(block: Block) -> str:
    """A heading's inner HTML without its permalink."""
    return _HEADERLINK.sub("", block.inner).strip()


def unlinked(fragment: str) -> str:
    """Links become spans: on a slide a click turns the page, and the pages' relative links
    would point elsewhere from slides/."""
    fragment = re.sub(r"<a\b([^>]*)>", lambda m: "<span" + re.sub(r'\s(?:href|title|target)="[^"]*"', "", m.group(1))
                      + ">", fragment)
    return fragment.replace("</a>", "</span>")


_STATIC = re.compile(r'<img class="fupan-chart__static"[^>]*>')
_CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)
_FINDING = re.compile(r'<p class="fupan-finding">.*?</p>', re.S)
_TITLE = re.compile(r'<p class="admonition-title">(.*?)</p>', re.S)


WIDE = 2.2  # width ÷ height above which a chart is a strip: two of them share a slide


def svg_aspect(image_tag: str) -> float:
    """Width ÷ height of a static chart (a base64 SVG data URI), from its root element."""
    found = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)', image_tag)
    if found is None:
        return 1.0
    head = base64.b64decode(found.group(1)[:800] + "=" * (-len(found.group(1)[:800]) % 4), validate=False)
    size = re.search(rb'width="([\d.]+)"[^>]*height="([\d.]+)"', head)
    return float(size.group(1)) / float(size.group(2)) if size and float(size.group(2)) else 1.0


def chart_figure(block: Block) -> tuple[str, float] | None:
    """A chart as a slide shows it (its static SVG and caption) and its aspect ratio; None
    without a static SVG."""
    image = _STATIC.search(block.inner)
    if image is None:
        return None
    caption = _CAPTION.search(block.inner)
    label = re.search(r'aria-label="([^"]*)"', block.inner)
    alt = f' alt="{htmllib.escape(plain(label.group(1)))}"' if label else ""
    shown = image.group(0).replace(' aria-hidden="true"', "").replace(' alt=""', "")
    shown = shown.replace("<img ", "<img" + alt + " ", 1)
    figcaption = f"<figcaption>{caption.group(1)}</figcaption>" if caption else ""
    return f'<figure class="fupan-deck-chart">{shown}{figcaption}</figure>', svg_aspect(image.group(0))


TABLE_ROWS, DENSE_ROWS, TABLE_COLUMNS = 12, 20, 7  # the most a slide shows (more rows: smaller type)


def slide_table(block: Block) -> str | None:
    """A section's table as a slide shows it (no sort buttons, links or ids), or None when it
    would not fit a slide."""
    table = re.search(r"<table\b.*?</table>", block.inner, re.S)
    if table is None:
        return None
    html = table.group(0)
    rows = len(re.findall(r"<tr\b", html.split("</thead>")[-1]))
    columns = len(re.findall(r"<t[hd]\b", re.search(r"<tr\b.*?</tr>", html, re.S).group(0))) if rows else 0
    if not rows or rows > DENSE_ROWS or columns > TABLE_COLUMNS:
        return None
    html = re.sub(r"<button\b[^>]*>.*?</button>", "", html, flags=re.S)
    html = re.sub(r'(<table\b[^>]*?) id="[^"]*"', r"\1", unlinked(html), count=1)
    dense = " fupan-deck-table--dense" if rows > TABLE_ROWS else ""
    return f'<div class="fupan-deck-table{dense}">{html}</div>'


def _esc(text: str) -> str:
    return htmllib.escape(text)


def _kicker(*parts: str) -> str:
    shown = [p for p in parts if p]
    return f'<p class="fupan-slide__kicker">{" · ".join(shown)}</p>' if shown else ""


def page_slides(article: str, summary: str | None = None) -> tuple[str, list[Slide]]:
    """(title, slides) of one page: its KPI cards, charts and callouts in order, the
    commentary of each section as notes of the slides before it. `summary` names the home
    page's slides (its own title is the deck's)."""
    title = ""
    h2 = h3 = ""
    pending: list[Slide] = []  # the section's slides since its last commentary
    slides: list[Slide] = []
    charts: list[tuple[str, float]] = []
    tables: list[Block] = []  # the section's tables since its last commentary

    def add(slide: Slide) -> None:
        slides.append(slide)
        pending.append(slide)

    def flush_charts() -> None:
        while charts:
            group = charts[:1]
            # Two wide, short charts of one heading share a slide, stacked; others have a slide
            # each (side by side, a chart's labels were too small to read from the back of a room).
            if len(charts) > 1 and charts[0][1] > WIDE and charts[1][1] > WIDE:
                group = charts[:CHARTS_PER_SLIDE]
            del charts[:len(group)]
            layout = "rows" if group[0][1] > WIDE else "single"
            name = h3 or h2 or title
            add(Slide("charts", _kicker(summary or title, h2 if h3 else "") + f"<h2>{name}</h2>"
                      + f'<div class="fupan-deck-charts fupan-deck-charts--{layout}-{len(group)}">'
                      + "".join(figure for figure, _ in group) + "</div>", label=plain(name)))

    for block in blocks(article):
        if block.tag in ("h1", "h2", "h3"):
            flush_charts()
            text = heading(block)
            if block.tag == "h1":
                title = text
            elif block.tag == "h2":
                h2, h3 = text, ""
                pending, tables = [], []
            else:
                h3 = text
            continue
        if block.tag == "figure" and "fupan-chart" in block.classes:
            figure = chart_figure(block)
            if figure:
                charts.append(figure)
            continue
        if block.tag != "div":
            continue
        flush_charts()
        if "fupan-table" in block.classes:
            tables.append(block)
        elif "fupan-kpis" in block.classes:
            cards = block.inner.count('class="fupan-kpi"')
            name = h3 or h2 or title
            add(Slide("kpis", _kicker(summary or title, h2 if h3 else "") + f"<h2>{name}</h2>"
                      + f'<div class="fupan-kpis fupan-kpis--{cards}">{unlinked(block.inner)}</div>',
                      label=plain(name)))
        elif "fupan-callout" in block.classes:
            caption = _TITLE.search(block.inner)
            name = caption.group(1) if caption else (h3 or h2)
            findings = _FINDING.findall(block.inner) or re.findall(r"<p>.*?</p>", block.inner, re.S)
            items = "".join(f"<li>{unlinked(re.sub(r'^<p[^>]*>|</p>$', '', f))}</li>" for f in findings)
            add(Slide("findings", _kicker(summary or title, h2) + f"<h2>{name}</h2>"
                      + f'<ul class="fupan-deck-findings">{items}</ul>', label=plain(name)))
        elif {"admonition", "note"} <= block.classes and "fupan-notice" not in block.classes:
            note = unlinked(_TITLE.sub(lambda m: f'<p class="fupan-note__title">{m.group(1)}</p>', block.inner, 1))
            if not pending:  # a section of tables only: its commentary has a slide, with a table that fits
                name = h3 or h2 or title
                shown = next((t for t in map(slide_table, tables) if t), "")
                add(Slide("section" if not shown else "table",
                          _kicker(summary or title, h2 if h3 else "") + f"<h2>{name}</h2>{shown}", label=plain(name)))
            for slide in pending:
                slide.notes.append(note.strip())
            pending, tables = [], []
    flush_charts()
    return title, slides


@dataclass
class DeckSettings:
    company: str
    year: int
    compare_year: int
    period: str  # "2025年1月1日 – 2025年12月31日"
    as_of: str
    locale: str


def settings_of(review: Any) -> DeckSettings:
    """The title slide's facts, from the review's settings and data (as the about page has them)."""
    loc = fmt.resolve_locale(None, {}, {"locale": review.config.locale})
    period = review.period()
    as_of = review.config.as_of or next((p["max_date"] for p in review.engine.profiles() if p["dataset"] == "orders"),
                                        period.end)
    return DeckSettings(
        company=review.config.company, year=review.config.year, compare_year=review.config.compare_year,
        period=f"{fmt.format_value(period.start, 'date', loc)} – {fmt.format_value(period.end, 'date', loc)}",
        as_of=fmt.format_value(as_of, "date", loc), locale=loc)


def deck_slides(pages: list[tuple[bool, str]], settings: DeckSettings) -> list[Slide]:
    """Every slide: title, contents, the home page's summary, each chapter, closing.
    `pages`: (is the home page, article HTML) in the navigation's order."""
    loc = settings.locale
    review_title = _esc(i18n.text("slides.review_title", loc, company=settings.company, year=settings.year))
    kind = _esc(i18n.text("slides.kind", loc))
    compared = _esc(i18n.text("slides.compared", loc, compare_year=settings.compare_year))
    period = _esc(i18n.text("slides.period", loc))
    as_of = _esc(i18n.text("slides.as_of", loc))
    keys = _esc(i18n.text("slides.keys", loc))
    cover = (f'<p class="fupan-slide__kicker">{kind}</p><h1>{review_title}</h1>'
             f'<p class="fupan-slide__subtitle">{compared}</p>'
             f'<dl class="fupan-deck-facts"><dt>{period}</dt><dd>{_esc(settings.period)}</dd>'
             f"<dt>{as_of}</dt><dd>{_esc(settings.as_of)}</dd></dl>"
             f'<p class="fupan-slide__hint">{keys}</p>')
    slides = [Slide("title", cover, label=plain(review_title))]
    summary = _esc(i18n.text("slides.summary", loc))
    parts: list[tuple[str, list[Slide]]] = []
    for is_home, article in pages:
        title, own = page_slides(article, summary if is_home else None)
        if is_home:
            if own:
                parts.append((summary, own))
            continue
        items = "".join(f"<li>{heading(b)}</li>" for b in blocks(article) if b.tag == "h2")
        listed = f'<ol class="fupan-deck-sections">{items}</ol>' if items else ""
        parts.append((title, [Slide("chapter", f"<h1>{title}</h1>{listed}", label=plain(title)), *own]))
    agenda = i18n.text("slides.agenda", loc)
    chapters = "".join(f"<li>{name}</li>" for name, _ in parts)
    slides.append(Slide("agenda", f'<h2>{_esc(agenda)}</h2><ol class="fupan-deck-agenda">{chapters}</ol>',
                        label=agenda))
    for _, own in parts:
        slides.extend(own)
    thanks = i18n.text("slides.thanks", loc)
    site = _esc(i18n.text("slides.site", loc))
    slides.append(Slide("closing", f'<h1>{_esc(thanks)}</h1><p class="fupan-slide__subtitle">{review_title}</p>'
                                   f'<p class="fupan-slide__hint"><a href="../">{site}</a></p>', label=thanks))
    return slides


def deck_html(slides: list[Slide], settings: DeckSettings, favicon: str = "assets/images/favicon.png") -> str:
    """The deck's page: every slide with its notes, the controls, the deck's own assets only."""
    loc = settings.locale
    total = len(slides)
    title = _esc(i18n.text("slides.review_title", loc, company=settings.company, year=settings.year))
    role = _esc(i18n.text("slides.slide", loc))
    body = []
    for number, slide in enumerate(slides, 1):
        notes = "".join(f'<div class="fupan-note">{n}</div>' for n in slide.notes)
        body.append(
            f'<section class="fupan-slide fupan-slide--{slide.kind}" id="slide-{number}" data-slide="{number}" '
            f'data-footer="{title}" aria-roledescription="{role}" '
            f'aria-label="{number} / {total}: {_esc(slide.label)}">'
            f'<div class="fupan-slide__body">{slide.body}</div>'
            f'<aside class="fupan-slide__notes" hidden>{notes}</aside></section>')
    deck, elapsed = _esc(i18n.text("slides.deck", loc)), _esc(i18n.text("slides.elapsed", loc))
    prev, following = _esc(i18n.text("slides.prev", loc)), _esc(i18n.text("slides.next", loc))
    notes_label, no_notes = _esc(i18n.text("slides.notes", loc)), _esc(i18n.text("slides.no_notes", loc))
    notes_key, full_key = _esc(i18n.text("slides.notes_key", loc)), _esc(i18n.text("slides.full_key", loc))
    full, site = _esc(i18n.text("slides.full", loc)), _esc(i18n.text("slides.site", loc))
    return (
        f'<!doctype html>\n<html lang="{loc}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} · {deck}</title>\n"
        f'<link rel="icon" href="../{_esc(favicon)}">\n'
        '<link rel="stylesheet" href="../assets/fupan-slides.css">\n</head>\n'
        f'<body class="fupan-deck-page">\n<main class="fupan-deck" data-total="{total}">\n'
        + "\n".join(body)
        + "\n</main>\n"
        '<div class="fupan-deck__presenter" hidden>'
        f'<p class="fupan-deck__label">{elapsed} <span class="fupan-deck__clock">0:00</span></p>'
        f'<p class="fupan-deck__label">{following}</p><div class="fupan-deck__next"></div>'
        f'<p class="fupan-deck__label">{notes_label}</p><div class="fupan-deck__notes" data-empty="{no_notes}"></div>'
        "</div>\n"
        '<nav class="fupan-deck__bar">'
        f'<button type="button" class="fupan-deck__prev" title="{prev}" aria-label="{prev}">‹</button>'
        f'<span class="fupan-deck__counter" aria-live="polite">1 / {total}</span>'
        f'<button type="button" class="fupan-deck__next-button" title="{following}" aria-label="{following}">›</button>'
        f'<button type="button" class="fupan-deck__notes-button" title="{notes_key}">{notes_label}</button>'
        f'<button type="button" class="fupan-deck__full-button" title="{full_key}">{full}</button>'
        f'<a class="fupan-deck__site" href="../">{site}</a></nav>\n'
        '<script src="../assets/fupan-slides.js"></script>\n</body>\n</html>\n')


class DeckPages:
    """The rendered pages the deck is cut from, kept as each is written (on_post_page).

    Kept by source file, so a page rendered again (live preview, a build after a failed one)
    replaces its earlier version and a dirty build's unchanged pages stay in the deck."""

    def __init__(self) -> None:
        self.pages: dict[object, tuple[Any, str | None]] = {}  # key → (page, article; None: not shown)

    @staticmethod
    def _key(page: Any) -> object:
        return getattr(getattr(page, "file", None), "src_uri", None) or id(page)

    def keep(self, page: Any, output: str, locale: str) -> str:
        """Keep a top-level page's article; the home page gets the deck's link under its title."""
        if getattr(page, "parent", None) is not None:
            return output
        # `slides: false` in a page's front matter leaves it out of the deck (not of the site).
        shown = (getattr(page, "meta", None) or {}).get("slides", True) is not False
        self.pages[self._key(page)] = (page, article_of(output) if shown else None)
        return link_on_home(output, locale) if getattr(page, "is_homepage", False) else output

    def in_order(self) -> list[tuple[bool, str]]:
        """(is home, article) of the kept pages in the navigation's order: the chain of
        previous/next links skips the chapters left out of the navigation (chapters.py)."""
        first = next((p for p, _ in reversed(self.pages.values()) if getattr(p, "is_homepage", False)), None)
        if first is None:
            return []
        while getattr(first, "previous_page", None) is not None:
            first = first.previous_page
        ordered, page, seen = [], first, set()
        while page is not None and id(page) not in seen:
            seen.add(id(page))
            kept = self.pages.get(self._key(page))
            if kept is not None and kept[1] is not None and getattr(page, "parent", None) is None:
                ordered.append((bool(getattr(page, "is_homepage", False)), kept[1]))
            page = getattr(page, "next_page", None)
        return ordered

    def write(self, site_dir: Path, review: Any, favicon: str = "assets/images/favicon.png") -> Path | None:
        """Write the deck into the built site; None when there is nothing to show."""
        pages = self.in_order()
        if not pages:
            return None
        settings = settings_of(review)
        path = Path(site_dir) / DECK_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(deck_html(deck_slides(pages, settings), settings, favicon), encoding="utf-8")
        return path


def link_on_home(output: str, locale: str) -> str:
    """The home page's small link to the deck, right under its title."""
    text = htmllib.escape(i18n.text("slides.open", fmt.resolve_locale(None, {}, {"locale": locale})))
    link = f'<p class="fupan-deck-link"><a href="{DECK_PATH}">{text}</a></p>'
    return re.sub(r'(<article class="md-content__inner md-typeset">.*?</h1>)', lambda m: m.group(1) + link,
                  output, count=1, flags=re.S)


PAGES = DeckPages()


def _review() -> Any:
    plugin = sys.modules.get("fupan.site.plugin")  # absent when the macros plugin is not used
    return plugin._BUILD.get("review") if plugin is not None else None


def keep_page(output: str, page: Any) -> str:
    """MkDocs' on_post_page: keep the page for the deck (fupan reviews only)."""
    review = _review()
    return output if review is None else PAGES.keep(page, output, review.config.locale)


def write_deck(config: Any) -> None:
    """MkDocs' on_post_build: write the deck into the site."""
    review = _review()
    if review is not None:
        theme = config.get("theme")
        favicon = (theme.get("favicon") if hasattr(theme, "get") else None) or "assets/images/favicon.png"
        PAGES.write(Path(config["site_dir"]), review, str(favicon))


CHROMIUM = Path("/usr/bin/chromium")


class SlidesError(Exception):
    """The deck cannot be printed; the message says what to do."""


def slide_count(deck: Path) -> int:
    """How many slides a written deck holds."""
    return deck.read_text(encoding="utf-8").count('<section class="fupan-slide ')


def print_pdf(deck: Path, out: Path, chromium: Path = CHROMIUM) -> int:
    """Print the deck to `out`, one slide a 16:9 page, with the system's Chromium (headless,
    through Playwright); returns the number of slides. Nothing is fetched: the deck and its
    assets are local files, and any other request is refused."""
    if not chromium.exists():
        raise SlidesError(f"{chromium} is missing: install the system's Chromium with `apt-get install -y chromium` "
                          "(fupan never downloads a browser of its own)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SlidesError("printing needs Playwright to drive Chromium: `pip install playwright` "
                          "(do not run `playwright install`: the system's Chromium is used)") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith(("file:", "data:")) else route.abort())
            page.goto(deck.resolve().as_uri(), wait_until="load")
            page.pdf(path=str(out), prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()
    return slide_count(deck)
