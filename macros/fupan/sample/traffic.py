"""traffic.csv and funnel.csv: visitors, page views, sessions, bounces and dwell time per day,
platform and source, scaled from the expected orders by conversion rate (higher on campaign days
and in 2025), and each platform's daily funnel from visitors through add-to-cart to ordering and
paying users."""

from __future__ import annotations

import pathlib

import numpy as np

from fupan.sample.calendar import DAY_YEAR, N_DAYS, _iso
from fupan.sample.channels import CART_RATE, PLATFORM_CR, PLATFORMS, SOURCE_CR, SOURCE_MIX, SOURCES, _platform_shares
from fupan.sample.helpers import _num, _rng, _write_csv
from fupan.sample.orders import Aggregates
from fupan.sample.plan import Plan


def _expected_orders(plan: Plan) -> np.ndarray:
    """Expected orders per day, platform and source (what traffic is scaled from)."""
    shares = _platform_shares(np.arange(N_DAYS))
    return plan.day_orders[:, None, None] * shares[:, :, None] * SOURCE_MIX[None, :, :]


def _write_traffic(plan: Plan, agg: Aggregates, path: pathlib.Path) -> np.ndarray:
    rng = _rng(plan.seed, 30)
    expected = _expected_orders(plan)
    campaign_day = (plan.campaign_of_day >= 0)[:, None, None]
    year_gain = np.where(DAY_YEAR == 2025, 1.06, 1.0)[:, None, None]
    cr = SOURCE_CR[None, None, :] * PLATFORM_CR[None, :, None] * year_gain
    cr = cr * np.where(campaign_day, 1.3, 1.0)
    noise = np.exp(rng.normal(0, 0.06, expected.shape))
    visitors = np.maximum(np.rint(expected / cr * noise).astype(np.int64), 1)
    visitors = np.maximum(visitors, 5 * agg.orders_dps)
    pv_rate = np.array([4.2, 3.6, 3.0, 2.6, 5.1])[None, None, :] * np.exp(
        rng.normal(0, 0.05, expected.shape))
    page_views = np.rint(visitors * pv_rate).astype(np.int64)
    sessions = np.rint(visitors * rng.uniform(1.15, 1.4, expected.shape)).astype(np.int64)
    bounce = np.array([0.32, 0.45, 0.52, 0.48, 0.28])[None, None, :] * rng.uniform(
        0.9, 1.1, expected.shape)
    bounces = np.minimum(np.rint(sessions * bounce).astype(np.int64), sessions)
    dwell = np.array([96.0, 74.0, 52.0, 63.0, 128.0])[None, None, :] * np.array(
        [1.0, 1.05, 0.8, 1.15])[None, :, None] * rng.uniform(0.9, 1.1, expected.shape)
    rows = []
    for d in range(N_DAYS):
        for p in range(len(PLATFORMS)):
            for s in range(len(SOURCES)):
                rows.append([_iso(d), PLATFORMS[p], SOURCES[s], str(visitors[d, p, s]),
                             str(page_views[d, p, s]), str(sessions[d, p, s]),
                             str(bounces[d, p, s]), _num(dwell[d, p, s], 1)])
    _write_csv(path, ["日期", "平台", "流量来源", "访客数", "浏览量", "访问次数", "跳失次数",
                      "平均停留时长秒"], rows)
    return visitors


def _write_funnel(plan: Plan, agg: Aggregates, visitors: np.ndarray, path: pathlib.Path) -> None:
    rng = _rng(plan.seed, 31)
    v = visitors.sum(axis=2)
    cart = np.rint(v * CART_RATE[None, :] * rng.uniform(0.9, 1.1, v.shape)).astype(np.int64)
    cart = np.minimum(np.maximum(cart, agg.order_users_dp), v)
    rows = []
    for d in range(N_DAYS):
        for p in range(len(PLATFORMS)):
            rows.append([_iso(d), PLATFORMS[p], str(v[d, p]), str(cart[d, p]),
                         str(agg.order_users_dp[d, p]), str(agg.paid_users_dp[d, p])])
    _write_csv(path, ["日期", "平台", "访客数", "加购人数", "下单人数", "支付人数"], rows)
