"""The published review: every outline section is on its chapter page, no page shows a broken
number or raw macro syntax, no personal data reaches the site, and the patterns planted in the
sample data are visible where a reader looks for them.

The expected facts are computed here from the files in ``data/`` with pandas, never through
``macros/``, so a test fails when a page disagrees with the data whatever the review code does.
HTML is read with the standard library's parser (no extra dependency).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

# ---- the outline (/work/shared/spec/outline.md): chapter page → its sections, in order ----------

OUTLINE: list[tuple[str, str, list[str]]] = [
    ("chapters/01-introduction", "01 引言", ["背景与目的", "汇报范围", "数据来源与分析方法"]),
    ("chapters/02-overall", "02 电商运营整体情况回顾",
     ["年度销售额及增长率", "客流量与转化率", "用户满意度调查结果", "运营策略执行情况"]),
    ("chapters/03-products", "03 商品运营分析",
     ["商品销售排名及趋势", "爆款商品打造经验", "库存管理及供应链", "下一步商品运营策略"]),
    ("chapters/04-users", "04 用户运营分析",
     ["用户画像及消费行为", "忠诚度计划执行情况", "客户关系管理优化", "下一步用户运营策略"]),
    ("chapters/05-marketing", "05 营销推广效果评估",
     ["广告投放效果及ROI", "营销活动参与度与反馈", "社交媒体运营成果", "下一步营销推广计划"]),
    ("chapters/06-team", "06 团队建设与人才培养",
     ["团队架构及职责", "能力提升举措", "激励与考核机制", "下一步计划"]),
    ("chapters/07-summary", "07 总结与展望", ["本年度成果总结", "存在问题及原因分析", "下一年度目标"]),
]


def _review_setting(name: str, default: int) -> int:
    """extra.review.<name> of the repo's mkdocs.yml (read as text: the file uses !ENV tags)."""
    config = (Path(__file__).resolve().parents[1] / "mkdocs.yml").read_text(encoding="utf-8")
    match = re.search(rf"^\s+{name}:\s*([0-9]{{4}})\b", config, re.MULTILINE)
    return int(match.group(1)) if match else default


REVIEW_YEAR = _review_setting("year", 2025)
PRIOR_YEAR = _review_setting("compare_year", REVIEW_YEAR - 1)
BAD_WORDS = re.compile(r"(?<![A-Za-z])(None|nan|NaN|inf)(?![A-Za-z])")
TEXT_SUFFIXES = {".html", ".json", ".js", ".xml", ".txt", ".csv", ".svg"}


# ---- HTML reading ------------------------------------------------------------------------------

INVISIBLE = {"script", "style", "code", "pre", "svg", "template", "noscript"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
BLOCKS = {"p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "figure",
          "figcaption", "caption", "table", "section", "article", "details", "summary", "br"}


@dataclass
class Capture:
    """Text collected for one element of interest until it closes."""

    kind: str
    attrs: dict[str, str]
    depth: int
    parts: list[str] = field(default_factory=list)
    strong: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.parts)).strip()


@dataclass(repr=False)
class Page:
    path: str
    visible: str  # all visible text of the page (navigation included)
    article: str  # visible text of the page's content
    h1: list[str]
    h2: list[str]
    findings: list[Capture]
    kpi_values: list[str]
    kpis: list[tuple[str, str]]  # (label, value) of each KPI card
    tables: list[list[list[str]]]  # tables → rows → cell texts (header row first)
    chart_labels: list[str]  # aria-label (text alternative) of each chart
    specs: list[str]  # data-spec of each chart

    def __repr__(self) -> str:
        return f"<Page {self.path}>"

    def tables_with(self, header: str) -> list[list[list[str]]]:
        return [t for t in self.tables if t and any(header in cell for cell in t[0])]


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.hidden = 0  # depth inside invisible elements
        self.visible: list[str] = []
        self.captures: list[Capture] = []  # open captures
        self.done: list[Capture] = []
        self.tables: list[list[list[str]]] = []
        self._table_stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.chart_labels: list[str] = []
        self.specs: list[str] = []
        self._strong: list[list[str]] = []

    # Elements whose text we keep separately.
    def _kinds(self, tag: str, attrs: dict[str, str]) -> list[str]:
        classes = set((attrs.get("class") or "").split())
        kinds = []
        if tag in ("h1", "h2", "article"):
            kinds.append(tag)
        if "fupan-finding" in classes:
            kinds.append("finding")
        if "fupan-kpi__value" in classes:
            kinds.append("kpi_value")
        if "fupan-kpi__label" in classes:
            kinds.append("kpi_label")
        if tag == "a" and "headerlink" in classes:
            kinds.append("headerlink")
        return kinds

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if "data-spec" in attrs:
            self.specs.append(attrs["data-spec"])
            if attrs.get("aria-label"):
                self.chart_labels.append(attrs["aria-label"])
        if tag in VOID:
            if tag == "br":
                self._text("\n")
            return
        self.stack.append(tag)
        if tag in INVISIBLE:
            self.hidden += 1
        if tag in BLOCKS:
            self._text("\n")
        for kind in self._kinds(tag, attrs):
            self.captures.append(Capture(kind, attrs, len(self.stack)))
        if tag == "strong":
            self._strong.append([])
        if tag == "table":
            self._table_stack.append([])
        elif tag == "tr" and self._table_stack:
            self._table_stack[-1].append([])
        elif tag in ("td", "th") and self._table_stack:
            self._cell = []

    def handle_startendtag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if "data-spec" in attrs:
            self.specs.append(attrs["data-spec"])

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID or tag not in self.stack:
            return
        while self.stack:
            open_tag = self.stack.pop()
            self._close(open_tag)
            if open_tag == tag:
                break

    def _close(self, tag: str) -> None:
        depth = len(self.stack) + 1
        still = []
        for cap in self.captures:
            if cap.depth == depth:
                self.done.append(cap)
            else:
                still.append(cap)
        self.captures = still
        if tag in INVISIBLE:
            self.hidden -= 1
        if tag in BLOCKS:
            self._text("\n")
        if tag == "strong" and self._strong:
            text = re.sub(r"\s+", " ", "".join(self._strong.pop())).strip()
            for cap in self.captures:
                if cap.kind == "finding":
                    cap.strong.append(text)
        if tag in ("td", "th") and self._cell is not None and self._table_stack:
            rows = self._table_stack[-1]
            if rows:
                rows[-1].append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        if tag == "table" and self._table_stack:
            self.tables.append([r for r in self._table_stack.pop() if r])

    def _text(self, data: str) -> None:
        if self.hidden:
            return
        in_headerlink = any(c.kind == "headerlink" for c in self.captures)
        if in_headerlink:
            return
        self.visible.append(data)
        for cap in self.captures:
            cap.parts.append(data)
        for strong in self._strong:
            strong.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def handle_data(self, data: str) -> None:
        self._text(data)


def read_page(site_dir: Path, path: str) -> Page:
    file = site_dir / path / "index.html" if not path.endswith(".html") else site_dir / path
    parser = _PageParser()
    parser.feed(file.read_text(encoding="utf-8"))
    parser.close()
    caps = parser.done
    labels = [c.text for c in caps if c.kind == "kpi_label"]
    values = [c.text for c in caps if c.kind == "kpi_value"]
    return Page(
        path=path,
        visible=re.sub(r"\s*\n\s*", "\n", re.sub(r"[ \t]+", " ", "".join(parser.visible))),
        article=re.sub(r"\s+", " ", " ".join(c.text for c in caps if c.kind == "article")),
        h1=[c.text for c in caps if c.kind == "h1"],
        h2=[c.text for c in caps if c.kind == "h2"],
        findings=[c for c in caps if c.kind == "finding"],
        kpi_values=values,
        kpis=list(zip(labels, values, strict=False)),
        tables=parser.tables,
        chart_labels=parser.chart_labels,
        specs=parser.specs,
    )


def html_pages(site_dir: Path) -> Iterator[Path]:
    yield from sorted(site_dir.rglob("*.html"))


@pytest.fixture(scope="module")
def site(built_site) -> Path:
    return Path(built_site.site_dir)


@pytest.fixture(scope="module")
def data_dir(built_site) -> Path:
    return Path(built_site.project) / "data"


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[str, Page]:
    out = {"index": read_page(site, "index.html")}
    for path, _, _ in OUTLINE:
        if (site / path / "index.html").exists():
            out[path] = read_page(site, path)
    return out


def page_of(pages: dict[str, Page], path: str) -> Page:
    if path not in pages:
        pytest.fail(f"{path}/index.html is missing from the built site")
    return pages[path]


# ---- facts computed from data/ with pandas ------------------------------------------------------


@dataclass(repr=False)
class Facts:
    monthly_net: dict[int, float]
    category_yoy: dict[str, float]
    platform_share: dict[int, dict[str, float]]
    roi: dict[str, float]
    stockout_sku: str
    stockout_product: str
    stockout_days: int
    hits: list[str]  # SKUs with ≥4 % of net sales
    products: dict[str, str]  # sku → name
    complaint_month: int
    complaint_reason: str
    logistics_csat_low: int
    member_freq: float
    non_member_freq: float
    headcount: dict[int, int]
    leavers: int
    hires: int
    campaigns: pd.DataFrame
    follower_growth: dict[str, float]
    slow_moving: set[str]  # SKUs in stock at year end without a sale in the last 90 days


@pytest.fixture(scope="module")
def facts(data_dir: Path) -> Facts:
    orders = pd.read_parquet(data_dir / "orders.parquet")
    lines = pd.read_parquet(data_dir / "order_lines.parquet")
    products = pd.read_csv(data_dir / "products.csv", dtype={"商品编码": str})
    users = pd.read_parquet(data_dir / "users.parquet", columns=["买家ID", "会员等级"])

    paid = orders[orders["支付时间"].notna()].copy()
    paid["paid_at"] = pd.to_datetime(paid["支付时间"])
    paid["year"] = paid["paid_at"].dt.year
    paid["month"] = paid["paid_at"].dt.month
    paid["net"] = paid["实付金额"] - paid["退款金额"].fillna(0)
    this = paid[paid["year"] == REVIEW_YEAR]
    monthly_net = this.groupby("month")["net"].sum().to_dict()

    sales = lines.merge(paid[["订单编号", "year"]], on="订单编号").merge(
        products[["商品编码", "商品名称", "品类", "单位成本"]], on="商品编码")
    refunded = sales["退货数量"].fillna(0)
    sales["net"] = sales["成交金额"] - refunded * sales["成交单价"]
    sales["cogs"] = (sales["数量"] - refunded) * sales["单位成本"]
    by_cat = sales.groupby(["品类", "year"])["net"].sum().unstack()
    category_yoy = (by_cat[REVIEW_YEAR] / by_cat[PRIOR_YEAR] - 1).to_dict()
    platform_share = {}
    for year in (PRIOR_YEAR, REVIEW_YEAR):
        net = paid[paid["year"] == year].groupby("平台")["net"].sum()
        platform_share[year] = (net / net.sum()).to_dict()

    cur = sales[sales["year"] == REVIEW_YEAR]
    margin = 1 - cur["cogs"].sum() / cur["net"].sum()
    ads = pd.read_csv(data_dir / "ad_channels.csv", parse_dates=["日期"])
    ads = ads[ads["日期"].dt.year == REVIEW_YEAR].groupby("广告渠道")[["花费", "成交金额"]].sum()
    roi = ((ads["成交金额"] * margin - ads["花费"]) / ads["花费"]).to_dict()

    sku_net = cur.groupby("商品编码")["net"].sum().sort_values(ascending=False)
    hits = [sku for sku, v in sku_net.items() if v / sku_net.sum() >= 0.04]

    inv = pd.read_parquet(data_dir / "inventory.parquet", columns=["日期", "商品编码", "在库数量"])
    inv["日期"] = pd.to_datetime(inv["日期"])
    zero = inv[(inv["在库数量"] == 0) & (inv["日期"].dt.year == REVIEW_YEAR)]
    days = zero.groupby("商品编码").size().sort_values(kind="mergesort", ascending=False)
    year_end = pd.Timestamp(f"{REVIEW_YEAR}-12-31")
    in_stock = set(inv[(inv["日期"] == year_end) & (inv["在库数量"] > 0)]["商品编码"])
    last_sale = lines.merge(paid[["订单编号", "paid_at"]], on="订单编号").groupby("商品编码")["paid_at"].max()
    unsold = set(last_sale[last_sale.dt.normalize() < year_end - pd.Timedelta(days=90)].index)
    stockout_sku = str(days.index[0])
    names = dict(zip(products["商品编码"], products["商品名称"], strict=True))

    complaints = pd.read_csv(data_dir / "complaints.csv", parse_dates=["投诉日期"])
    complaints = complaints[complaints["投诉日期"].dt.year == REVIEW_YEAR]
    rate = complaints.groupby(complaints["投诉日期"].dt.month).size() / this.groupby("month").size()
    reasons = complaints.groupby("投诉原因").size().sort_values(ascending=False)
    surveys = pd.read_csv(data_dir / "survey_responses.csv", parse_dates=["答卷日期"])
    logistics = surveys[(surveys["反馈领域"] == "物流") & (surveys["答卷日期"].dt.year == REVIEW_YEAR)]
    csat = logistics.groupby(logistics["答卷日期"].dt.month)["满意度评分"].mean()

    member = this.merge(users, on="买家ID", how="left")
    member["is_member"] = member["会员等级"].fillna("非会员") != "非会员"
    freq = member.groupby("is_member").apply(
        lambda g: g["订单编号"].nunique() / g["买家ID"].nunique(), include_groups=False)

    team = pd.read_csv(data_dir / "team_members.csv", parse_dates=["入职日期", "离职日期"])

    def headcount(day: str) -> int:
        d = pd.Timestamp(day)
        return int(((team["入职日期"] <= d) & (team["离职日期"].isna() | (team["离职日期"] > d))).sum())

    campaigns = pd.read_csv(data_dir / "campaigns.csv", parse_dates=["开始日期", "结束日期"])
    campaigns = campaigns[campaigns["开始日期"].dt.year == REVIEW_YEAR]

    followers = pd.read_csv(data_dir / "social_followers.csv", parse_dates=["月份"])
    start = followers[followers["月份"] == pd.Timestamp(f"{PRIOR_YEAR}-12-01")].set_index("平台")["粉丝数"]
    end = followers[followers["月份"] == pd.Timestamp(f"{REVIEW_YEAR}-12-01")].set_index("平台")["粉丝数"]

    return Facts(
        monthly_net=monthly_net, category_yoy=category_yoy, platform_share=platform_share, roi=roi,
        stockout_sku=stockout_sku, stockout_product=names[stockout_sku], stockout_days=int(days.iloc[0]),
        hits=hits, products=names,
        complaint_month=int(rate.idxmax()), complaint_reason=str(reasons.index[0]),
        logistics_csat_low=int(csat.idxmin()),
        member_freq=float(freq[True]), non_member_freq=float(freq[False]),
        headcount={y: headcount(f"{y}-12-31") for y in (PRIOR_YEAR, REVIEW_YEAR)},
        leavers=int((team["离职日期"].dt.year == REVIEW_YEAR).sum()),
        hires=int((team["入职日期"].dt.year == REVIEW_YEAR).sum()),
        campaigns=campaigns,
        follower_growth=(end / start - 1).to_dict(),
        slow_moving=in_stock & unsold,
    )


def month_word(month: int) -> str:
    """How the site names a month of the review year."""
    return f"{REVIEW_YEAR}年{month}月"


def findings_with(pages: dict[str, Page], marker: str, only: str | None = None) -> list[tuple[str, Capture]]:
    return [(path, f) for path, page in pages.items() if only in (None, path)
            for f in page.findings if marker in f.text]


def cell_number(text: str) -> float:
    """A formatted number back to a float (¥1,234.5万 → 12345000, +3.4% → 3.4)."""
    match = re.search(r"[-+]?[0-9][0-9,]*(?:\.[0-9]+)?", text)
    assert match, f"no number in {text!r}"
    value = float(match.group().replace(",", ""))
    if "万" in text[match.end():match.end() + 1]:
        value *= 10_000
    if "亿" in text[match.end():match.end() + 1]:
        value *= 100_000_000
    return value


# ---- 1. outline mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize("path,title,sections", OUTLINE, ids=[p for p, _, _ in OUTLINE])
def test_outline_sections_are_h2_of_their_chapter_in_order(pages, path, title, sections):
    page = page_of(pages, path)
    assert page.h1 and page.h1[0].startswith(title[:2]), f"{path}: h1 {page.h1} should start with {title[:2]}"
    positions = []
    for section in sections:
        hits = [i for i, h in enumerate(page.h2) if section in h]
        assert hits, f"{path}: no <h2> contains {section!r}; h2s are {page.h2}"
        positions.append(hits[0])
    assert positions == sorted(positions), f"{path}: sections out of order: {page.h2}"
    for section in sections:  # each section has content of its own, not only a heading
        start = page.article.find(section)
        assert start >= 0, f"{path}: {section!r} not in the page content"
        body = page.article[start + len(section):start + len(section) + 40]
        assert "（待撰写）" not in body, f"{path}: section {section!r} is still a stub"


# ---- 2. nothing broken on any page ----------------------------------------------------------------


def test_no_page_shows_raw_macros_tracebacks_or_missing_numbers(site):
    problems = []
    pages = list(html_pages(site))
    assert pages, "the built site has no HTML pages"
    for file in pages:
        page = read_page(site, str(file.relative_to(site)))
        text = page.visible
        rel = file.relative_to(site)
        for marker in ("{{", "{%", "}}", "%}"):
            if marker in text:
                i = text.index(marker)
                problems.append(f"{rel}: raw macro syntax {marker!r} near {text[max(0, i - 60):i + 60]!r}")
        if "fupan-slot" in file.read_text(encoding="utf-8"):
            problems.append(f"{rel}: a macro's HTML was not put back (macros/slots.py placeholder)")
        if "Traceback (most recent call last)" in text or re.search(r"File \"/[^\"]+\.py\", line \d+", text):
            problems.append(f"{rel}: a Python traceback is shown")
        for match in BAD_WORDS.finditer(text):
            i = match.start()
            problems.append(f"{rel}: {match.group()!r} shown near {text[max(0, i - 60):i + 60]!r}")
        for value in page.kpi_values:
            if value.strip() in ("", "—", "-", "–"):
                problems.append(f"{rel}: a KPI card shows {value!r}")
    assert not problems, "\n".join(problems[:40])


def test_every_chart_of_the_site_is_valid_vega_lite(site):
    """Builds skip Altair's schema validation (a tenth of a cold build), so it happens here,
    for every chart spec embedded in every page."""
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema.core import load_schema

    schema = load_schema()
    specs = [(file.relative_to(site), html.unescape(match))
             for file in html_pages(site)
             for match in re.findall(r' data-spec="([^"]*)"', file.read_text(encoding="utf-8"))]
    assert len(specs) >= 30, f"only {len(specs)} charts found in the built site"
    problems = []
    for rel, text in specs:
        error = validate_jsonschema(json.loads(text), schema, raise_error=False)
        if error is not None:
            problems.append(f"{rel}: {str(error).splitlines()[0]}")
    assert not problems, "\n".join(problems[:20])


def test_chapter_tables_and_findings_are_filled(pages):
    """Where the sample has data, tables and findings show numbers, not placeholders."""
    problems = []
    for path, page in pages.items():
        for finding in page.findings:
            if "—" in finding.text:
                problems.append(f"{path}: finding with a missing number: {finding.text}")
        for table in page.tables:
            for row in table[1:]:
                # the first column names the row; a whole row of "—" means a broken metric
                values = row[1:]
                if values and all(v in ("—", "") for v in values):
                    problems.append(f"{path}: table row without any number: {row}")
    assert not problems, "\n".join(problems[:40])


# ---- 3. personal data never reaches the site -----------------------------------------------------


def _site_texts(site: Path) -> Iterator[tuple[Path, str]]:
    """Every text file of the site, raw and decoded (HTML entities, JSON \\u escapes)."""
    for file in sorted(site.rglob("*")):
        if not file.is_file() or file.suffix.lower() not in TEXT_SUFFIXES:
            continue
        raw = file.read_bytes().decode("utf-8", errors="replace")
        texts = [raw]
        if "&" in raw:
            texts.append(html.unescape(raw))
        if "\\u" in raw:
            texts.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), raw))
        if file.suffix == ".json":
            try:
                texts.append(json.dumps(json.loads(raw), ensure_ascii=False))
            except ValueError:
                pass
        yield file, "\n".join(texts)


def _occurring(text: str, pattern: str, targets: set[str]) -> set[str]:
    """The targets that occur as substrings of runs of `pattern` characters in the text."""
    lengths = sorted({len(t) for t in targets})
    starts = {t[0] for t in targets}
    found: set[str] = set()
    for run in set(re.findall(pattern, text)):
        if len(run) < lengths[0]:
            continue
        for i, ch in enumerate(run):
            if ch not in starts:
                continue
            for n in lengths:
                piece = run[i:i + n]
                if len(piece) == n and piece in targets:
                    found.add(piece)
    return found


def test_no_personal_data_in_the_site(site, data_dir):
    users = pd.read_parquet(data_dir / "users.parquet", columns=["买家ID", "姓名", "手机号"])
    team = pd.read_csv(data_dir / "team_members.csv", dtype=str)
    ids = set(users["买家ID"].dropna().astype(str)) | set(team["工号"].dropna().astype(str))
    phones = set(users["手机号"].dropna().astype(str))
    names = {n for n in set(users["姓名"].dropna().astype(str)) | set(team["姓名"].dropna().astype(str))
             if len(n) == 3}
    assert ids and phones and names
    leaks = []
    for file, text in _site_texts(site):
        rel = file.relative_to(site)
        for kind, pattern, targets in (("id", r"[A-Za-z0-9]+", ids), ("phone number", r"[0-9]+", phones),
                                       ("name", r"[\u3400-\u9fff]{3,}", names)):
            for hit in sorted(_occurring(text, pattern, targets))[:5]:
                leaks.append(f"{rel}: {kind} {hit}")
    assert not leaks, "personal data in the site:\n" + "\n".join(leaks[:50])


# ---- 4. the planted patterns are visible ---------------------------------------------------------


def test_ad_channel_with_roi_below_one_is_named(pages, facts):
    below = sorted(ch for ch, r in facts.roi.items() if r < 1)
    assert below, "the data has no ad channel with ROI below 1"
    best = max(facts.roi, key=facts.roi.get)
    worst = min(facts.roi, key=facts.roi.get)
    for path in ("chapters/05-marketing", "chapters/07-summary"):
        page_of(pages, path)
        roi = findings_with(pages, "ROI 最高", only=path)
        assert roi, f"{path}: no ROI finding"
        for _, finding in roi:
            assert finding.strong[:2] == [best, worst], finding.text
            assert "ROI 低于 1 的广告渠道" in finding.text, finding.text
            named = finding.text.split("ROI 低于 1 的广告渠道：", 1)[1]
            for channel in below:
                assert channel in named, f"{path}: {channel} (ROI {facts.roi[channel]:.2f}) not named: {finding.text}"
    # the channel table of chapter 5 lists it with an ROI below 1
    page = pages["chapters/05-marketing"]
    rows = [row for t in page.tables_with("ROI 投资回报率") for row in t[1:]]
    header = page.tables_with("ROI 投资回报率")[0][0]
    col = next(i for i, h in enumerate(header) if h.startswith("ROI") and not h.endswith("同比"))
    for channel in below:
        row = next(r for r in rows if r[0] == channel)
        assert cell_number(row[col]) < 1, row


def test_stockout_of_a_hit_is_in_the_stockout_tables(pages, facts):
    assert facts.stockout_sku in facts.hits, "the longest stockout is not a hit SKU"
    for path in ("chapters/03-products", "chapters/07-summary"):
        page = page_of(pages, path)
        tables = page.tables_with("缺货天数")
        assert tables, f"{path}: no stockout table"
        first = tables[0][1]
        assert facts.stockout_sku in first and facts.stockout_product in first, (path, first)
        header = tables[0][0]
        days = first[next(i for i, h in enumerate(header) if "缺货天数" in h)]
        assert cell_number(days) == facts.stockout_days, (path, first)
    summary = findings_with(pages, "缺货最久", only="chapters/07-summary")
    assert summary and facts.stockout_product in summary[0][1].text


def test_home_page_peak_finding_names_peak_and_trough(pages, facts):
    peak = max(facts.monthly_net, key=facts.monthly_net.get)
    trough = min(facts.monthly_net, key=facts.monthly_net.get)
    assert (peak, trough) == (11, 2), "sample data: 双11 peak and Spring Festival trough expected"
    found = findings_with(pages, "峰值在", only="index")
    assert found, "the home page has no peak/trough finding (finding_peak)"
    strong = found[0][1].strong
    assert strong[:2] == [month_word(peak), month_word(trough)], found[0][1].text


def test_category_mover_finding(pages, facts):
    up = max(facts.category_yoy, key=facts.category_yoy.get)
    down = min(facts.category_yoy, key=facts.category_yoy.get)
    assert (up, down) == ("个护清洁", "家居日用")
    movers = findings_with(pages, "增长最快的品类")
    assert movers, "no page shows the category mover finding (finding_mover by category)"
    for path, finding in movers:
        assert finding.strong[:2] == [up, down], (path, finding.text)


def test_douyin_share_shift(pages, facts):
    shift = {p: facts.platform_share[REVIEW_YEAR].get(p, 0) - facts.platform_share[PRIOR_YEAR].get(p, 0)
             for p in facts.platform_share[REVIEW_YEAR]}
    largest = max(shift, key=lambda p: abs(shift[p]))
    assert largest == "抖音" and shift[largest] > 0
    found = [(path, f) for path, f in findings_with(pages, "的净销售额占比从") if "平台结构" in f.text]
    assert found, "no page shows the platform share-shift finding"
    for path, finding in found:
        assert finding.strong[:1] == [largest], (path, finding.text)
        assert "+" in finding.text.split("变为", 1)[1], (path, finding.text)
    assert any(path == "chapters/07-summary" for path, _ in found)


def test_complaint_spike_month_in_the_complaint_finding(pages, facts):
    assert facts.complaint_month == 8
    found = findings_with(pages, "最常见的投诉原因")
    assert any(path == "chapters/07-summary" for path, _ in found), "chapter 7 lacks finding_complaints"
    for path, finding in found:
        assert finding.strong[:2] == [facts.complaint_reason, month_word(facts.complaint_month)], (
            path, finding.text)
    # the dip of logistics satisfaction is the trough of chapter 7's logistics CSAT chart
    page = pages["chapters/07-summary"]
    labels = [label for label in page.chart_labels if label.startswith("满意度按月趋势")]
    assert labels and f"谷值在{facts.logistics_csat_low}月" in labels[0], labels


def test_members_buy_more_often_in_chapter_4(pages, facts):
    assert facts.member_freq > facts.non_member_freq
    page = page_of(pages, "chapters/04-users")
    tables = [t for t in page.tables
              if t and any("购买频次" in h or "平均购买次数" in h for h in t[0])
              and {"会员", "非会员"} <= {row[0] for row in t[1:]}]
    assert tables, "chapter 4 has no member vs non-member table with 购买频次"
    header, *rows = tables[0]
    col = next(i for i, h in enumerate(header) if ("购买频次" in h or "平均购买次数" in h)
               and not h.endswith("同比"))
    by = {row[0]: cell_number(row[col]) for row in rows}
    assert by["会员"] > by["非会员"], (header, rows)
    assert by["会员"] == pytest.approx(facts.member_freq, abs=0.01)
    assert by["非会员"] == pytest.approx(facts.non_member_freq, abs=0.01)


def test_major_campaigns_lift_sales_in_chapter_5(pages, facts):
    page = page_of(pages, "chapters/05-marketing")
    tables = page.tables_with("增量幅度")
    assert tables, "chapter 5 has no campaign table"
    header, *rows = tables[0]
    col = header.index("增量幅度")
    names = dict((row[0], row) for row in rows)
    assert set(facts.campaigns["活动名称"]) == set(names), (sorted(names), list(facts.campaigns["活动名称"]))
    for key in ("年货节", "618", "双11"):
        matches = [n for n in names if key in n]
        assert matches, f"campaign {key} missing from chapter 5"
        assert cell_number(names[matches[0]][col]) > 0, names[matches[0]]


def test_team_grows_with_attrition_in_chapter_6(pages, facts):
    assert facts.headcount[REVIEW_YEAR] > facts.headcount[PRIOR_YEAR] and facts.leavers > 0
    page = page_of(pages, "chapters/06-team")
    cards = dict(page.kpis)
    assert cell_number(cards["人数"]) == facts.headcount[REVIEW_YEAR], cards
    assert cell_number(cards["离职人数"]) == facts.leavers, cards
    assert cell_number(cards["入职人数"]) == facts.hires, cards
    attrition = [t for t in page.tables_with("离职率")]
    assert attrition, "chapter 6 has no attrition table"


def test_social_follower_growth_in_chapter_5(pages, facts):
    page = page_of(pages, "chapters/05-marketing")
    tables = page.tables_with("粉丝增长率")
    assert tables
    header, *rows = tables[0]
    col = header.index("粉丝增长率")
    shown = {row[0]: cell_number(row[col]) / 100 for row in rows}
    for platform, growth in facts.follower_growth.items():
        assert shown[platform] == pytest.approx(growth, abs=0.001), platform
    fastest = max(facts.follower_growth, key=facts.follower_growth.get)
    assert fastest == "抖音"


def test_slow_moving_skus_in_chapter_7(pages, facts):
    assert facts.slow_moving, "the data has no slow-moving SKU"
    page = page_of(pages, "chapters/07-summary")
    tables = page.tables_with("最近售出")
    assert tables, "chapter 7 has no slow-moving table"
    header, *rows = tables[0]
    col = header.index("SKU")
    shown = {row[col] for row in rows}
    assert shown <= facts.slow_moving, shown - facts.slow_moving
    assert shown == facts.slow_moving or len(shown) >= 10, (shown, facts.slow_moving)
    categories = {row[header.index("品类")] for row in rows}
    assert categories == {min(facts.category_yoy, key=facts.category_yoy.get)}, categories


def test_hit_products_shown_in_chapter_3(pages, facts):
    assert len(facts.hits) == 4
    page = page_of(pages, "chapters/03-products")
    for sku in facts.hits:
        assert sku in page.article or facts.products[sku] in page.article, sku


def test_definitions_page_names_units_and_dimensions_in_the_page_language(site):
    """Readers see words, not catalogue ids: net sales is money in 元 and can be split by
    platform (平台), category (品类) and month (月份); the conversion rate is a percentage."""
    html = (site / "definitions" / "index.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="net_sales">(.*?)</tr>', html, re.S)[1]
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[3] == "金额（元）"
    dims = re.sub(r"<[^>]+>", "", cells[5]).split("、")
    assert {"平台", "品类", "月份"} <= set(dims) and "platform" not in dims
    rate = re.search(r'<tr id="conversion_rate">(.*?)</tr>', html, re.S)[1]
    assert "<td>百分比（变化以百分点计）</td>" in rate
