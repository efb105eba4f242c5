"""Strict builds of small temp projects (tests/tiny.py): errors fail the build and name the page,
builds are reproducible, and the HTML loads nothing from a CDN."""

from __future__ import annotations

import filecmp
import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import STUB_PAGES, run_build

SITE_URL = "http://127.0.0.1:8000/"

BROKEN_PAGES = {
    "unknown_macro": ("# 坏页\n\n{{ no_such_macro() }}\n", "no_such_macro"),
    "undefined_variable": ("# 坏页\n\n文字 {{ undefined_thing }} 文字\n", "undefined_thing"),
    "macro_raises": ('# 坏页\n\n{{ kpis(["no_such_metric"]) }}\n', "no_such_metric"),
    # validation.anchors is "warn": a link to an anchor that is nowhere on its page fails.
    "missing_anchor": ("# 坏页\n\n见[口径](#no-such-anchor)。\n\n{{ metric_definitions() }}\n",
                       "no-such-anchor"),
}
# A link to an anchor inside a macro's HTML (macros/slots.py puts that HTML back after Markdown
# and tells MkDocs its ids): the strict build passes.
ANCHOR_PAGE = {"anchors.md": "# 锚点\n\n见[成交总额](#gmv)。\n\n{{ metric_definitions() }}\n"}


def _without_nav_listing(output: str) -> str:
    """Drop MkDocs' "pages not in nav" INFO listing, which names broken.md whatever happens."""
    return re.sub(r"The following pages exist in the docs directory, but are not included"
                  r"[^\n]*\n(?:[ \t]+- [^\n]*\n?)*", "", output)


@pytest.fixture(scope="module")
def builds(tiny_project_factory, tmp_path_factory):
    """All builds of this module, made once, on two workers: one builds the same tiny project
    twice in a row (cold, then with its caches warm) into two dirs, the other builds each broken
    project."""
    twin = tiny_project_factory("twin", docs={**STUB_PAGES, **ANCHOR_PAGE})
    broken = {case: tiny_project_factory(case, docs={**STUB_PAGES, "broken.md": text})
              for case, (text, _) in BROKEN_PAGES.items()}

    def build(project: Path, name: str, extra_env: dict[str, str] | None = None):
        site = tmp_path_factory.mktemp(f"site-{name}") / "site"
        return site, run_build(project, site, SITE_URL, timeout=240, extra_env=extra_env)

    def twins():
        # The third build turns the Markdown placeholders of macros/slots.py off.
        return [build(twin, "twin-a"), build(twin, "twin-b"),
                build(twin, "twin-plain", {"FUPAN_NO_SLOTS": "1"})]

    def broken_all():
        return {case: build(project, case)[1] for case, project in broken.items()}

    with ThreadPoolExecutor(max_workers=2) as pool:
        twin_job, broken_job = pool.submit(twins), pool.submit(broken_all)
        return {"twins": twin_job.result(), "broken": broken_job.result()}


@pytest.fixture(scope="module")
def broken_builds(builds):
    return builds["broken"]


@pytest.mark.parametrize("case", list(BROKEN_PAGES))
def test_strict_build_fails_and_names_the_page(broken_builds, case):
    result = broken_builds[case]
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"{case}: build succeeded:\n{output[-3000:]}"
    errors = _without_nav_listing(output)
    assert "broken.md" in errors, f"{case}: the error does not name broken.md:\n{errors[-3000:]}"
    word = BROKEN_PAGES[case][1]
    assert word in errors, f"{case}: the error does not mention {word!r}:\n{errors[-3000:]}"


@pytest.fixture(scope="module")
def twin_builds(builds):
    for name, (_, result) in zip(("a", "b", "plain"), builds["twins"], strict=True):
        assert result.returncode == 0, (
            f"tiny build {name} failed:\n{result.stderr[-4000:]}\n{result.stdout[-1000:]}")
    return [site for site, _ in builds["twins"]]


def _compared_files(site: Path) -> list[Path]:
    files = [p.relative_to(site) for p in site.rglob("*.html")]
    files += [Path(p) for p in ("sitemap.xml", "search/search_index.json") if (site / p).exists()]
    return sorted(files)


def test_a_link_into_macro_html_is_kept_and_its_target_is_there(twin_builds):
    page = (twin_builds[0] / "anchors" / "index.html").read_text(encoding="utf-8")
    assert 'href="#gmv"' in page and '<tr id="gmv">' in page
    assert "fupan-slot" not in page


def _differing(site_a: Path, site_b: Path) -> list[str]:
    files_a, files_b = _compared_files(site_a), _compared_files(site_b)
    assert files_a == files_b, f"different file sets: {set(files_a) ^ set(files_b)}"
    return [str(p) for p in files_a if not filecmp.cmp(site_a / p, site_b / p, shallow=False)]


def test_pages_are_the_same_without_markdown_placeholders(twin_builds):
    """macros/slots.py only saves parsing: every page and the search index are byte for byte
    those of a build that hands all macro HTML to Markdown (FUPAN_NO_SLOTS=1). The repo's pages
    have macro HTML at top level, in a `<div markdown>` grid and in a collapsible block."""
    _, site_b, site_plain = twin_builds
    differing = _differing(site_b, site_plain)
    assert not differing, f"placeholders changed these files: {differing}"


def test_builds_are_byte_identical(twin_builds):
    site_a, site_b = twin_builds[:2]
    assert {Path("index.html"), Path("sitemap.xml")} <= set(_compared_files(site_a))
    differing = _differing(site_a, site_b)
    assert not differing, f"files differ between two identical builds: {differing}"


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []  # (tag, rel, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append((tag, "", values["src"] or ""))
        elif tag == "link" and values.get("href"):
            self.urls.append((tag, values.get("rel") or "", values["href"] or ""))


def test_html_loads_no_external_script_or_stylesheet(twin_builds):
    site = twin_builds[0]
    pages = sorted(site.rglob("*.html"))
    assert pages
    offending = []
    for html_file in pages:
        parser = _AssetLinks()
        parser.feed(html_file.read_text(encoding="utf-8"))
        for tag, rel, url in parser.urls:
            if not re.match(r"\s*(https?:)?//", url, re.I):
                continue
            # The canonical link names the site's own address (site_url), not a CDN.
            if tag == "link" and rel == "canonical" and url.startswith(SITE_URL):
                continue
            offending.append(f"{html_file.relative_to(site)}: <{tag} {rel}> {url}")
    assert not offending, "external URLs in <script src>/<link href>:\n" + "\n".join(offending)
