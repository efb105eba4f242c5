"""targets.csv and initiatives.csv: the review-year actuals computed from the aggregates and the
other datasets, the 2025 and 2026 targets set against them (rounded), and the 2025 initiatives
with their KPIs, targets, status and completion."""

from __future__ import annotations

import pathlib

import numpy as np

from fupan.sample.calendar import DAY_YEAR, YEARS
from fupan.sample.channels import DOUYIN, PLATFORMS
from fupan.sample.helpers import _num, _write_csv
from fupan.sample.marketing import AdData
from fupan.sample.orders import Aggregates
from fupan.sample.plan import Plan
from fupan.sample.service import SurveySummary
from fupan.sample.users import USER_CHUNK, _member_code


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
