"""The analyses write no SQL of their own: every figure comes through the engine's public API
from the metric catalogue. Checked on the source (ast) and on a tiny shop whose order-level
amounts disagree with its order lines, so only the catalogue's net sales (over the lines) pass."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
from fupan.semantics import analyses
from fupan.semantics.periods import parse_period
from fupan.site.context import build_review
from tiny import orders_frame, write_tiny_data

ANALYSES = Path(analyses.__file__)
Y2025 = parse_period("2025")

# SQL in a string: upper-case keywords (as the codebase writes SQL), and the clause pairs in any case.
_SQL_WORDS = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|HAVING|UNION|DISTINCT|NTILE|OVER|CASE|WHEN|THEN)\b"
                        r"|(?i:\bselect\b[\s\S]*\bfrom\b|\bgroup\s+by\b|\border\s+by\b|\bcase\s+when\b)"
                        r"|\b(COUNT|SUM|AVG|MIN|MAX|DATE_TRUNC|DATE_DIFF|CAST)\s*\(")
_ENGINE_SQL_CALLS = {"run", "model_sql", "metric_sql"}


def sql_problems(source: str) -> list[str]:
    """Where a module writes SQL or reaches into the engine: SQL words in a string literal
    (f-strings included), a call of engine.run / model_sql / metric_sql, an engine attribute
    whose name starts with "_", a private name imported from the engine module."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_WORDS.search(node.value):
            problems.append(f"line {node.lineno}: SQL in a string: {node.value.strip()[:60]!r}")
        if isinstance(node, ast.Attribute):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id == "engine":
                if node.attr.startswith("_"):
                    problems.append(f"line {node.lineno}: engine internal {node.attr}")
                if node.attr in _ENGINE_SQL_CALLS:
                    problems.append(f"line {node.lineno}: engine.{node.attr} runs SQL written here")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fupan."):
            problems.extend(f"line {node.lineno}: private import {alias.name} from {node.module}"
                            for alias in node.names if alias.name.startswith("_"))
    return problems


def test_analyses_write_no_sql_and_use_no_engine_internals():
    assert sql_problems(ANALYSES.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source", [
    # the shapes the analyses used to have
    'def f(engine, p):\n    return engine.run(f"SELECT user_id FROM ({x}) AS m GROUP BY 1", ["orders"])\n',
    "def f(engine, p):\n    return engine.run(sql, datasets)\n",
    "def f(engine, m, p):\n    return engine._dimension_sql(m, 'city', (), p)\n",
    "def f(engine, m, p):\n    return engine.model_sql(m, p)\n",
    "from fupan.semantics.engine import Engine, _period_values\n",
    'bands = " ".join(f"WHEN s >= {low} THEN {label}" for low, label in B)\nsql = f"CASE {bands} END"\n',
    "x = 'sum(order_amount - refund_amount)'\n".upper(),
])
def test_the_check_catches_sql_and_internals(source):
    assert sql_problems(source)


# ---- net sales as the catalogue defines them ----------------------------------------------------

def _write_disagreeing_shop(data_dir: Path) -> None:
    """The tiny shop with two orders whose order-level amounts disagree with their lines: O4
    (U3) records a refund of 20 that no line carries, O5 (U1) an amount paid of 8 against a
    line of 10. The catalogue's net sales (GMV − refunds over the lines) stay those of
    tests/tiny.py: U1 70 + 10 = 80, U3 90 + 36 = 126, 206 in all; order_amount − refund_amount
    would give U1 70 + 8 = 78 and U3 70 + 36 = 106."""
    write_tiny_data(data_dir)
    orders = orders_frame()
    orders.loc[orders["订单编号"] == "O4", "退款金额"] = 20.0
    orders.loc[orders["订单编号"] == "O5", "实付金额"] = 8.0
    orders.to_parquet(data_dir / "orders.parquet", index=False)


def _engine(root: Path, min_group_size: int = 1):
    project = root / "project"
    _write_disagreeing_shop(project / "data")
    review = {"company": "测试", "year": 2025, "locale": "zh-CN", "min_group_size": min_group_size}
    return build_review({"review": review}, project).engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return _engine(tmp_path_factory.mktemp("disagree"))


def test_rfm_takes_the_catalogue_net_sales(engine):
    assert engine.value("net_sales", Y2025) == 206.0
    frame = analyses.rfm_segments(engine, Y2025).set_index("segment")
    # U3: 50 days, 2 orders, 126 → 重要发展客户; U1: 194 days, 2 orders, 80 → 一般挽留客户.
    assert frame.loc["重要发展客户", ["buyers", "net_sales", "monetary"]].tolist() == [1, 126.0, 126.0]
    assert frame.loc["一般挽留客户", ["buyers", "net_sales", "monetary"]].tolist() == [1, 80.0, 80.0]
    assert frame.loc["一般挽留客户", "recency_days"] == 194.0
    assert frame["net_sales"].sum() == 206.0
    assert frame.loc["一般挽留客户", "sales_share"] == pytest.approx(80 / 206)
    compared = analyses.rfm_compare(engine, Y2025).set_index("segment")
    assert compared.loc["重要发展客户", "net_sales"] == 126.0


def test_frequency_takes_the_catalogue_net_sales(engine):
    frame = analyses.frequency_distribution(engine, Y2025)
    # Both buyers have 2 paid orders: 80 + 126 = 206, 103 per buyer.
    assert frame[["bucket", "buyers", "net_sales", "share", "aov"]].values.tolist() == [["2 单", 2, 206.0, 1.0, 103.0]]


def test_cohorts_count_the_catalogue_new_buyers(engine):
    frame = analyses.cohort_retention(engine, parse_period("2024-01-01..2025-12-31"))
    # First orders: U1 2024-03, U2 2024-07, U3 2025-06. U1 back in 2025-01 (10 months on) and
    # 2025-06 (15 months: beyond the 12 shown); U3 back in 2025-11 (5 months on).
    cells = {(c, k): (n, b) for c, k, n, b in frame[["cohort", "month_offset", "cohort_size", "buyers"]].values}
    assert cells == {("2024-03", 0): (1, 1), ("2024-03", 10): (1, 1), ("2024-07", 0): (1, 1),
                     ("2025-06", 0): (1, 1), ("2025-06", 5): (1, 1)}
    assert (frame["retention"] == 1.0).all()
    # The cohorts are the catalogue's new buyers of the period.
    assert frame[frame["month_offset"] == 0]["buyers"].sum() == engine.value(
        "new_buyers", parse_period("2024-01-01..2025-12-31"))


def test_small_segments_and_buckets_are_hidden(tmp_path):
    engine = _engine(tmp_path, min_group_size=2)
    rfm = analyses.rfm_segments(engine, Y2025).set_index("segment")
    # One buyer in each of two segments: hidden (missing), not shown as empty.
    assert math.isnan(rfm.loc["重要发展客户", "buyers"]) and math.isnan(rfm.loc["一般挽留客户", "net_sales"])
    assert rfm.loc["重要价值客户", "buyers"] == 0
    # Two buyers with 2 orders each: a group of 2 is shown.
    assert analyses.frequency_distribution(engine, Y2025)["buyers"].tolist() == [2]
    hidden = analyses.frequency_distribution(_engine(tmp_path / "k3", min_group_size=3), Y2025)
    assert hidden["bucket"].tolist() == ["2 单"] and math.isnan(hidden["buyers"].iloc[0])
