"""The macro registry: every macro the docs call is registered, documented, and bound to a build's
review with the signature the writers' reference shows."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from fupan.site.registry import MACROS, bind, bound_macros, macro, macros

DOCS = Path(__file__).resolve().parents[1] / "docs"
# A macro call opening a Jinja expression or condition: {{ value(…, {%- if has_data(…
CALL = re.compile(r"\{[{%]-?\s*(?:(?:el)?if\s+)?(?:not\s+)?([a-z_]+)\(")


def docs_calls() -> set[str]:
    return {name for page in DOCS.rglob("*.md") for name in CALL.findall(page.read_text(encoding="utf-8"))}


def test_the_docs_call_only_registered_macros():
    used = docs_calls()
    registered = {m.name for m in macros()}
    assert {"value", "table", "kpis", "has_data", "macro_reference", "about"} <= used  # the grep works
    assert used - registered == set()


def test_every_macro_has_a_docstring_with_a_first_line_and_takes_the_review_first():
    for m in macros():
        doc = inspect.getdoc(m.fn) or ""
        assert doc.splitlines() and doc.splitlines()[0].strip(), m.name
        assert next(iter(inspect.signature(m.fn).parameters)) == "review", m.name


def test_the_registry_holds_the_48_macros_module_by_module_with_their_wrappers():
    found = macros()
    names = [m.name for m in found]
    assert len(names) == len(set(names)) == 48
    assert names[:3] == ["kpis", "value", "monthly_trend"] and names[-1] == "macro_reference"
    modules = [m.fn.__module__.rsplit(".", 1)[1] for m in found]
    assert modules == sorted(modules, key=["report_macros", "finding_macros", "section_macros",
                                           "export_guide_macros", "page_macros"].index)
    assert {m.name for m in found if m.kind == "site"} == {"about", "reminders", "data_sources", "export_rules",
                                                           "data_checks", "macro_reference"}
    assert {m.name for m in found if not m.missing_notice} == {"has_data", "about", "reminders", "data_sources",
                                                               "export_rules", "data_checks", "macro_reference"}
    # reminders() reads the pages' Markdown, which a kept output's key does not cover
    assert {m.name for m in found if not m.kept} == {"reminders"}


def test_a_macro_defined_twice_or_without_a_docstring_is_refused():
    def value(review):  # the report macro's name, from another module
        """Shadows the report macro."""

    with pytest.raises(ValueError, match="defined twice"):
        macro(value)

    def undocumented_macro(review):
        return ""

    with pytest.raises(ValueError, match="docstring"):
        macro(undocumented_macro)
    assert "undocumented_macro" not in MACROS
    assert MACROS["value"].fn.__module__ == "fupan.site.report_macros"


def test_binding_keeps_name_docstring_and_the_signature_without_review(tmp_path):
    from fupan.site.report_macros import value
    from fupan.site.writer_errors import guard_macro
    from tiny import tiny_review

    review = tiny_review(tmp_path)
    bound = bind(value, review)
    assert bound.__name__ == "value" and inspect.getdoc(bound) == inspect.getdoc(value)
    # As the macro reference page showed it before the registry existed.
    shown = ("(metric: 'str', period: 'str | int | None' = None, compare: 'str | None' = None, "
             "filters: 'dict | None' = None, locale: 'str | None' = None) -> 'str'")
    assert str(inspect.signature(bound)) == shown
    assert str(inspect.signature(guard_macro("value", bound, (ValueError,)))) == shown
    # 2025 net sales of the tiny shop: 70 + 100 + 36 (tests/tiny.py).
    assert bound("net_sales") == value(review, "net_sales")
    assert "¥206.00" in bound("net_sales")


def test_bound_macros_mark_absent_optional_data_for_the_section_notice(tmp_path):
    from fupan.semantics.engine import MissingData
    from fupan.site.absent import absent_in, settle
    from fupan.site.report_macros import funnel, missing_notice
    from tiny import tiny_review

    review = tiny_review(tmp_path)  # no funnel file
    with pytest.raises(MissingData):
        funnel(review)
    page = bound_macros(review)
    output = page["funnel"]()
    assert absent_in(output) == ["funnel"]
    assert review.missing_paths == ["funnel"]
    settled = settle(f"## 2.2\n\n{output}\n", lambda d: missing_notice(review, d, "zh-CN")).markdown
    assert "fupan-notice" in settled and "data/funnel.csv" in settled
    assert page["has_data"]("funnel") is False
