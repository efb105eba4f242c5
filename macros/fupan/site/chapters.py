"""Chapters without their data left out of the navigation and of the home page's chapter cards.

A chapter says in its front matter which data it is about (`data: [ad_channels, campaigns]`).
When none of those datasets is present, the chapter would be a page of notices: it is left out
of the navigation (the previous/next links skip it) and its card on the home page goes, unless
`extra.review.show_empty_chapters` is true. The page is still built, so a link to it works.
The decision is made once every page's Markdown has been read (MkDocs' `on_env`), before any
page is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("mkdocs.plugins.fupan")


def chapter_data(page: Any) -> list[str]:
    """The datasets a page says it is about (front matter `data:`), or none."""
    declared = (getattr(page, "meta", None) or {}).get("data") or []
    return [str(d) for d in ([declared] if isinstance(declared, str) else declared)]


def empty_chapters(pages: Iterable[Any], present: Callable[[str], bool]) -> list[Any]:
    """The pages that name their data and have none of it."""
    return [p for p in pages if chapter_data(p) and not any(present(d) for d in chapter_data(p))]


def leave_out(nav: Any, pages: list[Any]) -> None:
    """Take `pages` out of the navigation and link their neighbours to each other."""
    if not pages:
        return
    gone = {id(p) for p in pages}

    def prune(items: list[Any]) -> list[Any]:
        kept = []
        for item in items:
            if id(item) in gone:
                continue
            if getattr(item, "children", None):
                item.children = prune(item.children)
            kept.append(item)
        return kept

    nav.items = prune(nav.items)
    nav.pages = [p for p in nav.pages if id(p) not in gone]
    for before, after in zip([None, *nav.pages], [*nav.pages, None], strict=True):
        if before is not None:
            before.next_page = after
        if after is not None:
            after.previous_page = before


_CARD = re.compile(r"<li>(?:(?!</?li[\s>]).)*?</li>\s*", re.S)


def without_cards(html: str, urls: Iterable[str]) -> str:
    """The home page's HTML without the chapter cards (list items) that link to `urls`."""
    targets = [f'href="{u}"' for u in urls]
    if not targets:
        return html
    return _CARD.sub(lambda m: "" if any(t in m.group(0) for t in targets) else m.group(0), html)


def settle_chapters(nav: Any, review: Any) -> None:
    """Leave out the chapters none of whose data is present (logged), unless the settings keep them."""
    if nav is None or review is None:
        return
    declared = review.contract.datasets

    def present(dataset: str) -> bool:
        return dataset in declared and review.store.has(dataset)

    empty = empty_chapters(nav.pages, present)
    for page in empty:
        verb = "kept in" if review.config.show_empty_chapters else "left out of"
        log.info("fupan: chapter %s %s the navigation: none of its data (%s) is present%s", page.file.src_uri,
                 verb, ", ".join(chapter_data(page)),
                 "" if review.config.show_empty_chapters else "; `show_empty_chapters: true` keeps it")
    if review.config.show_empty_chapters or not empty:
        return
    leave_out(nav, empty)
    home = next((p for p in nav.pages if p.is_homepage), None)
    if home is not None and home.content:
        home.content = without_cards(home.content, [p.url for p in empty])
