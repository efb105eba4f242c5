"""The product catalogue: six categories with their products, variants, cost ratios and trends,
the four hit SKUs, the hit that runs out of stock in September 2025, the 家居日用 SKUs that stop
selling and the suppliers, built into a Catalog with the demand weight of every SKU on every day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from fupan.sample.calendar import N_DAYS, _day
from fupan.sample.helpers import _rng


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
