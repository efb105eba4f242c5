"""Analyses that are more than one aggregate: RFM, cohorts, funnel, Pareto, campaign uplift,
slow-moving and stocked-out SKUs, hit products, follower growth, target attainment.

Each takes the engine and a period (plus filters where they make sense) and returns a small,
sorted DataFrame. No analysis writes SQL: every figure comes from a catalogue metric through the
engine's public methods (compute, compare_by, per_entity for per-buyer questions answered in the
database, rows for small lookup tables), so the analyses follow the catalogue's definitions and
its privacy rule, results are cached, and the same code runs on another engine. pandas only sees
aggregated rows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from fupan.semantics.engine import OTHER_GROUP, Engine, MetricError, MissingData
from fupan.semantics.periods import Period, comparison_period, month_keys, parse_period
from fupan.semantics.sql import Between, Buckets, MedianSplit, Present
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
# RFM's measures per buyer, each a catalogue metric: R = days from the last paid order to the
# period end, F = paid orders, M = net sales (the catalogue's, over the order lines).
RFM_MEASURES = {"recency": "days_since_last_sale", "frequency": "orders", "monetary": "net_sales"}


# ---- customers -----------------------------------------------------------------------------

def rfm_segments(engine: Engine, period: Period, filters: dict | None = None) -> pd.DataFrame:
    """Buyers of the period split into the 8 RFM segments at period end.

    R = days from the buyer's last paid order to the period's last day, F = paid orders,
    M = net sales in the period (the catalogue's metrics per buyer: days_since_last_sale,
    orders, net_sales). R, F and M are each scored 1–5 by quintile (ties broken by user id so
    the scores are stable); a buyer is "high" on a measure when better than the median
    (recency below, frequency and monetary above). A segment with fewer buyers than the
    minimum group size is hidden (its figures missing).
    """
    # Per buyer, then per segment, in the database: per-buyer rows never reach pandas.
    frame = engine.per_entity("user_id", RFM_MEASURES, period, filters, MedianSplit(tiles=5))
    rows = []
    for (r, f, m), (zh, en) in RFM_SEGMENTS.items():
        match = frame[(frame["recency_high"] == int(r)) & (frame["frequency_high"] == int(f))
                      & (frame["monetary_high"] == int(m))]
        row = match.iloc[0] if not match.empty else None
        buyers = float(row["entities"]) if row is not None else 0.0

        def mean(column: str, row=row, buyers=buyers) -> float:
            return float(row[column]) / buyers if row is not None and buyers else np.nan

        rows.append({
            "segment": zh, "segment_en": en,
            "buyers": buyers,
            "net_sales": float(row["monetary_sum"]) if row is not None else 0.0,
            "recency_days": mean("recency_sum"),
            "frequency": mean("frequency_sum"),
            "monetary": mean("monetary_sum"),
            "r_score": mean("recency_score_sum"),
            "f_score": mean("frequency_score_sum"),
            "m_score": mean("monetary_score_sum"),
        })
    out = pd.DataFrame(rows)
    total_buyers, total_sales = out["buyers"].sum(), out["net_sales"].sum()
    out["buyer_share"] = out["buyers"] / total_buyers if total_buyers else np.nan
    out["sales_share"] = out["net_sales"] / total_sales if total_sales else np.nan
    return out


def cohort_retention(engine: Engine, period: Period, max_months: int = 12) -> pd.DataFrame:
    """Monthly first-purchase cohorts of the period: share of each cohort with a paid order
    k months after its first month (k = 0 is the first month itself, always 100%)."""
    # New buyers of the period (first paid order in it) by the month of that first order and by
    # month: each cell is a cohort's buyers k months on, and k = 0 is the cohort's size. A
    # cohort too small to show merges into 其他, which has no place in the table. Orders without
    # a buyer id have no first month: they form no cohort.
    frame = engine.compute("new_buyers", period, ("first_month", "month"))
    frame = frame[frame["first_month"].notna() & (frame["first_month"] != OTHER_GROUP)].reset_index(drop=True)
    frame["cohort"] = [pd.Timestamp(c).strftime("%Y-%m") for c in frame["first_month"]]
    frame["month_offset"] = [(int(m[:4]) - int(c[:4])) * 12 + int(m[5:7]) - int(c[5:7])
                             for c, m in zip(frame["cohort"], frame["month"], strict=True)]
    frame["buyers"] = frame["value"].astype(float)
    sizes = frame[frame["month_offset"] == 0].set_index("cohort")["buyers"]
    frame = frame[(frame["month_offset"] <= int(max_months)) & frame["cohort"].isin(sizes.index)]
    frame = frame.assign(cohort_size=[float(sizes[c]) for c in frame["cohort"]])
    frame = frame[["cohort", "month_offset", "cohort_size", "buyers"]].sort_values(
        ["cohort", "month_offset"], kind="mergesort")
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
    frame = engine.compute("net_sales", period, ("sku",)).rename(columns={"value": "net_sales"})
    # Were SKUs declared to describe people, the comparison would merge a SKU with too few
    # buyers in either period (compare_by): such a SKU is still listed with its net sales,
    # but without a growth.
    compared = engine.compare_by("net_sales", period, ("sku",), comparison)
    compared = compared[compared["sku"] != OTHER_GROUP][["sku", "base"]].rename(columns={"base": "base_net_sales"})
    frame = frame.merge(compared, on="sku", how="left")
    for metric, column in (("units", "units"), ("gmv", "gmv"), ("campaign_gmv", "campaign_gmv")):
        part = engine.compute(metric, period, ("sku",)).rename(columns={"value": column})
        frame = frame.merge(part, on="sku", how="left")
    frame = frame[frame["net_sales"] > 0].copy()
    # The period's net sales include any SKUs merged into 其他 (see above): they
    # count in every share but are not listed as a product.
    total = frame["net_sales"].sum()
    frame = frame[frame["sku"] != OTHER_GROUP]
    products = engine.rows("products", ["sku", "name", "category", "list_price", "rating", "launch_date"],
                           order_by=["sku"]).rename(columns={"name": "product"})
    products["launch_days"] = [None if d is None else (period.end - pd.Timestamp(d).date()).days
                               for d in products["launch_date"]]
    frame = frame.merge(products.drop(columns="launch_date"), on="sku", how="left")
    frame["share"] = frame["net_sales"] / total if total else np.nan
    frame["avg_price"] = (frame["gmv"] / frame["units"]).where(frame["units"] > 0)
    frame["campaign_share"] = (frame["campaign_gmv"].fillna(0.0) / frame["gmv"]).where(frame["gmv"] > 0)
    base = pd.to_numeric(frame["base_net_sales"], errors="coerce")
    frame["growth"] = ((frame["net_sales"] - base) / base).where(base > 0)
    frame = frame.sort_values(["net_sales", "sku"], ascending=[False, True], kind="mergesort")
    frame["rank"] = np.arange(1, len(frame) + 1)
    grew = frame["growth"].isna() | (frame["growth"] > 0)
    frame["is_hit"] = (frame["rank"] <= HIT_TOP_N) & (frame["share"] >= HIT_MIN_SHARE) & grew
    columns = ["rank", "sku", "product", "category", "net_sales", "units", "share", "growth",
               "avg_price", "list_price", "rating", "launch_days", "campaign_share", "is_hit"]
    return frame[columns].reset_index(drop=True)


# All of a SKU's sales up to a day: the period its last sale is looked for in.
_SINCE_ALWAYS = dt.date(1900, 1, 1)


def slow_moving_skus(engine: Engine, period: Period, days: int = 90) -> pd.DataFrame:
    """SKUs with stock on hand on the period's last snapshot and no sale in the last `days`
    days up to the period's end."""
    engine.require_datasets("inventory", "products")
    last_day = engine.rows("inventory", aggregates={"day": ("max", "snapshot_date")},
                           where={"snapshot_date": Between(high=period.end)})["day"].iloc[0]
    columns = ["sku", "product", "category", "on_hand_units", "stock_value", "last_sale"]
    if last_day is None:
        return pd.DataFrame(columns=columns)
    stock = engine.rows("inventory", ["sku", "on_hand_units"],
                        where={"snapshot_date": pd.Timestamp(last_day).date()}, order_by=["sku"])
    stock = stock[stock["on_hand_units"] > 0]
    products = engine.rows("products", ["sku", "name", "category", "unit_cost"], order_by=["sku"])
    stock = stock.merge(products.rename(columns={"name": "product"}), on="sku", how="inner")
    stock["stock_value"] = stock["on_hand_units"] * stock["unit_cost"]
    # Each SKU's last sale up to the period end (days before it), from the catalogue's sales.
    upto = Period(_SINCE_ALWAYS, period.end, "custom")
    sales = engine.per_entity("sku", {"since": "days_since_last_sale"}, upto)
    sales["last_sale"] = [(period.end - dt.timedelta(days=int(d))).isoformat() for d in sales["since"]]
    frame = stock.merge(sales[["sku", "last_sale"]], on="sku", how="left")
    window_start = (period.end_exclusive - dt.timedelta(days=int(days))).isoformat()
    frame = frame[frame["last_sale"].isna() | (frame["last_sale"] < window_start)]
    frame["last_sale"] = [None if pd.isna(v) else v for v in frame["last_sale"]]
    frame = frame.sort_values(["stock_value", "sku"], ascending=[False, True], kind="mergesort")
    return frame[columns].reset_index(drop=True)


def stockouts(engine: Engine, period: Period) -> pd.DataFrame:
    """SKUs that had zero stock on some day of the period: days out of stock, first and last
    such day, and the SKU's net sales in the period (to spot stocked-out best sellers)."""
    engine.require_datasets("inventory", "products")
    frame = engine.rows("inventory", by=["sku"], aggregates={
        "stockout_days": ("count", "*"), "first_day": ("min", "snapshot_date"), "last_day": ("max", "snapshot_date")},
        where={"on_hand_units": 0, "snapshot_date": Between(period.start, period.end)}, order_by=["sku"])
    products = engine.rows("products", ["sku", "name", "category"], order_by=["sku"])
    frame = frame.merge(products.rename(columns={"name": "product"}), on="sku", how="inner")
    frame = frame[["sku", "product", "category", "stockout_days", "first_day", "last_day"]]
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
    engine.require_datasets("campaigns")
    campaigns = engine.rows(
        "campaigns", ["campaign_id", "name", "start_date", "end_date", "participants", "participations",
                      "coupons_issued", "coupons_redeemed", "budget"],
        where={"start_date": Between(period.start, period.end)}, order_by=["start_date", "campaign_id"])
    first_day = engine.earliest(engine.catalogue.models["sales_lines"])
    rows = []
    for _, c in campaigns.iterrows():
        start = pd.Timestamp(c["start_date"]).date()
        end = pd.Timestamp(c["end_date"]).date()
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
        scores = engine.rows("survey_responses", by=["campaign_id"],
                             aggregates={"feedback_score": ("avg", "csat"), "responses": ("count", "*")},
                             where={"campaign_id": Present()}, order_by=["campaign_id"])
        frame = frame.merge(scores, on="campaign_id", how="left")
    return frame


def _month_key(value) -> str:
    return str(value)[:7]


def follower_growth(engine: Engine, period: Period) -> pd.DataFrame:
    """Followers by social platform at the end of the month before the period and at the
    period's last month, and the growth between them."""
    engine.require_datasets("social_followers")
    followers = engine.rows("social_followers", ["month", "platform", "followers"], order_by=["platform", "month"])
    month = [_month_key(m) for m in followers["month"]]
    before = (period.start - dt.timedelta(days=1)).isoformat()[:7]
    last = period.end.isoformat()[:7]
    frame = pd.DataFrame({"platform": sorted(set(followers["platform"]))})

    def at(key: str) -> list:
        rows = followers[[m == key for m in month]]
        sums = rows.groupby("platform")["followers"].sum()
        return [sums[p] if p in sums.index else None for p in frame["platform"]]

    frame["start_followers"] = pd.Series(at(before), dtype=object).infer_objects()
    frame["end_followers"] = pd.Series(at(last), dtype=object).infer_objects()
    start = pd.to_numeric(frame["start_followers"], errors="coerce")
    end = pd.to_numeric(frame["end_followers"], errors="coerce")
    frame["growth"] = ((end - start) / start).where(start > 0)
    return frame


# ---- targets -------------------------------------------------------------------------------

ALL_SCOPES = ("全部", "全店", "all", "total", "")


def target_attainment(engine: Engine, year: int, as_of=None) -> pd.DataFrame:
    """Targets of `year` next to the actual value of their metric (when the catalogue has it
    and the year has data): attainment = actual ÷ target. A scope other than 全部 filters the
    metric by platform."""
    engine.require_datasets("targets")
    targets = engine.rows("targets", ["metric", "scope", "target"], where={"year": int(year)},
                          order_by=["metric", "scope"])
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
    # Every bucket gets its row, a month without rows as a missing value: the month after a gap
    # then has no change, where a shift over the present rows alone compared it with an older one.
    keys = list(dict.fromkeys(k if grain == "month" else f"{k[:4]}-Q{(int(k[5:7]) - 1) // 3 + 1}"
                              for k in month_keys(extended)))
    frame = frame.set_index("key").reindex(keys).rename_axis("key").reset_index()
    frame["previous"] = frame["value"].shift(1)
    from fupan.semantics.engine import change_between

    frame["change"] = [change_between(metric_def, v, b) for v, b in
                       zip(frame["value"], frame["previous"], strict=True)]
    first_key = (f"{period.start.year:04d}-{period.start.month:02d}" if grain == "month"
                 else f"{period.start.year:04d}-Q{(period.start.month - 1) // 3 + 1}")
    return frame[frame["key"] >= first_key].reset_index(drop=True)


FREQUENCY_BUCKETS = ["1 单", "2 单", "3 单", "4 单", "5 单及以上"]


def frequency_distribution(engine: Engine, period: Period) -> pd.DataFrame:
    """Buyers by number of paid orders in the period (1, 2, 3, 4, 5+), with their share and
    net sales (the catalogue's orders and net sales per buyer). A bucket with fewer buyers than
    the minimum group size is hidden (its figures missing)."""
    frame = engine.per_entity("user_id", {"orders": "orders", "net_sales": "net_sales"}, period,
                              step=Buckets("orders", cap=len(FREQUENCY_BUCKETS)))
    frame = frame.rename(columns={"entities": "buyers", "net_sales_sum": "net_sales"})
    frame["bucket"] = [FREQUENCY_BUCKETS[int(b) - 1] for b in frame["bucket"]]
    frame["share"] = frame["buyers"] / frame["buyers"].sum()
    frame["aov"] = frame["net_sales"] / frame["buyers"]
    return frame[["bucket", "buyers", "net_sales", "share", "aov"]]


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
    engine.require_datasets("keywords")
    sums = {col: ("sum", col) for col in ("impressions", "clicks", "conversions", "spend", "revenue")}
    frame = engine.rows("keywords", by=["keyword"], aggregates={"channel": ("min", "channel"), **sums},
                        where={"month": Between(period.start, period.end)}, order_by=["keyword"])
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
    engine.require_datasets("loyalty")
    frame = engine.rows("loyalty", ["month", "points_earned", "points_redeemed", "coupons_issued", "coupons_redeemed"],
                        where={"month": Between(period.start, period.end)}, order_by=["month"])
    frame["month"] = [str(m)[:7] for m in frame["month"]]
    for col in ("points_earned", "points_redeemed", "coupons_issued", "coupons_redeemed"):
        frame[col] = frame[col].astype(float)
    frame["points_redemption"] = (frame["points_redeemed"] / frame["points_earned"]).where(frame["points_earned"] > 0)
    frame["coupon_redemption"] = (frame["coupons_redeemed"] / frame["coupons_issued"]).where(
        frame["coupons_issued"] > 0)
    return frame


def follower_series(engine: Engine, period: Period) -> pd.DataFrame:
    """Month-end followers by social platform, month by month through the period."""
    engine.require_datasets("social_followers")
    frame = engine.rows("social_followers", ["month", "platform", "followers"],
                        where={"month": Between(period.start, period.end)}, order_by=["month", "platform"])
    frame["month"] = [str(m)[:7] for m in frame["month"]]
    frame["followers"] = frame["followers"].astype(float)
    return frame


# ---- team -------------------------------------------------------------------------------------

KPI_BANDS = [(90, "优秀（≥90）"), (80, "良好（80–89）"), (70, "合格（70–79）"), (0, "待改进（<70）")]


def _kpi_band(score) -> str | None:
    if score is None or pd.isna(score):
        return None
    return next((label for low, label in KPI_BANDS if score >= low), None)


def kpi_distribution(engine: Engine, year: int, min_group_size: int | None = None) -> pd.DataFrame:
    """KPI scores of the year by function: assessed employees, mean score, count per band and
    promotions. Functions with fewer employees than the minimum group size merge into 其他
    (the engine's rule for every breakdown of people)."""
    engine.require_datasets("assessments", "team_members")
    # Both are small tables (one row per employee and year): joined here, not in SQL.
    scores = engine.rows("assessments", ["employee_id", "kpi_score", "promoted"], where={"year": int(year)},
                         order_by=["employee_id"])
    people = engine.rows("team_members", ["employee_id", "function"], order_by=["employee_id"])
    rows = scores.merge(people, on="employee_id", how="inner")
    rows["band"] = [_kpi_band(s) for s in rows["kpi_score"]]
    rows["promoted"] = [1 if p is True or (p is not None and not pd.isna(p) and bool(p)) else 0
                        for p in rows["promoted"]]
    frame = rows.groupby(["function", "band"], sort=True, dropna=False).agg(
        employees=("employee_id", "size"), score_sum=("kpi_score", "sum"), promoted=("promoted", "sum")).reset_index()
    frame = engine.merge_small_groups(frame, "function", "employees", min_group_size)
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
    engine.require_datasets("hiring_plan", "team_members")
    plan = engine.rows("hiring_plan", ["function", "planned_headcount"], where={"year": int(plan_year)},
                       order_by=["function"])
    current = engine.compute("headcount", period, ("function",)).rename(columns={"value": "headcount"})
    frame = plan.merge(current, on="function", how="outer").fillna({"headcount": 0.0})
    frame["planned_headcount"] = frame["planned_headcount"].astype(float)
    frame["gap"] = frame["planned_headcount"] - frame["headcount"]
    return frame.sort_values("function", kind="mergesort").reset_index(drop=True)


# ---- market, targets, initiatives ---------------------------------------------------------------

def market_share_table(engine: Engine, year: int) -> pd.DataFrame:
    """Sales and market share of every company in the market data, this year and the year before."""
    engine.require_datasets("market")
    frame = engine.rows("market", by=["year", "company"],
                        aggregates={"is_us": ("any", "is_us"), "sales": ("sum", "sales")},
                        where={"year": [int(year) - 1, int(year)]}, order_by=["year", "company"])
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
    engine.require_datasets("initiatives")
    return engine.rows("initiatives", ["initiative_id", "area", "name", "owner_role", "status", "kpi", "target",
                                       "actual", "completion"],
                       where={"year": int(year)}, order_by=["area", "initiative_id"])


OTHER = OTHER_GROUP
