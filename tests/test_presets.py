"""Platform presets, the sample company written in every preset's layout, and the guide pages.

The layouts' totals are read back here with plain pandas and logic written per platform (status
words, amount formats, which row carries the order's amount), independently of any fupan reader,
and must equal the canonical sample's paid orders, net sales and buyers to the cent."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fupan import cli
from fupan.data.contract import UnknownName
from fupan.intake.presets import _norm, expected_headers, load_preset, looks_like, preset_names
from fupan.sample.layouts import layout_file, write_layout
from fupan.site.context import build_review
from fupan.site.export_guide_macros import export_guide

REPO = Path(__file__).resolve().parents[1]
PRESETS = ["taobao_orders", "taobao_items", "jd", "pinduoduo", "douyin", "youzan", "shopify", "woocommerce",
           "generic_lines"]
ENCODING = {"taobao_orders": "gbk", "taobao_items": "gbk", "jd": "gbk", "douyin": "utf-8-sig",
            "pinduoduo": "utf-8", "youzan": "utf-8", "shopify": "utf-8", "woocommerce": "utf-8",
            "generic_lines": "utf-8"}
STATUS_KINDS = ("paid", "refunded", "cancelled", "unpaid")


# -- presets -----------------------------------------------------------------------------------

def test_every_preset_is_listed() -> None:
    assert preset_names() == sorted(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_file_has_the_required_keys(name: str) -> None:
    p = load_preset(name)
    assert p.name == name and p.title_zh and p.title_en and p.files
    assert p.guide_zh and p.guide_en and len(p.guide_zh) == len(p.guide_en)
    assert (p.platform is None) == (name == "generic_lines")
    export = p.export
    assert export["shape"] in ("lines", "first_line", "orders")
    assert "path" not in export
    assert export.get("encoding", "utf-8") in ("utf-8", "utf-8-sig", "gbk", "gb18030")
    columns = export["columns"]
    assert "order_id" in columns and ("ordered_at" in columns or "paid_at" in columns)
    for column, spec in columns.items():
        assert ("header" in spec) != ("value" in spec), column
    assert "platform" not in columns  # the preset's `platform:` is the one place of that constant
    status = (export.get("rules") or {}).get("status")
    if status:
        assert status["column"] in columns
        assert status["paid"] and set(status) <= {"column", *STATUS_KINDS}
        words = [w for kind in STATUS_KINDS for w in status.get(kind, [])]
        assert len(words) == len(set(words)), "a status word in two categories"
    # What the headline figures need: amounts, buyers, refunds (a column, a status word or return rows).
    assert "user_id" in columns
    assert {"order_amount", "line_amount"} & (set(columns) | set((export.get("rules") or {}).get("compute", {})))
    rules = export.get("rules") or {}
    assert {"refund_amount", "line_refund_amount"} & set(columns) or rules.get("returns") or \
        (p.lines_preset and "line_refund_amount" in load_preset(p.lines_preset).export["columns"])


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(UnknownName) as err:
        load_preset("jingdong")
    assert "Valid: douyin, generic_lines, jd" in str(err.value)
    with pytest.raises(UnknownName):
        write_layout("jingdong", REPO / "data", REPO / "never-written")
    assert not (REPO / "never-written").exists()


def test_expected_headers_are_the_first_alias_of_each_mapped_column() -> None:
    assert expected_headers(load_preset("jd")) == [
        "订单号", "下单帐号", "订单状态", "下单时间", "付款确认时间", "应付金额", "退款金额", "货号", "商品名称",
        "订购数量", "京东价"]
    assert "京东" not in expected_headers(load_preset("jd"))  # the platform is a constant, not a header


def test_looks_like_ranks_a_jd_header_row_first() -> None:
    # A real JD export carries many more columns than the preset reads, and one alias spelling.
    row = ["订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额", "结算金额",
           "应付金额", "订单状态", "订单类型", "下单账号", "客户姓名", "客户地址", "联系电话", "付款确认时间", "货号",
           " 退款金额 "]
    ranked = looks_like(row)
    assert ranked[0] == ("jd", 1.0)
    assert all(share < 1.0 for name, share in ranked[1:])
    # 10 of the 11 columns: the share is found columns over the preset's columns.
    assert looks_like([h for h in row if h != "货号"])[0] == ("jd", 10 / 11)


def test_looks_like_names_nothing_for_an_unrelated_header_row() -> None:
    assert looks_like(["日期", "温度", "湿度", "风向", "Order Notes", "备注"]) == []
    assert looks_like([]) == []


def test_headers_compare_after_normalisation() -> None:
    assert _norm("\ufeff 商品总价（元）\t") == "商品总价(元)"


# -- the sample in every layout ------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    subprocess.run([sys.executable, "-m", "fupan.sample", "--out", str(out), "--orders", "3000", "--seed", "7"],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def canonical(sample: Path) -> dict[str, object]:
    """The figures every layout must carry, from the canonical files."""
    orders = pd.read_parquet(sample / "orders.parquet")
    lines = pd.read_parquet(sample / "order_lines.parquet")
    products = pd.read_csv(sample / "products.csv", dtype=str)
    paid = orders[orders["支付时间"].notna()]
    net = sum(_dec(a) - _dec(r) for a, r in zip(paid["实付金额"], paid["退款金额"].fillna(0), strict=True))
    cost = dict(zip(products["商品编码"], products["单位成本"].map(Decimal), strict=True))
    paid_lines = lines[lines["订单编号"].isin(set(paid["订单编号"]))]
    cogs = sum((int(q) - int(r)) * cost[s] for q, r, s in
               zip(paid_lines["数量"], paid_lines["退货数量"].fillna(0), paid_lines["商品编码"], strict=True))
    assert len(paid) < len(orders) and (paid["退款金额"] > 0).any()  # the fixture has both cases
    return {"orders": len(paid), "net": net, "buyers": paid["买家ID"].nunique(), "cogs": cogs}


@pytest.fixture(scope="module")
def written(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    out = {}
    for name in PRESETS:
        folder = tmp_path_factory.mktemp(name)
        out[name] = (folder, write_layout(name, sample, folder))
    return out


def _dec(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _amount(text: str) -> Decimal:
    """An amount as the platforms write it: 元 suffix, thousands separators, a bracketed note."""
    text = re.sub(r"（.*）$", "", text.strip()).removesuffix("元").replace(",", "")
    return Decimal(text) if text not in ("", "-", "无退款申请") else Decimal(0)


def _read(path: Path, encoding: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    frame.columns = [_norm(c) for c in frame.columns]
    return frame


def _taobao_id(text: str) -> str:
    assert text.startswith('="') and text.endswith('"')
    return text[2:-1]


def _figures(name: str, folder: Path) -> dict[str, object]:
    """Paid orders, net sales (paid − refunded) and buyers read back from the written file."""
    path = folder / layout_file(name)
    frame = _read(path, ENCODING[name])
    if name == "jd":
        paid = frame[frame["订单状态"].isin(["完成", "等待确认收货"])]
        # The order amount is repeated on every product row: taken once per order.
        first = paid.drop_duplicates("订单号")
        for order_id, rows in paid.groupby("订单号"):
            total = sum(int(q) * Decimal(p) for q, p in zip(rows["订购数量"], rows["京东价"], strict=True))
            assert total == _amount(rows["应付金额"].iloc[0]), order_id
        net = sum(map(_amount, first["应付金额"])) - sum(map(_amount, first["退款金额"]))
        return {"orders": len(first), "net": net, "buyers": paid["下单帐号"].nunique()}
    if name == "taobao_orders":
        items = _read(folder / layout_file("taobao_items"), "gbk")
        paid = frame[frame["订单状态"].isin(["交易成功", "卖家已发货，等待买家确认"])]
        ids = set(paid["订单编号"].map(_taobao_id))
        refunds = items[items["主订单编号"].map(_taobao_id).isin(ids)]["退款金额"]
        return {"orders": len(ids), "net": sum(map(_amount, paid["买家实际支付金额"])) - sum(map(_amount, refunds)),
                "buyers": paid["买家会员名"].nunique()}
    if name == "taobao_items":
        paid = frame[frame["订单状态"].isin(["交易成功", "卖家已发货，等待买家确认"])]
        return {"orders": paid["主订单编号"].nunique(),
                "net": sum(map(_amount, paid["买家实际支付金额"])) - sum(map(_amount, paid["退款金额"])),
                "buyers": paid["买家会员名"].nunique()}
    if name == "pinduoduo":
        paid = frame[frame["订单状态"].isin(["已签收", "待发货", "已签收，退款成功"])]
        return {"orders": paid["订单号"].nunique(),
                "net": sum(map(_amount, paid["商品总价(元)"])) - sum(map(_amount, paid["退款金额(元)"])),
                "buyers": paid["收货人"].nunique()}
    if name == "douyin":
        assert frame["主订单编号"].str.endswith("\t").all()
        paid = frame[frame["订单状态"].isin(["已完成", "待发货"])]
        gross = sum(int(q) * _amount(p) for q, p in zip(paid["商品数量"], paid["商品单价"], strict=True))
        return {"orders": paid["主订单编号"].nunique(), "net": gross - sum(map(_amount, paid["退款金额"])),
                "buyers": paid["买家昵称"].nunique()}
    if name == "youzan":
        paid = frame[frame["订单状态"].isin(["交易成功", "已发货"])]
        return {"orders": len(paid),
                "net": sum(map(_amount, paid["订单实付金额"])) - sum(map(_amount, paid["退款金额"])),
                "buyers": paid["买家昵称"].nunique()}
    if name == "shopify":
        # Order fields only on the first line: carried down within the order.
        order_cols = ["Email", "Financial Status", "Total", "Refunded Amount"]
        filled = frame.copy()
        filled[order_cols] = filled[order_cols].replace("", None)
        filled[order_cols] = filled.groupby("Name")[order_cols].ffill()
        assert filled[order_cols].notna().all().all()
        paid = filled[filled["Financial Status"].isin(["paid", "partially_refunded", "refunded"])]
        first = paid.drop_duplicates("Name")
        return {"orders": len(first),
                "net": sum(map(_amount, first["Total"])) - sum(map(_amount, first["Refunded Amount"])),
                "buyers": first["Email"].nunique()}
    if name == "woocommerce":
        # A refund is a row of its own with negative net sales; the sale's row stays as it was.
        kept = frame[frame["Status"].isin(["completed", "processing", "refunded"])]
        sales = kept[~kept["Net sales"].str.startswith("-")]
        return {"orders": sales["Order #"].nunique(), "net": sum(map(_amount, kept["Net sales"])),
                "buyers": sales["Customer"].nunique()}
    if name == "generic_lines":
        # Only sales rows; returns are rows with negative quantity and amount.
        assert (frame.loc[frame["Quantity"].str.startswith("-"), "Sales"].str.startswith("-")).all()
        return {"orders": frame["Order ID"].nunique(), "net": sum(map(_amount, frame["Sales"])),
                "buyers": frame["Customer ID"].nunique(),
                "cogs": sum(_amount(s) - _amount(p) for s, p in zip(frame["Sales"], frame["Profit"], strict=True))}
    raise AssertionError(name)


@pytest.mark.parametrize("name", PRESETS)
def test_layout_totals_equal_the_canonical_sample(name: str, written, canonical) -> None:
    folder, _ = written[name]
    figures = _figures(name, folder)
    expected = {key: canonical[key] for key in figures}
    assert figures == expected


@pytest.mark.parametrize("name", PRESETS)
def test_layout_headers_encoding_and_status_words(name: str, written) -> None:
    folder, declaration = written[name]
    for export in declaration.values():
        preset = load_preset(export["preset"])
        raw = (folder / export["path"]).read_bytes()
        encoding = ENCODING[preset.name]
        text = raw.decode(encoding)
        if encoding == "gbk":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
        header = next(csv.reader(io.StringIO(text)))
        assert [_norm(h) for h in header] == expected_headers(preset)
        assert looks_like(header)[0] == (preset.name, 1.0)
        status = (preset.export.get("rules") or {}).get("status")
        if status:
            column = expected_headers(preset)[list(preset.export["columns"]).index(status["column"])]
            declared = [w for kind in STATUS_KINDS for w in status.get(kind, [])]
            values = set(_read(folder / export["path"], encoding)[column])
            if preset.export["shape"] == "first_line":
                values.discard("")  # order fields only on an order's first line
            assert values and all(_matches(v, declared) for v in values), values


def _matches(word: str, patterns: list[str]) -> bool:
    """A status word against declared words, `*` standing for any text."""
    return any(re.fullmatch(".*".join(map(re.escape, p.split("*"))), word) for p in patterns)


def test_layout_declarations(written) -> None:
    assert written["jd"][1] == {"shop": {"preset": "jd", "path": "jd_orders.csv"}}
    assert written["taobao_orders"][1] == {
        "orders": {"preset": "taobao_orders", "path": "ExportOrderList.csv", "lines": "items"},
        "items": {"preset": "taobao_items", "path": "ExportOrderDetailList.csv"}}


def test_layout_quirks(written) -> None:
    taobao = (written["taobao_orders"][0] / "ExportOrderList.csv").read_bytes().decode("gbk")
    assert taobao.splitlines()[0].split(",")[4] == "订单付款时间 "  # the trailing space of the real header
    assert '"=""SO' in taobao and "元," in taobao and re.search(r",\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d\d,", taobao)
    douyin = _read(written["douyin"][0] / layout_file("douyin"), "utf-8-sig")
    assert (douyin.loc[douyin["订单状态"] == "已关闭", "支付完成时间"] == "-").all()
    shopify = _read(written["shopify"][0] / layout_file("shopify"), "utf-8")
    assert shopify["Created at"].str.match(r"^$|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0800$").all()
    pdd = (written["pinduoduo"][0] / layout_file("pinduoduo")).read_text(encoding="utf-8").splitlines()[0]
    assert "用户实付金额（元）" in pdd and "商品总价(元)" in pdd


def test_layouts_are_deterministic(sample: Path, written, tmp_path: Path) -> None:
    for name in PRESETS:
        folder, declaration = written[name]
        again = tmp_path / name
        assert write_layout(name, sample, again) == declaration
        for export in declaration.values():
            assert (again / export["path"]).read_bytes() == (folder / export["path"]).read_bytes(), name


def test_cli_sample_layout(sample: Path, written, tmp_path: Path, capsys) -> None:
    assert cli.main(["sample", "--layout", "jd", "--data", str(sample), "--out", str(tmp_path)]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == {"exports": {"shop": {"preset": "jd", "path": "jd_orders.csv"}}}
    assert (tmp_path / "jd_orders.csv").read_bytes() == (written["jd"][0] / "jd_orders.csv").read_bytes()


# -- guide pages -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def review():
    return build_review({"review": {"year": 2025}}, REPO)


@pytest.mark.parametrize("name", PRESETS)
def test_export_guide_renders_the_preset(name: str, review) -> None:
    p = load_preset(name)
    html = export_guide(review, name)
    for step in p.guide_zh:
        assert f"<li>{step}</li>" in html.replace("&#x27;", "'")
    for header in expected_headers(p):
        assert f"<code>{header}</code>" in html.replace("&amp;", "&")
    assert f"preset: {name}" in html
    status = (p.export.get("rules") or {}).get("status") or {}
    for word in (w for kind in STATUS_KINDS for w in status.get(kind, [])):
        assert f"<code>{word}</code>" in html
    if not status:
        assert "没有状态列" in html
    english = export_guide(review, name, locale="en")
    assert p.guide_en[0].replace("'", "&#x27;") in english and "How to export" in english


def test_guide_pages_cover_every_preset() -> None:
    folder = REPO / "docs" / "guide" / "exports"
    index = (folder / "index.md").read_text(encoding="utf-8")
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for name in PRESETS:
        page = (folder / f"{name}.md").read_text(encoding="utf-8")
        assert page == f'# {load_preset(name).title_zh}\n\n{{{{ export_guide("{name}") }}}}\n'
        assert f"[{load_preset(name).title_zh}]({name}.md)" in index
        assert f"guide/exports/{name}.md" in nav


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_export_guide_is_html_markdown_leaves_unchanged(review, locale: str) -> None:
    """Whether or not macro HTML is set aside while Markdown runs, the page must be the same."""
    import markdown

    extensions = ["admonition", "attr_list", "md_in_html", "tables", "toc", "pymdownx.details",
                  "pymdownx.superfences"]
    for name in PRESETS:
        html = export_guide(review, name, locale=locale)
        assert markdown.markdown(html, extensions=extensions) == html, name
