"""The plan that every dataset shares, fixed by (orders, seed) before any order is drawn: orders
and first-time buyers per day, registrations per day since the user epoch, each day's platform
shares and campaign, the catalogue with its daily SKU weights, and the widths of order and user ids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fupan.sample.calendar import N_DAYS, PRE_DAYS, _campaign_of_day, _daily_weights
from fupan.sample.channels import _platform_shares
from fupan.sample.helpers import _allocate, _cum_rows, _rng
from fupan.sample.products import Catalog, _build_catalog, _sku_weights


@dataclass
class Plan:
    """Everything the chunks share: calendar, catalogue, user registry."""

    seed: int
    orders: int
    catalog: Catalog
    day_orders: np.ndarray
    order_offset: np.ndarray  # global sequence number of each day's first order
    new_users: np.ndarray  # first-time buyers registering each day
    reg_counts: np.ndarray  # registrations per day since USER_EPOCH
    reg_cum: np.ndarray
    reg_base: np.ndarray  # users registered before each day since USER_EPOCH
    n_users: int
    share_cum: np.ndarray  # (days, platforms) cumulative platform shares
    campaign_of_day: np.ndarray
    wcum: np.ndarray
    wccum: np.ndarray
    user_key: int
    order_width: int
    user_width: int


def _build_plan(orders: int, seed: int) -> Plan:
    if orders < 2_000:
        raise ValueError("orders must be at least 2000 for a meaningful sample")
    rng = _rng(seed, 1)
    catalog = _build_catalog(seed)
    day_orders = _allocate(orders, _daily_weights(rng))
    campaign_of_day = _campaign_of_day()
    new_frac = np.where(campaign_of_day >= 0, 0.34, 0.30)
    new_users = np.minimum(day_orders, np.rint(day_orders * new_frac).astype(np.int64))
    n_pre = max(50, int(round(orders * 0.15)))
    pre = _allocate(n_pre, 0.3 + np.arange(PRE_DAYS) / PRE_DAYS)
    reg_counts = np.concatenate([pre, new_users])
    reg_cum = np.cumsum(reg_counts)
    wcum, wccum = _sku_weights(catalog)
    return Plan(
        seed=seed, orders=orders, catalog=catalog, day_orders=day_orders,
        order_offset=np.cumsum(day_orders) - day_orders, new_users=new_users,
        reg_counts=reg_counts, reg_cum=reg_cum, reg_base=reg_cum - reg_counts,
        n_users=int(reg_cum[-1]), share_cum=_cum_rows(_platform_shares(np.arange(N_DAYS))),
        campaign_of_day=campaign_of_day, wcum=wcum, wccum=wccum,
        user_key=int(rng.integers(0, 2**62)), order_width=max(9, len(str(orders))),
        user_width=max(7, len(str(int(reg_cum[-1])))),
    )
