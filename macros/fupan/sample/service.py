"""Customer service: survey_responses.csv (satisfaction, NPS and comments on the surveyed orders,
worse for logistics in August 2025) and complaints.csv (from the complaint candidates the orders
left, the August 2025 carrier backlog included), with the review-year figures the targets need."""

from __future__ import annotations

import csv
import pathlib
from dataclasses import dataclass

import numpy as np

from fupan.sample.calendar import CAMPAIGNS, DAY_MONTH, DAY_YEAR, N_DAYS, YEARS, _iso
from fupan.sample.helpers import _cum_rows, _ids, _pick, _rng, _write_csv
from fupan.sample.orders import COMPLAINT_AREA, COMPLAINT_REASONS, Aggregates
from fupan.sample.plan import Plan

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
