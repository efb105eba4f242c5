"""Shapes and business rules: a shop's exports → the canonical orders, order lines and products.

Everything runs as SQL in one DuckDB connection over the exports' staged all-text Parquet, so a
file of millions of lines never passes through Python. The steps, in order:

1. each export's files, one row per file row, every mapped column as text (`r__<column>`);
2. typed values (`intake.values`), and every value that does not parse reported with its row;
3. rows present in two files of one export dropped (`overlap`);
4. first-line shapes filled forward within the order; normalised keys; computed columns;
5. each row classified: excluded (with the rule that excluded it), a return, or a sale line whose
   status maps to paid / refunded / cancelled / unpaid;
6. the order key (composite when an id is reused), and a check that the fields repeated on an
   order's lines agree;
7. returns matched to the sale they refund (same order, else the buyer's latest earlier purchase
   of the same SKU) and counted as refunds;
8. orders (order-level amounts taken once per order, never summed over its lines), lines, and
   products from the lines — written as Parquet with `_source_file` / `_source_row`, so a later
   check names the export's own row.

Every rule that touched rows is counted (`RuleCount`) for the data-sources section.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fupan.data.backends import quote_ident, quote_literal
from fupan.data.problems import Problem
from fupan.intake.declaration import CANONICAL, ColumnSource, Export, Matcher, tokenize
from fupan.intake.reading import StagedFile
from fupan.intake.values import EMPTY_WORDS, clean_text_sql, format_hint, parsed_sql

CAP = 20  # problem rows shown per rule (the rest are counted)
UNCATEGORISED = "未分类"  # a data value, like the catalogue's 未知 / 非会员
# The columns the review cannot do without; anything else an export may lack.
ESSENTIAL = ("order_id",)
# The rule kinds (sentences in the locale tables, `intake.rule.<kind>`) per sale state and per
# way a return row was matched.
STATE_RULES = {"paid": "status_paid", "refunded": "status_refunded", "cancelled": "status_cancelled",
               "unpaid": "status_unpaid"}
RETURN_RULES = {"order": "returns_order", "buyer": "returns_buyer", "none": "returns_none"}
CANCELLED_AFTER_PAYMENT = "cancelled_after_payment"


@dataclass(frozen=True)
class RuleCount:
    """One rule and the rows it touched, for the data-sources section. `kind` names the
    sentence in the locale tables (`intake.rule.<kind>`), `params` fills it."""

    export: str
    kind: str
    rows: int
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class IntakeResult:
    files: dict[str, str] = field(default_factory=dict)  # canonical dataset → derived Parquet
    rules: list[RuleCount] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def to_json(self) -> str:
        return json.dumps({"files": self.files, "rules": [asdict(r) for r in self.rules],
                           "problems": [asdict(p) for p in self.problems]},
                          ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IntakeResult:
        data = json.loads(text)
        return cls(files=data["files"], rules=[RuleCount(**r) for r in data["rules"]],
                   problems=[Problem(**p) for p in data["problems"]])


class _Intake:
    """One derivation: the connection, the result being filled, and the exports' tables."""

    def __init__(self, exports: dict[str, Export], staged: dict[str, list[StagedFile]],
                 shown: Callable[[Path], str], con: Any, out_dir: Path):
        self.exports = exports
        self.staged = staged
        self.shown = shown
        self.con = con
        self.out_dir = out_dir
        self.result = IntakeResult()
        self.primary = ""  # the export giving the orders
        self.computed: dict[str, dict[str, str]] = {}  # export → computed column → expression
        # (export, file shown, column) → the header that column was read from in that file
        self.headers: dict[tuple[str, str, str], str] = {}
        # rule counts waiting for the rows to be stored: (place, flag column, export, kind, params)
        self.pending: list[tuple[int, str, str, str, dict[str, Any]]] = []
        self.flags: dict[str, list[str]] = {}  # export → the flag columns its steps added
        self.overlap: dict[str, int] = {}  # export → rows dropped as present in an earlier file
        # export → (typed view, column → condition of an unreadable value), reported once stored
        self.unreadable: dict[str, tuple[str, dict[str, str]]] = {}
        self.orders = ""  # the order export's orders table (orders_table)

    # -- helpers ----------------------------------------------------------------------------
    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def scalar(self, sql: str) -> Any:
        return self.rows(sql)[0][0]

    def problem(self, severity: str, export: str, rule: str, message: str, hint: str = "", file: str = "",
                row: int | None = None, column: str | None = None, value: Any = None) -> None:
        header = None
        if column is not None:
            header = self.headers.get((export, file, column), column)
        self.result.problems.append(Problem(
            severity, export, file, rule, message, hint, row, header, column,
            None if value is None else str(value)))

    def count(self, export: str, kind: str, rows: int, **params: Any) -> None:
        if rows:
            self.result.rules.append(RuleCount(export, kind, int(rows), {k: str(v) for k, v in params.items()}))

    def defer(self, export: str, kind: str, flag: str, **params: Any) -> None:
        """A rule count taken later, from the rows where the boolean column `flag` holds when the
        rows are first stored (`settle`); its place among the rules is kept. `flag` "TRUE" counts
        every row; any other flag is a column a step adds and every later step keeps."""
        self.pending.append((len(self.result.rules), flag, export, kind, params))
        self.result.rules.append(RuleCount(export, kind, 0))
        if flag != "TRUE":
            self.flags.setdefault(export, []).append(flag)

    def settle(self, table: str) -> None:
        """Fill the deferred counts from `table` in one scan."""
        if not self.pending:
            return
        counts = self.rows("SELECT " + ", ".join(
            "COUNT(*)" if flag == "TRUE" else f"COUNT(*) FILTER (WHERE {quote_ident(flag)})"
            for _, flag, *_ in self.pending) + f" FROM {table}")[0]
        for (index, _, export, kind, params), rows in zip(self.pending, counts, strict=True):
            if kind == "read":  # every row read, also those a later file repeats (dropped as overlap)
                rows += self.overlap.get(export, 0)
            self.result.rules[index] = RuleCount(export, kind, int(rows), {k: str(v) for k, v in params.items()})
        self.pending = []
        self.result.rules = [r for r in self.result.rules if r.rows]

    def problem_rows(self, export: str, table: str, condition: str, column: str, rule: str, message: str,
                     hint: str, severity: str = "error", total: int | None = None, raw: bool = True) -> int:
        """Report the rows of `table` where `condition` holds (the first CAP of them, the rest counted).
        `raw`: show the value as the file has it (the typed tables keep it), else the typed value."""
        if total is None:
            total = self.scalar(f"SELECT COUNT(*) FROM {table} WHERE {condition}")
        if not total:
            return 0
        raw = f"r__{column}" if raw and column in self.columns_of(export) else column
        for file, row, value in self.rows(
                f"SELECT _source_file, _source_row, CAST({quote_ident(raw)} AS VARCHAR) FROM {table} "
                f"WHERE {condition} ORDER BY _fi, _source_row LIMIT {CAP}"):
            self.problem(severity, export, rule, message, hint, file, row, column, value)
        if total > CAP:
            self.problem(severity, export, rule, f"… and {total - CAP} more row(s) like these", hint,
                         column=None)
        return int(total)

    def columns_of(self, export: str) -> dict[str, ColumnSource]:
        return self.exports[export].columns

    # -- 1. the files, as text --------------------------------------------------------------
    def load(self, export: Export) -> str:
        """A temp table `src_<export>` with every mapped column as text, one row per file row."""
        selects = []
        files = self.staged.get(export.name, [])
        for index, staged in enumerate(files):
            shown = self.shown(staged.source)
            parts = [f"{index} AS _fi", f"{quote_literal(shown)} AS _source_file",
                     f"CAST(file_row_number AS BIGINT) + {staged.first_row} AS _source_row"]
            present, missing = [], []
            for col in export.columns.values():
                if col.value is not None and not col.headers:
                    parts.append(f"{quote_literal(col.value)} AS {quote_ident('r__' + col.name)}")
                    continue
                header = next((h for h in _normalised(col.headers) if h in staged.columns), None)
                if header is None:
                    fallback = quote_literal(col.value) if col.value is not None else "NULL"
                    parts.append(f"CAST({fallback} AS VARCHAR) AS {quote_ident('r__' + col.name)}")
                    if col.value is None:
                        missing.append(col)
                    continue
                self.headers[(export.name, shown, col.name)] = header
                present.append(col.name)
                parts.append(f"CAST({quote_ident(staged.columns[header])} AS VARCHAR) "
                             f"AS {quote_ident('r__' + col.name)}")
            self.report_missing_headers(export, staged, shown, missing)
            mapped = mapped_headers(export)
            unmapped = [h for h in staged.columns if h not in mapped]
            if unmapped:  # platforms add columns between versions: say which ones the review leaves
                self.problem("warning", export.name, "header",
                             f"{len(unmapped)} column(s) not used by the review: {', '.join(unmapped[:15])}"
                             + (" …" if len(unmapped) > 15 else ""),
                             "map any the review should read under `columns:` of the export", shown)
            selects.append(f"SELECT {', '.join(parts)} FROM {staged.scan_sql()}")
        table = f"src_{export.name}"
        if not selects:
            return ""
        mapped_raw = [quote_ident("r__" + c) for c in export.columns if export.columns[c].headers]
        not_empty = " OR ".join(f"{c} IS NOT NULL" for c in mapped_raw) or "TRUE"
        # Views up to the order key: the rows are stored once (keyed), and the counts of the
        # steps before it are read from flags stored with them.
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(table)} AS SELECT * FROM "
                         f"({' UNION ALL '.join(selects)}) AS s WHERE {not_empty}")
        self.defer(export.name, "read", "TRUE", files=len(files))
        return quote_ident(table)

    def report_missing_headers(self, export: Export, staged: StagedFile, shown: str,
                               missing: list[ColumnSource]) -> None:
        """One problem per file: an error when a column the review cannot do without is not there
        (likely the wrong file or preset: every expected header is listed), else one warning
        naming the columns the review goes without."""
        if not missing:
            return
        times = [t for t in ("ordered_at", "paid_at") if t in export.columns]
        lacking = {c.name for c in missing}
        essential = [c for c in missing if c.name in ESSENTIAL or (c.name in times and lacking >= set(times))]
        listed = ", ".join(f"{c.name} ({' / '.join(c.headers)})" for c in missing)
        if essential:
            expected = [c for c in export.columns.values() if c.headers]
            found = len(expected) - len(missing)
            self.problem("error", export.name, "header",
                         f"the file has no column for {', '.join(c.name for c in essential)}: it has {found} of the "
                         f"{len(expected)} columns the export declares; not found: {listed}",
                         _header_hint(essential[0], staged), shown)
        else:
            self.problem("warning", export.name, "header",
                         f"not in the file, the review goes without them: {listed}",
                         _header_hint(missing[0], staged), shown)

    # -- 2. typed values --------------------------------------------------------------------
    def typed(self, export: Export, src: str) -> str:
        # Cleaned first, parsed from the cleaned column: parsing refers to its text many times,
        # and a cleaning expression in its place would be computed at each of them.
        cleaned, parts = ["*"], ["_fi", "_source_file", "_source_row"]
        checks: dict[str, str] = {}
        for col in export.columns.values():
            raw = quote_ident("r__" + col.name)
            empty = col.empty if col.empty is not None else EMPTY_WORDS
            clean = quote_ident("c__" + col.name)
            cleaned.append(f"{clean_text_sql(raw, empty)} AS {clean}")
            parts.append(raw)
            parts.append(f"{parsed_sql(clean, col.type, col.formats)} AS {quote_ident(col.name)}")
            if col.type == "text" or (col.value is not None and not col.headers):
                continue
            # Unreadable: text left after cleaning, and no value from it (values.unparsed_sql's
            # test, on the value already computed). A flag stored with the rows, counted then.
            parts.append(clean)
            checks[col.name] = quote_ident("_bad__" + col.name)
        flags = [f"{quote_ident(name)} IS NULL AND {quote_ident('c__' + name)} IS NOT NULL AS {flag}"
                 for name, flag in checks.items()]
        view = quote_ident(f"typed_{export.name}")
        inner = f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(cleaned)} FROM {src}) AS cleaned"
        if checks:
            dropped = ", ".join(quote_ident("c__" + name) for name in checks)
            inner = f"SELECT * EXCLUDE ({dropped}), {', '.join(flags)} FROM ({inner}) AS parsed"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {inner}")
        self.flags.setdefault(export.name, []).extend("_bad__" + name for name in checks)
        self.unreadable[export.name] = (view, checks)
        return view

    def report_unreadable(self, export: Export, stored: str) -> None:
        """Every column's unreadable values, counted in one scan of the stored rows and listed
        from the typed view (only when there are some)."""
        view, checks = self.unreadable.pop(export.name, ("", {}))
        if not checks:
            return
        counts = self.rows("SELECT " + ", ".join(f"COUNT(*) FILTER (WHERE {flag})" for flag in checks.values())
                           + f" FROM {stored}")[0]
        for (name, flag), total in zip(checks.items(), counts, strict=True):
            col = export.columns[name]
            self.problem_rows(export.name, view, flag, name, "format",
                              f"not a {col.type} value this export's format reads",
                              format_hint(col.type, col.formats) + "; a word that means no value here goes in "
                              f"the column's list of empty words: `{name}: {{header: …, empty: [<the word>]}}`",
                              total=int(total))

    # -- 3. rows present in two files -----------------------------------------------------
    def drop_overlap(self, export: Export, table: str) -> str:
        if len(self.staged.get(export.name, [])) < 2:
            return table
        raw = [quote_ident("r__" + c) for c in export.columns if export.columns[c].headers]
        content = f"hash({', '.join(raw)})"
        # A row is dropped when the same content is in an earlier file; copies within one file
        # are the file's own rows and stay.
        marked = (f"SELECT *, MIN(_fi) OVER (PARTITION BY {content}) AS _first_fi FROM {table}")
        dropped = self.scalar(f"SELECT COUNT(*) FROM ({marked}) AS m WHERE _fi > _first_fi")
        if dropped and export.overlap == "error":
            self.problem_rows(export.name, f"({marked}) AS m", "_fi > _first_fi", "order_id", "overlap",
                              "this row is also in an earlier file of the export",
                              "remove the overlapping rows, or declare `overlap: first` to keep the earlier "
                              "file's copy")
            return table
        if not dropped:
            return table
        self.count(export.name, "overlap", dropped)
        self.overlap[export.name] = int(dropped)
        out = quote_ident(f"dedup_{export.name}")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * EXCLUDE (_first_fi) FROM ({marked}) AS m "
                         "WHERE _fi = _first_fi")
        return out

    # -- 4. fill forward, normalise, compute ------------------------------------------------
    def prepare(self, export: Export, table: str) -> str:
        cols = list(export.columns)
        exprs = {c: quote_ident(c) for c in cols}
        flags: dict[str, str] = {}  # flag columns this step adds (counted once the rows are stored)
        order_id = quote_ident("order_id")
        if export.shape == "first_line":
            fill = [c for c in cols if (export.columns[c].level == "order" or c == "status") and c != "order_id"]
            window = (f"PARTITION BY _fi, {order_id} ORDER BY _source_row "
                      "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING")
            if fill:
                flags["_filled"] = " OR ".join(f"{quote_ident(c)} IS NULL" for c in fill)
                self.defer(export.name, "fill_forward", "_filled")
            for c in fill:
                exprs[c] = f"FIRST_VALUE({quote_ident(c)} IGNORE NULLS) OVER ({window})"
        for col, how in export.normalise.items():
            if col not in exprs:
                continue
            base = exprs[col]
            exprs[col] = {"upper": f"UPPER({base})", "lower": f"LOWER({base})", "trim": f"TRIM({base})"}[how]
            if export.shape != "first_line":
                flag = f"_norm__{col}"
                flags[flag] = f"COALESCE({quote_ident(col)} <> {exprs[col]}, FALSE)"
                self.defer(export.name, "normalise", flag, column=col, how=how)
        computed = dict(export.compute)
        # The line amount is quantity × unit price when the export has no line amount (an
        # invoice-line file): shown on the data page like a declared computation.
        if "line_amount" not in export.columns and "line_amount" not in computed \
                and {"quantity", "unit_price"} <= set(export.columns):
            computed["line_amount"] = "quantity * unit_price"
        self.computed[export.name] = computed
        select = [f"{e} AS {quote_ident(c)}" for c, e in exprs.items()]
        select += [f"{e} AS {quote_ident(flag)}" for flag, e in flags.items()]
        select += [quote_ident(flag) for flag in self.flags.get(export.name, []) if flag not in flags]
        sql = f"SELECT _fi, _source_file, _source_row, {', '.join(select)}, {', '.join(raw_cols(export))} FROM {table}"
        # Views, not tables: the rows are stored once, when the order key is added (keyed).
        # Each computation wraps the previous step, so one may use another declared before it.
        for name, expression in computed.items():
            value = f"CAST({_expression_sql(expression)} AS DOUBLE) AS {quote_ident(name)}"
            sql = (f"SELECT * REPLACE ({value}) FROM ({sql}) AS c" if name in export.columns
                   else f"SELECT *, {value} FROM ({sql}) AS c")
        stage = quote_ident(f"prep_{export.name}")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {stage} AS {sql}")
        return stage

    # -- 5. classify -------------------------------------------------------------------------
    def classify(self, export: Export, table: str) -> str:
        excluded = "NULL"
        if export.exclude:
            cases = " ".join(f"WHEN {_matcher_sql(m)} THEN {i}" for i, m in enumerate(export.exclude))
            excluded = f"CASE {cases} END"
        is_return = " OR ".join(f"({_matcher_sql(m)})" for m in export.returns) or "FALSE"
        state = quote_literal("paid")
        if export.status is not None:
            status = quote_ident(export.status.column)
            cases = []
            for st, words in export.status.words.items():
                for word in words:
                    test = (f"{status} LIKE {quote_literal(word.replace('%', '').replace('*', '%'))}"
                            if "*" in word else f"{status} = {quote_literal(word)}")
                    cases.append(f"WHEN {test} THEN {quote_literal(st)}")
            state = f"CASE {' '.join(cases)} END" if cases else "NULL"
        # The status word as listed (`_listed`), and what the row is: an order closed or cancelled
        # after it was paid (交易关闭 after a full refund, JD's 已取消 once paid) was a sale,
        # refunded in full — the status word alone cannot tell it from an unpaid one.
        effective = "_listed"
        if "paid_at" in export.columns:
            effective = "CASE WHEN _listed = 'cancelled' AND paid_at IS NOT NULL THEN 'refunded' ELSE _listed END"
        out = quote_ident(f"class_{export.name}")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {out} AS SELECT *, {effective} AS _state FROM ("
                         f"SELECT *, {excluded} AS _excluded, COALESCE({is_return}, FALSE) AS _return, "
                         f"{state} AS _listed FROM {table}) AS listed")
        return out

    def count_rules(self, export: Export, table: str) -> None:
        """The rows each exclusion, the returns rule and each computation touched (one scan), and
        the rows per sale state; status words the rule does not list are errors."""
        parts = [f"COUNT(*) FILTER (WHERE _excluded = {i})" for i in range(len(export.exclude))]
        parts.append("COUNT(*) FILTER (WHERE _excluded IS NULL AND _return)")
        computed = self.computed.get(export.name, {})
        parts += [f"COUNT({quote_ident(name)})" for name in computed]
        counts = list(self.rows(f"SELECT {', '.join(parts)} FROM {table}")[0])
        for matcher in export.exclude:
            self.count(export.name, "exclude", counts.pop(0), column=matcher.column, reason_zh=matcher.reason_zh,
                       reason_en=matcher.reason_en)
        returns = counts.pop(0)
        if export.returns:
            self.count(export.name, "returns", returns,
                       reason_zh="；".join(m.reason_zh for m in export.returns),
                       reason_en="; ".join(m.reason_en for m in export.returns))
        for (name, expression), rows in zip(computed.items(), counts, strict=True):
            self.count(export.name, "compute", rows, column=name, expression=expression)
        if export.status is not None:
            live = f"{table} WHERE _excluded IS NULL AND NOT _return"
            unknown = self.rows(f"SELECT COALESCE({quote_ident(export.status.column)}, ''), COUNT(*), "
                                f"ARG_MIN(_source_file, _fi * 1e12 + _source_row), MIN(_fi * 1e12 + _source_row) "
                                f"FROM {live} AND _listed IS NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50")
            for word, n, file, first in unknown:
                self.problem("error", export.name, "status",
                             f"status {word or '(empty)'!r} is not listed in the export's status rule "
                             f"({n} row(s))",
                             f"add it under `rules: status:` of exports.{export.name} in data/datasets.yml as "
                             "paid, refunded, cancelled or unpaid",
                             file, int(first % 1e12), export.status.column, word)
            for st, n in self.rows(f"SELECT _listed, COUNT(*) FROM {live} AND _listed IS NOT NULL GROUP BY 1 "
                                   "ORDER BY 1"):
                words = "、".join(export.status.words.get(st, ()))
                self.count(export.name, STATE_RULES[st], n, words=words)
            paid_then_cancelled = self.scalar(f"SELECT COUNT(*) FROM {live} AND _listed = 'cancelled' "
                                              "AND _state = 'refunded'")
            self.count(export.name, CANCELLED_AFTER_PAYMENT, paid_then_cancelled)

    # -- 6. order key and agreement -----------------------------------------------------------
    def keyed(self, export: Export, table: str) -> str:
        parts = []
        for col in export.order_key:
            ident = quote_ident(col)
            if CANONICAL.get(col, ("", "text"))[1] == "timestamp":
                parts.append(f"STRFTIME({ident}, '%Y-%m-%d %H:%M:%S')")
            else:
                parts.append(f"CAST({ident} AS VARCHAR)")
        key = parts[0] if len(parts) == 1 else f"CONCAT_WS(' / ', {', '.join(parts)})"
        out = quote_ident(f"keyed_{export.name}")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * EXCLUDE ({', '.join(raw_cols(export))}), "
                         f"{key} AS _order FROM {table}")
        self.settle(out)
        self.report_unreadable(export, out)
        for staged in self.staged.get(export.name, []):  # stored: the staged rows are not read again
            if staged.table is not None:
                self.con.execute(f"DROP TABLE IF EXISTS {quote_ident(staged.table)}")
        self.count_rules(export, out)
        self.problem_rows(export.name, out, "order_id IS NULL AND _excluded IS NULL", "order_id", "required",
                          "a row without an order id", "every row of an order export needs its order number",
                          raw=False)
        if len(export.order_key) > 1:
            reused = self.scalar(f"SELECT COUNT(*) FROM (SELECT order_id FROM {out} WHERE _excluded IS NULL "
                                 "GROUP BY order_id HAVING COUNT(DISTINCT _order) > 1) AS r")
            self.count(export.name, "order_key", reused, columns=" + ".join(export.order_key))
        return out

    def agreement_columns(self, export: Export) -> list[str]:
        """The order-level columns whose values must agree on all lines of an order."""
        if export.shape == "orders":
            return []
        return [c for c, s in export.columns.items()
                if s.level == "order" and c not in export.order_key and not (s.value is not None and not s.headers)]

    def check_agreement(self, export: Export, table: str, orders: str | None = None) -> None:
        """An order's repeated fields agree on all its lines (else the id is reused, or a column
        declared order-level is not). `orders`: the export's orders table, whose `_disagree`
        flag (orders_table) says whether any order's lines disagree: the lines are grouped by
        order once, and only disagreeing orders are looked for again."""
        cols = self.agreement_columns(export)
        if not cols:
            return
        if orders is not None and not self.scalar(f"SELECT COUNT(*) FROM {orders} WHERE _disagree"):
            return
        live = f"{table} WHERE _excluded IS NULL AND NOT _return AND order_id IS NOT NULL"
        differs = " OR ".join(f"MIN({quote_ident(c)}) IS DISTINCT FROM MAX({quote_ident(c)})" for c in cols)
        flags = ", ".join(f"MIN({quote_ident(c)}) IS DISTINCT FROM MAX({quote_ident(c)}) AS {quote_ident('d_' + c)}"
                          for c in cols)
        bad = self.rows(f"SELECT _order, {flags} FROM {live} GROUP BY _order HAVING {differs} ORDER BY MIN(_fi), "
                        f"MIN(_source_row) LIMIT {CAP}")
        if not bad:
            return
        total = self.scalar(f"SELECT COUNT(*) FROM (SELECT _order FROM {live} GROUP BY _order HAVING {differs}) AS b")
        key_hint = ("if the same order number is reused for different orders, make the key tell them apart: "
                    f"`rules: {{order_key: [order_id, ordered_at]}}` (or user_id) under exports.{export.name}; "
                    "if the column really differs from line to line, it is not an order field")
        for order, *flags_row in bad:
            for col, flag in zip(cols, flags_row, strict=True):
                if not flag:
                    continue
                values = self.rows(f"SELECT _source_file, _source_row, CAST({quote_ident(col)} AS VARCHAR) "
                                   f"FROM {live} AND _order = {quote_literal(order)} ORDER BY _fi, _source_row LIMIT 6")
                listed = ", ".join(f"row {r}: {v if v is not None else '(empty)'}" for _, r, v in values)
                self.problem("error", export.name, "order fields agree",
                             f"order {order}: the lines of one order disagree on {col} ({listed})",
                             key_hint, values[0][0], values[0][1], col, values[0][2])
        if total > len(bad):
            self.problem("error", export.name, "order fields agree",
                         f"… and {total - len(bad)} more order(s) whose lines disagree", key_hint)

    # -- 7 & 8. lines, returns, orders, products ---------------------------------------------------
    @staticmethod
    def line_values(export: Export) -> dict[str, str]:
        """SQL over an export's typed rows for a line's sku, quantity, unit price, amount,
        refunded quantity and refund (`lines_table`; the orders' grouping sums the last two)."""
        has = export.provides
        quantity = "quantity" if has("quantity") else "1"
        amount = ("line_amount" if has("line_amount")
                  else f"{quantity} * unit_price" if has("unit_price")
                  else "order_amount" if export.shape == "orders" and has("order_amount") else "NULL")
        unit_price = ("unit_price" if has("unit_price")
                      else f"CASE WHEN {quantity} <> 0 THEN ({amount}) / {quantity} END")
        sku = ("COALESCE(sku, product_name)" if has("sku") and has("product_name")
               else "sku" if has("sku") else "product_name" if has("product_name") else "NULL")
        refunded_qty = "NULL"
        if has("refunded_quantity"):
            refunded_qty = "refunded_quantity"
        elif has("line_refund_amount"):
            refunded_qty = f"CASE WHEN ({unit_price}) > 0 THEN ROUND(line_refund_amount / ({unit_price})) END"
        line_refund = ("line_refund_amount" if has("line_refund_amount")
                       else f"({refunded_qty}) * ({unit_price})" if refunded_qty != "NULL" else "NULL")
        return {
            "sku": f"CAST({sku} AS VARCHAR)",
            "quantity": f"CAST({quantity} AS DOUBLE)",
            "unit_price": f"CAST({unit_price} AS DOUBLE)",
            "line_amount": f"CAST({amount} AS DOUBLE)",
            "refunded_quantity": f"CAST(CASE WHEN _state = 'refunded' AND ({refunded_qty}) IS NULL THEN {quantity} "
                                 f"ELSE COALESCE({refunded_qty}, 0) END AS DOUBLE)",
            "line_refund": f"CAST(CASE WHEN _state = 'refunded' AND ({line_refund}) IS NULL THEN {amount} "
                           f"ELSE COALESCE({line_refund}, 0) END AS DOUBLE)",
            "amount_source": amount,
        }

    def lines_table(self, export: Export, table: str, view: bool = False) -> str:
        """Every line with its sale state and per-line refund. An order export without line
        detail (`shape: orders`) gives one line per order, worth the order's amount; a line
        export never takes an order-level amount as a line's (that would count it once per line).
        A line's number is its place in the export (file, row): unique within its order like the
        canonical line number; numbering 1, 2, … per order would sort every line for nothing shown."""
        has = export.provides
        values = self.line_values(export)
        amount = values["amount_source"]
        extra = [c for c, s in export.columns.items() if s.dimension is not None and s.level == "line"]
        optional = {c: (c if has(c) else "NULL") for c in
                    ("product_name", "category", "subcategory", "unit_cost", "line_cost", "line_profit",
                     "list_price", "user_id", "ordered_at")}
        out = quote_ident(f"lines_{export.name}")
        self.con.execute(f"""
            CREATE OR REPLACE TEMP {"VIEW" if view else "TABLE"} {out} AS
            SELECT _order, _fi, _source_file, _source_row, _state,
                   _fi * 1000000000 + _source_row AS line_no,
                   {values["sku"]} AS sku, {values["quantity"]} AS quantity,
                   {values["unit_price"]} AS unit_price, {values["line_amount"]} AS line_amount,
                   {values["refunded_quantity"]} AS refunded_quantity, {values["line_refund"]} AS line_refund,
                   {', '.join(f'{e} AS {quote_ident(c)}' for c, e in optional.items())}
                   {''.join(f', {quote_ident(c)}' for c in extra)}
            FROM {table}
            WHERE _excluded IS NULL AND NOT _return AND order_id IS NOT NULL""")
        self.problem_rows(export.name, out, "sku IS NULL", "sku", "required", "a line without a product",
                          "map the product code (`sku`) or the product title (`product_name`) of the export",
                          raw=False)
        if self.fan_out_checked(export):
            self.check_fan_out(export, out)
        if amount == "NULL":
            self.problem("error", export.name, "missing column",
                         "the metrics gmv, net_sales, aov and every sales breakdown need order_lines.line_amount; "
                         "the export maps neither line_amount nor unit_price (× quantity)",
                         f"map the export's amount column: `columns: {{line_amount: {{header: …}}}}` under "
                         f"exports.{export.name}, or compute it: `rules: {{compute: {{line_amount: quantity * "
                         "unit_price}}}}`")
        return out

    def fan_out_checked(self, export: Export) -> bool:
        """Whether the lines' amounts are checked for an order's amount repeated on each line."""
        return self.line_values(export)["amount_source"] == "line_amount" and export.shape != "orders"

    @staticmethod
    def fan_out_flags(values: dict[str, str]) -> str:
        """Per order, over its lines with an amount (`line_values`): several different products,
        and the same amount on each of them. Several products: the smallest and the largest hash
        of the SKU differ (COUNT(DISTINCT sku) > 1 without a distinct count; integers, as the
        strings cost a third of the orders' grouping more; two SKUs of one order with the same
        64-bit hash would only leave that order out of this estimate)."""
        amount, sku = values["line_amount"], values["sku"]
        code = f"CASE WHEN {amount} IS NOT NULL AND {sku} IS NOT NULL THEN hash({sku}) END"
        return (f"MIN({code}) <> MAX({code}) AS _several, MIN({amount}) = MAX({amount}) AS _same_amount")

    def check_fan_out(self, export: Export, lines: str) -> None:
        """A column mapped as the line amount that repeats on every line of (nearly) every
        order with several different products is the order's amount: summed over the lines it
        would count each order once per line. The lines of one export are its orders' rows, whose
        grouping (orders_table) carries the flags; another export's lines are grouped here."""
        if self.exports[self.primary].lines is None:
            grouped = self.orders
        else:
            grouped = (f"(SELECT _order, {self.fan_out_flags({'line_amount': 'line_amount', 'sku': 'sku'})}, "
                       f"MIN(_fi * 1e12 + _source_row) AS _first FROM {lines} GROUP BY _order)")
        row = self.rows(f"""
            SELECT COUNT(*), COUNT(*) FILTER (WHERE _same_amount), ARG_MIN(_order, _first) FILTER (WHERE _same_amount)
            FROM {grouped} AS m WHERE _several""")[0]
        orders, repeated, example = row
        if not orders or repeated < 0.9 * orders:
            return
        values = self.rows(f"SELECT _source_file, _source_row, line_amount FROM {lines} "
                           f"WHERE _order = {quote_literal(example)} ORDER BY _fi, _source_row LIMIT 4")
        listed = ", ".join(f"row {r}: {v:.2f}" for _, r, v in values)
        header = self.headers.get((export.name, values[0][0], "line_amount"), "line_amount")
        self.problem("error", export.name, "fan-out",
                     f"{header} (mapped as line_amount) looks like an order-level amount: on {repeated} of the "
                     f"{orders} orders with several products it is the same on every line (order {example}: "
                     f"{listed}); summed over the lines, each order would count once per line",
                     f"map it as the order's amount instead: `order_amount: {{header: {header}}}`, and map the "
                     "line's own amount or unit price (`line_amount` / `unit_price`) if the export has one",
                     values[0][0], values[0][1], "line_amount", f"{values[0][2]:.2f}")

    def match_returns(self, export: Export, table: str, lines: str, sold_orders: str) -> str:
        """Per line and per order, the refunds that return rows of their own add."""
        returns = quote_ident(f"ret_{export.name}")
        has = export.provides
        quantity = "ABS(quantity)" if has("quantity") else "1"
        amount = ("ABS(line_amount)" if has("line_amount")
                  else "ABS(quantity * unit_price)" if has("unit_price") and has("quantity")
                  else "ABS(order_amount)" if has("order_amount") else "NULL")
        sku = ("COALESCE(sku, product_name)" if has("sku") and has("product_name")
               else "sku" if has("sku") else "product_name" if has("product_name") else "NULL")
        user = "user_id" if has("user_id") else "NULL"
        when = "COALESCE(ordered_at, paid_at)" if has("ordered_at") and has("paid_at") \
            else "ordered_at" if has("ordered_at") else "paid_at"
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {returns} AS
            SELECT _order, _source_file, _source_row, CAST({sku} AS VARCHAR) AS sku, CAST({user} AS VARCHAR) AS user_id,
                   {when} AS returned_at, CAST({quantity} AS DOUBLE) AS r_qty, CAST({amount} AS DOUBLE) AS r_amount
            FROM {table} WHERE _excluded IS NULL AND _return""")
        # 1. the same order (a refund row under the sale's own order number)
        # 2. else the buyer's latest purchase of the SKU at or before the return
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {quote_ident('retm_' + export.name)} AS
            WITH by_order AS (
                SELECT r.*, r._order AS m_order,
                       (SELECT MIN(l.line_no) FROM {lines} l WHERE l._order = r._order AND l.sku = r.sku) AS m_line
                FROM {returns} r WHERE r._order IN (SELECT _order FROM {sold_orders})
            ), rest AS (
                SELECT * FROM {returns} r WHERE r._order NOT IN (SELECT _order FROM {sold_orders})
            ), sold AS (
                SELECT _order, line_no, sku, user_id, ordered_at FROM {lines}
                WHERE _state IN ('paid', 'refunded') AND user_id IS NOT NULL
            ), by_buyer AS (
                SELECT r.*, s._order AS m_order, s.line_no AS m_line
                FROM rest r ASOF LEFT JOIN sold s
                  ON r.user_id = s.user_id AND r.sku = s.sku AND r.returned_at >= s.ordered_at
            )
            SELECT *, 'order' AS how FROM by_order UNION ALL SELECT *, 'buyer' AS how FROM by_buyer""")
        matched = quote_ident("retm_" + export.name)
        for how, n, amt in self.rows(f"SELECT CASE WHEN m_order IS NULL THEN 'none' ELSE how END, COUNT(*), "
                                     f"SUM(r_amount) FROM {matched} GROUP BY 1 ORDER BY 1"):
            self.count(export.name, RETURN_RULES[how], n, amount=f"{amt or 0:.2f}")
            if how == "none":
                self.problem("warning", export.name, "returns",
                             f"{n} return row(s) (amount {amt or 0:.2f}) match no sale in the data (no buyer id, "
                             "or no earlier purchase of the product by that buyer) and are left out of refunds")
        return matched

    def derive_export(self, export: Export, lines_export: Export | None) -> tuple[str, str] | None:
        tables = {}
        for e in [export] + ([lines_export] if lines_export else []):
            src = self.load(e)
            if not src:
                return None
            t = self.typed(e, src)
            t = self.drop_overlap(e, t)
            t = self.prepare(e, t)
            t = self.classify(e, t)
            t = self.keyed(e, t)
            if e is export:  # the orders, grouped once: the agreement check reads its flag
                self.orders = self.orders_table(e, t)
            self.check_agreement(e, t, self.orders if e is export else None)
            tables[e.name] = t
        if self.result.errors:
            return None
        head = tables[export.name]
        lines_source, lines_decl = (tables[lines_export.name], lines_export) if lines_export else (head, export)
        # One export: the lines are a view of its stored rows (the later steps read a few of
        # their columns each); lines from an export of their own are joined to their orders.
        lines = self.lines_table(lines_decl, lines_source, view=lines_export is None)
        if lines_export is not None:
            # lines take their order's state, buyer and time from the order export
            self.con.execute(f"""
                CREATE OR REPLACE TEMP TABLE {lines} AS
                SELECT l.* EXCLUDE (_state, user_id, ordered_at),
                       CASE WHEN l._state IS NULL OR l._state = 'paid' THEN o._state ELSE l._state END AS _state,
                       o.user_id, COALESCE(o.ordered_at, o.paid_at) AS ordered_at
                FROM {lines} l JOIN (SELECT _order, ANY_VALUE(_state) AS _state,
                     ANY_VALUE(user_id) AS user_id, ANY_VALUE(ordered_at) AS ordered_at,
                     ANY_VALUE(paid_at) AS paid_at FROM {head}
                     WHERE _excluded IS NULL AND NOT _return GROUP BY _order) o ON l._order = o._order""")
        if self.result.errors:
            return None
        return head, lines

    def orders_table(self, export: Export, head: str) -> str:
        """One row per order key: its state, its order-level values, and its first row."""
        has = export.provides
        order_cols = [c for c, s in export.columns.items() if s.level == "order" and c != "order_id"]
        picks = [f"ANY_VALUE({quote_ident(c)}) AS {quote_ident(c)}" for c in order_cols
                 if c not in ("ordered_at", "paid_at", "order_amount", "refund_amount")]
        out = quote_ident(f"orders_{export.name}")
        state = ("CASE WHEN BOOL_OR(_state IN ('paid', 'refunded')) THEN 'paid' "
                 "WHEN BOOL_OR(_state = 'unpaid') THEN 'unpaid' ELSE 'cancelled' END")
        first = "_fi * 1e12 + _source_row"
        disagree = " OR ".join(f"MIN({quote_ident(c)}) IS DISTINCT FROM MAX({quote_ident(c)})"
                               for c in self.agreement_columns(export)) or "FALSE"
        # The same rows are the export's lines (`lines_table`): their sums come with this grouping,
        # which spares grouping the lines again where they are final as they are (`finish`).
        values = self.line_values(export)
        sums = (f"SUM({values['line_amount']}) AS _sum_amount, SUM({values['line_refund']}) AS _sum_refund"
                if export.lines is None else "NULL AS _sum_amount, NULL AS _sum_refund")
        if export.lines is None and self.fan_out_checked(export):
            sums += ", " + self.fan_out_flags(values)
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {out} AS
            SELECT _order, {state} AS _order_state,
                   {"MIN(order_amount)" if has("order_amount") else "NULL"} AS given_amount,
                   {"MIN(refund_amount)" if has("refund_amount") else "NULL"} AS given_refund,
                   BOOL_AND(_state = 'refunded') AS all_refunded,
                   BOOL_OR(_state IS NULL OR _state NOT IN ('paid', 'refunded')) AS _unsold_lines,
                   {"MIN(ordered_at)" if has("ordered_at") else "NULL"} AS ordered_at,
                   {"MIN(paid_at)" if has("paid_at") else "NULL"} AS paid_at,
                   ARG_MIN(_source_file, {first}) AS _source_file, ARG_MIN(_source_row, {first}) AS _source_row,
                   MIN({first}) AS _first, {disagree} AS _disagree, {sums}
                   {''.join(', ' + p for p in picks)}
            FROM {head}
            WHERE _excluded IS NULL AND NOT _return AND order_id IS NOT NULL
            GROUP BY _order""")
        return out

    def finish(self, export: Export, head: str, lines: str) -> None:
        orders = self.orders
        sold = quote_ident(f"sold_{export.name}")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {sold} AS SELECT _order FROM {orders} "
                         "WHERE _order_state = 'paid'")
        returns = self.match_returns(export, head, lines, sold) if export.returns else None
        # Per line: its own refund, plus the quantities returns matched to it (capped at the line).
        # A return row refunds its own amount (its line amount, else quantity × its unit price);
        # never more than the line it is matched to.
        ret_lines = (f"LEFT JOIN (SELECT m_order, m_line, SUM(r_qty) AS q, SUM(COALESCE(r_amount, 0)) AS a "
                     f"FROM {returns} WHERE m_line IS NOT NULL GROUP BY ALL) rl "
                     f"ON rl.m_order = l._order AND rl.m_line = l.line_no" if returns else "")
        ret_q = "COALESCE(rl.q, 0)" if returns else "0"
        ret_amount = "COALESCE(rl.a, 0)" if returns else "0"
        final_lines = quote_ident(f"final_lines_{export.name}")
        # A paid order's lines that are not sold (cancelled, unpaid) are left out. Joining every
        # line to its order for that is spared when no paid order has such a line and every line
        # has its order (one export gives both, from the same rows); with no returns either, the
        # final lines are the lines with two columns computed: a view, not a copy.
        unsold = export.lines is not None or self.scalar(
            f"SELECT COUNT(*) FROM {orders} WHERE _order_state = 'paid' AND _unsold_lines") > 0
        sold_only = (f"JOIN {orders} o ON o._order = l._order "
                     "WHERE l._state IN ('paid', 'refunded') OR o._order_state <> 'paid'" if unsold else "")
        kind = "TABLE" if unsold or returns else "VIEW"
        self.con.execute(f"""
            CREATE OR REPLACE TEMP {kind} {final_lines} AS
            SELECT l.*, LEAST(l.quantity, l.refunded_quantity + {ret_q}) AS refunded_final,
                   CASE WHEN {ret_q} = 0 AND {ret_amount} = 0 THEN l.line_refund
                        ELSE LEAST(l.line_amount, l.line_refund + {ret_amount}) END AS refund_final
            FROM {lines} l {ret_lines}
            {sold_only}""")
        ret_orders = (f"LEFT JOIN (SELECT m_order, SUM(r_amount) AS a FROM {returns} WHERE m_order IS NOT NULL "
                      f"AND m_line IS NULL GROUP BY 1) ro ON ro.m_order = o._order" if returns else "")
        ret_a = "COALESCE(ro.a, 0)" if returns else "0"
        extra = [c for c, s in export.columns.items() if s.level == "order" and s.dimension is not None]
        line_dims = [c for c, s in self._lines_decl(export).columns.items()
                     if s.level == "line" and s.dimension is not None]
        text_cols = ["user_id", "platform", "source", "device", "province", "city", "city_tier", "campaign_id",
                     "country"]
        picks = []
        for c in text_cols + extra:
            picks.append(f"CAST({('o.' + quote_ident(c)) if export.provides(c) else 'NULL'} AS VARCHAR) "
                         f"AS {quote_ident(c)}")
        for c in ("discount_amount", "shipping_amount"):
            picks.append(f"CAST({('o.' + c) if export.provides(c) else 'NULL'} AS DOUBLE) AS {c}")
        picks.append(f"CAST({'o.coupon_used' if export.provides('coupon_used') else 'NULL'} AS BOOLEAN) "
                     "AS coupon_used")
        final_orders = quote_ident(f"final_orders_{export.name}")
        if kind == "VIEW":  # the final lines are the export's rows: summed in the orders' grouping
            sums = ""
            # (what SUM(refund_final - line_refund) gives there: 0, or NULL where no refund is known)
            amount, refund = "o._sum_amount", "o._sum_refund"
            returned = "CASE WHEN o._sum_refund IS NOT NULL THEN 0 END"
        else:
            sums = (f"LEFT JOIN (SELECT _order, SUM(line_amount) AS amount, SUM(refund_final) AS refund, "
                    f"SUM(refund_final - line_refund) AS returned FROM {final_lines} GROUP BY 1) s "
                    "ON s._order = o._order")
            amount, refund, returned = "s.amount", "s.refund", "s.returned"
        # With the sums from the orders' grouping, the final orders are a projection of it: a view
        # (read twice, by the orders' and the lines' writing), not a copy.
        self.con.execute(f"""
            CREATE OR REPLACE TEMP {kind} {final_orders} AS
            SELECT o._order AS order_id,
                   COALESCE(o.ordered_at, o.paid_at) AS ordered_at,
                   CASE WHEN o._order_state = 'paid' THEN COALESCE(o.paid_at, o.ordered_at) END AS paid_at,
                   ROUND(COALESCE(o.given_amount, {amount}), 2) AS order_amount,
                   ROUND(LEAST(COALESCE(o.given_amount, {amount}),
                         CASE WHEN o.given_refund IS NOT NULL THEN o.given_refund + {returned}
                              WHEN o.all_refunded AND {refund} = 0 THEN COALESCE(o.given_amount, {amount})
                              ELSE {refund} END + {ret_a}), 2) AS refund_amount,
                   {', '.join(picks)},
                   o._source_file, o._source_row, o._first, o._order_state,
                   {amount} AS _lines_amount, {refund} AS _lines_refund
            FROM {orders} o {sums}
            {ret_orders}""")
        # Written in no particular order (sorting the rows by their place in the export cost a
        # second or more per file at 1M orders): rows carry `_source_file` / `_source_row`, and
        # nothing the review computes depends on the order of a file's rows (test_honest).
        self.write("orders", f"SELECT * EXCLUDE (_first, _order_state, _lines_amount, _lines_refund) "
                             f"FROM {final_orders}")
        # The review's line model counts a line's refund as refunded quantity × unit price. An
        # order-level refund (an amount, not units) is spread over the order's lines by their
        # amounts and given back as the (fractional) quantity that refunds exactly that amount.
        refund_out = """CASE WHEN o._order_state <> 'paid' THEN 0
                             WHEN ABS(o.refund_amount - o._lines_refund) < 0.005 THEN l.refund_final
                             WHEN o._lines_amount > 0 THEN o.refund_amount * l.line_amount / o._lines_amount
                             ELSE 0 END"""
        self.write("order_lines", f"""
            SELECT l._order AS order_id, CAST(l.line_no AS BIGINT) AS line_no, l.sku,
                   CAST(ROUND(l.quantity) AS BIGINT) AS quantity, ROUND(l.unit_price, 4) AS unit_price,
                   ROUND(l.line_amount, 2) AS line_amount,
                   CASE WHEN refund_out = 0 THEN 0.0
                        WHEN ABS(refund_out - ROUND(l.refunded_final) * l.unit_price) < 0.005
                             THEN ROUND(l.refunded_final)
                        WHEN l.unit_price > 0 THEN ROUND(refund_out / l.unit_price, 6)
                        ELSE l.refunded_final END AS refunded_quantity,
                   {''.join('l.' + quote_ident(c) + ', ' for c in line_dims)}
                   l._source_file, l._source_row
            FROM (SELECT l.*, {refund_out} AS refund_out
                  FROM {final_lines} l JOIN {final_orders} o ON o.order_id = l._order) AS l""")
        self.final_lines = final_lines
        rows = self.scalar(f"SELECT COUNT(*) FROM {final_lines}")
        n_orders = self.scalar(f"SELECT COUNT(*) FROM {orders}")
        self.count(export.name, "orders", n_orders, lines=rows)
        anonymous = self.scalar(f"SELECT COUNT(*) FROM {orders} WHERE _order_state = 'paid' AND "
                                + ("user_id IS NULL" if export.provides("user_id") else "TRUE"))
        self.count(export.name, "anonymous", anonymous)

    def _lines_decl(self, export: Export) -> Export:
        return self.exports[export.lines] if export.lines else export

    def products(self) -> None:
        """Products from the lines: each SKU's most frequent name, category and subcategory (ties:
        the smallest), its highest price, its cost when every line of it has one, its first sale."""
        lines = self.final_lines
        cost = "COALESCE(line_cost, unit_cost * quantity, line_amount - line_profit)"

        def most_frequent(column: str) -> str:
            return (f"(SELECT sku, {column} FROM (SELECT sku, {column}, ROW_NUMBER() OVER (PARTITION BY sku "
                    f"ORDER BY COUNT(*) DESC, {column}) AS rn FROM {lines} WHERE {column} IS NOT NULL "
                    f"GROUP BY sku, {column}) AS r WHERE rn = 1)")

        self.write("products", f"""
            SELECT a.sku, COALESCE(n.product_name, a.sku) AS name,
                   COALESCE(c.category, {quote_literal(UNCATEGORISED)}) AS category, s.subcategory,
                   a.list_price, a.unit_cost, a.launch_date, CAST(NULL AS DOUBLE) AS rating,
                   a._source_file, a._source_row
            FROM (SELECT sku, ROUND(COALESCE(MAX(list_price), MAX(unit_price)), 2) AS list_price,
                         CASE WHEN COUNT({cost}) = COUNT(*) AND SUM(quantity) > 0
                              THEN ROUND(SUM({cost}) / SUM(quantity), 4) END AS unit_cost,
                         CAST(MIN(ordered_at) AS DATE) AS launch_date,
                         ARG_MIN(_source_file, _fi * 1e12 + _source_row) AS _source_file,
                         ARG_MIN(_source_row, _fi * 1e12 + _source_row) AS _source_row
                  FROM {lines} GROUP BY sku) a
            LEFT JOIN {most_frequent("product_name")} n ON n.sku = a.sku
            LEFT JOIN {most_frequent("category")} c ON c.sku = a.sku
            LEFT JOIN {most_frequent("subcategory")} s ON s.sku = a.sku
            ORDER BY a.sku""")
        n = self.scalar(f"SELECT COUNT(DISTINCT sku) FROM {lines}")
        self.count(self.primary, "products", n)

    def write(self, name: str, sql: str) -> None:
        target = self.out_dir / f"{name}.parquet"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.con.execute(f"COPY ({sql}) TO {quote_literal(str(target))} (FORMAT parquet)")
        self.result.files[name] = str(target)


def derive(exports: dict[str, Export], staged: dict[str, list[StagedFile]], shown: Callable[[Path], str],
           con: Any, out_dir: Path, derive_products: bool = True) -> IntakeResult:
    """Derive orders, order_lines (and products, unless the contract declares them) from the
    exports into `out_dir`. Problems are collected in the result; nothing is written when any
    is an error. The staged rows and every step's table are dropped at the end."""
    staged_tables = {("TABLE", f.table) for files in staged.values() for f in files if f.table}
    keep = temporary_objects(con) - staged_tables
    try:
        return _derive(_Intake(exports, staged, shown, con, out_dir), exports, derive_products)
    finally:
        drop_temporary(con, keep)


def _derive(intake: _Intake, exports: dict[str, Export], derive_products: bool) -> IntakeResult:
    line_exports = {e.lines for e in exports.values() if e.lines}
    primaries = [e for e in exports.values() if e.name not in line_exports]
    if len(primaries) != 1:
        names = ", ".join(e.name for e in primaries) or "none"
        intake.problem("error", "exports", "exports",
                       f"one export must give the orders (found: {names})",
                       "declare one order export under `exports:`; an export holding the lines of another is "
                       "named by that export's `lines:`")
        return intake.result
    export = primaries[0]
    intake.primary = export.name
    lines_export = exports[export.lines] if export.lines else None
    derived = intake.derive_export(export, lines_export)
    if derived is None or intake.result.errors:
        return intake.result
    head, lines = derived
    intake.finish(export, head, lines)
    if derive_products:
        intake.products()
    if intake.result.errors:
        intake.result.files = {}
    return intake.result


def temporary_objects(con: Any) -> set[tuple[str, str]]:
    """The connection's temporary tables and views, as (kind, name)."""
    tables = {("TABLE", n) for (n,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    views = {("VIEW", n) for (n,) in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()}
    return tables | views


def drop_temporary(con: Any, keep: set[tuple[str, str]]) -> None:
    """Drop the temporary tables and views made since `keep` was taken: the staged rows and the
    derivation's steps would otherwise hold memory for the rest of the build."""
    made = temporary_objects(con) - keep
    for kind in ("VIEW", "TABLE"):  # views first: they read the tables
        for _, name in sorted(o for o in made if o[0] == kind):
            con.execute(f"DROP {kind} IF EXISTS {quote_ident(name)}")


def mapped_headers(export: Export) -> set[str]:
    """Every header (normalised) the export's columns may be read from: the columns staged."""
    return set(_normalised(h for c in export.columns.values() for h in c.headers))


def raw_cols(export: Export) -> list[str]:
    """The columns holding each mapped value as the file has it (for messages)."""
    return [quote_ident("r__" + c) for c in export.columns]


def _normalised(headers: Sequence[str] | Any) -> list[str]:
    from fupan.intake.reading import normalise_header

    return [normalise_header(h) for h in headers]


def _header_hint(col: ColumnSource, staged: StagedFile) -> str:
    import difflib

    have = list(staged.columns)
    close = [c for h in _normalised(col.headers) for c in difflib.get_close_matches(h, have, n=1, cutoff=0.6)]
    hint = f"the file's headers are: {', '.join(have[:30])}{' …' if len(have) > 30 else ''}."
    if close:
        hint = f'did you mean "{close[0]}"? Map it: `{col.name}: {{header: {close[0]}}}`. ' + hint
    else:
        hint = f"map the header that holds it: `columns: {{{col.name}: {{header: …}}}}`. " + hint
    try:
        from fupan.intake.presets import load_preset, looks_like

        ranked = looks_like(have)
        if ranked:
            name, share = ranked[0]
            hint += f" The file looks like a {load_preset(name).title_en} export ({share:.0%} of its headers): " \
                    f"`preset: {name}`."
    except ImportError:
        pass
    return hint


def _matcher_sql(m: Matcher) -> str:
    col = quote_ident(m.column)
    if m.kind == "values":
        exact = [v for v in m.operand if "*" not in v]
        globs = [v for v in m.operand if "*" in v]
        tests = []
        if exact:
            tests.append(f"CAST({col} AS VARCHAR) IN ({', '.join(quote_literal(v) for v in exact)})")
        tests += [f"CAST({col} AS VARCHAR) LIKE {quote_literal(g.replace('%', '').replace('*', '%'))}" for g in globs]
        return "(" + " OR ".join(tests) + ")"
    if m.kind == "starts_with":
        return f"STARTS_WITH(CAST({col} AS VARCHAR), {quote_literal(m.operand)})"
    if m.kind == "below":
        return f"{col} < {float(m.operand)!r}"
    if m.kind == "above":
        return f"{col} > {float(m.operand)!r}"
    return f"({col} IS NULL) = {'TRUE' if m.operand else 'FALSE'}"


def _expression_sql(expression: str) -> str:
    """A declared computation as SQL: the tokens are checked (declaration.tokenize); division
    by zero gives NULL, not an error."""
    out = []
    for token in tokenize(expression):
        if token == "/":
            out.append("/ NULLIF(")
            out.append("\x00")  # closes after the next operand
            continue
        out.append(quote_ident(token) if token[0].isalpha() or token[0] == "_" else token)
    return _close_divisions(out)


def _close_divisions(tokens: list[str]) -> str:
    """Turn `a / NULLIF( \\0 b` into `a / NULLIF(b, 0)`, where b is one operand or a bracket."""
    result: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "\x00":
            # the operand: a bracketed group or a single token
            j = i + 1
            if tokens[j] == "(":
                depth = 0
                k = j
                while True:
                    depth += tokens[k] == "("
                    depth -= tokens[k] == ")"
                    if depth == 0:
                        break
                    k += 1
                inner = _close_divisions(tokens[j:k + 1])
                result.append(f"{inner}, 0)")
                i = k + 1
            else:
                result.append(f"{tokens[j]}, 0)")
                i = j + 1
            continue
        result.append(token)
        i += 1
    return " ".join(result)
