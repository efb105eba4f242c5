"""The English edition from one source (issue 20 item 3): one build gives the review in its own
language and in each language of `extra.review.editions`, in `site/<language>/`.

A small hand-made project: the tiny shop's data (tests/tiny.py: 2025 net sales 206, orders 4),
a home page and an about page translated (`*.en.md`), a chapter not translated."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_fupan
from tiny import REPO, write_tiny_data

MKDOCS = """\
site_name: 小店 2025 年复盘
site_url: http://127.0.0.1:8000/
theme:
  name: material
  language: zh
  palette:
    - scheme: default
      toggle: {icon: material/weather-night, name: 切换到深色模式}
    - scheme: slate
      toggle: {icon: material/weather-sunny, name: 切换到浅色模式}
plugins:
  - search
  - macros: {module_name: macros/main, on_error_fail: true, on_undefined: strict}
hooks:
  - macros/hooks.py
markdown_extensions:
  - admonition
  - attr_list
  - md_in_html
  - toc: {permalink: true}
extra:
  review:
    company: 小店
    year: 2025
    compare_year: 2024
    editions:
      en:
        company: Little Shop
        nav: {首页: Home, 附录: Appendix}
nav:
  - 首页: index.md
  - 第一章: one.md
  - 附录:
      - 关于: about.md
"""

PAGES = {
    "index.md": "# 首页\n\n全年净销售额 {{ value('net_sales') }}，见[第一章](one.md#第一节)。\n",
    "index.en.md": "# Home\n\nNet sales for the year: {{ value('net_sales') }}; see [chapter one](one.md).\n",
    "one.md": "# 第一章\n\n## 第一节\n\n{{ kpis(['net_sales', 'orders']) }}\n",
    "about.md": "# 关于\n\n本页说明数据来源。\n",
    "about.en.md": "# About\n\nWhere the data comes from.\n\n这一句还没翻译。\n",
}


def make_project(root: Path, settings: str = MKDOCS) -> Path:
    root.mkdir(parents=True)
    (root / "mkdocs.yml").write_text(settings, encoding="utf-8")
    (root / "docs").mkdir()
    for name, text in PAGES.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    shutil.copytree(REPO / "macros", root / "macros",
                    ignore=shutil.ignore_patterns("fupan", "__pycache__", "*.egg-info"))
    write_tiny_data(root / "data")
    return root


def build(project: Path) -> subprocess.CompletedProcess[str]:
    return run_fupan(project, "build", "-d", "site")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    project = make_project(tmp_path_factory.mktemp("editions") / "project")
    result = build(project)
    assert result.returncode == 0, result.stderr[-4000:]
    return project / "site", result.stderr


def read(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


def nav_titles(html: str) -> list[str]:
    """The titles of the primary navigation (site name first), in order."""
    nav = html[html.index('md-nav--primary'):]
    return [t.strip() for t in re.findall(r'<span class="md-ellipsis">\s*(.*?)\s*</span>', nav, re.S)]


def test_one_build_gives_both_editions(built: tuple[Path, str]) -> None:
    site, _ = built
    assert '<html lang="zh"' in read(site, "index.html")
    assert '<html lang="en"' in read(site, "en/index.html")
    # the translations are not pages of the review's own language
    assert not (site / "index.en").exists() and not (site / "about.en").exists()
    assert not (site / "en" / "index.en").exists()
    # the same figure in both, each in its own words: 206 = 80 + 90 + 10 + 36 − 10 (tests/tiny.py)
    assert 'data-value="206' in read(site, "index.html") and 'data-value="206' in read(site, "en/index.html")
    assert "全年净销售额" in read(site, "index.html")
    assert "Net sales for the year" in read(site, "en/index.html")
    assert "全年净销售额" not in read(site, "en/index.html")


def test_english_navigation_titles_and_site_name(built: tuple[Path, str]) -> None:
    site, _ = built
    html = read(site, "en/index.html")
    # mapped titles; a page without a mapping takes its page's title (the untranslated chapter's own)
    assert nav_titles(html) == ["Home", "第一章", "Appendix", "About"]  # About: the translation's own title
    assert "<title>Little Shop 2025 e-commerce year-end review</title>" in html  # the edition's company
    assert nav_titles(read(site, "index.html")) == ["首页", "第一章", "附录", "关于"]
    # macros speak the edition's language: the KPI card of the untranslated chapter is English
    assert "Net sales" in read(site, "en/one/index.html") and "净销售额" in read(site, "one/index.html")
    assert "Switch to dark mode" in html and "切换到深色模式" not in html


def test_untranslated_page_is_marked_and_logged(built: tuple[Path, str]) -> None:
    site, log = built
    assert "Not translated yet" in read(site, "en/one/index.html")
    assert "Not translated yet" not in read(site, "en/about/index.html")
    assert "尚未翻译" not in read(site, "one/index.html")
    assert "docs/one.en.md" in log
    # a line of the translation still in the other language is named with its line
    assert "docs/about.en.md, line 5: text not translated: 这一句还没翻译。" in log


def test_language_switch_links_each_page_to_itself(built: tuple[Path, str]) -> None:
    site, _ = built

    def switch(path: str) -> dict[str, str]:
        return {lang: href for href, lang in re.findall(r'<a href="([^"]*)" hreflang="(\w+)"[^>]*md-select__link',
                                                        read(site, path))}

    assert switch("one/index.html") == {"zh": "../one/", "en": "../en/one/"}
    assert switch("en/one/index.html") == {"zh": "../../one/", "en": "../one/"}
    for page in ("one/index.html", "en/one/index.html"):
        for href in switch(page).values():  # every link lands on a page of the built site
            target = (site / page).parent / href / "index.html"
            assert target.resolve().is_file(), (page, href)


def test_search_and_404_follow_the_edition(built: tuple[Path, str]) -> None:
    site, _ = built
    assert json.loads(read(site, "en/search/search_index.json"))["config"]["lang"] == ["en"]
    assert "Page not found" in read(site, "en/404.html") and "页面不存在" in read(site, "404.html")


def test_links_in_a_translation_resolve_to_the_same_edition(built: tuple[Path, str]) -> None:
    site, _ = built
    assert 'href="one/"' in read(site, "en/index.html")  # the English chapter, not the Chinese one
    assert 'href="one/#第一节"' in read(site, "index.html")


def test_wrong_edition_settings_fail_with_the_setting_named(tmp_path: Path) -> None:
    settings = MKDOCS.replace("    editions:\n      en:\n",
                              "    editions:\n      xx: {}\n      en:\n        colour: red\n")
    project = make_project(tmp_path / "project", settings)
    result = build(project)
    assert result.returncode == 1
    assert "extra.review.editions.xx" in result.stderr
    assert 'extra.review.editions.en: unknown setting "colour". Valid: company, nav, site_description, site_name' \
        in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "site").exists()


def test_a_nav_section_without_a_translation_keeps_its_title_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    from fupan.site.editions import Edition, translate_nav

    edition = Edition("en", "en", nav={"首页": "Home"})
    with caplog.at_level("WARNING", logger="fupan"):
        nav = translate_nav([{"首页": "index.md"}, {"第一章": "one.md"}, {"附录": [{"关于": "about.md"}]}], edition)
    assert nav == [{"Home": "index.md"}, "one.md", {"附录": ["about.md"]}]
    assert "'附录' has no en title" in caplog.text


def test_values_the_catalogue_writes_have_english_labels_and_data_values_stay() -> None:
    from fupan.data.contract import load_contract
    from fupan.semantics.catalogue import load_catalogue

    catalogue = load_catalogue(load_contract(REPO / "data" / "datasets.yml"))
    assert catalogue.dimension_value_label("nps_group", "推荐者", "en") == "Promoters"
    assert catalogue.dimension_value_label("nps_group", "推荐者", "zh-CN") == "推荐者"
    assert catalogue.dimension_value_label("member_status", "非会员", "en") == "Non-members"
    assert catalogue.dimension_value_label("age_band", "50岁以上", "en") == "50 and over"
    assert catalogue.dimension_value_label("category", "个护清洁", "en") == "个护清洁"  # the shop's own value


def test_pdf_of_an_edition_that_is_not_declared_says_which_are(built: tuple[Path, str], tmp_path: Path) -> None:
    project = built[0].parent
    result = subprocess.run([sys.executable, "-m", "fupan", "-f", str(project / "mkdocs.yml"), "pdf", "--edition", "fr",
                             "--site", str(built[0]), "-o", str(tmp_path / "x.pdf")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stderr
    assert 'extra.review.editions: unknown edition "fr". Valid: en.' in result.stderr
    assert "Traceback" not in result.stderr


def test_the_printed_cover_of_an_edition_speaks_its_language(built: tuple[Path, str]) -> None:
    import yaml
    from fupan.site.printing import cover_facts, cover_html

    project = built[0].parent
    extra = yaml.safe_load(MKDOCS)["extra"]
    english = cover_facts(extra, project, "en")
    assert (english.company, english.locale) == ("Little Shop", "en")
    assert "Little Shop" in cover_html(english) and "小店" not in cover_html(english)
    assert cover_facts(extra, project).company == "小店"
