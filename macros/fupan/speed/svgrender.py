"""Static chart SVGs, drawn by vl-convert in a second process while the build goes on.

Every chart carries an SVG of itself (shown without JavaScript and in print). vl-convert holds
Python's GIL while it draws, after a slow start-up on its first chart, so drawing every chart
on the spot stalled a cold build one chart after the other. So a chart that is not drawn yet
is handed to a worker process (one: the build itself needs the other core), and the page gets
a token in its place, `src="fupan-svg:<key>"`. When MkDocs writes the page
(`on_post_page`), each token becomes the SVG's data URL: drawn by then, or waited for. The
written page is the same as when every chart was drawn on the spot.

SVGs are kept in `<cache>/svg/` by `cache_key` of everything the drawing depends on (spec,
theme, locale, vl-convert's version, the fonts), written atomically once drawn, so an unchanged
chart is never drawn twice, and a macro output kept between builds (outputs.py) finds its charts
there.

Fonts: vl-convert measures every label with the fonts it finds, and where the first family named
lacks a glyph it takes one from any font on the machine, so the same chart had other label widths
(or clipped Chinese labels) on another machine. So fupan declares its font (`FONT_PACKAGE`), the
theme names its family first (theme.CHART_FONT), and every process that draws registers its
files before the first chart; their fingerprint is part of each SVG's key. Without the package
the build warns once and the machine's fonts decide.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import logging
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fupan.speed.cache import CacheRoot, cache_key, keep, read_sealed

TOKEN_PREFIX = "fupan-svg:"
_TOKEN = re.compile(r'src="fupan-svg:([0-9a-f]{64})"')
_SVG_ID = re.compile(r'\bid="([A-Za-z_-]+)(\d+)"')
DRAWING = 3  # in the cache key: SVGs kept from an earlier way of drawing (or unsealed) are drawn again
FONT_PACKAGE = "weblate-fonts"  # Weblate's fonts, Kurinto Sans among them (SIL Open Font Licence)
_FONT_MODULE = "weblate_fonts"
_FONT_FOLDER = ("static", "weblate_fonts", "kurinto", "ttf")
# Kurinto Sans' Simplified Chinese faces (Latin and digits included). Only these are handed to
# vl-convert: the package's other faces (JP, KR, TC, Latin only) carry the same family name, and
# vl-convert would lay text out with whichever of them it happened to find first.
FONT_FILES = ("KurintoSansSC-Rg.ttf", "KurintoSansSC-Bd.ttf")
NO_FONTS = "system fonts"  # the fingerprint without fupan's fonts

log = logging.getLogger("fupan")
_registered: set[Path] = set()  # font folders this process handed to vl-convert
_warned = False


@dataclass(frozen=True)
class ChartFonts:
    """The fonts charts are laid out with: a folder for vl-convert (None: the machine's fonts
    only) and a fingerprint of its files for the SVGs' cache key."""

    folder: Path | None
    fingerprint: str


@dataclass(frozen=True)
class SvgRequest:
    """What vl-convert needs to draw one chart, and where its SVG is kept."""

    key: str
    path: Path
    spec: dict[str, Any]
    config: dict[str, Any]
    number_locale: str
    time_locale: str
    fonts: Path | None = None  # the font folder to register before drawing (ChartFonts.folder)


def svg_request(spec: dict[str, Any], config: dict[str, Any], number_locale: str,
                time_locale: str, cache_dir: Path) -> SvgRequest:
    import vl_convert

    fonts = chart_fonts(cache_dir)
    key = cache_key(spec, config, number_locale, vl_convert.__version__, DRAWING, fonts.fingerprint)
    return SvgRequest(key, svg_path(cache_dir, key), spec, config, number_locale, time_locale, fonts.folder)


def font_files() -> list[Path]:
    """The chart font's files where its package installed them; [] without the package."""
    try:
        module = importlib.util.find_spec(_FONT_MODULE)
    except (ImportError, ValueError):
        module = None
    if module is None or not module.origin:
        return []
    folder = Path(module.origin).parent.joinpath(*_FONT_FOLDER)
    files = [folder / name for name in FONT_FILES]
    return files if all(path.is_file() for path in files) else []


def chart_fonts(cache_dir: Path) -> ChartFonts:
    """The chart fonts, in `<cache>/svg/fonts/<fingerprint>/` (links to the package's files).
    Without them, the machine's fonts and one warning per process saying what to install.
    The files are fingerprinted by content, like data files (XXH3: a few milliseconds)."""
    global _warned
    from fupan.data.store import file_hash

    files = font_files()
    if not files:
        if not _warned:
            _warned = True
            log.warning("fupan: the charts' font is missing (Kurinto Sans, from the Python package %s): static "
                        "charts are laid out with this machine's fonts, so they differ from machine to machine "
                        "and Chinese labels may be cut off. Install it: pip install %s",
                        FONT_PACKAGE, FONT_PACKAGE)
        return ChartFonts(None, NO_FONTS)
    hashes = [file_hash(path) for path in files]
    fingerprint = cache_key([(path.name, digest) for path, digest in zip(files, hashes, strict=True)])
    folder = CacheRoot(cache_dir).dir("svg") / "fonts" / fingerprint[:16]
    # The copies are checked like any cached file: a damaged one would lay charts out wrong.
    if not all((folder / path.name).is_file() and file_hash(folder / path.name) == digest
               for path, digest in zip(files, hashes, strict=True)):
        _gather(files, folder)
    return ChartFonts(folder, fingerprint)


def _gather(files: list[Path], folder: Path) -> None:
    """`folder` holding copies of `files`, made aside and renamed into place, so no process
    registers a half-made folder. Copies, not links: whatever happens to a cache folder (cleared,
    damaged) must never reach the installed package's files."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        for path in files:
            shutil.copyfile(path, aside / path.name)
        try:
            os.replace(aside, folder)
        except OSError:  # another build made it meanwhile
            pass
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def register_fonts(folder: Path | None) -> None:
    """Hand the chart fonts to this process's vl-convert (once per folder), before it draws."""
    if folder is not None and folder not in _registered:
        import vl_convert

        vl_convert.register_font_directory(str(folder))
        _registered.add(folder)


def svg_path(cache_dir: Path, key: str) -> Path:
    return CacheRoot(cache_dir).dir("svg") / key[:2] / f"{key}.svg"


def draw(request: SvgRequest) -> str:
    """The chart's SVG, drawn by vl-convert with no access to any URL (here or in the worker)."""
    import vl_convert

    register_fonts(request.fonts)
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
                # Only the first chart starts the worker: the later ones need no holding back.
                with _uninterrupted() if self._pool is None else contextlib.nullcontext():
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

    def kill(self) -> None:
        """Stop the worker at once, mid-chart (an interrupted build: nothing waits for its SVGs)."""
        if self._pool is not None:
            # The executor has no public way to stop a running task: end its processes.
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.kill()
            manager = getattr(self._pool, "_executor_manager_thread", None)
            self._pool.shutdown(wait=False, cancel_futures=True)
            # Its manager thread sees the dead worker and closes the executor's wake-up pipe; an
            # exit before it has would write to that pipe from concurrent.futures' exit hook and
            # print a traceback after "interrupted" (seen on a loaded machine).
            if manager is not None:
                manager.join(timeout=10)
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
            # mid-flight. The worker exits when the build is killed (lifetime.py).
            self._pool = ProcessPoolExecutor(max_workers=1,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_start, initargs=(os.getpid(),))
        return self._pool


def _worker_start(build: int) -> None:
    """The worker ignores Ctrl+C, which a terminal sends to the build and the worker alike (it
    printed a KeyboardInterrupt traceback): the interrupted build kills it, and it exits when
    the build is gone however it ended (lifetime.py)."""
    from fupan.speed.lifetime import exit_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(build)


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ctrl+C and SIGTERM wait until the block is done. The first chart starts the worker: a
    signal between spawning it and handing it its start-up data left it reading a closed pipe,
    and it printed a traceback into the build's log. Held back, the signal interrupts the build
    just after, and the interrupted build kills the worker it now knows. Held back twice: by a
    handler that notes it (any thread may receive it, DuckDB's too) and by this thread's mask,
    which the worker inherits until it ignores Ctrl+C itself (`_worker_start`)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    signals = (signal.SIGINT, signal.SIGTERM)
    handlers = {signum: signal.signal(signum, lambda signum, frame: held.append(signum)) for signum in signals}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set(signals))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a signal pending for this thread comes now…
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        if held:  # … and one another thread took, here
            signal.raise_signal(held[0])


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
