"""Screenshots of every page of the site, for looking at (a script, not a test).

    python tests/screenshots.py [--site DIR] [--out DIR] [--port N] [--only PATTERN] [--edition LANG]

Builds the site into a temporary folder (unless --site names a built one), serves it on
127.0.0.1 with http.server in a thread and, for every page in mkdocs.yml's nav and the slide
deck, in every edition of the built site (the review's own language, then site/en/ …; --edition
picks one: `zh` for the review's own), saves full-page screenshots with the system Chromium:

    [en-]NN-<page>-desktop-static.png   1366×900, charts as their static SVG (no interaction)
    [en-]NN-<page>-desktop.png          1366×900, live charts (first chart hovered, all drawn)
    [en-]NN-<page>-dark.png             1366×900, the reader's system in dark mode, live charts
    [en-]NN-<page>-phone.png            390×844 @2x, mobile, live charts
    [en-]NN-<page>-print.png            794 px wide (A4 at 96 dpi), print stylesheet, as printed
    [en-]00-index-desktop-dark.png      home page after clicking the palette toggle (dark mode)

The output folder defaults to /tmp/fupan-shots (outside the repo). Nothing here is committed
output: the PNGs are for a person to look at.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
PRINT = {"viewport": {"width": 794, "height": 1123}}  # A4 at 96 dpi
ALL_DRAWN = """() => {
  const views = document.querySelectorAll('.fupan-chart__view');
  return Array.from(views).every(v => v.getAttribute('data-drawn') === 'true'
                                      || v.hasAttribute('data-error'));
}"""


class _Loader(yaml.SafeLoader):
    """mkdocs.yml has !ENV and !!python tags that safe_load refuses; they read as None."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def nav_pages(project: Path) -> list[tuple[str, str]]:
    """(NN-slug, site path) of every page in the nav, in order."""
    config = yaml.load((project / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    files: list[str] = []

    def walk(items) -> None:
        for item in items or []:
            if isinstance(item, str):
                files.append(item)
            elif isinstance(item, dict):
                for value in item.values():
                    if isinstance(value, str):
                        files.append(value)
                    else:
                        walk(value)

    walk(config.get("nav"))
    pages = []
    for file in files:
        if re.match(r"[a-z]+://", file):
            continue
        stem = file[: -len(".md")]
        if stem == "index" or stem.endswith("/index"):
            path = stem[: -len("index")]
        else:
            path = stem + "/"
        slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-") or "index"
        pages.append((f"{len(pages):02d}-{slug}", path))
    return pages


def editions(site: Path) -> list[str]:
    """The editions' folders of a built site: '' (the review's own language), then en/ …"""
    return [""] + sorted(f"{p.name}/" for p in site.iterdir()
                         if p.is_dir() and (p / "index.html").exists() and (p / "404.html").exists())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build(site_dir: Path, port: int) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", NO_MKDOCS_2_WARNING="1",
               FUPAN_SITE_URL=f"http://127.0.0.1:{port}/")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    exe = [str(mkdocs)] if mkdocs.exists() else [sys.executable, "-m", "mkdocs"]
    print(f"building the site into {site_dir} ...", flush=True)
    result = subprocess.run([*exe, "build", "-d", str(site_dir)], cwd=REPO, env=env,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"mkdocs build failed ({result.returncode})")


def serve(site_dir: Path, port: int) -> http.server.ThreadingHTTPServer:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


TABS_SHOWN = """() => Array.from(document.querySelectorAll('.md-tabs__link')).every(a => {
  const style = getComputedStyle(a);
  return Number(style.opacity) >= 0.7 && (style.transform === 'none' || style.transform === 'matrix(1, 0, 0, 1, 0, 0)');
})"""


def settle(page) -> None:
    """Wait for fonts, for Material's navigation tabs to finish fading in (a picture taken
    sooner shows them half drawn) and for layout to stop moving."""
    page.wait_for_load_state("load")
    page.evaluate("() => document.fonts.ready")
    try:
        page.wait_for_function(TABS_SHOWN, timeout=5_000)
    except Exception:  # playwright's TimeoutError: take the picture as it is
        pass
    page.wait_for_timeout(300)


def back_to_top(page) -> None:
    """Scroll back up and wait until Material has shown its navigation tabs again (it hides them
    while the page is scrolled down and fades them in)."""
    page.evaluate("() => window.scrollTo(0, 0)")
    try:
        page.wait_for_function(
            "() => { const t = document.querySelector('.md-tabs');"
            " return !t || !t.hasAttribute('hidden'); }", timeout=5_000)
    except Exception:
        pass
    page.wait_for_timeout(800)


def hover_first_chart(page, name: str) -> None:
    """Hover the first chart as a reader would; when something covers it (a layout problem
    worth a look), say so and send the pointer event to the chart directly."""
    chart = page.locator(".fupan-chart").first
    chart.scroll_into_view_if_needed()
    try:
        chart.hover(timeout=5_000)
    except Exception as error:  # playwright's TimeoutError
        first = str(error).splitlines()
        covered = [line.strip() for line in first if "intercepts pointer events" in line]
        print(f"  ! {name}: the first chart cannot be hovered ({covered[-1] if covered else first[0]})")
        chart.dispatch_event("pointerover")


def draw_live(page, name: str, timeout: float = 30_000) -> None:
    """Hover the first chart (which loads the Vega runtime) and wait for every chart to draw."""
    if page.locator(".fupan-chart").count() == 0:
        return
    hover_first_chart(page, name)
    page.wait_for_function(ALL_DRAWN, timeout=timeout)
    # Move the pointer off the chart, so no tooltip covers it in the picture.
    page.mouse.move(0, 0)
    back_to_top(page)


def report_errors(page, name: str) -> None:
    errors = page.evaluate("""() => Array.from(document.querySelectorAll('[data-error]'))
        .map(n => (n.parentNode.id || '?') + ': ' + n.getAttribute('data-error'))""")
    for error in errors:
        print(f"  ! {name}: chart error {error}")


def snap(browser, url: str, target: Path, options: dict, *, scheme: str = "light", live: bool = True,
         printed: bool = False, name: str = "") -> Path:
    """One full-page screenshot of `url` in a fresh browser context."""
    context = browser.new_context(**options, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(url)
        settle(page)
        if live:
            draw_live(page, name)
            report_errors(page, name)
        if printed:
            page.emulate_media(media="print")
            page.wait_for_timeout(300)
        page.screenshot(path=str(target), full_page=True)
    finally:
        context.close()
    return target


def toggled_dark(browser, url: str, target: Path, name: str) -> Path:
    """A home page after the reader clicks the palette toggle: every chart redrawn dark."""
    context = browser.new_context(**DESKTOP, color_scheme="light")
    try:
        page = context.new_page()
        page.goto(url)
        settle(page)
        draw_live(page, name)
        toggle = page.locator("form[data-md-component=palette] label.md-header__button:visible")
        if not toggle.count():
            toggle = page.locator("form[data-md-component=palette] label[for^=__palette]:visible")
        toggle.first.click()
        page.wait_for_function(
            """() => Array.from(document.querySelectorAll('.fupan-chart__view'))
               .every(v => v.getAttribute('data-scheme') === 'dark'
                           && v.getAttribute('data-drawn') === 'true')""",
            timeout=30_000)
        page.mouse.move(0, 0)
        page.wait_for_timeout(400)
        page.screenshot(path=str(target), full_page=True)
    finally:
        context.close()
    return target


def shoot(base: str, out: Path, pages: list[tuple[str, str]]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for name, path in pages:
                url = base + path
                print(f"{name}: {url}", flush=True)
                saved += [
                    snap(browser, url, out / f"{name}-desktop-static.png", DESKTOP, live=False),
                    snap(browser, url, out / f"{name}-desktop.png", DESKTOP, name=name),
                    snap(browser, url, out / f"{name}-dark.png", DESKTOP, scheme="dark", name=name + " (dark)"),
                    snap(browser, url, out / f"{name}-phone.png", PHONE, name=name + " (phone)"),
                    snap(browser, url, out / f"{name}-print.png", PRINT, live=False, printed=True),
                ]
                if re.fullmatch(r"([a-z]{2}/)?", path):  # a home page: the palette toggle too
                    saved.append(toggled_dark(browser, url, out / f"{name}-desktop-dark.png", name))
        finally:
            browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a built site to serve (default: build one)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/fupan-shots"),
                        help="where the PNGs go (default /tmp/fupan-shots)")
    parser.add_argument("--port", type=int, help="port to serve on (default: a free one; give the "
                        "one in the built site's FUPAN_SITE_URL with --site)")
    parser.add_argument("--only", help="only pages whose site path matches this regex")
    parser.add_argument("--edition", help="only this edition: zh (the review's own language), en …")
    args = parser.parse_args(argv)

    nav = nav_pages(REPO)
    nav.append((f"{len(nav):02d}-slides", "slides/"))  # the deck, cut from the pages
    if args.only:
        nav = [(s, p) for s, p in nav if re.search(args.only, p or "index")]
    args.out.mkdir(parents=True, exist_ok=True)
    port = args.port or free_port()
    tmp = None
    site = args.site
    if site is None:
        tmp = Path(tempfile.mkdtemp(prefix="fupan-shots-site-"))
        site = tmp / "site"
        build(site, port)
    elif not (site / "index.html").exists():
        build(site, port)
    server = serve(site, port)
    folders = editions(site)
    if args.edition:
        folders = [f for f in folders if f == ("" if args.edition == "zh" else f"{args.edition}/")]
    pages = [((folder.replace("/", "-") + name), folder + path) for folder in folders for name, path in nav]
    try:
        saved = shoot(f"http://127.0.0.1:{port}/", args.out, pages)
    finally:
        server.shutdown()
        server.server_close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(saved)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
