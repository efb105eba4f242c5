"""Checks every input file against the data contract before any page renders.

All problems are collected — capped per rule and column, with a count of the rest — and each
names the file, the row as a person sees it (spreadsheet row for CSV/Excel, whose header is
row 1; 1-based row for Parquet), the column (the file's header and the canonical name), the
value, the rule and a hint. Checks run as SQL in the database: one query counts the failures of
every check (one scan per dataset for its column rules, one per key and per reference), then
one query per failing check fetches its first rows, so large files are never pulled into
Python. The SQL is the same on every engine (see backends.py): rules read the
`<dataset>__typed` view, which holds the file's raw columns next to their typed values.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fupan.data.backends import is_uri
from fupan.data.contract import MAX_ABS, PAST_YEARS, Column, Dataset
from fupan.data.problems import Problem
from fupan.data.store import DataStore, LoadedDataset, quote_ident, quote_literal, trimmed_text_sql, typed_name
from fupan.errors import FupanError, Issue
from fupan.speed.cache import CacheRoot, cache_key, code_version, read_sealed, write_atomically

VALIDATION_VERSION = "1"
TYPE_HINTS = {
    "integer": "write whole numbers such as 12",
    "decimal": "write plain numbers such as 1234.50 (declare `clean: [thousands, currency]` in "
               "datasets.yml if the export writes ¥1,234.50, and `decimal: \",\"` if it writes 1.234,50)",
    "date": "write dates as 2025-06-18, 2025/6/18 or 2025年6月18日",
    "timestamp": "write times as 2025-06-18 14:30:00 (or 2025/6/18 14:30)",
    "boolean": "write 是/否, true/false or 1/0",
}


class DataValidationError(FupanError):
    """The data breaks the contract; `report` lists every problem found."""

    def __init__(self, report: ValidationReport):
        self.report = report
        first = report.errors[0] if report.errors else None
        super().__init__(report.text(), location=first.location if first else None,
                         hint=(first.hint or None) if first else None)
        self.issues = [Issue(p.message, p.location, p.hint or None) for p in report.errors]

    def text(self) -> str:
        return self.message  # the report names each problem's file, row and column


@dataclass(frozen=True)
class CheckResult:
    dataset: str
    check: str  # e.g. "required 订单编号 (order_id)"
    rule: str
    failures: int
    by_construction: bool = False  # holds by how the rows were derived (Dataset.keys_by_construction)


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    more: dict[str, int] = field(default_factory=dict)  # "dataset|column|rule" -> not shown
    missing_optional: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def text(self) -> str:
        lines = [
            f"Data validation: {len(self.errors)} error(s), {len(self.warnings)} warning(s) "
            f"from {len(self.checks)} checks."
        ]
        for problem in self.problems:
            lines.append(f"  {problem.severity.upper()}: {problem.text()}")
        for key, count in sorted(self.more.items()):
            dataset, column, rule = key.split("|")
            lines.append(f"  … and {count} more {rule} problem(s) in {dataset}.{column}")
        if self.missing_optional:
            lines.append("  Optional data not provided (sections needing it show a notice): "
                         + ", ".join(self.missing_optional))
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {"problems": [asdict(p) for p in self.problems],
             "checks": [asdict(c) for c in self.checks],
             "more": self.more, "missing_optional": self.missing_optional},
            ensure_ascii=False, sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ValidationReport:
        data = json.loads(text)
        return cls(
            problems=[Problem(**p) for p in data["problems"]],
            checks=[CheckResult(**c) for c in data["checks"]],
            more=data["more"],
            missing_optional=data["missing_optional"],
        )


@dataclass(frozen=True)
class DateLimits:
    """The dates a time column's values may take: after `latest` is an error (the build's date:
    the later of today and the review year's end), before `earliest` a warning (PAST_YEARS
    before the review year). Stated in contract.py."""

    earliest: dt.date
    latest: dt.date
    year: int | None = None  # the review year: it must hold paid orders


def build_date() -> dt.date:
    """Today as the build sees it: SOURCE_DATE_EPOCH's date when set (reproducible builds), else
    the clock's."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.date.today()


def date_limits(year: int, today: dt.date | None = None) -> DateLimits:
    """The limits of the review of `year`, built `today` (default: build_date())."""
    latest = max(today or build_date(), dt.date(int(year), 12, 31))
    return DateLimits(dt.date(int(year) - PAST_YEARS, 1, 1), latest, int(year))


# Amounts the review relies on being bounded by another of the same row, whatever the contract
# says: a refund larger than what was paid makes net sales negative without a word.
REVIEW_BOUNDS = {"orders": (("refund_amount", "order_amount"),),
                 "order_lines": (("refunded_quantity", "quantity"),)}


@dataclass(frozen=True)
class _Rule:
    """One condition over the raw view: rows where `condition` holds are problems."""

    column: Column
    rule: str
    condition: str | None  # None: the rule cannot fail on this file (nothing to scan)
    message: str
    hint: str
    severity: str = "error"


def _data_path(store: DataStore, dataset_path: str) -> str:
    """How a contract path is shown: relative to the project (data/ by default); a URI or a
    Spark table as it is."""
    if is_uri(dataset_path):
        return dataset_path
    return store.shown(store.contract.data_dir / dataset_path)


def _display_file(store: DataStore, path: str) -> str:
    """The original file a staged copy stands for, relative to the project."""
    for loaded in store.loaded.values():
        for original, scanned in zip(loaded.files, loaded.scanned, strict=True):
            if str(scanned) == path or str(original) == path:
                try:
                    return str(original.relative_to(store.contract.data_dir.parent))
                except ValueError:
                    return str(original)
    return path


# Raw column types (as the backends name them) whose conversion to a canonical type cannot fail:
# for them the "type" rule needs no scan (a Parquet file from a warehouse is typed already).
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_TIME_TYPES = {"DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP_NTZ"}
_LOSSLESS = {
    "integer": _INTEGER_TYPES,
    "decimal": _INTEGER_TYPES | {"FLOAT", "DOUBLE"},
    "date": _TIME_TYPES,
    "timestamp": _TIME_TYPES,
    "boolean": {"BOOLEAN"},
}


def _converts_losslessly(col: Column, raw_type: str | None) -> bool:
    if raw_type is None:
        return False
    return raw_type in _LOSSLESS.get(col.type, set()) or (
        col.type == "decimal" and raw_type.startswith("DECIMAL"))


def _number_pattern(col: Column) -> str:
    """A well-formed number of the column's text, as a regular expression (no backslashes: the
    same literal on every engine): digits with the column's decimal mark and, with `thousands`,
    separators in groups of three; a currency sign or percent around it."""
    mark, separator = ("[,]", "[.]") if col.decimal == "," else ("[.]", ",")
    digits = f"([0-9]{{1,3}}({separator}[0-9]{{3}})+|[0-9]+)" if "thousands" in col.clean else "[0-9]+"
    return f"^[^0-9,.]*{digits}({mark}[0-9]+)?[^0-9,.]*$"


def _value_rules(loaded: LoadedDataset, col: Column, raw_type: str | None, limits: DateLimits | None) -> list[_Rule]:
    """The rules on what a value says, beyond its type: a number's separators, its magnitude,
    a time column's dates (contract.py states them)."""
    rules: list[_Rule] = []
    typed = quote_ident(typed_name(col))
    if col.type == "decimal" and raw_type == "VARCHAR" and ("thousands" in col.clean or col.decimal == ","):
        text = trimmed_text_sql(quote_ident(col.header))
        expected = "1.234,50" if col.decimal == "," else "1,234.50"
        rules.append(_Rule(col, "number format",
                           f"({text} LIKE '%,%' OR {text} LIKE '%.%') AND "
                           f"NOT regexp_matches({text}, {quote_literal(_number_pattern(col))})",
                           f"does not fit the column's number format ({expected}): its value would be misread",
                           'a file writing 1.234,50 (decimal comma) needs `decimal: ","` for this column or its '
                           "dataset in data/datasets.yml; thousands separators come in groups of three"))
    if col.type == "decimal":
        limit = col.max_abs or MAX_ABS
        rules.append(_Rule(col, "magnitude", f"({typed}) > {limit:g} OR ({typed}) < -{limit:g}",
                           f"is NaN, infinite or beyond ±{limit:g}: not a usable number",
                           "leave the cell empty when the value is unknown; if such amounts are real, set "
                           "`max_abs:` for this column in data/datasets.yml"))
    if limits is not None and col.name == loaded.dataset.time_column and col.type in ("date", "timestamp"):
        day = f"CAST(({typed}) AS DATE)"
        rules.append(_Rule(col, "future date", f"{day} > DATE '{limits.latest.isoformat()}'",
                           f"is after {limits.latest.isoformat()} (the build's date, or the review year's end): "
                           "the review would leave the row out",
                           "correct the date (a typo in the year?), or set SOURCE_DATE_EPOCH / the review year"))
        rules.append(_Rule(col, "past date", f"{day} < DATE '{limits.earliest.isoformat()}'",
                           f"is before {limits.earliest.isoformat()}, more than {PAST_YEARS} years before the "
                           "review year: no period shown includes it",
                           "check the year (1925 for 2025?)", "warning"))
    return rules


def _bound_rules(loaded: LoadedDataset) -> list[_Rule]:
    rules = []
    columns = loaded.dataset.columns
    for part, whole in REVIEW_BOUNDS.get(loaded.dataset.name, ()):
        if part not in columns or whole not in columns:
            continue
        col, bound = columns[part], columns[whole]
        if col in loaded.missing_headers or bound in loaded.missing_headers:
            continue
        rules.append(_Rule(col, "bound", f"({quote_ident(typed_name(col))}) > ({quote_ident(typed_name(bound))})",
                           f"is larger than {bound.header} ({bound.name}) of the same row",
                           f"a refund cannot exceed what was paid: correct {col.header} or {bound.header}"))
    return rules


def _rules(loaded: LoadedDataset, limits: DateLimits | None = None) -> list[_Rule]:
    rules: list[_Rule] = []
    for col in loaded.dataset.columns.values():
        if col in loaded.missing_headers:
            continue
        raw = quote_ident(col.header)
        typed = quote_ident(typed_name(col))
        raw_type = loaded.raw_types.get(col.header)
        # Text counts as present when it is not blank; a typed (non-text) value when not NULL.
        # Spelling it per type keeps a cast to text off every row of typed columns, and a tidy
        # text column (nothing to trim: DataStore._tidy_text) needs no trimming to tell.
        text = raw_type == "VARCHAR" and col.header not in loaded.tidy_text
        present = f"{trimmed_text_sql(raw) if text else raw} IS NOT NULL"
        if col.type != "string":
            rules.append(_Rule(col, "type",
                               None if _converts_losslessly(col, raw_type) else f"{present} AND ({typed}) IS NULL",
                               f"is not a valid {col.type}", TYPE_HINTS.get(col.type, "")))
        if col.required:
            rules.append(_Rule(col, "required", f"NOT ({present})",
                               "a value is required here", "fill in the missing value or remove the row"))
        if col.allowed is not None:
            options = ", ".join(quote_literal(str(a)) for a in col.allowed)
            rules.append(_Rule(col, "allowed", f"({typed}) IS NOT NULL AND CAST(({typed}) AS VARCHAR) "
                               f"NOT IN ({options})",
                               "is not one of the allowed values",
                               "use one of: " + ", ".join(str(a) for a in col.allowed)))
        if col.min is not None:
            rules.append(_Rule(col, "min", f"({typed}) < {col.min}",
                               f"is below the minimum {col.min}", f"values must be ≥ {col.min}"))
        if col.max is not None:
            rules.append(_Rule(col, "max", f"({typed}) > {col.max}",
                               f"is above the maximum {col.max}", f"values must be ≤ {col.max}"))
        rules.extend(_value_rules(loaded, col, raw_type, limits))
    return rules + _bound_rules(loaded)


def _hint_for_value(rule: _Rule, value: str | None) -> str:
    if rule.rule == "allowed" and value is not None and rule.column.allowed:
        close = difflib.get_close_matches(value, [str(a) for a in rule.column.allowed], n=1, cutoff=0.3)
        if close:
            return f'did you mean "{close[0]}"? ' + rule.hint
    return rule.hint


def validate(store: DataStore, cap: int = 20, cache_dir: Path | None = None,
             limits: DateLimits | None = None) -> ValidationReport:
    """Run every check of the contract on the loaded data. With `cache_dir`, each failure count
    is kept there, so only checks reading a changed file run again. With `limits` (the review's
    date_limits), the time columns' dates are checked against them."""
    report = ValidationReport()
    contract = store.contract
    for dataset in contract.datasets.values():
        if dataset.name in store.missing:
            if dataset.required:
                report.problems.append(Problem(
                    "error", dataset.name, _data_path(store, dataset.path), "file",
                    "required file not found",
                    f"export {dataset.description_en.lower()} to {_data_path(store, dataset.path)} "
                    "or change `path` in datasets.yml",
                ))
            else:
                report.missing_optional.append(_data_path(store, dataset.path))
                if dataset.name in store.empty:
                    report.problems.append(Problem(
                        "warning", dataset.name, _data_path(store, dataset.path), "rows",
                        "the file has no data rows (it is empty or holds only its header): taken as not "
                        "provided, so the sections that need it show their no-data notice",
                        "add the rows, or remove the file if there is no such data"))
            report.checks.append(CheckResult(dataset.name, "file present", "file",
                                             1 if dataset.required else 0))
    intake = store.intake
    if intake is not None:
        report.problems.extend(intake.problems)
        for rule in intake.rules:
            report.checks.append(CheckResult(rule.export, rule.kind, "intake", 0))
    for unreadable in store.unreadable:
        report.checks.append(CheckResult(unreadable.dataset.name, "file readable", "file", 1))
        report.problems.append(Problem(
            "error", unreadable.dataset.name, store.shown(unreadable.path), "file",
            f"cannot be read: {unreadable.reason}", unreadable.hint, unreadable.row,
        ))
    rowless = _check_required_rows(store, report)
    _check_review_year(store, report, limits)
    counts = _count_failures(store, cache_dir, rowless, limits)
    for loaded in store.loaded.values():
        _check_headers(store, loaded, report)
        _check_rows(store, loaded, report, cap, counts, limits)
        _check_keys(store, loaded, report, cap, counts)
        _check_references(store, loaded, report, cap, counts, rowless)
    return report


@contextmanager
def _nan_visible(store: DataStore) -> Iterator[None]:
    """DuckDB folds comparisons with a Parquet file's min/max statistics, and skips row groups
    by them, but they leave NaN out (as pyarrow writes them): `x > 1e12` was false for a NaN
    cell. The row rules' queries run without both (full scans, as they are anyway)."""
    backend = store.backend
    if backend.name != "duckdb":
        yield
        return
    store.ensure_registered()
    backend.con.execute("SET disabled_optimizers = 'statistics_propagation,filter_pushdown'")
    try:
        yield
    finally:
        backend.con.execute("RESET disabled_optimizers")


def _check_required_rows(store: DataStore, report: ValidationReport) -> set[str]:
    """A required dataset without a single row is named as such; the references to it are not
    checked (every referencing row would fail, blaming the other file). Returns their names."""
    rowless: set[str] = set()
    for loaded in store.loaded.values():
        if not loaded.dataset.required:
            continue
        rows = int(store.rows(f"SELECT COUNT(*) FROM {quote_ident(loaded.dataset.name)}")[0][0] or 0)
        report.checks.append(CheckResult(loaded.dataset.name, "has rows", "rows", 0 if rows else 1))
        if not rows:
            rowless.add(loaded.dataset.name)
            report.problems.append(Problem(
                "error", loaded.dataset.name, _display_file(store, str(loaded.files[0])) if loaded.files
                else _data_path(store, loaded.dataset.path), "rows",
                "the file has no data rows (only its header): the review cannot be built without "
                f"{loaded.dataset.description_en.lower()}",
                f"export {loaded.dataset.description_en.lower()} again into this file"))
    return rowless


def _check_review_year(store: DataStore, report: ValidationReport, limits: DateLimits | None) -> None:
    """The review year must hold paid orders: a review of a year the data does not reach would
    show empty pages (or fail deep in a macro)."""
    loaded = store.loaded.get("orders")
    if limits is None or limits.year is None or loaded is None or loaded.dataset.time_column is None:
        return
    dataset, column = loaded.dataset, quote_ident(loaded.dataset.time_column)
    first, last, in_year = store.rows(
        f"SELECT CAST(MIN({column}) AS DATE), CAST(MAX({column}) AS DATE), "
        f"SUM(CASE WHEN YEAR({column}) = {limits.year} THEN 1 ELSE 0 END) FROM {quote_ident(dataset.name)}")[0]
    report.checks.append(CheckResult(dataset.name, f"orders in {limits.year}", "review year", 0 if in_year else 1))
    if in_year:
        return
    time_header = dataset.columns[dataset.time_column].header
    if first is None:
        found, hint = (f"no order has a {time_header} ({dataset.time_column})",
                       f"fill in {time_header}: orders without it are not paid and count in no period")
    else:
        years = " or ".join(str(y) for y in sorted({first.year, last.year}))
        found = f"the orders' {time_header} ({dataset.time_column}) run from {first.isoformat()} to {last.isoformat()}"
        hint = (f"set `year:` of extra.review in mkdocs.yml to a year the data covers ({years}), or add that "
                "year's orders")
    report.problems.append(Problem(
        "error", dataset.name, _display_file(store, str(loaded.files[0])) if loaded.files
        else _data_path(store, dataset.path), "review year",
        f"no paid order falls in the review year {limits.year} (extra.review.year): {found}", hint))


def _count_parts(store: DataStore, rowless: set[str] = frozenset(),
                 limits: DateLimits | None = None) -> list[tuple[str, list[str], tuple[str, ...]]]:
    """The counting queries: (SQL giving one row of counts, the counts' names "dataset|rule|i",
    "dataset|key|i", "dataset|ref|column", the datasets the SQL reads). One scan per dataset
    for its row rules, one per key and one per reference."""
    parts: list[tuple[str, list[str], tuple[str, ...]]] = []
    for loaded in store.loaded.values():
        name = loaded.dataset.name
        sums, names = [], []
        for i, rule in enumerate(_rules(loaded, limits)):
            if rule.condition is not None:
                sums.append(f"SUM(CASE WHEN {rule.condition} THEN 1 ELSE 0 END) AS c{len(sums)}")
                names.append(f"{name}|rule|{i}")
        if sums:
            parts.append((f"SELECT {', '.join(sums)} FROM {quote_ident(f'{name}__typed')}", names, (name,)))
        for i, key in enumerate(_checked_keys(loaded)):  # rows whose key an earlier row has
            cols = ", ".join(quote_ident(k) for k in key)
            present = " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in key)
            parts.append((f"SELECT COALESCE(SUM(n - 1), 0) AS c0 FROM (SELECT COUNT(*) AS n "
                          f"FROM {quote_ident(name)} WHERE {present} GROUP BY {cols}) AS d WHERE n > 1",
                          [f"{name}|key|{i}"], (name,)))
        for col in _checked_references(store, loaded, rowless):
            parts.append((f"SELECT COUNT(*) AS c0 FROM ({_unmatched_sql(loaded, col)}) AS u",
                          [f"{name}|ref|{col.name}"], (name, col.references[0])))
    return parts


def _count_failures(store: DataStore, cache_dir: Path | None = None, rowless: set[str] = frozenset(),
                    limits: DateLimits | None = None) -> dict[str, int]:
    """Failures of every row rule, key and reference of the loaded datasets. Each count is kept
    on disk by its SQL and the fingerprint of the datasets it reads, so a changed file re-runs
    only the checks that read it. On DuckDB each query runs alone (one hash table in memory at
    a time); other engines get one query, a cross join of the one-row counts (fewer jobs)."""
    counts: dict[str, int] = {}
    pending: list[tuple[str, list[str], Path | None]] = []
    for sql, names, datasets in _count_parts(store, rowless, limits):
        path = None
        if cache_dir is not None:
            key = cache_key(VALIDATION_VERSION, code_version(), store.backend.name, sql, store.fingerprint(datasets))
            path = CacheRoot(cache_dir).dir("validation-counts") / key[:2] / f"{key}.json"
            try:
                values = json.loads(read_sealed(path) or b"null")  # sealed: a damaged one is counted again
                if isinstance(values, list) and len(values) == len(names):
                    counts.update(zip(names, (int(v) for v in values), strict=True))
                    continue
            except (OSError, ValueError, TypeError):
                pass  # missing or corrupt: count again
        pending.append((sql, names, path))
    if not pending:
        return counts
    if store.backend.name == "duckdb":
        rows = []
        for sql, names, _ in pending:
            if "|rule|" in names[0]:
                with _nan_visible(store):
                    rows.append(store.rows(sql)[0])
            else:
                rows.append(store.rows(sql)[0])
    else:
        width = [len(names) for _, names, _ in pending]
        combined = store.rows("SELECT * FROM " + " CROSS JOIN ".join(
            f"(SELECT {', '.join(f'c{j} AS p{i}_{j}' for j in range(len(names)))} FROM ({sql}) AS s{i}) AS q{i}"
            for i, (sql, names, _) in enumerate(pending)))[0]
        rows, start = [], 0
        for n in width:
            rows.append(combined[start:start + n])
            start += n
    for (_, names, path), row in zip(pending, rows, strict=True):
        values = [int(v or 0) for v in row]
        counts.update(zip(names, values, strict=True))
        if path is not None:
            write_atomically(path, json.dumps(values))
    return counts


def _check_headers(store: DataStore, loaded: LoadedDataset, report: ValidationReport) -> None:
    file_headers = [h for h in loaded.raw_types if h not in ("file_row_number", "filename", *loaded.row_columns)]
    for col in loaded.dataset.columns.values():
        found = col not in loaded.missing_headers
        report.checks.append(CheckResult(loaded.dataset.name, f"header {col.header} ({col.name})",
                                         "header", 0 if found else 1))
        if found:
            continue
        close = difflib.get_close_matches(col.header, file_headers, n=1, cutoff=0.3)
        suggestion = f'the file has "{close[0]}": map it with `header: {close[0]}`' if close else (
            f"the file's headers are: {', '.join(file_headers)}")
        report.problems.append(Problem(
            "error" if col.required else "warning", loaded.dataset.name,
            _display_file(store, str(loaded.files[0])), "header",
            f"column header {col.header!r} (canonical {col.name}) not found in the file",
            suggestion + "; or change `header:` in data/datasets.yml",
            header=col.header, column=col.name,
        ))


def _value_text(value: Any) -> str | None:
    """A raw DOUBLE as DuckDB's CAST(… AS VARCHAR) spells it (Python's repr: 12345678.9, 1e-05;
    Spark would write 1.23456789E7)."""
    return None if value is None else repr(float(value))


def _sample_rows(store: DataStore, loaded: LoadedDataset, condition: str, raw_header: str,
                 cap: int) -> list[tuple[str, int, Any]]:
    view = quote_ident(f"{loaded.dataset.name}__typed")
    raw = quote_ident(raw_header)
    as_double = loaded.raw_types.get(raw_header) == "DOUBLE"
    file_col, row_col = (quote_ident(c) for c in loaded.row_columns)
    with _nan_visible(store):
        rows = store.rows(
            f"SELECT {file_col}, {row_col}, {raw if as_double else f'CAST({raw} AS VARCHAR)'} AS value "
            f"FROM {view} WHERE {condition} ORDER BY {file_col}, {row_col} LIMIT {int(cap)}")
    return [(r[0], int(r[1]), _value_text(r[2]) if as_double else r[2]) for r in rows]


def _check_rows(store: DataStore, loaded: LoadedDataset, report: ValidationReport, cap: int,
                counts: dict[str, int], limits: DateLimits | None = None) -> None:
    for i, rule in enumerate(_rules(loaded, limits)):
        count = counts.get(f"{loaded.dataset.name}|rule|{i}", 0)  # absent: cannot fail
        report.checks.append(CheckResult(loaded.dataset.name,
                                         f"{rule.rule} {rule.column.header} ({rule.column.name})",
                                         rule.rule, count))
        if not count or rule.condition is None:
            continue
        samples = _sample_rows(store, loaded, rule.condition, rule.column.header, cap)
        total = count
        for file, row, value in samples:
            report.problems.append(Problem(
                rule.severity, loaded.dataset.name, _display_file(store, file), rule.rule,
                rule.message, _hint_for_value(rule, value), row + loaded.header_row_offset,
                rule.column.header, rule.column.name, value,
            ))
        if total > len(samples):
            report.more[f"{loaded.dataset.name}|{rule.column.name}|{rule.rule}"] = total - len(samples)


# Keys the review itself relies on, checked whatever the contract says: the metrics sum each
# order's amount once per row of `orders`, and join every line to one row of `products`. A
# second row for the same order or SKU would count its amounts twice (fan-out).
REVIEW_KEYS = {"orders": ("order_id",), "products": ("sku",)}
DUPLICATE_HINTS = {
    "orders": ("several rows share this order id. If the file has one row per order line (the order's "
               "fields repeated on each line), declare it under `exports:` with `shape: lines` (see "
               "docs/guide/exports) instead of deleting rows, which would delete sales; if one id is reused "
               "by different orders, tell them apart with `rules: {order_key: [order_id, ordered_at]}`"),
    "products": ("several rows share this SKU: keep one row per product in the product master (the lines "
                 "would otherwise be counted once per row)"),
}


def _key_columns(dataset: Dataset) -> list[tuple[str, ...]]:
    keys = [(c.name,) for c in dataset.columns.values() if c.unique]
    if dataset.primary_key and tuple(dataset.primary_key) not in keys:
        keys.append(tuple(dataset.primary_key))
    review_key = REVIEW_KEYS.get(dataset.name)
    if review_key and all(k in dataset.columns for k in review_key) and review_key not in keys:
        keys.append(review_key)
    return keys


def _checked_keys(loaded: LoadedDataset) -> list[tuple[str, ...]]:
    dataset = loaded.dataset
    return [key for key in _key_columns(dataset)
            if not any(dataset.columns[k] in loaded.missing_headers for k in key)
            and key not in dataset.keys_by_construction]


def _duplicates_sql(loaded: LoadedDataset, key: tuple[str, ...]) -> str:
    """Rows whose key an earlier row already has."""
    cols = ", ".join(quote_ident(k) for k in key)
    sql = (
        f"SELECT _file, _row, {cols}, COUNT(*) OVER (PARTITION BY {cols}) AS n, "
        f"MIN(_row) OVER (PARTITION BY {cols}) AS first_row FROM {quote_ident(loaded.dataset.name)} "
        f"WHERE {' AND '.join(f'{quote_ident(k)} IS NOT NULL' for k in key)}"
    )
    return f"SELECT * FROM ({sql}) AS k WHERE n > 1 AND _row > first_row"


def _key_check_name(dataset: Dataset, key: tuple[str, ...]) -> str:
    return f"unique {' + '.join(dataset.columns[k].header for k in key)} ({', '.join(key)})"


def _check_keys(store: DataStore, loaded: LoadedDataset, report: ValidationReport, cap: int,
                counts: dict[str, int]) -> None:
    dataset = loaded.dataset
    for key in dataset.keys_by_construction:
        report.checks.append(CheckResult(dataset.name, _key_check_name(dataset, key), "unique", 0,
                                         by_construction=True))
    for i, key in enumerate(_checked_keys(loaded)):
        total = counts[f"{dataset.name}|key|{i}"]
        rows = store.rows(f"{_duplicates_sql(loaded, key)} ORDER BY _file, _row LIMIT {int(cap)}") if total else []
        headers = " + ".join(dataset.columns[k].header for k in key)
        report.checks.append(CheckResult(dataset.name, _key_check_name(dataset, key), "unique", total))
        for row in rows:
            file, row_no = row[0], int(row[1])
            values = [str(v) for v in row[2:2 + len(key)]]
            first = int(row[3 + len(key)])
            report.problems.append(Problem(
                "error", dataset.name, _display_file(store, file), "unique",
                f"duplicate key: the same value is already in row {first + loaded.header_row_offset}",
                DUPLICATE_HINTS.get(dataset.name, "if the two rows are copies of one record, remove one; if they "
                                    "are different records, give each its own id"),
                row_no + loaded.header_row_offset, headers, ", ".join(key), " / ".join(values),
            ))
        if total > len(rows):
            report.more[f"{dataset.name}|{'+'.join(key)}|unique"] = total - len(rows)


def _checked_references(store: DataStore, loaded: LoadedDataset, rowless: set[str] = frozenset()) -> list[Column]:
    """Columns with a reference to check (an absent optional dataset, or a required one without
    rows, has nothing to check)."""
    return [col for col in loaded.dataset.columns.values()
            if col.references is not None and col not in loaded.missing_headers
            and col.references[0] in store.loaded and col.references[0] not in rowless
            and col.name not in loaded.dataset.references_by_construction]


def _reference_check_name(col: Column) -> str:
    ref_ds, ref_col = col.references or ("", "")
    return f"reference {col.header} → {ref_ds}.{ref_col}"


def _unmatched_sql(loaded: LoadedDataset, col: Column) -> str:
    """Rows whose value is not in the referenced column. A left join, not a correlated NOT
    EXISTS: DuckDB plans that one over the typed view an order of magnitude slower. Duplicates
    on the referenced side only repeat matched rows, which are dropped."""
    ref_ds, ref_col = col.references or ("", "")
    name, ref = quote_ident(col.name), quote_ident(ref_col)
    return (
        f"SELECT t._file, t._row, CAST(t.{name} AS VARCHAR) AS value "
        f"FROM {quote_ident(loaded.dataset.name)} t LEFT JOIN "
        f"(SELECT {ref} AS k FROM {quote_ident(ref_ds)} WHERE {ref} IS NOT NULL) r "
        f"ON r.k = t.{name} WHERE t.{name} IS NOT NULL AND r.k IS NULL"
    )


def _check_references(store: DataStore, loaded: LoadedDataset, report: ValidationReport,
                      cap: int, counts: dict[str, int], rowless: set[str] = frozenset()) -> None:
    dataset = loaded.dataset
    for name in dataset.references_by_construction:
        report.checks.append(CheckResult(dataset.name, _reference_check_name(dataset.columns[name]), "references",
                                         0, by_construction=True))
    for col in _checked_references(store, loaded, rowless):
        ref_ds, ref_col = col.references or ("", "")
        total = counts[f"{dataset.name}|ref|{col.name}"]
        rows = store.rows(f"{_unmatched_sql(loaded, col)} ORDER BY t._file, t._row LIMIT {int(cap)}") if total else []
        ref_header = store.contract.datasets[ref_ds].columns[ref_col].header
        ref_path = _data_path(store, store.contract.datasets[ref_ds].path)
        report.checks.append(CheckResult(dataset.name, _reference_check_name(col), "references", total))
        for file, row_no, value in rows:
            report.problems.append(Problem(
                "error", dataset.name, _display_file(store, file), "references",
                f"not found in {ref_path} column {ref_header} ({ref_ds}.{ref_col})",
                f"add it to {ref_path} or correct the value",
                int(row_no) + loaded.header_row_offset, col.header, col.name, value,
            ))
        if total > len(rows):
            report.more[f"{dataset.name}|{col.name}|references"] = total - len(rows)


def validation_key(store: DataStore, cap: int, limits: DateLimits | None = None) -> str:
    return cache_key(VALIDATION_VERSION, cap, store.contract.path.read_bytes(), code_version(), store.fingerprint(),
                     store.backend.name, sorted(store.empty), repr(limits))


def validate_cached(store: DataStore, cache_dir: Path, cap: int = 20,
                    limits: DateLimits | None = None) -> ValidationReport:
    """`validate`, reusing the last report when neither the data, the contract, the date limits
    nor this code changed (atomic write; an unreadable entry is recomputed)."""
    path = CacheRoot(cache_dir).dir("validation") / f"{validation_key(store, cap, limits)}.json"
    try:
        return ValidationReport.from_json((read_sealed(path) or b"").decode("utf-8"))  # sealed (cache.py)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    report = validate(store, cap, cache_dir, limits)
    write_atomically(path, report.to_json())
    return report
