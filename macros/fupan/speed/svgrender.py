"""Static chart SVGs, drawn by vl-convert in a second process while the build goes on.

Every chart carries an SVG of itself (shown without JavaScript and in print). vl-convert holds
Python's GIL while it draws, after a slow start-up on its first chart, so drawing every chart
on the spot stalled a cold build one chart after the other. So a chart that is not drawn yet
is handed to a worker process (one: the build itself needs the other core), and the page gets
a token in its place, `src="fupan-svg:<key>"`. When MkDocs writes the page
(`on_post_page`), each token becomes the SVG's data URL: drawn by then, or waited for. The
written page is the same as when every chart was drawn on the spot.

SVGs are kept in `<cache>/svg/` by `cache_key` of everything the drawing depends on (spec,
theme, locale, vl-convert's version), written atomically once drawn, so an unchanged chart is
never drawn twice, and a macro output kept between builds (outputs.py) finds its charts there.
"""

from __future__ import annotations

import base64
import re
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fupan.speed.cache import CacheRoot, cache_key, keep, read_sealed

TOKEN_PREFIX = "fupan-svg:"
_TOKEN = re.compile(r'src="fupan-svg:([0-9a-f]{64})"')
_SVG_ID = re.compile(r'\bid="([A-Za-z_-]+)(\d+)"')
DRAWING = 3  # in the cache key: SVGs kept from an earlier way of drawing (or unsealed) are drawn again


@dataclass(frozen=True)
class SvgRequest:
    """What vl-convert needs to draw one chart, and where its SVG is kept."""

    key: str
    path: Path
    spec: dict[str, Any]
    config: dict[str, Any]
    number_locale: str
    time_locale: str


def svg_request(spec: dict[str, Any], config: dict[str, Any], number_locale: str,
                time_locale: str, cache_dir: Path) -> SvgRequest:
    import vl_convert

    key = cache_key(spec, config, number_locale, vl_convert.__version__, DRAWING)
    return SvgRequest(key, svg_path(cache_dir, key), spec, config, number_locale, time_locale)


def svg_path(cache_dir: Path, key: str) -> Path:
    return CacheRoot(cache_dir).dir("svg") / key[:2] / f"{key}.svg"


def draw(request: SvgRequest) -> str:
    """The chart's SVG, drawn by vl-convert with no access to any URL (here or in the worker)."""
    import vl_convert

    return stable_ids(vl_convert.vegalite_to_svg(
        request.spec, config=request.config, allowed_base_urls=[],
        format_locale=request.number_locale, time_format_locale=request.time_locale))


def stable_ids(svg: str) -> str:
    """The SVG with its element ids numbered from 1 in order of appearance, per prefix.

    vl-convert numbers clip paths and gradients by how many it drew before in the same
    process (`clip3`, `clip4` for a process's second chart): the same chart came out with other
    bytes depending on which charts a build drew first, or found in the cache."""
    mapping: dict[str, str] = {}
    counts: dict[str, int] = {}
    for prefix, number in _SVG_ID.findall(svg):
        if prefix + number not in mapping:
            counts[prefix] = counts.get(prefix, 0) + 1
            mapping[prefix + number] = f"{prefix}{counts[prefix]}"
    if all(old == new for old, new in mapping.items()):
        return svg
    # An id appears as id="clip3" and is referred to as url(#clip3) or href="#clip3".
    names = "|".join(re.escape(old) for old in sorted(mapping, key=len, reverse=True))
    return re.sub(rf'(?<=[#"])({names})(?=[)"])', lambda match: mapping[match.group(1)], svg)


def data_url(svg: str) -> str:
    """An SVG as the `src` of an <img>."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


class SvgRenderer:
    """The build's charts waiting for their SVG, and the worker drawing them."""

    def __init__(self, cache_dir: Path):
        self.cache_dir = Path(cache_dir)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[str, tuple[Future[str], SvgRequest]] = {}
        self._kept: dict[str, str] = {}  # SVGs read from the cache and found intact, by key

    def image_source(self, request: SvgRequest) -> str:
        """The `src` of the chart's static image: a token that `resolve` turns into the SVG."""
        if request.key not in self._pending and not self.kept(request.key):
            try:
                future = self._worker().submit(draw, request)
            except (BrokenProcessPool, OSError, ImportError, NotImplementedError):
                # The worker died earlier, or this system cannot start one (no working
                # semaphores, as in some containers): draw here, now.
                future = Future()
                future.set_result(draw(request))
            self._pending[request.key] = (future, request)
        return TOKEN_PREFIX + request.key

    def resolve(self, html: str) -> str:
        """`html` (a written page) with each token replaced by its SVG's data URL."""
        if TOKEN_PREFIX not in html:
            return html
        return _TOKEN.sub(lambda match: f'src="{data_url(self._svg(match.group(1)))}"', html)

    def close(self) -> None:
        """Stop the worker (after the build, or when it failed: charts not needed any more)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()

    def kept(self, key: str) -> bool:
        """Whether the chart's SVG is in the cache, intact (then held for `resolve`); a damaged
        one is removed (see `read_sealed`) and the chart drawn again."""
        if key not in self._kept:
            data = read_sealed(svg_path(self.cache_dir, key))
            if data is None:
                return False
            self._kept[key] = data.decode("utf-8")
        return True

    def _svg(self, key: str) -> str:
        pending = self._pending.pop(key, None)
        if pending is None:  # drawn earlier in this build, or in an earlier one
            if not self.kept(key):
                raise RuntimeError(f"the SVG {svg_path(self.cache_dir, key)} left the cache during the build: "
                                   "build again")
            return self._kept[key]
        future, request = pending
        try:
            svg = future.result()
        except BrokenProcessPool:  # the worker died (killed, out of memory): draw it here
            svg = draw(request)
        keep(request.path, svg)
        self._kept[key] = svg
        return svg

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            # spawn, not fork: this process runs DuckDB's threads, which a fork would copy
            # mid-flight.
            self._pool = ProcessPoolExecutor(max_workers=1,
                                             mp_context=multiprocessing.get_context("spawn"))
        return self._pool


def tokens_missing_svg(html: str, cache_dir: Path) -> bool:
    """Whether `html` (a macro output kept from an earlier build) names a chart whose SVG is no
    longer in the cache, or damaged: then the output is made again."""
    keys = _TOKEN.findall(html)
    if RENDERER is not None and RENDERER.cache_dir == Path(cache_dir):
        return not all([RENDERER.kept(key) for key in keys])  # every one checked: damaged ones go
    return any(read_sealed(svg_path(cache_dir, key)) is None for key in keys)


RENDERER: SvgRenderer | None = None  # the current build's (started by define_env)


def start(cache_dir: Path) -> SvgRenderer:
    """A renderer for this build (the previous one of this process, under `mkdocs serve`, is
    stopped)."""
    global RENDERER
    if RENDERER is not None:
        RENDERER.close()
    RENDERER = SvgRenderer(cache_dir)
    return RENDERER
