"""Macro HTML kept out of Python-Markdown's way: a placeholder goes through Markdown, the HTML
is put back into the page's HTML afterwards.

Python-Markdown passes a raw HTML block through unchanged, but to find where it ends it feeds
it to Python's HTML parser twice (md_in_html, and MkDocs collecting anchor ids). Charts carry
an inline SVG, tables hundreds of cells: that parsing was about half of a warm rebuild. So:

1. `stash`: a macro output that is one run of raw HTML (it starts with a block-level tag, ends
   with a tag and has no blank line) is replaced by an HTML comment;
2. `settle`, once the page's macros have run: a placeholder stays only where Markdown would
   pass the HTML through untouched, as a top-level block (alone on its line, blank lines
   around, outside code fences and outside `<div markdown>` blocks). Anywhere else (in a list,
   an admonition, a grid) the HTML goes back into the Markdown, which treats it as before;
3. `fill`, after Markdown: the kept placeholders get their HTML back, and MkDocs learns the
   anchor ids it holds, so links to them are still checked.

The pages are the same, byte for byte, as without placeholders: a test builds the site both
ways. `FUPAN_NO_SLOTS=1` turns them off (to rule them out when a page looks wrong).
"""

from __future__ import annotations

import html as html_lib
import os
import re
from typing import Any

# Block-level tags Python-Markdown treats as raw HTML blocks (markdown.util.BLOCK_LEVEL_ELEMENTS).
_BLOCK_START = re.compile(
    r"<(?:address|article|aside|blockquote|details|div|dl|fieldset|figcaption|figure|footer|"
    r"form|h[1-6]|header|hr|main|nav|ol|p|pre|section|table|ul)[\s>/]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_TOKEN = re.compile(r"<!--fupan-slot:(\d+)-->")
# What MkDocs counts as an anchor: any element's id, and an <a>'s name.
_ANCHOR = re.compile(r"<[a-zA-Z][^>]*?\sid=\"([^\"]*)\"|<a\s[^>]*?\bname=\"([^\"]*)\"")
# Below this size the parsing costs nothing worth saving.
MIN_CHARS = 200
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A block-level tag opening a line: an md_in_html block when it has a `markdown` attribute
# (its inside is Markdown, which re-serializes raw HTML in it), else a raw HTML block (passed
# through as written, placeholders included).
_BLOCK_OPEN = re.compile(r"^<([A-Za-z][A-Za-z0-9]*)\b([^>]*)>")
_MARKDOWN_ATTRIBUTE = re.compile(r"\smarkdown(?:[\s=/]|$)")


class Slots:
    """The outputs set aside while the current page goes through Markdown."""

    def __init__(self) -> None:
        self._outputs: dict[int, str] = {}
        self._next = 0
        self.depth = 0  # macro calls under way

    def stash(self, output: Any) -> Any:
        """`output`, or a placeholder for it when it is raw HTML Markdown would pass through."""
        if not isinstance(output, str) or len(output) < MIN_CHARS:
            return output
        core = output.strip()
        if "<!--fupan-absent:" in core:  # the page settles absent data from its Markdown (site/absent.py)
            return output
        if not _BLOCK_START.match(core) or not core.endswith(">") or _BLANK_LINE.search(core):
            return output
        number = self._next
        self._next += 1
        self._outputs[number] = core
        start = output.index(core)
        return f"{output[:start]}<!--fupan-slot:{number}-->{output[start + len(core):]}"

    def settle(self, markdown: str) -> str:
        """The page's Markdown with every placeholder Markdown would not pass through untouched
        replaced by its HTML again (see the module docstring)."""
        if not self._outputs or "<!--fupan-slot:" not in markdown:
            return markdown
        lines = markdown.split("\n")
        fence: str | None = None
        markdown_blocks: list[str] = []  # open md_in_html blocks, innermost last
        raw: tuple[str, int] | None = None  # the open raw HTML block: its tag, and its depth
        for index, line in enumerate(lines):
            after_blank_line = index == 0 or not lines[index - 1].strip()
            fence_match = _FENCE.match(line)
            if raw is not None:
                raw = _still_open(raw, line)
                continue  # raw HTML, placeholders included: Markdown passes it through as written
            if fence is not None:
                if fence_match and fence_match.group(1)[0] == fence[0] \
                        and len(fence_match.group(1)) >= len(fence):
                    fence = None
            elif fence_match:
                fence = fence_match.group(1)
            elif (opened := _BLOCK_OPEN.match(line)) and _BLOCK_START.match(line):
                tag = opened.group(1).lower()
                if _MARKDOWN_ATTRIBUTE.search(opened.group(2)):
                    markdown_blocks.append(tag)
                elif after_blank_line and not markdown_blocks:
                    raw = _still_open((tag, 0), line)
            elif markdown_blocks and f"</{markdown_blocks[-1]}>" in line.lower():
                markdown_blocks.pop()
            if "<!--fupan-slot:" not in line:
                continue
            alone = _TOKEN.fullmatch(line.rstrip()) is not None
            before_blank_line = index == len(lines) - 1 or not lines[index + 1].strip()
            if fence is None and not markdown_blocks and alone and after_blank_line \
                    and before_blank_line:
                continue
            lines[index] = _TOKEN.sub(self._take_back, line)
        return "\n".join(lines)

    def _take_back(self, match: re.Match[str], anchors: set[str] | None = None) -> str:
        """The output a placeholder stands for (each is given back once); its anchor ids are
        added to `anchors`."""
        output = self._outputs.pop(int(match.group(1)), None)
        if output is None:
            return match.group(0)
        if anchors is not None:
            anchors.update(html_lib.unescape(a or b) for a, b in _ANCHOR.findall(output))
        return output

    def resolve(self, value: Any) -> Any:
        """`value` with the placeholders in it replaced by their outputs (which stay available):
        a macro given another macro's output, `callout(finding_roi())`, works on the HTML."""
        if not isinstance(value, str) or "<!--fupan-slot:" not in value:
            return value
        return _TOKEN.sub(lambda match: self._outputs.get(int(match.group(1)), match.group(0)), value)

    def fill(self, html: str, anchors: set[str] | None = None) -> str:
        """`html` with each placeholder replaced by its output (each output is used once).
        The anchor ids of the outputs are added to `anchors` (MkDocs' set for the page)."""
        if not self._outputs:
            return html
        return _TOKEN.sub(lambda match: self._take_back(match, anchors), html)


def _still_open(block: tuple[str, int], line: str) -> tuple[str, int] | None:
    """A raw HTML block after one more of its lines: None once its outermost tag closed."""
    tag, depth = block
    lowered = line.lower()
    depth += len(re.findall(rf"<{tag}[\s>]", lowered)) - lowered.count(f"</{tag}>")
    return (tag, depth) if depth > 0 else None


SLOTS = Slots()


def wrap(macro: Any) -> Any:
    """`macro` with its HTML output set aside in `SLOTS` for `fill`."""
    import functools

    if os.environ.get("FUPAN_NO_SLOTS"):
        return macro

    @functools.wraps(macro)
    def stashed(*args: Any, **kwargs: Any) -> Any:
        args = tuple(SLOTS.resolve(a) for a in args)
        kwargs = {k: SLOTS.resolve(v) for k, v in kwargs.items()}
        SLOTS.depth += 1
        try:
            output = macro(*args, **kwargs)
        finally:
            SLOTS.depth -= 1
        # A macro called by another macro (the macro reference renders its examples) returns
        # its HTML itself: only what lands in the page's Markdown is set aside.
        return SLOTS.stash(output) if SLOTS.depth == 0 else output

    return stashed
