"""What a writer should know before publishing, in the build log and on the about page:
- commentary not finished, found in the pages' Markdown by the boxes' titles: boxes still marked
  as samples (「示例，请替换」: the sample company's text, not a reading of this shop's data) and
  empty slots (「待填写」, as `fupan init` leaves them), each with page and line;
- orders that end before the review year does (like-for-like with `as_of`, or not);
- months of the review period without a single row in data a shop records every month it trades
  (catalogue `every_month`: orders, daily traffic …): a closed shop or an export short of a month.

The log lines go to the `fupan` logger, outside MkDocs' own: a strict build counts MkDocs'
warnings as failures, and a draft must still build.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fupan.presentation import i18n

log = logging.getLogger("fupan")

# An admonition's first line (`!!! note "title"`, collapsible `???`/`???+`), and a code fence.
_ADMONITION = re.compile(r'^\s*(?:!!!|\?\?\?\+?)\s+[\w-]+(?:\s+[\w-]+)*\s+"(?P<title>[^"]*)"')
_FENCE = re.compile(r"^\s*(```|~~~)")
LOCALES = ("zh-CN", "en")
# The English version of page X.md is X.en.md, next to it.
EN_SUFFIX = ".en.md"


@dataclass(frozen=True)
class Box:
    """One unfinished commentary box: its page (path under docs/), line (1-based) and title."""

    page: str
    line: int
    title: str


@dataclass(frozen=True)
class Unfinished:
    """The boxes still marked as samples and the slots not yet written, in page and line order."""

    samples: tuple[Box, ...]
    unwritten: tuple[Box, ...]


def _markers(key: str) -> tuple[str, ...]:
    words = {"sample": [i18n.text("reminders.sample_marker", loc) for loc in LOCALES],
             "unwritten": [i18n.text("reminders.unwritten_marker", loc) for loc in LOCALES]}[key]
    return tuple(w.casefold() for w in words)


def edition_pages(docs_dir: Path, locale: str | None = None) -> list[Path]:
    """The Markdown pages under `docs_dir` one edition reads: the English one (`en`) reads
    `X.en.md` in place of `X.md` where it exists, the Chinese one skips every `*.en.md`;
    no locale: every page of both."""
    paths = sorted(Path(docs_dir).rglob("*.md"))
    if locale is None:
        return paths
    english = {p for p in paths if p.name.endswith(EN_SUFFIX)}
    if locale != "en":
        return [p for p in paths if p not in english]
    return [p for p in paths if p in english or p.with_name(p.name[:-3] + EN_SUFFIX) not in english]


def find_unfinished(docs_dir: Path, locale: str | None = None) -> Unfinished:
    """Every box under `docs_dir` whose title carries a sample or a not-yet-written marker (in
    any locale); boxes shown inside code blocks (a guide's example) are not commentary. With a
    locale, only the pages of that edition (see `edition_pages`)."""
    samples, unwritten = [], []
    sample_words, unwritten_words = _markers("sample"), _markers("unwritten")
    docs_dir = Path(docs_dir)
    for path in edition_pages(docs_dir, locale):
        fence = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            opened = _FENCE.match(line)
            if opened:
                fence = None if fence == opened.group(1) else fence or opened.group(1)
                continue
            match = None if fence else _ADMONITION.match(line)
            if match is None:
                continue
            title = match.group("title").strip()
            box = Box(path.relative_to(docs_dir).as_posix(), number, title)
            if any(w in title.casefold() for w in sample_words):
                samples.append(box)
            elif any(w in title.casefold() for w in unwritten_words):
                unwritten.append(box)
    return Unfinished(tuple(samples), tuple(unwritten))


def log_unfinished(docs_dir: Path, locale: str | None = None) -> Unfinished:
    """Warn in the build log about the boxes still marked as samples and the slots not yet
    written, with their count, page and line; return them. With a locale, only that edition's
    pages (each edition's build logs its own)."""
    found = find_unfinished(docs_dir, locale)
    if found.samples:
        log.warning("fupan: %d commentary box(es) still marked as samples (%s): their text is the sample "
                    "company's, not a reading of this data; rewrite each and remove the mark from its title:\n%s",
                    len(found.samples), " / ".join(_markers("sample")), _where(found.samples))
    if found.unwritten:
        log.warning("fupan: %d commentary box(es) not yet written (%s):\n%s", len(found.unwritten),
                    " / ".join(_markers("unwritten")), _where(found.unwritten))
    return found


def _where(boxes: tuple[Box, ...]) -> str:
    return "\n".join(f"  docs/{b.page}, line {b.line}: {b.title}" for b in boxes)


def orders_end(review: Any) -> dt.date | None:
    """The last day of the orders when it makes the review year a partial one (the rule of
    periods.inferred_as_of), else None. Read through the result cache: a warm build imports no pandas."""
    from fupan.semantics.periods import inferred_as_of
    from fupan.site.context import orders_span

    last = orders_span(review.engine)[1]
    return last if inferred_as_of(last, review.config.year) is not None else None


def log_partial_year(review: Any) -> dt.date | None:
    """Warn in the build log when the orders end before the review year does; return their last day."""
    last = orders_end(review)
    if last is None:
        return None
    config = review.config
    if config.as_of is not None:
        log.warning("fupan: the orders end on %s, before the end of %d: the review covers %d up to %s (as_of%s) and "
                    "compares it with the same days of %d", last, config.year, config.year, config.as_of,
                    ", read from the data; set it under extra.review to choose another day"
                    if config.as_of_inferred else "", config.compare_year)
    else:
        log.warning("fupan: the orders end on %s, before the end of %d, and as_of is not set: part of %d is compared "
                    "with the whole of %d; set `as_of: %s` under extra.review in mkdocs.yml for a like-for-like "
                    "comparison", last, config.year, config.year, config.compare_year, last)
    return last


def months_without_data(review: Any) -> list[tuple[str, list[str]]]:
    """Each present dataset recorded every month (catalogue `every_month`), in the contract's
    order, with the months ('2025-03') of the review period in which it has no row; only those
    with such months."""
    period = review.period()
    out = []
    for name in review.store.contract.datasets:
        if name in review.catalogue.every_month:
            months = review.engine.months_without_rows([name], period)
            if months:
                out.append((name, months))
    return out


def log_months_without_data(review: Any) -> list[tuple[str, list[str]]]:
    """Warn in the build log about the months of the review period without data; return them."""
    found = months_without_data(review)
    for name, months in found:
        log.warning("fupan: %s has no rows in %s: charts and tables mark %s as without data (not zero); "
                    "complete the export, or say in the commentary that the shop was closed",
                    name, ", ".join(months), "it" if len(months) == 1 else "them")
    return found
