"""The printed review: `fupan pdf` writes the whole review as one A4 PDF.

The built site is served on 127.0.0.1 and opened in the system Chromium (the one the browser
tests use; never a downloaded one). In its home page the article is replaced by one document:
a cover, a contents page and every page of the readers' navigation (the chapters, then the
appendix), each starting on a new page. The pages' element ids get a per-page prefix so links
between printed pages become links inside the PDF; links to anything not printed lose their
address (a printed page has no server behind it). Live-chart containers are removed, so every
chart prints as the static SVG the build drew.

Chromium prints with the page numbers in its footer. The contents' page numbers come from a
first print: Chromium writes a named destination for every linked id, and pypdf reads on which
page each chapter's destination lies. The second print fills them in (the contents page keeps
its size, so no chapter moves). The cover is printed without the footer and put in front.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from fupan.errors import FupanError
from fupan.presentation import fmt, i18n

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PRINT_CSS = Path(__file__).parents[1] / "assets" / "fupan-print.css"
# The writers' pages (guide, macro reference, component gallery) are not part of the review a
# manager reads; they are left out even while the navigation still lists them.
WRITERS_PAGES = ("guide/", "gallery/")
# Chromium's footer is drawn outside the page's stylesheet: its style is given inline.
FOOTER = ('<div style="width:100%;margin:0 14mm;font-size:8px;color:#757575;display:flex;'
          'justify-content:space-between;font-family:sans-serif">'
          "<span>{left}</span><span>{right}</span></div>")


class PrintError(FupanError):
    """`fupan pdf` cannot print: no Chromium, no built site, a page that will not load."""


@dataclass(frozen=True)
class CoverFacts:
    """What the cover says, all read from the review's settings and data."""

    company: str
    year: int
    as_of: dt.date
    locale: str

    def title(self) -> str:
        return i18n.text("print.title", self.locale)

    def as_of_text(self) -> str:
        return i18n.text("print.as_of", self.locale, date=fmt.format_value(self.as_of, "date", self.locale))

    def year_text(self) -> str:
        return i18n.text("time.year", self.locale, year=self.year)


def cover_facts(extra: dict[str, Any], project_dir: Path, edition: str = "") -> CoverFacts:
    """The cover's company, year and data as-of date from mkdocs.yml's `extra.review` and the
    data; in an edition's language and with its company name when `edition` names one."""
    from fupan.site.context import build_review
    from fupan.site.editions import edition_extra

    review = build_review(edition_extra(extra, edition), project_dir)
    return CoverFacts(company=review.config.company or "", year=int(review.config.year),
                      as_of=review.data_as_of(), locale=review.locale())


def cover_html(facts: CoverFacts) -> str:
    """The cover page's HTML."""
    return (
        '<section class="fupan-print-cover">'
        f'<p class="fupan-print-cover__company">{escape(facts.company)}</p>'
        f'<p class="fupan-print-cover__year">{escape(facts.year_text())}</p>'
        f'<h1 class="fupan-print-cover__title">{escape(facts.title())}</h1>'
        f'<p class="fupan-print-cover__as-of">{escape(facts.as_of_text())}</p>'
        "</section>"
    )


def footer_html(facts: CoverFacts) -> str:
    """Chromium's footer template: the review's name on the left, 'page N of M' on the right."""
    page = i18n.text("print.page", facts.locale, page='<span class="pageNumber"></span>',
                     total='<span class="totalPages"></span>')
    left = escape(f"{facts.company} {facts.year_text()} {facts.title()}".strip())
    return FOOTER.format(left=left, right=page)


@dataclass(frozen=True)
class Chapter:
    """One printed page of the site: its address, its title (the page's heading) and its anchor."""

    url: str
    title: str
    anchor: str


# Runs in the site's home page: which pages the readers' navigation lists, in order.
NAV_PAGES = """(writers) => {
  const base = new URL(document.querySelector('script[id="__config"]')
    ? JSON.parse(document.getElementById('__config').textContent).base : '.', location.href);
  const seen = new Set();
  const out = [];
  for (const a of document.querySelectorAll('.md-nav--primary a.md-nav__link[href]')) {
    if (a.closest('.md-nav--secondary')) continue;  // the current page's table of contents
    const url = new URL(a.getAttribute('href'), location.href);
    url.hash = '';
    const path = url.href.startsWith(base.href) ? url.href.slice(base.href.length) : null;
    if (path === null || seen.has(url.href)) continue;
    seen.add(url.href);
    if (writers.some(w => path.startsWith(w))) continue;
    out.push(url.href);
  }
  return out;
}"""

# Runs in the site's home page: its article becomes the whole printed review.
ASSEMBLE = """async ({urls, cover, contentsTitle}) => {
  const article = document.querySelector('article.md-content__inner');
  const parts = await Promise.all(urls.map(async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    const body = page.querySelector('article.md-content__inner');
    if (!body) throw new Error(url + ': no article in the page');
    return body;
  }));
  const index = new Map(urls.map((url, k) => [url, k]));
  // A heading stays on the page of what it introduces (Chromium does not always honour
  // break-after: avoid before an unbreakable figure): heading(s) and the next block are wrapped
  // in one unbreakable box, unless that block is a table longer than a page can hold anyway.
  const keepWithNext = (body) => {
    for (const heading of Array.from(body.querySelectorAll(':scope > :is(h2, h3, h4, h5, h6)'))) {
      if (!heading.parentNode || heading.parentNode.classList.contains('fupan-print-keep')) continue;
      const run = [heading];
      let next = heading.nextElementSibling;
      while (next && /^H[2-6]$/.test(next.tagName)) { run.push(next); next = next.nextElementSibling; }
      if (next && !/^H1$/.test(next.tagName) && next.querySelectorAll('tr').length <= 12) run.push(next);
      const box = document.createElement('div');
      box.className = 'fupan-print-keep';
      heading.before(box);
      box.append(...run);
    }
  };
  const chapters = [];
  const sections = parts.map((body, k) => {
    const section = document.createElement('section');
    section.className = 'fupan-print-chapter';
    section.id = 'p' + k;
    for (const node of body.querySelectorAll('.fupan-chart__view, .md-content__button')) node.remove();
    for (const node of body.querySelectorAll('[id]')) node.id = 'p' + k + '-' + node.id;
    for (const node of body.querySelectorAll('[src]')) node.src = new URL(node.getAttribute('src'), urls[k]).href;
    for (const link of body.querySelectorAll('a[href]')) link.dataset.from = k;
    for (const details of body.querySelectorAll('details')) details.open = true;
    keepWithNext(body);
    const heading = body.querySelector('h1');
    const title = heading ? heading.cloneNode(true) : null;
    if (title) for (const mark of title.querySelectorAll('.headerlink')) mark.remove();
    chapters.push({url: urls[k], title: title ? title.textContent.trim() : '', anchor: section.id});
    section.append(...body.childNodes);
    return section;
  });
  const contents = document.createElement('nav');
  contents.className = 'fupan-print-contents';
  const heading = document.createElement('h1');
  heading.textContent = contentsTitle;
  const list = document.createElement('ol');
  for (const chapter of chapters) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = '#' + chapter.anchor;
    const title = document.createElement('span');
    title.className = 'fupan-print-contents__title';
    title.textContent = chapter.title;
    const number = document.createElement('span');
    number.className = 'fupan-print-contents__page';
    number.dataset.anchor = chapter.anchor;
    number.textContent = '000';
    link.append(title, number);
    item.append(link);
    list.append(item);
  }
  contents.append(heading, list);
  article.replaceChildren();
  article.insertAdjacentHTML('beforeend', cover);
  article.append(contents, ...sections);
  // Links between printed pages point inside the document; any other link loses its address.
  for (const link of article.querySelectorAll('a[data-from]')) {
    const target = new URL(link.getAttribute('href'), urls[Number(link.dataset.from)]);
    const hash = decodeURIComponent(target.hash.slice(1));
    target.hash = '';
    const k = index.get(target.href);
    delete link.dataset.from;
    if (k === undefined) { link.removeAttribute('href'); continue; }
    const id = hash ? 'p' + k + '-' + hash : 'p' + k;
    link.setAttribute('href', '#' + (document.getElementById(id) ? id : 'p' + k));
  }
  document.documentElement.classList.add('fupan-print');
  await document.fonts.ready;
  await Promise.all(Array.from(article.querySelectorAll('img')).map(img => img.decode().catch(() => null)));
  return chapters;
}"""

FILL_PAGES = """(pages) => {
  for (const node of document.querySelectorAll('.fupan-print-contents__page')) {
    node.textContent = String(pages[node.dataset.anchor] ?? '');
  }
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """The built site on a free 127.0.0.1 port, for as long as the block runs; yields its URL."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def chromium_path() -> Path:
    """The system Chromium, or a PrintError that says how to install it."""
    if not CHROMIUM.exists():
        raise PrintError(f"printing needs Chromium, and {CHROMIUM} is missing",
                         hint="install it with `apt-get install -y chromium` (Debian/Ubuntu), then run fupan pdf again")
    return CHROMIUM


def page_numbers(pdf: bytes, anchors: list[str]) -> dict[str, int]:
    """On which page (1-based) each anchor's named destination lies in `pdf`."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    destinations = reader.named_destinations
    found = {}
    for anchor in anchors:
        destination = destinations.get(anchor) or destinations.get("/" + anchor)
        if destination is not None:
            found[anchor] = reader.get_destination_page_number(destination) + 1
    return found


def print_site(site_dir: Path, facts: CoverFacts, out: Path) -> list[Chapter]:
    """Print the built site in `site_dir` as one A4 PDF at `out`; return the printed pages in order."""
    executable = chromium_path()
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
        from pypdf import PdfWriter
    except ImportError as exc:
        raise PrintError(f"printing needs the Python package {exc.name}, which is not installed",
                         hint="install fupan with its pdf extra: `pip install 'fupan[pdf]'`") from None
    if not (site_dir / "index.html").exists():
        raise PrintError(f"{site_dir} holds no built site (no index.html)",
                         hint="run `fupan build` first, or leave out --site so fupan pdf builds it")
    options: dict[str, Any] = {"format": "A4", "print_background": True, "outline": True, "tagged": True}
    with serve(site_dir) as url, sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            raise PrintError(f"Chromium ({executable}) did not start: {exc.message.splitlines()[0]}",
                             hint="reinstall it with `apt-get install -y chromium`") from None
        try:
            context = browser.new_context(color_scheme="light", service_workers="block")
            page = context.new_page()
            # Nothing but the local site: a printed review must not depend on any outside host.
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url)
                          else route.abort())
            page.goto(url, wait_until="load")
            urls = page.evaluate(NAV_PAGES, list(WRITERS_PAGES))
            page.add_style_tag(content=PRINT_CSS.read_text(encoding="utf-8"))
            try:
                chapters = [Chapter(**c) for c in page.evaluate(
                    ASSEMBLE, {"urls": urls, "cover": cover_html(facts),
                               "contentsTitle": i18n.text("print.contents", facts.locale)})]
            except PlaywrightError as exc:
                raise PrintError(f"a page of the site could not be read for printing: {exc.message.splitlines()[0]}",
                                 hint="build the site again (`fupan build`)") from None
            page.emulate_media(media="print")
            first = page.pdf(**options)
            numbers = page_numbers(first, [c.anchor for c in chapters])
            page.evaluate(FILL_PAGES, numbers)
            cover = page.pdf(**options, page_ranges="1")
            body = page.pdf(**options, page_ranges="2-", display_header_footer=True,
                            header_template="<span></span>", footer_template=footer_html(facts))
        finally:
            browser.close()
    writer = PdfWriter()
    writer.append(io.BytesIO(cover))
    writer.append(io.BytesIO(body))
    writer.add_metadata({"/Title": f"{facts.company} {facts.year_text()} {facts.title()}".strip()})
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    writer.write(buffer)
    out.write_bytes(buffer.getvalue())
    return chapters
