"""Orders and order lines, generated day by day in chunks (one calendar month, split further when
a month holds more than ``CHUNK_ORDERS`` orders) and streamed to orders.parquet and
order_lines.parquet, so memory is bounded by one chunk; every chunk adds to the Aggregates
(per-day, per-user and per-campaign sums, complaint and survey candidates) that the later datasets
are computed from."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from fupan.sample.calendar import (
    CAMPAIGNS,
    DAY0_UNIX,
    DAY_MONTH,
    DAY_YEAR,
    N_DAYS,
    PRE_DAYS,
    RUSH_DAYS,
    US_PER_DAY,
    YEARS,
    _day,
)
from fupan.sample.channels import DEVICE_MIX, DEVICES, DOUYIN, PLATFORMS, REFUND_P, SOURCE_MIX, SOURCES, UNPAID_P
from fupan.sample.helpers import _cum_rows, _id_array, _ParquetStream, _pick, _rng, _take
from fupan.sample.plan import Plan
from fupan.sample.products import CATEGORIES
from fupan.sample.users import CITIES, _acq_platform, _member_code, _sample_returning, _user_city

CHUNK_ORDERS = 250_000  # most orders generated (and held) at once
ORDER_SCHEMA = pa.schema([
    ("订单编号", pa.string()), ("买家ID", pa.string()), ("平台", pa.string()),
    ("流量来源", pa.string()), ("终端", pa.string()), ("下单时间", pa.timestamp("us")),
    ("支付时间", pa.timestamp("us")), ("实付金额", pa.float64()), ("优惠金额", pa.float64()),
    ("退款金额", pa.float64()), ("省份", pa.string()), ("城市", pa.string()),
    ("城市等级", pa.string()), ("活动编号", pa.string()), ("是否用券", pa.bool_()),
])
LINE_SCHEMA = pa.schema([
    ("订单编号", pa.string()), ("行号", pa.int32()), ("商品编码", pa.string()),
    ("数量", pa.int32()), ("成交单价", pa.float64()), ("成交金额", pa.float64()),
    ("退货数量", pa.int32()),
])
HOUR_W = np.array([1.0, 0.5, 0.3, 0.2, 0.15, 0.2, 0.4, 0.8, 1.2, 1.6, 1.9, 2.0,
                   2.1, 1.9, 1.8, 1.8, 1.8, 1.9, 2.1, 2.5, 3.0, 3.3, 2.8, 1.8])
HOUR_CUM = _cum_rows(HOUR_W[None, :])
RUSH_W = HOUR_W.copy()
RUSH_W[0] *= 7.0
RUSH_W[20] *= 2.0
RUSH_CUM = _cum_rows(RUSH_W[None, :])
LINES_CUM = _cum_rows(np.array([[0.36, 0.31, 0.18, 0.09, 0.06], [0.26, 0.31, 0.23, 0.12, 0.08]]))
QTY_CUM = _cum_rows(np.array([[0.55, 0.25, 0.11, 0.05, 0.02, 0.02]]))
COMPLAINT_REASONS = ("物流延迟", "商品破损", "质量问题", "发错货", "描述不符", "临期商品",
                     "客服态度", "退款慢")
COMPLAINT_AREA = (2, 2, 0, 2, 0, 0, 1, 1)  # index into AREAS
COMPLAINT_REASON_CUM = _cum_rows(np.array([[0.22, 0.15, 0.18, 0.07, 0.12, 0.06, 0.08, 0.12]]))
COMPLAINT_P = 0.012
LOGISTICS_FIRST = dt.date(2025, 8, 1)  # the carrier's backlog: extra 物流延迟 complaints
LOGISTICS_LAST = dt.date(2025, 8, 27)
LOGISTICS_P = 0.035
SURVEY_P = 0.02
SURVEY_MAX = 50_000


@dataclass
class Aggregates:
    """Small per-day / per-user aggregates collected while streaming the orders."""

    n_sku: int
    n_users: int
    orders_dps: np.ndarray = field(init=False)
    paid_dps: np.ndarray = field(init=False)
    gmv_dps: np.ndarray = field(init=False)
    refund_dps: np.ndarray = field(init=False)
    order_users_dp: np.ndarray = field(init=False)
    paid_users_dp: np.ndarray = field(init=False)
    units_ds: np.ndarray = field(init=False)
    net_dc: np.ndarray = field(init=False)
    cogs_dc: np.ndarray = field(init=False)
    member_net_d: np.ndarray = field(init=False)
    coupon_paid_d: np.ndarray = field(init=False)
    camp_orders: np.ndarray = field(init=False)
    camp_users: np.ndarray = field(init=False)
    camp_coupons: np.ndarray = field(init=False)
    year_counts: np.ndarray = field(init=False)
    complaints: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    surveys: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n_p, n_s, n_c = len(PLATFORMS), len(SOURCES), len(CAMPAIGNS)
        self.orders_dps = np.zeros((N_DAYS, n_p, n_s), dtype=np.int64)
        self.paid_dps = np.zeros((N_DAYS, n_p, n_s), dtype=np.int64)
        self.gmv_dps = np.zeros((N_DAYS, n_p, n_s), dtype=np.int64)
        self.refund_dps = np.zeros((N_DAYS, n_p, n_s), dtype=np.int64)
        self.order_users_dp = np.zeros((N_DAYS, n_p), dtype=np.int64)
        self.paid_users_dp = np.zeros((N_DAYS, n_p), dtype=np.int64)
        self.units_ds = np.zeros((N_DAYS, self.n_sku), dtype=np.int64)
        self.net_dc = np.zeros((N_DAYS, len(CATEGORIES)), dtype=np.int64)
        self.cogs_dc = np.zeros((N_DAYS, len(CATEGORIES)), dtype=np.int64)
        self.member_net_d = np.zeros(N_DAYS, dtype=np.int64)
        self.coupon_paid_d = np.zeros(N_DAYS, dtype=np.int64)
        self.camp_orders = np.zeros(n_c, dtype=np.int64)
        self.camp_users = np.zeros(n_c, dtype=np.int64)
        self.camp_coupons = np.zeros(n_c, dtype=np.int64)
        # paid orders per user and year, saturating at 255 (buyers, repurchase, new buyers)
        self.year_counts = np.zeros((len(YEARS), self.n_users), dtype=np.uint8)


def _isum(values: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """Exact integer group sums."""
    return np.rint(np.bincount(index, weights=values, minlength=size)).astype(np.int64)


@dataclass(frozen=True)
class Chunk:
    """Orders generated together: whole days of one month, or one part of a very busy day."""

    days: np.ndarray  # distinct days, ascending
    lo: np.ndarray  # first order of each day's segment (position within the day)
    hi: np.ndarray  # end of each day's segment (exclusive)


def _chunk(segments: list[tuple[int, int, int]]) -> Chunk:
    days, lo, hi = (np.array(v, dtype=np.int64) for v in zip(*segments, strict=True))
    return Chunk(days, lo, hi)


def _chunks(plan: Plan) -> list[Chunk]:
    """Consecutive days of one month up to CHUNK_ORDERS orders; busier days split in parts."""
    out: list[Chunk] = []
    for m in range(24):
        cur: list[tuple[int, int, int]] = []
        size = 0
        for d in np.flatnonzero(DAY_MONTH == m):
            n_d = int(plan.day_orders[d])
            if cur and size + n_d > CHUNK_ORDERS:
                out.append(_chunk(cur))
                cur, size = [], 0
            if n_d > CHUNK_ORDERS:
                parts = math.ceil(n_d / CHUNK_ORDERS)
                edges = [n_d * k // parts for k in range(parts + 1)]
                out.extend(_chunk([(int(d), edges[k], edges[k + 1])]) for k in range(parts))
                continue
            cur.append((int(d), 0, n_d))
            size += n_d
        if cur:
            out.append(_chunk(cur))
    return out


def _day_draws(plan: Plan, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Order times (sorted) and first-order flags of a whole day, from the day's own seed.

    Only these few bytes per order are drawn for the whole day, so that a busy day split over
    several chunks still has one time line and exactly its planned number of new buyers.
    """
    n = int(plan.day_orders[d])
    rng = _rng(plan.seed, 1001, d)
    cum = RUSH_CUM[0] if d in RUSH_DAYS else HOUR_CUM[0]  # midnight rush on the big days
    secs = np.sort(_pick(rng.random(n), cum) * 3600 + rng.integers(0, 3600, n))
    is_new = np.zeros(n, dtype=bool)
    is_new[np.argsort(rng.random(n), kind="stable")[: plan.new_users[d]]] = True
    return secs, is_new


def _draw_skus(plan: Plan, days: np.ndarray, line_day: np.ndarray, tag: np.ndarray,
               u: np.ndarray) -> np.ndarray:
    """SKU of each line from the day's demand weights (campaign lines favour the hits)."""
    out = np.empty(len(line_day), dtype=np.int64)
    for d in np.unique(line_day):
        sel = line_day == d
        for cum_table, t in ((plan.wcum, False), (plan.wccum, True)):
            part = sel & (tag == t)
            if part.any():
                cum = cum_table[days[d]]
                out[part] = np.searchsorted(cum, u[part] * cum[-1], side="right")
    return out


def _order_chunk(plan: Plan, chunk: Chunk, agg: Aggregates,
                 orders_out: _ParquetStream, lines_out: _ParquetStream) -> None:
    rng = _rng(plan.seed, 1000, int(chunk.days[0]), int(chunk.lo[0]))
    cat = plan.catalog
    n_sku = len(cat.sku)
    days = chunk.days
    counts = chunk.hi - chunk.lo
    n = int(counts.sum())
    if n == 0:
        return
    nd = len(days)
    local = np.repeat(np.arange(nd), counts)
    day = days[local]

    # Order times and who buys: first orders of newly registered users (user ids in the order
    # they register that day), and repeat orders of existing users.
    secs_parts, new_parts, rank_parts = [], [], []
    for d, lo, hi in zip(days, chunk.lo, chunk.hi, strict=True):
        secs_d, new_d = _day_draws(plan, int(d))
        secs_parts.append(secs_d[lo:hi])
        new_parts.append(new_d[lo:hi])
        rank_parts.append((np.cumsum(new_d) - 1)[lo:hi])
    secs = np.concatenate(secs_parts)
    is_new = np.concatenate(new_parts)
    seq = plan.order_offset[day] + np.concatenate(
        [np.arange(lo, hi) for lo, hi in zip(chunk.lo, chunk.hi, strict=True)])
    base = plan.reg_base[PRE_DAYS + day]
    user = np.empty(n, dtype=np.int64)
    user[is_new] = (base + np.concatenate(rank_parts))[is_new]
    ret = ~is_new
    user[ret] = _sample_returning(rng, plan, day[ret], base[ret])
    member = _member_code(plan, user) > 0
    city = _user_city(plan, user)

    plat = np.empty(n, dtype=np.int64)
    plat[is_new] = _acq_platform(plan, user[is_new])
    plat[ret] = _pick(rng.random(int(ret.sum())), plan.share_cum[day[ret]])
    src = _pick(rng.random(n), _cum_rows(SOURCE_MIX)[plat])
    dev = _pick(rng.random(n), _cum_rows(DEVICE_MIX + 1e-12)[plat])
    paid = rng.random(n) >= UNPAID_P
    delay = np.where(rng.random(n) < 0.85, 1 + np.exp(rng.normal(3.0, 0.8, n)),
                     120 + rng.exponential(600.0, n)).astype(np.int64)
    paid_secs = np.minimum(secs + delay, 86_399)
    camp = plan.campaign_of_day[day]
    tagged = (camp >= 0) & (rng.random(n) < 0.72)
    coupon = rng.random(n) < np.where(tagged, 0.78, 0.22) + 0.08 * member

    # Lines.
    k = 1 + _pick(rng.random(n), LINES_CUM[tagged.astype(np.int64)])
    line_order = np.repeat(np.arange(n), k)
    line_tag = tagged[line_order]
    sku = _draw_skus(plan, days, local[line_order], line_tag, rng.random(len(line_order)))
    for attempt in range(4):  # the same SKU twice in one order: draw again, finally drop
        key = line_order * n_sku + sku
        srt = np.argsort(key, kind="stable")
        dup_sorted = np.zeros(len(key), dtype=bool)
        dup_sorted[1:] = key[srt][1:] == key[srt][:-1]
        dup = np.zeros(len(key), dtype=bool)
        dup[srt[dup_sorted]] = True
        if not dup.any():
            break
        if attempt < 3:
            sku[dup] = _draw_skus(plan, days, local[line_order[dup]], line_tag[dup],
                                  rng.random(int(dup.sum())))
        else:
            line_order, line_tag, sku = line_order[~dup], line_tag[~dup], sku[~dup]
    k = np.bincount(line_order, minlength=n)
    first_line = np.cumsum(k) - k
    m = len(line_order)
    line_no = np.arange(m) - first_line[line_order] + 1
    qty = 1 + _pick(rng.random(m), QTY_CUM[0])
    f = np.where(line_tag, rng.uniform(0.78, 0.90, m), rng.uniform(0.90, 1.0, m))
    f *= np.where(plat[line_order] == DOUYIN, 0.96, 1.0)
    f *= np.where(coupon[line_order], 0.96, 1.0)
    unit = np.clip(np.rint(cat.price[sku] * f).astype(np.int64), 1, cat.price[sku])
    amount = qty * unit
    refund_order = paid & (rng.random(n) < REFUND_P[plat])
    line_ref = refund_order[line_order] & (rng.random(m) < 0.6)
    missing = refund_order & (np.bincount(line_order, weights=line_ref, minlength=n) == 0)
    line_ref[first_line[missing]] = True
    ref_qty = np.where(line_ref, 1 + (rng.random(m) * qty).astype(np.int64), 0)
    order_amount = np.add.reduceat(amount, first_line)
    list_amount = np.add.reduceat(qty * cat.price[sku], first_line)
    refund = np.add.reduceat(ref_qty * unit, first_line)

    # Aggregates of paid orders (paid on the day they are ordered).
    dps = (local * len(PLATFORMS) + plat) * len(SOURCES) + src
    size = nd * len(PLATFORMS) * len(SOURCES)
    shape = (nd, len(PLATFORMS), len(SOURCES))
    agg.orders_dps[days] += np.bincount(dps, minlength=size).reshape(shape)
    agg.paid_dps[days] += np.bincount(dps[paid], minlength=size).reshape(shape)
    agg.gmv_dps[days] += _isum(order_amount[paid], dps[paid], size).reshape(shape)
    agg.refund_dps[days] += _isum(refund[paid], dps[paid], size).reshape(shape)
    # Distinct users per day and platform (summed over the parts of a split day, so a buyer
    # with orders in two parts of one very busy day counts twice there: negligible).
    dp = local * len(PLATFORMS) + plat
    for mask, target in ((np.ones(n, dtype=bool), agg.order_users_dp), (paid, agg.paid_users_dp)):
        uniq = np.unique(dp[mask] * plan.n_users + user[mask])
        target[days] += np.bincount(uniq // plan.n_users,
                                    minlength=nd * len(PLATFORMS)).reshape(nd, -1)
    lp = paid[line_order]
    lday = local[line_order]
    agg.units_ds[days] += _isum(qty[lp], (lday * n_sku + sku)[lp], nd * n_sku).reshape(nd, -1)
    net_line = amount - ref_qty * unit
    cogs_line = (qty - ref_qty) * cat.cost[sku]
    ncat = len(CATEGORIES)
    dc = (lday * ncat + cat.category[sku])[lp]
    agg.net_dc[days] += _isum(net_line[lp], dc, nd * ncat).reshape(nd, -1)
    agg.cogs_dc[days] += _isum(cogs_line[lp], dc, nd * ncat).reshape(nd, -1)
    net_order = order_amount - refund
    agg.member_net_d[days] += _isum(net_order[paid & member], local[paid & member], nd)
    agg.coupon_paid_d[days] += np.bincount(local[paid & coupon], minlength=nd)
    tp = tagged & paid
    n_c = len(CAMPAIGNS)
    agg.camp_orders += np.bincount(camp[tp], minlength=n_c)
    agg.camp_coupons += np.bincount(camp[tp & coupon], minlength=n_c)
    uniq = np.unique(camp[tp] * plan.n_users + user[tp])
    agg.camp_users += np.bincount(uniq // plan.n_users, minlength=n_c)
    for yi, year in enumerate(YEARS):
        sel = paid & (DAY_YEAR[day] == year)
        if sel.any():
            uniq, cnt = np.unique(user[sel], return_counts=True)
            cur = agg.year_counts[yi, uniq].astype(np.int64) + cnt
            agg.year_counts[yi, uniq] = np.minimum(cur, 255).astype(np.uint8)

    # Complaints: a base rate, more around 双11, and the August 2025 carrier backlog.
    p = np.where(DAY_MONTH[day] % 12 == 10, COMPLAINT_P * 1.2, COMPLAINT_P)
    base_c = paid & (rng.random(n) < p)
    reason = _pick(rng.random(int(base_c.sum())), COMPLAINT_REASON_CUM[0])
    lag = np.minimum(1 + rng.geometric(0.3, int(base_c.sum())), 20)
    created = np.minimum(day[base_c] + lag, N_DAYS - 1)
    extra = paid & (day >= _day(LOGISTICS_FIRST)) & (day <= _day(LOGISTICS_LAST))
    extra &= rng.random(n) < LOGISTICS_P
    lag_x = rng.integers(1, 5, int(extra.sum()))
    created_x = np.minimum(day[extra] + lag_x, _day(dt.date(2025, 8, 31)))
    agg.complaints.append((
        np.concatenate([seq[base_c], seq[extra]]),
        np.concatenate([created, created_x]),
        np.concatenate([reason, np.zeros(int(extra.sum()), dtype=np.int64)]),
    ))
    survey_p = min(SURVEY_P, SURVEY_MAX / plan.orders)
    sv = paid & (rng.random(n) < survey_p)
    agg.surveys.append((seq[sv], user[sv], day[sv], np.where(tagged[sv], camp[sv], -1)))

    # Arrow tables.
    ordered_us = (DAY0_UNIX + day) * US_PER_DAY + secs * 1_000_000
    paid_us = (DAY0_UNIX + day) * US_PER_DAY + paid_secs * 1_000_000
    orders_out.write(pa.table([
        _id_array("SO", seq + 1, plan.order_width),
        _id_array("U", user + 1, plan.user_width),
        _take(PLATFORMS, plat),
        _take(SOURCES, src),
        _take(DEVICES, dev),
        pa.array(ordered_us, pa.timestamp("us")),
        pa.array(paid_us, pa.timestamp("us"), mask=~paid),
        pa.array(order_amount / 100.0, pa.float64()),
        pa.array((list_amount - order_amount) / 100.0, pa.float64()),
        pa.array(refund / 100.0, pa.float64()),
        _take([c[0] for c in CITIES], city),
        _take([c[1] for c in CITIES], city),
        _take([c[2] for c in CITIES], city),
        _take([c.campaign_id for c in CAMPAIGNS], np.maximum(camp, 0), mask=~tagged),
        pa.array(coupon, pa.bool_()),
    ], schema=ORDER_SCHEMA))
    lines_out.write(pa.table([
        _id_array("SO", seq[line_order] + 1, plan.order_width),
        pa.array(line_no.astype(np.int32), pa.int32()),
        _take(cat.sku, sku),
        pa.array(qty.astype(np.int32), pa.int32()),
        pa.array(unit / 100.0, pa.float64()),
        pa.array(amount / 100.0, pa.float64()),
        pa.array(ref_qty.astype(np.int32), pa.int32()),
    ], schema=LINE_SCHEMA))
