"""Errors for writers: which page, which line, what was written, what is valid, what they meant.

Macro calls are wrapped so that an unknown metric, dimension, period or argument becomes one
`WriterError` carrying the page's file and line. Undefined names (a mistyped macro or variable)
go through `FupanUndefined`. mkdocs-macros prints errors with `format_error`, a single-dispatch
function; registering our types there keeps the message short (no traceback) and the build
still fails (`on_error_fail: true`), leaving no error text in any page.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2.utils import missing
from markupsafe import Markup

from fupan.errors import FupanError, Location

_STATE: dict[str, Any] = {"names": (), "page": None}


class WriterError(FupanError):
    """A mistake in a page's macro call, located (docs/<page>, line N) and explained."""

    def __init__(self, problem: str, *, valid: Iterable[str] = (), wrong: str | None = None,
                 page: Any = None, line: int | None = None, hint: str | None = None):
        self.problem = problem
        self.valid = sorted(set(valid))
        self.wrong = wrong
        self.page_path = _page_path(page if page is not None else _STATE["page"])
        self.line = line if line is not None else template_line()
        self.file_line = _file_line(page if page is not None else _STATE["page"], self.line)
        self.source = _source_line(page if page is not None else _STATE["page"], self.file_line)
        hint = hint or (f'Did you mean "{self.suggestion}"?' if self.suggestion else None)
        super().__init__(self.text(), location=Location(f"docs/{self.page_path}", line=self.file_line), hint=hint)

    @property
    def suggestion(self) -> str | None:
        if self.wrong is None or not self.valid:
            return None
        close = difflib.get_close_matches(self.wrong, self.valid, n=1, cutoff=0.6)
        return close[0] if close else None

    def text(self) -> str:
        where = f"docs/{self.page_path}" + (f", line {self.file_line}" if self.file_line else "")
        lines = [f"{where}: {self.problem}"]
        if self.source:
            lines.append(f"    {self.source.strip()}")
        if self.suggestion:
            lines.append(f'  Did you mean "{self.suggestion}"?')
        if self.valid:
            shown = ", ".join(self.valid[:40]) + (" …" if len(self.valid) > 40 else "")
            lines.append(f"  Valid: {shown}")
        return "\n".join(lines)


def _page_path(page: Any) -> str:
    from fupan.site.editions import source_uri  # in an edition, the translation a writer edits

    return source_uri(getattr(page, "file", None))


def template_line() -> int | None:
    """The Markdown line (after front matter) of the template code running now, if any."""
    frame = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            try:
                return int(template.get_corresponding_lineno(frame.f_lineno))
            except Exception:  # noqa: BLE001 — a best-effort location
                return None
        frame = frame.f_back
    return None


def _front_matter_lines(page: Any) -> int:
    """Lines MkDocs removed from the top of the file (YAML front matter) before rendering."""
    path = getattr(getattr(page, "file", None), "abs_src_path", None)
    if not path or not Path(path).exists():
        return 0
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    if not lines or lines[0].strip() != "---":
        return 0
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return index + 1
    return 0


def _file_line(page: Any, line: int | None) -> int | None:
    return None if line is None else line + _front_matter_lines(page)


def _source_line(page: Any, file_line: int | None) -> str:
    path = getattr(getattr(page, "file", None), "abs_src_path", None)
    if not path or not file_line or not Path(path).exists():
        return ""
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    return lines[file_line - 1] if 0 < file_line <= len(lines) else ""


def set_page(page: Any, names: Iterable[str]) -> None:
    """Remember the page being rendered and the names a writer may use on it."""
    _STATE["page"] = page
    _STATE["names"] = tuple(names)


class FupanUndefined(StrictUndefined):
    """An undefined name fails with the page, line and the closest valid name."""

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        name = self._undefined_name
        if name is None or self._undefined_obj is not missing:
            # an attribute or item of an existing object: keep Jinja's wording
            raise WriterError(self._undefined_message)
        raise WriterError(f'unknown macro or variable "{name}"', valid=_STATE["names"], wrong=name)

    # StrictUndefined binds these to the base method at class creation: rebind to ours.
    __str__ = __iter__ = __len__ = __eq__ = __ne__ = __bool__ = __hash__ = __contains__ = (
        _fail_with_undefined_error
    )


def guard_macro(name: str, fn: Callable[..., Any],
                errors: tuple[type[BaseException], ...] = (FupanError,)) -> Callable[..., Any]:
    """Check the call's arguments against the macro's signature and turn the given errors (a
    writer's mistakes: FupanErrors) into located WriterErrors. Anything else is a bug in fupan
    and propagates as itself, with its traceback."""
    signature = inspect.signature(fn)
    params = [p for p in signature.parameters if p not in ("args", "kwargs")]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_plain_text(a) for a in args)
        kwargs = {k: _plain_text(v) for k, v in kwargs.items()}
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            unknown = next((k for k in kwargs if k not in params), None)
            raise WriterError(f"{name}(): {exc}", valid=params, wrong=unknown) from None
        try:
            return fn(*args, **kwargs)
        except WriterError:
            raise
        except errors as exc:
            raise WriterError(f"{name}(): {exc}", hint=getattr(exc, "hint", None)) from None
        except Exception as exc:
            # A bug: it keeps its type and traceback; the build's message says where it struck.
            if getattr(exc, "fupan_macro", None) is None:
                exc.fupan_macro = name  # type: ignore[attr-defined]
                exc.fupan_line = template_line()  # type: ignore[attr-defined]
            raise

    return wrapper


def _plain_text(value: Any) -> Any:
    """A setting the pages see escaped (plugin.escape_review_settings) as the text it stands
    for: macros escape what they are given, so an escaped name would show its entities."""
    if isinstance(value, Markup):
        return value.unescape()
    if isinstance(value, list | tuple):
        return type(value)(_plain_text(v) for v in value)
    return value


def _format_writer_error(error: WriterError, markdown: str, page: Any) -> str:
    return "fupan: macro error\n" + error.text()


def _format_fupan_error(error: FupanError, markdown: str, page: Any) -> str:
    return "fupan: error\n" + error.text()


def _format_syntax_error(error: TemplateSyntaxError, markdown: str, page: Any) -> str:
    line = _file_line(page, error.lineno)
    source = _source_line(page, line)
    hint = ""
    if "unexpected end of template" in str(error.message) or "expected token" in str(error.message):
        hint = "\n  Hint: every {{ needs a closing }} and every {% a closing %}; " \
               "to show braces literally, wrap them in {% raw %} … {% endraw %}."
    return (f"fupan: Jinja syntax error\ndocs/{_page_path(page)}, line {line}: {error.message}\n"
            f"    {source.strip()}{hint}")


BUG_HINT = ("a fault in the macro's code (fupan's, or this review's own macros), not a mistake in the page: "
            "report it with this message; `mkdocs build -v` prints the Python traceback")


def _template_frame(error: BaseException) -> tuple[int | None, str | None]:
    """The page line (after front matter) whose template code raised `error`, and the name of
    the function it called there (the macro). Jinja rewrites a template's frames in the
    traceback into frames of the template's own lines (marked `__jinja_exception__`)."""
    line, called = None, None
    tb = error.__traceback__
    while tb is not None:
        names = tb.tb_frame.f_globals
        if "__jinja_exception__" in names or "__jinja_template__" in names:
            line = tb.tb_lineno
            if "__jinja_template__" in names:  # a frame Jinja left as it ran: translate its line
                try:
                    line = int(names["__jinja_template__"].get_corresponding_lineno(tb.tb_lineno))
                except Exception:  # noqa: BLE001 — a best-effort location
                    line = None
            called = tb.tb_next.tb_frame.f_code.co_name if tb.tb_next is not None else None
        tb = tb.tb_next
    return line, called


def _format_bug(error: Exception, markdown: str, page: Any) -> str:
    """Any other exception while a page renders: the page, the line, the macro and what failed,
    in one located message (the traceback goes to the debug log)."""
    import logging
    import traceback

    logging.getLogger("mkdocs.plugins.fupan").debug("".join(traceback.format_exception(error)))
    line, called = _template_frame(error)
    macro = getattr(error, "fupan_macro", None) or called
    line = _file_line(page, getattr(error, "fupan_line", None) or line)
    source = _source_line(page, line)
    what = f"{macro}() failed" if macro else "rendering failed"
    where = f"docs/{_page_path(page)}" + (f", line {line}" if line else "")
    text = f"fupan: error in a macro\n{where}: {what}: {type(error).__name__}: {error}"
    if source:
        text += f"\n    {source.strip()}"
    return text + f"\n  Hint: {BUG_HINT}"


def register_formatters() -> None:
    """Make mkdocs-macros print our errors briefly (single dispatch on the error type)."""
    from mkdocs_macros.errors import format_error

    format_error.register(Exception, _format_bug)  # a bug: located, its traceback in the debug log
    format_error.register(FupanError, _format_fupan_error)  # raised outside a macro's guard
    format_error.register(WriterError, _format_writer_error)
    format_error.register(TemplateSyntaxError, _format_syntax_error)
