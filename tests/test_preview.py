"""The preview's error text: in fupan's words, escaped into the page, above the page's content."""

from __future__ import annotations

import logging

from fupan.errors import FupanError, Location
from fupan.site.preview import ERROR_ID, LAST_GOOD, NONE_GOOD, _Collector, describe, with_error
from mkdocs.exceptions import Abort, PluginError


def test_the_error_is_escaped_and_shown_first_in_the_body():
    page = b'<html><head><title>t</title></head><body class="x"><h1>Content</h1></body></html>'
    shown = with_error(page, 'docs/index.md, line 3: unknown macro "<script>alert(1)</script>" & more').decode()
    body = shown.index('<body class="x">') + len('<body class="x">')
    assert shown[body:].startswith(f'<div id="{ERROR_ID}" role="alert"')
    assert "&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; &amp; more" in shown and "<script>" not in shown
    assert LAST_GOOD in shown and shown.endswith("<h1>Content</h1></body></html>")
    assert NONE_GOOD in with_error(page, "x", NONE_GOOD).decode()


def test_describe_uses_fupans_words():
    collected = _Collector()
    # A data error: define_env raises PluginError; MkDocs logs it, then raises Abort.
    collected.emit(logging.LogRecord("mkdocs.commands.build", logging.ERROR, "", 0,
                                     "fupan: the review cannot be built.\ndata/x.csv, row 2: bad", None, None))
    assert describe(Abort("Aborted with a BuildError!"), collected) == (
        "fupan: the review cannot be built.\ndata/x.csv, row 2: bad", True)

    # A macro error: mkdocs-macros logs our formatter's text (with its prefix and colours), then exits.
    macro = _Collector()
    macro.emit(logging.LogRecord("mkdocs.plugins.mkdocs_macros.util", logging.WARNING, "", 0,
                                 "\x1b[31m[macros] - ERROR\x1b[0m fupan: macro error\ndocs/a.md, line 4: oops",
                                 None, None))
    assert describe(SystemExit(100), macro) == ("fupan: macro error\ndocs/a.md, line 4: oops", True)

    # Raised without a log: the error's own located text, or MkDocs' message.
    error = FupanError("year must be a number", location=Location("mkdocs.yml", key="extra.review.year"),
                       hint="write `year: 2025`")
    assert describe(error, _Collector()) == (error.text(), False)
    assert describe(PluginError("theme missing"), _Collector()) == ("theme missing", False)

    # Anything else is a bug: its traceback, so it can be reported.
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as exc:
        text, logged = describe(exc, _Collector())
    assert text.startswith("Traceback (most recent call last):")
    assert text.endswith("ZeroDivisionError: division by zero") and logged is False
