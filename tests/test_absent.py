"""Partial data reads well: at most one notice per section, never inside a sentence; KPI grids show
the cards they can; chapters without any of their data leave the navigation and the home page.

The page rules are tested on hand-written Markdown (site/absent.py), then on the repo's own
review built from nothing but orders, order lines and products (the tiny shop).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import run_build
from fupan.site.absent import marker, settle
from tiny import make_project, write_tiny_data

TRAFFIC, ADS = marker(["traffic"]), marker(["ad_channels", "targets"])


def box(datasets: list[str]) -> str:
    return f'<div class="n">needs {"+".join(datasets)}</div>'


def test_an_absent_block_gives_way_to_one_notice_naming_every_file_of_the_section() -> None:
    page = f"# T\n\nIntro.\n\n## A\n\nBefore.\n\n{TRAFFIC}\n\nMiddle.\n\n{ADS}\n\n## B\n\nWhole.\n"
    settled = settle(page, box)
    assert settled.markdown == (
        "# T\n\nIntro.\n\n## A\n\nBefore.\n\n"
        '<div class="n">needs traffic+ad_channels+targets</div>\n\nMiddle.\n\n## B\n\nWhole.\n')
    assert (settled.notices, settled.left_out, settled.absent) == (1, 2, ["traffic", "ad_channels", "targets"])


def test_an_output_showing_what_it_can_keeps_its_place_and_the_section_gets_the_notice() -> None:
    page = f'## A\n\n<div class="grid">cards</div>{TRAFFIC}\n\nText.\n'
    assert settle(page, box).markdown == (
        '## A\n\n<div class="grid">cards</div>\n\n<div class="n">needs traffic</div>\n\nText.\n')


def test_a_sentence_that_needs_an_absent_figure_is_left_out_without_a_notice() -> None:
    page = (f"## A\n\n全年净销售额 1 万，投诉率 {TRAFFIC}。明年的主题是提质。\n\n"
            f"Visitors were {TRAFFIC} last year. Sales rose.\n")
    settled = settle(page, box)
    assert settled.markdown == "## A\n\n明年的主题是提质。\n\n Sales rose.\n"
    assert settled.notices == 0 and settled.left_out == 2


def test_a_note_keeps_its_title_and_goes_when_nothing_is_left_in_it() -> None:
    page = (f'## A\n\n!!! note "点评"\n    第一句 {TRAFFIC}。\n    第二句。\n\n'
            f'!!! note "只有缺的"\n    只有 {TRAFFIC}。\n\nEnd.\n')
    assert settle(page, box).markdown == '## A\n\n!!! note "点评"\n    第二句。\n\nEnd.\n'


def test_a_list_item_that_needs_absent_data_is_left_out() -> None:
    page = f"## A\n\n- 访客 {TRAFFIC}\n- 订单 3\n"
    assert settle(page, box).markdown == "## A\n\n- 订单 3\n"


# -- the review from orders, lines and products only ---------------------------------------------
def only_orders(data: Path) -> Path:
    """The tiny shop's orders, lines and products, and a contract declaring nothing else."""
    write_tiny_data(data, with_users=False)
    contract = yaml.safe_load((data / "datasets.yml").read_text(encoding="utf-8"))
    contract["datasets"] = {k: v for k, v in contract["datasets"].items()
                            if k in ("orders", "order_lines", "products")}
    (data / "datasets.yml").write_text(yaml.safe_dump(contract, allow_unicode=True), encoding="utf-8")
    return data


@pytest.fixture(scope="module")
def orders_only_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the default settings (min_group_size 5: the tiny shop's 3 buyers merge wherever people are counted)
    project = make_project(tmp_path_factory.mktemp("orders-only") / "project", data_writer=only_orders)
    result = run_build(project, project / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    yield project / "site"
    shutil.rmtree(project, ignore_errors=True)


def article(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    return re.search(r"<article[^>]*>(.*)</article>", html, re.S).group(1)


def test_every_page_has_at_most_one_notice_per_section_and_none_inside_a_sentence(orders_only_site: Path) -> None:
    pages = sorted(orders_only_site.glob("chapters/*/index.html")) + [orders_only_site / "index.html"]
    noticed = 0
    for page in pages:
        body = article(page)
        for section in re.split(r"<h[12][\s>]", body):
            # the missing-data notices (an "info" one says a period holds no rows: another matter)
            absent = section.count('class="admonition warning fupan-notice"')
            assert absent <= 1, (page, section[:200])
            noticed += absent
        for notice in re.finditer("fupan-notice", body):
            before = body[:notice.start()]
            assert before.rfind("</p>") >= max(before.rfind("<p>"), before.rfind("<p ")), (page, before[-200:])
        outside = re.sub(r'<div class="admonition warning fupan-notice">.*?</div>', "", body, flags=re.S)
        assert "缺少数据" not in outside, page
        assert "fupan-absent" not in body
    assert noticed > 0  # the data really is partial: traffic, users, ads … are absent


def test_the_home_page_shows_the_cards_it_can_and_names_the_missing_files(orders_only_site: Path) -> None:
    body = article(orders_only_site / "index.html")
    kpi_section = re.split(r"<h2[\s>]", body)[1]
    cards = re.findall(r'data-metric="([a-z_]+)"', kpi_section)
    # index.md asks for 8 cards; conversion rate needs traffic.csv, complaint rate complaints.csv
    assert cards[:6] == ["net_sales", "orders", "aov", "buyers", "gross_margin", "repurchase_rate"]
    assert "conversion_rate" not in cards and "complaint_rate" not in cards
    assert "data/traffic.csv" in kpi_section and "data/complaints.csv" in kpi_section


def test_chapters_without_any_of_their_data_leave_the_navigation_and_the_home_cards(orders_only_site: Path) -> None:
    home = (orders_only_site / "index.html").read_text(encoding="utf-8")
    assert 'href="chapters/05-marketing/"' not in home and 'href="chapters/06-team/"' not in home
    assert 'href="chapters/04-users/"' in home and 'href="chapters/07-summary/"' in home
    users = (orders_only_site / "chapters/04-users/index.html").read_text(encoding="utf-8")
    assert "05-marketing" not in users  # the next-page link skips the chapter
    assert re.search(r'href="\.\./07-summary/"[^>]*class="md-footer__link md-footer__link--next"', users)
    assert (orders_only_site / "chapters/05-marketing/index.html").exists()  # still built: old links work


def test_only_groups_of_people_are_merged(orders_only_site: Path) -> None:
    """#19 acceptance 3, in part, on the orders-only site with the default min_group_size (5): the
    tiny shop's 3 buyers merge wherever people are counted; products, categories and platforms
    never do (test_privacy_by_dimension checks that merged tables still add up)."""
    import json

    from fupan.data.contract import load_contract
    from fupan.semantics.catalogue import load_catalogue

    catalogue = load_catalogue(load_contract(orders_only_site.parent / "data" / "datasets.yml"))
    figures = json.loads((orders_only_site / "figures.json").read_text(encoding="utf-8"))["figures"]
    tables = [e for e in figures if e["kind"] == "table"]
    assert {d for e in tables for d in e["dimensions"]} & {"sku", "category", "platform"}
    merged = {d for e in tables for d, v in e["dimensions"].items() if v == "其他"}
    assert merged <= catalogue.people_dimensions, merged - catalogue.people_dimensions
