"""Table-driven tests for fupan.presentation.fmt.

Every expected string is written out literally (worked out by hand from the
rules table in macros/fmt.py), never produced by the code under test.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from fupan.presentation import fmt

ZH = "zh-CN"
EN = "en"

# (value, kind, locale, expected)
FORMAT_CASES = [
    # --- currency, zh-CN: 亿 2 decimals, 万 1 decimal, below 1万 2 decimals ---
    (123_456_789, "currency", ZH, "¥1.23亿"),
    (1_234_567_890, "currency", ZH, "¥12.35亿"),
    (100_000_000, "currency", ZH, "¥1.00亿"),
    (45_678_000, "currency", ZH, "¥4,567.8万"),
    (12_345, "currency", ZH, "¥1.2万"),
    (15_000, "currency", ZH, "¥1.5万"),
    (9_876.54, "currency", ZH, "¥9,876.54"),
    (987.6, "currency", ZH, "¥987.60"),
    (-123_456_789, "currency", ZH, "-¥1.23亿"),
    (-45_678_000, "currency", ZH, "-¥4,567.8万"),
    (-9_876.54, "currency", ZH, "-¥9,876.54"),
    (0, "currency", ZH, "¥0.00"),
    (0.0, "currency", ZH, "¥0.00"),
    (-0.0, "currency", ZH, "¥0.00"),
    # unit boundaries: unit chosen from the value rounded to 4 significant digits
    (99_995_000, "currency", ZH, "¥1.00亿"),
    (99_994_000, "currency", ZH, "¥9,999.4万"),
    (-99_995_000, "currency", ZH, "-¥1.00亿"),
    (9_999.5, "currency", ZH, "¥1.0万"),
    (9_999.4, "currency", ZH, "¥9,999.40"),
    (10_005, "currency", ZH, "¥1.0万"),
    (9_999, "currency", ZH, "¥9,999.00"),
    (10_000, "currency", ZH, "¥1.0万"),
    (19_699_572, "currency", ZH, "¥1,970.0万"),
    (999_949, "currency", ZH, "¥100.0万"),
    (999_950, "currency", ZH, "¥100.0万"),
    (1e8, "currency", ZH, "¥1.00亿"),
    (1e9, "currency", ZH, "¥10.00亿"),
    # very large / very small
    (1e12, "currency", ZH, "¥10,000.00亿"),
    (1e13, "currency", ZH, "¥100,000.00亿"),
    (0.004, "currency", ZH, "¥0.00"),
    (-0.004, "currency", ZH, "¥0.00"),
    (0.005, "currency", ZH, "¥0.01"),
    (-0.005, "currency", ZH, "-¥0.01"),
    # half-up on the decimal string (binary 2.675 is 2.67499..., round() gives 2.67)
    (2.675, "currency", ZH, "¥2.68"),
    (1.005, "currency", ZH, "¥1.01"),
    (-2.675, "currency", ZH, "-¥2.68"),
    (Decimal("2.675"), "currency", ZH, "¥2.68"),
    # --- currency, en: K from 1e4 (0 decimals of 1e3), M and B 3 decimals, below 1e4 2 decimals ---
    (123_400_000, "currency", EN, "¥123.400M"),
    (45_678, "currency", EN, "¥46K"),
    (45_499, "currency", EN, "¥45K"),
    (9_876.54, "currency", EN, "¥9,876.54"),
    (1_234_567_890, "currency", EN, "¥1.235B"),
    (19_699_572, "currency", EN, "¥19.700M"),
    (987.65, "currency", EN, "¥987.65"),
    (-45_678, "currency", EN, "-¥46K"),
    (-987.65, "currency", EN, "-¥987.65"),
    (0, "currency", EN, "¥0.00"),
    # unit boundaries: 4 significant digits, then the unit's own rounding (999.5K shows 1,000K: M)
    (9_999, "currency", EN, "¥9,999.00"),
    (9_999.4, "currency", EN, "¥9,999.40"),
    (9_999.5, "currency", EN, "¥10K"),
    (10_000, "currency", EN, "¥10K"),
    (999_499, "currency", EN, "¥999K"),
    (999_500, "currency", EN, "¥1.000M"),
    (999_949, "currency", EN, "¥1.000M"),
    (999_950, "currency", EN, "¥1.000M"),
    (999.95, "currency", EN, "¥999.95"),
    (999.94, "currency", EN, "¥999.94"),
    (1e8, "currency", EN, "¥100.000M"),
    (999_949_999, "currency", EN, "¥999.950M"),
    (999_950_000, "currency", EN, "¥1.000B"),
    (1e9, "currency", EN, "¥1.000B"),
    # B is the largest unit (as 亿 is zh's): no T, whose 3 decimals would step by 1e9
    (999_950_000_000, "currency", EN, "¥999.950B"),
    (1e12, "currency", EN, "¥1,000.000B"),
    (1e15, "currency", EN, "¥1,000,000.000B"),
    (0.004, "currency", EN, "¥0.00"),
    (-0.004, "currency", EN, "¥0.00"),
    (2.675, "currency", EN, "¥2.68"),
    # --- amount: currency without the symbol ---
    (123_456_789, "amount", ZH, "1.23亿"),
    (-45_678_000, "amount", ZH, "-4,567.8万"),
    (9_876.54, "amount", ZH, "9,876.54"),
    (0, "amount", ZH, "0.00"),
    (99_995_000, "amount", ZH, "1.00亿"),
    (1e12, "amount", ZH, "10,000.00亿"),
    (-0.004, "amount", ZH, "0.00"),
    (45_678, "amount", EN, "46K"),
    (987.65, "amount", EN, "987.65"),
    (-1_234_567_890, "amount", EN, "-1.235B"),
    (0, "amount", EN, "0.00"),
    (1e12, "amount", EN, "1,000.000B"),
    # --- count: 0 decimals below the first unit ---
    (9_876, "count", ZH, "9,876"),
    (123_456, "count", ZH, "12.3万"),
    (123_456_789, "count", ZH, "1.23亿"),
    (9_999, "count", ZH, "9,999"),
    (9_999.5, "count", ZH, "1.0万"),
    (9_876.5, "count", ZH, "9,877"),
    (-1_234, "count", ZH, "-1,234"),
    (-123_456, "count", ZH, "-12.3万"),
    (0, "count", ZH, "0"),
    (-0.4, "count", ZH, "0"),
    (1e12, "count", ZH, "10,000.00亿"),
    (2_175, "count", ZH, "2,175"),
    (10_000, "count", ZH, "1.0万"),
    (106_484, "count", ZH, "10.6万"),
    (999_949, "count", ZH, "100.0万"),
    (999_950, "count", ZH, "100.0万"),
    (1e8, "count", ZH, "1.00亿"),
    (1e9, "count", ZH, "10.00亿"),
    (987, "count", EN, "987"),
    (2_175, "count", EN, "2,175"),
    (45_700, "count", EN, "46K"),
    (106_484, "count", EN, "106K"),
    (1_200_000, "count", EN, "1.200M"),
    (999, "count", EN, "999"),
    (999.4, "count", EN, "999"),
    (999.5, "count", EN, "1,000"),
    (9_999, "count", EN, "9,999"),
    (9_999.5, "count", EN, "10K"),
    (10_000, "count", EN, "10K"),
    (999_499, "count", EN, "999K"),
    # 999,500 would display "1,000K", so it moves up to M
    (999_500, "count", EN, "1.000M"),
    (999_949, "count", EN, "1.000M"),
    (999_950, "count", EN, "1.000M"),
    (1e8, "count", EN, "100.000M"),
    (1e9, "count", EN, "1.000B"),
    (-45_700, "count", EN, "-46K"),
    (0, "count", EN, "0"),
    (1e12, "count", EN, "1,000.000B"),
    # numpy / pandas scalars
    (np.int64(123_456_789), "count", ZH, "1.23亿"),
    (np.float64(45_678.0), "currency", EN, "¥46K"),
    # --- percent: fraction x100, 1 decimal, same in both locales ---
    (0.123, "percent", ZH, "12.3%"),
    (0.123, "percent", EN, "12.3%"),
    (0.1235, "percent", ZH, "12.4%"),
    (0.1235, "percent", EN, "12.4%"),
    (0.0125, "percent", ZH, "1.3%"),
    (-0.045, "percent", ZH, "-4.5%"),
    (-0.045, "percent", EN, "-4.5%"),
    (0, "percent", ZH, "0.0%"),
    (0, "percent", EN, "0.0%"),
    (-0.0004, "percent", ZH, "-0.040%"),  # tiny but real: two significant digits, never "0.0%"
    (0.0005, "percent", EN, "0.1%"),
    (1.5, "percent", ZH, "150.0%"),
    (12.345, "percent", EN, "1,234.5%"),
    (1e10, "percent", ZH, "1,000,000,000,000.0%"),
    (np.float64(0.1235), "percent", ZH, "12.4%"),
    (np.float32(0.1), "percent", EN, "10.0%"),
    # --- pct_change: signed, no sign on zero ---
    (0.123, "pct_change", ZH, "+12.3%"),
    (0.123, "pct_change", EN, "+12.3%"),
    (-0.045, "pct_change", ZH, "-4.5%"),
    (-0.045, "pct_change", EN, "-4.5%"),
    (0, "pct_change", ZH, "0.0%"),
    (0, "pct_change", EN, "0.0%"),
    (0.0004, "pct_change", ZH, "0.0%"),
    (-0.0004, "pct_change", EN, "0.0%"),
    (0.0005, "pct_change", ZH, "+0.1%"),
    (-0.0005, "pct_change", ZH, "-0.1%"),
    (0.1235, "pct_change", EN, "+12.4%"),
    (25, "pct_change", ZH, "+2,500.0%"),
    # --- pp_change: difference of fractions, x100 ---
    (0.004, "pp_change", ZH, "+0.4个百分点"),
    (0.004, "pp_change", EN, "+0.4 pp"),
    (-0.0123, "pp_change", ZH, "-1.2个百分点"),
    (-0.0123, "pp_change", EN, "-1.2 pp"),
    (0, "pp_change", ZH, "0.0个百分点"),
    (0, "pp_change", EN, "0.0 pp"),
    (-0.00004, "pp_change", ZH, "0.0个百分点"),
    (0.0125, "number", ZH, "0.0125"),
    (1.2345, "decimal_change", ZH, "+1.2"),
    (-0.05, "decimal_change", EN, "-0.1"),
    (0.04, "decimal_change", EN, "0.0"),  # shows as zero: no sign
    (0.0, "decimal_change", ZH, "0.0"),
    (0.125, "ratio_change", ZH, "+0.13"),
    (-1.5, "ratio_change", EN, "-1.50"),
    (1234567.8, "number", EN, "1,234,568"),
    (0.0015, "pp_change", EN, "+0.2 pp"),
    # --- ratio: 2 decimals, separators from 1,000 ---
    (3.456, "ratio", ZH, "3.46"),
    (3.456, "ratio", EN, "3.46"),
    (3.455, "ratio", ZH, "3.46"),
    (1_234.5, "ratio", EN, "1,234.50"),
    (-0.5, "ratio", ZH, "-0.50"),
    (0, "ratio", EN, "0.00"),
    (-0.004, "ratio", ZH, "0.00"),
    (1e12, "ratio", EN, "1,000,000,000,000.00"),
    # --- decimal: 1 decimal with separators ---
    (4.25, "decimal", ZH, "4.3"),
    (4.3, "decimal", EN, "4.3"),
    (1_234.5, "decimal", ZH, "1,234.5"),
    (1_234.5, "decimal", EN, "1,234.5"),
    (-1.25, "decimal", ZH, "-1.3"),
    (-0.04, "decimal", EN, "0.0"),
    (0, "decimal", ZH, "0.0"),
    (1e12, "decimal", ZH, "1,000,000,000,000.0"),
    # --- duration (seconds) ---
    (155, "duration", ZH, "2分35秒"),
    (155, "duration", EN, "2m 35s"),
    (58, "duration", ZH, "58秒"),
    (58, "duration", EN, "58s"),
    (3_720, "duration", ZH, "1小时2分"),
    (3_720, "duration", EN, "1h 2m"),
    (154.5, "duration", ZH, "2分35秒"),
    (58.5, "duration", EN, "59s"),
    (59.5, "duration", ZH, "1分"),
    (120, "duration", EN, "2m"),
    (3_600, "duration", ZH, "1小时"),
    (3_600, "duration", EN, "1h"),
    (3_599.4, "duration", ZH, "59分59秒"),
    (3_599.5, "duration", EN, "1h"),
    (3_689, "duration", ZH, "1小时1分"),
    (3_690, "duration", ZH, "1小时2分"),
    (90_000, "duration", EN, "25h"),
    (0, "duration", ZH, "0秒"),
    (0, "duration", EN, "0s"),
    (-0.4, "duration", ZH, "0秒"),
    (-155, "duration", ZH, "-2分35秒"),
    (-155, "duration", EN, "-2m 35s"),
    # --- days ---
    (36.54, "days", ZH, "36.5天"),
    (36.54, "days", EN, "36.5 days"),
    (36.55, "days", ZH, "36.6天"),
    (0, "days", ZH, "0.0天"),
    (0, "days", EN, "0.0 days"),
    (-2, "days", EN, "-2.0 days"),
    (1_234.5, "days", ZH, "1,234.5天"),
    # --- date ---
    (date(2025, 6, 18), "date", ZH, "2025年6月18日"),
    (date(2025, 6, 18), "date", EN, "2025-06-18"),
    (date(2025, 1, 5), "date", ZH, "2025年1月5日"),
    (date(2025, 1, 5), "date", EN, "2025-01-05"),
    (datetime(2025, 6, 18, 23, 59), "date", ZH, "2025年6月18日"),
    (pd.Timestamp("2025-06-18"), "date", ZH, "2025年6月18日"),
    (pd.Timestamp("2025-06-18 10:30"), "date", EN, "2025-06-18"),
    ("2025-06-18", "date", ZH, "2025年6月18日"),
    ("2025-06-18T10:30:00", "date", EN, "2025-06-18"),
    (np.datetime64("2025-06-18"), "date", ZH, "2025年6月18日"),
    (pd.Period("2025-06-18", freq="D"), "date", EN, "2025-06-18"),
    # --- month ---
    (date(2025, 6, 18), "month", ZH, "2025年6月"),
    (date(2025, 6, 18), "month", EN, "Jun 2025"),
    ("2025-06", "month", ZH, "2025年6月"),
    ("2025-12-01", "month", EN, "Dec 2025"),
    (pd.Timestamp("2025-01-31"), "month", EN, "Jan 2025"),
    (pd.Period("2025-06", freq="M"), "month", ZH, "2025年6月"),
    # --- quarter ---
    (date(2025, 6, 18), "quarter", ZH, "2025年Q2"),
    (date(2025, 6, 18), "quarter", EN, "Q2 2025"),
    (date(2025, 1, 1), "quarter", ZH, "2025年Q1"),
    ("2025Q2", "quarter", EN, "Q2 2025"),
    ("2025-Q3", "quarter", ZH, "2025年Q3"),
    ("2025-11", "quarter", EN, "Q4 2025"),
    (pd.Timestamp("2025-10-01"), "quarter", ZH, "2025年Q4"),
    (pd.Period("2025Q4", freq="Q"), "quarter", EN, "Q4 2025"),
]


@pytest.mark.parametrize(("value", "kind", "locale", "expected"), FORMAT_CASES)
def test_format_value(value, kind, locale, expected):
    assert fmt.format_value(value, kind, locale) == expected


def test_every_kind_is_covered_in_both_locales():
    covered = {(kind, locale) for _, kind, locale, _ in FORMAT_CASES}
    assert covered == {(kind, loc) for kind in fmt.KINDS for loc in (ZH, EN)}


# (value, kind, locale, options, expected)
OPTION_CASES = [
    (1_234.5, "currency", ZH, {"currency": "$"}, "$1,234.50"),
    (2_500_000, "currency", EN, {"currency": "US$"}, "US$2.500M"),
    (-2_500_000, "currency", EN, {"currency": "$"}, "-$2.500M"),
    (0.004, "pp_change", ZH, {"pp_label": "pp"}, "+0.4pp"),
    (-0.004, "pp_change", ZH, {"pp_label": "pp"}, "-0.4pp"),
    (0.004, "pp_change", EN, {"pp_label": "pts"}, "+0.4pts"),
    (0.004, "pp_change", EN, {"pp_label": " ppt"}, "+0.4 ppt"),
    (0, "pp_change", ZH, {"pp_label": "pp"}, "0.0pp"),
    # options that do not apply to a kind are ignored
    (1_234.5, "amount", ZH, {"currency": "$"}, "1,234.50"),
    (0.123, "percent", EN, {"pp_label": "pp"}, "12.3%"),
]


@pytest.mark.parametrize(("value", "kind", "locale", "options", "expected"), OPTION_CASES)
def test_format_value_options(value, kind, locale, options, expected):
    assert fmt.format_value(value, kind, locale, **options) == expected


MISSING_VALUES = [
    pytest.param(None, id="None"),
    pytest.param(float("nan"), id="float-nan"),
    pytest.param(float("inf"), id="inf"),
    pytest.param(float("-inf"), id="-inf"),
    pytest.param(np.nan, id="np.nan"),
    pytest.param(np.float64("nan"), id="np.float64-nan"),
    pytest.param(np.inf, id="np.inf"),
    pytest.param(pd.NA, id="pd.NA"),
    pytest.param(pd.NaT, id="pd.NaT"),
    pytest.param(np.datetime64("NaT"), id="np.NaT"),
    pytest.param(Decimal("NaN"), id="Decimal-NaN"),
    pytest.param("", id="blank"),
]


@pytest.mark.parametrize("locale", [ZH, EN])
@pytest.mark.parametrize("kind", fmt.KINDS)
@pytest.mark.parametrize("value", MISSING_VALUES)
def test_missing_values_render_dash(value, kind, locale):
    assert fmt.format_value(value, kind, locale) == "—"


def test_missing_constant():
    assert fmt.MISSING == "—"


# (value, expected)
IS_MISSING_CASES = [
    (None, True),
    (float("nan"), True),
    (float("-inf"), True),
    (pd.NA, True),
    (pd.NaT, True),
    ("  ", True),
    (0, False),
    (0.0, False),
    (10**400, False),
    (date(2025, 6, 18), False),
    ("2025-06-18", False),
]


@pytest.mark.parametrize(("value", "expected"), IS_MISSING_CASES)
def test_is_missing(value, expected):
    assert fmt.is_missing(value) is expected


# (callable, exception, message fragment)
ERROR_CASES = [
    pytest.param(
        lambda: fmt.format_value(1, "percnt"), ValueError, "did you mean 'percent'", id="typo"
    ),
    pytest.param(
        lambda: fmt.format_value(None, "curency"),
        ValueError,
        "did you mean 'currency'",
        id="typo-even-when-missing",
    ),
    pytest.param(
        lambda: fmt.format_value(1, "bogus"), ValueError, "valid: currency, amount", id="unknown"
    ),
    pytest.param(
        lambda: fmt.format_value(1, "count", "fr"), ValueError, "zh-CN, en", id="bad-locale"
    ),
    pytest.param(
        lambda: fmt.format_value("12", "count"), TypeError, "expected a number", id="num-string"
    ),
    pytest.param(
        lambda: fmt.format_value(True, "count"), TypeError, "expected a number", id="bool"
    ),
    pytest.param(
        lambda: fmt.format_value("18/06/2025", "date"), ValueError, "ISO date", id="bad-date"
    ),
    pytest.param(
        lambda: fmt.format_value("2025-13", "month"), ValueError, "out of range", id="bad-month"
    ),
    pytest.param(
        lambda: fmt.format_value(3.5, "date"), TypeError, "expected a date", id="number-as-date"
    ),
    pytest.param(
        lambda: fmt.format_change(1, 2, "pcts"), ValueError, "did you mean 'pct'", id="change"
    ),
    pytest.param(
        lambda: fmt.direction(0.1, "month"), ValueError, "numeric kind", id="direction-kind"
    ),
]


@pytest.mark.parametrize(("call", "exception", "fragment"), ERROR_CASES)
def test_errors(call, exception, fragment):
    with pytest.raises(exception, match=fragment):
        call()


# --- locales ---------------------------------------------------------------

NORMALIZE_CASES = [
    ("zh", "zh-CN"),
    ("zh-CN", "zh-CN"),
    ("zh_CN", "zh-CN"),
    ("zh-Hans", "zh-CN"),
    ("ZH-cn", "zh-CN"),
    (" zh ", "zh-CN"),
    ("en", "en"),
    ("en-US", "en"),
    ("en_GB", "en"),
    ("EN", "en"),
    (None, "zh-CN"),
]


@pytest.mark.parametrize(("value", "expected"), NORMALIZE_CASES)
def test_normalize_locale(value, expected):
    assert fmt.normalize_locale(value) == expected


@pytest.mark.parametrize("value", ["fr", "zh-TW", "zh-Hant", "english", "de-DE"])
def test_normalize_locale_rejects_unknown(value):
    with pytest.raises(ValueError, match=r"supported locales: zh-CN, en"):
        fmt.normalize_locale(value)


# (arg, page_meta, review, default, expected)
RESOLVE_CASES = [
    (None, None, None, "zh-CN", "zh-CN"),
    (None, None, None, "en", "en"),
    (None, None, {"locale": "en"}, "zh-CN", "en"),
    (None, {"locale": "zh"}, {"locale": "en"}, "en", "zh-CN"),
    ("en_US", {"locale": "zh"}, {"locale": "zh"}, "zh-CN", "en"),
    (None, {"title": "no locale here"}, {"locale": "en-GB"}, "zh-CN", "en"),
    (None, {"locale": None}, {"locale": "en"}, "zh-CN", "en"),
    ("", {"locale": ""}, {}, "en", "en"),
]


@pytest.mark.parametrize(("arg", "page_meta", "review", "default", "expected"), RESOLVE_CASES)
def test_resolve_locale(arg, page_meta, review, default, expected):
    assert fmt.resolve_locale(arg, page_meta, review, default) == expected


def test_resolve_locale_does_not_skip_invalid_values():
    with pytest.raises(ValueError, match="unsupported locale 'fr'"):
        fmt.resolve_locale(None, {"locale": "fr"}, {"locale": "en"})


@pytest.mark.parametrize(("word", "expected"), [
    ("分", "分"),  # a Chinese unit sticks to its number: 4.05分
    ("小时", "小时"),
    ("points", "\u00a0points"),  # an English word does not: 4.05 points
    ("h", "\u00a0h"),
    ("", ""),
])
def test_unit_word(word, expected):
    assert fmt.unit_word(word) == expected


def test_format_value_normalizes_locale():
    assert fmt.format_value(45_678, "currency", "en_US") == "¥46K"
    assert fmt.format_value(45_678, "currency", "zh") == "¥4.6万"


# --- format_change -----------------------------------------------------------

# (current, base, kind, locale, expected raw change, expected text)
CHANGE_CASES = [
    (120, 100, "pct", ZH, 0.2, "+20.0%"),
    (120, 100, "pct", EN, 0.2, "+20.0%"),
    (80, 100, "pct", ZH, -0.2, "-20.0%"),
    (100, 100, "pct", EN, 0.0, "0.0%"),
    (100_040, 100_000, "pct", ZH, 0.0004, "0.0%"),
    (100_050, 100_000, "pct", ZH, 0.0005, "+0.1%"),
    (0, 100, "pct", ZH, -1.0, "-100.0%"),
    # divisor is base itself: a negative base flips the sign (documented)
    (-50, -100, "pct", ZH, -0.5, "-50.0%"),
    (100, 0, "pct", ZH, None, "—"),
    (0, 0, "pct", EN, None, "—"),
    (100, None, "pct", ZH, None, "—"),
    (None, 100, "pct", ZH, None, "—"),
    (float("nan"), 100, "pct", EN, None, "—"),
    (100, pd.NA, "pct", ZH, None, "—"),
    (100, float("inf"), "pct", ZH, None, "—"),
    (np.int64(150), np.int64(100), "pct", EN, 0.5, "+50.0%"),
    # rates -> percentage points; computed on decimals, so exactly 0.004
    (0.125, 0.121, "pp", ZH, 0.004, "+0.4个百分点"),
    (0.125, 0.121, "pp", EN, 0.004, "+0.4 pp"),
    (0.121, 0.125, "pp", ZH, -0.004, "-0.4个百分点"),
    (0.3, 0.3, "pp", EN, 0.0, "0.0 pp"),
    (0.05, 0, "pp", ZH, 0.05, "+5.0个百分点"),
    (0.3, 0.2995, "pp", ZH, 0.0005, "+0.1个百分点"),
    (None, 0.1, "pp", ZH, None, "—"),
    (0.1, np.nan, "pp", EN, None, "—"),
]


@pytest.mark.parametrize(("current", "base", "kind", "locale", "raw", "text"), CHANGE_CASES)
def test_format_change(current, base, kind, locale, raw, text):
    got_raw, got_text = fmt.format_change(current, base, kind, locale)
    assert got_text == text
    if raw is None:
        assert got_raw is None
    else:
        assert got_raw == raw
        assert isinstance(got_raw, float)


def test_format_change_pp_label():
    assert fmt.format_change(0.125, 0.121, "pp", ZH, pp_label="pp") == (0.004, "+0.4pp")


@pytest.mark.parametrize(
    ("kind", "expected"), [("pct_change", (0.2, "+20.0%")), ("pp_change", (20.0, "+2,000.0 pp"))]
)
def test_format_change_accepts_long_kind_names(kind, expected):
    assert fmt.format_change(120, 100, kind, EN) == expected


# --- direction ---------------------------------------------------------------

# (change, kind, expected)
DIRECTION_CASES = [
    (0.05, "pct_change", "up"),
    (-0.05, "pct_change", "down"),
    (0, "pct_change", "flat"),
    (0.0, "pct_change", "flat"),
    (0.0004, "pct_change", "flat"),
    (-0.0004, "pct_change", "flat"),
    (0.0005, "pct_change", "up"),
    (-0.0005, "pct_change", "down"),
    (0.0004, "pp", "flat"),
    (0.002, "pp", "up"),
    (0.0004, "pct", "flat"),
    (0.004, "currency", "flat"),
    (0.005, "currency", "up"),
    (-0.4, "count", "flat"),
    (-0.5, "count", "down"),
    (0.4, "duration", "flat"),
    (None, "pct_change", None),
    (float("nan"), "pct_change", None),
    (pd.NA, "pct_change", None),
    (np.inf, "pct_change", None),
]


@pytest.mark.parametrize(("change", "kind", "expected"), DIRECTION_CASES)
def test_direction(change, kind, expected):
    assert fmt.direction(change, kind) == expected


def test_direction_default_kind_is_pct_change():
    assert fmt.direction(0.0004) == "flat"
    assert fmt.direction(0.01) == "up"


@pytest.mark.parametrize("change", [0.0, 0.00049, -0.00049, 0.0005, -0.0005, 0.0123, -0.3])
def test_direction_agrees_with_displayed_sign(change):
    text = fmt.format_value(change, "pct_change")
    expected = {"+": "up", "-": "down"}.get(text[0], "flat")
    assert fmt.direction(change) == expected


def test_no_pandas_import_needed():
    # The module must stay importable without the data stack: no top-level pandas/numpy.
    import ast
    import pathlib

    tree = ast.parse(pathlib.Path(fmt.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert not imported & {"pandas", "numpy"}


@pytest.mark.parametrize(
    ("value", "kind", "locale", "expected"),
    [
        # A real but tiny rate never reads as zero: two significant digits.
        (0.00023, "percent", "zh-CN", "0.023%"),
        (0.00023, "percent", "en", "0.023%"),
        (-0.0001, "pp_change", "zh-CN", "0.0个百分点"),  # changes keep one decimal
        (0.0001, "pp_change", "en", "0.0 pp"),
        (0.004, "pp_change", "zh-CN", "+0.4个百分点"),
        (0.0, "percent", "zh-CN", "0.0%"),
        # number: up to 4 significant digits, whole from 1,000 up.
        (0.0125, "number", "zh-CN", "0.0125"),
        (0.6566, "number", "zh-CN", "0.6566"),
        (25, "number", "en", "25"),
        (158.0, "number", "zh-CN", "158"),
        (-3.25, "number", "zh-CN", "-3.25"),
        (1234567.8, "number", "zh-CN", "1,234,568"),
        (None, "number", "zh-CN", "—"),
    ],
)
def test_small_percents_and_plain_numbers(value, kind, locale, expected):
    assert fmt.format_value(value, kind, locale) == expected


@pytest.mark.parametrize(("unit", "locale", "currency", "expected"), [
    ("currency", "zh-CN", "元", "金额（元）"),
    ("currency", "en", "CNY", "Money (CNY)"),
    ("percent", "zh-CN", "元", "百分比（变化以百分点计）"),
    ("ratio", "en", "CNY", "Ratio (×)"),
    ("count", "zh-CN", "元", "计数"),
    ("days", "en", "CNY", "Days"),
])
def test_unit_labels(unit: str, locale: str, currency: str, expected: str) -> None:
    assert fmt.unit_label(unit, locale, currency=currency) == expected


def test_every_catalogue_unit_has_a_label() -> None:
    from pathlib import Path

    import yaml

    path = Path(__file__).parents[1] / "macros" / "fupan" / "semantics" / "metrics.yml"
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8"))
    units = {m["unit"] for m in catalogue["metrics"].values()}
    for unit in units:
        assert fmt.unit_label(unit, "zh-CN") and fmt.unit_label(unit, "en")
