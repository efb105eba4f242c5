"""Privacy by what a dimension describes (issue 19.4): small groups merge only in breakdowns by a
dimension the catalogue declares `describes: people`; a merged group keeps its people and
amounts, so every breakdown adds up to the headline figure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fupan.semantics.catalogue import CATALOGUE_PATH, CatalogueError, load_catalogue
from fupan.semantics.engine import OTHER_GROUP
from fupan.semantics.periods import parse_period
from fupan.site.context import build_review
from tiny import contract_for, write_tiny_data

REPO = Path(__file__).resolve().parents[1]
Y2025 = parse_period("2025")
PEOPLE = {"province", "city", "city_tier", "member_level", "member_status", "gender", "age_band", "first_month",
          "function", "level"}
THINGS = ["product", "sku", "category", "platform", "source", "device", "campaign"]


def test_the_catalogue_declares_which_dimensions_describe_people(tmp_path):
    catalogue = load_catalogue(contract_for(write_tiny_data(tmp_path / "data")))
    assert catalogue.people_dimensions == PEOPLE
    assert not catalogue.people_dimensions & {*THINGS, "channel", "supplier", "reason", "social_platform"}


def test_an_unknown_describes_is_a_catalogue_error(tmp_path):
    contract = contract_for(write_tiny_data(tmp_path / "data"))
    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    assert text.count("  platform: {zh: 平台, en: Platform}\n") == 1
    bad = tmp_path / "metrics.yml"
    wrong = "  platform: {zh: 平台, en: Platform, describes: shops, colour: red}\n"
    bad.write_text(text.replace("  platform: {zh: 平台, en: Platform}\n", wrong), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(contract, bad)
    message = str(caught.value)
    assert "dimension 'platform': describes: 'shops' is not known" in message
    assert "unknown key(s) colour" in message


def _active_levels() -> pd.Series:
    """Employees active on 2025-12-31 per level, read straight from the sample's team file."""
    team = pd.read_csv(REPO / "data" / "team_members.csv", encoding="utf-8")
    hired = pd.to_datetime(team["入职日期"])
    left = pd.to_datetime(team["离职日期"])
    end = pd.Timestamp("2025-12-31")
    active = team[(hired <= end) & (left.isna() | (left > end))]
    return active.groupby("职级").size()


@pytest.fixture(scope="module")
def sample():
    # The site's own setting (5) and a large one that merges cities and provinces.
    return {k: build_review({"review": {"year": 2025, "min_group_size": k}}, REPO).engine for k in (5, 400)}


def test_the_team_levels_add_up_to_the_headcount(sample):
    """The issue's table: headcount 50 by level at 2025's end. A level with fewer than 5 people
    merges into 其他; still fewer than 5 there, the smallest other level joins it."""
    engine = sample[5]
    levels = _active_levels()
    headcount = engine.value("headcount", Y2025)
    assert headcount == levels.sum() == 50
    small = sorted(levels[levels < 5].index)
    assert small and levels[small].sum() < 5  # the case the issue found (a row of 49)
    rest = levels.drop(small)
    joins = min(rest.index, key=lambda v: (rest[v], v))
    expected = {**{v: float(n) for v, n in rest.drop(joins).items()},
                OTHER_GROUP: float(levels[small].sum() + rest[joins])}
    frame = engine.compute("headcount", Y2025, ("level",))
    assert dict(zip(frame["level"], frame["value"], strict=True)) == expected
    assert frame["value"].sum() == headcount
    assert all(n >= 5 for n in frame["value"])


@pytest.mark.parametrize("dim", THINGS)
def test_things_are_never_merged(sample, dim):
    engine = sample[400]
    total = engine.value("net_sales", Y2025)
    frame = engine.compute("net_sales", Y2025, (dim,))
    assert OTHER_GROUP not in set(frame[dim].astype(str))
    assert frame["value"].sum() == pytest.approx(total, rel=1e-12)


def test_channels_are_never_merged(sample):
    engine = sample[400]
    frame = engine.compute("ad_spend", Y2025, ("channel",))
    assert OTHER_GROUP not in set(frame["channel"]) and len(frame) == 5


@pytest.mark.parametrize("dim", ["city", "province", "gender", "age_band", "member_level"])
def test_merged_people_tables_add_up_to_the_headline(sample, dim):
    engine = sample[400]
    frame = engine.compute("net_sales", Y2025, (dim,))
    assert frame["value"].sum() == pytest.approx(engine.value("net_sales", Y2025), rel=1e-12)
    buyers = engine.compute("buyers", Y2025, (dim,))
    assert (buyers["value"] >= 400).all()
    if dim == "city":  # the cities with fewer than 400 buyers of 2025 are merged, not dropped
        assert OTHER_GROUP in set(frame[dim])


def test_the_sample_site_team_tables_add_up(built_site):
    from fupan.presentation import i18n
    from test_site_content import cell_number, read_page

    page = read_page(Path(built_site.site_dir), "chapters/06-team")
    label = i18n.text("report.total", "zh-CN")
    by_level = [t for t in page.tables if t[0][:1] == ["职级"]]
    assert len(by_level) == 2
    for table in by_level:
        body, total = table[1:-1], table[-1]
        assert total[0] == label
        assert sum(cell_number(row[1]) for row in body) == cell_number(total[1])
    assert cell_number(by_level[0][-1][1]) == 50

