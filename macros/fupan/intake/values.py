"""Export text turned into typed values, as DuckDB SQL expressions.

A seller backend writes every cell as text, in its own spellings: ids as `="0123"`, amounts as
`¥1,234.50` or `168.00（系统计算中，该值仅供参考）`, dates as `2016/5/23 22:02`, `43831.75` (an Excel
serial day) or `2012-01-01 11:13:25 -0500`. `value_sql` turns such a column into the typed value
(NULL where it does not parse), `unparsed_sql` finds the cells that have text but no value, and
`format_problems` / `format_hint` check a column's declared `format:` and explain what is read.

The expressions run over millions of rows, so each costly step (a regular expression, a failing
cast) sits behind a CASE guard that only the rows needing it pass. DuckDB evaluates a CASE
branch only for its rows, and does not hoist repeated subexpressions out of a branch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fupan.data.backends import quote_literal

EMPTY_WORDS: tuple[str, ...] = ("-", "--", "无", "N/A", "n/a", "NA", "NULL", "null", "空", "")
VALUE_TYPES = ("text", "integer", "decimal", "timestamp", "date", "boolean")

# Characters trimmed from both ends of every cell: ASCII spaces, tabs and line ends (Douyin ids end
# with a tab), the no-break space and the ideographic (全角) space.
_SPACES = " \t\r\n\u00a0\u3000"
_SPACE_CLASS = r"[ \t\r\n\x{00A0}\x{3000}]"

# The cleaning regular expression, for cells with quoting: it turns an empty word into '' (an
# alternative with no group), unwraps `="…"` (Excel's way of keeping a number as text) and drops
# a leading `'`: what is left is in the one group that matched.
def _words_re(empty_words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in empty_words if w)


def _clean_re(empty_words: Sequence[str]) -> str:
    s, words = _SPACE_CLASS, _words_re(empty_words)
    empty = [f'="{s}*(?:{words}){s}*"', f"'?{s}*(?:{words})"] if words else []
    return f"""^{s}*(?:{"|".join([*empty, f'="{s}*(.*?){s}*"', "'(.*?)", "(.*?)"])}){s}*$"""


_TRUE_WORDS = ("是", "true", "1", "y", "yes", "t")
_FALSE_WORDS = ("否", "false", "0", "n", "no", "f")
_BOOLEAN_PAIRS = ", ".join(f"{t}/{f}" for t, f in zip(_TRUE_WORDS, _FALSE_WORDS, strict=True))

# One pass over an amount removes currency signs and codes, spaces, the brackets of an accounting
# negative `(12.50)` (its sign is taken from the cell), and thousands separators: a comma followed
# by three digits. Any other comma ("1.234,50", a European decimal comma) stays, so the value does
# not parse instead of being read wrong.
_AMOUNT_RE = r"[¥￥元$£€ \t\x{00A0}\x{3000}]|RMB|CNY|USD|GBP|EUR|^[(（]|[)）]$|[,，]([0-9]{3})"
# A note in brackets after the number: `168.00（系统计算中，该值仅供参考）`. The number before it must
# not be empty, so an accounting negative `(12.50)` is not taken for a note.
_NOTE_RE = r"^(.+?)\s*[(（][^()（）]*[)）]$"
_OPENING = (ord("("), ord("（"))

BUILTIN_TIMESTAMP_FORMATS: tuple[str, ...] = (
    # No two read the same text, so the order only sets the cost: a failed try is expensive, and
    # each cell tries those with its separator in this order (an Excel re-save writes
    # `2016/5/23 22:02`, without seconds).
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M",
    # fractional seconds
    "%Y-%m-%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M",
)
BUILTIN_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
BUILTIN_FORMATS = BUILTIN_TIMESTAMP_FORMATS + BUILTIN_DATE_FORMATS

# A trailing UTC offset after a time of day: ` -0500`, `+08:00`, `Z`, ` UTC`. It is dropped, keeping
# the wall-clock time as written (the review's days are the shop's days). A time must precede it,
# so the year of `01-02-2024` is never taken for an offset.
_OFFSET_RE = r"^(.*[0-9]:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)\s*(?:Z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)$"

# Excel serial day numbers: day 0 is 1899-12-30, 25569 is 1970-01-01; Excel's last day is 9999-12-31.
_EXCEL_EPOCH_DAY = 25569
_EXCEL_LAST_DAY = 2958465

# strptime directives DuckDB reads; `-` (no padding) is allowed before the numeric ones.
_DIRECTIVES = {
    "Y": "year (2024)", "y": "two-digit year (24)", "m": "month (01)", "d": "day (31)",
    "H": "hour (23)", "I": "hour of 12 (11)", "p": "AM/PM", "M": "minute (59)", "S": "second (59)",
    "f": "microseconds", "g": "milliseconds", "n": "nanoseconds", "j": "day of the year (365)",
    "b": "month name (Jan)", "B": "month name (January)", "a": "weekday name (Mon)",
    "A": "weekday name (Monday)", "w": "weekday number (0)", "U": "week of the year (Sunday first)",
    "W": "week of the year (Monday first)", "%": "a literal %",
}
_UNPADDED = set("mdyHIMSj")
_NOT_ALLOWED = {
    "z": "a UTC offset is dropped without a directive (the time is kept as written)",
    "Z": "a time zone name is dropped without a directive (the time is kept as written)",
    "c": "locale-dependent", "x": "locale-dependent", "X": "locale-dependent",
}
_DIRECTIVE_RE = re.compile(r"%(-?)(.?)")

EXCEL = "excel"
PERCENT = "percent"


def _text(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR)"


def _in_words(text: str, words: Sequence[str]) -> str:
    if not words:
        return "FALSE"
    return f"{text} IN ({', '.join(quote_literal(w) for w in words)})"


def clean_text_sql(expr: str, empty_words: Sequence[str] = EMPTY_WORDS) -> str:
    """The cell as clean text (VARCHAR), or NULL: `="0123"` → `0123`, a leading `'` removed,
    surrounding spaces, tabs, line ends, no-break and ideographic spaces removed, and the empty
    words (`-`, `无`, `N/A`, …) → NULL. Empty text is always NULL. `expr` may be of any type."""
    text = _text(expr)
    # Most cells need none of this: test the first and the last character's code point and run
    # the regular expression only on the cells that start or end with a space or quoting. The
    # first test may let more cells through (every code point below `(`): the cleaning gives any
    # cell without those edges back as it is, and two comparisons cost less than a list, which
    # DuckDB runs as a join. The last code point is taken with array_extract, which costs less
    # than right().
    edge = [ord(c) for c in _SPACES + "='"]
    below = ord("(")  # spaces, tabs, line ends and ' are all below it
    first = f"ord({text}) < {below} OR ord({text}) IN ({', '.join(str(c) for c in edge if c >= below)})"
    last = ", ".join(str(ord(c)) for c in _SPACES)
    unquoted = f"regexp_replace({text}, {quote_literal(_clean_re(empty_words))}, '\\1\\2\\3', 's')"
    # Surrounding spaces only (Douyin ids end with a tab): trim() takes them off, no regular
    # expression needed; what is left may be an empty word.
    plain = f"trim({text}, {quote_literal(_SPACES)})"
    trimmed = f"(CASE WHEN {_in_words(plain, [w for w in empty_words if w])} THEN '' ELSE {plain} END)"
    quoted = f"strpos({text}, '=\"') > 0 OR strpos({text}, '''') > 0"
    cleaned = f"NULLIF(CASE WHEN {quoted} THEN {unquoted} ELSE {trimmed} END, '')"
    words = [w for w in empty_words if w]
    longest = max((len(w.encode()) for w in words), default=0)
    return (
        f"(CASE WHEN {first} OR ord(array_extract({text}, -1)) IN ({last}) THEN {cleaned} "
        f"WHEN {text} = '' THEN NULL "
        f"WHEN strlen({text}) <= {longest} AND {_in_words(text, words)} THEN NULL ELSE {text} END)"
    )


def _decimal_sql(text: str, percent: bool) -> str:
    # A plain number (nearly every cell) is read by the cast alone; only the rest are rewritten.
    # `nan` and `inf` cast to DOUBLE too: they are no amounts and would poison every sum.
    fast = f"TRY_CAST({text} AS DOUBLE)"
    closes = f"({text} LIKE '%)' OR {text} LIKE '%）')"
    noted = f"(CASE WHEN {closes} THEN regexp_replace({text}, {quote_literal(_NOTE_RE)}, '\\1', 's') ELSE {text} END)"
    digits = f"regexp_replace({noted}, {quote_literal(_AMOUNT_RE)}, '\\1', 'gi')"
    digits = f"replace(replace({digits}, '−', '-'), '－', '-')"  # minus sign U+2212, full-width minus
    if percent:
        digits = f"RTRIM({digits}, '%％')"
    # The slow path casts through DECIMAL, which (unlike DOUBLE) reads no `nan` or `inf`.
    number = f"CAST(TRY_CAST({digits} AS DECIMAL(38, 10)) AS DOUBLE)"
    # In brackets from start to end: negative; an opening bracket never closed: no amount.
    sign = f"(CASE WHEN ord({text}) IN {_OPENING} THEN (CASE WHEN {closes} THEN -1 END) ELSE 1 END)"
    if percent:
        sign = f"{sign} / (CASE WHEN strpos({text}, '%') > 0 OR strpos({text}, '％') > 0 THEN 100 ELSE 1 END)"
    return f"(CASE WHEN isfinite({fast}) THEN {fast} ELSE {number} * {sign} END)"


def _excel_sql(text: str) -> str:
    # Only digits and a point can be a serial day; other text skips the (costly) failing cast.
    day = f"TRY_CAST({text} AS DOUBLE)"
    stamp = f"epoch_ms(CAST(round(({day} - {_EXCEL_EPOCH_DAY}) * 86400000) AS BIGINT))"
    return (
        f"(CASE WHEN length({text}) <= 20 AND ltrim({text}, '0123456789.') = '' "
        f"AND {day} BETWEEN 1 AND {_EXCEL_LAST_DAY} THEN {stamp} END)"
    )


def _strptime_sql(text: str, formats: Sequence[str]) -> str:
    return f"TRY_STRPTIME({text}, [{', '.join(quote_literal(f) for f in formats)}])"


def _declared_sql(text: str, formats: Sequence[str]) -> list[str]:
    """The declared formats in order: runs of strptime formats in one call, Excel serial days."""
    parts: list[str] = []
    run: list[str] = []
    for fmt in formats:
        if fmt == EXCEL:
            if run:
                parts.append(_strptime_sql(text, run))
                run = []
            parts.append(_excel_sql(text))
        else:
            run.append(fmt)
    if run:
        parts.append(_strptime_sql(text, run))
    return parts


def _builtin_sql(text: str) -> str:
    """The built-in formats. A format that fails costs far more than one that reads the value
    (DuckDB builds an error per try), and no two built-ins read the same text, so each cell tries
    only those with its separator after the year, date forms for short text (no date form is
    longer than 11 characters, no timestamp form shorter than 12)."""
    branches = []
    for sep in ("-", "/", "年", "."):
        dates = [f for f in BUILTIN_DATE_FORMATS if f[2:3] == sep]
        stamps = [f for f in BUILTIN_TIMESTAMP_FORMATS if f[2:3] == sep]
        if stamps:
            parse = (
                f"CASE WHEN length({text}) <= 11 THEN {_strptime_sql(text, dates)} "
                f"ELSE {_strptime_sql(text, stamps)} END"
            )
        else:
            parse = _strptime_sql(text, dates)
        branches.append(f"WHEN {quote_literal(sep)} THEN {parse}")
    # Any other cell: only %Y%m%d has no separator after the year, so it is tried first.
    rest = ["%Y%m%d", *(f for f in BUILTIN_FORMATS if f != "%Y%m%d")]
    return f"(CASE substr({text}, 5, 1) {' '.join(branches)} ELSE {_strptime_sql(text, rest)} END)"


def _timestamp_sql(text: str, formats: Sequence[str]) -> str:
    # A UTC offset is looked for only in a cell with a `+`, a `-` after a `:`, or a zone letter
    # at the end: cheap tests that plain timestamps fail.
    maybe_offset = (
        f"strpos({text}, '+') > 0 OR {text} LIKE '%:%-%' "
        f"OR {text} LIKE '%Z' OR {text} LIKE '%UTC' OR {text} LIKE '%GMT'"
    )
    strip = f"regexp_replace({text}, {quote_literal(_OFFSET_RE)}, '\\1')"
    stripped = f"(CASE WHEN {maybe_offset} THEN {strip} ELSE {text} END)"
    # Declared formats first: on the cell as written (a format may spell its offset out), then
    # without the offset; then the built-ins.
    declared = _declared_sql(text, formats)
    parts = [*declared]
    if declared:
        parts.append(f"(CASE WHEN {maybe_offset} THEN COALESCE({', '.join(_declared_sql(strip, formats))}) END)")
    parts.append(_builtin_sql(stripped))
    return f"COALESCE({', '.join(parts)})"


def _check(value_type: str, formats: Sequence[str]) -> None:
    problems = format_problems(value_type, formats)
    if problems:
        raise ValueError("; ".join(problems))


def value_sql(
    expr: str, value_type: str, formats: Sequence[str] = (), empty_words: Sequence[str] = EMPTY_WORDS
) -> str:
    """SQL for the typed value of the export cell `expr`, or NULL where it does not parse.

    `value_type` is one of VALUE_TYPES; `formats` the column's declared `format:` list (checked
    with `format_problems` first: a mistake there raises ValueError)."""
    _check(value_type, formats)
    return parsed_sql(clean_text_sql(expr, empty_words), value_type, formats)


def parsed_sql(text: str, value_type: str, formats: Sequence[str] = ()) -> str:
    """`value_sql` for text already cleaned (`clean_text_sql`). Give it a column holding the
    cleaned text, not the cleaning expression: the parsing refers to its input many times, and
    an expression would be written out (and computed) at each of them."""
    _check(value_type, formats)
    if value_type == "text":
        return text
    if value_type == "decimal":
        return _decimal_sql(text, PERCENT in formats)
    if value_type == "integer":
        number = _decimal_sql(text, False)
        # Whole numbers only ("2.5" is no quantity), within BIGINT's range.
        return (
            f"(CASE WHEN {number} = trunc({number}) AND abs({number}) < 9.2e18 "
            f"THEN CAST({number} AS BIGINT) END)"
        )
    if value_type == "timestamp":
        return _timestamp_sql(text, formats)
    if value_type == "date":
        return f"CAST({_timestamp_sql(text, formats)} AS DATE)"
    if value_type == "boolean":
        word = f"lower({text})"
        return (
            f"(CASE WHEN {_in_words(word, _TRUE_WORDS)} THEN TRUE "
            f"WHEN {_in_words(word, _FALSE_WORDS)} THEN FALSE END)"
        )
    raise AssertionError(value_type)  # format_problems rejects an unknown type


def unparsed_sql(
    expr: str, value_type: str, formats: Sequence[str] = (), empty_words: Sequence[str] = EMPTY_WORDS
) -> str:
    """A SQL condition, TRUE where the cell has text (after cleaning) but no value of the type."""
    if value_type == "text":
        _check(value_type, formats)
        return "FALSE"
    return (
        f"({clean_text_sql(expr, empty_words)} IS NOT NULL "
        f"AND {value_sql(expr, value_type, formats, empty_words)} IS NULL)"
    )


def _directive_problems(fmt: str) -> list[str]:
    problems: list[str] = []
    for match in _DIRECTIVE_RE.finditer(fmt):
        unpadded, letter = match.groups()
        shown = f"%{unpadded}{letter}"
        if letter == "":
            problems.append(f'format "{fmt}" ends with a lone "{shown}" (write "%%" for a literal %)')
        elif letter in _NOT_ALLOWED:
            problems.append(f'format "{fmt}": {shown} cannot be used: {_NOT_ALLOWED[letter]}')
        elif letter not in _DIRECTIVES:
            problems.append(f'format "{fmt}" has an unknown directive {shown}; valid: {_valid_directives()}')
        elif unpadded and letter not in _UNPADDED:
            problems.append(
                f'format "{fmt}": "-" (no padding) does not apply to %{letter}; '
                f"it applies to {', '.join('%-' + c for c in sorted(_UNPADDED))}"
            )
    if not problems and not re.search(r"%-?[Yy]", fmt.replace("%%", "")):
        problems.append(f'format "{fmt}" has no year (%Y, as in 2024, or %y, as in 24)')
    return problems


def _valid_directives() -> str:
    return ", ".join(f"%{c} {what}" for c, what in _DIRECTIVES.items())


def format_problems(value_type: str, formats: Sequence[str]) -> list[str]:
    """Mistakes in a column's declared `format:` list for a value type; each message says what is
    wrong and what is valid. Empty when the declaration is right."""
    if value_type not in VALUE_TYPES:
        return [f"unknown value type {value_type!r}; valid: {', '.join(VALUE_TYPES)}"]
    problems: list[str] = []
    for fmt in formats:
        if not isinstance(fmt, str) or not fmt.strip():
            problems.append(f"format {fmt!r} is not a format: write text such as \"%m/%d/%Y\"")
        elif value_type in ("timestamp", "date"):
            if fmt == PERCENT:
                problems.append(f'"{PERCENT}" is a format of decimal columns, not of a {value_type} column')
            elif fmt != EXCEL:
                problems += _directive_problems(fmt)
        elif value_type == "decimal":
            if fmt != PERCENT:
                problems.append(
                    f'format "{fmt}" does not apply to a decimal column: the only decimal format is '
                    f'"{PERCENT}" (12.5% read as 0.125); currency signs and thousands separators are always read'
                )
        else:
            what = {
                "text": "text is read as written (cleaned of spaces and export quoting)",
                "integer": "whole numbers are read with or without thousands separators",
                "boolean": "yes/no words are read: " + _BOOLEAN_PAIRS,
            }[value_type]
            problems.append(
                f'format "{fmt}" does not apply to a {value_type} column: '
                f"{value_type} columns take no format; {what}"
            )
    return problems


def format_hint(value_type: str, formats: Sequence[str]) -> str:
    """The hint shown with a value that does not parse: which spellings are read and how to
    declare another."""
    declared = ", ".join(f'"{f}"' for f in formats)
    if value_type in ("timestamp", "date"):
        read = f"the declared formats {declared}, then " if formats else ""
        return (
            f"read: {read}2024-01-31 23:59:59, 2024-01-31 23:59, 2024/1/31 23:59, 2024-01-31T23:59:59, "
            "2024年1月31日 23:59, 2024-01-31, 2024/01/31, 2024.01.31, 2024年1月31日, 20240131 "
            "(a trailing UTC offset such as -0500 or Z is dropped); declare the column's format in "
            'data/datasets.yml, e.g. `format: ["%m/%d/%Y %H:%M"]`, or `format: [excel]` for Excel serial day numbers'
        )
    if value_type == "decimal":
        percent = "12.5% as 0.125 (declared), " if PERCENT in formats else ""
        how = (
            "" if PERCENT in formats
            else '; a percentage column is declared in data/datasets.yml with `format: ["percent"]`'
        )
        return (
            f"read: numbers such as 1234.50, -12.5, +3, 1,234.50, {percent}with a currency sign or code "
            f"(¥ ￥ 元 $ £ € RMB CNY USD GBP EUR), a trailing note in brackets, or (12.50) for -12.50{how}"
        )
    if value_type == "integer":
        return "read: whole numbers such as 3, 3.0, 1,200, -2 (with or without a currency sign); 2.5 is not whole"
    if value_type == "boolean":
        return f"read: {_BOOLEAN_PAIRS} (any case)"
    return "text is read as written"
