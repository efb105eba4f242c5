"""Loading: any declared encoding or an Excel sheet with its own headers gives the same canonical
table; data/ is never written to; staged copies are reused from the cache."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from fupan.data import store as loading
from fupan.data.store import DataStore
from fupan.data.validation import validate
from tiny import contract_for, write_tiny_data

HEADER = ["商品编码", "商品名称", "品类", "子品类", "标价", "单位成本", "上市日期", "评分"]
# Text as a back-end exports it: formatted money, Chinese date spellings, an empty optional cell.
ROWS = [
    ["P1", "坚果礼盒", "零食", "坚果炒货", "￥1,234.50", "4", "2023/1/1", "4.5"],
    ["P2", "收纳箱", "家居", "", "50", "30", "2023年1月1日", ""],
    ["P3", "龍井茶·明前", "茶饮", "绿茶", "88元", "35.5", "2024-03-15", "5"],
]
# The same rows as native Excel cells (numbers as numbers).
XLSX_ROWS = [
    ["P1", "坚果礼盒", "零食", "坚果炒货", 1234.5, 4, "2023/1/1", 4.5],
    ["P2", "收纳箱", "家居", None, 50, 30, "2023年1月1日", None],
    ["P3", "龍井茶·明前", "茶饮", "绿茶", 88, 35.5, "2024-03-15", 5],
]
RENAMED = {"sku": "货号", "name": "名称", "category": "类目"}  # the Excel export's own headers
XLSX_HEADER = ["货号", "名称", "类目", *HEADER[3:]]
CANONICAL_SQL = "SELECT * EXCLUDE (_row, _file) FROM products ORDER BY sku"


def edit_products(data: Path, columns: dict[str, str] | None = None, **settings) -> None:
    """Change the products dataset (and column headers) in the project's datasets.yml copy."""
    path = data / "datasets.yml"
    contract = yaml.safe_load(path.read_text(encoding="utf-8"))
    products = contract["datasets"]["products"]
    products.update(settings)
    for name, header in (columns or {}).items():
        products["columns"][name]["header"] = header
    path.write_text(yaml.safe_dump(contract, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_products_csv(data: Path, encoding: str) -> None:
    (data / "products.csv").unlink(missing_ok=True)
    with (data / "products.csv").open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(ROWS)


def write_products_xlsx(data: Path, rows: list[list] = XLSX_ROWS) -> None:
    (data / "products.csv").unlink(missing_ok=True)
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "说明"  # the first sheet is not the data: the contract names the sheet
    notes.append(["导出时间", "2025-12-31"])
    sheet = workbook.create_sheet("商品")
    sheet.append(XLSX_HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(data / "products.xlsx")
    edit_products(data, RENAMED, path="products.xlsx", format="xlsx", sheet="商品")


VARIANTS = {
    "utf-8": lambda data: write_products_csv(data, "utf-8"),
    "utf-8-sig": lambda data: (write_products_csv(data, "utf-8-sig"),
                               edit_products(data, encoding="utf-8-sig")),
    "gbk": lambda data: (write_products_csv(data, "gbk"), edit_products(data, encoding="gbk")),
    "xlsx": write_products_xlsx,
}


def make(project: Path, variant: str) -> Path:
    data = write_tiny_data(project / "data")
    VARIANTS[variant](data)
    return data


def load(project: Path) -> DataStore:
    return DataStore(contract_for(project / "data"), project / ".cache" / "fupan")


def canonical(project: Path) -> pd.DataFrame:
    store = load(project)
    report = validate(store)
    assert report.errors == [] and report.warnings == [], report.text()
    return store.query(CANONICAL_SQL)


@pytest.fixture(scope="module")
def utf8_products(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    project = tmp_path_factory.mktemp("utf8") / "project"
    make(project, "utf-8")
    return canonical(project)


def test_utf8_reference_table(utf8_products: pd.DataFrame) -> None:
    """The reference the other encodings are compared with is itself right."""
    assert utf8_products["sku"].tolist() == ["P1", "P2", "P3"]
    assert utf8_products["name"].tolist() == ["坚果礼盒", "收纳箱", "龍井茶·明前"]
    assert utf8_products["list_price"].tolist() == [1234.5, 50.0, 88.0]
    assert utf8_products["unit_cost"].tolist() == [4.0, 30.0, 35.5]
    assert [pd.Timestamp(d).date() for d in utf8_products["launch_date"]] == [
        dt.date(2023, 1, 1), dt.date(2023, 1, 1), dt.date(2024, 3, 15)]
    assert utf8_products["subcategory"].isna().tolist() == [False, True, False]
    assert utf8_products["rating"].isna().tolist() == [False, True, False]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder` with its size and modification time."""
    out = {".": (0, folder.stat().st_mtime_ns)}
    for path in sorted(folder.rglob("*")):
        stat = path.stat()
        out[str(path.relative_to(folder))] = (stat.st_size if path.is_file() else 0, stat.st_mtime_ns)
    return out


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_encoding_and_excel_give_the_same_canonical_table_and_data_stays_untouched(
        tmp_path: Path, variant: str, utf8_products: pd.DataFrame) -> None:
    project = tmp_path / "project"
    data = make(project, variant)
    if variant == "gbk":
        raw = (data / "products.csv").read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # really GBK bytes, not UTF-8
        assert raw.decode("gbk").startswith("商品编码,")
    if variant == "utf-8-sig":
        assert (data / "products.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    before = snapshot(data)

    got = canonical(project)  # loads, validates (no problems) and queries the canonical view
    load(project).query("SELECT * FROM products__raw")  # a second run reuses the staged copy

    pd.testing.assert_frame_equal(got, utf8_products)
    assert snapshot(data) == before, "loading or validation wrote into data/"
    staged = sorted(p.name for p in (project / ".cache" / "fupan" / "staged").iterdir() if p.suffix != ".seal")
    assert len(staged) == 1 and staged[0].startswith("products-") and staged[0].endswith(".parquet")


def test_excel_headers_are_mapped_and_rows_are_spreadsheet_rows(tmp_path: Path) -> None:
    project = tmp_path / "project"
    data = make(project, "xlsx")
    rows = [list(r) for r in XLSX_ROWS]
    rows[1][4] = "面议"  # 2nd data row → spreadsheet row 3 (the header is row 1)
    write_products_xlsx(data, rows)
    store = load(project)

    raw_headers = set(store.query("SELECT * FROM products__raw").columns)
    assert {"货号", "名称", "类目"} <= raw_headers
    assert not {"商品编码", "商品名称", "品类"} & raw_headers
    first = store.query("SELECT sku, name, category FROM products ORDER BY sku").iloc[0].tolist()
    assert first == ["P1", "坚果礼盒", "零食"]
    (problem,) = validate(store).errors
    assert (problem.file, problem.row, problem.header, problem.column, problem.value,
            problem.rule) == ("data/products.xlsx", 3, "标价", "list_price", "面议", "type")


def test_excel_date_cells_load_as_dates(tmp_path: Path, utf8_products: pd.DataFrame) -> None:
    project = tmp_path / "project"
    rows = [list(r) for r in XLSX_ROWS]
    for row, day in zip(rows, [dt.date(2023, 1, 1), dt.date(2023, 1, 1), dt.date(2024, 3, 15)],
                        strict=True):
        row[6] = day
    data = write_tiny_data(project / "data")
    write_products_xlsx(data, rows)
    pd.testing.assert_frame_equal(canonical(project), utf8_products)


# -- the staging cache is reused ----------------------------------------------------------------
def test_staging_reuses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    data = make(project, "gbk")
    first = load(project)
    (staged,) = first.loaded["products"].scanned
    assert staged.parent == project / ".cache" / "fupan" / "staged"
    mtime = staged.stat().st_mtime_ns

    def no_restaging(*args, **kwargs):
        raise AssertionError("staged again although the file did not change")

    monkeypatch.setattr(loading, "_stage_csv", no_restaging)
    second = load(project)
    assert second.loaded["products"].scanned == [staged]
    assert staged.stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(second.query(CANONICAL_SQL), first.query(CANONICAL_SQL))
    monkeypatch.undo()

    # A changed file gets a new staged copy; the old one is not overwritten.
    with (data / "products.csv").open("a", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerow(["P4", "新品", "零食", "", "9", "3", "2025-01-01", ""])
    third = load(project)
    (restaged,) = third.loaded["products"].scanned
    assert restaged != staged and staged.stat().st_mtime_ns == mtime
    assert third.query("SELECT count(*) AS n FROM products")["n"][0] == 4
    assert not [p for p in staged.parent.iterdir() if not p.name.endswith((".parquet", ".parquet.seal"))
                or ".tmp" in p.name]  # no temporary files left behind (each staged file has its seal)


def test_wrong_encoding_is_reported_with_a_hint(tmp_path: Path) -> None:
    """A GBK export declared as UTF-8 is an error naming the file, with the fix — not a crash."""
    project = tmp_path / "project"
    data = write_tiny_data(project / "data")
    text = (data / "products.csv").read_text(encoding="utf-8")
    (data / "products.csv").write_bytes(text.encode("gbk"))
    store = load(project)
    (problem,) = [p for p in validate(store).errors if p.rule == "file"]
    assert problem.file == "data/products.csv"
    assert "cannot be read" in problem.message
    assert "declare `encoding: gbk` for products" in problem.hint


def test_duckdb_connects_on_the_first_query_with_the_settings_made_before(tmp_path: Path) -> None:
    """A rebuild whose results all come from the caches never runs a query: the store, its
    fingerprints and its memory limit cost no DuckDB connection. The first query connects,
    with the spill folder and the latest memory limit in force."""
    from fupan.data.backends import DuckDBBackend

    project = tmp_path / "project"
    make(project, "gbk")
    backend = DuckDBBackend()
    store = DataStore(contract_for(project / "data"), project / ".cache" / "fupan", backend)
    store.fingerprint()
    store.set_memory_limit(1.5)
    assert backend._con is None and store._staging._con is None
    assert store.query("SELECT count(*) AS n FROM products")["n"][0] == 3  # staging: gbk → parquet
    assert backend._con is not None and store._staging._con is not None
    for con in (backend.con, store.con):
        spill, limit = con.execute("SELECT current_setting('temp_directory'), "
                                   "current_setting('memory_limit')").fetchone()
        assert Path(spill) == project / ".cache" / "fupan" / "duckdb-spill"
        assert limit == "1.3 GiB"  # 1.5 GB, shown by DuckDB in GiB
    store.set_memory_limit(2)  # once connected, at once
    assert backend.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "1.8 GiB"


# -- tidy text: columns with nothing to trim are read as they are ---------------------------------
TIDY_CASES = [
    # the users' city values as exported → whether the column is tidy, the canonical values
    (["杭州", "上海", "杭州"], True, ["杭州", "上海", "杭州"]),
    (["杭州", None, "上海"], True, ["杭州", None, "上海"]),          # missing is not untidy
    ([" 杭州", "上海", "杭州"], False, ["杭州", "上海", "杭州"]),     # ASCII space in front
    (["杭州", "上海\u3000", "杭州"], False, ["杭州", "上海", "杭州"]),  # ideographic space behind
    (["杭州", "上海", "\u00a0杭州"], False, ["杭州", "上海", "杭州"]),  # no-break space
    (["杭州", "", "上海"], False, ["杭州", None, "上海"]),            # blank is missing
    (["杭州", "\u3000", "上海"], False, ["杭州", None, "上海"]),
]


def _users_with_cities(data: Path, cities: list[str | None]) -> None:
    from tiny import users_frame

    users = users_frame()
    users["城市"] = cities
    users.to_parquet(data / "users.parquet", index=False)


@pytest.mark.parametrize(("cities", "tidy", "canonical"), TIDY_CASES)
def test_tidy_text_columns_are_read_as_they_are(tmp_path: Path, cities: list, tidy: bool, canonical: list) -> None:
    """A text column in which no value is blank or has a space to trim is read without trimming;
    any other is trimmed. Either way the canonical values are the trimmed ones."""
    data = write_tiny_data(tmp_path / "data")
    _users_with_cities(data, cities)
    store = DataStore(contract_for(data), tmp_path / "cache")
    assert ("城市" in store.loaded["users"].tidy_text) is tidy
    assert "买家ID" in store.loaded["users"].tidy_text  # U1, U2, U3: nothing to trim
    assert store.query("SELECT city FROM users ORDER BY _row")["city"].replace({float("nan"): None}).tolist() \
        == canonical


def test_tidy_findings_follow_the_data(tmp_path: Path) -> None:
    """The finding is kept in the cache folder by the file's content: when a tidy column gets a
    value to trim, the next build trims it (a stale finding would show ' 上海' as it is)."""
    data = write_tiny_data(tmp_path / "data")
    cache = tmp_path / "cache"
    _users_with_cities(data, ["杭州", "上海", "杭州"])
    assert "城市" in DataStore(contract_for(data), cache).loaded["users"].tidy_text
    assert len(list((cache / "tidy").glob("*.json"))) >= 1
    _users_with_cities(data, ["杭州", " 上海 ", "杭州"])
    store = DataStore(contract_for(data), cache)
    assert "城市" not in store.loaded["users"].tidy_text
    assert store.query("SELECT city FROM users ORDER BY _row")["city"].tolist() == ["杭州", "上海", "杭州"]


def test_a_blank_value_in_a_required_column_is_reported_whether_or_not_trimmed(tmp_path: Path) -> None:
    """The required-value check reads tidy text as it is: a missing member level is found in a
    tidy column (NULL) and in an untidy one (blank, spaces only)."""
    from tiny import users_frame

    for levels, expected_rows in ((["金卡会员", None, "普通会员"], [2]),  # Parquet: row 1 is the first
                                  (["金卡会员", "\u3000", ""], [2, 3])):
        data = write_tiny_data(tmp_path / f"data-{len(expected_rows)}")
        users = users_frame()
        users["会员等级"] = levels
        users.to_parquet(data / "users.parquet", index=False)
        store = DataStore(contract_for(data), tmp_path / f"cache-{len(expected_rows)}")
        assert ("会员等级" in store.loaded["users"].tidy_text) is (len(expected_rows) == 1)
        report = validate(store)
        found = sorted(p.row for p in report.errors if p.column == "member_level" and p.rule == "required")
        assert found == expected_rows, report.text()
