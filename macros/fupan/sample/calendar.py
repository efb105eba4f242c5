"""The sample's calendar: the two years 2024–2025 as day indices (0 = 2024-01-01), the epoch of
the user base, the Spring Festival dates, the marketing campaigns and how they lift daily orders,
the midnight-rush days, and the relative order volume of every day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

FIRST_DAY = dt.date(2024, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)
N_DAYS = (LAST_DAY - FIRST_DAY).days + 1
USER_EPOCH = dt.date(2019, 1, 1)  # the oldest registrations of the user base
PRE_DAYS = (FIRST_DAY - USER_EPOCH).days
DAY0_UNIX = (FIRST_DAY - dt.date(1970, 1, 1)).days
YEARS = (2024, 2025)
US_PER_DAY = 86_400 * 1_000_000

DATES = [FIRST_DAY + dt.timedelta(days=i) for i in range(N_DAYS)]
DAY_YEAR = np.array([d.year for d in DATES], dtype=np.int64)
DAY_MONTH = np.array([(d.year - 2024) * 12 + d.month - 1 for d in DATES], dtype=np.int64)
MONTH_STARTS = [dt.date(y, m, 1) for y in YEARS for m in range(1, 13)]

SPRING_FESTIVAL = {2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29)}


def _day(date: dt.date) -> int:
    """Day index of a date (0 = 2024-01-01)."""
    return (date - FIRST_DAY).days


def _iso(day: int) -> str:
    """ISO date of a day index (may lie outside the two years)."""
    return (FIRST_DAY + dt.timedelta(days=int(day))).isoformat()


@dataclass(frozen=True)
class Campaign:
    """A marketing campaign and how it lifts daily orders."""

    campaign_id: str
    name: str
    start: dt.date
    end: dt.date
    boost: float  # order multiplier on every day of the window
    peaks: tuple[tuple[dt.date, float], ...] = ()  # extra multipliers on the main days
    major: bool = False


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign("CP2401", "2024年货节", dt.date(2024, 1, 8), dt.date(2024, 1, 28), 1.7, major=True),
    Campaign("CP2402", "2024春上新·三八焕新季", dt.date(2024, 3, 1), dt.date(2024, 3, 8), 1.25,
             ((dt.date(2024, 3, 8), 1.3),)),
    Campaign("CP2403", "2024年618年中大促", dt.date(2024, 5, 28), dt.date(2024, 6, 18), 1.35,
             ((dt.date(2024, 6, 1), 1.5), (dt.date(2024, 6, 18), 2.4)), major=True),
    Campaign("CP2404", "2024山野会员日", dt.date(2024, 8, 18), dt.date(2024, 8, 20), 1.3),
    Campaign("CP2405", "2024年99划算节", dt.date(2024, 9, 5), dt.date(2024, 9, 9), 1.2,
             ((dt.date(2024, 9, 9), 1.3),)),
    Campaign("CP2406", "2024年双11狂欢节", dt.date(2024, 11, 1), dt.date(2024, 11, 11), 2.0,
             ((dt.date(2024, 11, 11), 2.8),), major=True),
    Campaign("CP2407", "2024年双12", dt.date(2024, 12, 10), dt.date(2024, 12, 12), 1.3,
             ((dt.date(2024, 12, 12), 1.4),)),
    Campaign("CP2501", "2025年货节", dt.date(2025, 1, 5), dt.date(2025, 1, 18), 1.7, major=True),
    Campaign("CP2502", "2025春上新·三八焕新季", dt.date(2025, 3, 1), dt.date(2025, 3, 8), 1.25,
             ((dt.date(2025, 3, 8), 1.3),)),
    Campaign("CP2503", "2025年618年中大促", dt.date(2025, 5, 28), dt.date(2025, 6, 18), 1.35,
             ((dt.date(2025, 6, 1), 1.5), (dt.date(2025, 6, 18), 2.4)), major=True),
    Campaign("CP2504", "2025山野会员日", dt.date(2025, 8, 18), dt.date(2025, 8, 20), 1.3),
    Campaign("CP2505", "2025年99划算节", dt.date(2025, 9, 5), dt.date(2025, 9, 9), 1.2,
             ((dt.date(2025, 9, 9), 1.3),)),
    Campaign("CP2506", "2025年双11狂欢节", dt.date(2025, 11, 1), dt.date(2025, 11, 11), 2.0,
             ((dt.date(2025, 11, 11), 2.8),), major=True),
    Campaign("CP2507", "2025年双12", dt.date(2025, 12, 10), dt.date(2025, 12, 12), 1.3,
             ((dt.date(2025, 12, 12), 1.4),)),
)
RUSH_DAYS = {_day(dt.date(y, m, d)) for y in YEARS for (m, d) in ((6, 1), (6, 18), (11, 11))}


def _campaign_of_day() -> np.ndarray:
    out = np.full(N_DAYS, -1, dtype=np.int64)
    for k, c in enumerate(CAMPAIGNS):
        out[_day(c.start): _day(c.end) + 1] = k
    return out


def _daily_weights(rng: np.random.Generator) -> np.ndarray:
    """Relative order volume of every day: trend, season, weekday, festivals, campaigns."""
    month_factor = (1.0, 0.95, 0.95, 0.93, 0.97, 1.0, 0.88, 0.9, 1.0, 1.02, 1.05, 1.08)
    w = np.empty(N_DAYS)
    for i, d in enumerate(DATES):
        f = month_factor[d.month - 1] * 1.26 ** (i / 365.0)
        f *= {4: 1.02, 5: 1.07, 6: 1.07}.get(d.weekday(), 1.0)
        k = (d - SPRING_FESTIVAL[d.year]).days
        f *= float(np.interp(k, [-15, -8, -6, 6, 9, 14], [1.0, 0.5, 0.28, 0.28, 0.55, 1.0]))
        w[i] = f
    for c in CAMPAIGNS:
        w[_day(c.start): _day(c.end) + 1] *= c.boost
        for day, mult in c.peaks:
            w[_day(day)] *= mult
    return w * np.exp(rng.normal(0.0, 0.05, N_DAYS))
