"""Records the size of every top-level macro output, for the benchmark's MkDocs "floor" build.

Enabled only when FUPAN_RECORD_MACROS names a file: each top-level call (not calls nested in
another macro's arguments or body) appends one JSON line {page, macro, chars}.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

_DEPTH = {"value": 0}


def recording_enabled() -> bool:
    return bool(os.environ.get("FUPAN_RECORD_MACROS"))


def record(name: str, fn: Callable[..., Any], page_of: Callable[[], str]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _DEPTH["value"] += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            _DEPTH["value"] -= 1
        if _DEPTH["value"] == 0:
            # The size as written: a chart's SVG token becomes its data URL (svgrender.py).
            from fupan.speed import svgrender

            written = str(out) if svgrender.RENDERER is None else svgrender.RENDERER.resolve(str(out))
            with open(os.environ["FUPAN_RECORD_MACROS"], "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"page": page_of(), "macro": name, "chars": len(written)},
                                    ensure_ascii=False) + "\n")
        return out

    return wrapper
