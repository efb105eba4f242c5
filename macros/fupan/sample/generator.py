"""Deterministic sample data for fupan: the fictitious brand 山野良品, calendar years 2024–2025.

The generator writes every dataset of ``data/datasets.yml`` (column headers in Chinese, exactly as
the contract names them) for a made-up lifestyle / food / home brand that sells on 天猫, 京东,
抖音 and its own 小程序. The review year of the sample is 2025; 2024 is the comparison year.

Everything is a pure function of ``(orders, seed)``: the same arguments give byte-identical files
on every run (fixed seeds per table and per chunk, sorted rows, fixed number formatting, Parquet
written by pyarrow without pandas metadata or timestamps).

Scale: ``orders`` is the number of orders over the two years. Users and order lines scale with it;
daily and monthly tables (traffic, ads, …) keep their row counts and scale their volumes. Orders
are generated day by day in chunks (one calendar month, split further when a month holds more
than ``CHUNK_ORDERS`` orders) and streamed to Parquet with ``pyarrow.parquet.ParquetWriter``, so
memory is bounded by one chunk plus small per-day and per-user aggregates. User attributes are
derived from a hash of the user index, so users never have to be held in memory either.

Planted patterns (see ``data/README.md`` for the exact facts of the committed sample): campaign
peaks (年货节, 618, 双11), the Spring Festival logistics trough, four hit SKUs on a long tail, a
growing and a declining category, the shift of sales to 抖音, one ad channel with ROI below 1, a
September stockout of one hit, an August complaint spike about 物流延迟, members buying more often,
and a growing team with attrition.

The datasets are made by the other modules of ``fupan.sample`` (one job each, the shared constants
and helpers in the lowest ones); this module only fixes the order in which they are written. Each
dataset draws from its own seeded random stream, and the later ones are computed from what the
earlier ones leave (the orders' aggregates, the stock, the ad figures, the survey summary), so the
order is part of the output.

Usage::

    python -m fupan.sample --out data --orders 200000 --seed 2025
"""

from __future__ import annotations

import argparse
import pathlib
import time
from collections.abc import Sequence

from fupan.sample.helpers import _ParquetStream
from fupan.sample.inventory import _simulate_inventory, _write_inventory, _write_products, _write_purchase_orders
from fupan.sample.market import _write_market
from fupan.sample.marketing import _write_ad_channels, _write_campaigns, _write_keywords, _write_loyalty, _write_social
from fupan.sample.orders import LINE_SCHEMA, ORDER_SCHEMA, Aggregates, _chunks, _order_chunk
from fupan.sample.plan import _build_plan
from fupan.sample.service import _write_complaints, _write_surveys
from fupan.sample.targets import _actuals, _write_initiatives, _write_targets
from fupan.sample.team import _write_team
from fupan.sample.traffic import _write_funnel, _write_traffic
from fupan.sample.users import _write_users

DEFAULT_ORDERS = 200_000
DEFAULT_SEED = 2025


def generate(out_dir: pathlib.Path, orders: int = DEFAULT_ORDERS,
             seed: int = DEFAULT_SEED) -> dict[str, pathlib.Path]:
    """Write every dataset of the sample company into `out_dir`; return name → path.

    `orders` is the number of orders over 2024–2025 (users and lines scale with it); `seed` fixes
    every random draw, so the same arguments always give byte-identical files.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = _build_plan(orders, seed)
    paths: dict[str, pathlib.Path] = {}

    def path(name: str, file: str) -> pathlib.Path:
        paths[name] = out_dir / file
        return paths[name]

    _write_users(plan, path("users", "users.parquet"))
    agg = Aggregates(len(plan.catalog.sku), plan.n_users)
    orders_out = _ParquetStream(path("orders", "orders.parquet"), ORDER_SCHEMA,
                                ["平台", "流量来源", "终端", "省份", "城市", "城市等级",
                                 "活动编号"])
    lines_out = _ParquetStream(path("order_lines", "order_lines.parquet"), LINE_SCHEMA,
                               ["商品编码"])
    for chunk in _chunks(plan):
        _order_chunk(plan, chunk, agg, orders_out, lines_out)
    orders_out.close()
    lines_out.close()

    stock, pos = _simulate_inventory(plan, agg.units_ds)
    _write_products(plan, path("products", "products.csv"))
    _write_inventory(plan, stock, path("inventory", "inventory.parquet"))
    _write_purchase_orders(plan, pos, path("purchase_orders", "purchase_orders.csv"))
    visitors = _write_traffic(plan, agg, path("traffic", "traffic.csv"))
    _write_funnel(plan, agg, visitors, path("funnel", "funnel.csv"))
    ads = _write_ad_channels(plan, agg, path("ad_channels", "ad_channels.csv"))
    _write_keywords(plan, ads, path("keywords", "keywords.csv"))
    _write_campaigns(plan, agg, ads, path("campaigns", "campaigns.csv"))
    _write_loyalty(plan, agg, path("loyalty", "loyalty.csv"))
    survey = _write_surveys(plan, agg, path("survey_responses", "survey_responses.csv"))
    n_complaints = _write_complaints(plan, agg, path("complaints", "complaints.csv"))
    followers = _write_social(plan, path("social_posts", "social_posts.csv"),
                              path("social_followers", "social_followers.csv"))
    _write_team(plan, path("team_members", "team_members.csv"),
                path("assessments", "assessments.csv"), path("training", "training.csv"),
                path("hiring_plan", "hiring_plan.csv"))
    _write_market(plan, agg, path("market", "market.csv"))
    actual = _actuals(plan, agg, visitors, ads, survey, n_complaints, stock, followers)
    _write_targets(actual, path("targets", "targets.csv"))
    _write_initiatives(actual, path("initiatives", "initiatives.csv"))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: python -m fupan.sample --out data --orders 200000 --seed 2025."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data"))
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = generate(args.out, orders=args.orders, seed=args.seed)
    total = sum(p.stat().st_size for p in paths.values())
    print(f"wrote {len(paths)} files, {total / 1e6:.1f} MB, to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
