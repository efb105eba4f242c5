"""Periods (year, quarter, month, custom range) and their comparison periods.

A period is a closed date range. `as_of` clips a period's end so that a review written before
year end compares like-for-like: the comparison period is shifted from the clipped range, so it
covers the same days of the prior year.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fupan.errors import FupanError, Location

COMPARISONS = ("yoy", "prev", "none")
PERIOD_HINT = "write a year (2025), quarter (2025-Q2), month (2025-06) or range (2025-01-01..2025-03-31)"


class PeriodError(FupanError, ValueError):
    """A period or comparison a writer asked for cannot be understood; located at the text
    written (`period='2025-13'`)."""

    def __init__(self, message: str, *, key: str | None = None, hint: str | None = None,
                 file: str | None = None):
        super().__init__(message, location=Location(file, key=key) if key else None, hint=hint)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    grain: str  # year | quarter | month | custom

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> dt.date:
        return self.end + dt.timedelta(days=1)

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def clip(self, as_of: dt.date | None) -> Period:
        if as_of is None or as_of >= self.end:
            return self
        if as_of < self.start:
            raise PeriodError(f"as_of {as_of} is before the period starts ({self.start})",
                              key="extra.review.as_of", file="mkdocs.yml")
        return Period(self.start, as_of, self.grain)


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def parse_period(spec: str | int, as_of: dt.date | None = None) -> Period:
    """'2025', '2025-Q2', '2025-06' or '2025-01-01..2025-03-31', clipped at `as_of`."""
    text = str(spec).strip()
    if m := re.fullmatch(r"(\d{4})", text):
        year = int(m[1])
        period = Period(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")
    elif m := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", text):
        year, q = int(m[1]), int(m[2])
        period = Period(dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q), "quarter")
    elif m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"period {text!r}: month must be 1–12", key=f"period={text!r}")
        period = Period(dt.date(year, month, 1), _month_end(year, month), "month")
    elif m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})", text):
        start, end = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
        if end < start:
            raise PeriodError(f"period {text!r}: the end is before the start", key=f"period={text!r}")
        period = Period(start, end, "custom")
    else:
        raise PeriodError(f"period {text!r} not understood; {PERIOD_HINT}", key=f"period={text!r}",
                          hint=PERIOD_HINT)
    return period.clip(as_of)


def comparison_period(period: Period, comparison: str = "yoy") -> Period | None:
    """The period to compare with: same days of the prior year ('yoy'), the previous period of
    the same grain and length ('prev'), or None ('none')."""
    if comparison in (None, "none"):
        return None
    if comparison == "yoy":
        return Period(_shift_years(period.start, -1), _shift_years(period.end, -1), period.grain)
    if comparison == "prev":
        if period.grain == "year":
            start = _shift_years(period.start, -1)
        elif period.grain in ("quarter", "month"):
            months = 3 if period.grain == "quarter" else 1
            index = period.start.year * 12 + period.start.month - 1 - months
            start = dt.date(index // 12, index % 12 + 1, 1)
        else:
            start = period.start - dt.timedelta(days=period.days)
        # Same number of days as the (possibly clipped) period, inside the previous period.
        full_end = period.start - dt.timedelta(days=1)
        end = min(start + dt.timedelta(days=period.days - 1), full_end)
        return Period(start, end, period.grain)
    raise PeriodError(f"comparison {comparison!r} not understood; use one of {', '.join(COMPARISONS)}",
                      key=f"compare={comparison!r}", hint=f"use one of {', '.join(COMPARISONS)}")


# Data ending this many days or more before the review year does is a partial year: a shop
# without an order on the last day or two of December is not.
PARTIAL_YEAR_GAP_DAYS = 3


def inferred_as_of(last_day: dt.date | None, year: int) -> dt.date | None:
    """The day comparisons stop at when the settings give no `as_of`: the orders' last day, when
    it falls in the review year at least PARTIAL_YEAR_GAP_DAYS before its end; else None."""
    if last_day is None or last_day.year != year:
        return None
    return last_day if (dt.date(year, 12, 31) - last_day).days >= PARTIAL_YEAR_GAP_DAYS else None


def month_keys(period: Period) -> list[str]:
    """'YYYY-MM' of every month the period touches, in order."""
    keys = []
    index = period.start.year * 12 + period.start.month - 1
    last = period.end.year * 12 + period.end.month - 1
    while index <= last:
        keys.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
        index += 1
    return keys


def partial_months(period: Period, data_start: dt.date | None = None) -> dict[int, tuple[int, int]]:
    """The months of `period` that hold only some of their days — cut by the period's end (as_of)
    or by the data's first day — as month number → (first day, last day)."""
    start = max(period.start, data_start) if data_start is not None and data_start <= period.end else period.start
    out: dict[int, tuple[int, int]] = {}
    for day in (start, period.end):
        first = start.day if (day.year, day.month) == (start.year, start.month) else 1
        last = period.end.day if (day.year, day.month) == (period.end.year, period.end.month) \
            else _month_end(day.year, day.month).day
        if first > 1 or last < _month_end(day.year, day.month).day:
            out[day.month] = (first, last)
    return out
