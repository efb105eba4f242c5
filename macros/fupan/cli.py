"""The `fupan` command: check the data, build safely, preview, regenerate the sample.

    fupan check            validate the contract, the catalogue and every data file
    fupan build            strict build into a temporary folder, swapped into site/ on success
    fupan serve            live preview; reloads on changes to docs/, data/ and macros/
    fupan links [site]     check every internal link and anchor of the built site
    fupan slides [--pdf FILE] [--site DIR]
                           build, then say where the slide deck is (slides/index.html) or print it
                           to a PDF, one 16:9 page a slide (with the system's Chromium)
    fupan sample           regenerate the sample company's data into data/
    fupan sample --layout PRESET --out DIR
                           the sample's orders written as a platform's export files
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
import os
import shutil
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
    from mkdocs.config import load_config

    return load_config(config_file=config_file, **overrides)


def cmd_check(args: argparse.Namespace) -> int:
    from fupan.config import review_config
    from fupan.data.contract import load_contract
    from fupan.data.store import DataStore
    from fupan.data.validation import validate
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
        report = validate(store, cache_dir=config.cache_dir)
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


def swap_into_place(built: Path, target: Path) -> None:
    """Replace `target` by `built` with renames only, so a reader never sees a half site."""
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    if old.exists():
        shutil.rmtree(old)


def cmd_build(args: argparse.Namespace) -> int:
    from mkdocs.commands.build import build
    from mkdocs.exceptions import MkDocsException

    from fupan.errors import FupanError

    config_path = Path(args.config_file).resolve()
    mk_probe = _load_mkdocs_config(str(config_path))
    site_dir = Path(args.site_dir or mk_probe["site_dir"]).resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fupan-build-", dir=site_dir.parent))
    _progress(f"fupan build: building into {tmp.name} (strict)")
    try:
        mk = _load_mkdocs_config(str(config_path), site_dir=str(tmp), strict=True)
        build(mk)
    except (MkDocsException, SystemExit, FupanError) as exc:  # report, keep the old site
        shutil.rmtree(tmp, ignore_errors=True)
        _progress("")
        shown = exc.text() if isinstance(exc, FupanError) else exc
        print(f"fupan build failed; {site_dir} was left as it was.\n{shown}", file=sys.stderr)
        return 1
    except BaseException:  # a bug in fupan: keep the old site and the traceback
        shutil.rmtree(tmp, ignore_errors=True)
        _progress("")
        raise
    swap_into_place(tmp, site_dir)
    _progress("")
    print(f"fupan build: site ready in {site_dir}")
    return 0


def _package_stamp(package: Path) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in package.rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts))


def cmd_serve(args: argparse.Namespace) -> int:
    """MkDocs' live preview, started again when fupan's own code changes.

    MkDocs reloads on edits to docs/, data/ and the review's macros/ (mkdocs.yml `watch`), but a
    Python module imported once stays imported: a new process is the only honest way to run
    edited fupan code, and the page's live-reload script reconnects to it by itself.
    """
    import fupan

    command = [sys.executable, "-m", "mkdocs", "serve", "-f", args.config_file, "-a", args.dev_addr, "--livereload"]
    print(f"fupan serve: http://{args.dev_addr}/ (Ctrl+C stops)", file=sys.stderr)
    return run_restarting(command, Path(fupan.__file__).parent)


def run_restarting(command: list[str], watched: Path, poll_seconds: float = 1.0) -> int:
    """Run `command`, starting it again whenever a file under `watched` changes; return its exit
    code when it stops by itself."""
    import subprocess

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
    deck = site_dir / DECK_PATH
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fupan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="path to mkdocs.yml")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate contract, catalogue and data files").set_defaults(func=cmd_check)
    p_build = sub.add_parser("build", help="strict build, swapped into site/ only on success")
    p_build.add_argument("-d", "--site-dir", default=None)
    p_build.set_defaults(func=cmd_build)
    p_serve = sub.add_parser("serve", help="live preview")
    p_serve.add_argument("-a", "--dev-addr", default="127.0.0.1:8000")
    p_serve.set_defaults(func=cmd_serve)
    p_links = sub.add_parser("links", help="check every internal link and anchor of a built site")
    p_links.add_argument("site", nargs="?", default="site")
    p_links.set_defaults(func=cmd_links)
    p_slides = sub.add_parser("slides", help="build the site and its slide deck; --pdf prints the deck")
    p_slides.add_argument("--pdf", metavar="FILE", default=None, help="print the deck to this PDF")
    p_slides.add_argument("--site", metavar="DIR", default=None, help="use this built site instead of building")
    p_slides.add_argument("-d", "--site-dir", default=None, help="where to build the site (as fupan build -d)")
    p_slides.set_defaults(func=cmd_slides)
    p_sample = sub.add_parser("sample", help="regenerate the sample data")
    p_sample.add_argument("--out", default="data")
    p_sample.add_argument("--orders", type=int, default=200_000)
    p_sample.add_argument("--layout", metavar="PRESET", default=None,
                          help="write the sample's orders (from --data) as this preset's export files into --out")
    p_sample.add_argument("--data", default="data", help="the canonical sample read by --layout")
    p_sample.set_defaults(func=cmd_sample)
    p_cache = sub.add_parser("cache", help="list the caches (show, the default) or remove them (clear)")
    p_cache.set_defaults(func=cmd_cache)
    cache_sub = p_cache.add_subparsers(dest="action")
    cache_sub.add_parser("show", help="each cache kind: folder, files, size, what it keeps")
    p_clear = cache_sub.add_parser("clear", help="remove the project's caches (all, or the named kinds)")
    p_clear.add_argument("kinds", nargs="*", metavar="KIND", help="cache kinds to remove (default: all)")
    p_clear.add_argument("--user", action="store_true", help="remove the user cache's kinds instead")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    return int(args.func(args))
