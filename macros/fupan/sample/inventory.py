"""products.csv, inventory.parquet and purchase_orders.csv: the daily stock of every SKU simulated
from the orders' sales with a weekly order-up-to policy, supplier lead times and delays, express
deliveries, expiry and damage write-offs, the planned September 2025 stockout of one hit and the
overstock of the SKUs about to be dropped."""

from __future__ import annotations

import datetime as dt
import math
import pathlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fupan.sample.calendar import DAY0_UNIX, N_DAYS, _day, _iso
from fupan.sample.helpers import _money, _num, _rng, _take, _write_csv, _write_parquet
from fupan.sample.plan import Plan
from fupan.sample.products import CATEGORIES, SLOW_AFTER, STOCKOUT_FIRST, STOCKOUT_LAST, SUPPLIER_LIST


@dataclass
class PurchaseOrder:
    sku: int
    ordered: int
    promised: int
    received: int | None
    units: int
    units_received: int | None


def _simulate_inventory(plan: Plan, units: np.ndarray) -> tuple[dict[str, np.ndarray],
                                                                  list[PurchaseOrder]]:
    """Daily stock per SKU from sales and a weekly order-up-to policy with supplier delays."""
    rng = _rng(plan.seed, 20)
    cat = plan.catalog
    n_sku = len(cat.sku)
    horizon = N_DAYS + 200
    demand = np.zeros((n_sku, horizon))
    demand[:, :N_DAYS] = units.T
    demand[:, N_DAYS:] = units[-56:].T.mean(axis=1, keepdims=True)
    cum = np.concatenate([np.zeros((n_sku, 1)), np.cumsum(demand, axis=1)], axis=1)
    rows = np.arange(n_sku)

    def dsum(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
        return cum[rows, np.minimum(b, horizon)] - cum[rows, np.minimum(a, horizon)]

    lead = np.array([SUPPLIER_LIST[s][2] for s in cat.supplier], dtype=np.int64)
    on_time = np.array([SUPPLIER_LIST[s][3] for s in cat.supplier])
    case = np.where(cat.price >= 10_000, 4, np.where(cat.price >= 4_000, 12, 24))
    active_from = np.maximum(cat.launch, 0)
    food = np.isin(cat.category, [0, 1, 2])
    arrivals = np.zeros((n_sku, horizon + 60), dtype=np.int64)
    on_order = np.zeros(n_sku, dtype=np.int64)
    pos: list[PurchaseOrder] = []
    out = {k: np.zeros((N_DAYS, n_sku), dtype=np.int64)
           for k in ("on_hand", "received", "expired", "damaged")}
    x = cat.stockout
    block = (_day(dt.date(2025, 6, 25)), _day(STOCKOUT_LAST) + 1)
    top_up_day = -1  # set when the last delivery before the stockout lands
    late_po_day = _day(dt.date(2025, 8, 10))
    first_empty = _day(STOCKOUT_FIRST)
    slow = np.zeros(n_sku, dtype=bool)
    slow[cat.slow] = True
    surplus = 0
    slow_day = _day(SLOW_AFTER)

    def place(s: int, d: int, qty: int) -> None:
        late = rng.random() > on_time[s]
        delay = int(rng.integers(1, 8)) if late else -int(rng.random() < 0.1)
        arrive = d + int(lead[s]) + delay
        got = qty if rng.random() > 0.08 else int(qty * rng.uniform(0.85, 0.99))
        got = max(got, 1)
        received = arrive if arrive < N_DAYS else None
        pos.append(PurchaseOrder(s, d, d + int(lead[s]), received, qty,
                                 got if received is not None else None))
        arrivals[s, arrive] += got
        on_order[s] += got

    on_hand = np.where(cat.launch < 0, np.ceil(dsum(0, np.full(n_sku, 45)) * 1.1) + case, 0)
    on_hand = on_hand.astype(np.int64)
    for d in range(N_DAYS):
        for s in np.flatnonzero(cat.launch == d):  # first delivery on launch day
            qty = int(math.ceil((dsum(d, d + 45)[s] * 1.1 + 1) / case[s]) * case[s])
            pos.append(PurchaseOrder(int(s), d - int(lead[s]), d, d, qty, qty))
            arrivals[s, d] += qty
            on_order[s] += qty
        if d == late_po_day:  # the new-crop order that arrives four weeks late
            qty = int(math.ceil(dsum(block[1], block[1] + 50)[x] * 1.15 / case[x]) * case[x])
            pos.append(PurchaseOrder(x, d, _day(dt.date(2025, 8, 28)), block[1], qty, qty))
            arrivals[x, block[1]] += qty
            on_order[x] += qty
        got = arrivals[:, d]
        on_hand += got
        on_order -= got
        out["received"][d] = got
        if block[0] <= d < first_empty and top_up_day < 0:
            # The hit's last delivery before the gap: once it has less than a week of cover,
            # one delivery brings exactly the units it sells until the shelf empties.
            if on_hand[x] < dsum(d, d + 7)[x] or d == first_empty - 7:
                top_up_day = d
                need = int(round(dsum(d, first_empty)[x])) - int(on_hand[x])
                if need > 0:
                    pos.append(PurchaseOrder(x, d - int(lead[x]), d, d, need, need))
                    on_hand[x] += need
                    out["received"][d, x] += need
                else:  # tiny samples only: the minimum stock outlasts the sales, write it off
                    surplus = -need
        sales = units[d]
        short = np.flatnonzero(sales > on_hand)
        for s in short:  # emergency delivery (rare): ordered two days ago, arrives today
            qty = int(math.ceil((sales[s] - on_hand[s] + dsum(d, d + 7)[s]) / case[s]) * case[s])
            pos.append(PurchaseOrder(int(s), d - 2, d, d, qty, qty))
            on_hand[s] += qty
            out["received"][d, s] += qty
        on_hand -= sales
        live = (d >= active_from) & (on_hand > 0)
        live[x] &= not (block[0] <= d < block[1])
        exp_hit = live & food & (rng.random(n_sku) < 0.004)
        expired = np.where(exp_hit, np.maximum(1, np.rint(on_hand * rng.uniform(0.02, 0.08,
                                                                                 n_sku))), 0)
        expired = np.minimum(expired.astype(np.int64), on_hand)
        on_hand -= expired
        dmg_hit = live & (rng.random(n_sku) < 0.003)
        damaged = np.where(dmg_hit, np.maximum(1, np.rint(on_hand * rng.uniform(0.005, 0.02,
                                                                                 n_sku))), 0)
        damaged = np.minimum(damaged.astype(np.int64), on_hand)
        if d == top_up_day and surplus:
            damaged[x] += surplus
        on_hand -= damaged
        out["expired"][d] = expired
        out["damaged"][d] = damaged
        out["on_hand"][d] = on_hand
        # An ordinary SKU that ends the day empty gets an express delivery the next morning.
        empty = (on_hand == 0) & (d >= active_from) & ~(slow & (d > slow_day))
        empty[x] &= not (block[0] <= d < block[1])
        for s in np.flatnonzero(empty):
            qty = int(math.ceil((dsum(d + 1, d + 15)[s] + case[s]) / case[s]) * case[s])
            received = d + 1 if d + 1 < N_DAYS else None
            pos.append(PurchaseOrder(int(s), d, d + 1, received, qty,
                                     qty if received is not None else None))
            arrivals[s, d + 1] += qty
            on_order[s] += qty
        # Weekly review: order up to cover lead time + review period + four weeks.
        due = ((d + rows) % 7 == 0) & (d >= active_from)
        if block[0] <= d < block[1]:
            due[x] = False
        if not due.any():
            continue
        cover = lead + 7 + 14
        need = dsum(d + 1, d + 1 + cover) * 1.05 + 5.0 * dsum(d + 1, d + 29) / 28.0
        past = units[max(0, d - 27): d + 1].mean(axis=0)
        # SKUs about to be dropped are still bought on their past sales: that is the overstock.
        fading = slow & (d >= slow_day - 14)
        need = np.where(fading, past * cover * 1.05 + 5.0 * past, np.maximum(need, case))
        position = on_hand + on_order
        target = need + np.where(fading, past * 28, dsum(d + 1 + cover, d + 29 + cover) + case)
        for s in np.flatnonzero(due & (position < need) & (target > position)):
            qty = int(math.ceil((target[s] - position[s]) / case[s]) * case[s])
            place(int(s), d, qty)
    if out["on_hand"][first_empty - 1, x] != 0 or out["on_hand"][block[1] - 1, x] != 0:
        raise RuntimeError("stockout plan failed: the hit still had stock")
    return out, pos


def _write_products(plan: Plan, path: pathlib.Path) -> None:
    cat = plan.catalog
    rows = []
    for i in range(len(cat.sku)):
        rating = "" if np.isnan(cat.rating[i]) else _num(cat.rating[i], 1)
        rows.append([cat.sku[i], cat.name[i], CATEGORIES[cat.category[i]].name,
                     cat.subcategory[i], _money(cat.price[i]), _money(cat.cost[i]),
                     _iso(cat.launch[i]), rating])
    _write_csv(path, ["商品编码", "商品名称", "品类", "子品类", "标价", "单位成本", "上市日期",
                      "评分"], rows)


def _write_inventory(plan: Plan, stock: dict[str, np.ndarray], path: pathlib.Path) -> None:
    cat = plan.catalog
    active = np.arange(N_DAYS)[:, None] >= np.maximum(cat.launch, 0)[None, :]
    d_idx, s_idx = np.nonzero(active)  # row-major: sorted by date, then SKU
    table = pa.table([
        pa.array((DAY0_UNIX + d_idx).astype(np.int32), pa.date32()),
        _take(cat.sku, s_idx),
        pa.array(stock["on_hand"][d_idx, s_idx], pa.int64()),
        pa.array(stock["received"][d_idx, s_idx], pa.int64()),
        pa.array(stock["expired"][d_idx, s_idx], pa.int64()),
        pa.array(stock["damaged"][d_idx, s_idx], pa.int64()),
    ], names=["日期", "商品编码", "在库数量", "入库数量", "过期报损数量", "破损报损数量"])
    _write_parquet(path, table, ["商品编码"])


def _write_purchase_orders(plan: Plan, pos: list[PurchaseOrder], path: pathlib.Path) -> None:
    cat = plan.catalog
    pos = sorted(pos, key=lambda p: (p.ordered, p.sku, p.promised))
    width = max(6, len(str(len(pos))))
    rows = []
    for i, p in enumerate(pos):
        rows.append([
            f"PO{i + 1:0{width}d}", cat.sku[p.sku], SUPPLIER_LIST[cat.supplier[p.sku]][1],
            _iso(p.ordered), _iso(p.promised), "" if p.received is None else _iso(p.received),
            str(p.units), "" if p.units_received is None else str(p.units_received),
        ])
    _write_csv(path, ["采购单号", "商品编码", "供应商", "下单日期", "承诺到货日期",
                      "实际到货日期", "采购数量", "到货数量"], rows)
