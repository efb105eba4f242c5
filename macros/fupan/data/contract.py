"""The data contract: `data/datasets.yml` parsed into typed, validated declarations.

The contract is read once per build. Mistakes in the contract itself (unknown type, a reference
to a dataset that does not exist, ...) are collected and raised together, each with its location
in the YAML file, before any data is read.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fupan.errors import FileProblems, FupanError, Issue, Location

COLUMN_TYPES = ("string", "integer", "decimal", "date", "timestamp", "boolean")
FORMATS = ("parquet", "csv", "xlsx")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
CLEAN_RULES = ("thousands", "currency", "percent")
COLUMN_KEYS = {
    "type", "header", "required", "unique", "allowed", "min", "max", "references", "clean",
    "personal", "description", "decimal", "max_abs",
}
DATASET_KEYS = {
    "description", "source", "required", "path", "format", "encoding", "sheet", "primary_key",
    "time_column", "columns", "decimal",
}
# The decimal mark of a text file's numbers: "." (1,234.50) or "," (1.234,50), per dataset or column.
DECIMAL_MARKS = (".", ",")
# Rules every value is checked by, whatever the contract says (validation.py applies them):
# - a decimal beyond ±MAX_ABS (unless the column sets `max_abs:`), NaN or infinite is an error:
#   a corrupt cell or export, never a real amount (1e308 made every figure "—");
# - a date of a dataset's time column after the build's date (the later of today and the review
#   year's end) is an error: the review would drop it without a word;
# - a date of a time column more than PAST_YEARS before the review year is a warning (a typo:
#   1925 for 2025), as it falls outside every period shown.
MAX_ABS = 1e12
PAST_YEARS = 20


class ContractError(FileProblems):
    """One or more mistakes in the contract file, each with its location."""

    subject = "the data contract"

    def __init__(self, path: Path, problems: list[str]):
        super().__init__(path, problems, _contract_issue)


def _contract_issue(file: str, problem: str) -> Issue:
    """A problem ('datasets.orders.columns.x.type: unknown type "y". Did you mean …') located
    at its key in the contract file."""
    key, sep, message = problem.partition(": ")
    place = _LINE_COLUMN.match(problem)
    if place:  # a YAML mistake: where it is in the file
        message, _, hint = problem[place.end():].partition(" Hint: ")
        return Issue(message, Location(file, line=int(place[1]), column=place[2]), hint or None)
    if not sep or not key.startswith("datasets."):
        key, message = None, problem
    message, hint = split_hint(message)
    return Issue(message, Location(file, key=key), hint)


_LINE_COLUMN = re.compile(r"line (\d+), column (\d+): ")


class UnknownName(FupanError, KeyError):
    """A lookup of a dataset or metric that is not declared (a KeyError, as dict lookups are)."""

    def __init__(self, message: str):
        super().__init__(message, hint=split_hint(message)[1])


def split_hint(message: str) -> tuple[str, str | None]:
    """unknown_name_message's text split into the problem and its hint ('Did you mean …? Valid: …')."""
    marks = [i for i in (message.find(" Did you mean "), message.find(" Valid: ")) if i >= 0]
    if not marks:
        return message, None
    return message[:min(marks)], message[min(marks) + 1:]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    header: str
    required: bool = False
    unique: bool = False
    allowed: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    references: tuple[str, str] | None = None
    clean: tuple[str, ...] = ()
    personal: bool = False
    decimal: str = "."  # the decimal mark of the file's text: "." or ","
    max_abs: float | None = None  # a decimal's largest magnitude (None: MAX_ABS)


@dataclass(frozen=True)
class Dataset:
    name: str
    description_zh: str
    description_en: str
    source: str
    required: bool
    path: str
    format: str
    encoding: str
    sheet: str | None
    primary_key: tuple[str, ...]
    time_column: str | None
    columns: dict[str, Column] = field(default_factory=dict)
    # The export this dataset is derived from (fupan.intake), or None for a file read as it is.
    derived_from: str | None = None
    # Checks that hold by the way the derivation makes the rows (grouped by the key, lines
    # joined to their order): reported as holding, not counted again over millions of rows.
    # Keys as column tuples; references by the referring column's name.
    keys_by_construction: tuple[tuple[str, ...], ...] = ()
    references_by_construction: tuple[str, ...] = ()

    # the source system in English (`source: {zh: …, en: …}`); written once, it serves both
    source_en: str = ""

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_zh

    def source_in(self, locale: str) -> str:
        """Where the data comes from, as a reader of `locale` is told."""
        return (self.source_en or self.source) if locale == "en" else self.source

    @property
    def personal_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns.values() if c.personal)


@dataclass(frozen=True)
class Contract:
    path: Path
    datasets: dict[str, Dataset]
    exports: dict[str, Any] = field(default_factory=dict)  # name → fupan.intake.declaration.Export

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    def dataset(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            raise UnknownName(unknown_name_message("dataset", name, self.datasets)) from None


def unknown_name_message(kind: str, name: str, valid: Any) -> str:
    """'unknown dataset "x"; did you mean "y"? valid: ...' — shared wording for all lookups."""
    valid = sorted(valid)
    close = difflib.get_close_matches(str(name), valid, n=1)
    hint = f' Did you mean "{close[0]}"?' if close else ""
    return f'unknown {kind} "{name}".{hint} Valid: {", ".join(valid)}.'


def misspelt_dataset(name: str, datasets: Any) -> bool:
    """Not declared, but nearly the name of a declared dataset ("ordrs"): a typo, an error. Any
    other undeclared name is a dataset the shop does not have (optional data left out)."""
    return name not in datasets and bool(difflib.get_close_matches(name, list(datasets), n=1, cutoff=0.85))


def load_contract(path: Path) -> Contract:
    """Read and check the contract file; raise ContractError listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise ContractError(path, ["the data contract is missing: it lists the data files the review reads "
                                   "(`datasets:`) or the shop's exports (`exports:`); see data/README.md and "
                                   "docs/guide/exports"])
    try:
        # The C loader when available: several times faster on the contract's size.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    except yaml.YAMLError as exc:
        from fupan.config import YAML_HINT, yaml_mark

        line, column, problem = yaml_mark(exc)
        where = f"line {line}, column {column}: " if line is not None else ""
        raise ContractError(path, [f"{where}not valid YAML: {problem}. Hint: {YAML_HINT}"]) from None
    except UnicodeDecodeError as exc:
        raise ContractError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start}). Hint: save the file "
                                   "as UTF-8"]) from None
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise ContractError(path, ["expected the keys `datasets:` and/or `exports:`"])
    exports: dict[str, Any] = {}
    if raw.get("exports") is not None:
        from fupan.intake.declaration import parse_exports
        from fupan.intake.presets import preset_settings

        exports, export_problems = parse_exports(raw.get("exports"), preset_settings)
        problems.extend(export_problems)
    entries = raw.get("datasets") or {}
    if not isinstance(entries, dict) or not (entries or exports):
        raise ContractError(path, ["top-level key `datasets:` (files read as they are) or `exports:` (a shop's "
                                   "own exports) with at least one entry is missing"])
    datasets: dict[str, Dataset] = {}
    for name, spec in entries.items():
        where = f"datasets.{name}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected a mapping of settings")
            continue
        for key in sorted(set(spec) - DATASET_KEYS):
            problems.append(f"{where}: {unknown_name_message('setting', key, DATASET_KEYS)}")
        fmt = spec.get("format", "csv")
        if fmt not in FORMATS:
            problems.append(f"{where}.format: {unknown_name_message('format', fmt, FORMATS)}")
        encoding = str(spec.get("encoding", "utf-8")).lower()
        dataset_decimal = str(spec.get("decimal", "."))
        if dataset_decimal not in DECIMAL_MARKS:
            problems.append(f'{where}.decimal: write "." (1,234.50) or "," (1.234,50), in quotes')
        if encoding not in ENCODINGS:
            problems.append(
                f"{where}.encoding: {unknown_name_message('encoding', encoding, ENCODINGS)}"
            )
        if fmt == "xlsx" and not spec.get("sheet"):
            problems.append(f"{where}.sheet: an xlsx dataset needs the sheet name")
        if not spec.get("path"):
            problems.append(f"{where}.path: missing (file path or glob relative to data/)")
        columns: dict[str, Column] = {}
        col_specs = spec.get("columns") or {}
        if not col_specs:
            problems.append(f"{where}.columns: no columns declared")
        for col_name, col in col_specs.items():
            cwhere = f"{where}.columns.{col_name}"
            col = col or {}
            for key in sorted(set(col) - COLUMN_KEYS):
                problems.append(f"{cwhere}: {unknown_name_message('column setting', key, COLUMN_KEYS)}")
            ctype = col.get("type", "string")
            if ctype not in COLUMN_TYPES:
                problems.append(f"{cwhere}.type: {unknown_name_message('type', ctype, COLUMN_TYPES)}")
            for rule in col.get("clean") or []:
                if rule not in CLEAN_RULES:
                    problems.append(
                        f"{cwhere}.clean: {unknown_name_message('cleaning rule', rule, CLEAN_RULES)}"
                    )
            ref = col.get("references")
            ref_pair = None
            if ref is not None:
                if not isinstance(ref, str) or ref.count(".") != 1:
                    problems.append(f"{cwhere}.references: expected <dataset>.<column>, got {ref!r}")
                else:
                    ref_pair = tuple(ref.split("."))
            decimal = str(col.get("decimal", dataset_decimal))
            if decimal not in DECIMAL_MARKS and "decimal" in col:
                problems.append(f'{cwhere}.decimal: write "." (1,234.50) or "," (1.234,50), in quotes')
            max_abs = col.get("max_abs")
            if max_abs is not None and (isinstance(max_abs, bool) or not isinstance(max_abs, int | float)
                                        or max_abs <= 0):
                problems.append(f"{cwhere}.max_abs: write a positive number, e.g. `max_abs: 1e13`")
                max_abs = None
            columns[col_name] = Column(
                name=col_name,
                type=ctype,
                header=str(col.get("header", col_name)),
                required=bool(col.get("required", False)),
                unique=bool(col.get("unique", False)),
                allowed=tuple(col["allowed"]) if col.get("allowed") is not None else None,
                min=col.get("min"),
                max=col.get("max"),
                references=ref_pair,
                clean=tuple(col.get("clean") or ()),
                personal=bool(col.get("personal", False)),
                decimal=decimal if decimal in DECIMAL_MARKS else ".",
                max_abs=float(max_abs) if max_abs is not None else None,
            )
        headers = [c.header for c in columns.values()]
        for dup in sorted({h for h in headers if headers.count(h) > 1}):
            problems.append(f"{where}.columns: header {dup!r} is mapped twice")
        primary_key = tuple(spec.get("primary_key") or ())
        for key_col in primary_key:
            if key_col not in columns:
                problems.append(
                    f"{where}.primary_key: {unknown_name_message('column', key_col, columns)}"
                )
        time_column = spec.get("time_column")
        if time_column is not None and time_column not in columns:
            problems.append(
                f"{where}.time_column: {unknown_name_message('column', time_column, columns)}"
            )
        desc = spec.get("description") or {}
        if isinstance(desc, str):
            desc = {"zh": desc, "en": desc}
        source = spec.get("source") or ""
        if not isinstance(source, dict):
            source = {"zh": source, "en": source}
        datasets[name] = Dataset(
            name=name,
            description_zh=str(desc.get("zh", name)),
            description_en=str(desc.get("en", desc.get("zh", name))),
            source=str(source.get("zh", source.get("en", ""))),
            source_en=str(source.get("en", source.get("zh", ""))),
            required=bool(spec.get("required", False)),
            path=str(spec.get("path", "")),
            format=fmt,
            encoding=encoding,
            sheet=spec.get("sheet"),
            primary_key=primary_key,
            time_column=time_column,
            columns=columns,
        )
    if exports:
        from fupan.intake.schema import DERIVED, derived_datasets

        for name in sorted(set(entries) & set(DERIVED[:2])):
            problems.append(f"datasets.{name}: the orders and their lines come from `exports:`; remove "
                            f"datasets.{name} or the exports")
        datasets.update(derived_datasets(exports, set(entries)))
    # References are checked once every dataset is known.
    for ds in datasets.values():
        for col in ds.columns.values():
            if col.references is None:
                continue
            ref_ds, ref_col = col.references
            where = f"datasets.{ds.name}.columns.{col.name}.references"
            if misspelt_dataset(ref_ds, datasets):
                problems.append(f"{where}: {unknown_name_message('dataset', ref_ds, datasets)}")
            elif ref_ds not in datasets:  # absent optional data (a shop without a users file): nothing to check
                continue
            elif ref_col not in datasets[ref_ds].columns:
                problems.append(
                    f"{where}: {unknown_name_message('column', ref_col, datasets[ref_ds].columns)}"
                )
    if problems:
        raise ContractError(path, problems)
    return Contract(path=path, datasets=datasets, exports=exports)
