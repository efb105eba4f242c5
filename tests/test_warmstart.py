"""Start-up caches of macros/warmstart.py: same results as without them."""

from __future__ import annotations

import json
import marshal
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from fupan.speed.cache import read_sealed
from fupan.speed.warmstart import cache_compiled_pages, cache_compiled_templates

REPO = Path(__file__).resolve().parent.parent
TEXT = "山野良品全年净销售额同比增长，复购率与客单价均创新高"

SEGMENT = """
import json, sys
sys.path.insert(0, {repo!r})
import jieba
jieba.dt.tmp_dir = {tmp!r}
from fupan.speed.warmstart import preload_jieba
loaded = preload_jieba() if {preload} else False
words = jieba.lcut({text!r})
print(json.dumps({{"loaded": loaded, "words": words, "entries": len(jieba.dt.FREQ),
                  "total": jieba.dt.total}}))
"""


def _segment(tmp: Path, preload: bool) -> dict:
    code = SEGMENT.format(repo=str(REPO), tmp=str(tmp), preload=preload, text=TEXT)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_jieba_preloaded_from_its_cache_segments_as_jieba_does(tmp_path):
    # No cache yet: left to jieba, which builds the dictionary and writes its cache.
    first = _segment(tmp_path, preload=True)
    assert first["loaded"] is False
    assert (tmp_path / "jieba.cache").exists()
    # With the cache: loaded here, and the same dictionary and words as jieba's own load.
    own = _segment(tmp_path, preload=False)
    fast = _segment(tmp_path, preload=True)
    assert fast["loaded"] is True
    assert fast == {**own, "loaded": True}
    assert fast["entries"] > 300_000 and "".join(fast["words"]) == TEXT and len(fast["words"]) > 5


def test_a_broken_jieba_cache_is_left_to_jieba(tmp_path):
    (tmp_path / "jieba.cache").write_bytes(b"not marshal data")
    result = _segment(tmp_path, preload=True)
    assert result["loaded"] is False
    assert "".join(result["words"]) == TEXT  # jieba rebuilt its dictionary and still segments


def test_compiled_templates_are_reused_and_recompiled_after_an_edit(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("<h1>{{ title }}</h1>", encoding="utf-8")

    def render() -> str:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)))
        cache_compiled_templates(env, tmp_path / "cache")
        return env.get_template("page.html").render(title="复盘")

    assert render() == "<h1>复盘</h1>"
    stored = list((tmp_path / "cache" / "jinja").iterdir())
    assert len(stored) == 1
    assert render() == "<h1>复盘</h1>"
    (templates / "page.html").write_text("<h2>{{ title }}</h2>", encoding="utf-8")
    assert render() == "<h2>复盘</h2>"  # the checksum of the source no longer matches


MEMO = """
import json, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
import jieba
jieba.dt.tmp_dir = {tmp!r}
from fupan.speed.warmstart import memoize_jieba
cut = memoize_jieba(Path({tmp!r}))
words = [list(jieba.cut(text.encode("utf-8"))) for text in {texts!r}]
loaded = jieba.dt.initialized
cut.save()
own = [list(cut.original(text.encode("utf-8"))) for text in {texts!r}]
print(json.dumps({{"words": words, "own": own, "dictionary_loaded": loaded}}))
"""


def _memo_run(tmp: Path, texts: list[str]) -> dict:
    code = MEMO.format(repo=str(REPO), tmp=str(tmp), texts=texts)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_segmentation_kept_between_builds_is_jiebas_own(tmp_path):
    other = "会员复购率提升明显"
    first = _memo_run(tmp_path, [TEXT])
    assert first["dictionary_loaded"] is True and first["words"] == first["own"]
    memo = next(tmp_path.glob("jieba/*.marshal"))
    # Same text again: the words come from the kept results, jieba's dictionary is not loaded.
    second = _memo_run(tmp_path, [TEXT])
    assert second["dictionary_loaded"] is False
    assert second["words"] == first["own"]
    # New text: segmented by jieba; the file then keeps only what that build used.
    third = _memo_run(tmp_path, [other])
    assert third["dictionary_loaded"] is True and third["words"] == third["own"]
    assert list(marshal.loads(read_sealed(memo))) == [other.encode("utf-8")]


def _page_env(tmp: Path, calls: list[str], **settings) -> tuple[jinja2.Environment, object]:
    """A Jinja environment like mkdocs-macros' (pages rendered with from_string), counting the
    sources it really compiles, with the pages' code kept in `tmp`."""
    env = jinja2.Environment(**settings)
    env.filters["money"] = lambda value: f"¥{value:,.0f}"
    compile_source = env.compile

    def counting(source, name=None, filename=None, raw=False, defer_init=False):
        calls.append(source)
        return compile_source(source, name, filename, raw, defer_init)

    env.compile = counting
    return env, cache_compiled_pages(env, tmp)


PAGE = "# {{ title }}\n\n净销售额 {{ 1234567 | money }}。{% if up %}同比增长。{% endif %}\n"


def test_compiled_pages_are_kept_between_builds_and_render_the_same(tmp_path):
    calls: list[str] = []
    env, kept = _page_env(tmp_path, calls)
    first = env.from_string(PAGE).render(title="概览", up=True)
    assert first == "# 概览\n\n净销售额 ¥1,234,567。同比增长。"
    assert calls == [PAGE]
    kept.save()
    # The next build: the same page renders the same without being compiled again.
    env, kept = _page_env(tmp_path, calls)
    assert env.from_string(PAGE).render(title="概览", up=True) == first
    assert env.from_string(PAGE).render(title="渠道", up=False) == "# 渠道\n\n净销售额 ¥1,234,567。"
    assert calls == [PAGE]
    # An edited page compiles; the file then keeps only the pages this build used.
    edited = PAGE.replace("同比增长", "同比下降")
    assert env.from_string(edited).render(title="概览", up=True).endswith("同比下降。")
    assert calls == [PAGE, edited]
    kept.save()
    stored = marshal.loads(read_sealed(next(tmp_path.glob("pages/*.marshal"))))
    assert len(stored) == 2
    env, kept = _page_env(tmp_path, calls)
    env.from_string(edited).render(title="概览", up=True)
    kept.save()
    assert len(marshal.loads(read_sealed(next(tmp_path.glob("pages/*.marshal"))))) == 1


def test_other_settings_compile_the_page_again(tmp_path):
    calls: list[str] = []
    env, kept = _page_env(tmp_path, calls)
    env.from_string(PAGE).render(title="概览", up=True)
    kept.save()
    # Other delimiters make other code from the same source: never the kept code.
    env, _ = _page_env(tmp_path, calls, variable_start_string="[[", variable_end_string="]]")
    assert env.from_string(PAGE).render(title="概览", up=True).startswith("# {{ title }}")
    env, _ = _page_env(tmp_path, calls)
    env.filters["extra"] = str  # a filter more: the generated code may differ, compiled again
    env.from_string(PAGE).render(title="概览", up=True)
    assert len(calls) == 3


def test_a_page_that_does_not_compile_raises_every_time(tmp_path):
    calls: list[str] = []
    for _ in range(2):
        env, kept = _page_env(tmp_path, calls)
        with pytest.raises(jinja2.TemplateSyntaxError):
            env.from_string("{% if %}")
        kept.save()
    assert len(calls) == 2


def test_each_project_keeps_its_own_segmentation(tmp_path):
    """Two projects built in turn each keep what they segmented (one shared file kept only the
    last build's runs)."""
    code = MEMO.format(repo=str(REPO), tmp=str(tmp_path), texts=[TEXT]).replace(
        f"memoize_jieba(Path({str(tmp_path)!r}))",
        f"memoize_jieba(Path({str(tmp_path)!r}), sys.argv[1])")
    for project in ("/site/a/mkdocs.yml", "/site/b/mkdocs.yml"):
        subprocess.run([sys.executable, "-c", code, project], capture_output=True, text=True,
                       timeout=300, check=True)
    files = sorted(tmp_path.glob("jieba/*.marshal"))
    assert len(files) == 2
    assert all(list(marshal.loads(read_sealed(f))) == [TEXT.encode("utf-8")] for f in files)


# -- search index entries ---------------------------------------------------------------------
HTML = ('<h1 id="overview">整体回顾</h1><p>山野良品全年净销售额同比增长。</p>'
        '<h2 id="sales">销售</h2><div class="fupan-table"><table><tr><th>品类</th><td>零食 1,234</td></tr>'
        '</table></div>')


def _page(content: str = HTML, anchor_url: str = "#sales") -> object:
    from types import SimpleNamespace

    sales = SimpleNamespace(id="sales", url=anchor_url, title="销售", children=[])
    toc = [SimpleNamespace(id="overview", url="#overview", title="整体回顾", children=[sales])]
    return SimpleNamespace(content=content, toc=toc, url="chapters/02-overall/", title="整体回顾",
                           meta={"tags": ["销售"]})


def _entries(page: object) -> list[dict]:
    from material.plugins.search.plugin import SearchIndex

    index = SearchIndex(lang=["zh"], separator=r"[\s\-]+", pipeline=[], fields={},
                        jieba_dict=None, jieba_dict_user=None)
    index.add_entry_from_context(page)
    return index.entries


def test_search_entries_kept_between_builds_are_materials_own(tmp_path, monkeypatch):
    """A page's entries come from the kept ones when nothing they depend on changed, and are
    those Material's own indexing gives; an edit to the HTML or the table of contents indexes
    the page again."""
    from fupan.speed.warmstart import memoize_search_entries
    from material.plugins.search import plugin as search

    own = {name: _entries(page) for name, page in
           (("page", _page()), ("edited", _page(HTML.replace("1,234", "2,345"))),
            ("moved", _page(anchor_url="#sales-2")))}
    assert own["page"] != own["edited"] and own["page"] != own["moved"]
    monkeypatch.setattr(search.SearchIndex, "add_entry_from_context", search.SearchIndex.add_entry_from_context)
    parsed: list[str] = []

    class CountingParser(search.Parser):
        def feed(self, data: str) -> None:
            parsed.append(data)
            super().feed(data)

    monkeypatch.setattr(search, "Parser", CountingParser)
    kept = memoize_search_entries(tmp_path)
    assert _entries(_page()) == own["page"] and len(parsed) == 1
    kept.save()
    memoize_search_entries(tmp_path)  # the next build
    assert _entries(_page()) == own["page"] and len(parsed) == 1, "the unchanged page was parsed again"
    assert _entries(_page(HTML.replace("1,234", "2,345"))) == own["edited"] and len(parsed) == 2
    assert _entries(_page(anchor_url="#sales-2")) == own["moved"] and len(parsed) == 3


def test_a_page_whose_entries_are_kept_keeps_its_jieba_runs(tmp_path, monkeypatch):
    """A build that takes every page's entries from the kept ones never asks jieba, yet jieba's
    kept runs stay: the next build that changes a page finds them (and loads no dictionary)."""
    import jieba
    from fupan.speed.warmstart import MemoizedCut, memoize_search_entries
    from material.plugins.search import plugin as search

    monkeypatch.setattr(search.SearchIndex, "add_entry_from_context", search.SearchIndex.add_entry_from_context)
    monkeypatch.setattr(jieba, "cut", getattr(jieba.cut, "original", jieba.cut))
    runs_file = tmp_path / "jieba.marshal"

    def build() -> list[dict]:
        cut = MemoizedCut(jieba.cut if not isinstance(jieba.cut, MemoizedCut) else jieba.cut.original, runs_file)
        jieba.cut = cut
        kept = memoize_search_entries(tmp_path)
        entries = _entries(_page())
        kept.save()
        cut.save()
        return entries

    first = build()
    runs = marshal.loads(read_sealed(runs_file))
    assert "山野良品全年净销售额同比增长".encode() in runs
    assert build() == first
    assert marshal.loads(read_sealed(runs_file)) == runs


def test_front_matter_that_cannot_be_keyed_is_indexed_as_before(tmp_path, monkeypatch):
    from fupan.speed.warmstart import memoize_search_entries
    from material.plugins.search import plugin as search

    page = _page()
    page.meta = {2024: "年度", "title": "整体回顾"}  # keys that do not sort together
    own = _entries(page)
    monkeypatch.setattr(search.SearchIndex, "add_entry_from_context", search.SearchIndex.add_entry_from_context)
    memoize_search_entries(tmp_path)
    assert _entries(page) == own
