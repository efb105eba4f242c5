"""The metric catalogue is validated at start-up: every mistake reported at once, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from fupan.data.contract import load_contract
from fupan.semantics.catalogue import CATALOGUE_PATH, CatalogueError, load_catalogue

REPO = Path(__file__).resolve().parents[1]
# One YAML line, so the expected line numbers below stay put.
DIMENSIONS = ("{platform: {zh: 平台, en: Platform}, month: {zh: 月份, en: Month}, quarter: {zh: 季度, en: Quarter}, "
              "date: {zh: 日期, en: Date}, year: {zh: 年度, en: Year}}")
MODEL = """models:
  lines:
    datasets: [order_lines, orders]
    select: [l.order_id AS order_id, l.line_amount AS line_amount, o.paid_at AS paid_at, o.platform AS platform]
    from: order_lines l JOIN orders o ON l.order_id = o.order_id
    time: paid_at
    dimensions: {platform: platform}
dimensions: {DIMENSIONS}
metrics:
  gmv:
    kind: aggregate
    model: lines
    agg: sum
    expr: line_amount
    unit: currency
""".replace("{DIMENSIONS}", DIMENSIONS)


@pytest.fixture(scope="module")
def contract():
    return load_contract(REPO / "data" / "datasets.yml")


def _load(tmp_path: Path, contract, text: str):
    path = tmp_path / "metrics.yml"
    path.write_text(text, encoding="utf-8")
    return load_catalogue(contract, path)


def test_the_shipped_catalogue_is_valid(contract):
    catalogue = load_catalogue(contract, CATALOGUE_PATH)
    assert {"net_sales", "orders", "aov", "buyers", "roi", "nps", "market_share"} <= set(catalogue.metrics)


def test_a_valid_minimal_catalogue_loads(tmp_path, contract):
    catalogue = _load(tmp_path, contract, MODEL)
    assert catalogue.dimensions_of("gmv") == ["platform", "month", "quarter", "date", "year"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("  bad_ds:\n    kind: aggregate\n    model: nowhere\n    agg: sum\n    expr: x\n",
         "line 16: metric 'bad_ds': unknown model \"nowhere\""),
        ("  bad_col:\n    kind: aggregate\n    model: lines\n    agg: sum\n    expr: line_amont\n",
         'line 16: metric \'bad_col\': unknown column "line_amont". Did you mean "line_amount"?'),
        ("  bad_ref:\n    kind: ratio\n    numerator: gmv\n    denominator: orderz\n",
         "line 16: metric 'bad_ref' refers to unknown metric \"orderz\""),
        ("  a:\n    kind: derived\n    formula: b + 1\n  b:\n    kind: derived\n    formula: a * 2\n",
         "depends on itself: a → b → a"),
        ("  gmv:\n    kind: aggregate\n    model: lines\n    agg: sum\n    expr: line_amount\n",
         "line 16: duplicate id 'gmv' (first defined on line 10)"),
        ("  bad_kind:\n    kind: sumthing\n    model: lines\n",
         "line 16: metric 'bad_kind': unknown kind \"sumthing\""),
        ("  bad_agg:\n    kind: aggregate\n    model: lines\n    agg: total\n    expr: line_amount\n",
         "line 16: metric 'bad_agg': unknown agg \"total\""),
    ],
)
def test_each_error_type_is_reported_with_its_location(tmp_path, contract, extra, expected):
    with pytest.raises(CatalogueError) as info:
        _load(tmp_path, contract, MODEL + extra)
    assert expected in str(info.value)


def test_model_errors_name_dataset_and_column(tmp_path, contract):
    text = MODEL.replace("datasets: [order_lines, orders]", "datasets: [order_lines, ordrs]").replace(
        "l.line_amount AS line_amount", "l.line_amout AS line_amount")
    with pytest.raises(CatalogueError) as info:
        _load(tmp_path, contract, text)
    message = str(info.value)
    assert "line 2: model 'lines': unknown dataset \"ordrs\". Did you mean \"orders\"?" in message
    assert "l.line_amout" in message and 'Did you mean "line_amount"?' in message


def test_all_problems_are_reported_at_once(tmp_path, contract):
    extra = ("  one:\n    kind: aggregate\n    model: nowhere\n    agg: sum\n    expr: x\n"
             "  two:\n    kind: ratio\n    numerator: gmv\n    denominator: missing_metric\n")
    with pytest.raises(CatalogueError) as info:
        _load(tmp_path, contract, MODEL + extra)
    assert len(info.value.problems) == 2
    assert "metric 'one'" in str(info.value) and "metric 'two'" in str(info.value)


def test_each_dimension_has_one_label_per_locale(tmp_path, contract):
    catalogue = _load(tmp_path, contract, MODEL)
    assert catalogue.dimension_label("platform", "zh-CN") == "平台"
    assert catalogue.dimension_label("platform", "en") == "Platform"


def test_a_dimension_without_a_label_is_a_catalogue_error(tmp_path, contract):
    text = MODEL.replace("platform: {zh: 平台, en: Platform}, ", "").replace(
        "month: {zh: 月份, en: Month}", "month: {zh: 月份}")
    with pytest.raises(CatalogueError) as info:
        _load(tmp_path, contract, text)
    message = str(info.value)
    assert "dimension 'platform' has no label: add `platform: {zh: …, en: …}` under `dimensions:`" in message
    assert "dimension 'month' needs a label in both locales" in message
