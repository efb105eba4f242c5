"""The writer macros' registry: every macro is a module-level function whose first parameter is
the build's review context, recorded here by the `@macro` decorator in definition order.

`register_all` binds the review once per build and wraps every macro in one place, always in the
same order: an absent optional dataset becomes a notice, writer mistakes become located errors,
the output is kept across builds, its size is recorded (benchmark only) and its HTML is set
aside while Markdown runs.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

# The modules that define macros, in the order their macros are registered with mkdocs-macros.
MACRO_MODULES = ("fupan.site.report_macros", "fupan.site.finding_macros", "fupan.site.section_macros",
                 "fupan.site.export_guide_macros", "fupan.site.page_macros")

Kind = Literal["page", "site"]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Macro:
    """One registered macro and how it is wrapped."""

    fn: Callable[..., Any]  # fn(review, ...)
    kind: Kind  # "site": a page about the site itself; its cached output also depends on the
    # commit and the build time
    missing_notice: bool  # an absent optional dataset shows a notice instead of failing the build
    kept: bool = True  # its output is kept across builds (False: it reads what the cache key lacks)

    @property
    def name(self) -> str:
        return self.fn.__name__


MACROS: dict[str, Macro] = {}


@overload
def macro(fn: F, /) -> F: ...


@overload
def macro(*, kind: Kind = "page", missing_notice: bool = True, kept: bool = True) -> Callable[[F], F]: ...


def macro(fn: Any = None, /, *, kind: Kind = "page", missing_notice: bool = True, kept: bool = True) -> Any:
    """Register a module-level function `fn(review, ...)` as the writer macro named after it.

    `@macro` for a chapter macro; `@macro(kind="site")` for the pages about the site itself;
    `missing_notice=False` when an absent optional dataset must fail rather than show a notice;
    `kept=False` when the output depends on more than its cache key (e.g. the pages' text).
    The function is returned unchanged, so code and tests call it with a review directly.
    """

    def add(f: F) -> F:
        known = MACROS.get(f.__name__)
        if known is not None and (known.fn.__module__, known.fn.__qualname__) != (f.__module__, f.__qualname__):
            raise ValueError(f"macro {f.__name__!r} is defined twice: in {known.fn.__module__} and {f.__module__}")
        if not (inspect.getdoc(f) or "").strip():
            raise ValueError(f"macro {f.__name__!r} needs a docstring: the writers' reference is made of them")
        MACROS[f.__name__] = Macro(f, kind, missing_notice, kept)
        return f

    return add if fn is None else add(fn)


def macros() -> list[Macro]:
    """Every macro, module by module in MACRO_MODULES order, each module's in definition order."""
    for module in MACRO_MODULES:
        importlib.import_module(module)
    order = {module: i for i, module in enumerate(MACRO_MODULES)}
    return sorted(MACROS.values(), key=lambda m: order.get(m.fn.__module__, len(order)))


def bind(fn: Callable[..., Any], review: Any) -> Callable[..., Any]:
    """`fn` with `review` as its first argument. The name, docstring and signature (without
    `review`) stay those of `fn`: the writers' macro reference is generated from them."""

    @functools.wraps(fn)
    def bound(*args: Any, **kwargs: Any) -> Any:
        return fn(review, *args, **kwargs)

    signature = inspect.signature(fn)
    bound.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:])
    return bound


def bound_macros(review: Any) -> dict[str, Callable[..., Any]]:
    """Every macro bound to this build's review, an absent optional dataset shown as a notice
    where the macro asks for it: what a page calls, before error location and caching."""
    from fupan.site.report_macros import _guard_missing

    bound: dict[str, Callable[..., Any]] = {}
    for m in macros():
        fn = bind(m.fn, review)
        bound[m.name] = _guard_missing(review, fn) if m.missing_notice else fn
    return bound


def register_all(env: Any, review: Any, errors: tuple[type[BaseException], ...], site_key: str) -> None:
    """Wrap every macro for this build and register it with mkdocs-macros.

    `errors`: the exceptions shown to the writer as located macro errors. `site_key`: what the
    site pages' outputs also depend on (the commit and the build time).
    """
    from fupan.site.writer_errors import guard_macro
    from fupan.speed import slots
    from fupan.speed.outputs import MacroOutputs
    from fupan.speed.recording import record, recording_enabled

    bound = bound_macros(review)
    # Every macro's output is kept across builds. The pages about the site itself also show
    # the commit, the build time and the data files' last commits: their key adds both.
    outputs = MacroOutputs(review, env.conf.get("extra") or {})
    review.outputs = outputs
    for name, fn in bound.items():
        review.macro_registry[name] = guard_macro(name, fn, errors)
        also = site_key if MACROS[name].kind == "site" else ""
        registered = (outputs.wrap(name, review.macro_registry[name], also) if MACROS[name].kept
                      else review.macro_registry[name])
        if recording_enabled():  # benchmark only: sizes for the MkDocs floor build
            registered = record(name, registered, lambda: review.page_path)
        env.macro(slots.wrap(registered), name)
