"""A tiny hand-made shop whose every metric can be worked out with pencil and paper.

Products: P1 零食 (cost 4), P2 家居 (cost 30). Users: U1 金卡会员, U2 非会员, U3 普通会员.

| order | user | platform | paid          | lines (sku × qty @ price)        | refund            |
|-------|------|----------|---------------|----------------------------------|-------------------|
| O1    | U1   | 天猫      | 2024-03-05    | P1 × 2 @ 10 = 20                 |                   |
| O2    | U2   | 京东      | 2024-07-10    | P2 × 1 @ 50 = 50                 |                   |
| O3    | U1   | 天猫      | 2025-01-15    | P1 × 3 @ 10 = 30; P2 × 1 @ 50    | 1 × P1 = 10       |
| O4    | U3   | 抖音      | 2025-06-18    | P2 × 2 @ 45 = 90                 |                   |
| O5    | U1   | 京东      | 2025-06-20    | P1 × 1 @ 10 = 10                 |                   |
| O6    | U2   | 天猫      | (unpaid)      | P1 × 5 @ 10 = 50                 |                   |
| O7    | U3   | 抖音      | 2025-11-11    | P1 × 4 @ 9 = 36                  |                   |

2025 by hand: orders 4; GMV 80+90+10+36 = 216; refunds 10; net sales 206; AOV 51.5; buyers 2
(U1, U3); repeat buyers 2 (U1: O3+O5, U3: O4+O7); new buyers 1 (U3), returning 1 (U1); units 3+1+2+1+4 = 11;
COGS (3−1)·4 + 30 + 2·30 + 4 + 4·4 = 118; gross profit 88.
2024: orders 2; GMV 70; net sales 70; AOV 35; buyers 2.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from pathlib import Path

import pandas as pd
from fupan.data.contract import Contract, load_contract

REPO = Path(__file__).resolve().parents[1]

PRODUCTS = [
    # sku, name, category, list_price, unit_cost, launch_date
    ("P1", "坚果礼盒", "零食", 10, 4, "2023-01-01"),
    ("P2", "收纳箱", "家居", 50, 30, "2023-01-01"),
]
USERS = [("U1", "金卡会员"), ("U2", "非会员"), ("U3", "普通会员")]
ORDERS = [
    # order_id, user, platform, paid_at, lines [(sku, qty, price, refunded_qty)]
    ("O1", "U1", "天猫", "2024-03-05 10:00:00", [("P1", 2, 10.0, 0)]),
    ("O2", "U2", "京东", "2024-07-10 12:30:00", [("P2", 1, 50.0, 0)]),
    ("O3", "U1", "天猫", "2025-01-15 09:00:00", [("P1", 3, 10.0, 1), ("P2", 1, 50.0, 0)]),
    ("O4", "U3", "抖音", "2025-06-18 20:00:00", [("P2", 2, 45.0, 0)]),
    ("O5", "U1", "京东", "2025-06-20 08:15:00", [("P1", 1, 10.0, 0)]),
    ("O6", "U2", "天猫", None, [("P1", 5, 10.0, 0)]),
    ("O7", "U3", "抖音", "2025-11-11 00:05:00", [("P1", 4, 9.0, 0)]),
]


def _ts(text: str | None) -> pd.Timestamp | None:
    return pd.Timestamp(text) if text else None


def orders_frame() -> pd.DataFrame:
    rows = []
    for order_id, user, platform, paid, lines in ORDERS:
        amount = sum(q * p for _, q, p, _ in lines)
        refund = sum(r * p for _, _, p, r in lines) if paid else 0.0
        ordered = _ts(paid) or pd.Timestamp("2025-11-11 00:00:00")
        rows.append({
            "订单编号": order_id, "买家ID": user, "平台": platform, "流量来源": "搜索", "终端": "App",
            "下单时间": ordered, "支付时间": _ts(paid), "实付金额": float(amount),
            "优惠金额": 0.0, "退款金额": float(refund), "省份": "浙江", "城市": "杭州",
            "城市等级": "新一线", "活动编号": None, "是否用券": False,
        })
    frame = pd.DataFrame(rows)
    frame["支付时间"] = pd.to_datetime(frame["支付时间"]).astype("datetime64[us]")
    frame["下单时间"] = pd.to_datetime(frame["下单时间"]).astype("datetime64[us]")
    frame["活动编号"] = frame["活动编号"].astype("string")
    return frame


def lines_frame() -> pd.DataFrame:
    rows = []
    for order_id, _, _, _, lines in ORDERS:
        for n, (sku, qty, price, refunded) in enumerate(lines, start=1):
            rows.append({"订单编号": order_id, "行号": n, "商品编码": sku, "数量": qty,
                         "成交单价": price, "成交金额": qty * price, "退货数量": refunded})
    return pd.DataFrame(rows)


def products_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [{"商品编码": s, "商品名称": n, "品类": c, "子品类": c, "标价": p, "单位成本": u,
          "上市日期": d, "评分": 4.5} for s, n, c, p, u, d in PRODUCTS]
    )


def users_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"买家ID": u, "姓名": "测试", "手机号": "13800000000", "性别": "女", "出生年份": 1990,
         "省份": "浙江", "城市": "杭州", "城市等级": "新一线",
         "注册日期": dt.date(2023, 1, 1), "获客渠道": "搜索", "会员等级": level,
         "入会日期": dt.date(2023, 1, 1) if level != "非会员" else None}
        for u, level in USERS
    ])


def write_tiny_data(data_dir: Path, with_users: bool = True) -> Path:
    """Write the tiny shop (contract copied from the repo) into `data_dir`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "data" / "datasets.yml", data_dir / "datasets.yml")
    orders_frame().to_parquet(data_dir / "orders.parquet", index=False)
    lines_frame().to_parquet(data_dir / "order_lines.parquet", index=False)
    products_frame().to_csv(data_dir / "products.csv", index=False)
    if with_users:
        users_frame().to_parquet(data_dir / "users.parquet", index=False)
    return data_dir


def without_editions(settings: str) -> str:
    """mkdocs.yml's text without `extra.review.editions` (and the comment above it)."""
    return re.sub(r"(?m)^(?:    # (?!as_of)[^\n]*\n)*    editions:\n(?:      [^\n]*\n|\n)*", "", settings)


def make_project(root: Path, data_writer=write_tiny_data, docs: dict[str, str] | None = None,
                 editions: bool = False) -> Path:
    """A copy of the repo's site (mkdocs.yml, docs/) with its own data folder under `root`;
    without the English edition unless `editions` (a test of the review's own language builds
    it once, not twice)."""
    root.mkdir(parents=True, exist_ok=True)
    settings = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").write_text(settings if editions else without_editions(settings), encoding="utf-8")
    # the pages' translations come along: without an edition they are never pages (editions.py)
    shutil.copytree(REPO / "docs", root / "docs", dirs_exist_ok=True)
    # The review's own few-line macros module and hooks file; fupan itself is the installed package.
    (root / "macros").mkdir(exist_ok=True)
    for name in ("main.py", "hooks.py"):
        shutil.copy(REPO / "macros" / name, root / "macros" / name)
    data_writer(root / "data")
    for name, text in (docs or {}).items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    return root


def tiny_review(tmp_path: Path, as_of: str | None = None, with_users: bool = True,
                extras: bool = False, min_group_size: int = 1):
    """A review context (config, contract, data, catalogue, engine) over the tiny shop."""
    from fupan.site.context import build_review

    project = tmp_path / "project"
    write_tiny_data(project / "data", with_users=with_users)
    if extras:
        write_tiny_extras(project / "data")
    # The tiny shop has 3 buyers: no privacy merging unless a test asks for it.
    # The tiny shop's last order is on 11 November: it stands for a whole year unless a test says
    # otherwise (else the review would infer a partial year and compare like-for-like).
    review = {"company": "测试", "year": 2025, "locale": "zh-CN", "min_group_size": min_group_size,
              "as_of": as_of or "2025-12-31"}
    return build_review({"review": review}, project)


def write_tiny_extras(data_dir: Path) -> Path:
    """Small optional datasets for the analyses, each worked out by hand in test_analyses.py.

    inventory (P1 cost 4, P2 cost 30): 2025-01-01 P1 10 P2 5 | 2025-10-31 P1 5 P2 8 |
        2025-11-30 P1 0 P2 8 | 2025-12-30 P1 0 P2 8 | 2025-12-31 P1 3 (3 received) P2 8 (1 damaged)
    campaigns: C1 双11 2025-11-11 (1 day); C2 小活动 2025-02-12 (1 day, no sales; baseline O3);
        C0 开业活动 2024-03-10..11, five days after the data starts (2024-03-05, O1 20).
    funnel: 2025-06-18 100/40/10/8, 2025-06-19 100/20/10/8.
    social_followers: 微博 1000 → 1500, 小红书 200 → 100 (2024-12 → 2025-12).
    targets 2025: net_sales 全部 200, net_sales 抖音 100, orders 全部 8; 2026: net_sales 全部 300.
    The other files are small enough to read: see FILES below.
    """
    inv = [
        ("2025-01-01", "P1", 10, 0), ("2025-01-01", "P2", 5, 0),
        ("2025-10-31", "P1", 5, 0), ("2025-10-31", "P2", 8, 0),
        ("2025-11-30", "P1", 0, 0), ("2025-11-30", "P2", 8, 0),
        ("2025-12-30", "P1", 0, 0), ("2025-12-30", "P2", 8, 0),
        ("2025-12-31", "P1", 3, 3), ("2025-12-31", "P2", 8, 0),
    ]
    pd.DataFrame([
        {"日期": dt.date.fromisoformat(d), "商品编码": s, "在库数量": q, "入库数量": r,
         "过期报损数量": 0, "破损报损数量": 1 if (s, d) == ("P2", "2025-12-31") else 0}
        for d, s, q, r in inv
    ]).to_parquet(data_dir / "inventory.parquet", index=False)
    (data_dir / "campaigns.csv").write_text(
        "活动编号,活动名称,开始日期,结束日期,参与人数,参与人次,发券数,核销券数,预算\n"
        "C1,双11,2025-11-11,2025-11-11,10,12,20,5,100\n"
        "C2,小活动,2025-02-12,2025-02-12,1,1,0,0,10\n"
        "C0,开业活动,2024-03-10,2024-03-11,1,1,0,0,10\n", encoding="utf-8")
    (data_dir / "funnel.csv").write_text(
        "日期,平台,访客数,加购人数,下单人数,支付人数\n"
        "2025-06-18,天猫,100,40,10,8\n2025-06-19,天猫,100,20,10,8\n", encoding="utf-8")
    (data_dir / "social_followers.csv").write_text(
        "月份,平台,粉丝数\n2024-12-01,微博,1000\n2024-12-01,小红书,200\n"
        "2025-12-01,微博,1500\n2025-12-01,小红书,100\n", encoding="utf-8")
    (data_dir / "targets.csv").write_text(
        "年度,指标,范围,目标值\n2025,net_sales,全部,200\n2025,net_sales,抖音,100\n"
        "2025,orders,全部,8\n2025,complaint_rate,全部,0.25\n2026,net_sales,全部,300\n", encoding="utf-8")
    for name, text in FILES.items():
        (data_dir / name).write_text(text, encoding="utf-8")
    return data_dir


FILES = {
    "traffic.csv": "日期,平台,流量来源,访客数,浏览量,访问次数,跳失次数,平均停留时长秒\n"
                   "2025-06-18,天猫,搜索,100,300,120,30,40\n2025-06-19,抖音,推荐,300,500,320,160,20\n",
    "ad_channels.csv": "日期,广告渠道,展现量,点击量,转化数,花费,成交金额\n"
                       "2025-03-01,直通车,10000,200,10,100,500\n2025-03-01,信息流,5000,100,2,200,300\n",
    "survey_responses.csv": "答卷编号,答卷日期,买家ID,满意度评分,推荐意愿,反馈领域,反馈主题,活动编号,文字反馈\n"
                            "S1,2025-01-10,U1,5,10,商品,口味好,,\nS2,2025-02-10,U2,3,6,物流,发货慢,,\n"
                            "S3,2025-11-11,U3,4,8,服务,客服及时,C1,\n",
    "complaints.csv": "投诉编号,投诉日期,订单编号,投诉原因,领域,解决日期\n"
                      "K1,2025-01-16,O3,物流延迟,物流,2025-01-18\nK2,2025-06-21,O5,包装破损,物流,\n",
    "purchase_orders.csv": "采购单号,商品编码,供应商,下单日期,承诺到货日期,实际到货日期,采购数量,到货数量\n"
                           "PO1,P1,甲供应商,2025-01-01,2025-01-10,2025-01-08,100,100\n"
                           "PO2,P2,乙供应商,2025-02-01,2025-02-10,2025-02-15,50,40\n"
                           "PO3,P1,甲供应商,2025-12-20,2025-12-30,,10,\n",
    "social_posts.csv": "内容编号,平台,发布日期,内容类型,阅读量,点赞数,分享数,评论数\n"
                        "X1,微博,2025-03-01,图文,1000,50,10,40\nX2,小红书,2025-04-01,短视频,3000,200,50,50\n",
    "team_members.csv": "工号,姓名,职能,职级,入职日期,离职日期\nE1,甲,运营,主管,2020-01-01,\n"
                        "E2,乙,客服,专员,2024-06-01,2025-03-31\nE3,丙,运营,专员,2025-07-01,\n",
    "training.csv": "培训编号,工号,培训日期,培训类型,主题,学时\nT1,E1,2025-03-01,内部培训,数据分析,4\n"
                    "T1,E2,2025-03-01,内部培训,数据分析,4\nT2,E3,2025-08-01,外部交流,直播运营,8\n",
    "market.csv": "年度,品类,公司,是否本公司,销售额\n2025,零食,测试,true,200\n2025,零食,对手,false,800\n"
                  "2024,零食,测试,true,100\n2024,零食,对手,false,900\n",
    "keywords.csv": "月份,广告渠道,关键词,展现量,点击量,转化数,花费,成交金额\n"
                    "2025-03-01,直通车,坚果,1000,50,5,50,300\n2025-03-01,直通车,收纳,2000,40,1,100,100\n"
                    "2025-03-01,直通车,零食,1000,10,1,80,400\n",
    "loyalty.csv": "月份,发放积分,兑换积分,发券数,核销券数\n2025-01-01,1000,500,100,20\n2025-02-01,1000,250,100,30\n",
    "assessments.csv": "工号,年度,KPI得分,是否晋升\nE1,2025,92,true\nE2,2025,75,false\nE3,2025,85,false\n",
    "hiring_plan.csv": "年度,职能,计划人数\n2026,运营,3\n2026,客服,1\n",
    "initiatives.csv": "举措编号,年度,领域,举措,负责岗位,状态,衡量指标,目标值,实际值,完成度\n"
                       "I1,2025,商品策略,测试举措,品类经理,已完成,净销售额,200,206,100%\n"
                       "I2,2025,客户服务,客服提速,客服主管,进行中,,,,50%\n",
}


_CONTRACTS: dict[str, Contract] = {}


def contract_for(data: Path) -> Contract:
    """load_contract(data/datasets.yml), parsed once per distinct contract text (YAML parsing
    costs ~0.15 s, and most tests share the same contract)."""
    path = data / "datasets.yml"
    text = path.read_text(encoding="utf-8")
    if text not in _CONTRACTS:
        _CONTRACTS[text] = load_contract(path)
    return dataclasses.replace(_CONTRACTS[text], path=path)
