"""Macro HTML set aside while Markdown runs (macros/slots.py): which outputs, and putting them back."""

from __future__ import annotations

import markdown
import pytest
from fupan.speed.slots import MIN_CHARS, Slots, wrap

CELLS = "".join(f"<tr><td>{i}</td></tr>" for i in range(20))
TABLE = f'<div class="fupan-table" id="table-1"><table>{CELLS}</table></div>'
assert len(TABLE) >= MIN_CHARS


@pytest.mark.parametrize(("output", "set_aside", "why"), [
    (TABLE, True, "one raw HTML block"),
    ("\n" + TABLE + "\n", True, "surrounding newlines stay in the page"),
    (f'<figure id="chart-1">\n<svg>{CELLS}</svg>\n</figure>', True, "several lines, no blank one"),
    (TABLE[:150], False, "too short to be worth it"),
    (f"<span>{CELLS}</span>", False, "inline tag: Markdown treats it as a paragraph"),
    (f"{TABLE}\n\n**bold** {TABLE}", False, "a blank line: Markdown would format the text in between"),
    (f"{TABLE} and **more**", False, "ends with text Markdown would format"),
    (f"| a | b |\n|---|---|\n| {CELLS} | x |", False, "Markdown, not HTML"),
    (42, False, "not text"),
])
def test_which_outputs_are_set_aside(output, set_aside, why):
    slots = Slots()
    result = slots.stash(output)
    if not set_aside:
        assert result == output, why
        return
    assert result != output and "<!--fupan-slot:" in result, why
    assert result.strip() == "<!--fupan-slot:0-->", why
    assert result[: len(result) - len(result.lstrip())] == output[: len(output) - len(output.lstrip())]
    assert slots.fill(result) == output, why


def test_the_page_html_is_the_same_after_markdown():
    """Through Python-Markdown (with md_in_html, as the site uses it), the filled page equals the
    page converted with the HTML in place: as a block of its own and inside a list item."""
    page = "# 标题\n\n前言 **加粗**。\n\n{block}\n\n后记。\n\n- 列表 {item}\n"
    other = TABLE.replace("table-1", "table-2")
    direct = markdown.markdown(page.format(block=TABLE, item=other), extensions=["md_in_html"])
    slots = Slots()
    settled = slots.settle(page.format(block=slots.stash(TABLE), item=slots.stash(other)))
    through = markdown.markdown(settled, extensions=["md_in_html"])
    assert "fupan-slot" in through and "table-1" not in through  # the block was set aside
    assert "table-2" in through  # the list item's HTML went back into the Markdown
    assert slots.fill(through) == direct


def test_fill_puts_each_output_back_once_and_reports_its_anchors():
    slots = Slots()
    first = slots.stash(TABLE)
    second = slots.stash('<div class="x"><a name="top"></a><p id="a&amp;b">'
                         + "y" * MIN_CHARS + "</p></div>")
    anchors: set[str] = {"already"}
    html = slots.fill(f"<p>x</p>\n{second}\n{first}\n{first}", anchors)
    assert html.count(TABLE) == 1  # the repeated placeholder is not filled twice
    assert html.endswith("<!--fupan-slot:0-->")
    assert anchors == {"already", "table-1", "top", "a&b"}
    assert slots.fill("<p>nothing to fill</p>") == "<p>nothing to fill</p>"


def test_a_macro_called_by_a_macro_returns_its_html():
    """The macro reference renders examples by calling macros: they must return real HTML,
    or a placeholder would be stored inside the outer output."""
    from fupan.speed import slots as module

    inner = wrap(lambda: TABLE)
    outer = wrap(lambda: '<div class="example">' + inner() + "</div>")
    result = outer()
    assert result == "<!--fupan-slot:" + result.split(":", 1)[1]
    assert module.SLOTS.fill(result) == '<div class="example">' + TABLE + "</div>"
    assert module.SLOTS.depth == 0


@pytest.mark.parametrize(("page", "kept", "why"), [
    ("# T\n\n{slot}\n\ntext\n", True, "a top-level block of its own"),
    ("{slot}\n", True, "the whole page"),
    ("# T\n\n- item\n\n    {slot}\n", False, "indented: inside a list item"),
    ('??? note "x"\n    {slot}\n', False, "indented: inside a collapsible block"),
    ('<div class="grid" markdown>\n\n{slot}\n\n</div>\n', False, "inside an md_in_html block"),
    ('<div class="grid" markdown>\n\nx\n\n</div>\n\n{slot}\n', True, "after the md_in_html block"),
    ("```\n{slot}\n```\n", False, "inside a code fence"),
    ("x\n\n<details><summary>s</summary>\n{slot}\n</details>\n", True,
     "inside a raw HTML block: passed through as written"),
    ("x\n\n<details><div><details>\n</details>\n{slot}\n</div></details>\n", True,
     "inside a raw HTML block with the same tag nested"),
    ("x\n\n<details markdown><summary>s</summary>\n\n{slot}\n\n</details>\n", False,
     "inside an md_in_html block"),
    ("x\n\n<details><summary>s</summary></details>\n\n{slot}\n", True,
     "after a one-line raw HTML block"),
    ("text\n{slot}\n", False, "no blank line before: Markdown continues the paragraph"),
    ("{slot}\ntext\n", False, "no blank line after"),
    ("see {slot}\n", False, "text on the same line"),
])
def test_placeholders_stay_only_where_markdown_would_not_touch_the_html(page, kept, why):
    slots = Slots()
    settled = slots.settle(page.format(slot=slots.stash(TABLE)))
    if kept:
        assert settled == page.format(slot="<!--fupan-slot:0-->"), why
        assert slots.fill(settled) == page.format(slot=TABLE), why
    else:
        assert settled == page.format(slot=TABLE), why
        assert slots.fill(settled) == settled, why
