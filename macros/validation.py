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

import difflib
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .backends import is_uri
from .contract import Column, Dataset
from .loading import DataStore, LoadedDataset, quote_ident, quote_literal, typed_name

VALIDATION_VERSION = "1"
TYPE_HINTS = {
    "integer": "write whole numbers such as 12",
    "decimal": "write plain numbers such as 1234.50 (declare `clean: [thousands, currency]` in "
               "datasets.yml if the export writes ¥1,234.50)",
    "date": "write dates as 2025-06-18, 2025/6/18 or 2025年6月18日",
    "timestamp": "write times as 2025-06-18 14:30:00 (or 2025/6/18 14:30)",
    "boolean": "write 是/否, true/false or 1/0",
}


class DataValidationError(Exception):
    """The data breaks the contract; `report` lists every problem found."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.text())


@dataclass(frozen=True)
class Problem:
    severity: str  # error | warning
    dataset: str
    file: str
    rule: str
    message: str
    hint: str = ""
    row: int | None = None
    header: str | None = None
    column: str | None = None
    value: str | None = None

    def text(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.header is not None:
            where.append(f"column {self.header} ({self.column})")
        value = f": value {self.value!r}" if self.value is not None else ""
        hint = f" Hint: {self.hint}" if self.hint else ""
        return f"{', '.join(where)}{value} — {self.message} [rule: {self.rule}].{hint}"


@dataclass(frozen=True)
class CheckResult:
    dataset: str
    check: str  # e.g. "required 订单编号 (order_id)"
    rule: str
    failures: int


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
class _Rule:
    """One condition over the raw view: rows where `condition` holds are problems."""

    column: Column
    rule: str
    condition: str
    message: str
    hint: str
    severity: str = "error"


def _relative(store: DataStore, path: Path) -> str:
    try:
        return str(Path(path).relative_to(store.contract.data_dir.parent))
    except ValueError:
        return str(path)


def _data_path(store: DataStore, dataset_path: str) -> str:
    """How a contract path is shown: relative to the project (data/ by default); a URI or a
    Spark table as it is."""
    if is_uri(dataset_path):
        return dataset_path
    return _relative(store, store.contract.data_dir / dataset_path)


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


def _rules(loaded: LoadedDataset) -> list[_Rule]:
    rules: list[_Rule] = []
    for col in loaded.dataset.columns.values():
        if col in loaded.missing_headers:
            continue
        raw = quote_ident(col.header)
        typed = quote_ident(typed_name(col))
        present = f"NULLIF(TRIM(CAST({raw} AS VARCHAR)), '') IS NOT NULL"
        if col.type != "string":
            rules.append(_Rule(col, "type", f"{present} AND ({typed}) IS NULL",
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
    return rules


def _hint_for_value(rule: _Rule, value: str | None) -> str:
    if rule.rule == "allowed" and value is not None and rule.column.allowed:
        close = difflib.get_close_matches(value, [str(a) for a in rule.column.allowed], n=1, cutoff=0.3)
        if close:
            return f'did you mean "{close[0]}"? ' + rule.hint
    return rule.hint


def validate(store: DataStore, cap: int = 20) -> ValidationReport:
    """Run every check of the contract on the loaded data."""
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
            report.checks.append(CheckResult(dataset.name, "file present", "file",
                                             1 if dataset.required else 0))
    for unreadable in store.unreadable:
        report.checks.append(CheckResult(unreadable.dataset.name, "file readable", "file", 1))
        report.problems.append(Problem(
            "error", unreadable.dataset.name, _relative(store, unreadable.path), "file",
            f"cannot be read: {unreadable.reason}", unreadable.hint,
        ))
    counts = _count_failures(store)
    for loaded in store.loaded.values():
        _check_headers(store, loaded, report)
        _check_rows(store, loaded, report, cap, counts)
        _check_keys(store, loaded, report, cap, counts)
        _check_references(store, loaded, report, cap, counts)
    return report


def _count_failures(store: DataStore) -> dict[str, int]:
    """Failures of every row rule, key and reference of the loaded datasets, in one query (a
    cross join of one-row counts: one scan per dataset for its rules), keyed
    "dataset|rule|i", "dataset|key|i", "dataset|ref|column"."""
    parts: list[str] = []
    names: list[str] = []
    for loaded in store.loaded.values():
        name = loaded.dataset.name
        rules = _rules(loaded)
        if rules:
            sums = []
            for i, rule in enumerate(rules):
                sums.append(f"SUM(CASE WHEN {rule.condition} THEN 1 ELSE 0 END) AS c{len(names)}")
                names.append(f"{name}|rule|{i}")
            parts.append(f"SELECT {', '.join(sums)} FROM {quote_ident(f'{name}__typed')}")
        for i, key in enumerate(_checked_keys(loaded)):  # rows whose key an earlier row has
            cols = ", ".join(quote_ident(k) for k in key)
            present = " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in key)
            parts.append(f"SELECT COALESCE(SUM(n - 1), 0) AS c{len(names)} FROM (SELECT COUNT(*) AS n "
                         f"FROM {quote_ident(name)} WHERE {present} GROUP BY {cols}) AS d WHERE n > 1")
            names.append(f"{name}|key|{i}")
        for col in _checked_references(store, loaded):
            parts.append(f"SELECT COUNT(*) AS c{len(names)} FROM ({_unmatched_sql(loaded, col)}) AS u")
            names.append(f"{name}|ref|{col.name}")
    if not parts:
        return {}
    row = store.rows("SELECT * FROM " + " CROSS JOIN ".join(f"({p}) AS q{i}" for i, p in enumerate(parts)))[0]
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}


def _check_headers(store: DataStore, loaded: LoadedDataset, report: ValidationReport) -> None:
    file_headers = [h for h in loaded.raw_types if h not in ("file_row_number", "filename")]
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
    rows = store.rows(
        f"SELECT filename, file_row_number, {raw if as_double else f'CAST({raw} AS VARCHAR)'} AS value "
        f"FROM {view} WHERE {condition} ORDER BY filename, file_row_number LIMIT {int(cap)}"
    )
    return [(r[0], int(r[1]), _value_text(r[2]) if as_double else r[2]) for r in rows]


def _check_rows(store: DataStore, loaded: LoadedDataset, report: ValidationReport, cap: int,
                counts: dict[str, int]) -> None:
    for i, rule in enumerate(_rules(loaded)):
        count = counts[f"{loaded.dataset.name}|rule|{i}"]
        report.checks.append(CheckResult(loaded.dataset.name,
                                         f"{rule.rule} {rule.column.header} ({rule.column.name})",
                                         rule.rule, count))
        if not count:
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


def _key_columns(dataset: Dataset) -> list[tuple[str, ...]]:
    keys = [(c.name,) for c in dataset.columns.values() if c.unique]
    if dataset.primary_key and tuple(dataset.primary_key) not in keys:
        keys.append(tuple(dataset.primary_key))
    return keys


def _checked_keys(loaded: LoadedDataset) -> list[tuple[str, ...]]:
    dataset = loaded.dataset
    return [key for key in _key_columns(dataset)
            if not any(dataset.columns[k] in loaded.missing_headers for k in key)]


def _duplicates_sql(loaded: LoadedDataset, key: tuple[str, ...]) -> str:
    """Rows whose key an earlier row already has."""
    cols = ", ".join(quote_ident(k) for k in key)
    sql = (
        f"SELECT _file, _row, {cols}, COUNT(*) OVER (PARTITION BY {cols}) AS n, "
        f"MIN(_row) OVER (PARTITION BY {cols}) AS first_row FROM {quote_ident(loaded.dataset.name)} "
        f"WHERE {' AND '.join(f'{quote_ident(k)} IS NOT NULL' for k in key)}"
    )
    return f"SELECT * FROM ({sql}) AS k WHERE n > 1 AND _row > first_row"


def _check_keys(store: DataStore, loaded: LoadedDataset, report: ValidationReport, cap: int,
                counts: dict[str, int]) -> None:
    dataset = loaded.dataset
    for i, key in enumerate(_checked_keys(loaded)):
        total = counts[f"{dataset.name}|key|{i}"]
        rows = store.rows(f"{_duplicates_sql(loaded, key)} ORDER BY _file, _row LIMIT {int(cap)}") if total else []
        headers = " + ".join(dataset.columns[k].header for k in key)
        report.checks.append(CheckResult(dataset.name, f"unique {headers} ({', '.join(key)})",
                                         "unique", total))
        for row in rows:
            file, row_no = row[0], int(row[1])
            values = [str(v) for v in row[2:2 + len(key)]]
            first = int(row[3 + len(key)])
            report.problems.append(Problem(
                "error", dataset.name, _display_file(store, file), "unique",
                f"duplicate key: the same value is already in row {first + loaded.header_row_offset}",
                "remove the duplicate row or fix the id",
                row_no + loaded.header_row_offset, headers, ", ".join(key), " / ".join(values),
            ))
        if total > len(rows):
            report.more[f"{dataset.name}|{'+'.join(key)}|unique"] = total - len(rows)


def _checked_references(store: DataStore, loaded: LoadedDataset) -> list[Column]:
    """Columns with a reference to check (an absent optional dataset has nothing to check)."""
    return [col for col in loaded.dataset.columns.values()
            if col.references is not None and col not in loaded.missing_headers
            and col.references[0] in store.loaded]


def _unmatched_sql(loaded: LoadedDataset, col: Column) -> str:
    """Rows whose value is not in the referenced column."""
    ref_ds, ref_col = col.references or ("", "")
    name = quote_ident(col.name)
    return (
        f"SELECT t._file, t._row, CAST(t.{name} AS VARCHAR) AS value "
        f"FROM {quote_ident(loaded.dataset.name)} t WHERE t.{name} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {quote_ident(ref_ds)} r WHERE r.{quote_ident(ref_col)} = t.{name})"
    )


def _check_references(store: DataStore, loaded: LoadedDataset, report: ValidationReport,
                      cap: int, counts: dict[str, int]) -> None:
    dataset = loaded.dataset
    for col in _checked_references(store, loaded):
        ref_ds, ref_col = col.references or ("", "")
        total = counts[f"{dataset.name}|ref|{col.name}"]
        rows = store.rows(f"{_unmatched_sql(loaded, col)} ORDER BY t._file, t._row LIMIT {int(cap)}") if total else []
        ref_header = store.contract.datasets[ref_ds].columns[ref_col].header
        ref_path = _data_path(store, store.contract.datasets[ref_ds].path)
        report.checks.append(CheckResult(dataset.name, f"reference {col.header} → {ref_ds}.{ref_col}",
                                         "references", total))
        for file, row_no, value in rows:
            report.problems.append(Problem(
                "error", dataset.name, _display_file(store, file), "references",
                f"not found in {ref_path} column {ref_header} ({ref_ds}.{ref_col})",
                f"add it to {ref_path} or correct the value",
                int(row_no) + loaded.header_row_offset, col.header, col.name, value,
            ))
        if total > len(rows):
            report.more[f"{dataset.name}|{col.name}|references"] = total - len(rows)


def validation_key(store: DataStore, cap: int) -> str:
    contract_hash = hashlib.sha256(store.contract.path.read_bytes()).hexdigest()
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return hashlib.sha256(
        f"{VALIDATION_VERSION}|{cap}|{contract_hash}|{code}|{store.fingerprint()}|{store.backend.name}".encode()
    ).hexdigest()


def validate_cached(store: DataStore, cache_dir: Path, cap: int = 20) -> ValidationReport:
    """`validate`, reusing the last report when neither the data, the contract nor this code
    changed (atomic write; an unreadable entry is recomputed)."""
    import os
    import tempfile

    path = Path(cache_dir) / "validation" / f"{validation_key(store, cap)}.json"
    try:
        return ValidationReport.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    report = validate(store, cap)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(report.to_json())
    os.replace(tmp, path)
    return report
