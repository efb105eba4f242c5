"""The `fupan` command: check the data, build safely, preview, regenerate the sample.

    fupan check            validate the contract, the catalogue and every data file
    fupan build [--wait S] strict build into a temporary folder, swapped into site/ on success
                           in one step; one build of a project at a time (a second one waits)
    fupan serve            live preview; reloads on changes to docs/, data/ and macros/, and
                           shows a failed build's error in the page until it is fixed
    fupan links [site]     check every internal link and anchor of the built site
    fupan figures [--all] [--format json|csv]
                           the built site's headline figures (home page cards), or every figure
    fupan pdf [-o FILE] [--site DIR] [--edition LANG]
                           the whole review as one A4 PDF (builds the site first unless --site)
    fupan slides [--pdf FILE] [--site DIR] [--edition LANG]
                           build, then say where the slide deck is (slides/index.html) or print it
                           to a PDF, one 16:9 page a slide (with the system's Chromium)
    fupan sample           regenerate the sample company's data into data/
    fupan sample --layout PRESET --out DIR
                           the sample's orders written as a platform's export files
    fupan init DIR [--preset NAME] [--data FILE ...]
                           a new review project in DIR (the sample company's data without --data)
    fupan cache [show]     list each cache kind: folder, files, size, what it keeps
    fupan cache clear [KIND ...] [--user]
                           remove the project's caches (all, or the named kinds); with --user,
                           the user cache's (jinja, jieba, vega)

Caches live in the project's cache folder (`cache_dir` in extra.review, .cache/fupan/ by
default), one folder per kind, and in the user cache folder ($XDG_CACHE_HOME/fupan or
~/.cache/fupan) for what depends only on installed packages. Any of them can be cleared at
any time: the next build makes what it needs again.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path


def _progress(message: str) -> None:
    """One line per step: overwritten in place on a terminal, plain lines in CI logs."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + message)
        sys.stderr.flush()
    else:
        sys.stderr.write(message + "\n")


def _load_mkdocs_config(config_file: str, **overrides):
    from fupan.config import load_mkdocs_config  # a YAML mistake as a located ConfigError

    return load_mkdocs_config(config_file, **overrides)


def cmd_check(args: argparse.Namespace) -> int:
    from fupan.config import review_config
    from fupan.data.contract import load_contract
    from fupan.data.store import DataStore
    from fupan.data.validation import date_limits, validate
    from fupan.errors import FupanError
    from fupan.semantics.catalogue import load_catalogue

    started = time.perf_counter()
    config_path = Path(args.config_file).resolve()
    try:
        mk = _load_mkdocs_config(str(config_path))
        config = review_config(mk.get("extra") or {}, config_path.parent)
        _progress(f"fupan check: contract {config.contract_path}")
        contract = load_contract(config.contract_path)
        _progress("fupan check: metric catalogue")
        load_catalogue(contract)
        _progress(f"fupan check: staging {len(contract.datasets)} datasets")
        from fupan.config import check_engine_tables
        from fupan.data.backends import make_backend

        check_engine_tables(config.engine, contract.datasets)
        store = DataStore(contract, config.cache_dir, make_backend(config.engine))
        _progress("fupan check: running the contract's checks")
        report = validate(store, cache_dir=config.cache_dir, limits=date_limits(config.year))
    except FupanError as exc:
        _progress("")
        print(f"fupan check failed:\n{exc.text()}", file=sys.stderr)
        return 1
    _progress("")
    print(report.text())
    if store.intake is not None and store.intake.rules:
        from fupan.presentation.export_rules import rule_rows

        print("Exports read by these rules (rows touched):")
        for export, sentence, rows in rule_rows(store.intake.rules, "en"):
            print(f"  {export}: {sentence} — {rows}")
    print(f"checked in {time.perf_counter() - started:.1f} s")
    return 1 if report.errors else 0


def _stop_chart_worker() -> None:
    """Kill the SVG worker of a build that failed or was interrupted (its charts are not needed)."""
    renderer = getattr(sys.modules.get("fupan.speed.svgrender"), "RENDERER", None)
    if renderer is not None:
        renderer.kill()


_SIGNALLED: list[int] = []


def _interrupt(signum: int, frame) -> None:
    """Ctrl+C and SIGTERM end a build: temporary folder and worker removed, one line said.

    The KeyboardInterrupt may surface as another error (DuckDB's "Query interrupted", which
    mkdocs-macros logs and turns into an exit): the build knows it was interrupted from here,
    and what is logged after the signal is only its echo."""
    _SIGNALLED.append(signum)
    logging.disable(logging.CRITICAL)
    raise KeyboardInterrupt


def cmd_build(args: argparse.Namespace) -> int:
    import signal
    import threading

    from fupan.site.publish import BuildLocked, project_cache_dir, project_lock

    config_path = Path(args.config_file).resolve()
    mk_probe = _load_mkdocs_config(str(config_path))
    site_dir = Path(args.site_dir or mk_probe["site_dir"]).resolve()
    if threading.current_thread() is threading.main_thread():  # signal handlers live there
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
    try:
        with project_lock(project_cache_dir(mk_probe, config_path), args.wait,
                          notify=lambda message: print(f"fupan build: {message}", file=sys.stderr, flush=True)):
            return _build_locked(config_path, site_dir)
    except BuildLocked as exc:
        _progress("")
        print(f"fupan build failed; {site_dir} was left as it was.\n{exc.text()}", file=sys.stderr)
        return 1
    except BaseException as exc:
        if not (_SIGNALLED or isinstance(exc, KeyboardInterrupt)):
            raise  # a bug in fupan: keep the traceback
        _progress("")
        print(f"fupan build: interrupted; {site_dir} was left as it was.", file=sys.stderr)
        return 130


def _build_locked(config_path: Path, site_dir: Path) -> int:
    """The build itself, under the project's lock: clear what killed builds left, build strictly
    into a temporary folder, swap it into place."""
    from mkdocs.commands.build import build
    from mkdocs.exceptions import MkDocsException

    from fupan.errors import FupanError
    from fupan.site.publish import BuildDir, clean_stale, recover, swap_into_place

    site_dir.parent.mkdir(parents=True, exist_ok=True)
    stale = clean_stale(site_dir)
    if stale:
        print(f"fupan build: removed {len(stale)} temporary folder(s) left by interrupted builds: "
              + ", ".join(path.name for path in stale), file=sys.stderr)
    if recover(site_dir):
        print(f"fupan build: put back {site_dir} (a build was stopped while replacing it)", file=sys.stderr)
    tmp = BuildDir.create(site_dir)
    _progress(f"fupan build: building into {tmp.path.name} (strict)")
    try:
        mk = _load_mkdocs_config(str(config_path), site_dir=str(tmp.path), strict=True)
        build(mk)
    except (MkDocsException, SystemExit, FupanError) as exc:  # report, keep the old site
        _stop_chart_worker()
        tmp.discard()
        if _SIGNALLED:
            raise KeyboardInterrupt from None
        _progress("")
        shown = exc.text() if isinstance(exc, FupanError) else exc
        print(f"fupan build failed; {site_dir} was left as it was.\n{shown}", file=sys.stderr)
        return 1
    except BaseException:  # interrupted, or a bug in fupan: keep the old site (and the traceback)
        _stop_chart_worker()
        tmp.discard()
        _progress("")
        raise
    swap_into_place(tmp.path, site_dir)
    tmp.close()
    _progress("")
    print(f"fupan build: site ready in {site_dir}")
    return 0


def _package_stamp(package: Path) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in package.rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts))


def cmd_serve(args: argparse.Namespace) -> int:
    """The live preview (site/preview.py), started again when fupan's own code changes.

    The preview rebuilds on edits to docs/, data/ and the review's macros/ (mkdocs.yml `watch`),
    and outlives a failed build, showing its error in the browser. But a Python module imported
    once stays imported: a new process is the only honest way to run edited fupan code, and the
    page's live-reload script reconnects to it by itself.
    """
    import fupan

    command = [sys.executable, "-m", "fupan.site.preview", "-f", args.config_file, "-a", args.dev_addr,
               "--exit-with-parent"]
    return run_restarting(command, Path(fupan.__file__).parent)


def run_restarting(command: list[str], watched: Path, poll_seconds: float = 1.0) -> int:
    """Run `command`, starting it again whenever a file under `watched` changes; return its exit
    code when it stops by itself."""
    import signal
    import subprocess
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped like Ctrl+C: the child too
    stamp = _stamp(watched)
    child = subprocess.Popen(command)
    try:
        while True:
            time.sleep(poll_seconds)
            if child.poll() is not None:
                return child.returncode
            now = _stamp(watched)
            if now != stamp:
                stamp = now
                print("fupan serve: fupan's code changed, restarting the preview", file=sys.stderr)
                child.terminate()
                child.wait()
                child = subprocess.Popen(command)
    except KeyboardInterrupt:
        return 0
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait()


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts))


def cmd_pdf(args: argparse.Namespace) -> int:
    """The whole review as one A4 PDF, printed by the system Chromium (site/printing.py)."""
    from fupan.errors import FupanError
    from fupan.site.printing import chromium_path, cover_facts, print_site

    config_path = Path(args.config_file).resolve()
    out = Path(args.output).resolve()
    with tempfile.TemporaryDirectory(prefix="fupan-pdf-") as tmp:
        site = Path(args.site).resolve() if args.site else Path(tmp) / "site"
        try:
            chromium_path()  # before a build that would be wasted
            mk = _load_mkdocs_config(str(config_path))
            facts = cover_facts(mk.get("extra") or {}, config_path.parent, args.edition or "")
            if not args.site and cmd_build(argparse.Namespace(config_file=args.config_file, site_dir=str(site))):
                return 1
            _progress("fupan pdf: printing with Chromium")
            chapters = print_site(site / (args.edition or ""), facts, out)
        except FupanError as exc:
            _progress("")
            print(f"fupan pdf failed:\n{exc.text()}", file=sys.stderr)
            return 1
    _progress("")
    print(f"fupan pdf: {len(chapters)} pages of the site printed into {out}")
    return 0


def cmd_links(args: argparse.Namespace) -> int:
    from fupan.site.linkcheck import check_site

    broken = check_site(Path(args.site))
    for link in broken:
        print(link.text())
    print(f"fupan links: {len(broken)} broken internal link(s) in {args.site}")
    return 1 if broken else 0


def cmd_slides(args: argparse.Namespace) -> int:
    from fupan.site.slides import DECK_PATH, SlidesError, print_pdf

    if args.site:
        site_dir = Path(args.site).resolve()
    else:  # exactly `fupan build` with its own defaults
        code = main(["-f", args.config_file, "build", *(["-d", args.site_dir] if args.site_dir else [])])
        if code:
            return code
        site_dir = Path(args.site_dir or _load_mkdocs_config(args.config_file)["site_dir"]).resolve()
    deck = site_dir / (args.edition or "") / DECK_PATH
    if not deck.exists():
        print(f"fupan slides: {site_dir} holds no deck ({DECK_PATH}): build it with `fupan build` first",
              file=sys.stderr)
        return 1
    if not args.pdf:
        print(f"fupan slides: the deck is {deck} (open it in a browser: ← → turn, F full screen, N notes)")
        return 0
    _progress(f"fupan slides: printing {deck} with Chromium")
    try:
        count = print_pdf(deck, Path(args.pdf))
    except SlidesError as exc:
        _progress("")
        print(f"fupan slides: {exc}", file=sys.stderr)
        return 1
    _progress("")
    print(f"fupan slides: wrote {args.pdf} ({count} slides, one 16:9 page each)")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from fupan.sample.generator import generate

    out = Path(args.out)
    if args.layout:
        import yaml

        from fupan.sample.layouts import write_layout

        _progress(f"fupan sample: writing {args.data} as {args.layout} exports into {out}")
        exports = write_layout(args.layout, Path(args.data), out)
        _progress("")
        print(yaml.safe_dump({"exports": exports}, allow_unicode=True, sort_keys=False), end="")
        return 0
    _progress(f"fupan sample: generating {args.orders:,} orders into {out}")
    generate(out, orders=args.orders)
    _progress("")
    print(f"fupan sample: wrote {out}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from fupan.errors import FupanError
    from fupan.project.init import init_project, summary

    _progress(f"fupan init: making {args.dir}")
    try:
        result = init_project(Path(args.dir), preset=args.preset, data=[Path(f) for f in args.data or []],
                              company=args.company, currency=args.currency, locale=args.locale,
                              sample_orders=args.orders)
    except FupanError as exc:
        _progress("")
        print(f"fupan init failed; nothing was written.\n{exc.text()}", file=sys.stderr)
        return 1
    _progress("")
    print(summary(result))
    return 0


def _size(n: int) -> str:
    """Bytes, human readable (1024-based)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _cache_roots(args: argparse.Namespace) -> list:
    from fupan.config import review_config
    from fupan.speed.cache import CacheRoot

    config_path = Path(args.config_file).resolve()
    mk = _load_mkdocs_config(str(config_path))
    project = CacheRoot(review_config(mk.get("extra") or {}, config_path.parent).cache_dir)
    return [project, CacheRoot.for_user()]


def cmd_cache(args: argparse.Namespace) -> int:
    from fupan.speed.cache import CacheRoot, UnknownCacheKind

    if args.action != "clear":
        for root in _cache_roots(args):
            print(f"{'user' if root.user else 'project'} cache: {root.path}")
            for kind in root.kinds:
                files, size = root.usage(kind.name)
                print(f"  {kind.name:<18} {files:>7} {'file ' if files == 1 else 'files'} {_size(size):>10}  "
                      f"{root.dir(kind.name)}")
                print(f"  {'':<18} {kind.keeps}; depends on {kind.depends}")
            files, size = root.others()
            if files:
                print(f"  {'(other)':<18} {files:>7} {'file ' if files == 1 else 'files'} {_size(size):>10}  "
                      f"{root.path}: not a cache kind (an older fupan's layout?); not cleared, remove by hand")
        return 0
    root: CacheRoot = _cache_roots(args)[1 if args.user else 0]
    try:
        names = [root.check(name).name for name in args.kinds] or [kind.name for kind in root.kinds]
    except UnknownCacheKind as exc:
        print(f"fupan cache clear: {exc}", file=sys.stderr)
        return 1
    for name in dict.fromkeys(names):
        files, size = root.clear(name)
        print(f"fupan cache clear: removed {name} ({files} files, {_size(size)}) from {root.dir(name)}")
    return 0


HEADLINE_PAGE = "index.md"  # the home page: its KPI cards are the review's headline figures
FIGURE_FIELDS = ("page", "kind", "element", "metric", "column", "comparison", "dimensions", "period", "value", "unit")


def cmd_figures(args: argparse.Namespace) -> int:
    """Print the headline figures (the home page's KPI cards), or every figure with --all, from
    the built site's figures file.

    Read from the build rather than computed again: which cards the home page shows is decided
    by its Markdown, so only the build knows them; the file holds exactly what the pages show.
    """
    import csv
    import json

    from fupan.site import figures

    if args.site:
        site_dir = Path(args.site)
    else:
        site_dir = Path(_load_mkdocs_config(str(Path(args.config_file).resolve()))["site_dir"])
    try:
        document = figures.read(site_dir)
    except FileNotFoundError:
        print(f"fupan figures: {site_dir / figures.FIGURES_FILE} not found: build the site first "
              "(fupan build), or give the built site's folder with --site", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"fupan figures: {site_dir / figures.FIGURES_FILE} is not valid JSON ({exc}): "
              "build the site again (fupan build)", file=sys.stderr)
        return 1
    rows = [f for f in document.get("figures", [])
            if args.all or (f.get("page") == HEADLINE_PAGE and f.get("kind") == "card")]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, sort_keys=True, indent=1))
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(FIGURE_FIELDS)
    for row in rows:
        dims = json.dumps(row.get("dimensions") or {}, ensure_ascii=False, sort_keys=True)
        writer.writerow([dims if name == "dimensions" else figures.csv_cell(row.get(name))
                         for name in FIGURE_FIELDS])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fupan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="path to mkdocs.yml")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate contract, catalogue and data files").set_defaults(func=cmd_check)
    p_build = sub.add_parser("build", help="strict build, swapped into site/ only on success")
    p_build.add_argument("-d", "--site-dir", default=None)
    p_build.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                         help="when another build of the project is running, wait at most this long "
                              "(default: until it ends; 0: fail at once)")
    p_build.set_defaults(func=cmd_build)
    p_serve = sub.add_parser("serve", help="live preview")
    p_serve.add_argument("-a", "--dev-addr", default="127.0.0.1:8000")
    p_serve.set_defaults(func=cmd_serve)
    p_pdf = sub.add_parser("pdf", help="the whole review as one A4 PDF (cover, contents, page numbers)")
    p_pdf.add_argument("-o", "--output", default="review.pdf", help="the PDF to write (default: review.pdf)")
    p_pdf.add_argument("--site", default=None, help="print this built site instead of building one first")
    p_pdf.add_argument("--edition", metavar="LANG", default=None,
                       help="print the review's edition in this language (extra.review.editions), e.g. en")
    p_pdf.set_defaults(func=cmd_pdf)
    p_links = sub.add_parser("links", help="check every internal link and anchor of a built site")
    p_links.add_argument("site", nargs="?", default="site")
    p_links.set_defaults(func=cmd_links)
    p_slides = sub.add_parser("slides", help="build the site and its slide deck; --pdf prints the deck")
    p_slides.add_argument("--pdf", metavar="FILE", default=None, help="print the deck to this PDF")
    p_slides.add_argument("--site", metavar="DIR", default=None, help="use this built site instead of building")
    p_slides.add_argument("-d", "--site-dir", default=None, help="where to build the site (as fupan build -d)")
    p_slides.add_argument("--edition", metavar="LANG", default=None,
                          help="the deck of the review's edition in this language (extra.review.editions), e.g. en")
    p_slides.set_defaults(func=cmd_slides)
    p_sample = sub.add_parser("sample", help="regenerate the sample data")
    p_sample.add_argument("--out", default="data")
    p_sample.add_argument("--orders", type=int, default=200_000)
    p_sample.add_argument("--layout", metavar="PRESET", default=None,
                          help="write the sample's orders (from --data) as this preset's export files into --out")
    p_sample.add_argument("--data", default="data", help="the canonical sample read by --layout")
    p_sample.set_defaults(func=cmd_sample)
    p_figures = sub.add_parser("figures", help="print the headline figures (or --all) of the built site, for CI")
    p_figures.add_argument("--all", action="store_true",
                           help="every figure of every page, not just the home page's cards")
    p_figures.add_argument("--format", choices=("json", "csv"), default="json")
    p_figures.add_argument("--site", default=None, help="the built site's folder (default: site_dir of mkdocs.yml)")
    p_figures.set_defaults(func=cmd_figures)
    p_init = sub.add_parser("init", help="a new review project (uses the installed fupan)")
    p_init.add_argument("dir", help="the project's folder: new, or empty")
    p_init.add_argument("--preset", default=None, help="the platform export layout of the orders (jd, taobao_orders …)")
    p_init.add_argument("--data", nargs="+", metavar="FILE", help="your export file(s), copied into data/")
    p_init.add_argument("--company", default=None, help="the company's name on the site")
    p_init.add_argument("--currency", default="CNY")
    p_init.add_argument("--locale", default="zh-CN")
    p_init.add_argument("--orders", type=int, default=20_000, help="the sample's size without --data (orders)")
    p_init.set_defaults(func=cmd_init)
    p_cache = sub.add_parser("cache", help="list the caches (show, the default) or remove them (clear)")
    p_cache.set_defaults(func=cmd_cache)
    cache_sub = p_cache.add_subparsers(dest="action")
    cache_sub.add_parser("show", help="each cache kind: folder, files, size, what it keeps")
    p_clear = cache_sub.add_parser("clear", help="remove the project's caches (all, or the named kinds)")
    p_clear.add_argument("kinds", nargs="*", metavar="KIND", help="cache kinds to remove (default: all)")
    p_clear.add_argument("--user", action="store_true", help="remove the user cache's kinds instead")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from fupan.errors import FupanError

    try:
        return int(args.func(args))
    except FupanError as exc:  # a person's mistake met outside a command's own reporting: no traceback
        print(f"fupan {args.command} failed:\n{exc.text()}", file=sys.stderr)
        return 1
