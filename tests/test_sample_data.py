"""The sample company's data: deterministic, true to the contract, and carrying its planted patterns.

These tests read the files in ``data/`` directly with DuckDB (never through other fupan modules),
so a pattern test fails when the pattern is missing from the committed data, whatever the review
code does with it. ``data/README.md`` lists the facts checked here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pathlib

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml
from fupan.sample import generator as sample
from fupan.sample import helpers as sample_helpers
from fupan.sample import orders as sample_orders
from fupan.sample import targets as sample_targets
from fupan.sample import users as sample_users

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
CONTRACT = yaml.safe_load((DATA / "datasets.yml").read_text(encoding="utf-8"))["datasets"]

HITS = {"SY1001", "SY2001", "SY3001", "SY4007"}
STOCKOUT_SKU = "SY3001"
SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "decimal": "DOUBLE", "date": "DATE",
             "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}
PARQUET_TYPES = {"string": {"VARCHAR"}, "integer": {"INTEGER", "BIGINT"}, "decimal": {"DOUBLE"},
                 "date": {"DATE"}, "timestamp": {"TIMESTAMP"}, "boolean": {"BOOLEAN"}}
CSV_PATTERNS = {"integer": r"^-?[0-9]+$", "decimal": r"^-?[0-9]+(\.[0-9]+)?$",
                "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "boolean": r"^(true|false)$"}


def _digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _q(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def _load(data_dir: pathlib.Path) -> duckdb.DuckDBPyConnection:
    """Every dataset as a typed view with canonical column names (plus raw views)."""
    con = duckdb.connect()
    for name, spec in CONTRACT.items():
        path = (data_dir / spec["path"]).as_posix()
        if spec["format"] == "parquet":
            con.execute(f"CREATE VIEW raw_{name} AS SELECT * FROM read_parquet('{path}')")
            cols = [f'"{c.get("header", cname)}" AS {cname}' for cname, c in spec["columns"].items()]
        else:
            con.execute(f"CREATE VIEW raw_{name} AS SELECT * FROM read_csv('{path}', header=true, "
                        "all_varchar=true, auto_detect=false, columns={" + ", ".join(
                            f"'{c.get('header', cname)}': 'VARCHAR'"
                            for cname, c in spec["columns"].items()) + "})")
            cols = []
            for cname, c in spec["columns"].items():
                src = f'NULLIF("{c.get("header", cname)}", \'\')'
                if c["type"] == "date":
                    cols.append(f"CAST(STRPTIME({src}, '%Y-%m-%d') AS DATE) AS {cname}")
                else:
                    cols.append(f"CAST({src} AS {SQL_TYPES[c['type']]}) AS {cname}")
        con.execute(f"CREATE VIEW {name} AS SELECT {', '.join(cols)} FROM raw_{name}")
    return con


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = _load(DATA)
    con.execute("""
        CREATE TABLE sales AS
        SELECT l.order_id, l.sku, l.quantity, l.refunded_quantity, l.unit_price,
               l.line_amount - l.refunded_quantity * l.unit_price AS net,
               (l.quantity - l.refunded_quantity) * p.unit_cost AS cogs,
               p.category, o.platform, o.user_id, o.paid_at, o.campaign_id,
               CAST(o.paid_at AS DATE) AS paid_on
        FROM order_lines l JOIN orders o USING (order_id) JOIN products p USING (sku)
        WHERE o.paid_at IS NOT NULL
    """)
    con.execute("""
        CREATE TABLE paid AS
        SELECT *, order_amount - refund_amount AS net, CAST(paid_at AS DATE) AS paid_on
        FROM orders WHERE paid_at IS NOT NULL
    """)
    return con


def _margin(con: duckdb.DuckDBPyConnection, year: int) -> float:
    return _one(con, f"SELECT 1 - SUM(cogs) / SUM(net) FROM sales WHERE YEAR(paid_at) = {year}")


def _monthly_net(con: duckdb.DuckDBPyConnection, year: int) -> dict[int, float]:
    rows = _q(con, f"SELECT MONTH(paid_at), SUM(net) FROM paid WHERE YEAR(paid_at) = {year} "
                   "GROUP BY 1 ORDER BY 1")
    return dict(rows)


# ---- (a) and (b): determinism ------------------------------------------------------------


def test_generation_is_byte_identical_across_runs(tmp_path: pathlib.Path) -> None:
    first = sample.generate(tmp_path / "a", orders=20_000, seed=7)
    second = sample.generate(tmp_path / "b", orders=20_000, seed=7)
    assert set(first) == set(second) == set(CONTRACT)
    for name in first:
        assert _digest(first[name]) == _digest(second[name]), name
    other = sample.generate(tmp_path / "c", orders=20_000, seed=8)
    assert _digest(other["orders"]) != _digest(first["orders"])  # the seed matters


def test_committed_data_equals_a_fresh_default_generation(tmp_path: pathlib.Path) -> None:
    fresh = sample.generate(tmp_path / "data")
    assert set(fresh) == set(CONTRACT)
    for name, path in fresh.items():
        committed = DATA / CONTRACT[name]["path"]
        assert committed.exists(), f"{committed} missing: run python -m fupan.sample.generator --out data"
        assert _digest(committed) == _digest(path), f"{committed.name} differs from the generator"
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 25_000_000


def test_streaming_in_small_chunks_stays_consistent(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Months split into many chunks and many row groups still give consistent data."""
    # Each constant is patched in the module that reads it (targets holds its own USER_CHUNK binding).
    monkeypatch.setattr(sample_orders, "CHUNK_ORDERS", 150)
    monkeypatch.setattr(sample_helpers, "ROW_GROUP_ROWS", 5_000)
    monkeypatch.setattr(sample_users, "USER_CHUNK", 2_000)
    monkeypatch.setattr(sample_targets, "USER_CHUNK", 2_000)
    sample.generate(tmp_path, orders=20_000, seed=3)
    # The patches took effect: 20,000 orders in row groups of 5,000.
    assert pq.ParquetFile(tmp_path / "orders.parquet").metadata.num_row_groups == 4
    small = _load(tmp_path)
    assert _one(small, "SELECT COUNT(*) FROM orders") == 20_000
    assert _one(small, "SELECT COUNT(DISTINCT order_id) FROM orders") == 20_000
    assert _one(small, "SELECT COUNT(*) FROM orders o ANTI JOIN users u USING (user_id)") == 0
    assert _one(small, "SELECT COUNT(*) FROM order_lines l ANTI JOIN orders o USING (order_id)") == 0
    mismatched = _one(small, """
        SELECT COUNT(*) FROM orders o JOIN (SELECT order_id, SUM(line_amount) s FROM order_lines
        GROUP BY 1) l USING (order_id) WHERE ROUND(o.order_amount - l.s, 2) <> 0""")
    assert mismatched == 0
    assert _one(small, "SELECT COUNT(*) FROM orders o ANTI JOIN order_lines l USING (order_id)") == 0


# ---- (d): the contract, referential integrity and amounts --------------------------------


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_dataset_follows_the_contract(con: duckdb.DuckDBPyConnection, name: str) -> None:
    spec = CONTRACT[name]
    path = DATA / spec["path"]
    headers = [c.get("header", cname) for cname, c in spec["columns"].items()]
    described = {r[0]: r[1] for r in _q(con, f"DESCRIBE raw_{name}")}
    assert list(described) == headers
    if spec["format"] == "csv":
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
        raw.decode("utf-8")
        first_line = raw.split(b"\n", 1)[0].decode("utf-8")
        assert first_line == ",".join(headers)
    n = _one(con, f"SELECT COUNT(*) FROM {name}")
    assert n > 0
    for cname, col in spec["columns"].items():
        header = col.get("header", cname)
        if spec["format"] == "parquet":
            assert described[header] in PARQUET_TYPES[col["type"]], (cname, described[header])
        elif col["type"] in CSV_PATTERNS:
            bad = _one(con, f"""SELECT COUNT(*) FROM raw_{name} WHERE "{header}" <> ''
                                AND NOT regexp_full_match("{header}", '{CSV_PATTERNS[col["type"]]}')""")
            assert bad == 0, f"{name}.{cname}: {bad} values not written as {col['type']}"
        if col.get("required"):
            assert _one(con, f"SELECT COUNT(*) FROM {name} WHERE {cname} IS NULL") == 0, cname
        if col.get("unique"):
            assert _one(con, f"SELECT COUNT(DISTINCT {cname}) FROM {name}") == n, cname
        if "allowed" in col:
            allowed = ", ".join(f"'{v}'" for v in col["allowed"])
            out = _one(con, f"SELECT COUNT(*) FROM {name} WHERE {cname} NOT IN ({allowed})")
            assert out == 0, cname
        if "min" in col:
            assert _one(con, f"SELECT COUNT(*) FROM {name} WHERE {cname} < {col['min']}") == 0
        if "max" in col:
            assert _one(con, f"SELECT COUNT(*) FROM {name} WHERE {cname} > {col['max']}") == 0
        if "references" in col:
            ref_ds, ref_col = col["references"].split(".")
            dangling = _one(con, f"""SELECT COUNT(*) FROM {name} WHERE {cname} IS NOT NULL
                AND {cname} NOT IN (SELECT {ref_col} FROM {ref_ds})""")
            assert dangling == 0, f"{name}.{cname} → {col['references']}"
    if "primary_key" in spec:
        key = ", ".join(spec["primary_key"])
        assert _one(con, f"SELECT COUNT(*) FROM (SELECT DISTINCT {key} FROM {name})") == n


def test_order_amounts_are_consistent(con: duckdb.DuckDBPyConnection) -> None:
    assert _one(con, "SELECT COUNT(*) FROM order_lines "
                     "WHERE ROUND(line_amount - quantity * unit_price, 2) <> 0") == 0
    assert _one(con, "SELECT COUNT(*) FROM order_lines WHERE refunded_quantity > quantity") == 0
    bad = _one(con, """
        SELECT COUNT(*) FROM orders o JOIN (
            SELECT order_id, SUM(line_amount) AS amount, SUM(refunded_quantity * unit_price) AS ref,
                   SUM(refunded_quantity) AS ref_units
            FROM order_lines GROUP BY 1) l USING (order_id)
        WHERE ROUND(o.order_amount - l.amount, 2) <> 0 OR ROUND(o.refund_amount - l.ref, 2) <> 0
           OR (o.paid_at IS NULL AND (l.ref_units > 0 OR o.refund_amount > 0))""")
    assert bad == 0
    assert _one(con, "SELECT COUNT(*) FROM orders o ANTI JOIN order_lines l USING (order_id)") == 0
    assert _one(con, "SELECT COUNT(*) FROM orders WHERE paid_at < ordered_at") == 0
    unpaid = _one(con, "SELECT AVG(CASE WHEN paid_at IS NULL THEN 1.0 ELSE 0 END) FROM orders")
    assert 0.03 <= unpaid <= 0.05
    # list price ≥ price paid, so discounts are never negative
    assert _one(con, """SELECT COUNT(*) FROM order_lines l JOIN products p USING (sku)
                        WHERE l.unit_price > p.list_price""") == 0


def test_realistic_levels(con: duckdb.DuckDBPyConnection) -> None:
    for year in (2024, 2025):
        aov = _one(con, f"SELECT SUM(net) / COUNT(*) FROM paid WHERE YEAR(paid_at) = {year}")
        assert 150 <= aov <= 300
        assert 0.45 <= _margin(con, year) <= 0.60
    orders = _one(con, "SELECT COUNT(*) FROM orders")
    skus = _one(con, "SELECT COUNT(*) FROM products")
    assert 280 <= skus <= 320 and _one(con, "SELECT COUNT(DISTINCT category) FROM products") == 6
    assert 0.01 <= _one(con, "SELECT COUNT(*) FROM complaints") / orders <= 0.02
    assert 3_000 <= _one(con, "SELECT COUNT(*) FROM survey_responses") <= 5_000
    assert _one(con, "SELECT COUNT(DISTINCT keyword) FROM keywords") >= 35
    assert _one(con, "SELECT COUNT(DISTINCT channel) FROM ad_channels") == 5


def test_users_orders_and_traffic_agree(con: duckdb.DuckDBPyConnection) -> None:
    # users register before (or on the day of) their first order; members joined after registering
    assert _one(con, """SELECT COUNT(*) FROM orders o JOIN users u USING (user_id)
                        WHERE CAST(o.ordered_at AS DATE) < u.registered_on""") == 0
    assert _one(con, "SELECT COUNT(*) FROM users WHERE member_since < registered_on") == 0
    assert _one(con, """SELECT COUNT(*) FROM users WHERE (member_level = '非会员')
                        <> (member_since IS NULL)""") == 0
    assert _one(con, "SELECT COUNT(*) FROM survey_responses s ANTI JOIN users u USING (user_id)") == 0
    # the funnel narrows and starts from the traffic's visitors
    assert _one(con, """SELECT COUNT(*) FROM funnel WHERE NOT (visitors >= cart_users
                        AND cart_users >= order_users AND order_users >= paid_users)""") == 0
    assert _one(con, """SELECT COUNT(*) FROM funnel f JOIN (SELECT date, platform, SUM(visitors) v
                        FROM traffic GROUP BY 1, 2) t USING (date, platform)
                        WHERE t.v <> f.visitors""") == 0
    assert _one(con, "SELECT COUNT(*) FROM funnel") == 731 * 4
    # every (platform, source) that has orders has traffic that day; conversion 2–5 %
    assert _one(con, """SELECT COUNT(*) FROM (SELECT DISTINCT CAST(ordered_at AS DATE) AS date,
                        platform, source FROM orders) o ANTI JOIN traffic t
                        USING (date, platform, source)""") == 0
    for year in (2024, 2025):
        cr = _one(con, f"""SELECT (SELECT COUNT(*) FROM paid WHERE YEAR(paid_at) = {year})
                           / (SELECT SUM(visitors) FROM traffic WHERE YEAR(date) = {year})""")
        assert 0.02 <= cr <= 0.05
    # orders in a campaign window carry its id (most of them), and only inside the window
    assert _one(con, """SELECT COUNT(*) FROM orders o JOIN campaigns c USING (campaign_id)
                        WHERE CAST(o.ordered_at AS DATE) NOT BETWEEN c.start_date AND c.end_date""") == 0
    for cid, share in _q(con, """SELECT c.campaign_id, AVG(CASE WHEN o.campaign_id IS NULL THEN 0.0
                                 ELSE 1 END) FROM campaigns c JOIN orders o
                                 ON CAST(o.ordered_at AS DATE) BETWEEN c.start_date AND c.end_date
                                 GROUP BY 1"""):
        assert 0.6 <= share <= 0.85, cid
    assert _one(con, "SELECT COUNT(*) FROM campaigns WHERE coupons_redeemed > coupons_issued") == 0
    assert _one(con, "SELECT COUNT(*) FROM campaigns WHERE participations < participants") == 0


# ---- (c): the planted patterns -----------------------------------------------------------


def test_net_sales_grow_15_to_25_percent(con: duckdb.DuckDBPyConnection) -> None:
    net = dict(_q(con, "SELECT YEAR(paid_at), SUM(net) FROM paid GROUP BY 1"))
    assert 0.15 <= net[2025] / net[2024] - 1 <= 0.25


def test_peak_and_trough_months(con: duckdb.DuckDBPyConnection) -> None:
    for year in (2024, 2025):
        months = _monthly_net(con, year)
        assert max(months, key=months.get) == 11  # 双11
        assert min(months, key=months.get) == 2  # Spring Festival logistics stop
        assert months[6] > 1.15 * max(months[5], months[7])  # 618
    m25 = _monthly_net(con, 2025)
    assert m25[2] < 0.85 * sorted(m25.values())[1]  # February 2025 clearly the lowest


def test_campaign_windows_lift_daily_sales(con: duckdb.DuckDBPyConnection) -> None:
    daily = dict(_q(con, "SELECT paid_on, SUM(net) FROM paid GROUP BY 1"))
    for year in (2024, 2025):
        median = sorted(v for d, v in daily.items() if d.year == year)[182]
        for cid, start, end in _q(con, f"""SELECT campaign_id, start_date, end_date FROM campaigns
                                         WHERE YEAR(start_date) = {year} AND (name LIKE '%年货节%'
                                         OR name LIKE '%618%' OR name LIKE '%双11%')"""):
            window = [v for d, v in daily.items() if start <= d <= end]
            assert sum(window) / len(window) > 1.3 * median, cid


def test_spring_festival_trough(con: duckdb.DuckDBPyConnection) -> None:
    daily = dict(_q(con, "SELECT paid_on, SUM(net) FROM paid GROUP BY 1"))
    for festival in (dt.date(2024, 2, 10), dt.date(2025, 1, 29)):
        median = sorted(v for d, v in daily.items() if d.year == festival.year)[182]
        around = [daily[festival + dt.timedelta(days=k)] for k in range(-5, 6)]
        assert max(around) < 0.5 * median


def test_four_hits_on_a_long_tail(con: duckdb.DuckDBPyConnection) -> None:
    rows = _q(con, "SELECT sku, SUM(net) FROM sales WHERE YEAR(paid_at) = 2025 "
                   "GROUP BY 1 ORDER BY 2 DESC, 1")
    total = sum(v for _, v in rows)
    shares = [(sku, v / total) for sku, v in rows]
    hits = {sku for sku, s in shares if s >= 0.04}
    assert hits == HITS  # exactly four products above 4 % of net sales
    assert shares[4][1] < 0.6 * shares[3][1]  # a clear gap to the fifth product
    n_skus = _one(con, "SELECT COUNT(*) FROM products")
    top = sum(s for _, s in shares[: int(n_skus * 0.2)])
    assert 0.70 <= top <= 0.80  # Pareto: top 20 % of SKUs
    grown = dict(_q(con, """SELECT sku, SUM(CASE WHEN YEAR(paid_at) = 2025 THEN net END)
                            / SUM(CASE WHEN YEAR(paid_at) = 2024 THEN net END) FROM sales
                            GROUP BY 1"""))
    assert all(grown[sku] > 1.0 for sku in HITS)


def test_growing_and_declining_category(con: duckdb.DuckDBPyConnection) -> None:
    yoy = dict(_q(con, """SELECT category, SUM(CASE WHEN YEAR(paid_at) = 2025 THEN net END)
                          / SUM(CASE WHEN YEAR(paid_at) = 2024 THEN net END) - 1 FROM sales
                          GROUP BY 1"""))
    assert max(yoy, key=yoy.get) == "个护清洁" and yoy["个护清洁"] >= 0.40
    assert min(yoy, key=yoy.get) == "家居日用" and yoy["家居日用"] <= -0.20
    others = [v for k, v in yoy.items() if k not in ("个护清洁", "家居日用")]
    assert all(-0.10 <= v <= 0.40 for v in others)


def test_sales_shift_to_douyin(con: duckdb.DuckDBPyConnection) -> None:
    share = {}
    for year in (2024, 2025):
        rows = _q(con, f"SELECT platform, SUM(net) FROM paid WHERE YEAR(paid_at) = {year} "
                       "GROUP BY 1")
        total = sum(v for _, v in rows)
        share[year] = {p: v / total for p, v in rows}
    assert share[2025]["抖音"] - share[2024]["抖音"] >= 0.08
    assert share[2025]["天猫"] < share[2024]["天猫"]


def test_exactly_one_ad_channel_loses_money(con: duckdb.DuckDBPyConnection) -> None:
    for year in (2024, 2025):
        margin = _margin(con, year)
        rows = _q(con, f"""SELECT channel, SUM(revenue), SUM(spend) FROM ad_channels
                          WHERE YEAR(date) = {year} GROUP BY 1""")
        roi = {ch: (rev * margin - spend) / spend for ch, rev, spend in rows}
        below = [ch for ch, r in roi.items() if r < 1]
        assert below == ["百度信息流"], roi
        assert all(rev / spend >= 4.5 for ch, rev, spend in rows if ch != "百度信息流")
        assert all(r >= 1.2 for ch, r in roi.items() if ch != "百度信息流")


def test_stockout_of_a_hit_in_september(con: duckdb.DuckDBPyConnection) -> None:
    zero = [d for (d,) in _q(con, f"""SELECT snapshot_date FROM inventory WHERE sku = '{STOCKOUT_SKU}'
                                     AND on_hand_units = 0 ORDER BY 1""")]
    assert STOCKOUT_SKU in HITS
    assert 18 <= len(zero) <= 24
    assert all(d.year == 2025 and d.month == 9 for d in zero)
    assert (zero[-1] - zero[0]).days == len(zero) - 1  # one unbroken run
    sold = dict(_q(con, f"""SELECT paid_on, SUM(quantity) FROM sales WHERE sku = '{STOCKOUT_SKU}'
                           AND paid_on BETWEEN '2025-08-01' AND '2025-10-31' GROUP BY 1"""))
    gap = [d for d in sold if zero[0] < d <= zero[-1]]
    assert gap == []  # nothing sold while the shelf was empty
    assert sum(v for d, v in sold.items() if d.month == 8) > 0
    assert sum(v for d, v in sold.items() if d.month == 10) > 0
    # no other SKU is out of stock for a week or more
    long_runs = _q(con, """
        SELECT sku FROM (SELECT sku, snapshot_date - CAST(ROW_NUMBER() OVER (PARTITION BY sku
                ORDER BY snapshot_date) AS INTEGER) AS run FROM inventory WHERE on_hand_units = 0)
        GROUP BY sku, run HAVING COUNT(*) >= 7""")
    assert long_runs == [(STOCKOUT_SKU,)]
    # the delayed purchase order behind it
    late = _one(con, f"""SELECT COUNT(*) FROM purchase_orders WHERE sku = '{STOCKOUT_SKU}'
                        AND received_on - promised_on >= 14""")
    assert late == 1


def test_august_complaint_spike_from_logistics(con: duckdb.DuckDBPyConnection) -> None:
    rows = _q(con, """SELECT c.m, c.n / o.n FROM
        (SELECT DATE_TRUNC('month', created_on) m, COUNT(*) n FROM complaints GROUP BY 1) c
        JOIN (SELECT DATE_TRUNC('month', paid_at) m, COUNT(*) n FROM paid GROUP BY 1) o USING (m)""")
    rate = {m.strftime("%Y-%m"): r for m, r in rows}
    august = rate.pop("2025-08")
    assert august >= 2 * max(rate.values())
    reasons = _q(con, """SELECT reason, COUNT(*) FROM complaints WHERE created_on
                         BETWEEN '2025-08-01' AND '2025-08-31' GROUP BY 1 ORDER BY 2 DESC""")
    assert reasons[0][0] == "物流延迟" and reasons[0][1] > 0.5 * sum(n for _, n in reasons)
    csat = dict(_q(con, """SELECT MONTH(responded_on), AVG(csat) FROM survey_responses
                           WHERE area = '物流' AND YEAR(responded_on) = 2025 GROUP BY 1"""))
    assert min(csat, key=csat.get) == 8


def test_members_buy_more_often(con: duckdb.DuckDBPyConnection) -> None:
    freq = dict(_q(con, """SELECT u.member_level <> '非会员', COUNT(*) / COUNT(DISTINCT user_id)
                           FROM paid p JOIN users u USING (user_id) WHERE YEAR(p.paid_at) = 2025
                           GROUP BY 1"""))
    assert freq[True] >= 1.3 * freq[False]
    members = _one(con, "SELECT AVG(CASE WHEN member_level <> '非会员' THEN 1.0 ELSE 0 END) "
                        "FROM users")
    assert members < 0.3


def test_team_grows_with_attrition(con: duckdb.DuckDBPyConnection) -> None:
    def headcount(day: str) -> int:
        return _one(con, f"""SELECT COUNT(*) FROM team_members WHERE hired_on <= '{day}'
                            AND (left_on IS NULL OR left_on > '{day}')""")

    assert 38 <= headcount("2024-12-31") <= 42
    assert 48 <= headcount("2025-12-31") <= 52
    leavers = _one(con, "SELECT COUNT(*) FROM team_members WHERE YEAR(left_on) = 2025")
    hires = _one(con, "SELECT COUNT(*) FROM team_members WHERE YEAR(hired_on) = 2025")
    assert leavers >= 5 and hires > leavers
    assessed = dict(_q(con, "SELECT year, COUNT(*) FROM assessments GROUP BY 1"))
    assert set(assessed) == {2024, 2025}
    sessions = dict(_q(con, "SELECT YEAR(date), COUNT(DISTINCT training_id) FROM training "
                            "GROUP BY 1"))
    assert sessions[2025] > sessions[2024]
    assert _one(con, "SELECT COUNT(*) FROM hiring_plan WHERE year = 2026") == 6


def test_targets_and_initiatives_cover_the_plan(con: duckdb.DuckDBPyConnection) -> None:
    years = dict(_q(con, "SELECT year, COUNT(DISTINCT metric) FROM targets GROUP BY 1"))
    assert set(years) == {2025, 2026} and min(years.values()) >= 10
    scopes = {s for (s,) in _q(con, "SELECT DISTINCT scope FROM targets")}
    assert scopes == {"全部", "天猫", "京东", "抖音", "小程序"}
    areas = dict(_q(con, "SELECT area, COUNT(*) FROM initiatives GROUP BY 1"))
    assert set(areas) == {"商品策略", "客户服务", "营销推广", "数据驱动优化"}
    statuses = {s for (s,) in _q(con, "SELECT DISTINCT status FROM initiatives")}
    assert len(statuses) >= 3
    companies = dict(_q(con, """SELECT year, COUNT(DISTINCT company) FROM market GROUP BY 1"""))
    assert companies == {2024: 5, 2025: 5}
    assert _one(con, "SELECT COUNT(*) FROM market WHERE is_us") == 12
