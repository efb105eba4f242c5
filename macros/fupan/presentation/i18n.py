"""Every reader-visible string, in one table per locale (`locales/<locale>.yml`).

Code asks for a string by key (`text("report.total", locale)`); a value may hold `{name}`
placeholders filled from keyword arguments. Both tables hold the same keys with the same
placeholders (a test keeps them in step), so the English edition can never miss a string the
Chinese one shows. Dimension and metric names are not here: the catalogue declares them.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

LOCALES_DIR = Path(__file__).with_name("locales")
LOCALES = ("zh-CN", "en")


@functools.cache
def table(locale: str) -> dict[str, Any]:
    """The flat key → string (or list of strings) table of one locale."""
    if locale not in LOCALES:
        raise KeyError(f"no strings for locale {locale!r}; known: {', '.join(LOCALES)}")
    raw = yaml.safe_load((LOCALES_DIR / f"{locale}.yml").read_text(encoding="utf-8")) or {}
    return _flatten(raw)


def text(key: str, locale: str, **values: Any) -> Any:
    """The string `key` in `locale`, its `{placeholders}` filled from `values`.

    A list value (a table's header row) is returned as a list, each item filled."""
    entry = table(locale)[key]
    if isinstance(entry, list):
        return [str(item).format(**values) if values else str(item) for item in entry]
    return str(entry).format(**values) if values else str(entry)


def in_sentence(label: str, locale: str) -> str:
    """A label (dimension or metric name, written capitalised) as a word inside an English
    sentence: first letter lowered, unless the first word is an acronym (SKU, CSAT, NPS)."""
    if locale != "en" or not label:
        return label
    first = label.split()[0]
    if len(first) > 1 and first.isupper():
        return label
    return label[0].lower() + label[1:]


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out
