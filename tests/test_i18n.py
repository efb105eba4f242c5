"""One place for each reader-visible string (presentation/locales/<locale>.yml) and for each
dimension label (the catalogue's `dimensions:` section), and the site showing one label per
dimension on every page."""

from __future__ import annotations

import ast
import html as html_lib
import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fupan.presentation import i18n
from fupan.presentation.i18n import in_sentence
from fupan.site.finding_macros import finding_mover, finding_pareto
from fupan.site.report_macros import ranking, table
from fupan.site.section_macros import stockout_table
from tiny import tiny_review

PACKAGE = Path(i18n.__file__).resolve().parents[1]
SITE_MODULES = sorted((PACKAGE / "site").glob("*.py"))


def _placeholders(value: object) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {field for item in items for _, field, _, _ in string.Formatter().parse(str(item)) if field}


def _python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if ".venv" not in p.parts)


def _is_text_call(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "text") or (
        isinstance(func, ast.Attribute) and func.attr == "text"
        and isinstance(func.value, ast.Name) and func.value.id == "i18n")


def _constants(*paths: Path) -> set[str]:
    return {n.value for path in paths for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _key_uses() -> tuple[set[str], dict[str, set[str]]]:
    """(literal keys passed to text(), the prefixes of keys built at run time such as
    f"column.{field}" → the string constants of the module that builds them)."""
    literal: set[str] = set()
    prefixes: dict[str, set[str]] = {}
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _is_text_call(node) and node.args):
                continue
            key = node.args[0]
            options = [key.body, key.orelse] if isinstance(key, ast.IfExp) else [key]
            for option in options:
                if isinstance(option, ast.Constant) and isinstance(option.value, str):
                    literal.add(option.value)
                elif (isinstance(option, ast.JoinedStr) and option.values
                      and isinstance(option.values[0], ast.Constant)):
                    prefixes.setdefault(option.values[0].value, set()).update(constants)
                else:
                    pytest.fail(f"{path.name}:{node.lineno}: text() key is neither a literal nor "
                                f"an f-string with a literal prefix: {ast.unparse(key)}")
    return literal, prefixes


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    return tiny_review(tmp_path_factory.mktemp("i18n"), extras=True)


# ---- the two locale tables ---------------------------------------------------------------------------


def test_locale_tables_have_the_same_keys_and_placeholders():
    zh, en = i18n.table("zh-CN"), i18n.table("en")
    assert set(zh) == set(en), f"only zh-CN: {sorted(set(zh) - set(en))}; only en: {sorted(set(en) - set(zh))}"
    for key in zh:
        assert _placeholders(zh[key]) == _placeholders(en[key]), (key, zh[key], en[key])
        assert isinstance(zh[key], list) == isinstance(en[key], list), key
        if isinstance(zh[key], list):
            assert len(zh[key]) == len(en[key]), key


def test_text_fills_placeholders_and_rejects_unknown_locales():
    assert i18n.text("report.total_all", "zh-CN", n=7) == "合计（全部 7 项）"
    assert i18n.text("report.total_all", "en", n=7) == "Total (all 7)"
    assert i18n.text("time.months", "en")[11] == "Dec"
    with pytest.raises(KeyError):
        i18n.text("report.total", "fr")


def test_every_key_the_code_asks_for_exists_and_every_key_is_used():
    literal, prefixes = _key_uses()
    keys = set(i18n.table("zh-CN"))
    assert literal, "no text() call found: the scan is broken"
    assert not literal - keys, f"keys asked for but missing from the tables: {sorted(literal - keys)}"
    assert set(prefixes) == {"column.", "scatter.", "intake.how.", "intake.rule.", "intake.column."}, sorted(prefixes)
    # The export rules' kinds, normalisations and columns are named where the intake declares them.
    for prefix in ("intake.how.", "intake.rule.", "intake.column."):
        prefixes[prefix] |= _constants(*(PACKAGE / "intake").glob("*.py"))

    def used(key: str) -> bool:
        # A run-time key (f"column.{field}") counts as used when its suffix is a literal of the
        # module that builds it (a field name given to a column).
        return key in literal or any(key.startswith(p) and key[len(p):] in constants
                                     for p, constants in prefixes.items())

    unused = sorted(k for k in keys if not used(k))
    assert not unused, f"keys in the tables that no code asks for: {unused}"


def test_section_column_fields_have_a_label():
    """Section tables label a column by its field (`column.<field>`) unless it names a
    dimension or brings its own label: every such field has a string."""
    tree = ast.parse((PACKAGE / "site" / "section_macros.py").read_text(encoding="utf-8"))
    keys = set(i18n.table("en"))
    missing = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id == "_label" and isinstance(node.args[0], ast.Constant):
            field = node.args[0].value
        elif (node.func.id == "Col" and isinstance(node.args[0], ast.Constant) and len(node.args) < 3
              and not {kw.arg for kw in node.keywords} & {"label", "dimension"}):
            field = node.args[0].value
        else:
            continue
        if f"column.{field}" not in keys:
            missing.append(field)
    assert not missing, missing


def test_dimension_names_are_not_in_the_locale_tables(shop):
    """A dimension is named by the catalogue only: no column label of the tables names one."""
    dims = set(shop.catalogue.dimension_labels)
    assert {"channel", "sku", "month"} <= dims
    columns = {key.split(".", 1)[1] for key in i18n.table("zh-CN") if key.startswith("column.")}
    assert not columns & dims, sorted(columns & dims)


def test_no_locale_conditional_picks_between_literal_strings():
    """`"中文" if loc == "zh-CN" else "English"` is what the tables replace."""

    def literal(node: ast.AST) -> bool:
        return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))

    def about_locale(test: ast.AST) -> bool:
        return any(isinstance(n, ast.Constant) and n.value in ("zh-CN", "en") for n in ast.walk(test))

    found = []
    for path in [*SITE_MODULES, PACKAGE / "presentation" / "charts.py", PACKAGE / "presentation" / "components.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.IfExp) and about_locale(node.test) and (literal(node.body) or literal(node.orelse)):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:100]}")
    assert not found, "\n".join(found)


def test_in_sentence_lowers_words_but_not_acronyms():
    assert i18n.in_sentence("Ad channel", "en") == "ad channel"
    assert i18n.in_sentence("Complaint reason", "en") == "complaint reason"
    assert i18n.in_sentence("SKU", "en") == "SKU"
    assert i18n.in_sentence("CSAT score", "en") == "CSAT score"
    assert i18n.in_sentence("NPS group", "en") == "NPS group"
    assert i18n.in_sentence("广告渠道", "zh-CN") == "广告渠道"


# ---- one label per dimension, everywhere --------------------------------------------------------------


class _DimensionLabels(HTMLParser):
    """Every label shown for a dimension: table headers (data-label of a th[data-dimension]),
    marked words (span[data-dimension]) and the category titles of marked charts (the spec's
    titles of the `label` field)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []  # (dimension, label, where)
        self._span: tuple[str, list[str]] | None = None
        self._figure: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        dim = a.get("data-dimension")
        if tag == "th" and dim:
            self.found.append((dim, a.get("data-label") or "", "table header"))
        elif tag == "span" and dim:
            self._span = (dim, [])
        elif tag == "figure" and dim:
            self._figure = dim
        elif tag == "div" and self._figure and a.get("data-spec"):
            titles = _label_titles(json.loads(a["data-spec"]))
            assert titles, f"chart marked with {self._figure} has no title on its label field"
            self.found.extend((self._figure, title, "chart title") for title in titles)
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._span is not None:
            self._span[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._span is not None:
            self.found.append((self._span[0], "".join(self._span[1]), "sentence"))
            self._span = None


def _label_titles(spec: object) -> list[str]:
    out: list[str] = []
    if isinstance(spec, dict):
        if spec.get("field") == "label" and isinstance(spec.get("title"), str):
            out.append(spec["title"])
        for value in spec.values():
            out.extend(_label_titles(value))
    elif isinstance(spec, list):
        for value in spec:
            out.extend(_label_titles(value))
    return out


def test_each_dimension_shows_one_label_on_every_page(built_site, shop):
    """Acceptance 5: each dimension's label is defined once per locale, and every label the site
    shows for a dimension, on every page, is that one."""
    shown: dict[str, dict[str, set[str]]] = {}
    english: dict[str, dict[str, set[str]]] = {}  # the English edition (site/en/)
    for page in sorted(Path(built_site.site_dir).rglob("*.html")):
        parser = _DimensionLabels()
        parser.feed(page.read_text(encoding="utf-8"))
        path = page.relative_to(built_site.site_dir)
        edition = english if path.parts[0] == "en" else shown
        for dim, label, where in parser.found:
            edition.setdefault(dim, {}).setdefault(label, set()).add(f"{path} ({where})")
    # The dimensions that used to be named differently in different places are all shown.
    assert {"channel", "sku", "reason", "member_status", "category", "platform", "month",
            "social_platform", "csat_score", "nps_group"} <= set(shown), sorted(shown)
    known = shop.catalogue.dimension_labels
    problems = []
    for dim, labels in sorted(shown.items()):
        assert dim in known, f"{dim!r} is marked on the site but not a catalogue dimension"
        if set(labels) != {known[dim][0]}:
            problems.append(f"{dim}: catalogue says {known[dim][0]!r}, site shows "
                            + "; ".join(f"{label!r} on {sorted(where)[:3]}" for label, where in labels.items()))
    for dim, labels in sorted(english.items()):  # in a sentence with its first letter lowered (i18n.in_sentence)
        if set(labels) - {known[dim][1], in_sentence(known[dim][1], "en")}:
            problems.append(f"{dim}: catalogue says {known[dim][1]!r}, English edition shows "
                            + "; ".join(f"{label!r} on {sorted(where)[:3]}" for label, where in labels.items()))
    assert set(english) == set(shown)
    assert not problems, "\n".join(problems)
    assert known["sku"] == ("SKU", "SKU")
    assert known["channel"] == ("广告渠道", "Ad channel")
    assert known["member_status"] == ("会员身份", "Membership")
    assert known["reason"] == ("投诉原因", "Complaint reason")


def _headers(html: str) -> dict[str, str]:
    return dict(re.findall(r'<th[^>]*data-dimension="([^"]+)"[^>]*data-label="([^"]*)"', html))


def test_english_labels_come_from_the_catalogue(shop):
    html = table(shop, ["net_sales"], by="category", locale="en")
    assert _headers(html) == {"category": "Category"}
    assert ">Category<" in html
    html = stockout_table(shop, locale="en")
    assert _headers(html) == {"product": "Product", "sku": "SKU", "category": "Category"}
    # In a sentence: lower case, acronyms kept.
    assert ('The fastest-growing <span data-dimension="category">category</span> was <strong>零食</strong>'
            in finding_mover(shop, by="category", locale="en"))
    assert ('The top 20% of <span data-dimension="sku">SKU</span>s (1 of 2)'
            in finding_pareto(shop, locale="en"))
    chart = ranking(shop, "net_sales", by="category", locale="en")
    assert 'data-dimension="category"' in chart
    spec = json.loads(html_lib.unescape(re.search(r'data-spec="([^"]*)"', chart)[1]))
    assert set(_label_titles(spec)) == {"Category"}


def test_chinese_labels_in_a_table_and_a_sentence(shop):
    html = table(shop, ["net_sales"], by="sku", locale="zh-CN")
    assert _headers(html) == {"sku": "SKU"}
    assert '增长最快的<span data-dimension="category">品类</span>是' in finding_mover(shop, by="category")
