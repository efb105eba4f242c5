"""Marketing datasets: daily ad figures per channel derived from the ad-sourced orders
(ad_channels.csv), their monthly split over keywords (keywords.csv), campaign participation,
coupons and budgets (campaigns.csv), monthly loyalty points and coupons (loyalty.csv), and social
media posts and followers (social_posts.csv, social_followers.csv)."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import numpy as np

from fupan.sample.calendar import CAMPAIGNS, DAY_MONTH, DAY_YEAR, MONTH_STARTS, N_DAYS, _day, _iso
from fupan.sample.channels import AD_CHANNELS, AD_CPC, AD_CTR, AD_ROAS, BAIDU, BAIDU_SHARE, DOUYIN, SOURCES
from fupan.sample.helpers import _cum_rows, _money, _pick, _rng, _write_csv
from fupan.sample.orders import Aggregates
from fupan.sample.plan import Plan


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
