"""Macro outputs kept across builds, so a rebuild after a text edit renders no macro again.

The result cache (cache.py) spares the queries; this spares the rest of a macro's work (pandas,
Altair specs, formatting), which was most of a warm rebuild. A macro's output depends on: its
arguments; the page it is on (relative links, locale from the front matter, element ids already
used on the page); the data (fingerprint of every dataset file and the contract); the settings
(`extra`); and fupan's code (every file of this package). Its `cache_key` takes all of them.
An entry keeps the output and the side effects to replay on a hit: the element ids the call
claimed on its page, its notices for absent optional data and the figures and tables it
recorded (site/figures.py). Failures are
never stored: a macro that raised raises again on the next build. Writes are atomic.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fupan.site import figures
from fupan.speed.cache import CacheRoot, cache_key, code_version, keep, read_sealed
from fupan.speed.svgrender import tokens_missing_svg


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class MacroOutputs:
    """JSON entries under `<cache_dir>/macros/`, with fresh/rendered counters for the log."""

    def __init__(self, review: Any, extra: dict[str, Any]):
        self.review = review
        self.cache_dir = Path(review.config.cache_dir)
        self.dir = CacheRoot(self.cache_dir).dir("macros")
        contract = review.store.contract.path
        self.base = [code_version(), review.store.fingerprint(),
                     Path(contract).read_bytes() if contract else b"", _json(extra)]
        self.fresh = 0
        self.rendered = 0

    def wrap(self, name: str, macro: Callable[..., Any], also: str = "") -> Callable[..., Any]:
        """`macro`, answered from the cache when the same call was rendered before. `also`:
        anything else the output depends on (the site pages: the commit and build time)."""

        @functools.wraps(macro)
        def cached(*args: Any, **kwargs: Any) -> Any:
            review = self.review
            try:
                call = _json([name, args, kwargs])
            except (TypeError, ValueError):
                return macro(*args, **kwargs)
            page = review.page
            ids_before = review.ids_on_page()
            key = cache_key(*self.base, also, call, review.page_path, str(getattr(page, "url", "")),
                            _json(getattr(page, "meta", None) or {}), _json(ids_before))
            entry = self._get(key)
            if entry is not None:
                self.fresh += 1
                review.claim_ids(entry["ids"])
                for paths in entry["missing"]:
                    review.note_missing(paths)
                figures.replay(entry.get("figures"))
                return entry["output"]
            missing_before = len(review.missing_paths)
            figures_before = figures.mark()
            output = macro(*args, **kwargs)
            self.rendered += 1
            ids_after = review.ids_on_page()
            claimed = {k: v for k, v in ids_after.items() if ids_before.get(k) != v}
            try:
                self._put(key, {"output": output, "ids": claimed,
                                "missing": review.missing_paths[missing_before:],
                                "figures": figures.since(figures_before)})
            except (TypeError, ValueError):
                pass  # an output JSON cannot hold: rendered each time
            return output

        return cached

    def _get(self, key: str) -> dict[str, Any] | None:
        data = read_sealed(self.dir / key[:2] / f"{key}.json")
        if data is None:
            return None  # missing or damaged: render again
        try:
            entry = json.loads(data)
        except ValueError:
            return None
        if not isinstance(entry, dict) or not {"output", "ids", "missing"} <= set(entry):
            return None
        if isinstance(entry["output"], str) and tokens_missing_svg(entry["output"], self.cache_dir):
            return None  # a chart's SVG is gone from the cache (or was never drawn): make it again
        return entry

    def _put(self, key: str, entry: dict[str, Any]) -> None:
        keep(self.dir / key[:2] / f"{key}.json", json.dumps(entry, ensure_ascii=False))
