"""Every figure the pages show, recorded where it is rendered, written with the site.

The components that put a machine value on a page (a KPI card's `data-value`, an inline
number's `data-value`, a table cell's `data-sort-value`) report it here as they render, with
what it means: page, metric id, dimension values, period, unrounded value and unit. Tables also
leave their CSV here (raw values, built from the table's own cells). At the end of the build
`write` puts `figures.json` and the tables' CSV files into the site; `fupan figures` reads the
JSON back.

One recorder per build (`start`, from `define_env`); with none started (unit tests of the
components), recording does nothing. A macro output answered from the cache replays what its
first rendering recorded (`mark` / `since` / `replay`, used by speed/outputs.py).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIGURES_FILE = "figures.json"
TABLES_DIR = "tables"  # the tables' CSV files, one folder per page
# A spreadsheet runs a text cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Recorder:
    """The figures and table files of one build, in the order the pages rendered them."""

    where: Callable[[], tuple[str, str]]  # the current page: (source path, URL)
    figures: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)


RECORDER: Recorder | None = None


def start(where: Callable[[], tuple[str, str]]) -> Recorder:
    """A fresh recorder for this build; `where()` names the page being rendered."""
    global RECORDER
    RECORDER = Recorder(where)
    return RECORDER


def stop() -> None:
    global RECORDER
    RECORDER = None


def _number(value: Any) -> float | None:
    """The value as a JSON number: None when missing or not finite."""
    if value is None or isinstance(value, (str, bool)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def record(kind: str, element: str, value: Any, unit: str | None, metric: str | None = None,
           period: str | None = None, dimensions: dict[str, Any] | None = None,
           column: str | None = None, comparison: str | None = None) -> None:
    """Note one figure shown on the current page (nothing happens without a recorder).

    `kind`: card | value | table; `element`: the id of the card grid's metric or the table;
    `column`: a table column's key (its metric id or the analysis field); `comparison`: yoy or
    prev when the figure is a change rather than the metric itself.
    """
    if RECORDER is None:
        return
    page, _url = RECORDER.where()
    RECORDER.figures.append({
        "page": page, "kind": kind, "element": element, "metric": metric, "column": column,
        "comparison": comparison, "dimensions": {k: _text(v) for k, v in (dimensions or {}).items()},
        "period": period, "value": _number(value), "unit": unit,
    })


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def table_file(element_id: str) -> tuple[str, str] | None:
    """(path in the site, link from the current page) of a table's CSV file, or None without a
    recorder. Path: tables/<page source without .md>/<table id>.csv (ids are unique on a page)."""
    if RECORDER is None:
        return None
    page, url = RECORDER.where()
    stem = page[:-3] if page.endswith(".md") else page
    path = f"{TABLES_DIR}/{stem}/{element_id}.csv"
    return path, "../" * url.count("/") + path


def record_table(element_id: str, path: str, caption: str, header: Sequence[str],
                 rows: Sequence[Sequence[Any]]) -> None:
    """Keep a table's CSV (written at the end of the build). Numbers stay numbers; text that a
    spreadsheet would run as a formula is neutralised."""
    if RECORDER is None:
        return
    page, _url = RECORDER.where()
    RECORDER.tables.append({"page": page, "element": element_id, "file": path, "caption": caption,
                            "csv": table_csv(header, rows)})


def csv_cell(value: Any) -> str:
    """One CSV cell: numbers unrounded (whole numbers without .0), missing values empty, text
    starting with = + - @ prefixed with ' so Excel shows it instead of running it."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(int(value))
    if isinstance(value, (int, float)):
        if not math.isfinite(float(value)):
            return ""
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def table_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The CSV text (CRLF line ends, no BOM: `write` adds it to the file)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


# -- the macro output cache replays these ------------------------------------------------------
def mark() -> tuple[int, int]:
    """Where the recording stands, to take what one macro call adds (`since`)."""
    return (len(RECORDER.figures), len(RECORDER.tables)) if RECORDER is not None else (0, 0)


def since(start_at: tuple[int, int]) -> dict[str, list[dict[str, Any]]]:
    """What was recorded after `mark()` returned `start_at`."""
    if RECORDER is None:
        return {"figures": [], "tables": []}
    return {"figures": RECORDER.figures[start_at[0]:], "tables": RECORDER.tables[start_at[1]:]}


def replay(recorded: dict[str, list[dict[str, Any]]] | None) -> None:
    """Record again what a cached macro output recorded when it was rendered (same page)."""
    if RECORDER is None or not recorded:
        return
    RECORDER.figures.extend(recorded.get("figures", []))
    RECORDER.tables.extend(recorded.get("tables", []))


# -- the files of the site -----------------------------------------------------------------------
def document(recorder: Recorder) -> dict[str, Any]:
    """The content of figures.json: figures and tables, page by page (stable within a page)."""
    figures = sorted(recorder.figures, key=lambda f: f["page"])
    tables = [{k: t[k] for k in ("page", "element", "file", "caption")}
              for t in sorted(recorder.tables, key=lambda t: t["page"])]
    return {"figures": figures, "tables": tables}


def document_text(doc: dict[str, Any]) -> str:
    """The JSON text: one entry a line, keys sorted, so two builds' files diff line by line."""

    def block(key: str) -> str:
        entries = [json.dumps(e, ensure_ascii=False, sort_keys=True) for e in doc[key]]
        return f'"{key}": [' + ("\n" + ",\n".join(entries) + "\n" if entries else "") + "]"

    return "{\n" + ",\n".join(block(key) for key in ("figures", "tables")) + "\n}\n"


def write(site_dir: Path, recorder: Recorder | None = None) -> None:
    """Write figures.json and every table's CSV (UTF-8 with BOM, for Excel) into the site."""
    recorder = recorder or RECORDER
    if recorder is None:
        return
    site_dir = Path(site_dir)
    (site_dir / FIGURES_FILE).write_text(document_text(document(recorder)), encoding="utf-8")
    for table in recorder.tables:
        path = site_dir / table["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xef\xbb\xbf" + table["csv"].encode("utf-8"))


def read(site_dir: Path) -> dict[str, Any]:
    """figures.json of a built site (FileNotFoundError when the site has none)."""
    return json.loads((Path(site_dir) / FIGURES_FILE).read_text(encoding="utf-8"))
