"""Absent optional data on a page: at most one notice per section, never inside a sentence.

A macro whose data is absent returns a marker (`marker`) instead of its output. Once the page's
macros have run, `settle` reads the page's Markdown section by section (a section starts at a
`#` or `##` heading):

- a block (paragraphs are separated by blank lines) that is nothing but markers — a chart, a
  table, a KPI grid with no card — is left out;
- in a block of HTML (a KPI grid showing the cards it can, a callout with some of its
  findings) the marker is taken out and the block stays;
- in prose, the sentence holding the marker is left out (a list item: the item), so no
  sentence is left with a hole in it; a paragraph or note left empty goes too.

A section that lost a block or part of one gets one notice, where the first one was, naming
the files that would fill it. A sentence left out gets no notice (the section still has its
data; the build log says which file was missing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_MARKER = re.compile(r"<!--fupan-absent:([a-z0-9_,]+)-->")
_HEADING = re.compile(r"^#{1,2} ", re.M)
_BLANK = re.compile(r"(\n[ \t]*\n)")
# A sentence ends at 。！？ (or . ! ? before a space or line end); `；` only separates clauses.
_SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[\w)\]\"'”’][.!?])(?=\s)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s")
_ADMONITION = re.compile(r"^\s*(?:!!!|\?\?\?\+?)\s")


def marker(datasets: Sequence[str]) -> str:
    """What a macro shows in place of an output whose optional data is absent."""
    return f"<!--fupan-absent:{','.join(datasets)}-->"


def absent_in(text: str) -> list[str]:
    """The datasets named by the markers in `text`, in order, once each."""
    found: list[str] = []
    for match in _MARKER.finditer(text):
        found.extend(d for d in match.group(1).split(",") if d not in found)
    return found


def without_markers(text: str) -> str:
    return _MARKER.sub("", text)


@dataclass
class Settled:
    """What `settle` did to one page."""

    markdown: str
    notices: int = 0  # sections that got a notice
    left_out: int = 0  # blocks and sentences left out
    absent: list[str] = field(default_factory=list)  # the datasets missed, in order


def settle(markdown: str, notice: Callable[[list[str]], str]) -> Settled:
    """The page with its markers settled; `notice(datasets)` gives a section's notice (HTML on one line)."""
    if "<!--fupan-absent:" not in markdown:
        return Settled(markdown)
    result = Settled("")
    starts = [0] + [m.start() for m in _HEADING.finditer(markdown) if m.start() > 0]
    parts = []
    for begin, end in zip(starts, starts[1:] + [len(markdown)], strict=True):
        parts.append(_settle_section(markdown[begin:end], notice, result))
    result.markdown = "".join(parts)
    return result


def _settle_section(section: str, notice: Callable[[list[str]], str], result: Settled) -> str:
    if "<!--fupan-absent:" not in section:
        return section
    pieces = _BLANK.split(section)  # blocks at even indexes, the blank lines between them at odd ones
    noticed: list[str] = []
    notice_at: int | None = None
    for i in range(0, len(pieces), 2):
        block = pieces[i]
        names = absent_in(block)
        if not names:
            continue
        result.absent.extend(d for d in names if d not in result.absent)
        rest = without_markers(block)
        if not rest.strip():  # the block was the absent output itself
            pieces[i] = ""
            result.left_out += 1
        elif _is_html(rest):  # an output showing what it could
            pieces[i] = rest
        else:  # prose: the sentences (or list items) that need the absent data go
            pieces[i] = _without_sentences(block)
            result.left_out += 1
            if _is_empty_prose(pieces[i]):
                pieces[i] = ""
            continue
        noticed.extend(d for d in names if d not in noticed)
        if notice_at is None:
            notice_at = i
    if notice_at is not None:
        indent = re.match(r"[ \t]*", pieces[notice_at] or " ").group(0) if pieces[notice_at] else ""
        box = indent + notice(noticed)
        pieces[notice_at] = box if not pieces[notice_at] else pieces[notice_at] + "\n\n" + box
        result.notices += 1
    return _join(pieces)


def _join(pieces: list[str]) -> str:
    """Blocks back together; an emptied block takes one of its blank lines with it."""
    out: list[str] = []
    for i in range(0, len(pieces), 2):
        if pieces[i] == "" and i > 0:
            continue  # the blank line before it (already out) separates its neighbours
        out.append(pieces[i])
        if i + 1 < len(pieces):
            out.append(pieces[i + 1])
    text = "".join(out)
    return text


def _is_html(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("<") and stripped.endswith(">")


def _is_empty_prose(text: str) -> bool:
    """Nothing left but whitespace, an admonition's title or list markers."""
    for line in text.splitlines():
        if not line.strip() or _ADMONITION.match(line) or re.fullmatch(r"\s*(?:[-*+]|\d+\.)\s*", line):
            continue
        return False
    return True


def _without_sentences(block: str) -> str:
    lines = block.split("\n")
    if any(_LIST_ITEM.match(line) for line in lines):
        kept = [line for line in lines if not (_LIST_ITEM.match(line) and _MARKER.search(line))]
        block = "\n".join(kept)
        if not _MARKER.search(block):
            return block
    # An admonition's title line is no sentence: it stays (the note goes when nothing else is left).
    head = ""
    while True:
        first, newline, rest = block.partition("\n")
        if not _ADMONITION.match(first) or _MARKER.search(first):
            break
        head, block = head + first + newline, rest
    kept_text = [head]
    for sentence in _SENTENCE_END.split(block):
        if _MARKER.search(sentence):
            # keep the line break and indentation the sentence started with: what follows needs it
            kept_text.append(re.match(r"\s*", sentence).group(0))
        else:
            kept_text.append(sentence)
    trailing = re.search(r"\s*$", block).group(0)  # the block's own line end stays
    # a block has no blank line: one left where a sentence filled a line goes
    kept_lines = [line.rstrip() for line in "".join(kept_text).split("\n") if line.strip()]
    return "\n".join(kept_lines) + trailing if kept_lines else ""
