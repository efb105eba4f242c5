"""Every mistake a person can make comes out as a FupanError: located (file, line or row, column
or key), with a hint where fupan has one, printed by the CLI without a traceback. Any other
exception inside a macro is a bug in fupan and keeps its own type and traceback.

Each row of CASES is a real trigger on the tiny shop (tests/tiny.py) or a small file; the
expected locations are read off the trigger by hand.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import check_fails
from conftest import run_fupan as _fupan
from fupan.data.contract import load_contract
from fupan.errors import ArgumentError, FupanError, Location
from tiny import PRODUCTS, make_project, write_tiny_data

REPO = Path(__file__).resolve().parents[1]
PRODUCT_HEADER = ["商品编码", "商品名称", "品类", "子品类", "标价", "单位成本", "上市日期", "评分"]
CATALOGUE = """models:
  lines:
    datasets: [order_lines, orders]
    select: [l.order_id AS order_id, l.line_amount AS line_amount, o.paid_at AS paid_at]
    from: order_lines l JOIN orders o ON l.order_id = o.order_id
    time: paid_at
metrics:
  gmv:
    kind: aggregate
    model: lines
    agg: sum
    expr: line_amont
    unit: currency
"""


def _products(data: Path, cell: tuple[int, str, str] | None = None, encoding: str = "utf-8") -> None:
    """products.csv of the tiny shop, optionally with one cell (0-based data row, header) replaced."""
    rows = [[s, n, c, c, str(p), str(u), d, "4.5"] for s, n, c, p, u, d in PRODUCTS]
    if cell is not None:
        row, header, value = cell
        rows[row][PRODUCT_HEADER.index(header)] = value
    with (data / "products.csv").open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PRODUCT_HEADER)
        writer.writerows(rows)


def _set_column(data: Path, dataset: str, column: str, **settings) -> None:
    path = data / "datasets.yml"
    contract = yaml.safe_load(path.read_text(encoding="utf-8"))
    contract["datasets"][dataset]["columns"][column].update(settings)
    path.write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _build_review(project: Path, **review):
    from fupan.site.context import build_review

    return build_review({"review": {"company": "测试", "year": 2025, "min_group_size": 1, **review}}, project)


# -- triggers: each runs in the project folder (the folder `fupan` runs in) --------------------

def bad_setting(project: Path):
    return _build_review(project, colour="red-up")


def bad_colors(project: Path):
    return _build_review(project, colors="blue-up")


def contract_unknown_type(project: Path):
    _set_column(project / "data", "products", "list_price", type="decmal")
    return load_contract(project / "data" / "datasets.yml")


def catalogue_unknown_column(project: Path):
    from fupan.semantics.catalogue import load_catalogue

    (project / "metrics.yml").write_text(CATALOGUE, encoding="utf-8")
    return load_catalogue(load_contract(project / "data" / "datasets.yml"), project / "metrics.yml")


def engine_table_of_no_dataset(project: Path):
    return _build_review(project, engine={"name": "spark", "tables": {"order": "sales.orders"}})


def as_of_before_the_period(project: Path):
    from fupan.semantics.periods import parse_period

    return parse_period("2025", as_of=_build_review(project, as_of="2024-06-30").config.as_of)


def bad_data_value(project: Path):
    _products(project / "data", (0, "标价", "十元"))
    return _build_review(project)


def unreadable_csv(project: Path):
    _products(project / "data", encoding="gbk")  # an Excel export in GBK; the contract says utf-8
    return _build_review(project)


def bad_period(project: Path):
    from fupan.semantics.periods import parse_period

    return parse_period("2025-13")


def period_not_understood(project: Path):
    from fupan.semantics.periods import parse_period

    return parse_period("last year")


def unknown_metric(project: Path):
    return _build_review(project).engine.check_request("net_sale")


def unknown_metric_lookup(project: Path):
    return _build_review(project).catalogue.metric("net_sale")


def missing_optional_data(project: Path):
    from fupan.semantics import analyses
    from fupan.semantics.periods import parse_period

    return analyses.stockouts(_build_review(project).engine, parse_period("2025"))


def bad_grain(project: Path):
    from fupan.semantics import analyses
    from fupan.semantics.periods import parse_period

    return analyses.period_table(_build_review(project).engine, "net_sales", parse_period("2025"), grain="week")


def chart_too_large(project: Path):
    import pandas as pd
    from fupan.presentation import charts, components

    rows = pd.DataFrame({"label": [f"SKU{i}" for i in range(30)], "value": range(30),
                         "value_text": [str(i) for i in range(30)]})
    return components.chart_spec(charts.bars(rows, kind="count", locale="zh-CN", currency="¥"), max_rows=20)


def bad_format_kind(project: Path):
    from fupan.presentation import fmt

    return fmt.format_value(1, "percnt")


@dataclass(frozen=True)
class Case:
    trigger: Callable[[Path], object]
    error: str  # class name
    location: Location | None
    hint: str | None  # a part of the hint; None: the class gives none here
    also: tuple[type, ...] = ()  # what existing `except` clauses catch it as


CASES = [
    Case(bad_setting, "ConfigError", Location("mkdocs.yml", key="extra.review"), 'Did you mean "colors"?',
         (ValueError,)),
    Case(bad_colors, "ConfigError", Location("mkdocs.yml", key="extra.review.colors"), None, (ValueError,)),
    Case(engine_table_of_no_dataset, "ConfigError", Location("mkdocs.yml", key="extra.review.engine.tables"),
         'Did you mean "orders"?', (ValueError,)),
    Case(as_of_before_the_period, "PeriodError", Location("mkdocs.yml", key="extra.review.as_of"), None,
         (ValueError,)),
    Case(contract_unknown_type, "ContractError",
         Location("data/datasets.yml", key="datasets.products.columns.list_price.type"), 'Did you mean "decimal"?'),
    Case(catalogue_unknown_column, "CatalogueError", Location("metrics.yml", line=8, key="metrics.gmv"),
         'Did you mean "line_amount"?'),
    Case(bad_data_value, "DataValidationError", Location("data/products.csv", row=2, column="标价 (list_price)"),
         "write plain numbers such as 1234.50"),
    Case(unreadable_csv, "DataValidationError", Location("data/products.csv"), "declare `encoding: gbk`"),
    Case(bad_period, "PeriodError", Location(key="period='2025-13'"), None, (ValueError,)),
    Case(period_not_understood, "PeriodError", Location(key="period='last year'"), "quarter (2025-Q2)",
         (ValueError,)),
    Case(unknown_metric, "MetricError", None, 'Did you mean "net_sales"?', (ValueError,)),
    Case(unknown_metric_lookup, "UnknownName", None, 'Did you mean "net_sales"?', (KeyError,)),
    Case(missing_optional_data, "MissingData", Location("inventory.parquet"), None, (LookupError,)),
    Case(bad_grain, "MetricError", None, None, (ValueError,)),
    Case(chart_too_large, "ChartTooLarge", Location("mkdocs.yml", key="extra.review.max_chart_rows"),
         "aggregate the data first", (ValueError,)),
    Case(bad_format_kind, "ArgumentError", None, None, (ValueError,)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.trigger.__name__)
def test_every_user_error_is_a_located_fupan_error(case, tmp_path, monkeypatch):
    project = tmp_path / "project"
    write_tiny_data(project / "data")
    monkeypatch.chdir(project)
    with pytest.raises(FupanError) as caught:
        case.trigger(project)
    error = caught.value
    assert type(error).__name__ == case.error
    assert isinstance(error, case.also) if case.also else True
    assert error.location == case.location
    if case.hint is None:
        assert error.hint is None
    else:
        assert case.hint in error.hint
        assert case.hint in error.text()  # shown, in the message or as its Hint line
    if case.location is not None:
        assert case.location.file is None or case.location.file in error.text()
    for issue in error.issues:  # errors that collect problems locate each one
        assert issue.location is not None and issue.location.file == case.location.file


def test_the_catalogue_and_contract_keep_their_messages_and_locate_each_problem(tmp_path, monkeypatch):
    from fupan.data.contract import ContractError

    project = tmp_path / "project"
    write_tiny_data(project / "data")
    _set_column(project / "data", "products", "list_price", type="decmal", colour="red")
    monkeypatch.chdir(project)
    with pytest.raises(ContractError) as caught:
        load_contract(project / "data" / "datasets.yml")
    error = caught.value
    # The printed text is what it has always been: the path, the count and each problem in full.
    assert str(error).startswith(f"{project / 'data' / 'datasets.yml'}: 2 problem(s) in the data contract:\n  - ")
    assert error.problems[1] == ('datasets.products.columns.list_price.type: unknown type "decmal". '
                                 'Did you mean "decimal"? Valid: boolean, date, decimal, integer, string, timestamp.')
    assert [(i.location.key, i.message) for i in error.issues] == [
        ("datasets.products.columns.list_price", 'unknown column setting "colour".'),
        ("datasets.products.columns.list_price.type", 'unknown type "decmal".'),
    ]
    assert error.issues[1].hint == 'Did you mean "decimal"? Valid: boolean, date, decimal, integer, string, timestamp.'
    assert error.issues[1].text() == (
        'data/datasets.yml, datasets.products.columns.list_price.type: unknown type "decmal".\n'
        '  Hint: Did you mean "decimal"? Valid: boolean, date, decimal, integer, string, timestamp.')


def test_data_problems_keep_rows_columns_and_hints(tmp_path, monkeypatch):
    from fupan.data.validation import DataValidationError

    project = tmp_path / "project"
    write_tiny_data(project / "data")
    _products(project / "data", (1, "单位成本", "三十"))
    monkeypatch.chdir(project)
    with pytest.raises(DataValidationError) as caught:
        _build_review(project)
    issue = caught.value.issues[0]
    # P2's unit cost: the 2nd data row, so row 3 of the spreadsheet (the header is row 1).
    assert issue.location == Location("data/products.csv", row=3, column="单位成本 (unit_cost)")
    assert issue.text().startswith("data/products.csv, row 3, column 单位成本 (unit_cost): ")
    assert "\n  Hint: write plain numbers such as 1234.50" in issue.text()


# -- as the CLI prints them --------------------------------------------------------------------


def _set_review(project: Path, **settings) -> None:
    path = project / "mkdocs.yml"
    text = path.read_text(encoding="utf-8")
    assert "  review:\n" in text
    lines = "".join(f"    {key}: {value}\n" for key, value in settings.items())
    path.write_text(text.replace("  review:\n", "  review:\n" + lines, 1), encoding="utf-8")


CLI_CASES = [
    ("config", lambda p: _set_review(p, colour="red-up"),
     ['mkdocs.yml: extra.review: unknown setting "colour".', 'Did you mean "colors"?']),
    ("contract", lambda p: _set_column(p / "data", "products", "list_price", type="decmal"),
     ["problem(s) in the data contract", 'datasets.products.columns.list_price.type: unknown type "decmal".']),
    ("data", lambda p: _products(p / "data", (0, "标价", "十元")),
     ["data/products.csv, row 2, column 标价 (list_price): value '十元'"]),
    ("unreadable", lambda p: _products(p / "data", encoding="gbk"),
     ["data/products.csv — cannot be read", "declare `encoding: gbk`"]),
]


@pytest.mark.parametrize(("name", "breaks", "expected"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_fupan_check_prints_located_errors_without_traceback(tmp_path, name, breaks, expected):
    project = make_project(tmp_path / "p")
    breaks(project)
    check_fails(project, expected)


def test_fupan_build_prints_config_and_writer_errors_without_traceback(tmp_path):
    project = make_project(tmp_path / "p")
    _set_review(project, colors="blue-up")
    result = _fupan(project, "build")
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "mkdocs.yml: extra.review.colors: use `red-up` (mainland convention) or `green-up`" in output
    assert "Traceback" not in output

    project = make_project(tmp_path / "q", docs={
        "index.md": "# 测试\n\n{{ kpis(['net_sales'], period='2025-13') }}\n"})
    result = _fupan(project, "build")
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "docs/index.md, line 3: kpis(): period '2025-13': month must be 1–12" in output, output[-3000:]
    assert "Traceback" not in output


# -- a bug inside a macro is not a writer's mistake --------------------------------------------

class _MacrosEnv:
    """What define_env uses of mkdocs-macros' env: the MkDocs config and `macro()`."""

    def __init__(self, project: Path):
        self.conf = {"config_file_path": str(project / "mkdocs.yml"),
                     "extra": {"review": {"company": "测试", "year": 2025, "min_group_size": 1}}}
        self.macros: dict[str, Callable] = {}

    def macro(self, fn: Callable, name: str) -> None:
        self.macros[name] = fn


@pytest.fixture
def registered_macros(tmp_path, monkeypatch):
    """define_env run on the tiny shop; the writer macros as define_env guarded them."""
    from fupan.site import plugin
    from fupan.site.writer_errors import set_page
    from fupan.speed import svgrender
    from mkdocs.structure.files import File

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(plugin, "_BUILD", {})
    project = make_project(tmp_path / "p")
    plugin.define_env(_MacrosEnv(project))
    # The page being rendered, as on_pre_page_macros records it.
    page = SimpleNamespace(file=File("chapters/02-overall.md", str(project / "docs"), str(tmp_path / "site"), True))
    set_page(page, ())
    yield plugin._BUILD["review"].macro_registry
    set_page(None, ())
    if svgrender.RENDERER is not None:
        svgrender.RENDERER.close()


def _divides_by_zero() -> object:
    return 1 / 0


def _looks_up_a_missing_key() -> object:
    return {}["net_sales"]  # a KeyError or ValueError used to be taken for a writer's mistake


@pytest.mark.parametrize(("bug", "raised"), [(_divides_by_zero, ZeroDivisionError),
                                              (_looks_up_a_missing_key, KeyError)])
def test_a_bug_inside_a_macro_keeps_its_type_and_traceback(registered_macros, monkeypatch, bug, raised):
    from fupan.semantics.engine import Engine
    from fupan.site.writer_errors import WriterError

    kpis = registered_macros["kpis"]
    with pytest.raises(WriterError, match='kpis\\(\\): unknown metric "net_sale"') as mistake:
        kpis(["net_sale"], period="2025")  # a writer's mistake: a located writer error
    assert isinstance(mistake.value, FupanError)
    assert mistake.value.location.file == "docs/chapters/02-overall.md"
    assert mistake.value.hint.startswith('Did you mean "net_sales"? Valid: ')

    def broken(self, *args, **kwargs):
        return bug()

    monkeypatch.setattr(Engine, "check_request", broken)
    with pytest.raises(raised) as caught:
        kpis(["net_sales"], period="2025")
    assert not isinstance(caught.value, WriterError)
    assert any(frame.name == bug.__name__ for frame in caught.traceback)  # where the bug is


def test_a_bare_value_error_in_a_macro_is_not_taken_for_a_writer_error():
    from fupan.site.writer_errors import WriterError, guard_macro

    def macro(metric: str) -> str:
        """A macro with a bug."""
        return str(int(metric))

    guarded = guard_macro("macro", macro)
    with pytest.raises(ValueError, match="invalid literal") as caught:
        guarded("x")
    assert not isinstance(caught.value, (WriterError, FupanError))

    def writer_mistake(metric: str) -> str:
        """A macro refusing its argument."""
        raise ArgumentError(f"unknown metric {metric!r}")

    with pytest.raises(WriterError, match="macro\\(\\): unknown metric 'x'"):
        guard_macro("macro", writer_mistake)("x")
