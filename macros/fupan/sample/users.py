"""The user base: every attribute of a user (city, member level, acquisition platform, name,
birth year, …) is a hash of the user index, so users never have to be held in memory; the existing
users who place repeat orders are drawn by activity and recency; users.parquet is written in batches."""

from __future__ import annotations

import datetime as dt
import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fupan.sample.calendar import N_DAYS, PRE_DAYS, USER_EPOCH
from fupan.sample.channels import PLATFORMS, _platform_shares
from fupan.sample.helpers import _cum_rows, _hash_unif, _id_array, _ParquetStream, _pick, _rng, _take
from fupan.sample.plan import Plan

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
USER_CHUNK = 500_000  # users written per batch


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
