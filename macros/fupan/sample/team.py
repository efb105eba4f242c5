"""The team: members by function with hires and leavers over the two years (team_members.csv),
yearly KPI assessments and promotions (assessments.csv), training sessions and their attendees
(training.csv), and the 2026 hiring plan (hiring_plan.csv)."""

from __future__ import annotations

import datetime as dt
import pathlib

import numpy as np

from fupan.sample.calendar import FIRST_DAY, YEARS, _day
from fupan.sample.helpers import _bool, _cum_rows, _num, _pick, _rng, _write_csv
from fupan.sample.plan import Plan
from fupan.sample.users import SURNAMES, _given_names

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
