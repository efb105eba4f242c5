"""Internal link and anchor checker for a built site (no network: external links are skipped).

Every `href`/`src` in every HTML page that points inside the site must resolve to a file, and a
`#fragment` must name an element id on the target page.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

EXTERNAL_SCHEMES = ("http", "https", "mailto", "tel", "data", "javascript", "blob")


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and (name == "id" or tag == "a"):
                self.ids.add(value)
            elif name in ("href", "src") and tag not in ("base",):
                self.links.append((f"<{tag} {name}>", value))


@dataclass(frozen=True)
class BrokenLink:
    page: str
    element: str
    url: str
    reason: str

    def text(self) -> str:
        return f"{self.page}: {self.element} {self.url!r} — {self.reason}"


def _parse(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def check_site(site: Path) -> list[BrokenLink]:
    """Every broken internal link or anchor of the site under `site`."""
    site = Path(site).resolve()
    pages = {p: _parse(p) for p in sorted(site.rglob("*.html"))}
    broken: list[BrokenLink] = []
    for page, parsed in pages.items():
        for element, url in parsed.links:
            parts = urlsplit(url)
            if parts.scheme in EXTERNAL_SCHEMES or parts.netloc or url.startswith("//"):
                continue
            if parts.path:
                base = site if parts.path.startswith("/") else page.parent
                target = (base / unquote(parts.path.lstrip("/"))).resolve()
                if target.is_dir():
                    target = target / "index.html"
            else:
                target = page
            relative = page.relative_to(site).as_posix()
            if site not in target.parents and target != site:
                broken.append(BrokenLink(relative, element, url, "points outside the site"))
                continue
            if not target.exists():
                broken.append(BrokenLink(relative, element, url, "no such file"))
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if fragment not in ids:
                    broken.append(BrokenLink(relative, element, url, f"no element with id {fragment!r}"))
    return broken
