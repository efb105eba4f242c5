"""market.csv: yearly sales by category of the brand and four competitors, sized relative to the
brand's own net sales with each competitor's growth (and the shrinking 家居日用 category)."""

from __future__ import annotations

import pathlib

import numpy as np

from fupan.sample.calendar import DAY_YEAR, YEARS
from fupan.sample.helpers import _bool, _money, _rng, _write_csv
from fupan.sample.orders import Aggregates
from fupan.sample.plan import Plan
from fupan.sample.products import CATEGORIES

BRAND = "山野良品"


COMPETITORS = ("林间小铺", "禾田优选", "半山工坊", "小满生活")
# Competitor size relative to us by category (2024) and their yearly growth.
COMPETITOR_SIZE = np.array([
    [2.6, 1.4, 0.8, 0.6], [1.1, 2.2, 0.9, 0.5], [0.9, 1.6, 1.8, 0.7],
    [1.2, 0.9, 0.6, 2.4], [1.5, 1.1, 1.3, 1.9], [0.8, 1.2, 1.6, 1.0],
])
COMPETITOR_GROWTH = np.array([1.06, 1.10, 1.03, 1.22])


def _write_market(plan: Plan, agg: Aggregates, path: pathlib.Path) -> None:
    rng = _rng(plan.seed, 90)
    ours = np.stack([agg.net_dc[DAY_YEAR == y].sum(axis=0) for y in YEARS]) / 100.0
    rows = []
    for yi, year in enumerate(YEARS):
        for c, spec in enumerate(CATEGORIES):
            base = ours[0, c]
            values = [(BRAND, True, ours[yi, c])]
            for k, comp in enumerate(COMPETITORS):
                grow = COMPETITOR_GROWTH[k] ** yi * rng.uniform(0.97, 1.03)
                if spec.name == "家居日用":
                    grow *= 0.92 ** yi  # the whole category shrinks
                values.append((comp, False, base * COMPETITOR_SIZE[c, k] * grow))
            for comp, is_us, sales in values:
                rows.append([str(year), spec.name, comp, _bool(is_us),
                             _money(int(round(sales / 10_000.0)) * 1_000_000)])
    _write_csv(path, ["年度", "品类", "公司", "是否本公司", "销售额"], rows)
