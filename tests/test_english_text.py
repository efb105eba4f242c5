"""The English edition's text: its pages' commentary reminders and macros that say nothing in Chinese."""

from __future__ import annotations

from fupan.site.reminders import edition_pages, find_unfinished


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_each_edition_reminds_of_its_own_pages_only(tmp_path):
    docs = tmp_path / "docs"
    _write(docs / "index.md", '# 首页\n\n!!! note "分析师点评（示例，请替换）"\n    样例。\n')
    _write(docs / "index.en.md", '# Home\n\ntext\n\n!!! note "Analyst\'s commentary (sample, replace)"\n    Sample.\n')
    _write(docs / "chapters" / "a.md", '# A\n\n!!! note "原因分析（待填写）"\n    \n')
    # No English version of b.md: the English edition reads the Chinese page.
    _write(docs / "chapters" / "b.md", '# B\n\n!!! note "点评（示例，请替换）"\n    x\n')
    _write(docs / "chapters" / "a.en.md", '# A\n\n!!! note "Root causes (to be written)"\n    \n')

    def where(found):
        return ([(b.page, b.line) for b in found.samples], [(b.page, b.line) for b in found.unwritten])

    assert [p.relative_to(docs).as_posix() for p in edition_pages(docs, "en")] == [
        "chapters/a.en.md", "chapters/b.md", "index.en.md"]
    assert where(find_unfinished(docs, "zh-CN")) == ([("chapters/b.md", 3), ("index.md", 3)], [("chapters/a.md", 3)])
    assert where(find_unfinished(docs, "en")) == ([("chapters/b.md", 3), ("index.en.md", 5)],
                                                  [("chapters/a.en.md", 3)])
    # The build log names every unfinished box, in both languages.
    assert len(find_unfinished(docs).samples) == 3 and len(find_unfinished(docs).unwritten) == 2
