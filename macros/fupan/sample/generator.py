"""Deterministic sample data for fupan: the fictitious brand 山野良品, calendar years 2024–2025.

The generator writes every dataset of ``data/datasets.yml`` (column headers in Chinese, exactly as
the contract names them) for a made-up lifestyle / food / home brand that sells on 天猫, 京东,
抖音 and its own 小程序. The review year of the sample is 2025; 2024 is the comparison year.

Everything is a pure function of ``(orders, seed)``: the same arguments give byte-identical files
on every run (fixed seeds per table and per chunk, sorted rows, fixed number formatting, Parquet
written by pyarrow without pandas metadata or timestamps).

Scale: ``orders`` is the number of orders over the two years. Users and order lines scale with it;
daily and monthly tables (traffic, ads, …) keep their row counts and scale their volumes. Orders
are generated day by day in chunks (one calendar month, split further when a month holds more
than ``CHUNK_ORDERS`` orders) and streamed to Parquet with ``pyarrow.parquet.ParquetWriter``, so
memory is bounded by one chunk plus small per-day and per-user aggregates. User attributes are
derived from a hash of the user index, so users never have to be held in memory either.

Planted patterns (see ``data/README.md`` for the exact facts of the committed sample): campaign
peaks (年货节, 618, 双11), the Spring Festival logistics trough, four hit SKUs on a long tail, a
growing and a declining category, the shift of sales to 抖音, one ad channel with ROI below 1, a
September stockout of one hit, an August complaint spike about 物流延迟, members buying more often,
and a growing team with attrition.

Usage::

    python -m fupan.sample --out data --orders 200000 --seed 2025
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import pathlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# ---- Calendar ---------------------------------------------------------------------------------

BRAND = "山野良品"
FIRST_DAY = dt.date(2024, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)
N_DAYS = (LAST_DAY - FIRST_DAY).days + 1
USER_EPOCH = dt.date(2019, 1, 1)  # the oldest registrations of the user base
PRE_DAYS = (FIRST_DAY - USER_EPOCH).days
DAY0_UNIX = (FIRST_DAY - dt.date(1970, 1, 1)).days
YEARS = (2024, 2025)
DEFAULT_ORDERS = 200_000
DEFAULT_SEED = 2025
CHUNK_ORDERS = 250_000  # most orders generated (and held) at once
ROW_GROUP_ROWS = 500_000  # Parquet row-group size of the streamed tables
USER_CHUNK = 500_000  # users written per batch
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

# ---- Channels ---------------------------------------------------------------------------------

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

CITIES: tuple[tuple[str, str, str, float], ...] = (  # province, city, tier, weight
    ("北京市", "北京", "一线", 5.2), ("上海市", "上海", "一线", 5.6),
    ("广东省", "广州", "一线", 4.4), ("广东省", "深圳", "一线", 4.6),
    ("四川省", "成都", "新一线", 3.6), ("浙江省", "杭州", "新一线", 3.8),
    ("重庆市", "重庆", "新一线", 2.9), ("湖北省", "武汉", "新一线", 2.8),
    ("江苏省", "苏州", "新一线", 2.6), ("陕西省", "西安", "新一线", 2.2),
    ("江苏省", "南京", "新一线", 2.4), ("湖南省", "长沙", "新一线", 2.0),
    ("天津市", "天津", "新一线", 1.9), ("河南省", "郑州", "新一线", 1.8),
    ("广东省", "东莞", "新一线", 1.5), ("山东省", "青岛", "新一线", 1.6),
    ("浙江省", "宁波", "新一线", 1.5), ("安徽省", "合肥", "新一线", 1.5),
    ("云南省", "昆明", "新一线", 1.2), ("广东省", "佛山", "二线", 1.3),
    ("辽宁省", "沈阳", "二线", 1.1), ("江苏省", "无锡", "二线", 1.2),
    ("山东省", "济南", "二线", 1.2), ("福建省", "厦门", "二线", 1.1),
    ("福建省", "福州", "二线", 1.0), ("浙江省", "温州", "二线", 1.0),
    ("黑龙江省", "哈尔滨", "二线", 0.9), ("河北省", "石家庄", "二线", 0.9),
    ("辽宁省", "大连", "二线", 0.9), ("广西壮族自治区", "南宁", "二线", 0.8),
    ("贵州省", "贵阳", "二线", 0.7), ("江西省", "南昌", "二线", 0.8),
    ("山西省", "太原", "二线", 0.7), ("浙江省", "金华", "二线", 0.8),
    ("河南省", "洛阳", "三线及以下", 0.7), ("四川省", "绵阳", "三线及以下", 0.6),
    ("江西省", "赣州", "三线及以下", 0.6), ("广西壮族自治区", "桂林", "三线及以下", 0.5),
    ("湖北省", "宜昌", "三线及以下", 0.6), ("安徽省", "芜湖", "三线及以下", 0.6),
    ("浙江省", "台州", "三线及以下", 0.7), ("江苏省", "盐城", "三线及以下", 0.6),
    ("山东省", "潍坊", "三线及以下", 0.7), ("河北省", "保定", "三线及以下", 0.6),
    ("湖南省", "岳阳", "三线及以下", 0.5), ("甘肃省", "兰州", "三线及以下", 0.5),
)
MEMBER_LEVELS = ("非会员", "普通会员", "银卡会员", "金卡会员")
MEMBER_ACTIVITY = (0.0, 0.25, 0.35, 0.5)  # purchase propensity of members (non-members: hashed)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红文辉宇浩晨欣怡雨轩子涵梓睿思琪佳诺"
    "嘉懿可馨安然梦瑶俊泽博晓宁婷雪慧颖琳志鹏海燕丹凤亮飞鑫瑞悦晴"
)

# ---- Products ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategorySpec:
    """One product category of the catalogue."""

    name: str
    digit: str
    n_skus: int
    cost_ratio: float  # unit cost ÷ list price, on average
    growth: float  # yearly multiplier of the category's share of demand
    variants: tuple[tuple[str, float], ...]
    bases: tuple[tuple[str, str, int], ...]  # subcategory, product name, list price (yuan)


FOOD_VARIANTS = (("", 1.0), ("家庭装", 1.8), ("尝鲜装", 0.6), ("礼盒装", 2.2))
CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("零食坚果", "1", 60, 0.42, 1.10, FOOD_VARIANTS, (
        ("坚果炒货", "每日坚果混合装 750g", 129), ("坚果炒货", "原味夏威夷果 500g", 59),
        ("坚果炒货", "盐焗腰果 400g", 49), ("坚果炒货", "手剥山核桃 350g", 69),
        ("坚果炒货", "奶油碧根果 400g", 55), ("坚果炒货", "原味巴旦木 500g", 45),
        ("坚果炒货", "自然开口开心果 400g", 65), ("坚果炒货", "蟹黄味瓜子仁 300g", 29),
        ("果干蜜饯", "芒果干 400g", 35), ("果干蜜饯", "黄桃果干 300g", 29),
        ("果干蜜饯", "冻干草莓 100g", 39), ("果干蜜饯", "蔓越莓干 400g", 32),
        ("果干蜜饯", "九制话梅 200g", 19), ("肉类零食", "风干牛肉干 250g", 79),
        ("肉类零食", "蜜汁猪肉脯 300g", 45), ("肉类零食", "麻辣鸭脖 400g", 39),
        ("饼干糕点", "全麦苏打饼干 800g", 25), ("饼干糕点", "流心蛋黄酥 6枚", 49),
        ("饼干糕点", "手工桃酥 500g", 29), ("饼干糕点", "坚果能量棒 12支", 39),
        ("零食礼盒", "山野坚果礼盒 1.5kg", 199), ("零食礼盒", "零食大礼包 30包", 169),
    )),
    CategorySpec("茶饮冲调", "2", 45, 0.32, 1.14, FOOD_VARIANTS, (
        ("茶叶", "高山乌龙茶 250g", 168), ("茶叶", "茉莉花茶 200g", 59),
        ("茶叶", "正山小种红茶 250g", 88), ("茶叶", "明前龙井 100g", 238),
        ("茶叶", "福鼎白茶饼 350g", 128), ("茶叶", "云南普洱熟茶 357g", 98),
        ("花草茶", "菊花枸杞茶 30包", 29), ("花草茶", "红豆薏米茶 30包", 25),
        ("花草茶", "桂圆红枣茶 30包", 32), ("花草茶", "蒲公英茶 30包", 28),
        ("咖啡", "冻干咖啡粉 24颗", 89), ("咖啡", "挂耳咖啡 20片", 59),
        ("咖啡", "冷萃咖啡液 14条", 69), ("冲调谷物", "即食燕麦片 1kg", 39),
        ("冲调谷物", "黑芝麻糊 600g", 35), ("冲调谷物", "西湖藕粉 500g", 39),
        ("冲调谷物", "坚果烤麦片 500g", 49),
    )),
    CategorySpec("粮油调味", "3", 50, 0.45, 1.06, FOOD_VARIANTS, (
        ("米面杂粮", "五常稻花香大米 5kg", 89), ("米面杂粮", "东北小米 2.5kg", 29),
        ("米面杂粮", "五谷杂粮组合 2kg", 39), ("米面杂粮", "手工挂面 1kg", 25),
        ("食用油", "山茶油 1L", 168), ("食用油", "冷榨亚麻籽油 500ml", 79),
        ("食用油", "古法花生油 5L", 99), ("调味品", "零添加酱油 1L", 29),
        ("调味品", "山西老陈醋 800ml", 25), ("调味品", "鲜蚝油 700g", 19),
        ("调味品", "牛油火锅底料 500g", 35), ("调味品", "香辣拌饭酱 300g", 22),
        ("调味品", "黑胡椒粒 200g", 19), ("南北干货", "古田香菇 250g", 49),
        ("南北干货", "东北黑木耳 250g", 45), ("南北干货", "新疆灰枣 1kg", 39),
        ("南北干货", "宁夏枸杞 500g", 59),
    )),
    CategorySpec("个护清洁", "4", 50, 0.36, 1.40,
                 (("", 1.0), ("家庭装", 1.9), ("旅行装", 0.55), ("替换装", 0.8)), (
        ("面部洗护", "氨基酸洗面奶 120g", 59), ("身体洗护", "无硅油洗发水 500ml", 69),
        ("身体洗护", "香氛沐浴露 500ml", 59), ("身体洗护", "护手霜 3支", 29),
        ("口腔护理", "益生菌牙膏 3支", 35), ("口腔护理", "软毛牙刷 4支", 19),
        ("衣物清洁", "洗衣凝珠 52颗", 69), ("衣物清洁", "浓缩洗衣液 3kg", 59),
        ("衣物清洁", "内衣洗衣液 500ml", 29), ("衣物清洁", "除菌留香珠 200g", 39),
        ("家庭清洁", "厨房重油污清洁剂 500ml", 25), ("家庭清洁", "洁厕液 2瓶", 19),
        ("家庭清洁", "除螨喷雾 300ml", 39), ("纸品湿巾", "原生木浆抽纸 24包", 49),
        ("纸品湿巾", "一次性洗脸巾 3卷", 29), ("纸品湿巾", "湿厕纸 4包", 25),
    )),
    CategorySpec("家居日用", "5", 55, 0.38, 0.72,
                 (("", 1.0), ("两件套", 1.85), ("升级款", 1.35), ("mini款", 0.7)), (
        ("收纳整理", "折叠收纳箱 3个", 59), ("收纳整理", "真空压缩袋 8件", 39),
        ("收纳整理", "防滑衣架 20个", 29), ("床品布艺", "纯棉四件套 1.8m", 299),
        ("床品布艺", "乳胶枕 1对", 159), ("床品布艺", "长绒棉毛巾 3条", 39),
        ("床品布艺", "纯棉浴巾", 69), ("床品布艺", "夏凉被", 199),
        ("家居香氛", "香薰蜡烛", 79), ("家居香氛", "无火香薰 200ml", 59),
        ("生活日用", "316保温杯 500ml", 99), ("生活日用", "晴雨伞", 69),
        ("生活日用", "居家拖鞋", 39), ("生活日用", "加厚垃圾袋 200只", 19),
        ("生活日用", "桌面小风扇", 89),
    )),
    CategorySpec("厨房用品", "6", 40, 0.40, 0.98,
                 (("", 1.0), ("两件套", 1.85), ("升级款", 1.35), ("mini款", 0.7)), (
        ("锅具", "麦饭石不粘锅 28cm", 199), ("锅具", "铸铁珐琅锅 24cm", 399),
        ("锅具", "陶瓷砂锅 3L", 129), ("刀具砧板", "不锈钢菜刀", 89),
        ("刀具砧板", "刀具五件套", 259), ("刀具砧板", "竹木砧板", 69),
        ("餐具", "釉下彩陶瓷碗 4只", 59), ("餐具", "合金筷子 10双", 39),
        ("餐具", "玻璃便当盒 3件", 49), ("厨房小工具", "玻璃保鲜盒 5件", 69),
        ("厨房小工具", "硅胶锅铲", 29), ("厨房小工具", "不锈钢量杯", 25),
    )),
)
# The four hit products (category, base name) with their target share of net sales, and the hit
# that runs out of stock in September 2025.
HITS = (
    ("零食坚果", "每日坚果混合装 750g", 0.066),
    ("茶饮冲调", "高山乌龙茶 250g", 0.058),
    ("个护清洁", "洗衣凝珠 52颗", 0.056),
    ("粮油调味", "五常稻花香大米 5kg", 0.052),
)
HIT_GROWTH = 1.08  # yearly, on top of their category's trend
STOCKOUT_HIT = "五常稻花香大米 5kg"
STOCKOUT_FIRST = dt.date(2025, 9, 4)  # first day without stock and without sales
STOCKOUT_LAST = dt.date(2025, 9, 24)  # last such day; the delayed delivery lands the day after
HIT_LAUNCH = {"洗衣凝珠 52颗": dt.date(2024, 3, 15)}
SLOW_AFTER = dt.date(2025, 6, 30)  # a few 家居日用 SKUs stop selling after this day
N_SLOW = 8
SUPPLIERS: dict[str, tuple[tuple[str, int, float], ...]] = {  # name, lead days, on-time share
    "零食坚果": (("临安山核桃食品有限公司", 7, 0.90), ("新疆果园农业有限公司", 12, 0.78),
                 ("福建闽南食品有限公司", 8, 0.88)),
    "茶饮冲调": (("武夷山茗香茶业有限公司", 10, 0.86), ("云南高原咖啡有限公司", 14, 0.80),
                 ("杭州西溪食品有限公司", 7, 0.92)),
    "粮油调味": (("黑龙江五常稻香米业有限公司", 9, 0.84), ("山东鲁香油脂有限公司", 8, 0.90),
                 ("四川川味调味品有限公司", 7, 0.91)),
    "个护清洁": (("广州洁雅日化有限公司", 6, 0.93), ("上海清禾生活用品有限公司", 5, 0.95)),
    "家居日用": (("南通家纺实业有限公司", 10, 0.85), ("义乌优品日用有限公司", 6, 0.89)),
    "厨房用品": (("永康厨具制造有限公司", 9, 0.87), ("阳江刀剪有限公司", 11, 0.83)),
}

# ---- Small helpers ----------------------------------------------------------------------------

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1


def _rng(seed: int, *path: int) -> np.random.Generator:
    """An independent random generator for one table or chunk."""
    return np.random.default_rng(np.random.SeedSequence([seed, *path]))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _hash_unif(idx: np.ndarray, key: int, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) for every index, fixed by (key, salt)."""
    offset = np.uint64(((key + salt * 0x632BE59BD9B4E019) * 0xD1B54A32D192ED03) & _MASK64)
    with np.errstate(over="ignore"):
        h = _mix64(idx.astype(np.uint64) * _GOLDEN + offset)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights (largest remainder, stable ties)."""
    share = weights / weights.sum() * total
    base = np.floor(share).astype(np.int64)
    rest = int(total - base.sum())
    if rest:
        order = np.argsort(-(share - base), kind="stable")
        base[order[:rest]] += 1
    return base


def _pick(u: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Categorical draw: u in [0, 1) against rows of cumulative probabilities."""
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[-1] - 1)


def _cum_rows(p: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities with the last column forced to 1."""
    c = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    c[..., -1] = 1.0
    return c


def _id_array(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width ids such as SO000000123 built without Python loops."""
    n = len(numbers)
    head = prefix.encode("ascii")
    w = len(head) + width
    buf = np.empty((n, w), dtype=np.uint8)
    buf[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    x = numbers.astype(np.int64).copy()
    for j in range(width - 1, -1, -1):
        buf[:, len(head) + j] = (x % 10 + 48).astype(np.uint8)
        x //= 10
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(buf.tobytes())
    ).cast(pa.string())


def _ids(prefix: str, numbers: Sequence[int], width: int) -> list[str]:
    """Fixed-width ids as Python strings (small tables)."""
    return [f"{prefix}{int(n):0{width}d}" for n in numbers]


def _take(values: Sequence[str], idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Strings by index (null where mask is True)."""
    return pa.array(list(values), pa.string()).take(pa.array(idx.astype(np.int32), mask=mask))


def _money(cents: int) -> str:
    """Cents as a fixed two-decimal string."""
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}{c // 100}.{c % 100:02d}"


def _num(x: float, digits: int) -> str:
    """A decimal rounded to `digits` places, without trailing zeros ("12.5", "3")."""
    text = f"{round(float(x), digits):.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _write_csv(path: pathlib.Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """UTF-8 CSV, LF line ends, minimal quoting; every value already a string."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


class _ParquetStream:
    """Buffers record batches and writes fixed-size row groups with stable settings."""

    def __init__(self, path: pathlib.Path, schema: pa.Schema, dictionary: Sequence[str]):
        self.schema = schema
        self.writer = pq.ParquetWriter(
            path, schema, compression="zstd", compression_level=3,
            use_dictionary=list(dictionary), write_statistics=True, version="2.6",
            store_schema=True,
        )
        self.buffer: list[pa.Table] = []
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.rows += table.num_rows
        while self.rows >= ROW_GROUP_ROWS:
            merged = pa.concat_tables(self.buffer)
            self.writer.write_table(merged.slice(0, ROW_GROUP_ROWS), row_group_size=ROW_GROUP_ROWS)
            rest = merged.slice(ROW_GROUP_ROWS)
            self.buffer = [rest] if rest.num_rows else []
            self.rows = rest.num_rows

    def close(self) -> None:
        if self.rows:
            self.writer.write_table(pa.concat_tables(self.buffer), row_group_size=ROW_GROUP_ROWS)
        self.writer.close()


def _write_parquet(path: pathlib.Path, table: pa.Table, dictionary: Sequence[str]) -> None:
    stream = _ParquetStream(path, table.schema, dictionary)
    stream.write(table)
    stream.close()


# ---- Catalogue --------------------------------------------------------------------------------


@dataclass
class Catalog:
    """The product master plus the demand model of every SKU."""

    sku: list[str]
    name: list[str]
    category: np.ndarray  # category index
    subcategory: list[str]
    price: np.ndarray  # list price, cents
    cost: np.ndarray  # unit cost, cents
    launch: np.ndarray  # launch day index (negative: before 2024)
    rating: np.ndarray  # nan = no rating yet
    supplier: np.ndarray  # index into SUPPLIER_LIST
    base_weight: np.ndarray  # demand weight per line draw
    hits: list[int]
    stockout: int
    slow: list[int]


SUPPLIER_LIST = [(cat, *s) for cat, items in SUPPLIERS.items() for s in items]


def _price_point(yuan: float) -> int:
    """A shelf price ending in 9 (or 9.9 below 20 yuan), in cents."""
    p = int(round(yuan))
    if p < 20:
        return max(p, 10) * 100 - 10
    return (p // 10 * 10 + 9) * 100


def _build_catalog(seed: int) -> Catalog:
    rng = _rng(seed, 2)
    sku, name, cat, sub, price, cost = [], [], [], [], [], []
    for ci, spec in enumerate(CATEGORIES):
        made = 0
        for variant, mult in spec.variants:
            for subcat, base, yuan in spec.bases:
                if made == spec.n_skus:
                    break
                made += 1
                sku.append(f"SY{spec.digit}{made:03d}")
                name.append(base if not variant else f"{base}（{variant}）")
                cat.append(ci)
                sub.append(subcat)
                p = _price_point(yuan * mult)
                price.append(p)
                ratio = spec.cost_ratio + rng.uniform(-0.05, 0.05)
                cost.append(int(round(p * ratio)))
    n = len(sku)
    category = np.array(cat, dtype=np.int64)
    price_a = np.array(price, dtype=np.int64)
    hits = [name.index(h[1]) for h in HITS]
    stockout = name.index(STOCKOUT_HIT)
    others = np.array([i for i in range(n) if i not in hits])
    # Sales rank of the non-hit SKUs: random, then target shares on a long tail.
    ranked = rng.permutation(others)
    share = np.zeros(n)
    for i, (_, _, s) in enumerate(HITS):
        share[hits[i]] = s
    r_mid = np.arange(len(ranked[:56]))
    mid = 1.0 / (r_mid + 8.0) ** 0.75
    share[ranked[:56]] = mid / mid.sum() * 0.50
    r_tail = np.arange(len(ranked[56:]))
    tail = 1.0 / (r_tail + 12.0) ** 1.1
    share[ranked[56:]] = tail / tail.sum() * (1.0 - 0.50 - sum(h[2] for h in HITS))
    base_weight = share / price_a
    # Launch dates: most SKUs before 2024, some launched in 2024 and 2025.
    launch = np.array(
        [_day(dt.date(2018, 6, 1)) + int(rng.integers(0, 2039)) for _ in range(n)], dtype=np.int64
    )
    tail_pool = np.array([i for i in ranked[30:] if category[i] != 4])
    new24 = rng.choice(tail_pool, size=24, replace=False)
    rest = np.setdiff1d(tail_pool, new24)
    gh_new = [i for i in rest if category[i] == 3][:6]
    new25 = np.concatenate([gh_new, rng.choice(np.setdiff1d(rest, gh_new), 14, replace=False)])
    launch[new24] = rng.integers(_day(dt.date(2024, 2, 1)), _day(dt.date(2024, 12, 1)), 24)
    launch[new25] = rng.integers(_day(dt.date(2025, 1, 10)), _day(dt.date(2025, 10, 20)), 20)
    for i, (_, base, _) in enumerate(HITS):
        default = dt.date(2022, 9, 1) + dt.timedelta(days=97 * i)
        launch[hits[i]] = _day(HIT_LAUNCH.get(base, default))
    rating = np.round(rng.uniform(4.2, 4.9, n) - rng.exponential(0.12, n), 1)
    rating[hits] = [4.9, 4.8, 4.9, 4.8]
    rating[launch > _day(dt.date(2025, 10, 1))] = np.nan
    rating = np.clip(rating, 1.0, 5.0)
    slow_pool = [i for i in ranked[120:] if category[i] == 4 and launch[i] < 0]
    slow = sorted(int(i) for i in slow_pool[:N_SLOW])
    supplier = np.zeros(n, dtype=np.int64)
    for i in range(n):
        options = [k for k, s in enumerate(SUPPLIER_LIST) if s[0] == CATEGORIES[cat[i]].name]
        supplier[i] = options[int(rng.integers(0, len(options)))]
    supplier[stockout] = [k for k, s in enumerate(SUPPLIER_LIST) if "五常" in s[1]][0]
    return Catalog(sku, name, category, sub, price_a, np.array(cost, dtype=np.int64), launch,
                   rating, supplier, base_weight, hits, stockout, slow)


def _sku_weights(cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative demand weights per day: for ordinary lines and for campaign lines."""
    t = (np.arange(N_DAYS) - 365.0) / 365.0
    growth = np.array([c.growth for c in CATEGORIES])
    cat_mult = np.exp(np.log(growth)[None, :] * t[:, None])  # (days, categories)
    w = cat.base_weight[None, :] * cat_mult[:, cat.category]
    days = np.arange(N_DAYS)[:, None]
    ramp = np.clip((days - cat.launch[None, :] + 1) / 45.0, 0.0, 1.0)
    w = w * ramp
    w[_day(STOCKOUT_FIRST): _day(STOCKOUT_LAST) + 1, cat.stockout] = 0.0
    w[_day(SLOW_AFTER) + 1:, cat.slow] = 0.0
    w[:, cat.hits] *= HIT_GROWTH ** t[:, None]
    wc = w.copy()
    wc[:, cat.hits] *= 1.8  # hits are the campaign heroes
    return np.cumsum(w, axis=1), np.cumsum(wc, axis=1)


# ---- Calendar of orders and users ---------------------------------------------------------


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


def _platform_shares(days: np.ndarray) -> np.ndarray:
    t = np.clip(days / (N_DAYS - 1), 0.0, 1.0)[:, None]
    s = PLATFORM_SHARE_START[None, :] * (1 - t) + PLATFORM_SHARE_END[None, :] * t
    s[days < 0] = LEGACY_PLATFORM_SHARE
    return s


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


# ---- Users (attributes are hashes of the user index) ------------------------------------------

SALT_GENDER, SALT_BIRTH, SALT_CITY, SALT_MEMBER, SALT_ACTIVE = 1, 2, 3, 4, 5
SALT_SINCE, SALT_ACQ, SALT_SURNAME, SALT_GIVEN, SALT_BIRTH_NULL = 6, 7, 8, 9, 10
CITY_CUM = np.cumsum([c[3] for c in CITIES]) / sum(c[3] for c in CITIES)
CITY_CUM[-1] = 1.0
MEMBER_CUT = np.array([0.82, 0.92, 0.975])  # hash below 0.82: 非会员, … above 0.975: 金卡会员


def _reg_day(plan: Plan, idx: np.ndarray) -> np.ndarray:
    """Registration day of users, counted from USER_EPOCH."""
    return np.searchsorted(plan.reg_cum, idx, side="right")


def _member_code(plan: Plan, idx: np.ndarray) -> np.ndarray:
    return np.searchsorted(MEMBER_CUT, _hash_unif(idx, plan.user_key, SALT_MEMBER), side="right")


def _user_city(plan: Plan, idx: np.ndarray) -> np.ndarray:
    return np.searchsorted(CITY_CUM, _hash_unif(idx, plan.user_key, SALT_CITY), side="right")


def _acq_platform(plan: Plan, idx: np.ndarray) -> np.ndarray:
    reg = _reg_day(plan, idx) - PRE_DAYS
    cum = _cum_rows(_platform_shares(reg))
    return _pick(_hash_unif(idx, plan.user_key, SALT_ACQ), cum)


def _user_weight(plan: Plan, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Chance that a drawn existing user places the order: activity × recency."""
    code = _member_code(plan, idx)
    u = _hash_unif(idx, plan.user_key, SALT_ACTIVE)
    act = np.where(code == 0, 0.03 + 0.3 * u * u, np.take(MEMBER_ACTIVITY, code))
    age = (day + PRE_DAYS - _reg_day(plan, idx)).astype(np.float64)
    return act * (0.25 + 0.75 * np.exp(-age / 300.0))


def _sample_returning(
    rng: np.random.Generator, plan: Plan, day: np.ndarray, base: np.ndarray
) -> np.ndarray:
    """Existing users for repeat orders: uniform draws, accepted by weight."""
    out = np.empty(len(day), dtype=np.int64)
    todo = np.arange(len(day))
    while todo.size:
        cand = np.minimum((rng.random(todo.size) * base[todo]).astype(np.int64), base[todo] - 1)
        accept = rng.random(todo.size) < _user_weight(plan, cand, day[todo])
        out[todo[accept]] = cand[accept]
        todo = todo[~accept]
    return out


def _given_names(seed: int) -> list[str]:
    rng = _rng(seed, 3)
    chars = list(GIVEN_CHARS)
    names = [c for c in chars if c not in "子一可安然"]  # single characters that read oddly alone
    pairs = rng.integers(0, len(chars), size=(1600, 2))
    names += [chars[a] + chars[b] for a, b in pairs if a != b]
    return names


USER_SCHEMA = pa.schema([
    ("买家ID", pa.string()), ("姓名", pa.string()), ("手机号", pa.string()),
    ("性别", pa.string()), ("出生年份", pa.int32()), ("省份", pa.string()),
    ("城市", pa.string()), ("城市等级", pa.string()), ("注册日期", pa.date32()),
    ("获客渠道", pa.string()), ("会员等级", pa.string()), ("入会日期", pa.date32()),
])


def _user_table(plan: Plan, idx: np.ndarray, given: list[str]) -> pa.Table:
    key = plan.user_key
    reg = _reg_day(plan, idx)
    city = _user_city(plan, idx)
    code = _member_code(plan, idx)
    weights = 1.0 / (np.arange(len(SURNAMES)) + 8.0)
    sur_cum = np.cumsum(weights) / weights.sum()
    sur_cum[-1] = 1.0
    sur = np.searchsorted(sur_cum, _hash_unif(idx, key, SALT_SURNAME), side="right")
    giv = (_hash_unif(idx, key, SALT_GIVEN) * len(given)).astype(np.int64)
    names = pc.binary_join_element_wise(_take(SURNAMES, sur), _take(given, giv), "")
    phone = _id_array("100", (idx * 48271 + 12345678) % 100_000_000, 8)
    g = _hash_unif(idx, key, SALT_GENDER)
    gender = np.where(g < 0.58, 0, np.where(g < 0.93, 1, 2))
    # birth year: roughly normal around 1991 (sum of uniforms), some left blank
    z = sum(_hash_unif(idx, key, SALT_BIRTH + 100 * k) for k in range(3)) - 1.5
    birth = np.clip(np.rint(1991 + 15.0 * z), 1958, 2007).astype(np.int32)
    birth_null = _hash_unif(idx, key, SALT_BIRTH_NULL) < 0.09
    acq = _acq_platform(plan, idx)
    end = PRE_DAYS + N_DAYS - 1
    span = np.minimum(400, end - reg)
    since = reg + (_hash_unif(idx, key, SALT_SINCE) * (span + 1)).astype(np.int64)
    epoch = (USER_EPOCH - dt.date(1970, 1, 1)).days
    return pa.table([
        _id_array("U", idx + 1, plan.user_width),
        names,
        phone,
        _take(("女", "男", "未知"), gender),
        pa.array(birth, pa.int32(), mask=birth_null),
        _take([c[0] for c in CITIES], city),
        _take([c[1] for c in CITIES], city),
        _take([c[2] for c in CITIES], city),
        pa.array((reg + epoch).astype(np.int32), pa.date32()),
        _take(PLATFORMS, acq),
        _take(MEMBER_LEVELS, code),
        pa.array((since + epoch).astype(np.int32), pa.date32(), mask=code == 0),
    ], schema=USER_SCHEMA)


def _write_users(plan: Plan, path: pathlib.Path) -> None:
    given = _given_names(plan.seed)
    stream = _ParquetStream(path, USER_SCHEMA, ["性别", "省份", "城市", "城市等级", "获客渠道",
                                                "会员等级"])
    for lo in range(0, plan.n_users, USER_CHUNK):
        idx = np.arange(lo, min(plan.n_users, lo + USER_CHUNK), dtype=np.int64)
        stream.write(_user_table(plan, idx, given))
    stream.close()


# ---- Orders (streamed by chunk) ---------------------------------------------------------------

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


# ---- Inventory and purchase orders -----------------------------------------------------------


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


# ---- Generation ---------------------------------------------------------------------------


def generate(out_dir: pathlib.Path, orders: int = DEFAULT_ORDERS,
             seed: int = DEFAULT_SEED) -> dict[str, pathlib.Path]:
    """Write every dataset of the sample company into `out_dir`; return name → path.

    `orders` is the number of orders over 2024–2025 (users and lines scale with it); `seed` fixes
    every random draw, so the same arguments always give byte-identical files.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = _build_plan(orders, seed)
    paths: dict[str, pathlib.Path] = {}

    def path(name: str, file: str) -> pathlib.Path:
        paths[name] = out_dir / file
        return paths[name]

    _write_users(plan, path("users", "users.parquet"))
    agg = Aggregates(len(plan.catalog.sku), plan.n_users)
    orders_out = _ParquetStream(path("orders", "orders.parquet"), ORDER_SCHEMA,
                                ["平台", "流量来源", "终端", "省份", "城市", "城市等级",
                                 "活动编号"])
    lines_out = _ParquetStream(path("order_lines", "order_lines.parquet"), LINE_SCHEMA,
                               ["商品编码"])
    for chunk in _chunks(plan):
        _order_chunk(plan, chunk, agg, orders_out, lines_out)
    orders_out.close()
    lines_out.close()

    stock, pos = _simulate_inventory(plan, agg.units_ds)
    _write_products(plan, path("products", "products.csv"))
    _write_inventory(plan, stock, path("inventory", "inventory.parquet"))
    _write_purchase_orders(plan, pos, path("purchase_orders", "purchase_orders.csv"))
    visitors = _write_traffic(plan, agg, path("traffic", "traffic.csv"))
    _write_funnel(plan, agg, visitors, path("funnel", "funnel.csv"))
    ads = _write_ad_channels(plan, agg, path("ad_channels", "ad_channels.csv"))
    _write_keywords(plan, ads, path("keywords", "keywords.csv"))
    _write_campaigns(plan, agg, ads, path("campaigns", "campaigns.csv"))
    _write_loyalty(plan, agg, path("loyalty", "loyalty.csv"))
    survey = _write_surveys(plan, agg, path("survey_responses", "survey_responses.csv"))
    n_complaints = _write_complaints(plan, agg, path("complaints", "complaints.csv"))
    followers = _write_social(plan, path("social_posts", "social_posts.csv"),
                              path("social_followers", "social_followers.csv"))
    _write_team(plan, path("team_members", "team_members.csv"),
                path("assessments", "assessments.csv"), path("training", "training.csv"),
                path("hiring_plan", "hiring_plan.csv"))
    _write_market(plan, agg, path("market", "market.csv"))
    actual = _actuals(plan, agg, visitors, ads, survey, n_complaints, stock, followers)
    _write_targets(actual, path("targets", "targets.csv"))
    _write_initiatives(actual, path("initiatives", "initiatives.csv"))
    return paths


# ---- Small tables ---------------------------------------------------------------------------


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


@dataclass
class AdData:
    """Daily ad figures per channel (cents for money)."""

    impressions: np.ndarray
    clicks: np.ndarray
    conversions: np.ndarray
    spend: np.ndarray
    revenue: np.ndarray


def _write_ad_channels(plan: Plan, agg: Aggregates, path: pathlib.Path) -> AdData:
    rng = _rng(plan.seed, 40)
    ad = SOURCES.index("广告")
    gmv = agg.gmv_dps[:, :, ad].astype(np.float64)  # paid GMV of ad-sourced orders
    cnt = agg.paid_dps[:, :, ad].astype(np.float64)
    n_ch = len(AD_CHANNELS)
    rev = np.zeros((N_DAYS, n_ch))
    conv = np.zeros((N_DAYS, n_ch))
    for p, ch in ((0, 0), (1, 1), (2, 2), (3, 3)):
        share = 1.0 if p == DOUYIN else 1.0 - BAIDU_SHARE
        rev[:, ch] = gmv[:, p] * share
        conv[:, ch] = cnt[:, p] * share
        if p != DOUYIN:
            rev[:, BAIDU] += gmv[:, p] * BAIDU_SHARE
            conv[:, BAIDU] += cnt[:, p] * BAIDU_SHARE
    rev = np.rint(rev * rng.uniform(0.97, 1.05, rev.shape)).astype(np.int64)
    conv = np.rint(conv).astype(np.int64)
    kernel = np.ones(7) / 7.0
    roas = np.array([AD_ROAS[int(y)] for y in DAY_YEAR])
    smooth = np.stack([np.convolve(np.pad(rev[:, c].astype(float), 3, mode="edge"), kernel,
                                   mode="valid") for c in range(n_ch)], axis=1)
    spend = np.rint(smooth / roas * np.exp(rng.normal(0, 0.08, rev.shape))).astype(np.int64)
    spend = np.maximum(spend, 100)
    clicks = np.rint(spend / (np.array(AD_CPC) * 100) * rng.uniform(0.92, 1.08, rev.shape))
    clicks = np.maximum(clicks.astype(np.int64), conv)
    impressions = np.rint(clicks / np.array(AD_CTR) * rng.uniform(0.9, 1.1, rev.shape))
    impressions = np.maximum(impressions.astype(np.int64), clicks)
    rows = []
    for d in range(N_DAYS):
        for c in range(n_ch):
            rows.append([_iso(d), AD_CHANNELS[c], str(impressions[d, c]), str(clicks[d, c]),
                         str(conv[d, c]), _money(spend[d, c]), _money(rev[d, c])])
    _write_csv(path, ["日期", "广告渠道", "展现量", "点击量", "转化数", "花费", "成交金额"], rows)
    return AdData(impressions, clicks, conv, spend, rev)


KEYWORDS: tuple[tuple[str, str, float], ...] = tuple(  # channel, keyword, ROAS multiplier
    (channel, keyword, mult)
    for channel, words in (
        ("直通车", (("山野良品", 2.6), ("每日坚果", 1.3), ("坚果礼盒", 1.1), ("乌龙茶", 1.2),
                    ("洗衣凝珠", 1.25), ("五常大米", 1.15), ("零食大礼包", 0.22),
                    ("年货礼盒", 0.8), ("冻干咖啡", 0.9), ("山茶油", 0.85), ("纯棉四件套", 0.5),
                    ("不粘锅", 0.6), ("山核桃", 1.05))),
        ("京东快车", (("山野良品", 2.4), ("混合坚果", 1.1), ("大米5kg", 1.2), ("零添加酱油", 0.9),
                      ("浓缩洗衣液", 0.8), ("抽纸", 0.35), ("保温杯", 0.6), ("茶叶礼盒", 1.0),
                      ("燕麦片", 0.75), ("刀具套装", 0.55), ("牛肉干", 0.9))),
        ("巨量千川", (("坚果零食", 1.1), ("氨基酸洗面奶", 1.2), ("洗衣凝珠留香", 1.4),
                      ("冻干咖啡粉", 0.9), ("牛肉干", 0.8), ("香薰蜡烛", 0.3), ("火锅底料", 0.7),
                      ("芒果干", 0.85))),
        ("百度信息流", (("健康零食", 1.2), ("年货送礼", 1.0), ("家居好物", 0.6), ("厨房神器", 0.7),
                        ("茶叶推荐", 1.1), ("大米哪个牌子好", 1.3), ("洗衣凝珠推荐", 1.2),
                        ("收纳神器", 0.5))),
    )
    for keyword, mult in words
)


def _write_keywords(plan: Plan, ads: AdData, path: pathlib.Path) -> None:
    rng = _rng(plan.seed, 41)
    rows = []
    share = rng.dirichlet(np.ones(len(KEYWORDS)) * 2.0)
    for m, month in enumerate(MONTH_STARTS):
        days = DAY_MONTH == m
        for c, channel in enumerate(AD_CHANNELS):
            kws = [i for i, k in enumerate(KEYWORDS) if k[0] == channel]
            if not kws:
                continue
            w = share[kws] * rng.uniform(0.8, 1.25, len(kws))
            w = w / w.sum()
            mult = np.array([KEYWORDS[i][2] for i in kws]) * rng.uniform(0.9, 1.1, len(kws))
            spend = np.floor(ads.spend[days, c].sum() * 0.7 * w).astype(np.int64)
            rev_w = w * mult
            revenue = np.floor(ads.revenue[days, c].sum() * 0.7 * rev_w / rev_w.sum())
            clicks = np.floor(ads.clicks[days, c].sum() * 0.7 * w).astype(np.int64)
            impressions = np.floor(ads.impressions[days, c].sum() * 0.7 * w
                                   / rng.uniform(0.8, 1.25, len(kws))).astype(np.int64)
            impressions = np.maximum(np.minimum(impressions, ads.impressions[days, c].sum()),
                                     clicks)
            conv = np.floor(ads.conversions[days, c].sum() * 0.7 * rev_w / rev_w.sum())
            conv = np.minimum(conv.astype(np.int64), clicks)
            for j, i in enumerate(kws):
                rows.append([month.isoformat(), channel, KEYWORDS[i][1], str(impressions[j]),
                             str(clicks[j]), str(conv[j]), _money(spend[j]),
                             _money(int(revenue[j]))])
    _write_csv(path, ["月份", "广告渠道", "关键词", "展现量", "点击量", "转化数", "花费",
                      "成交金额"], rows)


def _write_campaigns(plan: Plan, agg: Aggregates, ads: AdData, path: pathlib.Path) -> None:
    rng = _rng(plan.seed, 50)
    rows = []
    for k, c in enumerate(CAMPAIGNS):
        participants = int(round(agg.camp_users[k] * rng.uniform(1.5, 1.8)))
        participations = int(round(participants * rng.uniform(1.6, 2.1)))
        redeemed = int(agg.camp_coupons[k])
        issued = max(redeemed, int(round(participants * rng.uniform(1.8, 2.4))))
        window = slice(_day(c.start), _day(c.end) + 1)
        spend = int(ads.spend[window].sum())
        budget = int(round((spend * 1.1 + agg.camp_orders[k] * 300) / 100_000.0)) * 100_000
        rows.append([c.campaign_id, c.name, c.start.isoformat(), c.end.isoformat(),
                     str(participants), str(participations), str(issued), str(redeemed),
                     _money(max(budget, 100_000))])
    _write_csv(path, ["活动编号", "活动名称", "开始日期", "结束日期", "参与人数", "参与人次",
                      "发券数", "核销券数", "预算"], rows)


def _write_loyalty(plan: Plan, agg: Aggregates, path: pathlib.Path) -> None:
    rng = _rng(plan.seed, 51)
    rows = []
    campaign_month = {DAY_MONTH[_day(c.start)] for c in CAMPAIGNS if c.major}
    for m, month in enumerate(MONTH_STARTS):
        days = DAY_MONTH == m
        earned = int(agg.member_net_d[days].sum() // 100)
        rate = rng.uniform(0.5, 0.6) if m in campaign_month else rng.uniform(0.35, 0.45)
        redeemed = int(earned * rate)
        used = int(agg.coupon_paid_d[days].sum())
        issued = int(round(used / rng.uniform(0.2, 0.3)))
        rows.append([month.isoformat(), str(earned), str(max(redeemed, 0)), str(issued),
                     str(used)])
    _write_csv(path, ["月份", "发放积分", "兑换积分", "发券数", "核销券数"], rows)


AREAS = ("商品", "服务", "物流")
THEMES = {
    "商品": ("口味口感", "品质稳定", "性价比", "包装设计", "保质期"),
    "服务": ("客服响应", "售后处理", "退换货流程", "活动规则"),
    "物流": ("配送时效", "外包装破损", "快递员服务"),
}
COMMENTS_GOOD = {
    "口味口感": "味道很好，家里人都爱吃", "品质稳定": "回购很多次了，品质一直稳定",
    "性价比": "活动价很划算，囤货了", "包装设计": "包装精致，送人有面子",
    "保质期": "日期很新鲜", "客服响应": "客服回复很快", "售后处理": "售后处理及时",
    "退换货流程": "退换货流程简单", "活动规则": "活动规则清楚", "配送时效": "第二天就到了",
    "外包装破损": "包装结实没有破损", "快递员服务": "快递员态度很好",
}
COMMENTS_BAD = {
    "口味口感": "口味一般，偏甜", "品质稳定": "这次的品质不如上次", "性价比": "价格偏贵",
    "包装设计": "包装太简陋", "保质期": "收到离过期不远了", "客服响应": "客服回复太慢",
    "售后处理": "售后推来推去", "退换货流程": "退货流程麻烦", "活动规则": "满减规则看不懂",
    "配送时效": "物流太慢，等了一周", "外包装破损": "外箱压坏了", "快递员服务": "没送上门",
}


@dataclass
class SurveySummary:
    """Review-year survey figures the targets need."""

    csat: float
    nps: float


def _write_surveys(plan: Plan, agg: Aggregates, path: pathlib.Path) -> SurveySummary:
    rng = _rng(plan.seed, 60)
    seq = np.concatenate([s[0] for s in agg.surveys])
    user = np.concatenate([s[1] for s in agg.surveys])
    day = np.concatenate([s[2] for s in agg.surveys])
    camp = np.concatenate([s[3] for s in agg.surveys])
    n = len(seq)
    responded = np.minimum(day + rng.integers(2, 11, n), N_DAYS - 1)
    order = np.lexsort((seq, responded))
    seq, user, responded, camp = seq[order], user[order], responded[order], camp[order]
    bad_month = DAY_MONTH[responded] == 19  # August 2025: the carrier backlog
    area = np.where(bad_month, _pick(rng.random(n), _cum_rows(np.array([[0.3, 0.2, 0.5]]))[0]),
                    _pick(rng.random(n), _cum_rows(np.array([[0.45, 0.25, 0.30]]))[0]))
    csat_p = _cum_rows(np.array([
        [0.02, 0.04, 0.12, 0.38, 0.44], [0.03, 0.05, 0.14, 0.38, 0.40],
        [0.03, 0.06, 0.16, 0.40, 0.35], [0.15, 0.22, 0.28, 0.22, 0.13],
    ]))
    row = np.where(bad_month & (area == 2), 3, area)
    csat = 1 + _pick(rng.random(n), csat_p[row])
    nps_low = np.array([0, 2, 5, 7, 9])[csat - 1]
    nps_high = np.array([4, 6, 8, 10, 10])[csat - 1]
    nps = nps_low + (rng.random(n) * (nps_high - nps_low + 1)).astype(np.int64)
    nps_null = rng.random(n) < 0.08
    theme_u = rng.random(n)
    comment_u = rng.random(n)
    width = max(6, len(str(n)))
    user_ids = _ids("U", user + 1, plan.user_width)
    rows = []
    for i in range(n):
        a = AREAS[area[i]]
        themes = THEMES[a]
        theme = themes[min(int(theme_u[i] * len(themes)), len(themes) - 1)]
        text = ""
        if comment_u[i] < 0.45:
            text = (COMMENTS_GOOD if csat[i] >= 4 else COMMENTS_BAD)[theme]
        rows.append([f"S{i + 1:0{width}d}", _iso(responded[i]), user_ids[i], str(csat[i]),
                     "" if nps_null[i] else str(nps[i]), a, theme,
                     "" if camp[i] < 0 else CAMPAIGNS[camp[i]].campaign_id, text])
    _write_csv(path, ["答卷编号", "答卷日期", "买家ID", "满意度评分", "推荐意愿", "反馈领域",
                      "反馈主题", "活动编号", "文字反馈"], rows)
    in_year = DAY_YEAR[responded] == YEARS[-1]
    scores = nps[in_year & ~nps_null]
    nps_value = ((scores >= 9).mean() - (scores <= 6).mean()) * 100 if scores.size else 0.0
    return SurveySummary(float(csat[in_year].mean()) if in_year.any() else 0.0, float(nps_value))


def _write_complaints(plan: Plan, agg: Aggregates, path: pathlib.Path) -> np.ndarray:
    """Write complaints; return complaints per month (for the targets)."""
    rng = _rng(plan.seed, 61)
    seq = np.concatenate([c[0] for c in agg.complaints])
    created = np.concatenate([c[1] for c in agg.complaints])
    reason = np.concatenate([c[2] for c in agg.complaints])
    order = np.lexsort((reason, seq, created))
    seq, created, reason = seq[order], created[order], reason[order]
    n = len(seq)
    resolve = created + np.minimum(rng.geometric(0.45, n) - 1, 14)
    open_ = (rng.random(n) < 0.03) | (resolve > N_DAYS - 1)
    width = max(6, len(str(n)))
    order_ids = _ids("SO", seq + 1, plan.order_width)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["投诉编号", "投诉日期", "订单编号", "投诉原因", "领域", "解决日期"])
        for i in range(n):
            writer.writerow([f"TS{i + 1:0{width}d}", _iso(created[i]), order_ids[i],
                             COMPLAINT_REASONS[reason[i]], AREAS[COMPLAINT_AREA[reason[i]]],
                             "" if open_[i] else _iso(resolve[i])])
    return np.bincount(DAY_MONTH[created], minlength=24)


SOCIAL_PLATFORMS = ("微信公众号", "微博", "小红书", "抖音")
CONTENT_TYPES = ("图文", "短视频", "直播", "话题互动")
SOCIAL_MIX = np.array([  # rows: platform; columns: CONTENT_TYPES
    [0.85, 0.10, 0.00, 0.05], [0.45, 0.15, 0.00, 0.40],
    [0.60, 0.35, 0.00, 0.05], [0.00, 0.70, 0.28, 0.02],
])
SOCIAL_READS = np.array([  # median reads per post
    [6500, 4200, 0, 3000], [3800, 5200, 0, 6800], [5200, 9800, 0, 4100],
    [0, 26000, 41000, 9000],
])
FOLLOWERS_START = np.array([118_000, 86_000, 38_000, 57_000])
FOLLOWER_GROWTH = np.array([0.010, -0.004, 0.045, 0.075])  # per month


def _write_social(plan: Plan, posts_path: pathlib.Path,
                  followers_path: pathlib.Path) -> np.ndarray:
    """Posts and month-end followers; returns followers (months × platforms)."""
    rng = _rng(plan.seed, 70)
    followers = np.zeros((24, len(SOCIAL_PLATFORMS)), dtype=np.int64)
    level = FOLLOWERS_START.astype(np.float64)
    campaign_month = {int(DAY_MONTH[_day(c.start)]) for c in CAMPAIGNS if c.major}
    for m in range(24):
        boost = 1.5 if m in campaign_month else 1.0
        level = level * (1 + FOLLOWER_GROWTH * boost + rng.normal(0, 0.004, 4))
        followers[m] = np.rint(level)
    posts = []
    for m in range(24):
        days = np.flatnonzero(DAY_MONTH == m)
        for p in range(len(SOCIAL_PLATFORMS)):
            per_month = (9, 14, 10 + m // 3, 14 + m // 2)[p]
            for d in np.sort(rng.choice(days, size=min(per_month, len(days)), replace=False)):
                ctype = int(_pick(rng.random(1), _cum_rows(SOCIAL_MIX + 1e-12)[p:p + 1])[0])
                scale = followers[m, p] / FOLLOWERS_START[p]
                reads = int(SOCIAL_READS[p, ctype] * scale * np.exp(rng.normal(0, 0.55)))
                likes = int(reads * rng.uniform(0.015, 0.06))
                shares = int(reads * rng.uniform(0.002, 0.015))
                comments = int(reads * rng.uniform(0.002, 0.012))
                posts.append((int(d), p, ctype, reads, likes, shares, comments))
    posts.sort(key=lambda r: (r[0], r[1]))
    rows = [[f"P{i + 1:05d}", SOCIAL_PLATFORMS[p], _iso(d), CONTENT_TYPES[c], str(r), str(li),
             str(s), str(cm)] for i, (d, p, c, r, li, s, cm) in enumerate(posts)]
    _write_csv(posts_path, ["内容编号", "平台", "发布日期", "内容类型", "阅读量", "点赞数",
                            "分享数", "评论数"], rows)
    rows = [[MONTH_STARTS[m].isoformat(), SOCIAL_PLATFORMS[p], str(followers[m, p])]
            for m in range(24) for p in range(len(SOCIAL_PLATFORMS))]
    _write_csv(followers_path, ["月份", "平台", "粉丝数"], rows)
    return followers


FUNCTIONS = ("运营", "推广", "客服", "物流", "设计", "数据")
START_2024 = (9, 7, 10, 4, 3, 2)  # active on 2024-01-01
HIRES = {2024: (2, 2, 3, 1, 1, 0), 2025: (4, 3, 4, 2, 1, 3)}
LEAVERS = {2024: (1, 1, 2, 0, 0, 0), 2025: (2, 1, 3, 1, 0, 0)}
HEADS = {  # levels of the opening team by function, most senior first
    "运营": ("总监", "经理", "主管", "主管"), "推广": ("经理", "主管"),
    "客服": ("经理", "主管", "主管"), "物流": ("经理", "主管"),
    "设计": ("主管",), "数据": ("主管",),
}
PLANNED_2026 = (14, 12, 13, 7, 6, 7)
TRAINING_TOPICS = {
    "内部培训": ("新品卖点与话术", "大促运营复盘", "客服服务规范", "直播间运营基础", "数据看板使用",
                 "广告投放优化", "仓配作业标准", "视觉设计规范"),
    "专家讲座": ("消费趋势与品类机会", "抖音电商增长方法", "会员运营与私域", "供应链韧性"),
    "外部交流": ("行业峰会", "平台商家大会", "标杆企业参访"),
}


def _weekday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _write_team(plan: Plan, members_path: pathlib.Path, assess_path: pathlib.Path,
                training_path: pathlib.Path, hiring_path: pathlib.Path) -> None:
    rng = _rng(plan.seed, 80)
    given = _given_names(plan.seed + 1)
    staff: list[dict] = []
    for f, func in enumerate(FUNCTIONS):
        heads = HEADS[func]
        hired = sorted(int(rng.integers(_day(dt.date(2016, 3, 1)), _day(dt.date(2023, 11, 30))))
                       for _ in range(START_2024[f]))
        for j, h in enumerate(hired):
            staff.append({"function": func, "level": heads[j] if j < len(heads) else "专员",
                          "hired": _weekday(FIRST_DAY + dt.timedelta(days=h)), "left": None})
        for year in YEARS:
            for _ in range(HIRES[year][f]):
                h = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 330)))
                level = "经理" if (year == 2025 and func == "数据" and _ == 0) else "专员"
                staff.append({"function": func, "level": level, "hired": _weekday(h),
                              "left": None})
    for year in YEARS:
        for f, func in enumerate(FUNCTIONS):
            pool = [s for s in staff if s["function"] == func and s["level"] == "专员"
                    and s["left"] is None and s["hired"] < dt.date(year, 9, 1)]
            for j in rng.choice(len(pool), size=LEAVERS[year][f], replace=False):
                s = pool[int(j)]
                lo = max(_day(s["hired"]) + 60, _day(dt.date(year, 1, 15)))
                s["left"] = _weekday(FIRST_DAY + dt.timedelta(
                    days=int(rng.integers(lo, _day(dt.date(year, 12, 15))))))
    staff.sort(key=lambda s: (s["hired"], s["function"]))
    for i, s in enumerate(staff):
        s["id"] = f"E{i + 1:04d}"
        s["name"] = SURNAMES[int(rng.integers(0, 60))] + given[int(rng.integers(0, len(given)))]
    _write_csv(members_path, ["工号", "姓名", "职能", "职级", "入职日期", "离职日期"], [
        [s["id"], s["name"], s["function"], s["level"], s["hired"].isoformat(),
         "" if s["left"] is None else s["left"].isoformat()] for s in staff])

    def active(s: dict, day: dt.date) -> bool:
        return s["hired"] <= day and (s["left"] is None or s["left"] > day)

    rows = []
    for year in YEARS:
        for s in staff:
            if active(s, dt.date(year, 12, 31)) and s["hired"] <= dt.date(year, 9, 30):
                bonus = {"总监": 3.0, "经理": 2.0, "主管": 1.0}.get(s["level"], 0.0)
                score = float(np.clip(rng.normal(81 + bonus + (year - 2024), 6.5), 58, 99))
                promoted = score >= 88 and rng.random() < 0.45
                rows.append([s["id"], str(year), _num(score, 1), _bool(promoted)])
    rows.sort(key=lambda r: (r[0], r[1]))
    _write_csv(assess_path, ["工号", "年度", "KPI得分", "是否晋升"], rows)

    rows = []
    for year, sessions in ((2024, 24), (2025, 36)):
        days = sorted(_weekday(dt.date(year, 1, 8) + dt.timedelta(days=int(x)))
                      for x in rng.integers(0, 340, sessions))
        for k, day in enumerate(days):
            kind = ("内部培训", "专家讲座", "外部交流")[int(_pick(rng.random(1), _cum_rows(
                np.array([[0.6, 0.25, 0.15]])))[0])]
            topics = TRAINING_TOPICS[kind]
            topic = topics[int(rng.integers(0, len(topics)))]
            pool = [s for s in staff if active(s, day)]
            size = {"内部培训": (4, 16), "专家讲座": (12, 36), "外部交流": (1, 4)}[kind]
            count = min(len(pool), int(rng.integers(*size)))
            hours = {"内部培训": (1.5, 2.0, 3.0, 4.0), "专家讲座": (2.0, 3.0),
                     "外部交流": (8.0, 16.0, 24.0)}[kind]
            h = hours[int(rng.integers(0, len(hours)))]
            for j in sorted(rng.choice(len(pool), size=count, replace=False)):
                rows.append([f"TR{year}{k + 1:02d}", pool[int(j)]["id"], day.isoformat(), kind,
                             topic, _num(h, 1)])
    rows.sort(key=lambda r: (r[0], r[1]))
    _write_csv(training_path, ["培训编号", "工号", "培训日期", "培训类型", "主题", "学时"], rows)
    _write_csv(hiring_path, ["年度", "职能", "计划人数"],
               [["2026", func, str(PLANNED_2026[f])] for f, func in enumerate(FUNCTIONS)])


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


# ---- Targets and initiatives --------------------------------------------------------------


def _actuals(plan: Plan, agg: Aggregates, visitors: np.ndarray, ads: AdData,
             survey: SurveySummary, complaints_by_month: np.ndarray,
             stock: dict[str, np.ndarray], followers: np.ndarray) -> dict[str, float]:
    """Review-year figures that the targets and initiatives are set against."""
    y = DAY_YEAR == YEARS[-1]
    y0 = DAY_YEAR == YEARS[0]
    net_p = (agg.gmv_dps[y] - agg.refund_dps[y]).sum(axis=(0, 2)) / 100.0
    net = float(net_p.sum())
    gmv = float(agg.gmv_dps[y].sum()) / 100.0
    orders = float(agg.paid_dps[y].sum())
    counts = agg.year_counts
    buyer_idx = np.flatnonzero(counts[1] > 0)
    buyers = float(len(buyer_idx))
    member_buyers = sum(int((_member_code(plan, buyer_idx[lo: lo + USER_CHUNK]) > 0).sum())
                        for lo in range(0, len(buyer_idx), USER_CHUNK))
    cat_net = np.stack([agg.net_dc[y0].sum(axis=0), agg.net_dc[y].sum(axis=0)])
    out = {
        "net_sales": net, "gmv": gmv, "orders": orders, "buyers": buyers,
        "aov": net / orders, "conversion_rate": orders / float(visitors[y].sum()),
        "repurchase_rate": float((counts[1] >= 2).sum()) / buyers,
        "new_buyers": float(((counts[1] > 0) & (counts[0] == 0)).sum()),
        "member_share": member_buyers / buyers,
        "gross_margin": 1.0 - float(agg.cogs_dc[y].sum()) / float(agg.net_dc[y].sum()),
        "refund_rate": float(agg.refund_dps[y].sum()) / float(agg.gmv_dps[y].sum()),
        "roas": float(ads.revenue[y].sum()) / float(ads.spend[y].sum()),
        "complaint_rate": float(complaints_by_month[12:].sum()) / orders,
        "csat": survey.csat, "nps": survey.nps,
        "douyin_share": float(net_p[DOUYIN]) / net,
        "care_growth": float(cat_net[1, 3] / cat_net[0, 3] - 1.0),
        "stockout_rate": float((stock["on_hand"][y] == 0).mean()),
        "xhs_followers": float(followers[-1, 2]),
    }
    for i, p in enumerate(PLATFORMS):
        out[f"net_sales:{p}"] = float(net_p[i])
    return out


def _round_target(metric: str, value: float) -> float:
    if metric in ("net_sales", "gmv") or metric.startswith("net_sales:"):
        return round(value / 10_000.0) * 10_000.0 if value >= 1e6 else round(value / 100) * 100
    if metric in ("orders", "buyers", "new_buyers"):
        return round(value / 100.0) * 100.0 if value >= 1e4 else float(round(value))
    if metric in ("aov",):
        return float(round(value))
    if metric in ("roas", "csat"):
        return round(value, 1)
    if metric == "nps":
        return float(round(value))
    return round(value, 4)


# metric: (2025 target ÷ actual, 2026 target ÷ 2025 actual); "lower is better" rates included.
TARGET_FACTORS: dict[str, tuple[float, float]] = {
    "net_sales": (1.05, 1.20), "gmv": (1.04, 1.20), "orders": (0.98, 1.15),
    "buyers": (1.03, 1.12), "new_buyers": (0.95, 1.10), "aov": (1.02, 1.04),
    "conversion_rate": (0.97, 1.06), "repurchase_rate": (1.08, 1.08),
    "member_share": (1.05, 1.06), "gross_margin": (1.02, 1.01), "refund_rate": (0.9, 0.9),
    "roas": (0.95, 1.10), "complaint_rate": (0.8, 0.75), "csat": (1.03, 1.03),
    "nps": (1.1, 1.1),
    "net_sales:天猫": (1.10, 1.04), "net_sales:京东": (1.02, 1.12),
    "net_sales:抖音": (0.88, 1.45), "net_sales:小程序": (0.97, 1.15),
}


def _write_targets(actual: dict[str, float], path: pathlib.Path) -> None:
    rows = []
    for metric, (f25, f26) in TARGET_FACTORS.items():
        name, _, scope = metric.partition(":")
        for year, value in ((2025, actual[metric] * f25), (2026, actual[metric] * f26)):
            rows.append([str(year), name, scope or "全部", _num(_round_target(metric, value), 4)])
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    _write_csv(path, ["年度", "指标", "范围", "目标值"], rows)


def _write_initiatives(actual: dict[str, float], path: pathlib.Path) -> None:
    def done(actual_value: float, target: float, lower_better: bool = False) -> float:
        ratio = target / actual_value if lower_better else actual_value / target
        return float(min(1.0, max(0.0, ratio)))

    a = actual
    items = [  # id, area, name, owner, kpi, target, actual, lower-better, status if not met
        ("I2501", "商品策略", "打造个护清洁第二增长曲线", "品类经理", "个护清洁净销售额同比增长",
         0.40, a["care_growth"], False, "进行中"),
        ("I2502", "商品策略", "爆款梯队建设", "商品运营主管", "年度新品上市数", 25.0, 20.0, False,
         "进行中"),
        ("I2503", "商品策略", "滞销 SKU 清理", "品类经理", "清理滞销 SKU 数", 20.0, 11.0, False,
         "延期"),
        ("I2504", "客户服务", "客服响应提速", "客服经理", "平均首次响应时长（秒）", 30.0, 34.0,
         True, "进行中"),
        ("I2505", "客户服务", "会员体系升级", "会员运营主管", "会员购买用户占比",
         round(a["member_share"] * 1.05, 2), a["member_share"], False, "进行中"),
        ("I2506", "客户服务", "物流服务商切换", "物流经理", "投诉率", 0.012, a["complaint_rate"],
         True, "延期"),
        ("I2507", "营销推广", "抖音店播常态化", "抖音运营主管", "抖音净销售额占比", 0.25,
         a["douyin_share"], False, "进行中"),
        ("I2508", "营销推广", "广告投放 ROI 优化", "推广经理", "整体 ROAS", 5.5, a["roas"], False,
         "进行中"),
        ("I2509", "营销推广", "小红书种草矩阵", "内容运营主管", "小红书粉丝数", 100_000.0,
         a["xhs_followers"], False, "进行中"),
        ("I2510", "数据驱动优化", "经营数据看板上线", "数据主管", "看板覆盖核心指标数", 30.0, 32.0,
         False, "进行中"),
        ("I2511", "数据驱动优化", "用户分层精细化运营（RFM）", "数据主管", "复购率",
         round(a["repurchase_rate"] * 1.1, 3), a["repurchase_rate"], False, "进行中"),
        ("I2512", "数据驱动优化", "智能补货预测", "供应链经理", "缺货率", 0.002, None, True,
         "未启动"),
    ]
    rows = []
    for iid, area, name, owner, kpi, target, value, lower, fallback in items:
        if value is None:
            status, completion, actual_text = fallback, 0.0, ""
        else:
            completion = done(value, target, lower)
            status = "已完成" if completion >= 1.0 else fallback
            actual_text = _num(value, 4)
        rows.append([iid, "2025", area, name, owner, status, kpi, _num(target, 4), actual_text,
                     _num(completion, 3)])
    _write_csv(path, ["举措编号", "年度", "领域", "举措", "负责岗位", "状态", "衡量指标", "目标值",
                      "实际值", "完成度"], rows)


# ---- CLI ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: python -m fupan.sample --out data --orders 200000 --seed 2025."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data"))
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = generate(args.out, orders=args.orders, seed=args.seed)
    total = sum(p.stat().st_size for p in paths.values())
    print(f"wrote {len(paths)} files, {total / 1e6:.1f} MB, to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
