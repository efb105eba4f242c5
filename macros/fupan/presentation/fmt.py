"""The single place where every number, change and date on the site is formatted.

Pages, macros and components must call :func:`format_value` / :func:`format_change`
instead of writing their own f-strings, so that one table decides how a number
looks (units, decimals, rounding, signs, missing values) in every locale.

Standard library on purpose (Babel, for currency symbols, is imported on first use):
pandas and numpy scalars are accepted by duck typing, so importing this module never
pulls in the data stack.
"""

from __future__ import annotations

import difflib
import functools
import math
import numbers
import operator
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Literal, NamedTuple

from fupan.errors import ArgumentError

__all__ = [
    "DEFAULT_LOCALE",
    "KINDS",
    "MISSING",
    "NUMBER_RULES",
    "SUPPORTED_LOCALES",
    "UNIT_CHOICE_SIGNIFICANT_DIGITS",
    "UNIT_LADDERS",
    "Locale",
    "axis_unit",
    "column_unit",
    "currency_symbol",
    "direction",
    "format_change",
    "format_column",
    "format_value",
    "is_missing",
    "normalize_locale",
    "resolve_locale",
    "unit_word",
]

# ---------------------------------------------------------------------------
# Locales
# ---------------------------------------------------------------------------

Locale = Literal["zh-CN", "en"]
SUPPORTED_LOCALES: tuple[Locale, ...] = ("zh-CN", "en")
DEFAULT_LOCALE: Locale = "zh-CN"

# Lower-cased, "_" already replaced by "-". Traditional Chinese (zh-TW, zh-Hant)
# is deliberately absent: it writes 億/萬, so silently mapping it to zh-CN
# would print the wrong characters.
_LOCALE_ALIASES: dict[str, Locale] = {
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hans-cn": "zh-CN",
    "en": "en",
}
# Any English region (en-US, en_GB, en-AU, ...) formats the same way here.
_EN_REGION = re.compile(r"en-[a-z0-9]{2,8}")

# What every kind prints for a missing value (None, NaN, NA, NaT, ±inf, "").
MISSING = "—"

# Babel's (CLDR's) name of each supported locale.
_BABEL_LOCALES: dict[str, str] = {"zh-CN": "zh_Hans_CN", "en": "en"}
_ISO_CURRENCY = re.compile(r"[A-Za-z]{3}")
# Codes in common use that are not ISO 4217's.
_CURRENCY_ALIASES = {"RMB": "CNY"}


@functools.lru_cache(maxsize=64)
def currency_symbol(currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """The symbol amounts in ``currency`` carry in ``locale``.

    An ISO 4217 code (CNY, USD, GBP, EUR, …; ``extra.review.currency``) gives the locale's
    symbol from CLDR through Babel: CNY is "¥" in zh-CN and "CN¥" in en, USD "US$" and "$",
    GBP "£", EUR "€", so a reader never confuses two currencies that share a sign in the
    other language. Anything else is taken as the symbol itself ("¥", "HK$"). A symbol that
    ends in a Latin letter (a code Babel has no sign for: "CHF") is followed by a no-break
    space, as CLDR spaces it, so a number never sticks to it ("CHF 983.2万", not "CHF983.2万").
    """
    loc = normalize_locale(locale)
    text = str(currency).strip()
    if _ISO_CURRENCY.fullmatch(text):
        from babel.numbers import get_currency_symbol

        code = _CURRENCY_ALIASES.get(text.upper(), text.upper())
        text = get_currency_symbol(code, _BABEL_LOCALES[loc])
    return text + "\u00a0" if text and _is_latin_letter(text[-1]) else text


def _is_latin_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


# ---------------------------------------------------------------------------
# Rounding rules -- the ONE table. Change a rule here, nowhere else.
# ---------------------------------------------------------------------------
#
# * Rounding mode: half-up, i.e. Decimal ROUND_HALF_UP, which rounds halves
#   AWAY FROM ZERO (2.675 -> 2.68, -2.675 -> -2.68). Floats are first turned
#   into the shortest decimal string that round-trips (repr), then rounded as
#   decimals. So 2.675 (stored as 2.67499999...) and 0.1235 (as 0.12349999...)
#   round the way a reader doing it by hand expects, unlike round()/"%.2f",
#   which round the binary value half-to-even.
# * Signs: the sign is decided AFTER rounding. A value that rounds to zero
#   prints without a minus ("¥0.00", "0.0%") and without a plus for changes.
# * Unit ladders (currency, amount, count). A unit applies from its threshold
#   up and divides by its scale (the same power of ten, except en's K):
#     zh-CN: 万 = 1e4 (1 decimal), 亿 = 1e8 (2 decimals); 亿 is the largest
#            unit, so 1e12 prints "10,000.00亿".
#     en:    K from 1e4 (scale 1e3, 0 decimals), M = 1e6 (3 decimals),
#            B = 1e9 (3 decimals); B is the largest, so 1e12 prints
#            "1,000.000B".
#   Below the first unit: 2 decimals for currency/amount, 0 for count.
#   Why en looks like this: an English reader must get at least the precision
#   a Chinese reader gets of the same figure. zh's step (the value of one unit
#   in the last shown digit) is 0.01 / 1 below 1万, 1e3 with 万 and 1e6 with
#   亿. So en keeps plain numbers up to 9,999 (zh's 2,175 is en's 2,175, not
#   2.2K); K (0 decimals) and M (3 decimals) step by 1e3 like 万 (106,484:
#   10.6万 / 106K; 19,699,572: 1,970.0万 / 19.700M); B (3 decimals) steps by
#   1e6 like 亿. A T unit would need 6 decimals to keep 亿's 1e6 step, so en
#   stops at B as zh stops at 亿. Each unit has ONE number of decimals, never
#   trimmed, so that a column (one unit) lines up row by row.
#   Axis ticks are the exception (axis_label_expr): a tick is a round position
#   chosen by the chart (0, 5M, 10M), not a measured figure, so its label drops
#   trailing zeros ("5M", not "5.000M", which would claim a precision no tick
#   has).
# * Unit choice happens after rounding: the unit is picked from the magnitude
#   rounded to UNIT_CHOICE_SIGNIFICANT_DIGITS (4) significant digits, so a
#   number that is "essentially" the next threshold moves up:
#     99,995,000 -> ¥1.00亿     99,994,000 -> ¥9,999.4万
#     9,999.5    -> ¥1.0万      9,999.4    -> ¥9,999.40
#     en 9,999.5 -> ¥10K        en 9,999.4 -> ¥9,999.40
#   If the chosen unit's own display rounding would still reach the next
#   threshold (en K has no decimals: 999,500 would show "1,000K") the unit
#   moves up as well ("1.000M"), so a lower unit never shows the threshold.
# * One unit per column and per axis: a table column takes the unit of its
#   smallest non-zero number (column_unit: no number of it rounds away), a
#   chart axis the unit of its largest (axis_unit: ticks are round steps).
# * Currency: an ISO code's symbol is the locale's (CLDR, via Babel):
#   CNY ¥ / CN¥, USD US$ / $, GBP £, EUR €; a code without a sign is followed
#   by a no-break space (CHF 1.5万).
# * Fixed-decimal kinds (no units), thousands separators everywhere:
#     percent, pct_change, pp_change: value is a fraction, x100, 1 decimal
#     ratio: 2 decimals; decimal, days: 1 decimal
#     ratio_change, decimal_change: signed differences, 2 and 1 decimals
#     duration: whole seconds; from one hour up, whole minutes
# * Tiny shares: a non-zero percent that would display as 0.0% shows
#   SMALL_PERCENT_SIGNIFICANT_DIGITS (2) significant digits instead
#   (0.00023 -> "0.023%"), so a real but small rate never reads as zero.
#   Changes (pp_change) keep one decimal: "+0.0个百分点" reads as "flat".
# * number: a plain value of unknown unit (targets in a free-text file):
#   up to NUMBER_SIGNIFICANT_DIGITS (4) significant digits, trailing zeros
#   dropped, whole numbers from 1,000 up (0.0125 -> "0.0125", 25 -> "25",
#   1234567.8 -> "1,234,568").

UNIT_CHOICE_SIGNIFICANT_DIGITS = 4
SMALL_PERCENT_SIGNIFICANT_DIGITS = 2
NUMBER_SIGNIFICANT_DIGITS = 4


class _Unit(NamedTuple):
    threshold: int  # the unit applies from 10**threshold up
    exponent: int  # shown number = value / 10**exponent
    suffix: str
    decimals: int


# Ascending thresholds per locale.
UNIT_LADDERS: dict[str, tuple[_Unit, ...]] = {
    "zh-CN": (_Unit(4, 4, "万", 1), _Unit(8, 8, "亿", 2)),
    "en": (_Unit(4, 3, "K", 0), _Unit(6, 6, "M", 3), _Unit(9, 9, "B", 3)),
}


class _NumberRule(NamedTuple):
    scale_exponent: int  # displayed number = value * 10**scale_exponent
    decimals: int  # for laddered kinds: decimals below the first unit
    laddered: bool  # whether 万/亿 or K/M/B/T apply
    signed: bool  # whether a positive value gets an explicit "+"


NUMBER_RULES: dict[str, _NumberRule] = {
    "currency": _NumberRule(0, 2, True, False),
    "amount": _NumberRule(0, 2, True, False),
    "count": _NumberRule(0, 0, True, False),
    "percent": _NumberRule(2, 1, False, False),
    "pct_change": _NumberRule(2, 1, False, True),
    "pp_change": _NumberRule(2, 1, False, True),
    "ratio": _NumberRule(0, 2, False, False),
    "decimal": _NumberRule(0, 1, False, False),
    "duration": _NumberRule(0, 0, False, False),
    "days": _NumberRule(0, 1, False, False),
    "number": _NumberRule(0, 0, False, False),
    # Changes of scores (CSAT, NPS, ROI) are differences in the score's own unit, signed.
    "decimal_change": _NumberRule(0, 1, False, True),
    "ratio_change": _NumberRule(0, 2, False, True),
}
CHANGE_KINDS = ("pct_change", "pp_change", "decimal_change", "ratio_change")
_CALENDAR_KINDS = ("date", "month", "quarter")
KINDS: tuple[str, ...] = (*NUMBER_RULES, *_CALENDAR_KINDS)

# Default percentage-point unit text; pp_label replaces it verbatim.
_PP_SUFFIX: dict[str, str] = {"zh-CN": "个百分点", "en": " pp"}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# format_change kinds -> the format_value kind used for the text. The long
# names are accepted too, since callers naturally reach for them.
_CHANGE_KINDS: dict[str, str] = {"pct": "pct_change", "pp": "pp_change"}
_CHANGE_ALIASES: dict[str, str] = {"pct_change": "pct", "pp_change": "pp"}

# Context for subtract/divide in format_change and duration: 60 digits is far
# beyond a float's 17, so the arithmetic itself never adds a rounding step.
_ARITHMETIC = Context(prec=60, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# Locale handling
# ---------------------------------------------------------------------------


def normalize_locale(value: str | None) -> Locale:
    """Map a locale tag to one of :data:`SUPPORTED_LOCALES`.

    ``None`` (or a blank string) means "not chosen" and gives
    :data:`DEFAULT_LOCALE`. Accepts ``zh``, ``zh-CN``, ``zh_CN``, ``zh-Hans``
    (-> ``"zh-CN"``) and ``en``, ``en-US``, ``en_GB`` ... (-> ``"en"``),
    case-insensitively. Anything else raises ``ValueError``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_LOCALE
    if not isinstance(value, str):
        raise ArgumentError(
            f"locale must be a string, got {value!r}; "
            f"supported locales: {', '.join(SUPPORTED_LOCALES)}"
        )
    key = value.strip().replace("_", "-").lower()
    if key in _LOCALE_ALIASES:
        return _LOCALE_ALIASES[key]
    if _EN_REGION.fullmatch(key):
        return "en"
    raise ArgumentError(
        f"unsupported locale {value!r}; supported locales: "
        f"{', '.join(SUPPORTED_LOCALES)} (aliases: zh, zh_CN, zh-Hans, en-US, en_GB, ...)"
    )


def _locale_from(mapping: Mapping[str, object] | None) -> object:
    return None if mapping is None else mapping.get("locale")


def resolve_locale(
    arg: str | None = None,
    page_meta: Mapping[str, object] | None = None,
    review: Mapping[str, object] | None = None,
    default: str = DEFAULT_LOCALE,
) -> Locale:
    """Pick the locale for one formatted value.

    Precedence: macro argument -> page front matter (``page_meta["locale"]``)
    -> ``review["locale"]`` (the ``extra.review`` block of mkdocs.yml) ->
    ``default``. ``None`` or a blank string at a level means "not set here";
    an unsupported value at the level that wins raises ``ValueError`` rather
    than silently falling through, so typos surface at build time.
    """
    for candidate in (arg, _locale_from(page_meta), _locale_from(review)):
        if candidate is None or (isinstance(candidate, str) and not candidate.strip()):
            continue
        return normalize_locale(candidate)  # type: ignore[arg-type]
    return normalize_locale(default)


# ---------------------------------------------------------------------------
# Input coercion
# ---------------------------------------------------------------------------


def is_missing(value: object) -> bool:
    """True for None, NaN (float/numpy/Decimal), pandas NA/NaT, numpy NaT, ±inf, blank strings."""
    if value is None:
        return True
    # pandas' singletons, matched by type name so pandas need not be imported.
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Decimal):
        return not value.is_finite()
    if isinstance(value, (date, bool)):
        return False
    if isinstance(value, numbers.Number):
        try:
            return not math.isfinite(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return False  # e.g. an int too large for a float: present, not missing
    # numpy.datetime64("NaT") and other NaN-like objects are unequal to themselves.
    try:
        return bool(value != value)
    except Exception:  # arrays, exotic types: treat as present
        return False


def _to_decimal(value: object) -> Decimal | None:
    """Exact-as-displayed Decimal for a number, or None when missing."""
    if is_missing(value):
        return None
    if isinstance(value, Decimal):
        return value
    dtype_kind = getattr(getattr(value, "dtype", None), "kind", None)
    if isinstance(value, (bool, str)) or dtype_kind == "b":
        # Formatting True as "¥1.00" or a raw string would hide a data bug.
        raise TypeError(f"expected a number, got {type(value).__name__} {value!r}")
    if isinstance(value, float):  # includes numpy.float64
        return Decimal(repr(float(value)))
    if isinstance(value, int):
        return Decimal(value)
    if dtype_kind == "f":
        # numpy float32/float16: their own shortest repr ("0.1"), not the
        # widened double ("0.10000000149011612").
        try:
            return Decimal(str(value))
        except InvalidOperation:
            pass
    if hasattr(value, "__index__"):  # numpy integers and other int-likes
        return Decimal(operator.index(value))  # type: ignore[arg-type]
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"expected a number, got {type(value).__name__} {value!r}") from exc
    return Decimal(repr(number))


def _quantize(value: Decimal, decimals: int) -> Decimal:
    """Round half-up to ``decimals`` places with enough precision for any size."""
    digits = max(value.adjusted(), 0) + decimals + 2
    context = Context(prec=max(digits, 28), rounding=ROUND_HALF_UP)
    return value.quantize(Decimal(1).scaleb(-decimals), context=context)


def _round_significant(value: Decimal, digits: int) -> Decimal:
    if value == 0:
        return value
    quantum = Decimal(1).scaleb(value.adjusted() - digits + 1)
    return value.quantize(quantum, context=Context(prec=digits + 2, rounding=ROUND_HALF_UP))


def _with_separators(value: Decimal) -> str:
    # value is already quantized, so "f" only adds grouping, never rounds.
    return f"{value:,f}"


# ---------------------------------------------------------------------------
# Number formatting
# ---------------------------------------------------------------------------


def _natural_level(magnitude: Decimal, base_decimals: int, locale: str) -> int:
    """The unit a magnitude >= 0 takes on its own: an index into UNIT_LADDERS[locale], -1 for
    none (below the first unit)."""
    ladder = UNIT_LADDERS[locale]
    probe = _round_significant(magnitude, UNIT_CHOICE_SIGNIFICANT_DIGITS)
    level = -1
    for index, unit in enumerate(ladder):
        if probe >= Decimal(1).scaleb(unit.threshold):
            level = index
    while True:
        shown = _in_unit(magnitude, base_decimals, locale, level)
        next_level = level + 1
        exponent = ladder[level].exponent if level >= 0 else 0
        if next_level < len(ladder) and shown.scaleb(exponent) >= Decimal(1).scaleb(
            ladder[next_level].threshold
        ):
            level = next_level  # display rounding reached the next threshold
            continue
        return level


def _in_unit(magnitude: Decimal, base_decimals: int, locale: str, level: int) -> Decimal:
    """The magnitude rounded as shown in the unit at ``level`` (-1: no unit)."""
    if level < 0:
        return _quantize(magnitude, base_decimals)
    _, exponent, _, decimals = UNIT_LADDERS[locale][level]
    return _quantize(magnitude.scaleb(-exponent), decimals)


def _to_unit(magnitude: Decimal, base_decimals: int, locale: str, level: int | None = None) -> tuple[Decimal, str]:
    """Return (rounded number in the unit, unit suffix) for a magnitude >= 0: the unit at
    ``level`` when given (a column's or axis' unit), else the magnitude's own."""
    if level is None:
        level = _natural_level(magnitude, base_decimals, locale)
    return _in_unit(magnitude, base_decimals, locale, level), UNIT_LADDERS[locale][level].suffix if level >= 0 else ""


def _unit_level(unit: str, locale: str) -> int:
    suffixes = [u.suffix for u in UNIT_LADDERS[locale]]
    if unit == "":
        return -1
    if unit not in suffixes:
        raise ArgumentError(f"unknown unit {unit!r} for locale {locale}; valid: '' (none), {', '.join(suffixes)}")
    return suffixes.index(unit)


def _rounded_magnitude(number: Decimal, kind: str) -> Decimal:
    """|number| rounded as ``kind`` displays it at its finest step (sign-agnostic zero test)."""
    rule = NUMBER_RULES[kind]
    return _quantize(abs(number).scaleb(rule.scale_exponent), rule.decimals)


def _format_duration(magnitude: Decimal, locale: str) -> str:
    seconds = int(_quantize(magnitude, 0))
    if seconds >= 3600:
        # From one hour up, seconds are noise: show hours and rounded minutes.
        minutes = int(_quantize(_ARITHMETIC.divide(magnitude, Decimal(60)), 0))
        hours, minutes = divmod(minutes, 60)
        parts = [(hours, "小时", "h"), (minutes, "分", "m")]
    else:
        minutes, seconds = divmod(seconds, 60)
        parts = [(minutes, "分", "m"), (seconds, "秒", "s")]
    # Drop zero components ("2分", "1h") but always keep at least one ("0秒").
    kept = [part for part in parts if part[0]] or [parts[-1]]
    if locale == "zh-CN":
        return "".join(f"{amount:,}{zh}" for amount, zh, _ in kept)
    return " ".join(f"{amount:,}{en}" for amount, _, en in kept)


def _format_number(
    number: Decimal, kind: str, locale: str, currency: str, pp_label: str | None, unit: str | None = None
) -> str:
    rule = NUMBER_RULES[kind]
    magnitude = abs(number).scaleb(rule.scale_exponent)

    if kind == "duration":
        is_zero = _quantize(magnitude, 0) == 0
        body = _format_duration(magnitude, locale)
    elif kind == "number":
        is_zero = magnitude == 0
        if magnitude >= 1000:
            shown = _quantize(magnitude, 0)
        else:
            shown = _round_significant(magnitude, NUMBER_SIGNIFICANT_DIGITS)
            shown = shown.normalize() if shown != 0 else Decimal(0)
            if shown == shown.to_integral_value():
                shown = shown.quantize(Decimal(1))
        body = _with_separators(shown)
    else:
        if rule.laddered:
            level = None if unit is None else _unit_level(unit, locale)
            shown, suffix = _to_unit(magnitude, rule.decimals, locale, level)
        else:
            shown, suffix = _quantize(magnitude, rule.decimals), ""
            if shown == 0 and magnitude != 0 and kind == "percent":
                shown = _round_significant(magnitude, SMALL_PERCENT_SIGNIFICANT_DIGITS)
        is_zero = shown == 0
        body = _with_separators(shown) + suffix
        if kind == "currency":
            body = currency_symbol(currency, locale) + body
        elif kind in ("percent", "pct_change"):
            body += "%"
        elif kind == "pp_change":
            body += _PP_SUFFIX[locale] if pp_label is None else pp_label
        elif kind == "days":
            body += "天" if locale == "zh-CN" else " days"

    # Sign after rounding: something that displays as zero carries no sign.
    if is_zero:
        return body
    if number < 0:
        return "-" + body
    return "+" + body if rule.signed else body


# ---------------------------------------------------------------------------
# Calendar formatting
# ---------------------------------------------------------------------------


def _parse_iso(text: str) -> date:
    try:
        return datetime.fromisoformat(text.strip()).date()
    except ValueError as exc:
        raise ArgumentError(f"cannot read {text!r} as an ISO date (YYYY-MM-DD)") from exc


def _to_date(value: object) -> date:
    if isinstance(value, datetime):  # includes pandas.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return _parse_iso(value)
    if type(value).__name__ == "datetime64":  # numpy scalar
        return value.astype("datetime64[D]").item()  # type: ignore[attr-defined]
    if all(hasattr(value, name) for name in ("year", "month", "day")):  # pandas.Period
        return date(int(value.year), int(value.month), int(value.day))  # type: ignore[attr-defined]
    raise TypeError(
        f"expected a date, datetime, Timestamp or ISO string, got {type(value).__name__}"
    )


_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR_QUARTER = re.compile(r"(\d{4})\s*-?\s*Q([1-4])", re.IGNORECASE)


def _year_month(value: object) -> tuple[int, int]:
    if isinstance(value, str):
        match = _YEAR_MONTH.fullmatch(value.strip())
        if match:
            year, month = int(match[1]), int(match[2])
            if not 1 <= month <= 12:
                raise ArgumentError(f"month out of range in {value!r}")
            return year, month
    elif not isinstance(value, date) and all(hasattr(value, n) for n in ("year", "month")):
        return int(value.year), int(value.month)  # type: ignore[attr-defined]  # pandas.Period
    day = _to_date(value)
    return day.year, day.month


def _year_quarter(value: object) -> tuple[int, int]:
    if isinstance(value, str):
        match = _YEAR_QUARTER.fullmatch(value.strip())
        if match:
            return int(match[1]), int(match[2])
    elif hasattr(value, "quarter") and hasattr(value, "year"):  # Timestamp, Period
        return int(value.year), int(value.quarter)  # type: ignore[attr-defined]
    year, month = _year_month(value)
    return year, (month - 1) // 3 + 1


def _format_calendar(value: object, kind: str, locale: str) -> str:
    if kind == "date":
        day = _to_date(value)
        return f"{day.year}年{day.month}月{day.day}日" if locale == "zh-CN" else day.isoformat()
    if kind == "month":
        year, month = _year_month(value)
        return f"{year}年{month}月" if locale == "zh-CN" else f"{_EN_MONTHS[month - 1]} {year}"
    year, quarter = _year_quarter(value)
    return f"{year}年Q{quarter}" if locale == "zh-CN" else f"Q{quarter} {year}"


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------


def _check_kind(kind: str, valid: tuple[str, ...] | list[str], what: str = "kind") -> None:
    if kind in valid:
        return
    close = difflib.get_close_matches(str(kind), list(valid), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ArgumentError(f"unknown {what} {kind!r}; {hint}valid: {', '.join(valid)}")


def format_value(
    value: object,
    kind: str,
    locale: str = DEFAULT_LOCALE,
    *,
    currency: str = "¥",
    pp_label: str | None = None,
    unit: str | None = None,
) -> str:
    """Format one value for display.

    ``kind`` is one of :data:`KINDS`; see the rules table at the top of this
    module. Fractions are expected for ``percent``, ``pct_change`` and
    ``pp_change`` (0.123 -> "12.3%"), seconds for ``duration``. Missing values
    (None, NaN, pandas NA/NaT, ±inf, blank string) give :data:`MISSING`.

    ``currency`` is an ISO 4217 code (symbol from the locale: :func:`currency_symbol`) or
    the symbol itself, prefixed for ``kind="currency"``. ``unit`` fixes the unit of the
    laddered kinds (currency, amount, count): "" for none, else a suffix of the locale's
    ladder (万, 亿; K, M, B); a column or an axis passes its one unit
    (:func:`column_unit`). ``pp_label``
    replaces the percentage-point unit text of ``pp_change`` verbatim
    (default "个百分点" in zh-CN, " pp" in en; pass " pp" to get a space).
    Both are ignored by the other kinds.

    Raises ValueError for an unknown kind/locale or unreadable date string,
    TypeError for a non-numeric value (bool, str) of a numeric kind.
    """
    _check_kind(kind, KINDS)
    loc = normalize_locale(locale)
    if is_missing(value):
        return MISSING
    if kind in _CALENDAR_KINDS:
        return _format_calendar(value, kind, loc)
    number = _to_decimal(value)
    assert number is not None  # missing was handled above
    return _format_number(number, kind, loc, currency, pp_label, unit)


def _levels(values: object, kind: str, locale: str) -> list[int]:
    """The own unit level of each present value that does not display as zero."""
    rule = NUMBER_RULES[kind]
    levels = []
    for value in values:  # type: ignore[attr-defined]
        number = None if is_missing(value) else _to_decimal(value)
        if number is None:
            continue
        magnitude = abs(number).scaleb(rule.scale_exponent)
        level = _natural_level(magnitude, rule.decimals, locale)
        if _in_unit(magnitude, rule.decimals, locale, level) != 0:
            levels.append(level)
    return levels


def column_unit(values: object, kind: str, locale: str = DEFAULT_LOCALE) -> str | None:
    """The one unit of a table column (or any list read side by side): the unit its smallest
    number takes on its own, so that no number of the column rounds away ("¥3,808.69" and
    "¥16,000.00", never "¥3,808.69" above "¥1.6万", nor "¥0.4万"). None for kinds without units
    and for columns with no non-zero number (each value then formats alone)."""
    return _shared_unit(values, kind, locale, min)


def _shared_unit(values: object, kind: str, locale: str, pick) -> str | None:
    """The unit of the level `pick` (min for a column, max for an axis) chooses among the values'."""
    loc = normalize_locale(locale)
    _check_kind(kind, KINDS)
    if kind not in NUMBER_RULES or not NUMBER_RULES[kind].laddered:
        return None
    levels = _levels(values, kind, loc)
    if not levels:
        return None
    level = pick(levels)
    return UNIT_LADDERS[loc][level].suffix if level >= 0 else ""


def axis_unit(values: object, kind: str, locale: str = DEFAULT_LOCALE) -> str | None:
    """The one unit of a chart axis over ``values``: the unit of its largest number (ticks are
    round steps up to about it, so every tick reads well in it: 0, 0.5万, 1万, 1.5万). None for
    kinds without units and axes with no non-zero number."""
    return _shared_unit(values, kind, locale, max)


def format_column(
    values: object,
    kind: str,
    locale: str = DEFAULT_LOCALE,
    *,
    currency: str = "¥",
    pp_label: str | None = None,
) -> list[str]:
    """Format the values of one table column (a total row included) in one unit
    (:func:`column_unit`); otherwise as :func:`format_value`."""
    values = list(values)  # type: ignore[call-overload]
    unit = column_unit(values, kind, locale)
    return [format_value(v, kind, locale, currency=currency, pp_label=pp_label, unit=unit) for v in values]


def format_change(
    current: object,
    base: object,
    kind: str,
    locale: str = DEFAULT_LOCALE,
    *,
    pp_label: str | None = None,
) -> tuple[float | None, str]:
    """Change from ``base`` to ``current`` as ``(raw change, display text)``.

    * ``kind="pct"`` (alias "pct_change"; amounts, counts): ``(current - base) / base``, shown as
      ``pct_change``. Undefined -> ``(None, "—")`` when either side is missing
      or ``base`` is 0. NB: the divisor is ``base`` itself, so a negative base
      flips the sign (-100 -> -50 gives -50.0%).
    * ``kind="pp"`` (alias "pp_change"; rates given as fractions): ``current - base``, shown as
      ``pp_change``; base 0 is fine.

    The difference is computed on the decimal form of the inputs (0.125 -
    0.121 is exactly 0.004), and the text always equals
    ``format_value(change, <kind>, locale)``, so :func:`direction` on the raw
    change agrees with the text.
    """
    kind = _CHANGE_ALIASES.get(kind, kind)
    _check_kind(kind, list(_CHANGE_KINDS))
    loc = normalize_locale(locale)
    now, then = _to_decimal(current), _to_decimal(base)
    if now is None or then is None:
        return None, MISSING
    if kind == "pct":
        if then == 0:
            return None, MISSING
        change = _ARITHMETIC.divide(_ARITHMETIC.subtract(now, then), then)
    else:
        change = _ARITHMETIC.subtract(now, then)
    raw = float(change)
    if not math.isfinite(raw):
        return None, MISSING
    return raw, format_value(raw, _CHANGE_KINDS[kind], loc, pp_label=pp_label)


def direction(change: object, kind: str = "pct_change") -> Literal["up", "down", "flat"] | None:
    """Return "up", "down" or "flat" for a change, or None when it is missing.

    "flat" means the change displays as zero under ``kind``'s rounding (default
    ``pct_change``: |change| < 0.0005 -> "0.0%"), so an arrow never contradicts
    the number next to it. ``kind`` may be any numeric kind, or "pct"/"pp".
    """
    kind = _CHANGE_KINDS.get(kind, kind)
    _check_kind(kind, tuple(NUMBER_RULES), what="numeric kind")
    number = _to_decimal(change)
    if number is None:
        return None
    if _rounded_magnitude(number, kind) == 0:
        return "flat"
    return "up" if number > 0 else "down"


# ---------------------------------------------------------------------------
# Unit names (the definitions page shows readers a word, not the catalogue's unit id)
# ---------------------------------------------------------------------------

_UNIT_LABELS: dict[str, tuple[str, str]] = {
    "currency": ("金额（{currency}）", "Money ({currency})"),
    "amount": ("数量", "Quantity"),
    "count": ("计数", "Count"),
    "percent": ("百分比（变化以百分点计）", "Percent (changes in points)"),
    "ratio": ("比值（倍）", "Ratio (×)"),
    "duration": ("时长", "Duration"),
    "days": ("天数", "Days"),
    "decimal": ("数值", "Number"),
}


def unit_label(unit: str, locale: str = "zh-CN", *, currency: str = "CNY") -> str:
    """A metric unit as readers read it: unit_label("currency", "zh-CN", currency="元") → "金额（元）"."""
    zh, en = _UNIT_LABELS[unit]
    return (zh if normalize_locale(locale) == "zh-CN" else en).format(currency=currency)


def unit_word(word: str) -> str:
    """The text that follows a number whose unit is a word (a metric's unit_text: 分, 小时; points,
    h): a word that begins with a Latin letter is set off by a no-break space, as English writes it
    ("4.05 points", "28.4 h", never "4.05points"); a Chinese unit sticks to the number ("4.05分").
    "" for no word."""
    return "\u00a0" + word if word and _is_latin_letter(word[0]) else word


# ---------------------------------------------------------------------------
# Chart axes
# ---------------------------------------------------------------------------


def axis_label_expr(kind: str, locale: str = "zh-CN", *, currency: str = "¥", unit: str | None = None) -> str:
    """A Vega expression that labels axis ticks with this module's units (万/亿 or K/M/B).

    Axis ticks are already round numbers, so the expression only scales and appends the unit
    from UNIT_LADDERS: ``unit`` (from :func:`axis_unit`) for every tick of the axis, else each
    tick's own. Unlike a value, a tick drops trailing zeros ("~": 5M, 2.5M, not 5.000M): it is a
    round position, and fixed decimals would claim a precision it does not have. Tooltips and
    labels use :func:`format_value` on the server instead.
    """
    locale = normalize_locale(locale)
    _check_kind(kind, KINDS)
    if kind in ("percent", "pct_change", "pp_change"):
        return "format(datum.value, '.1~%')"
    if kind not in ("currency", "amount", "count"):
        return "format(datum.value, ',~r')"
    prefix = currency_symbol(currency, locale) if kind == "currency" else ""
    if unit is not None:
        level = _unit_level(unit, locale)
        if level < 0:
            return f"'{prefix}' + format(datum.value, ',~r')"
        exponent = UNIT_LADDERS[locale][level].exponent
        # Zero is zero in any unit: "0", not "0万".
        return (f"datum.value == 0 ? '{prefix}0' : "
                f"'{prefix}' + format(datum.value / 1e{exponent}, ',~r') + '{unit}'")
    expr = f"'{prefix}' + format(datum.value, ',~r')"
    for ladder_unit in UNIT_LADDERS[locale]:
        scaled = f"format(datum.value / 1e{ladder_unit.exponent}, ',~r')"
        expr = (
            f"abs(datum.value) >= 1e{ladder_unit.threshold} ? '{prefix}' + {scaled} + '{ladder_unit.suffix}' : "
            f"({expr})"
        )
    return expr


# Machine-readable numbers embedded in pages (data-value, sort keys, chart data) keep this many
# significant digits: far beyond what any reader sees, and coarse enough that engines adding
# floating-point numbers in another order (DuckDB, Spark: last-bit differences) embed the same
# text, so the pages are byte-identical. It also keeps the pages light.
EMBED_DIGITS = 8


def embedded_number(value: float) -> float:
    """`value` rounded to EMBED_DIGITS significant digits (whole numbers below 10^8 unchanged)."""
    return float(f"{float(value):.{EMBED_DIGITS}g}")
