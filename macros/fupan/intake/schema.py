"""The canonical datasets an export yields, declared as the contract declares any dataset.

The derived orders, order lines and products are checked by the same contract checks as files
a shop shapes itself (ranges, required values, types); what a real export may lack is optional
here. Their rows carry the export's own file and row, so those checks point at the export. The
keys and references the derivation makes true (`KEYS_BY_CONSTRUCTION`,
`REFERENCES_BY_CONSTRUCTION`) are reported as holding instead of being counted again.
"""

from __future__ import annotations

from fupan.data.contract import Column, Dataset
from fupan.intake.declaration import Export

DERIVED = ("orders", "order_lines", "products")
# What intake.derive guarantees, and why (tests/test_intake_shapes.py and test_intake_layouts.py
# count them on every shape and layout): an order is one group of its key; a line's number is
# its place in the export (file, row) and one row gives at most one line; lines are written
# joined to their orders; products are grouped by SKU from the same lines (when derived).
KEYS_BY_CONSTRUCTION = {"orders": (("order_id",),), "order_lines": (("order_id", "line_no"),),
                        "products": (("sku",),)}
REFERENCES_BY_CONSTRUCTION = {"order_lines": {"order_id": "orders", "sku": "products"}}
_DESCRIPTIONS = {
    "orders": ("订单（由导出文件整理：一行一单）", "Orders (from the exports: one row per order)"),
    "order_lines": ("订单明细（由导出文件整理：一行一个商品）", "Order lines (from the exports: one row per product)"),
    "products": ("商品（由订单明细整理）", "Products (from the order lines)"),
}


def _col(name: str, type_: str, **rules) -> Column:
    return Column(name=name, type=type_, header=name, **rules)


def derived_datasets(exports: dict[str, Export], declared: set[str]) -> dict[str, Dataset]:
    """orders, order_lines and (unless `declared` has them) products, read from the derived
    Parquet files. `declared`: the datasets the contract declares itself (references to users and
    campaigns are checked only when those are declared)."""
    line_exports = {e.lines for e in exports.values() if e.lines}
    primary = next((e for e in exports.values() if e.name not in line_exports), None)
    if primary is None:
        return {}
    lines_decl = exports.get(primary.lines) if primary.lines else primary
    order_dims = [c for c in primary.dimensions.values() if c.level == "order"]
    line_dims = [c for c in (lines_decl or primary).dimensions.values() if c.level == "line"]
    paths = ", ".join(p for e in exports.values() for p in e.paths)
    source = " + ".join(e.title_zh or e.name for e in exports.values())
    source_en = " + ".join(e.title_en or e.title_zh or e.name for e in exports.values())
    users_ref = ("users", "user_id") if "users" in declared else None
    campaigns_ref = ("campaigns", "campaign_id") if "campaigns" in declared else None
    columns = {
        "orders": [
            _col("order_id", "string", required=True, unique=True),
            _col("user_id", "string", references=users_ref, personal=True),
            _col("ordered_at", "timestamp", required=True),
            _col("paid_at", "timestamp"),
            _col("order_amount", "decimal", required=True, min=0),
            _col("refund_amount", "decimal", min=0),
            _col("discount_amount", "decimal"),
            _col("shipping_amount", "decimal"),
            *(_col(c, "string") for c in ("platform", "source", "device", "province", "city", "city_tier",
                                           "country")),
            _col("campaign_id", "string", references=campaigns_ref),
            _col("coupon_used", "boolean"),
            *(_col(c.name, "string") for c in order_dims),
        ],
        "order_lines": [
            _col("order_id", "string", required=True, references=("orders", "order_id")),
            _col("line_no", "integer", required=True, min=1),
            _col("sku", "string", required=True, references=("products", "sku")),
            _col("quantity", "integer", required=True, min=0),
            _col("unit_price", "decimal", min=0),
            _col("line_amount", "decimal", required=True, min=0),
            # decimal: a refund of an amount (not of units) is the quantity refunding that amount
            _col("refunded_quantity", "decimal", min=0),
            *(_col(c.name, "string") for c in line_dims),
        ],
        "products": [
            _col("sku", "string", required=True, unique=True),
            _col("name", "string", required=True),
            _col("category", "string", required=True),
            _col("subcategory", "string"),
            _col("list_price", "decimal", min=0),
            _col("unit_cost", "decimal", min=0),
            _col("launch_date", "date"),
            # No export carries review ratings: present, and unknown, as in a master without them.
            _col("rating", "decimal", min=1, max=5),
        ],
    }
    times = {"orders": "paid_at", "order_lines": None, "products": None}
    out = {}
    for name in DERIVED:
        if name in declared:
            continue
        zh, en = _DESCRIPTIONS[name]
        # A reference holds only to a dataset derived with it (a declared product master is the
        # shop's own file: its codes are checked).
        references = tuple(column for column, target in REFERENCES_BY_CONSTRUCTION.get(name, {}).items()
                           if target not in declared)
        out[name] = Dataset(
            name=name, description_zh=zh, description_en=en, source=source, source_en=source_en,
            required=True, path=paths,
            format="parquet", encoding="utf-8", sheet=None, primary_key=KEYS_BY_CONSTRUCTION[name][0],
            time_column=times[name],
            columns={c.name: c for c in columns[name]}, derived_from=primary.name,
            keys_by_construction=KEYS_BY_CONSTRUCTION[name], references_by_construction=references,
        )
    return out
