"""`fupan init DIR`: a new review project that builds against the installed fupan.

The project is the templates in `templates/` (mkdocs.yml, the seven chapters with empty
commentary slots, the about and definitions pages, the few-line macros module and hooks, the
data contract, .gitignore and a CI workflow that builds and publishes), plus data:
- `--data FILE…`: the shop's own export files, copied into data/ and declared under `exports:`
  with the preset (or, without a preset, canonical files named as the contract names them);
- otherwise the fictitious sample company, in the preset's export layout (or as canonical files),
  so the project builds at once and the writer sees a whole review before replacing the data.

The review year is read from the orders: the year of the last order, with `as_of` set to the last
order's day when that year does not run to 31 December (comparisons are then like-for-like).
A last year holding January days only is taken as the end of the previous year's export, not as
a review of its own: the previous year is reviewed and the January orders are left out.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
import shutil
import string
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from fupan.errors import FupanError, Location

TEMPLATES = Path(__file__).with_name("templates")
# Template files stored under another name: dot names are not matched by package-data globs, and
# the project's Python files must not be modules of this package.
RENAMED = {
    "gitignore": ".gitignore",
    "github/workflows/review.yml": ".github/workflows/review.yml",
    "macros/main.py.tmpl": "macros/main.py",
    "macros/hooks.py.tmpl": "macros/hooks.py",
}
CONTRACT = "data/datasets.yml"
CONFIG = "mkdocs.yml"
# What an export provides: the canonical datasets it replaces in the contract.
DERIVED = ("orders", "order_lines", "products")
SAMPLE_ORDERS = 20_000  # the sample's orders over its two years: a small shop, quick to build
PLACEHOLDER_COMPANY = "我的店铺"


class InitError(FupanError):
    """Why `fupan init` made no project."""


@dataclass
class InitResult:
    """What `init_project` made: the project, the data it holds and the review period chosen."""

    project: Path
    year: int
    compare_year: int
    as_of: dt.date | None
    first_day: dt.date
    last_day: dt.date
    data_files: list[str]
    sample: bool
    preset: str | None
    notes: list[str] = field(default_factory=list)


def init_project(target: Path, preset: str | None = None, data: Sequence[Path] = (), company: str | None = None,
                 currency: str = "CNY", locale: str = "zh-CN", sample_orders: int = SAMPLE_ORDERS) -> InitResult:
    """Make a review project in `target` (new or empty); raise InitError, leaving `target` as it
    was, when it cannot."""
    target = Path(target)
    _check_target(target)
    files = [Path(f) for f in data]
    _check_inputs(preset, files)
    existed = target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        _copy_templates(target)
        exports, names = _write_data(target, preset, files, sample_orders)
        (target / CONTRACT).write_text(_contract(exports), encoding="utf-8")
        first, last = _order_days(target)
        year, as_of, notes = review_year(first, last)
        (target / CONFIG).write_text(_mkdocs_yml(company or PLACEHOLDER_COMPANY, year, currency, locale, as_of),
                                     encoding="utf-8")
        (target / "requirements.txt").write_text(_requirements(), encoding="utf-8")
    except BaseException:
        _undo(target, existed)
        raise
    return InitResult(project=target, year=year, compare_year=year - 1, as_of=as_of, first_day=first, last_day=last,
                      data_files=names, sample=not files, preset=preset, notes=notes)


def review_year(first: dt.date, last: dt.date) -> tuple[int, dt.date | None, list[str]]:
    """The review year and `as_of` for orders from `first` to `last`, with what init says about
    them (English; the command's output)."""
    year = last.year
    if last.month == 1 and last.day < 31 and first.year < year:
        notes = [f"the orders of {year} end on {last} (January only): the review is of {year - 1}, "
                 f"the January orders are not part of it"]
        return year - 1, None, notes
    if last == dt.date(year, 12, 31):
        return year, None, []
    notes = [f"the orders end on {last}, before the end of {year}: the review covers {year} up to that day "
             f"(as_of: {last} in mkdocs.yml) and compares it with the same days of {year - 1}; "
             "remove as_of when the data runs to 31 December"]
    return year, last, notes


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} is a file, not a folder", location=Location(str(target)),
                        hint="give the name of a new folder (or an empty one) for the review project")
    if target.is_dir():
        entries = sorted(p.name for p in target.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
            raise InitError(f"{target} is not empty (it holds {shown}); fupan init makes a new project and "
                            "never writes over files", location=Location(str(target)),
                            hint="give the name of a new folder, or empty this one first")


def _check_inputs(preset: str | None, files: list[Path]) -> None:
    from fupan.intake.presets import load_preset

    if preset is not None:
        load_preset(preset)  # an unknown name lists the presets
    for f in files:
        if not f.is_file():
            raise InitError(f"{f}: no such file", location=Location(str(f)),
                            hint="give the export files as they were downloaded, e.g. --data ~/Downloads/orders.csv")
    if len({f.name for f in files}) < len(files):
        raise InitError("two --data files have the same name; they would overwrite each other in data/",
                        hint="rename one of them")
    if files and preset is None:
        expected = _canonical_paths()
        missing = [p for p in expected if p not in {f.name for f in files}]
        if missing:
            from fupan.intake.presets import preset_names

            raise InitError(
                "without --preset, --data takes the canonical files the contract names: "
                f"{', '.join(expected)}; missing: {', '.join(missing)}",
                hint="for a platform's own export add --preset NAME (one of " + ", ".join(preset_names()) + ")")


def _canonical_paths() -> list[str]:
    import yaml

    datasets = yaml.safe_load((TEMPLATES / CONTRACT).read_text(encoding="utf-8"))["datasets"]
    return [datasets[name]["path"] for name in DERIVED]


def _copy_templates(target: Path) -> None:
    for source in sorted(TEMPLATES.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATES).as_posix()
        if relative in (CONFIG, CONTRACT):
            continue  # written with this project's values
        dest = target / RENAMED.get(relative, relative)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)


def _write_data(target: Path, preset: str | None, files: list[Path],
                sample_orders: int) -> tuple[dict[str, dict] | None, list[str]]:
    """Fill data/; return the `exports:` declaration (None: canonical files) and the files' names."""
    from fupan.sample.generator import generate

    data_dir = target / "data"
    data_dir.mkdir(exist_ok=True)
    if files:
        for f in files:
            shutil.copyfile(f, data_dir / f.name)
        names = [f.name for f in files]
        return (_exports_for(preset, names) if preset else None), names
    if preset is None:
        written = generate(data_dir, orders=sample_orders)
        return None, sorted(p.name for p in written.values())
    from fupan.sample.layouts import write_layout

    with tempfile.TemporaryDirectory(prefix="fupan-init-") as tmp:
        generate(Path(tmp), orders=sample_orders)
        exports = write_layout(preset, Path(tmp), data_dir)
    return exports, sorted(str(e["path"]) for e in exports.values())


def _exports_for(preset: str, names: list[str]) -> dict[str, dict]:
    """The `exports:` entries reading the given files with `preset`; a preset whose lines come
    in a second export (Taobao's 宝贝报表) takes the files named as that export is named."""
    from fupan.intake.presets import declaration, load_preset

    chosen = load_preset(preset)
    if not chosen.lines_preset:
        return declaration(chosen, {preset: names[0] if len(names) == 1 else names})
    lines = load_preset(chosen.lines_preset)
    line_files = [n for n in names if fnmatch.fnmatch(n, lines.files)]
    order_files = [n for n in names if n not in line_files]
    if not line_files or not order_files:
        raise InitError(
            f"the {chosen.title('en')} needs its {lines.title('en')} next to it: give both files with --data "
            f"(the lines' file is named {lines.files}, the orders' {chosen.files})",
            hint="download both reports from the seller backend and pass them together")
    def one(found: list[str]) -> str | list[str]:
        return found[0] if len(found) == 1 else found

    return declaration(chosen, {chosen.name: one(order_files), lines.name: one(line_files)})


def _contract(exports: dict[str, dict] | None) -> str:
    """The canonical contract; with exports, without the datasets they provide and with an
    `exports:` section (its comments kept: they are the data owner's reference)."""
    text = (TEMPLATES / CONTRACT).read_text(encoding="utf-8")
    if exports is None:
        return text
    import yaml

    head, sep, body = text.partition("\ndatasets:\n")
    blocks = re.split(r"(?m)^(?=  [a-z_]+:\n)", body)
    kept = [b for b in blocks if not any(b.startswith(f"  {name}:\n") for name in DERIVED)]
    section = yaml.safe_dump({"exports": exports}, allow_unicode=True, sort_keys=False, default_flow_style=False)
    note = ("\n# The shop's own export files, read by their platform's preset (override only what differs):\n"
            "# fupan derives the orders, order lines and products from them. The datasets above are\n"
            "# optional: a section whose file is absent shows a notice naming it.\n")
    return head + sep + "".join(kept).rstrip("\n") + "\n" + note + section


def _order_days(target: Path) -> tuple[dt.date, dt.date]:
    """The first and last day of the paid orders (the orders' time column), read as a build would."""
    from fupan.config import EngineConfig
    from fupan.data.backends import make_backend
    from fupan.data.contract import load_contract
    from fupan.data.store import DataStore
    from fupan.data.validation import DataValidationError, validate_cached

    contract = load_contract(target / CONTRACT)
    cache_dir = target / ".cache" / "fupan"
    store = DataStore(contract, cache_dir, make_backend(EngineConfig()))
    column = contract.datasets["orders"].time_column or "ordered_at"
    try:
        report = validate_cached(store, cache_dir)  # as `fupan check` and the first build: kept for it
        if report.errors:
            raise DataValidationError(report)
        (first, last), = store.rows(f"SELECT CAST(MIN({column}) AS DATE), CAST(MAX({column}) AS DATE) FROM orders")
    finally:
        store.con.close()
    if first is None or last is None:
        raise InitError("the orders hold no paid order: no review year can be read from them",
                        location=Location(str(contract.path)),
                        hint="check the export's status column (`fupan check` lists the rows) or give another file")
    return first, last


def _mkdocs_yml(company: str, year: int, currency: str, locale: str, as_of: dt.date | None) -> str:
    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar

    as_of_line = (f"as_of: {as_of.isoformat()}   # the data ends before 31 December: comparisons are like-for-like"
                  if as_of else "# as_of: YYYY-MM-DD   # set when the data stops before year end")
    return string.Template((TEMPLATES / CONFIG).read_text(encoding="utf-8")).substitute(
        site_name=quoted(f"{company} {year} 年电商运营年终复盘"), company=quoted(company), year=year,
        compare_year=year - 1, currency=quoted(currency), locale=quoted(locale), as_of=as_of_line)


def _requirements() -> str:
    try:
        version = metadata.version("fupan")
    except metadata.PackageNotFoundError:
        version = None
    pinned = f"fupan=={version}" if version else "fupan"
    return ("# What the CI workflow installs to build this review. When fupan is not on your package index,\n"
            "# name where it is instead, e.g. `fupan @ git+https://example.org/you/fupan.git@v0.1.0`.\n"
            f"{pinned}\n")


def _undo(target: Path, existed: bool) -> None:
    """Remove what init wrote: `target` was new or empty, so everything in it is init's."""
    if not target.exists():
        return
    if existed:
        for entry in target.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    else:
        shutil.rmtree(target, ignore_errors=True)


def summary(result: InitResult) -> str:
    """What init made and what to do next (the command's output)."""
    where = result.project
    data = ("the sample company 山野良品 (fictitious)" + (f" in the {result.preset} export layout" if result.preset
                                                          else " as canonical files")
            if result.sample else "your export" + ("s" if len(result.data_files) > 1 else ""))
    lines = [f"fupan init: made a review project in {where}",
             f"  data/: {', '.join(result.data_files)} — {data}",
             f"  orders from {result.first_day} to {result.last_day}: review year {result.year}, "
             f"compared with {result.compare_year}" + (f", as_of {result.as_of}" if result.as_of else "")]
    lines += [f"  note: {note}" for note in result.notes]
    if result.sample:
        lines.append("  replace the sample with your own export: fupan init NEWDIR --preset NAME --data FILE…")
    lines += ["  commentary: each chapter's 分析师点评（待填写） boxes are yours to write",
              "next:", f"  cd {where}", "  fupan build        # the site, into site/",
              "  fupan serve        # live preview at http://127.0.0.1:8000/",
              "  publish: push to GitHub; .github/workflows/review.yml builds and deploys with GitHub Pages"]
    return "\n".join(lines)
