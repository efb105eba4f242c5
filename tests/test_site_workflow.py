"""The built review as a whole: every page in a real browser, internal links, the macro
reference, and a review built with only the required data files."""

from __future__ import annotations

import html as htmllib
import re
import shutil
from pathlib import Path

from conftest import run_build
from fupan.site.linkcheck import check_site
from test_browser import open_page, wait_charts_drawn

REPO = Path(__file__).resolve().parents[1]


def _pages(site: Path) -> list[str]:
    # the slide deck is a page of its own kind (no article): tests/test_slides.py reads it
    return sorted(p.relative_to(site).parent.as_posix() for p in site.rglob("index.html")
                  if "assets" not in p.parts and "search" not in p.parts and "slides" not in p.parts)


def test_every_page_renders_and_every_chart_draws(page, site_server, built_site):
    pages = _pages(built_site.site_dir)
    assert len(pages) >= 12
    charts = 0
    for rel in pages:
        url = site_server + "/" + ("" if rel == "." else rel + "/")
        open_page(page, url)
        assert page.locator("article h1").count() >= 1, f"{rel}: no title"
        if page.locator(".fupan-chart__view").count():
            charts += wait_charts_drawn(page)
    assert charts >= 30  # the conftest `page` fixture fails on any console error or outside request


def test_no_broken_internal_link_or_anchor(built_site):
    broken = check_site(built_site.site_dir)
    assert not broken, "\n".join(b.text() for b in broken[:30])


def test_macro_reference_lists_every_registered_macro(built_site):
    from fupan.site.registry import macros

    registry = {m.name for m in macros()}
    html = (built_site.site_dir / "guide" / "macros" / "index.html").read_text(encoding="utf-8")
    listed = set(re.findall(r'<h2 id="([a-z_]+)"', html))
    assert listed == registry
    # Every example was rendered live: each macro with an example has its output under it.
    assert html.count('class="fupan-example"') >= len(registry) - 2


def test_review_builds_with_only_the_required_data(tmp_path_factory):
    """Every optional dataset removed: the site builds, and sections show which file they need."""
    from tiny import make_project

    def required_only(data_dir: Path) -> None:
        data_dir.mkdir(parents=True)
        for name in ("datasets.yml", "orders.parquet", "order_lines.parquet", "products.csv"):
            shutil.copy(REPO / "data" / name, data_dir / name)

    project = make_project(tmp_path_factory.mktemp("required") / "p", data_writer=required_only)
    result = run_build(project, project / "site")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    log = result.stdout + result.stderr
    assert "missing optional data" in log
    marketing = htmllib.unescape(
        (project / "site" / "chapters" / "05-marketing" / "index.html").read_text(encoding="utf-8"))
    assert "缺少数据" in marketing and "data/ad_channels.csv" in marketing
    team = htmllib.unescape((project / "site" / "chapters" / "06-team" / "index.html").read_text(encoding="utf-8"))
    assert "data/team_members.csv" in team
    home = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert 'data-metric="net_sales"' in home  # what the required files allow still shows
