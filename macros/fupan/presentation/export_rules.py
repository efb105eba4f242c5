"""The business rules an export was read by, as sentences: the data-sources section shows them,
`fupan check` prints them. The sentences are the locale tables' (`intake.rule.<kind>`)."""

from __future__ import annotations

from collections.abc import Iterable

from fupan.intake.declaration import tokenize
from fupan.intake.derive import RuleCount
from fupan.presentation import fmt, i18n


def column_label(name: str, locale: str) -> str:
    """What a canonical export column means, in the reader's language; a dimension from the
    data (not a canonical column) keeps its own name."""
    if f"intake.column.{name}" not in i18n.table(locale):
        return name
    return i18n.text(f"intake.column.{name}", locale)


def rule_rows(rules: Iterable[RuleCount], locale: str) -> list[tuple[str, str, str]]:
    """(export, the rule in words, the rows it touched formatted) per rule, in order."""
    return [(rule.export, i18n.text(f"intake.rule.{rule.kind}", locale, **_rule_words(rule.params, locale)),
             fmt.format_value(rule.rows, "number", locale)) for rule in rules]


def _rule_words(params: dict[str, str], loc: str) -> dict[str, str]:
    """A rule's parameters as a reader reads them: column labels, × ÷ for * /, amounts and
    counts formatted, the reason in the page's language."""
    words = dict(params)

    def label(name: str) -> str:
        return column_label(name, loc)

    if "reason_zh" in words:
        words["reason"] = words["reason_en"] if loc == "en" else words["reason_zh"]
    if "how" in words:
        words["how"] = i18n.text(f"intake.how.{words['how']}", loc)
    if "column" in words:
        words["column"] = label(words["column"])
    if "columns" in words:
        words["columns"] = " + ".join(label(c.strip()) for c in words["columns"].split("+"))
    if "expression" in words:
        symbols = {"*": "×", "/": "÷", "-": "−"}
        words["expression"] = " ".join(symbols.get(t, label(t)) for t in tokenize(words["expression"]))
    if "lines" in words:
        words["lines"] = fmt.format_value(float(words["lines"]), "number", loc)
    if "amount" in words:
        words["amount"] = fmt.format_value(float(words["amount"]), "currency", loc)
    return words
