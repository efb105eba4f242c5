"""Analyses that are more than one aggregate: RFM, cohorts, funnel, Pareto, campaign uplift,
slow-moving and stocked-out SKUs, hit products, follower growth, target attainment.

Each takes the engine and a period (plus filters where they make sense) and returns a small,
sorted DataFrame. Row-level work happens in SQL (through `engine.run`, so results are cached
and the same code can run on another engine); pandas only sees aggregated rows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from fupan.data.store import quote_literal
from fupan.semantics.engine import Engine, MetricError, MissingData, _period_values
from fupan.semantics.periods import Period, comparison_period, parse_period
from fupan.speed.lazy import lazy_import

pd = lazy_import("pandas")
np = lazy_import("numpy")

# The standard 8-way RFM split: (recent, frequent, high value) → segment name.
RFM_SEGMENTS = {
    (True, True, True): ("重要价值客户", "Champions"),
    (False, True, True): ("重要保持客户", "Loyal, at risk"),
    (True, False, True): ("重要发展客户", "Promising big spenders"),
    (False, False, True): ("重要挽留客户", "Big spenders to win back"),
    (True, True, False): ("一般价值客户", "Regulars"),
    (False, True, False): ("一般保持客户", "Regulars at risk"),
    (True, False, False): ("一般发展客户", "New or occasional"),
    (False, False, False): ("一般挽留客户", "Lapsed"),
}
RFM_ORDER = [v[0] for v in RFM_SEGMENTS.values()]
CHURN_RISK_SEGMENTS = ("重要保持客户", "重要挽留客户")
FUNNEL_STEPS = [
    ("funnel_visitors", "访客", "Visitors"),
    ("cart_users", "加购", "Added to cart"),
    ("order_users", "下单", "Ordered"),
    ("paid_users", "支付", "Paid"),
]
# Hit products: among the top 10 SKUs by net sales, those with at least HIT_MIN_SHARE of the
# period's net sales and net sales growing year on year (or new this year).
HIT_TOP_N = 10
HIT_MIN_SHARE = 0.03
BASELINE_DAYS = 28


def _require(engine: Engine, *datasets: str) -> None:
    missing = [d for d in datasets if d not in engine.available]
    if missing:
        raise MissingData(missing, [engine.store.contract.datasets[d].path for d in missing])


def _model(engine: Engine, name: str, period: Period) -> str:
    return engine.model_sql(engine.catalogue.models[name], period)


def _model_datasets(engine: Engine, name: str) -> list[str]:
    model = engine.catalogue.models[name]
    return list(model.datasets) + [j.dataset for j in model.joins if j.dataset in engine.available]


def _filters_sql(engine: Engine, model_name: str, filters: dict | None, period: Period) -> str:
    if not filters:
        return ""
    model = engine.catalogue.models[model_name]
    parts = []
    for dim, wanted in sorted(filters.items()):
        options = wanted if isinstance(wanted, (list, tuple, set)) else [wanted]
        parts.append(f"{engine._dimension_sql(model, dim, (), period)} IN "
                     f"({', '.join(quote_literal(str(o)) for o in sorted(options))})")
    return " AND " + " AND ".join(parts)


# ---- customers -----------------------------------------------------------------------------

def rfm_segments(engine: Engine, period: Period, filters: dict | None = None) -> pd.DataFrame:
    """Buyers of the period split into the 8 RFM segments at period end.

    R = days from the buyer's last paid order to the period's last day, F = paid orders,
    M = net sales in the period. R, F and M are each scored 1–5 by quintile (ties broken by
    user id so the scores are stable); a buyer is "high" on a measure when better than the
    median (recency below, frequency and monetary above).
    """
    engine.check_request("net_sales", (), filters)
    engine.require("orders")
    values = _period_values(period)
    # paid_orders has one row per order (the orders file's unique key), so a buyer's rows
    # count their orders: COUNT(*) gives COUNT(DISTINCT order_id) without its hash table.
    sql = f"""
        WITH buyer AS (
            SELECT user_id,
                   DATE_DIFF('day', CAST(MAX(paid_at) AS DATE), {values['end']}) AS recency,
                   COUNT(*) AS frequency,
                   SUM(order_amount - refund_amount) AS monetary
            FROM ({_model(engine, 'paid_orders', period)}) AS m
            WHERE paid_at >= {values['start']} AND paid_at < {values['end_excl']}
                  {_filters_sql(engine, 'paid_orders', filters, period)}
            GROUP BY user_id
        ), medians AS (
            SELECT MEDIAN(recency) AS r_med, MEDIAN(frequency) AS f_med, MEDIAN(monetary) AS m_med
            FROM buyer
        ), scored AS (
            SELECT b.*,
                   NTILE(5) OVER (ORDER BY recency DESC, user_id) AS r_score,
                   NTILE(5) OVER (ORDER BY frequency, user_id) AS f_score,
                   NTILE(5) OVER (ORDER BY monetary, user_id) AS m_score,
                   CASE WHEN recency < md.r_med THEN 1 ELSE 0 END AS r_high,
                   CASE WHEN frequency > md.f_med THEN 1 ELSE 0 END AS f_high,
                   CASE WHEN monetary > md.m_med THEN 1 ELSE 0 END AS m_high
            FROM buyer b CROSS JOIN medians md
        )
        SELECT r_high, f_high, m_high, COUNT(*) AS buyers, SUM(monetary) AS net_sales,
               AVG(recency) AS recency_days, AVG(frequency) AS frequency, AVG(monetary) AS monetary,
               AVG(r_score) AS r_score, AVG(f_score) AS f_score, AVG(m_score) AS m_score
        FROM scored GROUP BY r_high, f_high, m_high ORDER BY r_high, f_high, m_high
    """
    frame = engine.run(sql, _model_datasets(engine, "paid_orders"))
    rows = []
    for (r, f, m), (zh, en) in RFM_SEGMENTS.items():
        match = frame[(frame["r_high"] == int(r)) & (frame["f_high"] == int(f)) & (frame["m_high"] == int(m))]
        row = match.iloc[0] if not match.empty else None
        rows.append({
            "segment": zh, "segment_en": en,
            "buyers": float(row["buyers"]) if row is not None else 0.0,
            "net_sales": float(row["net_sales"]) if row is not None else 0.0,
            "recency_days": float(row["recency_days"]) if row is not None else np.nan,
            "frequency": float(row["frequency"]) if row is not None else np.nan,
            "monetary": float(row["monetary"]) if row is not None else np.nan,
            "r_score": float(row["r_score"]) if row is not None else np.nan,
            "f_score": float(row["f_score"]) if row is not None else np.nan,
            "m_score": float(row["m_score"]) if row is not None else np.nan,
        })
    out = pd.DataFrame(rows)
    total_buyers, total_sales = out["buyers"].sum(), out["net_sales"].sum()
    out["buyer_share"] = out["buyers"] / total_buyers if total_buyers else np.nan
    out["sales_share"] = out["net_sales"] / total_sales if total_sales else np.nan
    return out


def cohort_retention(engine: Engine, period: Period, max_months: int = 12) -> pd.DataFrame:
    """Monthly first-purchase cohorts of the period: share of each cohort with a paid order
    k months after its first month (k = 0 is the first month itself, always 100%)."""
    engine.require("orders")
    values = _period_values(period)
    sql = f"""
        WITH o AS (
            SELECT user_id, DATE_TRUNC('month', paid_at) AS month,
                   DATE_TRUNC('month', first_paid_at) AS cohort
            FROM ({_model(engine, 'paid_orders', period)}) AS m
            WHERE first_paid_at >= {values['start']} AND first_paid_at < {values['end_excl']}
        ), active AS (
            SELECT DISTINCT user_id, cohort,
                   (YEAR(month) - YEAR(cohort)) * 12 + MONTH(month) - MONTH(cohort) AS month_offset
            FROM o
        ), sizes AS (
            SELECT cohort, COUNT(DISTINCT user_id) AS cohort_size FROM active
            WHERE month_offset = 0 GROUP BY cohort
        )
        SELECT a.cohort, a.month_offset, s.cohort_size, COUNT(DISTINCT a.user_id) AS buyers
        FROM active a JOIN sizes s ON a.cohort = s.cohort
        WHERE a.month_offset <= {int(max_months)}
        GROUP BY a.cohort, a.month_offset, s.cohort_size
        ORDER BY a.cohort, a.month_offset
    """
    frame = engine.run(sql, _model_datasets(engine, "paid_orders"))
    frame["cohort"] = [pd.Timestamp(c).strftime("%Y-%m") for c in frame["cohort"]]
    frame["month_offset"] = frame["month_offset"].astype(int)
    frame["cohort_size"] = frame["cohort_size"].astype(float)
    frame["buyers"] = frame["buyers"].astype(float)
    frame["retention"] = frame["buyers"] / frame["cohort_size"]
    # Only offsets that have fully happened inside the data: drop cells after the period end.
    last = period.end.year * 12 + period.end.month
    keep = [int(c[:4]) * 12 + int(c[5:7]) + k <= last
            for c, k in zip(frame["cohort"], frame["month_offset"], strict=True)]
    return frame[keep].reset_index(drop=True)


def funnel_steps(engine: Engine, period: Period, filters: dict | None = None) -> pd.DataFrame:
    """Visit → add to cart → order → pay, each step's users and its rate of the previous step
    and of the first."""
    rows = []
    for metric, zh, en in FUNNEL_STEPS:
        rows.append({"step": metric, "label_zh": zh, "label_en": en,
                     "users": engine.compute(metric, period, (), filters)["value"].iloc[0]})
    frame = pd.DataFrame(rows)
    users = frame["users"].astype(float)
    frame["rate_prev"] = (users / users.shift(1)).where(users.shift(1) > 0)
    frame["rate_first"] = (users / users.iloc[0]) if users.iloc[0] else np.nan
    frame.loc[0, "rate_prev"] = np.nan
    return frame


# ---- products ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pareto:
    top_fraction: float
    top_count: int
    items: int
    share: float | None  # share of net sales from the top items
    curve: pd.DataFrame  # rank, item, value, item_share, cum_share


def pareto(engine: Engine, period: Period, by: str = "sku", top_fraction: float = 0.2,
           filters: dict | None = None) -> Pareto:
    """Share of net sales from the top `top_fraction` of items (SKUs by default) that sold in
    the period; the count of top items is rounded up."""
    frame = engine.compute("net_sales", period, (by,), filters)
    frame = frame[frame["value"].notna()].sort_values(["value", by], ascending=[False, True],
                                                      kind="mergesort").reset_index(drop=True)
    items = len(frame)
    total = frame["value"].sum()
    top_count = math.ceil(items * top_fraction) if items else 0
    share = float(frame["value"].head(top_count).sum() / total) if total else None
    curve = pd.DataFrame({
        "rank": np.arange(1, items + 1),
        "item": frame[by].astype(str),
        "value": frame["value"],
        "item_share": np.arange(1, items + 1) / items if items else [],
        "cum_share": frame["value"].cumsum() / total if total else np.nan,
    })
    return Pareto(top_fraction, top_count, items, share, curve)


def hit_products(engine: Engine, period: Period, comparison: str = "yoy") -> pd.DataFrame:
    """Every SKU that sold in the period with its features; `is_hit` marks the hits.

    Rule (stated on the site): a hit is one of the top 10 SKUs by net sales with at least 3%
    of the period's net sales whose net sales grew versus the comparison period (or that had
    none then).
    """
    engine.require("net_sales")
    values = _period_values(period)
    base_period = comparison_period(period, comparison)
    base_values = _period_values(base_period) if base_period else None
    base_sum = (
        f"SUM(CASE WHEN paid_at >= {base_values['start']} AND paid_at < {base_values['end_excl']} "
        "THEN line_amount - refund_amount ELSE 0 END)" if base_values else "NULL"
    )
    start = base_values["start"] if base_values else values["start"]
    sql = f"""
        SELECT m.sku, MIN(m.product) AS product, MIN(m.category) AS category,
               SUM(CASE WHEN paid_at >= {values['start']} THEN line_amount - refund_amount ELSE 0 END) AS net_sales,
               SUM(CASE WHEN paid_at >= {values['start']} THEN quantity ELSE 0 END) AS units,
               SUM(CASE WHEN paid_at >= {values['start']} THEN line_amount ELSE 0 END) AS gmv,
               SUM(CASE WHEN paid_at >= {values['start']} AND campaign_id IS NOT NULL
                        THEN line_amount ELSE 0 END) AS campaign_gmv,
               {base_sum} AS base_net_sales
        FROM ({_model(engine, 'sales_lines', period)}) AS m
        WHERE paid_at >= {start} AND paid_at < {values['end_excl']}
        GROUP BY m.sku ORDER BY m.sku
    """
    frame = engine.run(sql, _model_datasets(engine, "sales_lines"))
    products = engine.run(
        f"SELECT sku, list_price, rating, DATE_DIFF('day', launch_date, {values['end']}) AS launch_days "
        "FROM products ORDER BY sku", ["products"])
    frame = frame.merge(products, on="sku", how="left")
    frame = frame[frame["net_sales"] > 0].copy()
    total = frame["net_sales"].sum()
    frame["share"] = frame["net_sales"] / total if total else np.nan
    frame["avg_price"] = (frame["gmv"] / frame["units"]).where(frame["units"] > 0)
    frame["campaign_share"] = (frame["campaign_gmv"] / frame["gmv"]).where(frame["gmv"] > 0)
    base = pd.to_numeric(frame["base_net_sales"], errors="coerce")
    frame["growth"] = ((frame["net_sales"] - base) / base).where(base > 0)
    frame = frame.sort_values(["net_sales", "sku"], ascending=[False, True], kind="mergesort")
    frame["rank"] = np.arange(1, len(frame) + 1)
    grew = frame["growth"].isna() | (frame["growth"] > 0)
    frame["is_hit"] = (frame["rank"] <= HIT_TOP_N) & (frame["share"] >= HIT_MIN_SHARE) & grew
    columns = ["rank", "sku", "product", "category", "net_sales", "units", "share", "growth",
               "avg_price", "list_price", "rating", "launch_days", "campaign_share", "is_hit"]
    return frame[columns].reset_index(drop=True)


def slow_moving_skus(engine: Engine, period: Period, days: int = 90) -> pd.DataFrame:
    """SKUs with stock on hand on the period's last snapshot and no sale in the last `days`
    days up to the period's end."""
    _require(engine, "inventory", "products")
    values = _period_values(period)
    # Date arithmetic in Python: INTERVAL literals do not mean the same on every engine.
    window_start = f"DATE {quote_literal((period.end_exclusive - dt.timedelta(days=int(days))).isoformat())}"
    # The last sale is read from the stored paid order lines (sales_lines), not by joining 22M
    # raw lines to their orders again (1.8 s at 10M orders): that model's inner join with
    # products drops only lines of SKUs missing from products, which `stock` leaves out anyway.
    sql = f"""
        WITH last_day AS (
            SELECT MAX(snapshot_date) AS d FROM inventory WHERE snapshot_date <= {values['end']}
        ), stock AS (
            SELECT i.sku, i.on_hand_units, i.on_hand_units * p.unit_cost AS stock_value,
                   p.name AS product, p.category
            FROM inventory i JOIN products p ON i.sku = p.sku JOIN last_day ld ON i.snapshot_date = ld.d
            WHERE i.on_hand_units > 0
        ), last_sale AS (
            SELECT sku, MAX(CAST(paid_at AS DATE)) AS last_sale
            FROM ({_model(engine, 'sales_lines', period)}) AS m
            WHERE paid_at < {values['end_excl']}
            GROUP BY sku
        )
        SELECT s.sku, s.product, s.category, s.on_hand_units, s.stock_value, ls.last_sale
        FROM stock s LEFT JOIN last_sale ls ON s.sku = ls.sku
        WHERE ls.last_sale IS NULL OR ls.last_sale < CAST({window_start} AS DATE)
        ORDER BY s.stock_value DESC, s.sku
    """
    frame = engine.run(sql, list(dict.fromkeys(["inventory", "products", *_model_datasets(engine, "sales_lines")])))
    frame["last_sale"] = [None if v is None else str(v)[:10] for v in frame["last_sale"]]
    return frame


def stockouts(engine: Engine, period: Period) -> pd.DataFrame:
    """SKUs that had zero stock on some day of the period: days out of stock, first and last
    such day, and the SKU's net sales in the period (to spot stocked-out best sellers)."""
    _require(engine, "inventory", "products")
    values = _period_values(period)
    sql = f"""
        SELECT i.sku, MIN(p.name) AS product, MIN(p.category) AS category,
               COUNT(*) AS stockout_days,
               MIN(i.snapshot_date) AS first_day, MAX(i.snapshot_date) AS last_day
        FROM inventory i JOIN products p ON i.sku = p.sku
        WHERE i.on_hand_units = 0 AND i.snapshot_date >= {values['start']}
              AND i.snapshot_date <= {values['end']}
        GROUP BY i.sku ORDER BY stockout_days DESC, i.sku
    """
    frame = engine.run(sql, ["inventory", "products"])
    sales = engine.compute("net_sales", period, ("sku",))
    frame = frame.merge(sales.rename(columns={"value": "net_sales"}), on="sku", how="left")
    frame["first_day"] = [str(v)[:10] for v in frame["first_day"]]
    frame["last_day"] = [str(v)[:10] for v in frame["last_day"]]
    return frame.sort_values(["stockout_days", "net_sales", "sku"], ascending=[False, False, True],
                             kind="mergesort").reset_index(drop=True)


# ---- marketing -----------------------------------------------------------------------------

def campaign_uplift(engine: Engine, period: Period) -> pd.DataFrame:
    """Every campaign starting in the period: shop net sales during it versus a baseline of
    the mean daily net sales of the 28 days before it × its days (uplift = the difference)."""
    _require(engine, "campaigns")
    values = _period_values(period)
    campaigns = engine.run(
        "SELECT campaign_id, name, start_date, end_date, participants, participations, "
        "coupons_issued, coupons_redeemed, budget FROM campaigns "
        f"WHERE start_date >= {values['start']} AND start_date <= {values['end']} "
        "ORDER BY start_date, campaign_id", ["campaigns"])
    first_day = engine.earliest(engine.catalogue.models["sales_lines"])
    rows = []
    for _, c in campaigns.iterrows():
        start = pd.Timestamp(c["start_date"]).date()
        end = pd.Timestamp(c["end_date"]).date()
        during = engine.value("net_sales", parse_period(f"{start.isoformat()}..{end.isoformat()}"))
        # Baseline: mean daily net sales of the 28 days before, counting only days that have
        # data (a campaign in the first weeks of the data gets a shorter baseline, or none).
        base_start = max(start - pd.Timedelta(days=BASELINE_DAYS), first_day or start)
        base_end = start - pd.Timedelta(days=1)
        base_days = (base_end - base_start).days + 1
        days = (end - start).days + 1
        during = engine.value("net_sales", parse_period(f"{start.isoformat()}..{end.isoformat()}")) or 0.0
        if base_days > 0:
            before = engine.value("net_sales", parse_period(f"{base_start.isoformat()}..{base_end.isoformat()}"))
            baseline = (before or 0.0) / base_days * days
        else:
            baseline = np.nan
        rows.append({
            "campaign_id": c["campaign_id"], "name": c["name"],
            "start": start.isoformat(), "end": end.isoformat(), "days": days,
            "participants": c["participants"], "participations": c["participations"],
            "coupons_issued": c["coupons_issued"], "coupons_redeemed": c["coupons_redeemed"],
            "coupon_redemption": (c["coupons_redeemed"] / c["coupons_issued"]
                                  if c["coupons_issued"] else np.nan),
            "net_sales": during, "baseline": baseline, "uplift": during - baseline,
            "uplift_pct": (during - baseline) / baseline if baseline and not pd.isna(baseline) else np.nan,
        })
    frame = pd.DataFrame(rows)
    if not frame.empty and "survey_responses" in engine.available:
        scores = engine.run(
            "SELECT campaign_id, AVG(csat) AS feedback_score, COUNT(*) AS responses "
            "FROM survey_responses WHERE campaign_id IS NOT NULL GROUP BY campaign_id ORDER BY campaign_id",
            ["survey_responses"])
        frame = frame.merge(scores, on="campaign_id", how="left")
    return frame


def follower_growth(engine: Engine, period: Period) -> pd.DataFrame:
    """Followers by social platform at the end of the month before the period and at the
    period's last month, and the growth between them."""
    _require(engine, "social_followers")
    values = _period_values(period)
    month_before = f"DATE {quote_literal((period.start - dt.timedelta(days=1)).isoformat())}"
    sql = f"""
        SELECT platform,
               SUM(CASE WHEN DATE_TRUNC('month', month) = DATE_TRUNC('month', {month_before})
                        THEN followers END) AS start_followers,
               SUM(CASE WHEN DATE_TRUNC('month', month) = DATE_TRUNC('month', {values['end']})
                        THEN followers END) AS end_followers
        FROM social_followers GROUP BY platform ORDER BY platform
    """
    frame = engine.run(sql, ["social_followers"])
    frame["growth"] = ((frame["end_followers"] - frame["start_followers"]) / frame["start_followers"]
                       ).where(frame["start_followers"] > 0)
    return frame


# ---- targets -------------------------------------------------------------------------------

ALL_SCOPES = ("全部", "全店", "all", "total", "")


def target_attainment(engine: Engine, year: int, as_of=None) -> pd.DataFrame:
    """Targets of `year` next to the actual value of their metric (when the catalogue has it
    and the year has data): attainment = actual ÷ target. A scope other than 全部 filters the
    metric by platform."""
    _require(engine, "targets")
    targets = engine.run(
        f"SELECT metric, scope, target FROM targets WHERE year = {int(year)} ORDER BY metric, scope",
        ["targets"])
    period = parse_period(str(year), as_of)
    rows = []
    for _, t in targets.iterrows():
        metric = str(t["metric"])
        scope = "" if t["scope"] is None else str(t["scope"])
        actual = np.nan
        if metric in engine.catalogue.metrics:
            filters = None if scope in ALL_SCOPES else {"platform": scope}
            try:
                engine.check_request(metric, (), filters)
                value = engine.value(metric, period, filters)
                actual = np.nan if value is None else value
            except (MissingData, ValueError):
                actual = np.nan
        lower_better = metric in engine.catalogue.metrics and engine.catalogue.metrics[metric].better == "lower"
        if pd.isna(actual) or not t["target"] or (lower_better and not actual):
            attainment = np.nan
        else:
            # For "lower is better" metrics (complaint rate, costs) beating the target means
            # staying under it: attainment = target ÷ actual.
            attainment = t["target"] / actual if lower_better else actual / t["target"]
        rows.append({"metric": metric, "scope": scope or "全部", "target": float(t["target"]),
                     "actual": actual, "attainment": attainment})
    return pd.DataFrame(rows)


# ---- period tables, distributions ------------------------------------------------------------

def period_table(engine: Engine, metric: str, period: Period, grain: str = "month") -> pd.DataFrame:
    """The metric per month (or quarter) of the period with the change versus the previous one
    (MoM / QoQ; the first row compares with the bucket just before the period)."""
    if grain not in ("month", "quarter"):
        raise MetricError("grain must be month or quarter")
    metric_def = engine.check_request(metric, (grain,))
    months = 3 if grain == "quarter" else 1
    index = period.start.year * 12 + period.start.month - 1 - months
    extended = Period(pd.Timestamp(year=index // 12, month=index % 12 + 1, day=1).date(), period.end, "custom")
    frame = engine.compute(metric, extended, (grain,)).rename(columns={grain: "key"})
    frame["previous"] = frame["value"].shift(1)
    from fupan.semantics.engine import change_between

    frame["change"] = [change_between(metric_def, v, b) for v, b in
                       zip(frame["value"], frame["previous"], strict=True)]
    first_key = (f"{period.start.year:04d}-{period.start.month:02d}" if grain == "month"
                 else f"{period.start.year:04d}-Q{(period.start.month - 1) // 3 + 1}")
    return frame[frame["key"] >= first_key].reset_index(drop=True)


FREQUENCY_BUCKETS = ["1 单", "2 单", "3 单", "4 单", "5 单及以上"]


def frequency_distribution(engine: Engine, period: Period) -> pd.DataFrame:
    """Buyers by number of paid orders in the period (1, 2, 3, 4, 5+), with their share."""
    engine.require("orders")
    values = _period_values(period)
    # n counts rows of paid_orders, one per order (as in rfm_segments).
    sql = f"""
        SELECT CASE WHEN n >= 5 THEN 5 ELSE n END AS bucket, COUNT(*) AS buyers,
               SUM(sales) AS net_sales
        FROM (SELECT user_id, COUNT(*) AS n, SUM(order_amount - refund_amount) AS sales
              FROM ({_model(engine, 'paid_orders', period)}) AS m
              WHERE paid_at >= {values['start']} AND paid_at < {values['end_excl']}
              GROUP BY user_id) AS b
        GROUP BY 1 ORDER BY 1
    """
    frame = engine.run(sql, _model_datasets(engine, "paid_orders"))
    frame["bucket"] = [FREQUENCY_BUCKETS[int(b) - 1] for b in frame["bucket"]]
    frame["share"] = frame["buyers"] / frame["buyers"].sum()
    frame["aov"] = frame["net_sales"] / frame["buyers"]
    return frame


def rfm_compare(engine: Engine, period: Period, comparison: str = "yoy") -> pd.DataFrame:
    """RFM segments of the period next to the comparison period's: size and value change."""
    current = rfm_segments(engine, period)
    base_period = comparison_period(period, comparison)
    base = rfm_segments(engine, base_period) if base_period else current.assign(buyers=np.nan, net_sales=np.nan)
    out = current[["segment", "segment_en", "buyers", "buyer_share", "net_sales", "sales_share",
                   "recency_days", "frequency", "monetary"]].copy()
    out["base_buyers"] = base["buyers"].to_numpy()
    out["base_net_sales"] = base["net_sales"].to_numpy()
    out["buyers_change"] = ((out["buyers"] - out["base_buyers"]) / out["base_buyers"]).where(out["base_buyers"] > 0)
    out["sales_change"] = ((out["net_sales"] - out["base_net_sales"]) / out["base_net_sales"]).where(
        out["base_net_sales"] > 0)
    out["churn_risk"] = out["segment"].isin(CHURN_RISK_SEGMENTS)
    return out


# ---- marketing ----------------------------------------------------------------------------------

def keyword_table(engine: Engine, period: Period) -> pd.DataFrame:
    """Keywords of the period with impressions, clicks, CTR, CVR, spend, revenue and ROAS;
    `best` / `worst` mark the highest and lowest ROAS among keywords with at least the median
    spend (so a keyword with a few yuan of spend cannot top the list)."""
    _require(engine, "keywords")
    values = _period_values(period)
    sql = f"""
        SELECT keyword, MIN(channel) AS channel, SUM(impressions) AS impressions, SUM(clicks) AS clicks,
               SUM(conversions) AS conversions, SUM(spend) AS spend, SUM(revenue) AS revenue
        FROM keywords WHERE month >= {values['start']} AND month <= {values['end']}
        GROUP BY keyword ORDER BY keyword
    """
    frame = engine.run(sql, ["keywords"])
    for col in ("impressions", "clicks", "conversions", "spend", "revenue"):
        frame[col] = frame[col].astype(float)
    frame["ctr"] = (frame["clicks"] / frame["impressions"]).where(frame["impressions"] > 0)
    frame["cvr"] = (frame["conversions"] / frame["clicks"]).where(frame["clicks"] > 0)
    frame["roas"] = (frame["revenue"] / frame["spend"]).where(frame["spend"] > 0)
    eligible = frame[frame["spend"] >= frame["spend"].median()].sort_values(["roas", "keyword"], kind="mergesort")
    frame["best"] = frame["keyword"] == (eligible["keyword"].iloc[-1] if not eligible.empty else None)
    frame["worst"] = frame["keyword"] == (eligible["keyword"].iloc[0] if not eligible.empty else None)
    return frame.sort_values(["spend", "keyword"], ascending=[False, True], kind="mergesort").reset_index(drop=True)


def loyalty_summary(engine: Engine, period: Period) -> pd.DataFrame:
    """Loyalty programme by month: points earned/redeemed, coupons issued/redeemed and rates."""
    _require(engine, "loyalty")
    values = _period_values(period)
    frame = engine.run(
        "SELECT month, points_earned, points_redeemed, coupons_issued, coupons_redeemed FROM loyalty "
        f"WHERE month >= {values['start']} AND month <= {values['end']} ORDER BY month", ["loyalty"])
    frame["month"] = [str(m)[:7] for m in frame["month"]]
    for col in ("points_earned", "points_redeemed", "coupons_issued", "coupons_redeemed"):
        frame[col] = frame[col].astype(float)
    frame["points_redemption"] = (frame["points_redeemed"] / frame["points_earned"]).where(frame["points_earned"] > 0)
    frame["coupon_redemption"] = (frame["coupons_redeemed"] / frame["coupons_issued"]).where(
        frame["coupons_issued"] > 0)
    return frame


def follower_series(engine: Engine, period: Period) -> pd.DataFrame:
    """Month-end followers by social platform, month by month through the period."""
    _require(engine, "social_followers")
    values = _period_values(period)
    frame = engine.run(
        "SELECT month, platform, followers FROM social_followers "
        f"WHERE month >= {values['start']} AND month <= {values['end']} ORDER BY month, platform",
        ["social_followers"])
    frame["month"] = [str(m)[:7] for m in frame["month"]]
    frame["followers"] = frame["followers"].astype(float)
    return frame


# ---- team -------------------------------------------------------------------------------------

KPI_BANDS = [(90, "优秀（≥90）"), (80, "良好（80–89）"), (70, "合格（70–79）"), (0, "待改进（<70）")]


def kpi_distribution(engine: Engine, year: int, min_group_size: int | None = None) -> pd.DataFrame:
    """KPI scores of the year by function: assessed employees, mean score, count per band and
    promotions. Functions with fewer employees than the minimum group size merge into 其他."""
    _require(engine, "assessments", "team_members")
    bands = " ".join(f"WHEN a.kpi_score >= {low} THEN {quote_literal(label)}" for low, label in KPI_BANDS)
    frame = engine.run(
        f"SELECT t.function, CASE {bands} END AS band, COUNT(*) AS employees, SUM(a.kpi_score) AS score_sum, "
        "SUM(CASE WHEN a.promoted THEN 1 ELSE 0 END) AS promoted "
        "FROM assessments a JOIN team_members t ON a.employee_id = t.employee_id "
        f"WHERE a.year = {int(year)} GROUP BY 1, 2 ORDER BY 1, 2", ["assessments", "team_members"])
    k = engine.min_group_size if min_group_size is None else min_group_size
    sizes = frame.groupby("function")["employees"].sum()
    small = set(sizes[sizes < k].index)
    frame["function"] = [OTHER if f in small else f for f in frame["function"]]
    grouped = frame.groupby("function", sort=True)
    out = grouped[["employees", "score_sum", "promoted"]].sum()
    for _, label in KPI_BANDS:
        out[label] = frame[frame["band"] == label].groupby("function")["employees"].sum()
    out = out.fillna(0.0)
    out["mean_score"] = out["score_sum"] / out["employees"]
    out["promotion_rate"] = out["promoted"] / out["employees"]
    return out.drop(columns="score_sum").reset_index()


def hiring_gap(engine: Engine, period: Period, plan_year: int) -> pd.DataFrame:
    """Planned headcount of `plan_year` by function next to the headcount at the period's end."""
    _require(engine, "hiring_plan", "team_members")
    plan = engine.run(f"SELECT function, planned_headcount FROM hiring_plan WHERE year = {int(plan_year)} "
                      "ORDER BY function", ["hiring_plan"])
    current = engine.compute("headcount", period, ("function",)).rename(columns={"value": "headcount"})
    frame = plan.merge(current, on="function", how="outer").fillna({"headcount": 0.0})
    frame["planned_headcount"] = frame["planned_headcount"].astype(float)
    frame["gap"] = frame["planned_headcount"] - frame["headcount"]
    return frame.sort_values("function", kind="mergesort").reset_index(drop=True)


# ---- market, targets, initiatives ---------------------------------------------------------------

def market_share_table(engine: Engine, year: int) -> pd.DataFrame:
    """Sales and market share of every company in the market data, this year and the year before."""
    _require(engine, "market")
    frame = engine.run(
        "SELECT year, company, MAX(CASE WHEN is_us THEN 1 ELSE 0 END) AS is_us, SUM(sales) AS sales "
        f"FROM market WHERE year IN ({int(year) - 1}, {int(year)}) GROUP BY 1, 2 ORDER BY 1, 2", ["market"])
    frame["share"] = frame["sales"] / frame.groupby("year")["sales"].transform("sum")
    current = frame[frame["year"] == int(year)].set_index("company")
    base = frame[frame["year"] == int(year) - 1].set_index("company")
    out = current[["is_us", "sales", "share"]].copy()
    out["base_sales"] = base["sales"]
    out["base_share"] = base["share"]
    out["share_change"] = out["share"] - out["base_share"]
    out["is_us"] = out["is_us"].astype(bool)
    return out.reset_index().sort_values(["sales", "company"], ascending=[False, True],
                                         kind="mergesort").reset_index(drop=True)


def next_year_targets(engine: Engine, year: int, as_of=None) -> pd.DataFrame:
    """Targets for the year after `year`, next to this year's actual and the growth they imply."""
    this_year = target_attainment(engine, int(year) + 1, as_of=None)
    period = parse_period(str(year), as_of)
    rows = []
    for _, t in this_year.iterrows():
        actual = np.nan
        if t["metric"] in engine.catalogue.metrics:
            filters = None if t["scope"] in ALL_SCOPES else {"platform": t["scope"]}
            try:
                engine.check_request(t["metric"], (), filters)
                value = engine.value(t["metric"], period, filters)
                actual = np.nan if value is None else value
            except (MissingData, ValueError):
                actual = np.nan
        metric_def = engine.catalogue.metrics.get(t["metric"])
        implied = np.nan
        if not pd.isna(actual) and actual:
            implied = (t["target"] - actual) if metric_def is not None and metric_def.is_difference else \
                (t["target"] / actual - 1)
        rows.append({"metric": t["metric"], "scope": t["scope"], "target": t["target"], "actual": actual,
                     "implied_change": implied})
    return pd.DataFrame(rows)


def initiatives(engine: Engine, year: int) -> pd.DataFrame:
    """The year's initiatives as listed in the initiatives file (area order, then id)."""
    _require(engine, "initiatives")
    return engine.run(
        "SELECT initiative_id, area, name, owner_role, status, kpi, target, actual, completion "
        f"FROM initiatives WHERE year = {int(year)} ORDER BY area, initiative_id", ["initiatives"])


OTHER = "其他"
