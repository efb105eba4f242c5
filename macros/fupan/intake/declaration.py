"""The `exports:` section of `data/datasets.yml`: a shop's own export files, declared as they are.

An export names its file(s), the shape of its rows, where each canonical column comes from and
the business rules that say which rows are sales. A `preset:` fills all of that for a platform's
export (`intake/presets/*.yml`); the declaration overrides only what differs. Mistakes are
collected with their YAML key (`exports.shop.columns.x.header`) like the rest of the contract.

The guide (docs/guide/exports/) shows the settings to writers; `CANONICAL` below is the one
list of the columns an export may provide.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fupan.data.contract import unknown_name_message

# canonical column → (level, value type). Order-level columns have one value per order (on a
# line-level file they repeat on each of the order's lines and must agree); line-level ones
# belong to each row. `status` is read per row: platforms that export one row per sub-order
# give each its own status (one line refunded, the others delivered).
CANONICAL: dict[str, tuple[str, str]] = {
    "order_id": ("order", "text"),
    "user_id": ("order", "text"),
    "ordered_at": ("order", "timestamp"),
    "paid_at": ("order", "timestamp"),
    "order_amount": ("order", "decimal"),
    "discount_amount": ("order", "decimal"),
    "shipping_amount": ("order", "decimal"),
    "refund_amount": ("order", "decimal"),
    "platform": ("order", "text"),
    "source": ("order", "text"),
    "device": ("order", "text"),
    "province": ("order", "text"),
    "city": ("order", "text"),
    "city_tier": ("order", "text"),
    "country": ("order", "text"),
    "campaign_id": ("order", "text"),
    "coupon_used": ("order", "boolean"),
    "status": ("line", "text"),
    "line_id": ("line", "text"),
    "sku": ("line", "text"),
    "product_name": ("line", "text"),
    "category": ("line", "text"),
    "subcategory": ("line", "text"),
    "quantity": ("line", "decimal"),
    "unit_price": ("line", "decimal"),
    "line_amount": ("line", "decimal"),
    "refunded_quantity": ("line", "decimal"),
    "line_refund_amount": ("line", "decimal"),
    "unit_cost": ("line", "decimal"),
    "line_cost": ("line", "decimal"),
    "line_profit": ("line", "decimal"),
    "list_price": ("line", "decimal"),
}
SHAPES = ("lines", "first_line", "orders")
FORMATS = ("csv", "xlsx", "xls", "parquet")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
STATES = ("paid", "refunded", "cancelled", "unpaid")
OVERLAP_RULES = ("first", "error")
NORMALISATIONS = ("upper", "lower", "trim")
MATCHER_KINDS = ("values", "starts_with", "below", "above", "empty")
EXPORT_KEYS = {"preset", "path", "format", "encoding", "sheet", "shape", "lines", "overlap", "columns", "rules",
               "description"}
COLUMN_KEYS = {"header", "value", "format", "empty", "dimension", "level"}
RULE_KEYS = {"status", "exclude", "returns", "compute", "order_key", "normalise"}
# A dimension column's name: it becomes a column of the derived orders (or lines).
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_EXPRESSION_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([a-z_][a-z0-9_]*)|([-+*/()]))")


@dataclass(frozen=True)
class ColumnSource:
    """Where one canonical column of an export comes from: header aliases, or a constant."""

    name: str
    level: str
    type: str
    headers: tuple[str, ...] = ()
    value: str | None = None
    formats: tuple[str, ...] = ()
    empty: tuple[str, ...] | None = None
    dimension: tuple[str, str] | None = None  # (zh, en) label: a review dimension from the data


@dataclass(frozen=True)
class Matcher:
    """One row condition of `exclude` or `returns`: a column and a test, with the reason shown."""

    column: str
    kind: str
    operand: Any
    reason_zh: str = ""
    reason_en: str = ""


@dataclass(frozen=True)
class StatusRule:
    column: str
    words: dict[str, tuple[str, ...]]  # state → status words (`*` a wildcard)


@dataclass(frozen=True)
class Export:
    name: str
    preset: str | None
    paths: tuple[str, ...]
    format: str | None
    encoding: str | None
    sheet: str | None
    shape: str
    lines: str | None
    overlap: str
    columns: dict[str, ColumnSource]
    status: StatusRule | None = None
    exclude: tuple[Matcher, ...] = ()
    returns: tuple[Matcher, ...] = ()
    compute: dict[str, str] = field(default_factory=dict)
    order_key: tuple[str, ...] = ("order_id",)
    normalise: dict[str, str] = field(default_factory=dict)
    title_zh: str = ""
    title_en: str = ""

    def provides(self, column: str) -> bool:
        """The export gives this canonical column (a header, a constant or a computation)."""
        return column in self.columns or column in self.compute

    @property
    def dimensions(self) -> dict[str, ColumnSource]:
        return {c.name: c for c in self.columns.values() if c.dimension is not None}


PresetLoader = Callable[[str], Mapping[str, Any]]


def merge_preset(preset: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The preset's export settings with the declaration's on top: per column and per rule."""
    merged = copy.deepcopy(dict(preset))
    for key, value in spec.items():
        if key in ("columns", "rules") and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            inner = dict(merged[key])
            inner.update(copy.deepcopy(dict(value)))
            merged[key] = inner
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_exports(raw: Any, load_preset: PresetLoader | None = None) -> tuple[dict[str, Export], list[str]]:
    """The declared exports and every problem found ("exports.shop.columns.x: …")."""
    problems: list[str] = []
    exports: dict[str, Export] = {}
    if raw is None:
        return exports, problems
    if not isinstance(raw, Mapping):
        return exports, ["exports: expected a mapping of export names to their settings"]
    for name, spec in raw.items():
        where = f"exports.{name}"
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: expected a mapping of settings")
            continue
        for key in sorted(set(spec) - EXPORT_KEYS):
            problems.append(f"{where}: {unknown_name_message('setting', key, EXPORT_KEYS)}")
        preset_name = spec.get("preset")
        title = ("", "")
        platform = None
        if preset_name is not None:
            if load_preset is None:
                problems.append(f"{where}.preset: presets are not available here")
                continue
            try:
                preset = load_preset(str(preset_name))
            except KeyError as exc:  # UnknownName: its message lists the presets
                problems.append(f"{where}.preset: {exc.args[0] if exc.args else exc}")
                continue
            # A platform's usual encoding is not imposed: detection reads UTF-8, UTF-8 with BOM and
            # GBK/GB18030 alike, and a file re-saved by Excel may have changed it. Only an encoding
            # the declaration itself gives is enforced.
            preset_export = {k: v for k, v in (preset.get("export") or {}).items() if k != "encoding"}
            spec = merge_preset(preset_export, spec)
            title_raw = preset.get("title") or {}
            title = (str(title_raw.get("zh", preset_name)), str(title_raw.get("en", preset_name)))
            platform = preset.get("platform")
        export = _parse_export(str(name), spec, where, problems, preset_name, title, platform)
        if export is not None:
            exports[export.name] = export
    line_exports = {e.lines for e in exports.values() if e.lines}
    for export in exports.values():
        if export.name not in line_exports and not ({"ordered_at", "paid_at"} & set(export.columns)):
            problems.append(f"exports.{export.name}.columns: neither ordered_at nor paid_at is mapped; the review "
                            "places orders in time by one of them")
        if export.lines is not None:
            where = f"exports.{export.name}.lines"
            if export.lines not in exports:
                problems.append(f"{where}: {unknown_name_message('export', export.lines, exports)}")
            elif export.shape != "orders":
                problems.append(f"{where}: only an export of `shape: orders` takes its lines from another export")
            elif exports[export.lines].shape == "orders":
                problems.append(f"{where}: the export {export.lines!r} has `shape: orders`; lines come from "
                                "an export of `shape: lines` or `first_line`")
    return exports, problems


def _labels(value: Any, fallback: str) -> tuple[str, str]:
    if isinstance(value, Mapping):
        zh = str(value.get("zh", value.get("en", fallback)))
        return zh, str(value.get("en", zh))
    if value is None:
        return fallback, fallback
    return str(value), str(value)


def _parse_export(name: str, spec: Mapping[str, Any], where: str, problems: list[str], preset: Any,
                  title: tuple[str, str], platform: Any) -> Export | None:
    paths = spec.get("path")
    if isinstance(paths, str):
        paths = [paths]
    if not paths or not all(isinstance(p, str) and p for p in paths):
        problems.append(f"{where}.path: missing (a file, a glob, or a list of them, relative to data/)")
        paths = []
    fmt = spec.get("format")
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"{where}.format: {unknown_name_message('format', fmt, FORMATS)}")
    encoding = spec.get("encoding")
    if encoding is not None:
        encoding = str(encoding).lower()
        if encoding not in ENCODINGS:
            problems.append(f"{where}.encoding: {unknown_name_message('encoding', encoding, ENCODINGS)}")
    shape = spec.get("shape", "lines")
    if shape not in SHAPES:
        problems.append(f"{where}.shape: {unknown_name_message('shape', shape, SHAPES)}")
    overlap = spec.get("overlap", "first")
    if overlap not in OVERLAP_RULES:
        problems.append(f"{where}.overlap: {unknown_name_message('overlap rule', overlap, OVERLAP_RULES)}")
    columns = _parse_columns(spec.get("columns"), f"{where}.columns", problems)
    if platform is not None and "platform" not in columns:
        columns["platform"] = ColumnSource("platform", "order", "text", value=str(platform))
    rules = spec.get("rules") or {}
    if not isinstance(rules, Mapping):
        problems.append(f"{where}.rules: expected a mapping (status, exclude, returns, compute, order_key, normalise)")
        rules = {}
    for key in sorted(set(rules) - RULE_KEYS):
        problems.append(f"{where}.rules: {unknown_name_message('rule', key, RULE_KEYS)}")
    known = set(columns)
    compute = _parse_compute(rules.get("compute"), known, f"{where}.rules.compute", problems)
    known |= set(compute)
    status = _parse_status(rules.get("status"), known, f"{where}.rules.status", problems)
    exclude = _parse_matchers(rules.get("exclude"), known, f"{where}.rules.exclude", problems)
    returns = _parse_matchers(rules.get("returns"), known, f"{where}.rules.returns", problems)
    order_key = rules.get("order_key", ["order_id"])
    if isinstance(order_key, str):
        order_key = [order_key]
    order_key = tuple(str(k) for k in order_key or ())
    if "order_id" not in order_key:
        problems.append(f"{where}.rules.order_key: must include order_id (then the columns that tell reused "
                        f"ids apart, e.g. [order_id, ordered_at])")
    for key_col in order_key:
        if key_col not in known:
            problems.append(f"{where}.rules.order_key: {unknown_name_message('column', key_col, known)}")
        elif CANONICAL.get(key_col, ("order",))[0] != "order" and key_col in CANONICAL:
            problems.append(f"{where}.rules.order_key: {key_col} is a line-level column; an order key is made "
                            "of order-level columns (order_id, ordered_at, user_id, …)")
    normalise = rules.get("normalise") or {}
    if not isinstance(normalise, Mapping):
        problems.append(f"{where}.rules.normalise: expected a mapping such as {{sku: upper}}")
        normalise = {}
    for col, how in normalise.items():
        if col not in known:
            problems.append(f"{where}.rules.normalise: {unknown_name_message('column', col, known)}")
        if how not in NORMALISATIONS:
            problems.append(f"{where}.rules.normalise.{col}: "
                            f"{unknown_name_message('normalisation', how, NORMALISATIONS)}")
    if "order_id" not in known:
        problems.append(f"{where}.columns: order_id is not mapped; every export needs the order id "
                        f"(`order_id: {{header: <the file's order number header>}}`)")
    lines = spec.get("lines")
    return Export(
        name=name, preset=None if preset is None else str(preset), paths=tuple(paths), format=fmt,
        encoding=encoding, sheet=None if spec.get("sheet") is None else str(spec.get("sheet")),
        shape=shape, lines=None if lines is None else str(lines), overlap=overlap, columns=columns,
        status=status, exclude=exclude, returns=returns, compute=compute, order_key=order_key,
        normalise={str(k): str(v) for k, v in normalise.items()}, title_zh=title[0], title_en=title[1],
    )


def _parse_columns(raw: Any, where: str, problems: list[str]) -> dict[str, ColumnSource]:
    columns: dict[str, ColumnSource] = {}
    if not isinstance(raw, Mapping) or not raw:
        problems.append(f"{where}: no columns mapped (canonical column: {{header: <the file's header>}})")
        return columns
    for name, col in raw.items():
        cwhere = f"{where}.{name}"
        if isinstance(col, str):  # `sku: 商家编码` is short for {header: 商家编码}
            col = {"header": col}
        if not isinstance(col, Mapping):
            problems.append(f"{cwhere}: expected {{header: …}} or {{value: …}}")
            continue
        for key in sorted(set(col) - COLUMN_KEYS):
            problems.append(f"{cwhere}: {unknown_name_message('column setting', key, COLUMN_KEYS)}")
        dimension = None
        if col.get("dimension") is not None:
            dimension = _labels(col["dimension"], str(name))
        if name in CANONICAL:
            level, value_type = CANONICAL[name]
        elif dimension is not None:
            if not _NAME.match(str(name)):
                problems.append(f"{cwhere}: a dimension's name is lower-case letters, digits and _ (e.g. ship_mode)")
            level, value_type = str(col.get("level", "order")), "text"
            if level not in ("order", "line"):
                problems.append(f"{cwhere}.level: expected order or line")
        else:
            problems.append(f"{cwhere}: {unknown_name_message('canonical column', name, CANONICAL)} "
                            "(or declare it a review dimension with `dimension: {zh: …, en: …}`)")
            continue
        headers = col.get("header")
        if isinstance(headers, str):
            headers = [headers]
        value = col.get("value")
        if value is None and not headers:
            problems.append(f"{cwhere}: give the file's `header:` (or a list of aliases), or a constant `value:`")
            continue
        formats = col.get("format") or ()
        if isinstance(formats, str):
            formats = [formats]
        empty = col.get("empty")
        columns[str(name)] = ColumnSource(
            name=str(name), level=level, type=value_type,
            headers=tuple(str(h) for h in headers or ()),
            value=None if value is None else str(value),
            formats=tuple(str(f) for f in formats),
            empty=None if empty is None else tuple(str(e) for e in empty),
            dimension=dimension,
        )
    return columns


def _parse_status(raw: Any, known: set[str], where: str, problems: list[str]) -> StatusRule | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected {{column: status, paid: [...], cancelled: [...], ...}}")
        return None
    column = str(raw.get("column", "status"))
    if column not in known:
        problems.append(f"{where}.column: {unknown_name_message('column', column, known)}")
    words: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        if key == "column":
            continue
        if key not in STATES:
            problems.append(f"{where}: {unknown_name_message('state', key, STATES)}")
            continue
        if isinstance(value, str):
            value = [value]
        words[key] = tuple(str(w) for w in value or ())
    seen: dict[str, str] = {}
    for state, state_words in words.items():
        for word in state_words:
            if word in seen and seen[word] != state:
                problems.append(f"{where}: status word {word!r} is listed as both {seen[word]} and {state}")
            seen[word] = state
    return StatusRule(column, words)


def _parse_matchers(raw: Any, known: set[str], where: str, problems: list[str]) -> tuple[Matcher, ...]:
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        raw = [raw]
    matchers = []
    for i, entry in enumerate(raw):
        mwhere = f"{where}[{i}]"
        if not isinstance(entry, Mapping) or "column" not in entry:
            problems.append(f"{mwhere}: expected {{column: …, values|starts_with|below|above|empty: …, reason: …}}")
            continue
        column = str(entry["column"])
        if column not in known:
            problems.append(f"{mwhere}.column: {unknown_name_message('column', column, known)}")
        kinds = [k for k in MATCHER_KINDS if k in entry]
        extra = sorted(set(entry) - {"column", "reason", *MATCHER_KINDS})
        for key in extra:
            problems.append(f"{mwhere}: {unknown_name_message('setting', key, {'column', 'reason', *MATCHER_KINDS})}")
        if len(kinds) != 1:
            problems.append(f"{mwhere}: give exactly one test of {', '.join(MATCHER_KINDS)}")
            continue
        kind = kinds[0]
        operand = entry[kind]
        if kind == "values":
            operand = tuple(str(v) for v in ([operand] if isinstance(operand, str | int | float) else operand))
        elif kind in ("below", "above"):
            if not isinstance(operand, int | float) or isinstance(operand, bool):
                problems.append(f"{mwhere}.{kind}: expected a number")
                continue
        elif kind == "starts_with":
            operand = str(operand)
        zh, en = _labels(entry.get("reason"), _describe(column, kind, operand))
        matchers.append(Matcher(column, kind, operand, zh, en))
    return tuple(matchers)


def _describe(column: str, kind: str, operand: Any) -> str:
    if kind == "values":
        return f"{column} ∈ {{{', '.join(operand)}}}"
    if kind == "starts_with":
        return f"{column} starts with {operand}"
    if kind == "below":
        return f"{column} < {operand}"
    if kind == "above":
        return f"{column} > {operand}"
    return f"{column} empty"


def _parse_compute(raw: Any, known: set[str], where: str, problems: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping such as {{line_amount: quantity * unit_price}}")
        return {}
    out: dict[str, str] = {}
    available = set(known) | set(raw)
    for name, expression in raw.items():
        cwhere = f"{where}.{name}"
        if name not in CANONICAL or CANONICAL[name][1] != "decimal":
            numeric = sorted(n for n, (_, t) in CANONICAL.items() if t == "decimal")
            problems.append(f"{cwhere}: {unknown_name_message('numeric column', name, numeric)}")
            continue
        try:
            names = expression_columns(str(expression))
        except ValueError as exc:
            problems.append(f"{cwhere}: {exc}")
            continue
        for ref in sorted(names - available):
            problems.append(f"{cwhere}: {unknown_name_message('column', ref, available)}")
        if name in names:
            problems.append(f"{cwhere}: the expression uses the column it computes")
        out[str(name)] = str(expression)
    return out


def expression_columns(expression: str) -> set[str]:
    """The column names an arithmetic expression uses; ValueError for anything but numbers,
    column names, + - * / and balanced brackets."""
    tokens = tokenize(expression)
    end = _arithmetic(tokens, 0, expression)
    if end != len(tokens):
        raise ValueError(f"cannot read {' '.join(tokens[end:])!r} in {expression!r}: use numbers, column names, "
                         "+ - * / and brackets")
    return {t for t in tokens if re.fullmatch(r"[a-z_][a-z0-9_]*", t)}


def _arithmetic(tokens: list[str], pos: int, expression: str) -> int:
    """Where a sum of products of operands (numbers, names, bracketed sums, negated operands)
    that starts at `pos` ends; ValueError where none starts."""
    pos = _operand(tokens, pos, expression)
    while pos < len(tokens) and tokens[pos] in "+-*/":
        pos = _operand(tokens, pos + 1, expression)
    return pos


def _operand(tokens: list[str], pos: int, expression: str) -> int:
    if pos >= len(tokens):
        raise ValueError(f"{expression!r} ends where a number or a column is expected")
    token = tokens[pos]
    if token == "-":
        return _operand(tokens, pos + 1, expression)
    if token == "(":
        end = _arithmetic(tokens, pos + 1, expression)
        if end >= len(tokens) or tokens[end] != ")":
            raise ValueError(f"unbalanced brackets in {expression!r}")
        return end + 1
    if token in "+*/)":
        raise ValueError(f"{token!r} where a number or a column is expected in {expression!r}")
    return pos + 1


def tokenize(expression: str) -> list[str]:
    tokens, pos = [], 0
    text = expression.strip()
    while pos < len(text):
        match = _EXPRESSION_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read {text[pos:]!r} in {expression!r}: use numbers, column names, "
                             "+ - * / and brackets")
        tokens.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    if not tokens:
        raise ValueError("empty expression")
    return tokens
