"""`fupan serve`'s live preview: MkDocs' live-reload server, kept up through failed builds.

`mkdocs serve` ends when a page's macro fails (mkdocs-macros exits the process), and any other
failed rebuild leaves the browser waiting with no word. Here every build writes into a fresh
folder, and:

- a build that succeeds is served from then on, and the open pages reload;
- a build that fails leaves the last good build served, with the error (page, line, the line
  written, did-you-mean) over every page until a build succeeds; the open pages reload to show
  it. Before any good build, every page is the error.

Each build holds the project's build lock (publish.py): a preview and a CI build of one
checkout take turns instead of racing for the caches.

    python -m fupan.site.preview -f mkdocs.yml -a 127.0.0.1:8000   (what `fupan serve` runs)
"""

from __future__ import annotations

import argparse
import html
import logging
import re
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mkdocs.livereload import LiveReloadServer, _serve_url

from fupan.site.publish import project_cache_dir, project_lock, remove

ERROR_ID = "fupan-preview-error"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MACROS_PREFIX = re.compile(r"^\[macros\] - (?:ERROR\b\s*-?\s*)?")


class PreviewServer(LiveReloadServer):
    """The live-reload server, showing the last build's error over every page while it stands."""

    error: str | None = None
    has_good_build = False

    def _inject_js_into_html(self, content: bytes, epoch: int) -> bytes:
        content = super()._inject_js_into_html(content, epoch)
        return content if self.error is None else with_error(content, self.error)

    def error_page(self) -> bytes:
        """The page for an address the served build lacks (all of them before a good build) while
        a build failed: the error, reloading when fixed."""
        page = b"<!doctype html><html><head><meta charset=\"utf-8\"><title>fupan: build failed</title>" \
               b"</head><body></body></html>"
        page = LiveReloadServer._inject_js_into_html(self, page, self._visible_epoch)
        return with_error(page, self.error or "", LAST_GOOD if self.has_good_build else NONE_GOOD)


LAST_GOOD = "This page is from the last good build; fix the error and save, and it reloads by itself."
NONE_GOOD = "No build has succeeded yet; fix the error and save, and this page reloads by itself."


def with_error(page: bytes, error: str, note: str = LAST_GOOD) -> bytes:
    """`page` with the error shown on top, right after its <body> tag."""
    box = (f'<div id="{ERROR_ID}" role="alert" style="position:fixed;top:0;left:0;right:0;z-index:100000;'
           "max-height:80vh;overflow:auto;margin:0;padding:1rem 1.5rem;background:#fff4f4;color:#600;"
           "border-bottom:4px solid #c62828;box-shadow:0 4px 16px rgba(0,0,0,.3);"
           'font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;text-align:left">'
           f"<strong>fupan serve: the last build failed.</strong> {html.escape(note)}"
           f'<pre style="white-space:pre-wrap;margin:.75rem 0 0;font:inherit">{html.escape(error)}</pre></div>')
    match = re.search(rb"<body[^>]*>", page)
    at = match.end() if match else 0
    return page[:at] + box.encode("utf-8") + page[at:]


class _Collector(logging.Handler):
    """The warnings and errors MkDocs and its plugins log during one build."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, name: str = "", level: int = logging.WARNING) -> list[str]:
        return [_MACROS_PREFIX.sub("", _ANSI.sub("", record.getMessage())).strip()
                for record in self.records if record.name.startswith(name) and record.levelno >= level]


def describe(exc: BaseException, collected: _Collector) -> tuple[str, bool]:
    """What a failed build says to its writer, in fupan's own words where there are some, and
    whether MkDocs has logged it already (in the terminal)."""
    from mkdocs.exceptions import Abort, MkDocsException

    from fupan.errors import FupanError

    if isinstance(exc, Abort):  # (a SystemExit too) a plugin's error, logged by MkDocs before it aborted
        logged = collected.messages("", logging.ERROR)
        return ("\n".join(logged), True) if logged else (str(exc), False)
    if isinstance(exc, SystemExit):  # mkdocs-macros logged the macro's error, then exited
        logged = collected.messages("mkdocs.plugins.mkdocs_macros")
        if logged:
            return logged[-1], True
        exc = exc.__context__ or exc
    if isinstance(exc, FupanError):
        return exc.text(), False
    if isinstance(exc, MkDocsException):
        return str(exc), False
    return "".join(traceback.format_exception(exc)).rstrip(), False  # a bug: its traceback


class Preview:
    """The builds of one preview: each into a new folder under one temporary root."""

    def __init__(self, config_file: str, dev_addr: str):
        self.config_file = config_file
        self.dev_addr = dev_addr
        self.root = Path(tempfile.mkdtemp(prefix="fupan-preview-"))
        self.count = 0
        host, _, port = dev_addr.rpartition(":")
        self.host, self.port, self.mount_path = host or "127.0.0.1", int(port), "/"
        self.server: PreviewServer | None = None

    @property
    def url(self) -> str:
        return _serve_url(self.host, self.port, self.mount_path)

    def load(self) -> Any:
        """The config of the next build, writing into a fresh folder."""
        from mkdocs.config import load_config

        self.count += 1
        config = load_config(config_file=self.config_file, site_dir=str(self.root / str(self.count)),
                             dev_addr=self.dev_addr)
        if self.server is None:  # the address is fixed once the server exists
            self.host, self.port = config.dev_addr.host, config.dev_addr.port
            self.mount_path = urlsplit(config.site_url or "/").path  # served under site_url's path
        config.site_url = self.url
        return config

    def build(self, config: Any = None) -> None:
        """One build; never raises (but on Ctrl+C): a failure is shown until a build succeeds."""
        from mkdocs.commands.build import build

        collected = _Collector()
        mkdocs_log = logging.getLogger("mkdocs")
        mkdocs_log.addHandler(collected)
        site_dir = None
        try:
            config = self.load() if config is None else config
            site_dir = Path(config.site_dir)
            cache = project_cache_dir(config, Path(config.config_file_path))
            with project_lock(cache, notify=lambda message: print(f"fupan serve: {message}", file=sys.stderr,
                                                                  flush=True)):
                build(config, serve_url=self.url)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 — the preview outlives any failed build
            if _STOPPING:  # Ctrl+C surfaced as another error (DuckDB's "Query interrupted", say)
                raise KeyboardInterrupt from None
            self.failed(*describe(exc, collected), site_dir)
            return
        finally:
            mkdocs_log.removeHandler(collected)
        self.succeeded(site_dir)

    def failed(self, error: str, logged: bool, site_dir: Path | None) -> None:
        renderer = getattr(sys.modules.get("fupan.speed.svgrender"), "RENDERER", None)
        if renderer is not None:
            renderer.kill()  # its charts are for pages that will not be shown
        if site_dir is not None:
            remove(site_dir)
        assert self.server is not None
        self.server.error = error
        if not logged:  # what MkDocs logged is in the terminal already
            print(f"fupan serve: the build failed:\n{error}", file=sys.stderr)
        over = " (over the last good build)" if self.server.has_good_build else ""
        print(f"fupan serve: the browser shows the error until it is fixed{over}", file=sys.stderr, flush=True)

    def succeeded(self, site_dir: Path) -> None:
        assert self.server is not None
        previous, self.server.root = Path(self.server.root), str(site_dir)
        if previous != site_dir and self.root in previous.parents:
            remove(previous)
        if self.server.error is not None:
            print("fupan serve: the build succeeds again; pages reload", file=sys.stderr, flush=True)
        self.server.error = None
        self.server.has_good_build = True

    def error_handler(self, code: int) -> bytes | None:
        assert self.server is not None
        if self.server.error is not None:
            return self.server.error_page()
        page = Path(self.server.root) / f"{code}.html"
        return page.read_bytes() if code in (404, 500) and page.is_file() else None

    def run(self) -> int:
        """Build, serve, rebuild on changes, until Ctrl+C."""
        config = None
        try:
            config = self.load()
            config.plugins.on_startup(command="serve", dirty=False)
        except (Exception, SystemExit):  # noqa: BLE001 — shown by the first build below
            config = None
        empty = self.root / "0"
        empty.mkdir()
        self.server = PreviewServer(builder=self.build, host=self.host, port=self.port, root=str(empty),
                                    mount_path=self.mount_path)
        self.server.error_handler = self.error_handler
        try:
            print("fupan serve: building the preview", file=sys.stderr, flush=True)
            self.build(config)
            watched = [Path(self.config_file).resolve().parent / "docs", Path(self.config_file).resolve()]
            if config is not None:
                watched = [Path(config.docs_dir), Path(config.config_file_path)]
                watched += [Path(path) for path in config.watch]
                self.server = config.plugins.on_serve(self.server, config=config, builder=self.build)
            for path in watched:
                if path.exists():
                    self.server.watch(str(path))
            try:
                self.server.server_bind()
                self.server.server_activate()
            except OSError as exc:
                print(f"fupan serve: cannot listen on {self.host}:{self.port} ({exc.strerror or exc}); "
                      "choose another address with -a HOST:PORT", file=sys.stderr)
                return 1
            print(f"fupan serve: {self.url} (Ctrl+C stops)", file=sys.stderr, flush=True)
            # serve() binds again: the socket is bound and listening already.
            self.server.server_bind = self.server.server_activate = lambda: None
            try:
                self.server.serve()
            except KeyboardInterrupt:
                pass
            finally:
                self.server.shutdown()
        finally:
            if config is not None:
                config.plugins.on_shutdown()
            remove(self.root)
        return 0


_STOPPING: list[int] = []


def _stop(signum: int, frame: Any) -> None:
    """SIGTERM (`fupan serve` restarting the preview) stops it like Ctrl+C: folders removed."""
    _STOPPING.append(signum)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fupan.site.preview", description=__doc__)
    parser.add_argument("-f", "--config-file", default="mkdocs.yml")
    parser.add_argument("-a", "--dev-addr", default="127.0.0.1:8000")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started this one is gone (fupan serve)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\[?[^\s\]]*\]?:\d{1,5}", args.dev_addr):
        parser.error(f"-a {args.dev_addr}: write HOST:PORT, e.g. 127.0.0.1:8000")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop)
    if args.exit_with_parent:
        from fupan.speed.lifetime import exit_with_parent

        exit_with_parent(signum=signal.SIGTERM)  # stops like SIGTERM: its folders removed
    return Preview(args.config_file, args.dev_addr).run()


if __name__ == "__main__":
    sys.exit(main())
