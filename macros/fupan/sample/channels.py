"""Where orders come from: the sales platforms (抖音's share rising over the two years), traffic
sources and devices by platform, refund and unpaid rates, the conversion rates that traffic is
scaled with, and the ad channels with the ROAS, cost per click and click rate they run at."""

from __future__ import annotations

import numpy as np

from fupan.sample.calendar import N_DAYS

PLATFORMS = ("天猫", "京东", "抖音", "小程序")
SOURCES = ("搜索", "推荐", "广告", "社交", "直接访问")
DEVICES = ("App", "小程序", "PC", "H5")
DOUYIN = 2
# Order share of each platform on the first and the last day; linear in between (抖音 rises).
PLATFORM_SHARE_START = np.array([0.46, 0.26, 0.12, 0.16])
PLATFORM_SHARE_END = np.array([0.32, 0.22, 0.34, 0.12])
LEGACY_PLATFORM_SHARE = np.array([0.52, 0.30, 0.06, 0.12])  # acquisition before 2024
SOURCE_MIX = np.array([  # rows: platform; columns: SOURCES
    [0.35, 0.25, 0.20, 0.05, 0.15],
    [0.40, 0.20, 0.20, 0.03, 0.17],
    [0.10, 0.45, 0.30, 0.10, 0.05],
    [0.05, 0.15, 0.10, 0.45, 0.25],
])
DEVICE_MIX = np.array([  # rows: platform; columns: DEVICES
    [0.72, 0.00, 0.15, 0.13],
    [0.70, 0.00, 0.20, 0.10],
    [0.90, 0.00, 0.00, 0.10],
    [0.00, 1.00, 0.00, 0.00],
])
REFUND_P = np.array([0.06, 0.05, 0.10, 0.04])  # share of paid orders with a refund, by platform
UNPAID_P = 0.04
# Traffic: conversion (orders ÷ visitors) by source, and a multiplier by platform.
SOURCE_CR = np.array([0.045, 0.022, 0.028, 0.018, 0.065])
PLATFORM_CR = np.array([1.0, 1.1, 0.75, 1.3])
CART_RATE = np.array([0.095, 0.09, 0.075, 0.11])

AD_CHANNELS = ("直通车", "京东快车", "巨量千川", "微信广告", "百度信息流")
BAIDU = 4
BAIDU_SHARE = 0.12  # share of 天猫 / 京东 / 小程序 ad orders that 百度信息流 claims
# ROAS (ad revenue ÷ spend) each channel runs at, by year. 百度信息流 is the loss maker.
AD_ROAS = {2024: (5.6, 4.9, 4.6, 7.0, 2.9), 2025: (6.1, 5.3, 5.4, 7.6, 2.3)}
AD_CPC = (1.65, 1.45, 0.95, 1.10, 0.80)
AD_CTR = (0.026, 0.022, 0.013, 0.009, 0.008)


def _platform_shares(days: np.ndarray) -> np.ndarray:
    t = np.clip(days / (N_DAYS - 1), 0.0, 1.0)[:, None]
    s = PLATFORM_SHARE_START[None, :] * (1 - t) + PLATFORM_SHARE_END[None, :] * t
    s[days < 0] = LEGACY_PLATFORM_SHARE
    return s
