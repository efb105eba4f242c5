"""Shared fixtures: one strict build of the repo's site, a local server for it, and a headless
Chromium that records every request and console error of each test.

The browser is the system's Chromium (`/usr/bin/chromium`); Playwright's own browser download is
never used, so the suite runs offline. Every browser test fails when the page asks any host but
the local server for anything, or logs an error to the console.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
for _path in (str(TESTS),):
    if _path not in sys.path:
        sys.path.insert(0, _path)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SOURCE_DATE_EPOCH = "1700000000"
# Developers without the generated sample data can point the browser tests at the tiny shop:
# FUPAN_BROWSER_PROJECT=tiny. The default (and CI) is the repo's own site and data.
BROWSER_PROJECT = os.environ.get("FUPAN_BROWSER_PROJECT", "repo")


# The macro reference page renders every macro's example live, so with the tiny shop (no ad,
# funnel, inventory ... files) it shows missing-data notices, which are warnings and fail a strict
# build. Tiny builds replace its body (its nav entry stays); it is not what they test.
STUB_PAGES = {"guide/macros.md": "# 宏参考\n\n（本测试不渲染宏示例。）\n"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_env(site_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.pop("FUPAN_SITE_URL", None)
    if site_url:
        env["FUPAN_SITE_URL"] = site_url
    return env


def mkdocs_command(site_dir: Path) -> list[str]:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    exe = [str(mkdocs)] if mkdocs.exists() else [sys.executable, "-m", "mkdocs"]
    return [*exe, "build", "--strict", "-d", str(site_dir)]


def run_build(project: Path, site_dir: Path, site_url: str | None = None,
              timeout: float = 300, extra_env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict -d site_dir` in `project`, output captured."""
    return subprocess.run(
        mkdocs_command(site_dir), cwd=project, env={**build_env(site_url), **(extra_env or {})},
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def run_fupan(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`python -m fupan ARGS` in `project`, with the tests' build environment, output captured."""
    return subprocess.run([sys.executable, "-m", "fupan", *args], cwd=project, env=build_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


def check_fails(project: Path, expected: list[str]) -> str:
    """`fupan check` in `project` fails, prints every text of `expected` and no traceback; its output."""
    result = run_fupan(project, "check")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    for text in expected:
        assert text in output, output[-3000:]
    assert "Traceback" not in output
    return output


def processes_in(folder: Path) -> list[int]:
    """Processes whose working folder is `folder` (a build and the workers it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="session")
def tiny_project_factory(tmp_path_factory: pytest.TempPathFactory):
    """make_project(...) of tests/tiny.py in a fresh temp dir."""
    from tiny import make_project

    def make(name: str = "tiny", **kwargs) -> Path:
        return make_project(tmp_path_factory.mktemp(name) / "project", **kwargs)

    return make


def data_stamp(project: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file in the project's data/, to notice data changed after a build."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted((project / "data").glob("*"))
            if p.is_file() and p.suffix in (".parquet", ".csv", ".xlsx", ".yml")}


@dataclass(frozen=True)
class BuiltSite:
    site_dir: Path
    port: int
    project: Path  # where mkdocs.yml and data/ of the built site are
    data_stamp: dict[str, tuple[int, int]] = field(default_factory=dict)  # data/ when built

    def assert_data_unchanged(self) -> None:
        changed = sorted(name for name, stamp in data_stamp(self.project).items()
                         if self.data_stamp.get(name) != stamp)
        changed += sorted(set(self.data_stamp) - set(data_stamp(self.project)))
        assert not changed, (f"data/ changed after the site was built ({changed}): "
                             "re-run once the data files stop changing")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


class _RepoBuild:
    """The repo site's build, started as soon as collection shows a test needs it, so it runs
    while the other tests (e.g. the tiny builds) do."""

    def __init__(self) -> None:
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="fupan-site-"))
        self.site_dir = self.tmp / "site"
        self.data_stamp = data_stamp(REPO)
        self.log = (self.tmp / "build.out").open("w+", encoding="utf-8")
        self.err = (self.tmp / "build.err").open("w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            mkdocs_command(self.site_dir), cwd=REPO, stdout=self.log, stderr=self.err, text=True,
            env=build_env(f"http://127.0.0.1:{self.port}/"))

    def wait(self, timeout: float = 600) -> tuple[int, str, str]:
        code = self.proc.wait(timeout=timeout)
        self.log.seek(0)
        self.err.seek(0)
        return code, self.log.read(), self.err.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        self.err.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


_repo_build: _RepoBuild | None = None


# The longest test files start first, so that with one process per core (pytest-xdist, a file
# per process) the run does not end with one of them running alone.
LONGEST_FIRST = ("test_spark.py", "test_build_safety.py", "test_cache_integrity.py", "test_bad_inputs.py")
MAX_WORKERS = 4  # each process may build the sample and start a JVM: bounded by memory, not cores


def pytest_xdist_auto_num_workers(config) -> int:
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


@pytest.hookimpl(trylast=True)  # after -k / -m deselection
def pytest_collection_modifyitems(session, config, items) -> None:
    global _repo_build
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept otherwise
    needs_site = any("built_site" in getattr(item, "fixturenames", ()) for item in items)
    if (needs_site and BROWSER_PROJECT == "repo" and _repo_build is None
            and (REPO / "data" / "orders.parquet").exists() and not config.option.collectonly):
        _repo_build = _RepoBuild()


def pytest_unconfigure(config) -> None:
    if _repo_build is not None:
        _repo_build.close()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory,
               request: pytest.FixtureRequest) -> BuiltSite:
    """The repo's own site, built once per session with --strict for the browser tests."""
    if BROWSER_PROJECT == "tiny":
        port = free_port()
        project = request.getfixturevalue("tiny_project_factory")("browser", docs=STUB_PAGES)
        site_dir = tmp_path_factory.mktemp("built") / "site"
        stamp = data_stamp(project)
        result = run_build(project, site_dir, f"http://127.0.0.1:{port}/")
        code, stdout, stderr = result.returncode, result.stdout, result.stderr
    else:
        project = REPO
        if _repo_build is None:
            pytest.fail("data/orders.parquet is missing: generate the sample data first "
                        "(or run with FUPAN_BROWSER_PROJECT=tiny)", pytrace=False)
        port, site_dir, stamp = _repo_build.port, _repo_build.site_dir, _repo_build.data_stamp
        code, stdout, stderr = _repo_build.wait()
    if code != 0:
        pytest.fail(f"mkdocs build --strict of {project} failed (exit {code}):\n"
                    f"{stderr[-8000:]}\n{stdout[-2000:]}", pytrace=False)
    return BuiltSite(site_dir=site_dir, port=port, project=project, data_stamp=stamp)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    """Keeps dropped connections out of the test output: the browser drops requests it no
    longer needs when a page navigates, which the standard server prints as a traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serving(directory: Path, port: int) -> Iterator[None]:
    """`directory` served as a static site on 127.0.0.1:`port` while the block runs."""
    server = _QuietServer(("127.0.0.1", port), functools.partial(_QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site_server(built_site: BuiltSite):
    """Serves the built site on 127.0.0.1:<port> (the port its site_url names); yields the URL."""
    with serving(built_site.site_dir, built_site.port):
        yield built_site.base_url


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install the system browser with "
                    "`apt-get install -y chromium` (the tests never download one)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageLog:
    """What one test's page did on the network and console."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def hosts(self) -> set[str]:
        return {urlsplit(u).netloc for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob")}


def _is_local(url: str, host: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or (
        parts.scheme in ("http", "https") and parts.netloc == host)


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser, built_site: BuiltSite, site_server: str, page_log: PageLog):
    """A fresh light-scheme page; after the test: no console errors, no request off the server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light",
                                  locale="zh-CN", service_workers="block")
    context.set_default_timeout(15_000)

    def on_request(req) -> None:
        page_log.requests.append(req.url)

    def on_route(route) -> None:
        # Record (above) and refuse anything off the local server, so a CDN link cannot hang.
        if _is_local(route.request.url, built_site.host):
            route.continue_()
        else:
            route.abort()

    context.on("request", on_request)
    context.route("**/*", on_route)
    pg = context.new_page()
    def on_console(msg) -> None:
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            page_log.console_errors.append(f"console.error: {msg.text} ({where})")

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: page_log.console_errors.append(f"pageerror: {exc}"))
    try:
        yield pg
    finally:
        context.close()
    outside = sorted({u for u in page_log.requests if not _is_local(u, built_site.host)})
    assert not outside, f"requests to hosts other than {built_site.host}: {outside}"
    assert not page_log.console_errors, "console errors:\n" + "\n".join(page_log.console_errors)
